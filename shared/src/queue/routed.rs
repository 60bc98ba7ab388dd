use std::sync::Arc;

use async_trait::async_trait;

use super::{Queue, QueueError, QueueName, TaskEnvelope};

/// Sends each task to the queue of its kind (`Task::queue`), so one relay serves them all.
#[derive(Clone)]
pub struct RoutedQueue {
    tasks: Arc<dyn Queue>,
    pager: Arc<dyn Queue>,
}

impl RoutedQueue {
    pub fn new(tasks: Arc<dyn Queue>, pager: Arc<dyn Queue>) -> Self {
        RoutedQueue { tasks, pager }
    }
}

#[async_trait]
impl Queue for RoutedQueue {
    /// Pages go first: if the Slack side then fails, the caller re-sends the batch, and the
    /// duplicates are dropped by the consumers' task claims.
    async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError> {
        let (pager, rest): (Vec<TaskEnvelope>, Vec<TaskEnvelope>) =
            tasks.iter().cloned().partition(|t| t.task.queue() == QueueName::Pager);
        if !pager.is_empty() {
            self.pager.send_batch(&pager).await?;
        }
        if !rest.is_empty() {
            self.tasks.send_batch(&rest).await?;
        }
        Ok(())
    }
}
