//! Alert groups and the alert origin of SEVs, on `SevRepo` (layout in `keys`).

use chrono::Duration;

use super::keys;
use super::repo::{from_item, to_json};
use super::{Condition, Item, RepoError, SevRepo, StoreError, Write};
use crate::alerts::{AlertGroup, AlertOrigin, Source};
use crate::domain::SevId;

/// How long a group that never opened a SEV is remembered after its last delivery: long enough
/// to see it resolve, short enough that noise does not pile up.
const RECORD_ONLY_TTL: Duration = Duration::days(30);

/// A group as read, with the version a write of it must expect.
#[derive(Debug, Clone)]
pub struct StoredGroup {
    pub group: AlertGroup,
    pub version: u64,
}

fn group_item(id: &str, group: &AlertGroup, version: u64) -> Item {
    let mut item = Item::new(keys::alert_group(group.source.as_str(), id), to_json(group));
    item.version = version;
    // A group that has (or is opening) a SEV must outlive it; only noise expires.
    if group.sev.is_none() && group.pending.is_none() {
        item.expires_at = Some((group.last_seen + RECORD_ONLY_TTL).timestamp());
    }
    item
}

fn condition(expected: Option<u64>) -> Condition {
    expected.map_or(Condition::NotExists, Condition::Version)
}

impl SevRepo {
    pub async fn alert_group(&self, source: Source, id: &str) -> Result<Option<StoredGroup>, RepoError> {
        let Some(item) = self.store.get(&keys::alert_group(source.as_str(), id)).await? else {
            return Ok(None);
        };
        Ok(Some(StoredGroup {
            group: from_item(&item)?,
            version: item.version,
        }))
    }

    /// Writes a group if it is still at `expected` (`None`: if it does not exist). One write.
    /// Returns the new version; `Conflict` when another delivery wrote it first.
    pub async fn save_alert_group(
        &self,
        id: &str,
        group: &AlertGroup,
        expected: Option<u64>,
    ) -> Result<u64, RepoError> {
        let version = expected.map_or(1, |v| v + 1);
        match self
            .store
            .put(group_item(id, group, version), condition(expected))
            .await
        {
            Ok(()) => Ok(version),
            Err(StoreError::ConditionFailed) => Err(RepoError::Conflict),
            Err(e) => Err(e.into()),
        }
    }

    /// Links a group to the SEV it opened and records the SEV's alert origin, together.
    pub async fn link_alert_group(
        &self,
        id: &str,
        group: &AlertGroup,
        expected: u64,
        sev: SevId,
        origin: &AlertOrigin,
    ) -> Result<u64, RepoError> {
        let writes = vec![
            Write::Put(group_item(id, group, expected + 1), Condition::Version(expected)),
            Write::Put(Item::new(keys::alert_origin(sev), to_json(origin)), Condition::Always),
        ];
        self.commit(writes).await?;
        Ok(expected + 1)
    }

    /// Where an alert-opened SEV came from; `None` for SEVs people filed.
    pub async fn alert_origin(&self, sev: SevId) -> Result<Option<AlertOrigin>, RepoError> {
        match self.store.get(&keys::alert_origin(sev)).await? {
            Some(item) => Ok(Some(from_item(&item)?)),
            None => Ok(None),
        }
    }
}
