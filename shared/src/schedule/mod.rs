//! One-time schedules that fire a task into the task queue at a given time: EventBridge
//! Scheduler on AWS, rows in the store fired by `sevtool` locally. A schedule that fires twice
//! sends the same task twice, and the consumer's deduplication makes it act once.

mod embedded;
mod eventbridge;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use embedded::EmbeddedScheduler;
pub use eventbridge::EventBridgeScheduler;

use crate::queue::TaskEnvelope;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("scheduler failed: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Scheduler: Send + Sync {
    /// Creates the schedule `name`, or moves it, to send `task` at `at`.
    async fn upsert(&self, name: &str, at: DateTime<Utc>, task: &TaskEnvelope) -> Result<(), ScheduleError>;
    /// Deletes it; one that does not exist (fired already, never made) is not an error.
    async fn delete(&self, name: &str) -> Result<(), ScheduleError>;
}
