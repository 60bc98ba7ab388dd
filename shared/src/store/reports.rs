//! Stored SEV reports, on `SevRepo` (layout in `keys`).

use chrono::{DateTime, Utc};

use super::keys::{self, sortable_time};
use super::repo::{entry_writes, from_item, outbox_writes, to_json};
use super::{Condition, Index, Item, Query, RepoError, SevRepo, SortKey, Write};
use crate::domain::{Entry, Report, SevId};
use crate::queue::TaskEnvelope;

/// A report as read, with the version a write of it must expect.
#[derive(Debug, Clone)]
pub struct StoredReport {
    pub report: Report,
    pub version: u64,
}

/// Complete reports are in the completion index, which the weekly review reads by week.
fn report_item(report: &Report, version: u64) -> Item {
    let mut item = Item::new(keys::report(report.sev), to_json(report));
    item.gsi2 = report
        .completed_at()
        .map(|at| keys::report_by_completion(at, report.sev));
    item.version = version;
    item
}

impl SevRepo {
    pub async fn report(&self, sev: SevId) -> Result<Option<StoredReport>, RepoError> {
        let Some(item) = self.store.get(&keys::report(sev)).await? else {
            return Ok(None);
        };
        Ok(Some(StoredReport {
            report: from_item(&item)?,
            version: item.version,
        }))
    }

    /// Writes the report if it is unchanged since `expected` was read (`None`: if there is none
    /// yet), with its timeline entries and their tasks. `Conflict` when someone else won.
    pub async fn save_report(
        &self,
        report: &Report,
        expected: Option<u64>,
        entries: &[Entry],
        tasks: &[TaskEnvelope],
    ) -> Result<u64, RepoError> {
        let (condition, version) = match expected {
            Some(v) => (Condition::Version(v), v + 1),
            None => (Condition::NotExists, 1),
        };
        let mut writes = vec![Write::Put(report_item(report, version), condition)];
        writes.extend(entry_writes(report.sev, entries));
        writes.extend(outbox_writes(tasks));
        self.commit(writes).await?;
        Ok(version)
    }

    /// Reports marked complete in `[from, until)`, oldest first.
    pub async fn reports_completed_between(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Report>, RepoError> {
        let q = Query::new(
            Index::Gsi2,
            keys::REPORT_DONE,
            SortKey::Between(sortable_time(from), sortable_time(until)),
        );
        Ok(self
            .query_all::<Report>(&q)
            .await?
            .into_iter()
            .filter(|r| r.completed_at().is_some_and(|t| t >= from && t < until))
            .collect())
    }
}
