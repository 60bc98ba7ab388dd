use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::TaskError;
use crate::store::SevRepo;

/// The steps of one task, each done at most once across retries: a step's result is stored when
/// it succeeds, and a retried task gets the stored result instead of acting again. Only a crash
/// between a step's side effect and its record can repeat that one step.
///
/// Steps belong to one integration (`slack`, `pager`, `jira`): several handle the same task, and
/// two that named a step alike must never read each other's results.
pub struct Steps<'a> {
    repo: &'a SevRepo,
    task_key: &'a str,
    integration: &'static str,
}

fn storage(e: impl std::fmt::Display) -> TaskError {
    TaskError::Retryable(format!("cannot record task progress: {e}"))
}

impl<'a> Steps<'a> {
    pub fn new(repo: &'a SevRepo, task_key: &'a str, integration: &'static str) -> Self {
        Steps {
            repo,
            task_key,
            integration,
        }
    }

    pub async fn once<T, F, Fut>(&self, step: &str, act: F) -> Result<T, TaskError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, TaskError>>,
    {
        let scoped = format!("{}/{step}", self.integration);
        // Steps recorded before they were scoped carry the bare name; they expire with the task's
        // record (days), and until then a redelivery must still find them and not act twice.
        for name in [scoped.as_str(), step] {
            if let Some(done) = self.repo.step_result(self.task_key, name).await.map_err(storage)? {
                return serde_json::from_str(&done).map_err(storage);
            }
        }
        let result = act().await?;
        let json = serde_json::to_string(&result).map_err(storage)?;
        self.repo
            .record_step(self.task_key, &scoped, json)
            .await
            .map_err(storage)?;
        Ok(result)
    }
}
