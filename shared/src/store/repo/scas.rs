//! SCAs on `SevRepo`: numbered creation with the SEV's timeline entry, reads by SEV, owner and due date, saves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{CREATE_ATTEMPTS, RepoError, SevRepo, backoff, entry_writes, from_item, outbox_writes, to_json};
use crate::domain::{Entry, Sca, ScaId, SevId};
use crate::queue::TaskEnvelope;
use crate::store::keys::{self, sortable_time};
use crate::store::{Condition, Index, Item, Query, SortKey, Write};

/// Finds an SCA's SEV from the SCA's number alone.
#[derive(Serialize, Deserialize)]
struct ScaPointer {
    sev: SevId,
}

/// Open SCAs are in the owner index and, with a due date, in the due index; closed ones leave both.
fn sca_item(sca: &Sca, version: u64) -> Item {
    let open = sca.is_open();
    Item {
        key: keys::sca(sca.sev, sca.id),
        gsi1: open.then(|| keys::sca_by_owner(sca.owner.as_str(), sca.due, sca.id)),
        gsi2: sca.due.filter(|_| open).map(|d| keys::sca_by_due(d, sca.id)),
        version,
        expires_at: None,
        data: to_json(sca),
    }
}

impl SevRepo {
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
        self.commit(writes).await
    }

    pub async fn scas_of(&self, sev: SevId) -> Result<Vec<Sca>, RepoError> {
        self.query_all(&Query::new(
            Index::Primary,
            keys::sev_pk(sev),
            SortKey::Prefix(keys::SCA_PREFIX.into()),
        ))
        .await
    }

    /// An owner's open SCAs, soonest due first.
    pub async fn open_scas_of(&self, owner: &str) -> Result<Vec<Sca>, RepoError> {
        self.query_all(&Query::new(Index::Gsi1, keys::owner_pk(owner), SortKey::Any))
            .await
    }

    /// Open SCAs due before `now`, most overdue first.
    pub async fn overdue_scas(&self, now: DateTime<Utc>) -> Result<Vec<Sca>, RepoError> {
        self.query_all(&Query::new(
            Index::Gsi2,
            keys::SCA_DUE,
            SortKey::Between(String::new(), sortable_time(now)),
        ))
        .await
    }
}
