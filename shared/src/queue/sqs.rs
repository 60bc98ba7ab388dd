//! The AWS backend: an SQS standard queue. Consumers are Lambda functions fed by an event source
//! mapping, so all this adapter does is send.

use std::error::Error;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};

use super::{Queue, QueueError, TaskEnvelope};

/// SendMessageBatch takes at most this many messages.
const BATCH_SIZE: usize = 10;

/// Long enough for a consumer to finish a task (integrations time out well before this) before
/// SQS hands the message to another consumer.
const VISIBILITY_TIMEOUT_SECS: u32 = 30;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    /// Creates the queue `name` and its dead-letter queue `{name}-dlq`, which receives a message
    /// once it has been received `max_receive_count` times without being deleted. Returns the
    /// main queue's URL. Creating queues that already exist with the same attributes is a no-op
    /// in SQS, so tests and local tooling can call this unconditionally.
    pub async fn create_queue_with_dlq(
        client: &Client,
        name: &str,
        max_receive_count: u32,
    ) -> Result<String, QueueError> {
        let dlq_name = format!("{name}-dlq");
        let dlq_url = client
            .create_queue()
            .queue_name(&dlq_name)
            .send()
            .await
            .map_err(|e| backend(&format!("CreateQueue {dlq_name}"), e))?
            .queue_url
            .ok_or_else(|| QueueError::Backend(format!("SQS CreateQueue {dlq_name} returned no queue URL")))?;
        let dlq_arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| backend(&format!("GetQueueAttributes {dlq_name}"), e))?
            .attributes
            .and_then(|mut attrs| attrs.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| QueueError::Backend(format!("SQS GetQueueAttributes {dlq_name} returned no QueueArn")))?;
        // SQS wants the count as a string inside the policy's JSON, not as a number.
        let redrive_policy = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": max_receive_count.to_string(),
        });
        client
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive_policy.to_string())
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                VISIBILITY_TIMEOUT_SECS.to_string(),
            )
            .send()
            .await
            .map_err(|e| backend(&format!("CreateQueue {name}"), e))?
            .queue_url
            .ok_or_else(|| QueueError::Backend(format!("SQS CreateQueue {name} returned no queue URL")))
    }
}

#[async_trait]
impl Queue for SqsQueue {
    /// Sends every chunk even after one is partly refused, so that as much as possible gets
    /// through; the caller re-sends the whole batch on error, which is safe because consumers
    /// deduplicate.
    async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError> {
        let mut failed = 0;
        let mut first_reason = None;
        for chunk in tasks.chunks(BATCH_SIZE) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, task)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(task.to_json())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| QueueError::Backend(format!("building an SQS request failed: {e}")))?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| backend("SendMessageBatch", e))?;
            failed += out.failed.len();
            if first_reason.is_none()
                && let Some(entry) = out.failed.first()
            {
                // Code and message only: the entry's body is the task, which is not ours to log.
                first_reason = Some(match entry.message() {
                    Some(message) => format!("{}: {message}", entry.code()),
                    None => entry.code().to_owned(),
                });
            }
        }
        match first_reason {
            None => Ok(()),
            Some(reason) => Err(QueueError::Send {
                failed,
                total: tasks.len(),
                reason,
            }),
        }
    }
}

fn backend<E: Error + 'static>(operation: &str, e: SdkError<E, HttpResponse>) -> QueueError {
    QueueError::Backend(crate::aws_error::describe("SQS", operation, &e))
}
