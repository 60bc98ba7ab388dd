//! Counts and response times per month, by the month each SEV started.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tally::count;
use super::{Counts, Durations, Month, MonthRange, Tallies, TimeStats, Viewer};
use crate::domain::Level;

/// Time to detect and to resolve of one level's SEVs in one month.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelTimes {
    pub detect: TimeStats,
    pub resolve: TimeStats,
}

/// One month of `GET /api/reports/monthly`. The first six fields are the public contract; the
/// rest add to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthRow {
    pub month: Month,
    /// SEVs that started this month, drills and (for most viewers) private SEVs left out.
    pub total: usize,
    /// Every level, zeros included.
    pub by_level: BTreeMap<Level, usize>,
    /// SEVs without a product track are under `"unassigned"`.
    pub by_product_track: BTreeMap<String, usize>,
    /// Mean time to detect, over every counted SEV of the month.
    pub mttd_minutes: Option<f64>,
    /// Mean time to resolve, over the counted SEVs of the month that are resolved.
    pub mttr_minutes: Option<f64>,
    pub mttd_median_minutes: Option<f64>,
    pub mttr_median_minutes: Option<f64>,
    /// Time to muster: from declaration until everyone paged had joined, over the month's SEVs
    /// that paged people and saw them all join.
    pub mttm_minutes: Option<f64>,
    pub mttm_median_minutes: Option<f64>,
    pub mustered: usize,
    /// Mean and median time to acknowledge, over the month's SEVs whose pages someone
    /// acknowledged in the pager (`acknowledged` of them).
    pub mtta_minutes: Option<f64>,
    pub mtta_median_minutes: Option<f64>,
    pub acknowledged: usize,
    /// Resolved SEVs the time to resolve is over (the rest are still going).
    pub resolved: usize,
    pub times_by_level: BTreeMap<Level, LevelTimes>,
    /// Drills started this month (visible to the viewer), counted nowhere else.
    pub drills: usize,
}

pub const UNASSIGNED: &str = "unassigned";

/// One row per month of `range`, months without SEVs included as zeros.
pub fn monthly(tallies: &Tallies, range: MonthRange, viewer: Viewer) -> Vec<MonthRow> {
    range
        .iter()
        .map(|month| row(month, &tallies.seen_by(month, viewer)))
        .collect()
}

fn row(month: Month, c: &Counts) -> MonthRow {
    let by_level = Level::ALL.iter().map(|l| (*l, c.level(*l))).collect();
    let mut by_product_track: BTreeMap<String, usize> = BTreeMap::new();
    for (track, n) in c
        .tracks
        .iter()
        .map(|(t, n)| (t.as_str(), *n))
        .chain([(UNASSIGNED, c.no_track)])
    {
        if n > 0 {
            *by_product_track.entry(track.to_owned()).or_default() += count(n);
        }
    }
    let detect = Counts::all_levels(&c.detect).stats();
    let resolve = Counts::all_levels(&c.resolve).stats();
    let muster = c.muster.stats();
    let acknowledge = c.acknowledge.stats();
    let times_by_level = Level::ALL
        .iter()
        .map(|level| {
            let of = |m: &BTreeMap<Level, Durations>| m.get(level).cloned().unwrap_or_default().stats();
            let times = LevelTimes {
                detect: of(&c.detect),
                resolve: of(&c.resolve),
            };
            (*level, times)
        })
        .collect();
    MonthRow {
        month,
        total: count(c.sevs),
        by_level,
        by_product_track,
        mttd_minutes: detect.mean_minutes,
        mttr_minutes: resolve.mean_minutes,
        mttd_median_minutes: detect.median_minutes,
        mttr_median_minutes: resolve.median_minutes,
        mttm_minutes: muster.mean_minutes,
        mttm_median_minutes: muster.median_minutes,
        mustered: muster.count,
        mtta_minutes: acknowledge.mean_minutes,
        mtta_median_minutes: acknowledge.median_minutes,
        acknowledged: acknowledge.count,
        resolved: resolve.count,
        times_by_level,
        drills: count(c.drills),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Sev;
    use crate::reports::testing::sev;

    fn monthly(sevs: &[Sev], range: MonthRange, viewer: Viewer) -> Vec<MonthRow> {
        super::monthly(&Tallies::of(sevs), range, viewer)
    }

    fn range(a: &str, b: &str) -> MonthRange {
        MonthRange::new(a.parse().unwrap(), b.parse().unwrap()).unwrap()
    }

    #[test]
    fn every_month_is_present_with_zeros() {
        let rows = monthly(&[], range("2026-06", "2026-08"), Viewer::ANONYMOUS);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.total == 0 && r.mttd_minutes.is_none()));
        assert_eq!(rows[0].by_level.len(), 4);
        let json = serde_json::to_value(&rows[1]).unwrap();
        assert_eq!(json["month"], "2026-07");
        assert_eq!(json["by_level"]["SEV0"], 0);
    }

    #[test]
    fn drills_and_private_sevs_are_kept_out_of_the_counts() {
        let mut drill = sev(1, "2026-07-02T10:00:00Z", 5, Some(60), Level::Sev1);
        drill.drill = true;
        let mut private = sev(2, "2026-07-03T10:00:00Z", 5, Some(60), Level::Sev1);
        private.private = true;
        let public = sev(3, "2026-07-04T10:00:00Z", 10, None, Level::Sev2);
        let all = [drill, private, public];
        let anon = &monthly(&all, range("2026-07", "2026-07"), Viewer::ANONYMOUS)[0];
        assert_eq!((anon.total, anon.drills, anon.resolved), (1, 1, 0));
        assert_eq!(anon.mttd_minutes, Some(10.0));
        assert_eq!(anon.mttr_minutes, None, "the only counted SEV is unresolved");
        let op = &monthly(&all, range("2026-07", "2026-07"), Viewer::OPERATOR)[0];
        assert_eq!((op.total, op.by_level[&Level::Sev1]), (2, 1));
        assert_eq!(op.mttd_minutes, Some(7.5));
        assert_eq!(op.mttr_minutes, Some(60.0));
        assert_eq!((op.mttm_minutes, op.mustered), (None, 0), "nobody was paged");
        assert_eq!(op.by_product_track[UNASSIGNED], 2);
    }

    #[test]
    fn time_to_acknowledge_is_over_the_sevs_someone_acknowledged() {
        let acked = |id, minutes: i64| {
            let mut s = sev(id, "2026-07-02T10:00:00Z", 0, None, Level::Sev1);
            s.acknowledged_at = Some(s.declared_at + chrono::Duration::minutes(minutes));
            s
        };
        let all = [
            acked(1, 2),
            acked(2, 4),
            acked(3, 12),
            sev(4, "2026-07-05T10:00:00Z", 0, None, Level::Sev2),
        ];
        let row = &monthly(&all, range("2026-07", "2026-07"), Viewer::ANONYMOUS)[0];
        assert_eq!(
            (row.mtta_minutes, row.mtta_median_minutes, row.acknowledged),
            (Some(6.0), Some(4.0), 3)
        );
        let json = serde_json::to_value(row).unwrap();
        assert_eq!(
            (json["mtta_minutes"].as_f64(), json["acknowledged"].as_u64()),
            (Some(6.0), Some(3))
        );
        let none = &monthly(&all[3..], range("2026-07", "2026-07"), Viewer::ANONYMOUS)[0];
        assert_eq!((none.mtta_minutes, none.acknowledged), (None, 0));
    }
}
