//! The lake on S3: one `PutObject` per export. No encryption is asked for, so the bucket's default
//! applies (S3 encrypts every new object, with SSE-S3 unless the bucket names a KMS key).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;

use super::{Lake, LakeError};

#[derive(Clone)]
pub struct S3Lake {
    client: Client,
    bucket: String,
}

impl S3Lake {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Lake {
            client,
            bucket: bucket.into(),
        }
    }
}

#[async_trait]
impl Lake for S3Lake {
    async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), LakeError> {
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let message = format!(
                    "S3 PutObject to bucket {} failed: {}",
                    self.bucket,
                    crate::aws_error::chain(&e)
                );
                // 4xx but throttling is the caller's to fix; 5xx, 429 and no answer may pass.
                Err(match status {
                    Some(s) if (400..500).contains(&s) && s != 429 => LakeError::Refused(message),
                    _ => LakeError::Unavailable(message),
                })
            }
        }
    }
}
