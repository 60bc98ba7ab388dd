//! Pages on `SevRepo`: one per team and SEV, created all at once with their entries, read and saved optimistically.

use super::{RepoError, SevRepo, entry_writes, from_item, outbox_writes, to_json};
use crate::domain::{Entry, Page, SevId};
use crate::queue::TaskEnvelope;
use crate::store::keys;
use crate::store::{Condition, Index, Item, Query, SortKey, StoreError, Write};

impl SevRepo {
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
        // Not `commit`: here a failed condition is an answer (a team was paged already), while a
        // clash with a concurrent transaction is still a `Conflict` to retry.
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
        self.commit(writes).await
    }
}
