//! The lake on S3: one `PutObject` per export. No encryption is asked for, so the bucket's default
//! applies (S3 encrypts every new object, with SSE-S3 unless the bucket names a KMS key).

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::{Lake, LakeError};

#[derive(Clone)]
pub struct S3Lake {
    client: Client,
    bucket: String,
    /// The folder objects go in: empty or ending with `/` (`SEVTOOL_EXPORT_PREFIX`).
    prefix: String,
}

impl S3Lake {
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        S3Lake {
            client,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }
}

#[async_trait]
impl Lake for S3Lake {
    async fn put(&self, name: &str, content_type: &str, body: Vec<u8>) -> Result<String, LakeError> {
        let key = format!("{}{name}", self.prefix);
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await;
        sent.map(|_| key).map_err(|e| {
            let message = format!(
                "S3 PutObject to bucket {} failed: {}",
                self.bucket,
                crate::aws_error::chain(&e)
            );
            if passes(&e) {
                LakeError::Unavailable(message)
            } else {
                LakeError::Refused(message)
            }
        })
    }
}

/// S3's answers that say "not now" rather than "no": the statuses every vendor shares
/// (`outbound::is_transient`; S3 itself sends a timeout as 400 `RequestTimeout`, but a 408 from
/// anything in between is as transient), and the transient refusals S3 sends as other 4xx, named
/// by their code. No answer at all passes too; a request that could not even be built does not.
const TRANSIENT: [&str; 6] = [
    "SlowDown",
    "RequestTimeout",
    "ExpiredToken",
    "OperationAborted",
    "RequestTimeTooSkewed",
    "InternalError",
];

fn passes<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::ConstructionFailure(_) => false,
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or_default();
            crate::outbound::is_transient(status) || TRANSIENT.contains(&code)
        }
        _ => true,
    }
}
