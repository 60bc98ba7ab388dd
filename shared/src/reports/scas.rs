//! How corrective actions are getting done.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::{Sca, ScaState};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScaSummary {
    pub total: usize,
    pub done: usize,
    pub open: usize,
    pub wont_do: usize,
    /// Open and past their due date.
    pub overdue: usize,
    /// `done / (done + open)`: an SCA dropped on purpose (won't do) is neither done nor owed.
    /// `None` when nothing is owed.
    pub completion_rate: Option<f64>,
}

pub fn sca_summary<'a>(scas: impl IntoIterator<Item = &'a Sca>, now: DateTime<Utc>) -> ScaSummary {
    let (mut total, mut done, mut open, mut wont_do, mut overdue) = (0, 0, 0, 0, 0);
    for sca in scas {
        total += 1;
        match sca.state {
            ScaState::Open => open += 1,
            ScaState::Done { .. } => done += 1,
            ScaState::WontDo { .. } => wont_do += 1,
        }
        if sca.is_overdue(now) {
            overdue += 1;
        }
    }
    let owed = done + open;
    ScaSummary {
        total,
        done,
        open,
        wont_do,
        overdue,
        completion_rate: (owed > 0).then(|| done as f64 / owed as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, ScaId, ScaSource, SevId};
    use chrono::{Duration, TimeZone};

    fn sca(n: u64, state: ScaState, due_days: Option<i64>, now: DateTime<Utc>) -> Sca {
        let mut s = Sca::new(
            ScaId(n),
            SevId(1),
            "fix it",
            Priority::Must,
            "alice".into(),
            None,
            ScaSource::Api,
            "alice".into(),
            now - Duration::days(30),
        )
        .unwrap();
        s.due = due_days.map(|d| now + Duration::days(d));
        s.state = state;
        s
    }

    #[test]
    fn completion_rate_leaves_dropped_scas_out_and_overdue_counts_open_ones() {
        let now = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        let scas = [
            sca(1, ScaState::Done { at: now }, Some(-5), now),
            sca(2, ScaState::Open, Some(-1), now),
            sca(3, ScaState::Open, Some(3), now),
            sca(4, ScaState::Open, None, now),
            sca(
                5,
                ScaState::WontDo {
                    reason: "moot".into(),
                    at: now,
                },
                Some(-9),
                now,
            ),
        ];
        let s = sca_summary(&scas, now);
        assert_eq!((s.total, s.done, s.open, s.wont_do, s.overdue), (5, 1, 3, 1, 1));
        assert_eq!(s.completion_rate, Some(0.25));
        assert_eq!(sca_summary(&[], now).completion_rate, None);
    }
}
