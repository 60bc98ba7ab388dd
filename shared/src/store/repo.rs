//! The repository: SEVs, their timelines, idempotency keys, the task outbox and task claims,
//! laid out in one table (see `keys`). It knows the layout; the application services know the rules.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::keys::{self, sortable_time};
use super::{Condition, Index, Item, Key, Query, SortKey, Store, StoreError, Write};
use crate::domain::{Entry, Page, Sca, ScaId, Sev, SevId};
use crate::queue::TaskEnvelope;

/// How long an idempotency key is remembered: longer than any client retries a request.
const IDEMPOTENCY_TTL: Duration = Duration::hours(24);
/// How long a handled task is remembered: longer than SQS keeps a message (14 days).
const TASK_DONE_TTL: Duration = Duration::days(15);
/// Creating a SEV races on the counter; this bounds the retries under contention.
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

/// A SEV as read, with the version a write of it must expect.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sev: Sev,
    pub version: u64,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub sev: Sev,
    /// False when an earlier request with the same idempotency key created it.
    pub new: bool,
}

#[derive(Serialize, Deserialize)]
struct Counter {
    last: u64,
}

#[derive(Serialize, Deserialize)]
struct Idempotency {
    sev: SevId,
    fingerprint: String,
}

#[derive(Serialize, Deserialize)]
struct Imported {
    sev: SevId,
}

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

/// A new SEV to store: the SEV with a placeholder id, and what to write with it once it has one.
pub struct NewSevRecord<'a> {
    pub sev: Sev,
    pub entries: Box<dyn Fn(SevId) -> Vec<Entry> + Send + Sync + 'a>,
    pub tasks: Box<dyn Fn(SevId) -> Vec<TaskEnvelope> + Send + Sync + 'a>,
    /// `(scope, key, fingerprint of the request)`.
    pub idempotency: Option<(&'a str, &'a str, String)>,
}

#[derive(Clone)]
pub struct SevRepo {
    pub(super) store: Arc<dyn Store>,
}

pub(super) fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| unreachable!("domain values always serialise: {e}"))
}

pub(super) fn from_item<T: for<'de> Deserialize<'de>>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(&item.data).map_err(|e| StoreError::Corrupt(item.key.clone(), e.to_string()))
}

fn sev_item(sev: &Sev, version: u64) -> Item {
    Item {
        key: keys::sev(sev.id),
        gsi1: sev.status.is_active().then(|| keys::active(sev.declared_at, sev.id)),
        gsi2: Some(keys::by_month(sev.started_at, sev.id)),
        version,
        expires_at: None,
        data: to_json(sev),
    }
}

#[derive(Serialize, Deserialize)]
struct ScaPointer {
    sev: SevId,
}

/// Open SCAs are in the owner index and, with a due date, in the due index; closed ones leave both.
fn sca_item(sca: &Sca, version: u64) -> Item {
    let open = sca.is_open();
    Item {
        key: keys::sca(sca.sev, sca.id),
        gsi1: open.then(|| keys::sca_by_owner(&sca.owner, sca.due, sca.id)),
        gsi2: sca.due.filter(|_| open).map(|d| keys::sca_by_due(d, sca.id)),
        version,
        expires_at: None,
        data: to_json(sca),
    }
}

pub(super) fn entry_writes(id: SevId, entries: &[Entry]) -> impl Iterator<Item = Write> + '_ {
    entries
        .iter()
        .map(move |e| Write::Put(Item::new(keys::entry(id, &e.id), to_json(e)), Condition::NotExists))
}

pub(super) fn outbox_writes(tasks: &[TaskEnvelope]) -> impl Iterator<Item = Write> + '_ {
    tasks.iter().map(|t| {
        Write::Put(
            Item::new(keys::outbox(t.created_at, &t.key), t.to_json()),
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

    /// Stores a new SEV under the next number. The counter, the SEV, its first timeline entries,
    /// its tasks and the idempotency key are one transaction: numbers have no gaps, and a retried
    /// request with the same key gets the SEV the first one created.
    pub async fn create(&self, record: NewSevRecord<'_>) -> Result<Created, RepoError> {
        for attempt in 0..CREATE_ATTEMPTS {
            if let Some((scope, key, fingerprint)) = &record.idempotency
                && let Some(existing) = self.by_idempotency_key(scope, key, fingerprint).await?
            {
                return Ok(Created {
                    sev: existing,
                    new: false,
                });
            }
            let built = self
                .numbered(keys::counter(), |n| {
                    let id = SevId(n);
                    let mut sev = record.sev.clone();
                    sev.id = id;
                    let mut writes = vec![Write::Put(sev_item(&sev, 1), Condition::NotExists)];
                    writes.extend(entry_writes(id, &(record.entries)(id)));
                    writes.extend(outbox_writes(&(record.tasks)(id)));
                    if let Some((scope, key, fingerprint)) = &record.idempotency {
                        let mut idem = Item::new(
                            keys::idempotency(scope, key),
                            to_json(&Idempotency {
                                sev: id,
                                fingerprint: fingerprint.clone(),
                            }),
                        );
                        idem.expires_at = Some((sev.declared_at + IDEMPOTENCY_TTL).timestamp());
                        writes.push(Write::Put(idem, Condition::NotExists));
                    }
                    (writes, sev)
                })
                .await?;
            match built {
                Some(sev) => return Ok(Created { sev, new: true }),
                // Another creation took the number or the key first: the next round sees it.
                None => backoff(attempt).await,
            }
        }
        Err(RepoError::Conflict)
    }

    /// Stores a SEV read from an export under the next number, once per `key`: the SEV, its
    /// timeline entries and the key are one transaction. Returns the SEV's number here and whether
    /// this call stored it. No tasks: history is not announced.
    pub async fn import(&self, sev: &Sev, key: &str, entries: &[Entry]) -> Result<(SevId, bool), RepoError> {
        for attempt in 0..CREATE_ATTEMPTS {
            if let Some(done) = self.record::<Imported>(&keys::import(key)).await? {
                return Ok((done.sev, false));
            }
            let built = self
                .numbered(keys::counter(), |n| {
                    let mut sev = sev.clone();
                    sev.id = SevId(n);
                    let mut writes = vec![
                        Write::Put(sev_item(&sev, 1), Condition::NotExists),
                        Write::Put(
                            Item::new(keys::import(key), to_json(&Imported { sev: sev.id })),
                            Condition::NotExists,
                        ),
                    ];
                    writes.extend(entry_writes(sev.id, entries));
                    (writes, sev.id)
                })
                .await?;
            match built {
                Some(id) => return Ok((id, true)),
                None => backoff(attempt).await,
            }
        }
        Err(RepoError::Conflict)
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
        match self.store.transact(writes).await {
            Ok(()) => Ok(Some(value)),
            Err(StoreError::TransactionCancelled { .. } | StoreError::TransactionConflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a new SCA under the next SCA number, with its timeline entry on the SEV.
    pub async fn create_sca(
        &self,
        sca: &Sca,
        entry: impl Fn(ScaId) -> Entry,
        tasks: impl Fn(ScaId, &Entry) -> Vec<TaskEnvelope>,
    ) -> Result<Sca, RepoError> {
        for attempt in 0..CREATE_ATTEMPTS {
            let built = self
                .numbered(keys::sca_counter(), |n| {
                    let mut sca = sca.clone();
                    sca.id = ScaId(n);
                    let entry = entry(sca.id);
                    let pointer = Item::new(keys::sca_pointer(sca.id), to_json(&ScaPointer { sev: sca.sev }));
                    let mut writes = vec![
                        Write::Put(sca_item(&sca, 1), Condition::NotExists),
                        Write::Put(pointer, Condition::NotExists),
                    ];
                    writes.extend(entry_writes(sca.sev, std::slice::from_ref(&entry)));
                    writes.extend(outbox_writes(&tasks(sca.id, &entry)));
                    (writes, sca)
                })
                .await?;
            match built {
                Some(sca) => return Ok(sca),
                None => backoff(attempt).await,
            }
        }
        Err(RepoError::Conflict)
    }

    pub async fn load_sca(&self, id: ScaId) -> Result<Option<(Sca, u64)>, RepoError> {
        let Some(pointer) = self.record::<ScaPointer>(&keys::sca_pointer(id)).await? else {
            return Ok(None);
        };
        let item = self.store.get(&keys::sca(pointer.sev, id)).await?;
        item.map(|i| Ok((from_item(&i)?, i.version))).transpose()
    }

    /// Writes a changed SCA if nobody changed it since `expected_version`, with its entries.
    pub async fn save_sca(
        &self,
        sca: &Sca,
        expected_version: u64,
        entries: &[Entry],
        tasks: &[TaskEnvelope],
    ) -> Result<(), RepoError> {
        let mut writes = vec![Write::Put(
            sca_item(sca, expected_version + 1),
            Condition::Version(expected_version),
        )];
        writes.extend(entry_writes(sca.sev, entries));
        writes.extend(outbox_writes(tasks));
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { .. } | StoreError::TransactionConflict) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn scas_of(&self, sev: SevId) -> Result<Vec<Sca>, RepoError> {
        let q = Query::new(
            Index::Primary,
            keys::sev_pk(sev),
            SortKey::Prefix(keys::SCA_PREFIX.into()),
        );
        let items = self.store.query(&q).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    /// An owner's open SCAs, soonest due first.
    pub async fn open_scas_of(&self, owner: &str) -> Result<Vec<Sca>, RepoError> {
        let q = Query::new(Index::Gsi1, keys::owner_pk(owner), SortKey::Any);
        let items = self.store.query(&q).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    /// Open SCAs due before `now`, most overdue first.
    pub async fn overdue_scas(&self, now: DateTime<Utc>) -> Result<Vec<Sca>, RepoError> {
        let q = Query::new(
            Index::Gsi2,
            keys::SCA_DUE,
            SortKey::Between(String::new(), sortable_time(now)),
        );
        let items = self.store.query(&q).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    async fn by_idempotency_key(&self, scope: &str, key: &str, fingerprint: &str) -> Result<Option<Sev>, RepoError> {
        let Some(item) = self.store.get(&keys::idempotency(scope, key)).await? else {
            return Ok(None);
        };
        let idem: Idempotency = from_item(&item)?;
        if idem.fingerprint != fingerprint {
            return Err(RepoError::IdempotencyMismatch);
        }
        Ok(Some(self.load(idem.sev).await?.sev))
    }

    pub async fn load(&self, id: SevId) -> Result<Stored, RepoError> {
        let item = self.store.get(&keys::sev(id)).await?.ok_or(RepoError::NotFound(id))?;
        Ok(Stored {
            sev: from_item(&item)?,
            version: item.version,
        })
    }

    /// Writes a changed SEV if nobody changed it since `expected_version` was read, together with
    /// its new timeline entries and the tasks they cause.
    pub async fn save(
        &self,
        sev: &Sev,
        expected_version: u64,
        entries: &[Entry],
        tasks: &[TaskEnvelope],
    ) -> Result<(), RepoError> {
        let mut writes = vec![Write::Put(
            sev_item(sev, expected_version + 1),
            Condition::Version(expected_version),
        )];
        writes.extend(entry_writes(sev.id, entries));
        writes.extend(outbox_writes(tasks));
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { .. } | StoreError::TransactionConflict) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// The SEV's timeline, oldest first.
    pub async fn timeline(&self, id: SevId) -> Result<Vec<Entry>, RepoError> {
        let q = Query::new(
            Index::Primary,
            keys::sev_pk(id),
            SortKey::Prefix(keys::TIMELINE_PREFIX.into()),
        );
        let items = self.store.query(&q).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    /// Open and mitigated SEVs, most recently declared first.
    pub async fn active(&self) -> Result<Vec<Sev>, RepoError> {
        let mut q = Query::new(Index::Gsi1, keys::ACTIVE, SortKey::Any);
        q.descending = true;
        let items = self.store.query(&q).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    /// SEVs that started in `[from, until)`, oldest first, read month by month from the month index.
    pub async fn started_between(&self, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Sev>, RepoError> {
        let mut sevs = Vec::new();
        let lo = sortable_time(from);
        let hi = sortable_time(until);
        let mut month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1);
        while let Some(m) = month.filter(|m| m.and_hms_opt(0, 0, 0).is_some_and(|t| t.and_utc() < until)) {
            let q = Query::new(
                Index::Gsi2,
                keys::month_pk(m.year(), m.month()),
                SortKey::Between(lo.clone(), hi.clone()),
            );
            for item in self.store.query(&q).await? {
                let sev: Sev = from_item(&item)?;
                if sev.started_at < until {
                    sevs.push(sev);
                }
            }
            month = m.checked_add_months(chrono::Months::new(1));
        }
        Ok(sevs)
    }

    /// Up to `limit` tasks waiting to be relayed to the queue, oldest first.
    /// Puts tasks in the outbox on their own, for work that changes nothing else (a digest asked
    /// for, the daily sweep); the relay sends them on.
    pub async fn enqueue(&self, tasks: &[TaskEnvelope]) -> Result<(), RepoError> {
        Ok(self.store.transact(outbox_writes(tasks).collect()).await?)
    }

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
    pub async fn claim_task(&self, task_key: &str, lease: Duration) -> Result<Claim, RepoError> {
        let key = keys::task(task_key);
        let mut item = Item::new(key.clone(), to_json(&TaskState { done: false }));
        item.expires_at = Some((Utc::now() + lease).timestamp());
        match self.store.put(item, Condition::NotExists).await {
            Ok(()) => Ok(Claim::Claimed),
            Err(StoreError::ConditionFailed) => match self.store.get(&key).await? {
                Some(i) if from_item::<TaskState>(&i)?.done => Ok(Claim::AlreadyDone),
                _ => Ok(Claim::Busy),
            },
            Err(e) => Err(e.into()),
        }
    }

    pub async fn finish_task(&self, task_key: &str) -> Result<(), RepoError> {
        let mut item = Item::new(keys::task(task_key), to_json(&TaskState { done: true }));
        item.expires_at = Some((Utc::now() + TASK_DONE_TTL).timestamp());
        Ok(self.store.put(item, Condition::Always).await?)
    }

    pub async fn release_task(&self, task_key: &str) -> Result<(), RepoError> {
        Ok(self.store.delete(&keys::task(task_key), Condition::Always).await?)
    }

    /// Records a task that failed for good, on its SEV, and marks it handled.
    pub async fn fail_task(&self, failed: &FailedTask) -> Result<(), RepoError> {
        let item = Item::new(keys::failed_task(failed.task.sev(), &failed.task.key), to_json(failed));
        self.store.put(item, Condition::Always).await?;
        self.finish_task(&failed.task.key).await
    }

    /// The stored result of a step a task completed earlier, if it did.
    pub async fn step_result(&self, task_key: &str, step: &str) -> Result<Option<String>, RepoError> {
        Ok(self.store.get(&keys::step(task_key, step)).await?.map(|i| i.data))
    }

    pub async fn record_step(&self, task_key: &str, step: &str, result: String) -> Result<(), RepoError> {
        let mut item = Item::new(keys::step(task_key, step), result);
        item.expires_at = Some((Utc::now() + TASK_DONE_TTL).timestamp());
        Ok(self.store.put(item, Condition::Always).await?)
    }

    /// A small record an integration keeps under a key of its own (see `keys`).
    pub async fn record<T: for<'de> Deserialize<'de>>(&self, key: &Key) -> Result<Option<T>, RepoError> {
        match self.store.get(key).await? {
            Some(item) => Ok(Some(from_item(&item)?)),
            None => Ok(None),
        }
    }

    pub async fn put_record<T: Serialize>(&self, key: Key, value: &T) -> Result<(), RepoError> {
        Ok(self
            .store
            .put(Item::new(key, to_json(value)), Condition::Always)
            .await?)
    }

    /// Every small record under one partition key, in sort key order.
    pub async fn records_under<T: for<'de> Deserialize<'de>>(&self, pk: &str) -> Result<Vec<T>, RepoError> {
        let items = self.store.query(&Query::new(Index::Primary, pk, SortKey::Any)).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }

    /// Removes a small record; one already gone is not an error.
    pub async fn delete_record(&self, key: &Key) -> Result<(), RepoError> {
        Ok(self.store.delete(key, Condition::Always).await?)
    }

    /// Records new pages with their timeline entries and tasks, all or nothing. Returns false,
    /// writing nothing, when one of the teams already has a page for this SEV.
    pub async fn create_pages(
        &self,
        id: SevId,
        pages: &[Page],
        entries: &[Entry],
        tasks: &[TaskEnvelope],
    ) -> Result<bool, RepoError> {
        let mut writes: Vec<Write> = pages
            .iter()
            .map(|p| Write::Put(Item::new(keys::page(id, &p.team), to_json(p)), Condition::NotExists))
            .collect();
        writes.extend(entry_writes(id, entries));
        writes.extend(outbox_writes(tasks));
        match self.store.transact(writes).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionCancelled { .. }) => Ok(false),
            Err(StoreError::TransactionConflict) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// The SEV's pages with the version a change of each must expect, by team name.
    pub async fn pages(&self, id: SevId) -> Result<Vec<(Page, u64)>, RepoError> {
        let q = Query::new(
            Index::Primary,
            keys::sev_pk(id),
            SortKey::Prefix(keys::PAGE_PREFIX.into()),
        );
        let items = self.store.query(&q).await?;
        items.iter().map(|i| Ok((from_item(i)?, i.version))).collect()
    }

    pub async fn page(&self, id: SevId, team: &str) -> Result<Option<(Page, u64)>, RepoError> {
        match self.store.get(&keys::page(id, team)).await? {
            Some(item) => Ok(Some((from_item(&item)?, item.version))),
            None => Ok(None),
        }
    }

    /// Writes a changed page if nobody changed it since `expected_version`, with its timeline
    /// entries and their tasks; `Conflict` means read it again and retry.
    pub async fn save_page(
        &self,
        id: SevId,
        page: &Page,
        expected_version: u64,
        entries: &[Entry],
        tasks: &[TaskEnvelope],
    ) -> Result<(), RepoError> {
        let mut item = Item::new(keys::page(id, &page.team), to_json(page));
        item.version = expected_version + 1;
        let mut writes = vec![Write::Put(item, Condition::Version(expected_version))];
        writes.extend(entry_writes(id, entries));
        writes.extend(outbox_writes(tasks));
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { .. } | StoreError::TransactionConflict) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives a failed task another go: its failure record and its handled mark are removed and it
    /// goes back in the outbox, all at once. Steps it completed before stay done (memoized), so
    /// only what failed runs again.
    pub async fn requeue_failed(&self, failed: &FailedTask) -> Result<(), RepoError> {
        let mut writes = vec![
            Write::Delete(
                keys::failed_task(failed.task.sev(), &failed.task.key),
                Condition::Always,
            ),
            Write::Delete(keys::task(&failed.task.key), Condition::Always),
        ];
        writes.extend(outbox_writes(std::slice::from_ref(&failed.task)));
        match self.store.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::TransactionCancelled { .. } | StoreError::TransactionConflict) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn failed_tasks(&self, id: SevId) -> Result<Vec<FailedTask>, RepoError> {
        let q = Query::new(
            Index::Primary,
            keys::sev_pk(id),
            SortKey::Prefix(keys::FAILED_PREFIX.into()),
        );
        let items = self.store.query(&q).await?;
        Ok(items.iter().map(from_item).collect::<Result<_, _>>()?)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Claimed,
    AlreadyDone,
    Busy,
}
