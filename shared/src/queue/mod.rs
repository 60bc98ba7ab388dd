//! Integration tasks: everything that talks to a third party (Slack, pagers) runs from a queue so
//! that an outage there never blocks a SEV. Tasks are written to an outbox in the same store
//! transaction as the change that caused them, relayed to the queue, and handled at least once by
//! consumers that deduplicate on the task's idempotency key, so the effect happens exactly once.

mod consumer;
mod embedded;
mod relay;
mod routed;
mod sqs;
mod sqs_event;
mod steps;
mod task;

use async_trait::async_trait;

pub use consumer::{Consumer, Message, TaskError, TaskHandler};
pub use embedded::EmbeddedQueue;
pub use relay::{Relay, RelayError};
pub use routed::RoutedQueue;
pub use sqs::SqsQueue;
pub use sqs_event::{batch_response, messages};
pub use steps::Steps;
pub use task::{IncidentChange, QueueName, Task, TaskEnvelope, TaskKey};

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue did not take some or all of the tasks; sending them again is safe.
    #[error("the queue did not accept {failed} of {total} tasks: {reason}")]
    Send {
        failed: usize,
        total: usize,
        reason: String,
    },
    #[error("queue backend failed: {0}")]
    Backend(String),
}

/// Where tasks go to be handled later. Sending is all a producer does; how tasks come back to a
/// consumer is the backend's business (a Lambda event source for SQS, a poll loop locally).
#[async_trait]
pub trait Queue: Send + Sync {
    async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError>;
}

/// A queue for unit tests that keeps what it is sent, or refuses everything when `down`.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct RecordingQueue {
    pub sent: std::sync::Mutex<Vec<TaskEnvelope>>,
    pub down: bool,
}

#[cfg(test)]
#[async_trait]
impl Queue for RecordingQueue {
    async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError> {
        if self.down {
            return Err(QueueError::Backend("down".into()));
        }
        self.sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(tasks);
        Ok(())
    }
}
