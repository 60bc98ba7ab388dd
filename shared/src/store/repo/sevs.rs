//! SEVs on `SevRepo`: numbering, creation (idempotent) and import, reads, optimistic saves and the
//! timeline. Every write of a SEV carries the change to its month tallies (`tallies`).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{CREATE_ATTEMPTS, RepoError, SevRepo, backoff, entry_writes, from_item, outbox_writes, to_json};
use crate::domain::{Entry, Sev, SevId};
use crate::queue::TaskEnvelope;
use crate::store::keys::{self, sortable_time};
use crate::store::{Condition, Index, Item, Query, SortKey, Write};

/// How long an idempotency key is remembered: longer than any client retries a request.
const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

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

/// A new SEV to store: the SEV with a placeholder id, and what to write with it once it has one.
pub struct NewSevRecord<'a> {
    pub sev: Sev,
    pub entries: Box<dyn Fn(SevId) -> Vec<Entry> + Send + Sync + 'a>,
    pub tasks: Box<dyn Fn(SevId) -> Vec<TaskEnvelope> + Send + Sync + 'a>,
    /// `(scope, key, fingerprint of the request)`.
    pub idempotency: Option<(&'a str, &'a str, String)>,
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

impl SevRepo {
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
            let tallies = self.tally_writes(None, Some(&record.sev)).await?;
            let built = self
                .numbered(keys::counter(), |n| {
                    let id = SevId(n);
                    let mut sev = record.sev.clone();
                    sev.id = id;
                    let mut writes = vec![Write::Put(sev_item(&sev, 1), Condition::NotExists)];
                    writes.extend(tallies);
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
            let tallies = self.tally_writes(None, Some(sev)).await?;
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
                    writes.extend(tallies);
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

    /// Writes `sev`, changed from `before`, if nobody changed it since `before` was read,
    /// together with its new timeline entries, the tasks they cause and the month tallies the
    /// change moves.
    pub async fn save(
        &self,
        before: &Stored,
        sev: &Sev,
        entries: &[Entry],
        tasks: &[TaskEnvelope],
    ) -> Result<(), RepoError> {
        let expected_version = before.version;
        let mut writes = vec![Write::Put(
            sev_item(sev, expected_version + 1),
            Condition::Version(expected_version),
        )];
        writes.extend(self.tally_writes(Some(&before.sev), Some(sev)).await?);
        writes.extend(entry_writes(sev.id, entries));
        writes.extend(outbox_writes(tasks));
        self.commit(writes).await
    }

    /// The SEV's timeline, oldest first.
    pub async fn timeline(&self, id: SevId) -> Result<Vec<Entry>, RepoError> {
        self.query_all(&Query::new(
            Index::Primary,
            keys::sev_pk(id),
            SortKey::Prefix(keys::TIMELINE_PREFIX.into()),
        ))
        .await
    }

    /// Open and mitigated SEVs, most recently declared first.
    pub async fn active(&self) -> Result<Vec<Sev>, RepoError> {
        let mut q = Query::new(Index::Gsi1, keys::ACTIVE, SortKey::Any);
        q.descending = true;
        self.query_all(&q).await
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
}
