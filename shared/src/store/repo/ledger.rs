//! The task ledger on `SevRepo`: the outbox, task claims, memoized step results and failed tasks.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{RepoError, SevRepo, from_item, outbox_writes, to_json};
use crate::domain::SevId;
use crate::queue::{TaskEnvelope, TaskKey};
use crate::store::{Condition, Index, Item, Key, Query, SortKey, StoreError, Write};
use crate::store::{expires_after, keys};

/// How long a handled task is remembered: longer than SQS keeps a message (14 days).
const TASK_DONE_TTL: Duration = Duration::days(15);

#[derive(Serialize, Deserialize)]
struct TaskState {
    done: bool,
}

/// A task that will not succeed by retrying, kept on its SEV for people to see and retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTask {
    pub task: TaskEnvelope,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Claimed,
    AlreadyDone,
    Busy,
}

impl SevRepo {
    /// Puts tasks in the outbox on their own, for work that changes nothing else (a digest asked
    /// for, the daily sweep); the relay sends them on.
    pub async fn enqueue(&self, tasks: &[TaskEnvelope]) -> Result<(), RepoError> {
        Ok(self.store.transact(outbox_writes(tasks).collect()).await?)
    }

    /// Up to `limit` tasks waiting to be relayed to the queue, oldest first.
    pub async fn outbox(&self, limit: usize) -> Result<Vec<(Key, TaskEnvelope)>, RepoError> {
        let mut q = Query::new(Index::Primary, keys::OUTBOX, SortKey::Any);
        q.limit = Some(limit);
        let items = self.store.query(&q).await?;
        items.into_iter().map(|i| Ok((i.key.clone(), from_item(&i)?))).collect()
    }

    pub async fn remove_from_outbox(&self, relayed: &[Key]) -> Result<(), RepoError> {
        for key in relayed {
            self.store.delete(key, Condition::Always).await?;
        }
        Ok(())
    }

    /// Claims a task for handling. Returns false if it was already handled, or is being handled
    /// now by another consumer (whose claim lapses after `lease`, should it die).
    pub async fn claim_task(&self, task_key: &TaskKey, lease: Duration) -> Result<Claim, RepoError> {
        let key = keys::task(task_key.as_str());
        let mut item = Item::new(key.clone(), to_json(&TaskState { done: false }));
        item.expires_at = Some(expires_after(lease));
        match self.store.put(item, Condition::NotExists).await {
            Ok(()) => Ok(Claim::Claimed),
            Err(StoreError::ConditionFailed) => match self.store.get(&key).await? {
                Some(i) if from_item::<TaskState>(&i)?.done => Ok(Claim::AlreadyDone),
                _ => Ok(Claim::Busy),
            },
            Err(e) => Err(e.into()),
        }
    }

    pub async fn finish_task(&self, task_key: &TaskKey) -> Result<(), RepoError> {
        let mut item = Item::new(keys::task(task_key.as_str()), to_json(&TaskState { done: true }));
        item.expires_at = Some(expires_after(TASK_DONE_TTL));
        Ok(self.store.put(item, Condition::Always).await?)
    }

    pub async fn release_task(&self, task_key: &TaskKey) -> Result<(), RepoError> {
        Ok(self
            .store
            .delete(&keys::task(task_key.as_str()), Condition::Always)
            .await?)
    }

    /// The stored result of a step a task completed earlier, if it did.
    pub async fn step_result(&self, task_key: &str, step: &str) -> Result<Option<String>, RepoError> {
        Ok(self.store.get(&keys::step(task_key, step)).await?.map(|i| i.data))
    }

    pub async fn record_step(&self, task_key: &str, step: &str, result: String) -> Result<(), RepoError> {
        let mut item = Item::new(keys::step(task_key, step), result);
        item.expires_at = Some(expires_after(TASK_DONE_TTL));
        Ok(self.store.put(item, Condition::Always).await?)
    }

    /// Records a task that failed for good, on its SEV, and marks it handled.
    pub async fn fail_task(&self, failed: &FailedTask) -> Result<(), RepoError> {
        let item = Item::new(
            keys::failed_task(failed.task.sev(), failed.task.key.as_str()),
            to_json(failed),
        );
        self.store.put(item, Condition::Always).await?;
        self.finish_task(&failed.task.key).await
    }

    /// Gives a failed task another go: its failure record and its handled mark are removed and it
    /// goes back in the outbox, all at once. Steps it completed before stay done (memoized), so
    /// only what failed runs again.
    pub async fn requeue_failed(&self, failed: &FailedTask) -> Result<(), RepoError> {
        let mut writes = vec![
            Write::Delete(
                keys::failed_task(failed.task.sev(), failed.task.key.as_str()),
                Condition::Always,
            ),
            Write::Delete(keys::task(failed.task.key.as_str()), Condition::Always),
        ];
        writes.extend(outbox_writes(std::slice::from_ref(&failed.task)));
        self.commit(writes).await
    }

    pub async fn failed_tasks(&self, id: SevId) -> Result<Vec<FailedTask>, RepoError> {
        self.query_all(&Query::new(
            Index::Primary,
            keys::sev_pk(id),
            SortKey::Prefix(keys::FAILED_PREFIX.into()),
        ))
        .await
    }
}
