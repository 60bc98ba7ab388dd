use async_trait::async_trait;
use chrono::Duration;

use super::TaskEnvelope;
use super::task::TASK_VERSION;
use crate::clock::Clock;
use crate::store::{Claim, FailedTask, SevRepo};

/// One delivered message, whatever the queue: an SQS record or an embedded-queue row.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// Worth trying again later (a timeout, a 5xx, a rate limit).
    #[error("{0}")]
    Retryable(String),
    /// Will fail the same way every time (a channel that was archived, a revoked token); kept on
    /// the SEV for people to see and retry by hand rather than retried by the queue.
    #[error("{0}")]
    Permanent(String),
}

/// What integrations implement to act on tasks. Handlers may see a task more than once only if
/// a previous attempt failed part-way, so each step they take must itself be idempotent.
#[async_trait]
pub trait TaskHandler: Send + Sync {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError>;
}

/// How long one consumer holds a task before another may take it over, should the first die
/// mid-task. Integrations finish a step well within it (their HTTP calls time out sooner); it
/// matches the SQS visibility timeout, so a crash delays a task by about that much, no more.
const CLAIM_LEASE: Duration = Duration::seconds(30);

/// What delivers tasks to their handler: the queue's consumer, on Lambda and in `sevtool`.
pub struct Consumer<'a> {
    pub handler: &'a dyn TaskHandler,
    pub repo: &'a SevRepo,
    /// When a task failed for good, as the SEV's failed tasks show it.
    pub clock: &'a dyn Clock,
}

impl Consumer<'_> {
    /// Handles a batch, up to `limit` tasks at once (1: in order), and returns the ids of the
    /// messages to deliver again. A message that fails never makes its batch-mates retry, and one
    /// that was already handled is acknowledged unseen. Pages run several at once: they are
    /// independent and mostly wait on the network, so a slow pager for one team must not hold
    /// up the others.
    pub async fn process(&self, messages: Vec<Message>, limit: usize) -> Vec<String> {
        use futures_util::StreamExt;
        use tracing::Instrument;
        futures_util::stream::iter(messages)
            .map(|m| {
                let span = tracing::info_span!("task", message_id = %m.id);
                async move {
                    match self.process_one(&m).await {
                        Ok(()) => None,
                        Err(reason) => {
                            tracing::warn!(%reason, "task will be retried");
                            Some(m.id)
                        }
                    }
                }
                .instrument(span)
            })
            .buffer_unordered(limit.max(1))
            .filter_map(|r| async move { r })
            .collect()
            .await
    }

    async fn process_one(&self, m: &Message) -> Result<(), String> {
        let (handler, repo) = (self.handler, self.repo);
        // An unreadable message is left to the queue's redrive policy, so it ends in the dead-letter
        // queue where it can be inspected, instead of being dropped here.
        let task: TaskEnvelope = serde_json::from_str(&m.body).map_err(|e| format!("unreadable task: {e}"))?;
        if task.v > TASK_VERSION {
            return Err(format!(
                "task version {} is newer than this consumer ({TASK_VERSION})",
                task.v
            ));
        }
        match repo
            .claim_task(&task.key, CLAIM_LEASE)
            .await
            .map_err(|e| e.to_string())?
        {
            Claim::AlreadyDone => {
                tracing::info!(task = %task.key, "task already handled; acknowledging the duplicate");
                return Ok(());
            }
            Claim::Busy => return Err("another consumer is handling this task".into()),
            Claim::Claimed => {}
        }
        match handler.handle(&task).await {
            Ok(()) => repo.finish_task(&task.key).await.map_err(|e| e.to_string()),
            Err(TaskError::Retryable(reason)) => {
                if let Err(e) = repo.release_task(&task.key).await {
                    tracing::warn!(task = %task.key, error = %e, "could not release the claim; it lapses by itself");
                }
                Err(reason)
            }
            Err(TaskError::Permanent(reason)) => {
                tracing::error!(task = %task.key, %reason, "task failed for good; kept on its SEV");
                let failed = FailedTask {
                    task,
                    reason,
                    failed_at: self.clock.now(),
                };
                repo.fail_task(&failed).await.map_err(|e| e.to_string())
            }
        }
    }
}
