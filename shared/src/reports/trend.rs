//! "Is the SEV1 count declining over the last 3 months?": the monthly series of one level and its
//! least-squares slope, with the verdict in plain words.

use serde::Serialize;

use super::{Month, MonthRange, Tallies, Viewer};
use crate::domain::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Declining,
    Rising,
    Flat,
    /// One month is not a trend.
    NotEnoughData,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthCount {
    pub month: Month,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub level: Level,
    pub months: Vec<MonthCount>,
    /// Least-squares slope of the counts, in SEVs per month.
    pub slope_per_month: Option<f64>,
    pub verdict: Verdict,
    pub answer: String,
}

/// Least-squares slope of `ys` against `0, 1, 2, ...`.
pub fn slope(ys: &[f64]) -> Option<f64> {
    let n = ys.len();
    if n < 2 {
        return None;
    }
    let mean_x = (n - 1) as f64 / 2.0;
    let mean_y = ys.iter().sum::<f64>() / n as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, y) in ys.iter().enumerate() {
        let dx = x as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    Some(num / den)
}

/// The counts of `level` (its current level) per month of `range`, and whether they fall. The fitted
/// change over the whole range must reach one SEV and a tenth of the mean before it is called a
/// trend, so that noise of a single SEV is "flat".
pub fn trend(tallies: &Tallies, level: Level, range: MonthRange, viewer: Viewer) -> Trend {
    let months: Vec<MonthCount> = range
        .iter()
        .map(|month| MonthCount {
            month,
            count: tallies.seen_by(month, viewer).level(level),
        })
        .collect();
    let ys: Vec<f64> = months.iter().map(|m| m.count as f64).collect();
    let slope_per_month = slope(&ys);
    let verdict = match slope_per_month {
        None => Verdict::NotEnoughData,
        Some(s) => {
            let change = s * (ys.len() - 1) as f64;
            let mean = ys.iter().sum::<f64>() / ys.len() as f64;
            if change.abs() < f64::max(1.0, mean / 10.0) {
                Verdict::Flat
            } else if change < 0.0 {
                Verdict::Declining
            } else {
                Verdict::Rising
            }
        }
    };
    let answer = words(level, &months, slope_per_month, verdict);
    Trend {
        level,
        months,
        slope_per_month,
        verdict,
        answer,
    }
}

fn words(level: Level, months: &[MonthCount], slope: Option<f64>, verdict: Verdict) -> String {
    let series = months
        .iter()
        .map(|m| format!("{} in {}", m.count, m.month))
        .collect::<Vec<_>>()
        .join(", ");
    let fit = slope.map_or_else(String::new, |s| format!(" (least-squares trend {s:+.2} per month)"));
    match verdict {
        Verdict::Declining => format!("Yes, the {level} count is declining: {series}{fit}."),
        Verdict::Rising => format!("No, the {level} count is rising: {series}{fit}."),
        Verdict::Flat => format!("No, the {level} count is about flat: {series}{fit}."),
        Verdict::NotEnoughData => format!("One month is not a trend: {series}; ask for two months or more."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Sev;
    use crate::reports::testing::sev;

    fn trend(sevs: &[Sev], level: Level, range: MonthRange, viewer: Viewer) -> Trend {
        super::trend(&Tallies::of(sevs), level, range, viewer)
    }

    fn history(counts: &[(&str, usize)]) -> Vec<Sev> {
        let mut id = 0;
        let mut out = Vec::new();
        for (month, n) in counts {
            for _ in 0..*n {
                id += 1;
                out.push(sev(id, &format!("{month}-10T00:00:00Z"), 1, None, Level::Sev1));
                out.push(sev(id + 10_000, &format!("{month}-10T00:00:00Z"), 1, None, Level::Sev2));
            }
        }
        out
    }

    fn range(a: &str, b: &str) -> MonthRange {
        MonthRange::new(a.parse().unwrap(), b.parse().unwrap()).unwrap()
    }

    #[test]
    fn least_squares_slope() {
        assert_eq!(slope(&[12.0, 9.0, 5.0]), Some(-3.5));
        assert_eq!(slope(&[1.0, 1.0]), Some(0.0));
        assert_eq!(slope(&[4.0]), None);
    }

    #[test]
    fn a_falling_sev1_count_is_declining() {
        let sevs = history(&[("2026-08", 12), ("2026-09", 9), ("2026-10", 5)]);
        let t = trend(&sevs, Level::Sev1, range("2026-08", "2026-10"), Viewer::ANONYMOUS);
        assert_eq!(t.months.iter().map(|m| m.count).collect::<Vec<_>>(), [12, 9, 5]);
        assert_eq!((t.verdict, t.slope_per_month), (Verdict::Declining, Some(-3.5)));
        assert_eq!(
            t.answer,
            "Yes, the SEV1 count is declining: 12 in 2026-08, 9 in 2026-09, 5 in 2026-10 (least-squares trend -3.50 per month)."
        );
    }

    #[test]
    fn rising_flat_and_too_short() {
        let up = history(&[("2026-08", 1), ("2026-09", 3), ("2026-10", 4)]);
        assert_eq!(
            trend(&up, Level::Sev1, range("2026-08", "2026-10"), Viewer::ANONYMOUS).verdict,
            Verdict::Rising
        );
        let flat = history(&[("2026-08", 20), ("2026-09", 21), ("2026-10", 20)]);
        assert_eq!(
            trend(&flat, Level::Sev1, range("2026-08", "2026-10"), Viewer::ANONYMOUS).verdict,
            Verdict::Flat
        );
        let one = trend(&flat, Level::Sev1, range("2026-09", "2026-09"), Viewer::ANONYMOUS);
        assert_eq!(one.verdict, Verdict::NotEnoughData);
    }
}
