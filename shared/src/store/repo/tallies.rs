//! Month tallies on `SevRepo`: one item per month (`keys::tally`), changed in the same
//! transaction as the SEV that changes it, read by the trend reports a month per item.
//!
//! A tally is written under its version like a SEV, so two SEV changes racing on one month both
//! land: the loser's transaction fails as a whole and its caller retries from a fresh read, as
//! it does for a SEV someone else changed. A change that leaves every tally as it was (a new
//! title, a timeline entry) writes none.

use serde::{Deserialize, Serialize};

use super::{RepoError, SevRepo, backoff, from_item, to_json};
use crate::domain::{FIRST_YEAR, LAST_YEAR, Sev};
use crate::reports::{Month, MonthRange, MonthTally, Tallies};
use crate::store::keys;
use crate::store::{Condition, Index, Item, Query, SortKey, Write};

/// A rebuild redoes a month whose tally changed while it counted; under a steady stream of
/// changes to one month this bounds how often.
const REBUILD_ATTEMPTS: u32 = 20;

/// What a rebuild found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rebuilt {
    /// SEVs counted, drills and private ones included.
    pub sevs: usize,
    /// Months with SEVs.
    pub months: usize,
    /// Months whose stored tally differed from the SEVs and was corrected.
    pub corrected: usize,
}

#[derive(Serialize, Deserialize)]
struct Built {
    at: chrono::DateTime<chrono::Utc>,
}

fn tally_write(month: Month, tally: &MonthTally, current: Option<u64>) -> Write {
    let condition = current.map_or(Condition::NotExists, Condition::Version);
    if tally.is_empty() {
        // A tally that counts nothing is stored as none: reads give the same zeros.
        return Write::Delete(keys::tally(month), condition);
    }
    let mut item = Item::new(keys::tally(month), to_json(tally));
    item.version = current.map_or(1, |v| v + 1);
    Write::Put(item, condition)
}

impl SevRepo {
    /// The writes that take the tallies from counting `before` to counting `after` (either
    /// absent: a SEV created, or none), each conditional on the tally read here.
    pub(super) async fn tally_writes(
        &self,
        before: Option<&Sev>,
        after: Option<&Sev>,
    ) -> Result<Vec<Write>, RepoError> {
        let mut writes = Vec::new();
        for (month, change) in Tallies::change(before, after).into_months() {
            let (mut tally, version) = match self.store.get(&keys::tally(month)).await? {
                Some(item) => (from_item::<MonthTally>(&item)?, Some(item.version)),
                None => (MonthTally::default(), None),
            };
            tally.merge(&change);
            match (tally.is_empty(), version) {
                // Nothing stored and nothing to store (a SEV counted out of a month that was
                // never tallied, before a rebuild): nothing to write either.
                (true, None) => {}
                _ => writes.push(tally_write(month, &tally, version)),
            }
        }
        Ok(writes)
    }

    /// The tallies of the months in `range`, one item per month that has SEVs.
    pub async fn tallies(&self, range: MonthRange) -> Result<Tallies, RepoError> {
        let q = Query::new(
            Index::Primary,
            keys::TALLY,
            SortKey::Between(range.first.to_string(), range.last.to_string()),
        );
        let mut months = std::collections::BTreeMap::new();
        for item in self.store.query(&q).await? {
            // Only month keys lie in a range of months.
            let Ok(month) = item.key.sk.parse::<Month>() else {
                continue;
            };
            months.insert(month, from_item::<MonthTally>(&item)?);
        }
        Ok(Tallies::new(months))
    }

    /// Whether the tallies have been counted from the SEVs at least once. A store written by a
    /// sevtool from before tallies existed has SEVs but no tallies until then.
    pub async fn tallies_built(&self) -> Result<bool, RepoError> {
        Ok(self.store.get(&keys::tallies_built()).await?.is_some())
    }

    /// Counts every month's tally again from its SEVs and stores the ones that differ: for a
    /// store written before tallies existed, or to check them. A month whose tally changes while
    /// it is being counted is counted again, so a rebuild can run beside live traffic.
    pub async fn rebuild_tallies(&self) -> Result<Rebuilt, RepoError> {
        let mut done = Rebuilt::default();
        let (first, last) = (Month::new(FIRST_YEAR, 1), Month::new(LAST_YEAR, 12));
        let (Some(first), Some(last)) = (first, last) else {
            unreachable!("the first and last years are valid months")
        };
        let mut month = first;
        loop {
            let (sevs, corrected) = self.rebuild_month(month).await?;
            if sevs > 0 {
                done.sevs += sevs;
                done.months += 1;
            }
            done.corrected += usize::from(corrected);
            if month == last {
                break;
            }
            month = month.next();
        }
        self.mark_built().await?;
        Ok(done)
    }

    async fn mark_built(&self) -> Result<(), RepoError> {
        let built = Item::new(keys::tallies_built(), to_json(&Built { at: chrono::Utc::now() }));
        Ok(self.store.put(built, Condition::Always).await?)
    }

    /// Marks the tallies built without counting: for a store that holds no SEV yet.
    pub async fn mark_tallies_built_if_empty(&self) -> Result<bool, RepoError> {
        if self.store.get(&keys::counter()).await?.is_some() {
            return Ok(false);
        }
        self.mark_built().await?;
        Ok(true)
    }

    /// Answers the SEVs counted and whether the stored tally had to change.
    async fn rebuild_month(&self, month: Month) -> Result<(usize, bool), RepoError> {
        for attempt in 0..REBUILD_ATTEMPTS {
            // The tally's version first: any change to the month after this read bumps it, so
            // the conditional write below fails rather than overwrite that change.
            let stored = self.store.get(&keys::tally(month)).await?;
            let version = stored.as_ref().map(|i| i.version);
            let current = stored.as_ref().map(from_item::<MonthTally>).transpose()?;
            let (from, until) = (month.start(), month.next().start());
            let sevs = self.started_between(from, until).await?;
            let counted = Tallies::of(&sevs).into_months().remove(&month).unwrap_or_default();
            if current.as_ref().unwrap_or(&MonthTally::default()) == &counted {
                return Ok((sevs.len(), false));
            }
            match self.commit(vec![tally_write(month, &counted, version)]).await {
                Ok(()) => return Ok((sevs.len(), true)),
                Err(RepoError::Conflict) => backoff(attempt).await,
                Err(e) => return Err(e),
            }
        }
        Err(RepoError::Conflict)
    }
}
