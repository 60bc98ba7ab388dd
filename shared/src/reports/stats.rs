//! Mean and median of durations, in minutes as the reports show them.

use chrono::Duration;
use serde::Serialize;

/// The mean and median of some durations, `None` when there were none to average.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TimeStats {
    pub count: usize,
    pub mean_minutes: Option<f64>,
    pub median_minutes: Option<f64>,
}

impl TimeStats {
    /// The same figures a month tally gives for these durations (`Durations::stats`).
    pub fn of(durations: impl IntoIterator<Item = Duration>) -> TimeStats {
        super::tally::Durations::of(durations).stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mins(v: &[i64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::minutes(*m)).collect()
    }

    #[test]
    fn mean_and_median_of_odd_and_even_counts() {
        let s = TimeStats::of(mins(&[30, 10, 20]));
        assert_eq!((s.count, s.mean_minutes, s.median_minutes), (3, Some(20.0), Some(20.0)));
        let s = TimeStats::of(mins(&[1, 100, 3, 4]));
        assert_eq!((s.mean_minutes, s.median_minutes), (Some(27.0), Some(3.5)));
    }

    #[test]
    fn nothing_to_average_is_none_not_zero() {
        let s = TimeStats::of(Vec::new());
        assert_eq!((s.count, s.mean_minutes, s.median_minutes), (0, None, None));
    }
}
