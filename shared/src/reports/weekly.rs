//! The weekly SEV review digest: the week's SEVs by level, the reports still owed, overdue SCAs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Viewer;
use crate::domain::{
    Actor, DomainError, FIRST_YEAR, LAST_YEAR, Level, Report, ReportPolicy, Sca, ScaId, Sev, SevId, Status, Timestamp,
};

/// An ISO week, `2026-W47`: Monday 00:00 UTC to the next Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoWeek {
    monday: NaiveDate,
}

impl IsoWeek {
    /// The week of `t`, held to the weeks [`IsoWeek::new`] allows (stored times are not
    /// bounded the way input is).
    pub fn of(t: DateTime<Utc>) -> IsoWeek {
        let t = t.clamp(Timestamp::earliest().get(), Timestamp::latest().get());
        let w = t.date_naive().iso_week();
        IsoWeek::new(w.year(), w.week()).unwrap_or_else(|| unreachable!("a bounded date's own ISO week exists"))
    }

    /// Weeks of the ISO years a [`Timestamp`] allows, so `prev` and `next` stay far inside
    /// chrono's calendar.
    pub fn new(year: i32, week: u32) -> Option<IsoWeek> {
        if !(FIRST_YEAR - 1..=LAST_YEAR + 1).contains(&year) {
            return None;
        }
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|monday| IsoWeek { monday })
    }

    pub fn prev(self) -> IsoWeek {
        IsoWeek {
            monday: self.monday - Duration::days(7),
        }
    }

    pub fn next(self) -> IsoWeek {
        IsoWeek {
            monday: self.monday + Duration::days(7),
        }
    }

    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = self
            .monday
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(|| unreachable!("midnight exists"));
        (start, start + Duration::days(7))
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.monday.iso_week();
        write!(f, "{}-W{:02}", w.year(), w.week())
    }
}

impl FromStr for IsoWeek {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let bad = || DomainError::invalid("week", format!("`{t}` is not an ISO week; write weeks like 2026-W07"));
        let (y, w) = t.split_once("-W").ok_or_else(bad)?;
        if y.len() != 4 || w.len() != 2 {
            return Err(bad());
        }
        let (year, week) = (y.parse().map_err(|_| bad())?, w.parse().map_err(|_| bad())?);
        IsoWeek::new(year, week).ok_or_else(bad)
    }
}

impl<'de> Deserialize<'de> for IsoWeek {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for IsoWeek {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SevLine {
    pub id: SevId,
    pub title: String,
    pub level: Level,
    pub status: Status,
    pub report_owner: Option<Actor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueSca {
    pub id: ScaId,
    pub sev: SevId,
    pub text: String,
    pub owner: Actor,
    pub due: Option<DateTime<Utc>>,
}

/// A report marked complete this week: ready for the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    pub sev: SevId,
    pub title: String,
    pub level: Level,
    pub owner: Actor,
    pub completed_at: DateTime<Utc>,
}

/// A resolved SEV whose report is past due and not complete (or has no owner at all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueReport {
    pub sev: SevId,
    pub title: String,
    pub level: Level,
    pub owner: Option<Actor>,
    pub due: DateTime<Utc>,
}

/// What the digest is computed from; the service reads it through the indexes.
pub struct WeeklyInput<'a> {
    pub week: IsoWeek,
    /// SEVs started in the week.
    pub sevs: &'a [Sev],
    /// Open SCAs past due, with whether their SEV is private.
    pub overdue_scas: &'a [(Sca, bool)],
    /// Reports completed in the week, with their SEV.
    pub completed: &'a [(Report, Sev)],
    /// Resolved SEVs of the last months, with their report if one is stored.
    pub resolved: &'a [(Sev, Option<Report>)],
    pub policy: &'a ReportPolicy,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Weekly {
    pub week: IsoWeek,
    /// SEVs started this week, worst level first; drills apart.
    pub by_level: BTreeMap<Level, Vec<SevLine>>,
    pub drills: Vec<SevLine>,
    /// Resolved or closed SEVs of the week with nobody owning their report yet.
    pub reports_without_owner: Vec<SevId>,
    /// Every overdue SCA the viewer may see, whenever its SEV was.
    pub overdue_scas: Vec<OverdueSca>,
    /// Reports marked complete during the week, ready for the review.
    pub reports_completed: Vec<ReportLine>,
    /// Reports past their due date (business days after resolution) and not complete.
    pub reports_overdue: Vec<OverdueReport>,
}

pub fn weekly(input: &WeeklyInput<'_>, viewer: Viewer) -> Weekly {
    let WeeklyInput {
        week,
        sevs,
        overdue_scas: overdue,
        ..
    } = *input;
    let line = |s: &Sev| SevLine {
        id: s.id,
        title: s.title.clone(),
        level: s.level,
        status: s.status,
        report_owner: s.report_owner.clone(),
    };
    let mut by_level: BTreeMap<Level, Vec<SevLine>> = Level::ALL.iter().map(|l| (*l, Vec::new())).collect();
    let mut drills = Vec::new();
    let mut reports_without_owner = Vec::new();
    for s in sevs.iter().filter(|s| viewer.may_see(s)) {
        if s.drill {
            drills.push(line(s));
            continue;
        }
        by_level.entry(s.level).or_default().push(line(s));
        if !s.status.is_active() && s.report_owner.is_none() {
            reports_without_owner.push(s.id);
        }
    }
    let overdue_scas = overdue
        .iter()
        .filter(|(_, private)| !private || viewer.sees_private)
        .map(|(s, _)| OverdueSca {
            id: s.id,
            sev: s.sev,
            text: s.text.clone(),
            owner: s.owner.clone(),
            due: s.due,
        })
        .collect();
    let reports_completed = input
        .completed
        .iter()
        .filter(|(_, s)| viewer.may_see(s))
        .filter_map(|(r, s)| {
            Some(ReportLine {
                sev: s.id,
                title: s.title.clone(),
                level: s.level,
                owner: s.report_owner.clone().unwrap_or_else(|| r.owner.clone()),
                completed_at: r.completed_at()?,
            })
        })
        .collect();
    let reports_overdue = input
        .resolved
        .iter()
        .filter(|(s, _)| viewer.may_see(s) && !s.drill && !s.status.is_active())
        .filter(|(_, r)| !r.as_ref().is_some_and(Report::is_complete))
        .filter_map(|(s, _)| {
            let due = input.policy.due(s.resolved_at?);
            (due < input.now).then(|| OverdueReport {
                sev: s.id,
                title: s.title.clone(),
                level: s.level,
                owner: s.report_owner.clone(),
                due,
            })
        })
        .collect();
    Weekly {
        week,
        by_level,
        drills,
        reports_without_owner,
        overdue_scas,
        reports_completed,
        reports_overdue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::sev;

    #[test]
    fn iso_weeks_parse_print_and_start_on_monday() {
        let w: IsoWeek = "2026-W01".parse().unwrap();
        assert_eq!(w.to_string(), "2026-W01");
        assert_eq!(w.bounds().0.to_rfc3339(), "2025-12-29T00:00:00+00:00");
        assert_eq!(w.prev().to_string(), "2025-W52");
        for bad in ["2026-W54", "2026W01", "2026-W1", ""] {
            assert!(bad.parse::<IsoWeek>().is_err(), "{bad}");
        }
        assert_eq!(IsoWeek::of(w.bounds().1 - Duration::seconds(1)), w);
    }

    #[test]
    fn the_digest_groups_by_level_and_hides_private_sevs() {
        let mut resolved = sev(1, "2026-07-14T09:00:00Z", 1, Some(60), Level::Sev1);
        resolved.report_owner = None;
        let mut private = sev(2, "2026-07-14T09:00:00Z", 1, None, Level::Sev0);
        private.private = true;
        let mut drill = sev(3, "2026-07-15T09:00:00Z", 1, None, Level::Sev2);
        drill.drill = true;
        let week = IsoWeek::of(resolved.started_at);
        let input = WeeklyInput {
            week,
            sevs: &[resolved, private, drill],
            overdue_scas: &[],
            completed: &[],
            resolved: &[],
            policy: &ReportPolicy::default(),
            now: week.bounds().1,
        };
        let d = weekly(&input, Viewer::ANONYMOUS);
        assert_eq!(d.by_level[&Level::Sev1].len(), 1);
        assert!(d.by_level[&Level::Sev0].is_empty());
        assert_eq!(d.drills.len(), 1);
        assert_eq!(d.reports_without_owner, [SevId(1)]);
    }

    #[test]
    fn reports_owed_are_due_in_business_days_and_complete_ones_are_for_review() {
        // Resolved Friday 2026-07-10 10:00: due Friday 2026-07-17 10:00.
        let mut owed = sev(1, "2026-07-10T09:00:00Z", 1, Some(60), Level::Sev1);
        owed.report_owner = Some("U9".into());
        let done = sev(2, "2026-07-10T09:00:00Z", 1, Some(60), Level::Sev2);
        let mut private = sev(3, "2026-07-10T09:00:00Z", 1, Some(60), Level::Sev2);
        private.private = true;
        let draft = |s: &Sev| Report::draft(s.id, "# r", "U9".into(), "U9".into(), s.started_at).unwrap();
        let mut complete = draft(&done);
        complete
            .complete("U9".into(), "2026-07-14T12:00:00Z".parse().unwrap())
            .unwrap();
        let resolved = [
            (owed.clone(), Some(draft(&owed))),
            (done.clone(), Some(complete.clone())),
            (private.clone(), None),
        ];
        let week: IsoWeek = "2026-W29".parse().unwrap();
        let completed = [(complete.clone(), done.clone())];
        let policy = ReportPolicy::default();
        let input = |now: &str| WeeklyInput {
            week,
            sevs: &[],
            overdue_scas: &[],
            completed: &completed,
            resolved: &resolved,
            policy: &policy,
            now: now.parse().unwrap(),
        };
        let before = weekly(&input("2026-07-17T09:59:00Z"), Viewer::ANONYMOUS);
        assert!(before.reports_overdue.is_empty());
        let after = weekly(&input("2026-07-17T10:01:00Z"), Viewer::ANONYMOUS);
        let overdue: Vec<SevId> = after.reports_overdue.iter().map(|r| r.sev).collect();
        assert_eq!(overdue, [SevId(1)], "complete and private reports are not listed");
        assert_eq!(after.reports_overdue[0].owner, Some("U9".into()));
        let operator = weekly(&input("2026-07-17T10:01:00Z"), Viewer::OPERATOR);
        assert_eq!(operator.reports_overdue.len(), 2);
        assert_eq!(after.reports_completed.len(), 1);
        assert_eq!(after.reports_completed[0].sev, SevId(2));
    }
}
