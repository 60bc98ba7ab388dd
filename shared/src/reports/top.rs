//! "Which product track had the most SEVs in July?", "which systems cause the most SEVs?": SEVs
//! ranked by one of their dimensions.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;

use super::tally::count;
use super::{Counts, MonthRange, Tallies, Viewer};
use crate::domain::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    ProductTrack,
    /// Every tag and every prefix of one (`root-cause`, `root-cause/deploy`, ...).
    Tag,
    /// Tags under `system/`, at every depth (`system/payments`, `system/payments/ledger`).
    System,
    /// Tags under `team/` (alert rules record the team that way).
    Team,
}

impl FromStr for Dimension {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "product_track" => Ok(Dimension::ProductTrack),
            "tag" => Ok(Dimension::Tag),
            "system" => Ok(Dimension::System),
            "team" => Ok(Dimension::Team),
            other => Err(DomainError::invalid(
                "dimension",
                format!("`{other}` is not a dimension; use product_track, tag, system or team"),
            )),
        }
    }
}

impl Dimension {
    fn noun(self) -> &'static str {
        match self {
            Dimension::ProductTrack => "product track",
            Dimension::Tag => "tag",
            Dimension::System => "system",
            Dimension::Team => "team",
        }
    }

    /// The groups of this dimension in `c` with their counts, and how many SEVs are in none.
    fn groups(self, c: &Counts) -> (BTreeMap<String, i64>, i64) {
        let under = |root: &str| -> BTreeMap<String, i64> {
            let prefix = format!("{root}/");
            c.tags
                .iter()
                .filter_map(|(tag, n)| tag.strip_prefix(&prefix).map(|key| (key.to_owned(), *n)))
                .collect()
        };
        match self {
            Dimension::ProductTrack => (c.tracks.clone(), c.no_track),
            Dimension::Tag => (c.tags.clone(), c.no_tag),
            Dimension::System => (under("system"), c.no_system),
            Dimension::Team => (under("team"), c.no_team),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub key: String,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopAnswer {
    pub dimension: Dimension,
    pub since: super::Month,
    pub until: super::Month,
    /// Counted SEVs in the range.
    pub total: usize,
    /// Counted SEVs with no value in this dimension (no product track, no `system/` tag, ...).
    pub without: usize,
    /// Most SEVs first; ties by name.
    pub top: Vec<Ranked>,
    /// The answer in words.
    pub answer: String,
}

/// Ranks the counted SEVs that started in `range` by `dimension`, keeping the first `limit`.
pub fn top(tallies: &Tallies, dimension: Dimension, range: MonthRange, viewer: Viewer, limit: usize) -> TopAnswer {
    let mut all = Counts::default();
    for month in range.iter() {
        all.merge(&tallies.seen_by(month, viewer));
    }
    let (groups, without) = dimension.groups(&all);
    let total = count(all.sevs);
    let mut ranked: Vec<Ranked> = groups
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| Ranked { key, count: count(n) })
        .collect();
    // Stable sort over name order keeps ties alphabetical.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.count));
    let answer = words(dimension, range, total, &ranked);
    ranked.truncate(limit);
    TopAnswer {
        dimension,
        since: range.first,
        until: range.last,
        total,
        without: count(without),
        top: ranked,
        answer,
    }
}

fn words(dimension: Dimension, range: MonthRange, total: usize, ranked: &[Ranked]) -> String {
    let noun = dimension.noun();
    let Some(first) = ranked.first() else {
        return format!("No SEV in {range} has a {noun}.");
    };
    let leaders: Vec<&str> = ranked
        .iter()
        .take_while(|r| r.count == first.count)
        .map(|r| r.key.as_str())
        .collect();
    let sevs = if first.count == 1 { "SEV" } else { "SEVs" };
    match leaders.as_slice() {
        [one] => format!(
            "The {noun} with the most SEVs in {range} is {one}: {} {sevs} of {total}.",
            first.count
        ),
        many => format!(
            "{} {noun}s tie for the most SEVs in {range}, {} {sevs} each of {total}: {}.",
            many.len(),
            first.count,
            many.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Level;
    use crate::domain::Sev;
    use crate::reports::testing::sev;

    fn top(sevs: &[Sev], dimension: Dimension, range: MonthRange, viewer: Viewer, limit: usize) -> TopAnswer {
        super::top(&Tallies::of(sevs), dimension, range, viewer, limit)
    }

    fn with(id: u64, started: &str, track: Option<&str>, tags: &[&str]) -> Sev {
        let mut s = sev(id, started, 1, None, Level::Sev2);
        s.product_track = track.map(str::to_owned);
        s.tags = tags.iter().map(|t| t.parse().unwrap()).collect();
        s
    }

    fn july() -> MonthRange {
        let m = "2026-07".parse().unwrap();
        MonthRange::new(m, m).unwrap()
    }

    #[test]
    fn the_product_track_with_the_most_sevs_in_july() {
        let sevs = [
            with(1, "2026-07-01T00:00:00Z", Some("payments"), &[]),
            with(2, "2026-07-31T23:59:59Z", Some("payments"), &[]),
            with(3, "2026-07-10T00:00:00Z", Some("search"), &[]),
            with(4, "2026-08-01T00:00:00Z", Some("search"), &[]),
            with(5, "2026-06-30T23:59:59Z", Some("search"), &[]),
            with(6, "2026-07-10T00:00:00Z", None, &[]),
        ];
        let a = top(&sevs, Dimension::ProductTrack, july(), Viewer::ANONYMOUS, 10);
        assert_eq!((a.total, a.without), (4, 1));
        assert_eq!(
            a.top[0],
            Ranked {
                key: "payments".into(),
                count: 2
            }
        );
        assert_eq!(
            a.answer,
            "The product track with the most SEVs in 2026-07 is payments: 2 SEVs of 4."
        );
    }

    #[test]
    fn systems_count_a_sev_once_per_system_at_every_depth() {
        let sevs = [
            with(
                1,
                "2026-07-01T00:00:00Z",
                None,
                &["system/payments/ledger", "system/payments/api"],
            ),
            with(2, "2026-07-02T00:00:00Z", None, &["system/search", "root-cause/deploy"]),
            with(3, "2026-07-03T00:00:00Z", None, &["system/search"]),
        ];
        let a = top(&sevs, Dimension::System, july(), Viewer::ANONYMOUS, 2);
        assert_eq!(
            a.top,
            [
                Ranked {
                    key: "payments".into(),
                    count: 1
                },
                Ranked {
                    key: "search".into(),
                    count: 2
                }
            ]
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
        );
        let tags = top(&sevs, Dimension::Tag, july(), Viewer::ANONYMOUS, 100);
        let system = tags.top.iter().find(|r| r.key == "system").unwrap();
        assert_eq!(system.count, 3);
    }

    #[test]
    fn ties_are_named_together() {
        let sevs = [
            with(1, "2026-07-01T00:00:00Z", Some("b"), &[]),
            with(2, "2026-07-01T00:00:00Z", Some("a"), &[]),
        ];
        let a = top(&sevs, Dimension::ProductTrack, july(), Viewer::ANONYMOUS, 10);
        assert_eq!(
            a.answer,
            "2 product tracks tie for the most SEVs in 2026-07, 1 SEV each of 2: a, b."
        );
        assert!(
            top(&[], Dimension::Team, july(), Viewer::ANONYMOUS, 5)
                .answer
                .starts_with("No SEV")
        );
        assert!("color".parse::<Dimension>().is_err());
    }
}
