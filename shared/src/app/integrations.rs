use std::sync::Arc;

use async_trait::async_trait;

use crate::queue::{TaskEnvelope, TaskError, TaskHandler};

/// Every switched-on integration, each given every task. A task that fails in one integration is
/// retried as a whole, which is why each integration's steps must be idempotent on their own.
#[derive(Clone, Default)]
pub struct Integrations {
    handlers: Vec<(&'static str, Arc<dyn TaskHandler>)>,
}

impl Integrations {
    pub fn with(mut self, name: &'static str, handler: Arc<dyn TaskHandler>) -> Self {
        self.handlers.push((name, handler));
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.handlers.iter().map(|(n, _)| *n).collect()
    }
}

#[async_trait]
impl TaskHandler for Integrations {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        for (name, handler) in &self.handlers {
            handler.handle(task).await.map_err(|e| match e {
                TaskError::Retryable(r) => TaskError::Retryable(format!("{name}: {r}")),
                TaskError::Permanent(r) => TaskError::Permanent(format!("{name}: {r}")),
            })?;
        }
        Ok(())
    }
}
