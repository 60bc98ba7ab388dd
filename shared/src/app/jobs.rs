//! The scheduled jobs: the daily sweep and the weekly digest post. A schedule (EventBridge on AWS,
//! the background loop locally) or a person on the web starts them; each only queues a task, so a
//! retried start runs the job once.

use std::sync::Arc;

use super::AppError;
use crate::clock::Clock;
use crate::queue::{Relay, Task, TaskEnvelope};
use crate::reports::IsoWeek;
use crate::store::SevRepo;

#[derive(Clone)]
pub struct Jobs {
    repo: SevRepo,
    relay: Relay,
    clock: Arc<dyn Clock>,
}

impl Jobs {
    pub fn new(repo: SevRepo, relay: Relay, clock: Arc<dyn Clock>) -> Self {
        Jobs { repo, relay, clock }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Asks for the digest of `week` to be posted to Slack. `request` names this request: the same
    /// name twice posts once (a retried schedule), a new one posts again.
    pub async fn post_digest(&self, week: IsoWeek, request: &str) -> Result<(), AppError> {
        let task = TaskEnvelope::new(
            Task::PostDigest {
                week,
                request: request.to_owned(),
            },
            self.clock.now(),
        );
        self.repo.enqueue(&[task]).await?;
        tracing::info!(week = %week, "weekly digest requested");
        self.relay.kick().await;
        Ok(())
    }

    /// Queues today's sweep (UTC day): the schedule that runs the `reports` Lambda daily calls
    /// this, and a retried run sweeps once.
    pub async fn start_sweep(&self) -> Result<chrono::NaiveDate, AppError> {
        let now = self.clock.now();
        let day = now.date_naive();
        self.repo
            .enqueue(&[TaskEnvelope::new(Task::Sweep { day }, now)])
            .await?;
        self.relay.kick().await;
        Ok(day)
    }
}
