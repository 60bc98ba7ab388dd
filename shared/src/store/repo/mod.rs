//! The repository: SEVs, their timelines, idempotency keys, the task outbox and task claims,
//! laid out in one table (see `keys`). It knows the layout; the application services know the rules.
//!
//! `SevRepo` is one type; its methods are split by aggregate: `sevs`, `scas`, `pages`, `ledger`
//! (outbox, claims, steps, failed tasks), `tallies` (the month tallies of the trend reports) and `records`, besides `alert_groups` and `reports` next door.

mod ledger;
mod pages;
mod records;
mod scas;
mod sevs;
mod tallies;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::keys;
use super::{Condition, Item, Key, Query, Store, StoreError, Write};
use crate::domain::{Entry, SevId};
use crate::queue::TaskEnvelope;

pub use ledger::{Claim, FailedTask};
pub use sevs::{Created, NewSevRecord, Stored};
pub use tallies::Rebuilt;

/// Creating a SEV or an SCA races on the counter; this bounds the retries under contention.
const CREATE_ATTEMPTS: u32 = 200;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{0} does not exist")]
    NotFound(SevId),
    /// Someone else changed the SEV since it was read; read it again and retry.
    #[error("the SEV was changed by someone else at the same time")]
    Conflict,
    #[error("the Idempotency-Key was already used for a different request")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct SevRepo {
    pub(super) store: Arc<dyn Store>,
}

#[derive(Serialize, Deserialize)]
struct Counter {
    last: u64,
}

pub(super) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| unreachable!("domain values always serialise: {e}"))
}

pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(&item.data).map_err(|e| StoreError::Corrupt(item.key.clone(), e.to_string()))
}

pub(super) fn entry_writes(id: SevId, entries: &[Entry]) -> impl Iterator<Item = Write> + '_ {
    entries
        .iter()
        .map(move |e| Write::Put(Item::new(keys::entry(id, &e.id), to_json(e)), Condition::NotExists))
}

pub(super) fn outbox_writes(tasks: &[TaskEnvelope]) -> impl Iterator<Item = Write> + '_ {
    tasks.iter().map(|t| {
        Write::Put(
            Item::new(keys::outbox(t.created_at, t.key.as_str()), t.to_json()),
            Condition::Always,
        )
    })
}

/// Jittered pause before retrying a lost optimistic race, so racers spread out.
pub(crate) async fn backoff(attempt: u32) {
    let cap_ms = 2u64.saturating_pow(attempt.min(6)).min(50);
    tokio::time::sleep(StdDuration::from_millis(rand::random_range(0..=cap_ms))).await;
}

impl SevRepo {
    pub fn new(store: Arc<dyn Store>) -> Self {
        SevRepo { store }
    }

    /// Writes all of `writes` or none. A failed condition and a clash with a concurrent
    /// transaction both mean someone else got there first, so both are `Conflict`: read again and
    /// retry.
    pub(in crate::store) async fn commit(&self, writes: Vec<Write>) -> Result<(), RepoError> {
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { .. } | StoreError::TransactionConflict) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs `query` and decodes every item it returns, in the query's order.
    pub(in crate::store) async fn query_all<T: DeserializeOwned>(&self, query: &Query) -> Result<Vec<T>, RepoError> {
        let items = self.store.query(query).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    /// One attempt to write something under the next number of `counter`, in the same
    /// transaction as the counter itself, so numbers have no gaps and no duplicates. `None`: a
    /// concurrent writer won the race (or a condition in `build`'s writes failed); try again.
    async fn numbered<T>(
        &self,
        counter: Key,
        build: impl FnOnce(u64) -> (Vec<Write>, T),
    ) -> Result<Option<T>, RepoError> {
        let current = self.store.get(&counter).await?;
        let (last, condition, version) = match &current {
            Some(item) => (
                from_item::<Counter>(item)?.last,
                Condition::Version(item.version),
                item.version + 1,
            ),
            None => (0, Condition::NotExists, 1),
        };
        let (mut writes, value) = build(last + 1);
        let mut counter_item = Item::new(counter, to_json(&Counter { last: last + 1 }));
        counter_item.version = version;
        writes.insert(0, Write::Put(counter_item, condition));
        match self.commit(writes).await {
            Ok(()) => Ok(Some(value)),
            Err(RepoError::Conflict) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
