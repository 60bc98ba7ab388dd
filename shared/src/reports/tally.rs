//! Month tallies: everything the trend reports need of one month's SEVs, in a size that grows
//! with the distinct values (levels, tracks, tags, durations) rather than with the SEVs. The
//! store keeps one per month, changed in the same transaction as every SEV change, so a report
//! over ten years reads 120 tallies instead of every SEV (`store::repo::tallies`).
//!
//! A tally is exact: durations are kept to the second with how many SEVs took each, so means
//! and medians come out as they would from the SEVs themselves. Public and private SEVs are kept
//! apart, so that each viewer's numbers include exactly what the viewer may see.

use std::collections::BTreeSet;
use std::collections::btree_map::{BTreeMap, Entry};

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::{Month, TimeStats, Viewer};
use crate::domain::{Level, Sev};

/// Adds `n` (negative to take away) to `key`, dropping keys that reach zero so that a tally
/// holds nothing for values no SEV has any more.
fn bump<K: Ord>(map: &mut BTreeMap<K, i64>, key: K, n: i64) {
    match map.entry(key) {
        Entry::Occupied(mut e) => {
            *e.get_mut() += n;
            if *e.get() == 0 {
                e.remove();
            }
        }
        Entry::Vacant(e) => {
            if n != 0 {
                e.insert(n);
            }
        }
    }
}

fn merge_into<K: Ord + Clone>(into: &mut BTreeMap<K, i64>, from: &BTreeMap<K, i64>) {
    for (k, n) in from {
        bump(into, k.clone(), *n);
    }
}

/// A count as reports show it. Below zero only if a tally drifted from its SEVs (stored before
/// tallies existed and not yet rebuilt), and then nothing is the honest answer.
pub(crate) fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Durations in whole seconds (the resolution the reports compute in), with how many SEVs took
/// each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Durations(BTreeMap<i64, i64>);

impl Durations {
    pub fn of(durations: impl IntoIterator<Item = Duration>) -> Durations {
        let mut d = Durations::default();
        for one in durations {
            d.add(one, 1);
        }
        d
    }

    fn add(&mut self, d: Duration, n: i64) {
        bump(&mut self.0, d.num_seconds(), n);
    }

    fn merge(&mut self, other: &Durations) {
        merge_into(&mut self.0, &other.0);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Mean and median in minutes. The mean is the exact sum of seconds over the count, so it
    /// does not depend on the order the durations were added in.
    pub fn stats(&self) -> TimeStats {
        let counts = || self.0.iter().map(|(secs, n)| (*secs, count(*n)));
        let total: usize = counts().map(|(_, n)| n).sum();
        if total == 0 {
            return TimeStats {
                count: 0,
                mean_minutes: None,
                median_minutes: None,
            };
        }
        let sum: i128 = counts().map(|(secs, n)| i128::from(secs) * n as i128).sum();
        // The value at a 0-based position of the sorted durations (positions are below the
        // total, so one is always found).
        let at = |pos: usize| {
            let mut seen = 0;
            counts()
                .find(|(_, n)| {
                    seen += n;
                    pos < seen
                })
                .map_or(0.0, |(secs, _)| secs as f64 / 60.0)
        };
        let median = if total % 2 == 1 {
            at(total / 2)
        } else {
            (at(total / 2 - 1) + at(total / 2)) / 2.0
        };
        TimeStats {
            count: total,
            mean_minutes: Some(sum as f64 / total as f64 / 60.0),
            median_minutes: Some(median),
        }
    }
}

/// One month's SEVs of one kind (public or private).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// SEVs that count: drills are only in `drills`.
    pub sevs: i64,
    pub drills: i64,
    pub levels: BTreeMap<Level, i64>,
    /// By product track; SEVs without one are in `no_track`.
    pub tracks: BTreeMap<String, i64>,
    pub no_track: i64,
    /// By every prefix of every tag, a SEV once per prefix.
    pub tags: BTreeMap<String, i64>,
    pub no_tag: i64,
    /// SEVs with no tag under `system/`, and none under `team/`.
    pub no_system: i64,
    pub no_team: i64,
    pub detect: BTreeMap<Level, Durations>,
    pub resolve: BTreeMap<Level, Durations>,
    pub muster: Durations,
    pub acknowledge: Durations,
}

/// The groups a SEV is in: each prefix of each of its tags, once.
pub(crate) fn tag_prefixes(sev: &Sev) -> BTreeSet<&str> {
    sev.tags.iter().flat_map(|t| t.prefixes()).collect()
}

fn has_under(prefixes: &BTreeSet<&str>, root: &str) -> bool {
    prefixes
        .iter()
        .any(|p| p.strip_prefix(root).is_some_and(|rest| rest.starts_with('/')))
}

impl Counts {
    fn add(&mut self, sev: &Sev, n: i64) {
        if sev.drill {
            self.drills += n;
            return;
        }
        self.sevs += n;
        bump(&mut self.levels, sev.level, n);
        match &sev.product_track {
            Some(track) => bump(&mut self.tracks, track.clone(), n),
            None => self.no_track += n,
        }
        let prefixes = tag_prefixes(sev);
        if prefixes.is_empty() {
            self.no_tag += n;
        }
        if !has_under(&prefixes, "system") {
            self.no_system += n;
        }
        if !has_under(&prefixes, "team") {
            self.no_team += n;
        }
        for p in prefixes {
            bump(&mut self.tags, p.to_owned(), n);
        }
        self.detect.entry(sev.level).or_default().add(sev.time_to_detect(), n);
        if let Some(d) = sev.time_to_resolve() {
            self.resolve.entry(sev.level).or_default().add(d, n);
        }
        if let Some(d) = sev.time_to_muster() {
            self.muster.add(d, n);
        }
        if let Some(d) = sev.time_to_acknowledge() {
            self.acknowledge.add(d, n);
        }
        self.detect.retain(|_, d| !d.is_empty());
        self.resolve.retain(|_, d| !d.is_empty());
    }

    pub fn merge(&mut self, other: &Counts) {
        self.sevs += other.sevs;
        self.drills += other.drills;
        merge_into(&mut self.levels, &other.levels);
        merge_into(&mut self.tracks, &other.tracks);
        self.no_track += other.no_track;
        merge_into(&mut self.tags, &other.tags);
        self.no_tag += other.no_tag;
        self.no_system += other.no_system;
        self.no_team += other.no_team;
        for (which, from) in [(&mut self.detect, &other.detect), (&mut self.resolve, &other.resolve)] {
            for (level, d) in from {
                which.entry(*level).or_default().merge(d);
            }
            which.retain(|_, d| !d.is_empty());
        }
        self.muster.merge(&other.muster);
        self.acknowledge.merge(&other.acknowledge);
    }

    fn is_empty(&self) -> bool {
        *self == Counts::default()
    }

    pub fn level(&self, level: Level) -> usize {
        count(self.levels.get(&level).copied().unwrap_or(0))
    }

    /// Every level's detect (or resolve) durations together.
    pub fn all_levels(of: &BTreeMap<Level, Durations>) -> Durations {
        let mut all = Durations::default();
        for d in of.values() {
            all.merge(d);
        }
        all
    }
}

/// One month's tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MonthTally {
    pub public: Counts,
    pub private: Counts,
}

impl MonthTally {
    /// Counts `sev` in (`n` = 1) or out (`n` = -1).
    pub fn add(&mut self, sev: &Sev, n: i64) {
        let kind = if sev.private {
            &mut self.private
        } else {
            &mut self.public
        };
        kind.add(sev, n);
    }

    pub fn merge(&mut self, other: &MonthTally) {
        self.public.merge(&other.public);
        self.private.merge(&other.private);
    }

    pub fn is_empty(&self) -> bool {
        self.public.is_empty() && self.private.is_empty()
    }

    /// What `viewer` may count: public SEVs, and private ones only for viewers who see them.
    pub fn seen_by(&self, viewer: Viewer) -> Counts {
        let mut counts = self.public.clone();
        if viewer.sees_private {
            counts.merge(&self.private);
        }
        counts
    }
}

/// Tallies by month (months without SEVs absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tallies(BTreeMap<Month, MonthTally>);

impl Tallies {
    pub fn new(months: BTreeMap<Month, MonthTally>) -> Tallies {
        Tallies(months)
    }

    /// The tallies of `sevs`, counted from scratch.
    pub fn of(sevs: &[Sev]) -> Tallies {
        let mut t = Tallies::default();
        for sev in sevs {
            t.0.entry(Month::of(sev.started_at)).or_default().add(sev, 1);
        }
        t
    }

    /// What changing a SEV from `before` to `after` (either absent: created, or gone) does to
    /// the tallies, per month touched; months it leaves as they were are absent.
    pub fn change(before: Option<&Sev>, after: Option<&Sev>) -> Tallies {
        let mut t = Tallies::default();
        for (sev, n) in [(before, -1), (after, 1)] {
            if let Some(sev) = sev {
                t.0.entry(Month::of(sev.started_at)).or_default().add(sev, n);
            }
        }
        t.0.retain(|_, tally| !tally.is_empty());
        t
    }

    /// The counts `viewer` may see for `month`; zeros for a month without SEVs.
    pub fn seen_by(&self, month: Month, viewer: Viewer) -> Counts {
        self.0.get(&month).map(|t| t.seen_by(viewer)).unwrap_or_default()
    }

    pub fn months(&self) -> impl Iterator<Item = (&Month, &MonthTally)> {
        self.0.iter()
    }

    pub fn into_months(self) -> BTreeMap<Month, MonthTally> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::sev;

    fn tagged(id: u64, started: &str, tags: &[&str]) -> Sev {
        let mut s = sev(id, started, 3, Some(40), Level::Sev1);
        s.tags = tags.iter().map(|t| t.parse().unwrap()).collect();
        s.product_track = Some("payments".into());
        s
    }

    #[test]
    fn counting_a_sev_in_and_out_leaves_nothing() {
        let s = tagged(1, "2026-07-02T10:00:00Z", &["system/payments/ledger", "team/core"]);
        let mut t = MonthTally::default();
        t.add(&s, 1);
        assert_eq!(t.public.tags["system"], 1);
        assert_eq!(t.public.tags["system/payments/ledger"], 1);
        assert_eq!((t.public.no_system, t.public.no_team, t.public.no_tag), (0, 0, 0));
        t.add(&s, -1);
        assert!(t.is_empty(), "{t:?}");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            serde_json::to_string(&MonthTally::default()).unwrap()
        );
    }

    #[test]
    fn a_change_touches_only_what_changed() {
        let before = tagged(1, "2026-07-02T10:00:00Z", &["system/a"]);
        let mut retitled = before.clone();
        retitled.title = "a better title".into();
        assert_eq!(Tallies::change(Some(&before), Some(&retitled)), Tallies::default());

        let mut moved = before.clone();
        moved.started_at = "2026-06-30T10:00:00Z".parse().unwrap();
        moved.private = true;
        let change = Tallies::change(Some(&before), Some(&moved));
        let months: Vec<String> = change.months().map(|(m, _)| m.to_string()).collect();
        assert_eq!(months, ["2026-06", "2026-07"]);
        let june = change.seen_by("2026-06".parse().unwrap(), Viewer::OPERATOR);
        assert_eq!(june.sevs, 1);
        assert_eq!(change.seen_by("2026-06".parse().unwrap(), Viewer::ANONYMOUS).sevs, 0);
        assert_eq!(change.seen_by("2026-07".parse().unwrap(), Viewer::ANONYMOUS).sevs, -1);
    }

    #[test]
    fn durations_give_exact_means_and_medians() {
        let d = Durations::of([30, 10, 20, 20].map(Duration::minutes));
        let s = d.stats();
        assert_eq!((s.count, s.mean_minutes, s.median_minutes), (4, Some(20.0), Some(20.0)));
        let d = Durations::of([Duration::seconds(1), Duration::seconds(2)]);
        assert_eq!(d.stats().median_minutes, Some(1.5 / 60.0));
        assert_eq!(Durations::default().stats().mean_minutes, None);
    }

    #[test]
    fn drills_count_only_as_drills() {
        let mut drill = tagged(1, "2026-07-02T10:00:00Z", &["system/a"]);
        drill.drill = true;
        let t = Tallies::of(&[drill]);
        let c = t.seen_by("2026-07".parse().unwrap(), Viewer::ANONYMOUS);
        assert_eq!((c.sevs, c.drills, c.tags.len(), c.levels.len()), (0, 1, 0, 0));
    }
}
