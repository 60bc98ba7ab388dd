//! Calendar months in UTC, the unit every trend report is bucketed by (the month a SEV started,
//! which is also how the month index partitions SEVs).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Serialize, Serializer};

use crate::domain::{DomainError, FIRST_YEAR, LAST_YEAR};

/// The most months one report covers: ten years, enough for any review and small enough that
/// a typo such as `since=0001-01` is refused rather than read month by month.
pub const MAX_MONTHS: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    /// Months of the years a [`crate::domain::Timestamp`] allows.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((FIRST_YEAR..=LAST_YEAR).contains(&year) && (1..=12).contains(&month)).then_some(Month { year, month })
    }

    /// The month of `t`, held to the first or last month allowed: stored times are not bounded
    /// the way input is, and a month outside them would walk off chrono's calendar.
    pub fn of(t: DateTime<Utc>) -> Month {
        match t.year() {
            y if y < FIRST_YEAR => Month {
                year: FIRST_YEAR,
                month: 1,
            },
            y if y > LAST_YEAR => Month {
                year: LAST_YEAR,
                month: 12,
            },
            year => Month { year, month: t.month() },
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    /// Midnight UTC on the first day of the month.
    pub fn start(self) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc())
            .unwrap_or_else(|| unreachable!("Month::new keeps year and month valid"))
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    pub fn prev(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    /// This month and the `n - 1` before it, oldest first.
    pub fn last(self, n: usize) -> MonthRange {
        let mut first = self;
        for _ in 1..n {
            first = first.prev();
        }
        MonthRange { first, last: self }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || DomainError::invalid("month", format!("`{t}` is not a month; write months like 2026-07"));
        let (y, m) = t.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let month = m.parse().map_err(|_| bad())?;
        Month::new(year, month).ok_or_else(bad)
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Months `first..=last`, checked to be in order and at most [`MAX_MONTHS`] long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub first: Month,
    pub last: Month,
}

impl MonthRange {
    pub fn new(first: Month, last: Month) -> Result<MonthRange, DomainError> {
        if last < first {
            return Err(DomainError::invalid(
                "until",
                format!("{last} is before since ({first}); until is the last month to include"),
            ));
        }
        let range = MonthRange { first, last };
        if range.iter().nth(MAX_MONTHS).is_some() {
            return Err(DomainError::invalid(
                "since",
                format!("the range {first}..{last} is longer than {MAX_MONTHS} months; ask for less"),
            ));
        }
        Ok(range)
    }

    pub fn iter(self) -> impl Iterator<Item = Month> {
        std::iter::successors(Some(self.first), move |m| Some(m.next()).filter(|n| *n <= self.last))
    }

    /// The instants the range covers: `[start of first, start of the month after last)`.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.first.start(), self.last.next().start())
    }

    pub fn contains(self, m: Month) -> bool {
        self.first <= m && m <= self.last
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{} to {}", self.first, self.last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn m(s: &str) -> Month {
        s.parse().unwrap()
    }

    #[test]
    fn parses_prints_and_steps_across_years() {
        assert_eq!(m("2026-12").next(), m("2027-01"));
        assert_eq!(m("2026-01").prev(), m("2025-12"));
        assert_eq!(m(" 2026-07 ").to_string(), "2026-07");
        for bad in ["2026-13", "2026-7", "26-07", "2026/07", "", "2026-00"] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_month_starts_at_utc_midnight_on_the_first() {
        assert_eq!(m("2026-03").start(), Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
        assert_eq!(
            Month::of(Utc.with_ymd_and_hms(2026, 3, 31, 23, 59, 59).unwrap()),
            m("2026-03")
        );
    }

    #[test]
    fn ranges_are_inclusive_ordered_and_bounded() {
        let r = MonthRange::new(m("2025-11"), m("2026-02")).unwrap();
        let months: Vec<String> = r.iter().map(|x| x.to_string()).collect();
        assert_eq!(months, ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert_eq!(r.bounds().1, m("2026-03").start());
        assert!(MonthRange::new(m("2026-02"), m("2026-01")).is_err());
        assert!(MonthRange::new(m("2000-01"), m("2009-12")).is_ok());
        assert!(MonthRange::new(m("2000-01"), m("2010-01")).is_err());
        assert_eq!(m("2026-02").last(3).first, m("2025-12"));
    }
}
