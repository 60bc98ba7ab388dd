use std::sync::Arc;

use tokio::sync::Mutex;

use super::Queue;
use crate::store::{RepoError, SevRepo};

/// How many outbox tasks one round moves.
const BATCH: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Queue(#[from] super::QueueError),
}

/// Moves tasks from the store's outbox to the queue. Run right after each change, so tasks start
/// at once, and periodically, to pick up whatever a crash left between commit and send.
#[derive(Clone)]
pub struct Relay {
    repo: SevRepo,
    queue: Arc<dyn Queue>,
    /// One round at a time per process; rounds in different processes may overlap, which only
    /// sends a task twice, and consumers deduplicate.
    running: Arc<Mutex<()>>,
}

impl Relay {
    pub fn new(repo: SevRepo, queue: Arc<dyn Queue>) -> Self {
        Relay {
            repo,
            queue,
            running: Arc::new(Mutex::new(())),
        }
    }

    /// Relays everything in the outbox; returns how many tasks moved.
    pub async fn run(&self) -> Result<usize, RelayError> {
        let _round = self.running.lock().await;
        let mut moved = 0;
        loop {
            let batch = self.repo.outbox(BATCH).await?;
            if batch.is_empty() {
                return Ok(moved);
            }
            let (keys, tasks): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            self.queue.send_batch(&tasks).await?;
            self.repo.remove_from_outbox(&keys).await?;
            moved += tasks.len();
        }
    }

    /// Runs a round right after a commit, so the committed change's tasks start now rather than
    /// at the next periodic relay. They are in the outbox with the change already, so a failure
    /// here (a queue outage, say) delays them and loses nothing: it is logged, not returned.
    pub async fn kick(&self) {
        if let Err(e) = self.run().await {
            tracing::warn!(error = %e, "tasks stay in the outbox until the next relay");
        }
    }
}
