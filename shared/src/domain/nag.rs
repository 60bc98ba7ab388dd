//! When to remind people of an open SCA: the nag ladder and the hours it must avoid. Pure.

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::Sca;

/// One rung of the ladder. Each rung reaches further: the owner, then the SEV's channel, then
/// the coordinator, until the SCA is done or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NagStep {
    /// A few days before the due date: the owner.
    Before,
    /// On the due date: the owner.
    Due,
    /// The day after: the owner and the SEV's response channel.
    Overdue,
    /// After the grace period, and again every repeat period: also the coordinator.
    Escalate,
}

impl NagStep {
    pub const ALL: [NagStep; 4] = [NagStep::Before, NagStep::Due, NagStep::Overdue, NagStep::Escalate];

    pub fn as_str(self) -> &'static str {
        match self {
            NagStep::Before => "before",
            NagStep::Due => "due",
            NagStep::Overdue => "overdue",
            NagStep::Escalate => "escalate",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NagPolicy {
    pub before: Duration,
    pub overdue_after: Duration,
    pub grace: Duration,
    pub repeat: Duration,
    /// Local hours when nobody is nagged: from `quiet_from` to `quiet_until` (overnight).
    pub quiet_from: u32,
    pub quiet_until: u32,
    pub skip_weekends: bool,
}

impl Default for NagPolicy {
    fn default() -> Self {
        NagPolicy {
            before: Duration::days(3),
            overdue_after: Duration::days(1),
            grace: Duration::days(7),
            repeat: Duration::days(7),
            quiet_from: 20,
            quiet_until: 8,
            skip_weekends: true,
        }
    }
}

impl NagPolicy {
    fn quiet(&self, hour: u32) -> bool {
        if self.quiet_from > self.quiet_until {
            hour >= self.quiet_from || hour < self.quiet_until
        } else {
            hour >= self.quiet_from && hour < self.quiet_until
        }
    }

    /// The first moment at or after `at` that is neither in quiet hours nor on a weekend, in the
    /// owner's time zone (`offset` east of UTC).
    pub fn next_waking(&self, at: DateTime<Utc>, offset: FixedOffset) -> DateTime<Utc> {
        let mut local = at.with_timezone(&offset);
        // At most a weekend plus a night: a bounded walk, an hour at a time after the first jump.
        for _ in 0..(24 * 4) {
            let weekend = self.skip_weekends && matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
            let asleep = weekend || self.quiet(local.hour());
            if !asleep {
                return local.with_timezone(&Utc);
            }
            // Stored times may predate the bounds of `Timestamp`: at chrono's edge, stop walking.
            let Some(next_hour) = local.checked_add_signed(Duration::hours(1)) else {
                break;
            };
            local = offset
                .with_ymd_and_hms(
                    next_hour.year(),
                    next_hour.month(),
                    next_hour.day(),
                    next_hour.hour(),
                    0,
                    0,
                )
                .single()
                .unwrap_or(next_hour);
        }
        local.with_timezone(&Utc)
    }

    /// The nags still to come for `sca` after `now`, each moved out of quiet hours. The
    /// escalation is the next one due, repeating every `repeat` while the SCA stays open.
    ///
    /// Every step is checked arithmetic: a due date read from storage is not bounded the way
    /// input is, and a rung that would fall outside chrono's range is simply not planned.
    pub fn ladder(&self, sca: &Sca, now: DateTime<Utc>, offset: FixedOffset) -> Vec<(NagStep, DateTime<Utc>)> {
        let Some(due) = sca.due.filter(|_| sca.is_open()) else {
            return Vec::new();
        };
        [
            (NagStep::Before, due.checked_sub_signed(self.before)),
            (NagStep::Due, Some(due)),
            (NagStep::Overdue, due.checked_add_signed(self.overdue_after)),
            (NagStep::Escalate, self.escalation(due, now)),
        ]
        .into_iter()
        .filter_map(|(step, at)| Some((step, self.next_waking(at?, offset))))
        .filter(|(_, at)| *at > now)
        .collect()
    }

    /// The first escalation after `now`: `grace` after the due date, then every `repeat`.
    fn escalation(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let first = due.checked_add_signed(self.grace)?;
        if first > now {
            return Some(first);
        }
        let periods = (now - first).num_seconds() / self.repeat.num_seconds().max(1) + 1;
        let step = self.repeat.checked_mul(i32::try_from(periods).ok()?)?;
        first.checked_add_signed(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, ScaId, ScaSource, SevId};

    fn utc(d: u32, h: u32) -> DateTime<Utc> {
        // November 2026: the 2nd is a Monday.
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    fn sca(due: DateTime<Utc>) -> Sca {
        Sca::new(
            ScaId(1),
            SevId(1),
            "fix",
            Priority::Must,
            "U1".into(),
            Some(due),
            ScaSource::Api,
            "U1".into(),
            utc(1, 9),
        )
        .unwrap()
    }

    #[test]
    fn the_ladder_runs_before_due_overdue_then_escalates() {
        let p = NagPolicy::default();
        let s = sca(utc(18, 10)); // a Wednesday, mid-morning
        let steps = p.ladder(&s, utc(2, 9), FixedOffset::east_opt(0).unwrap());
        assert_eq!(
            steps,
            [
                // Three days before is Sunday the 15th: moved to Monday morning.
                (NagStep::Before, utc(16, 8)),
                (NagStep::Due, utc(18, 10)),
                (NagStep::Overdue, utc(19, 10)),
                (NagStep::Escalate, utc(25, 10)),
            ]
        );
    }

    #[test]
    fn past_rungs_are_dropped_and_escalation_repeats() {
        let p = NagPolicy::default();
        let s = sca(utc(4, 10));
        let steps = p.ladder(&s, utc(12, 11), FixedOffset::east_opt(0).unwrap());
        assert_eq!(
            steps,
            [(NagStep::Escalate, utc(18, 10))],
            "the escalation after the one on the 11th"
        );
    }

    #[test]
    fn quiet_hours_and_weekends_are_skipped_in_the_owners_time_zone() {
        let p = NagPolicy::default();
        let utc0 = FixedOffset::east_opt(0).unwrap();
        assert_eq!(p.next_waking(utc(3, 22), utc0), utc(4, 8), "22:00 waits for 08:00");
        assert_eq!(
            p.next_waking(utc(7, 12), utc0),
            utc(9, 8),
            "Saturday waits for Monday morning"
        );
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
        // 02:00 UTC on Tuesday is 11:00 in Tokyo: awake there.
        assert_eq!(p.next_waking(utc(3, 2), tokyo), utc(3, 2));
        // 14:00 UTC is 23:00 in Tokyo: wait until 08:00 there, 23:00 UTC.
        assert_eq!(p.next_waking(utc(3, 14), tokyo), utc(3, 23));
    }

    #[test]
    fn due_dates_at_the_edges_of_time_plan_what_fits_and_never_panic() {
        let p = NagPolicy::default();
        let utc0 = FixedOffset::east_opt(0).unwrap();
        for due in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let mut s = sca(utc(18, 10));
            s.due = Some(due);
            for now in [DateTime::<Utc>::MIN_UTC, utc(2, 9), DateTime::<Utc>::MAX_UTC] {
                for (_, at) in p.ladder(&s, now, utc0) {
                    assert!(at > now);
                }
            }
        }
        assert_eq!(p.next_waking(DateTime::<Utc>::MAX_UTC, utc0), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn closed_or_undated_scas_are_not_nagged() {
        let p = NagPolicy::default();
        let mut s = sca(utc(18, 10));
        s.due = None;
        assert!(p.ladder(&s, utc(2, 9), FixedOffset::east_opt(0).unwrap()).is_empty());
        s.due = Some(utc(18, 10));
        s.state = crate::domain::ScaState::Done { at: utc(3, 9) };
        assert!(p.ladder(&s, utc(2, 9), FixedOffset::east_opt(0).unwrap()).is_empty());
    }
}
