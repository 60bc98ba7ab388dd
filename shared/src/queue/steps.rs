use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::TaskError;
use crate::store::SevRepo;

/// The steps of one task, each done at most once across retries: a step's result is stored when
/// it succeeds, and a retried task gets the stored result instead of acting again. Only a crash
/// between a step's side effect and its record can repeat that one step.
pub struct Steps<'a> {
    repo: &'a SevRepo,
    task_key: &'a str,
}

fn storage(e: impl std::fmt::Display) -> TaskError {
    TaskError::Retryable(format!("cannot record task progress: {e}"))
}

impl<'a> Steps<'a> {
    pub fn new(repo: &'a SevRepo, task_key: &'a str) -> Self {
        Steps { repo, task_key }
    }

    pub async fn once<T, F, Fut>(&self, step: &str, act: F) -> Result<T, TaskError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, TaskError>>,
    {
        if let Some(done) = self.repo.step_result(self.task_key, step).await.map_err(storage)? {
            return serde_json::from_str(&done).map_err(storage);
        }
        let result = act().await?;
        let json = serde_json::to_string(&result).map_err(storage)?;
        self.repo
            .record_step(self.task_key, step, json)
            .await
            .map_err(storage)?;
        Ok(result)
    }
}
