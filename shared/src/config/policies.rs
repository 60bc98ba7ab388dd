//! The process timeline as configured: how long SCAs get, when reports are due, when owners are
//! nagged and when nobody is. Each parser reads `key=value` pairs over the defaults, so a deployment names only
//! what it changes, and says which key is wrong when one is.

use chrono::Duration;

use crate::domain::{DuePolicy, NagPolicy, ReportPolicy};

use super::{ConfigError, checked, checked_as_given, set_or};

pub(super) struct Timeline {
    pub sca_policy: DuePolicy,
    pub report_policy: ReportPolicy,
    pub nag_policy: NagPolicy,
    pub nag_offset: chrono::FixedOffset,
}

/// The timeline variables, each through its parser over the defaults.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Timeline, ConfigError> {
    let offset = set_or(get, "SEVTOOL_NAG_UTC_OFFSET", "+00:00");
    let nag_offset = checked_as_given("SEVTOOL_NAG_UTC_OFFSET", &offset, |v| {
        v.parse::<chrono::FixedOffset>()
            .map_err(|e| format!("{e}; write it as +02:00 or -05:00"))
    })?;
    let sca_policy = checked(
        "SEVTOOL_SCA_DUE_DAYS",
        set_or(get, "SEVTOOL_SCA_DUE_DAYS", ""),
        due_policy,
    )?;
    let report_policy = ReportPolicy {
        due_business_days: checked(
            "SEVTOOL_REPORT_DUE_DAYS",
            set_or(get, "SEVTOOL_REPORT_DUE_DAYS", "5"),
            report_due_days,
        )?,
        owner_within: checked(
            "SEVTOOL_REPORT_OWNER_HOURS",
            set_or(get, "SEVTOOL_REPORT_OWNER_HOURS", "24"),
            report_owner_within,
        )?,
    };
    let nag_policy = checked("SEVTOOL_NAG_POLICY", set_or(get, "SEVTOOL_NAG_POLICY", ""), nag_policy)?;
    Ok(Timeline {
        sca_policy,
        report_policy,
        nag_policy,
        nag_offset,
    })
}

/// `key=value` pairs, blanks skipped; `Err` names the pair that is not one.
fn pairs(spec: &str) -> impl Iterator<Item = Result<(&str, &str), String>> {
    spec.split(',').map(str::trim).filter(|p| !p.is_empty()).map(|pair| {
        pair.split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| format!("`{pair}` is not key=value"))
    })
}

/// Ten years: anything longer is a typo, and far larger numbers would overflow a due date.
const MAX_DUE_DAYS: i64 = 3650;

/// Parses `must_worst=14,must=30,should=60,could=none` (`SEVTOOL_SCA_DUE_DAYS`).
fn due_policy(spec: &str) -> Result<DuePolicy, String> {
    let mut policy = DuePolicy::default();
    for pair in pairs(spec) {
        let (key, value) = pair?;
        let days = match value {
            "none" => None,
            v => Some(
                v.parse::<i64>()
                    .ok()
                    .filter(|d| (1..=MAX_DUE_DAYS).contains(d))
                    .ok_or_else(|| format!("`{v}` is not a number of days (1 to {MAX_DUE_DAYS}) or none"))?,
            ),
        };
        let slot = match key {
            "must_worst" => &mut policy.must_worst_days,
            "must" => &mut policy.must_days,
            "should" => &mut policy.should_days,
            "could" => &mut policy.could_days,
            other => {
                return Err(format!(
                    "`{other}` is not one of must_worst (SEV0/SEV1), must, should, could"
                ));
            }
        };
        *slot = days;
    }
    Ok(policy)
}

/// A span written `36h` or `3d`: whole hours or days, more than none, at most a year. The
/// number is bounded before it becomes a duration, which would panic on a huge one.
fn span(key: &str, value: &str) -> Result<Duration, String> {
    let hours = if let Some(hours) = value.strip_suffix('h') {
        hours.parse::<i64>().ok()
    } else if let Some(days) = value.strip_suffix('d') {
        days.parse::<i64>().ok().and_then(|d| d.checked_mul(24))
    } else {
        None
    };
    hours
        .filter(|h| (1..=366 * 24).contains(h))
        .map(Duration::hours)
        .ok_or_else(|| format!("{key}: `{value}` is not a span such as 36h or 3d (1h up to 366d)"))
}

/// Parses `before=3d,overdue=1d,grace=7d,repeat=7d,quiet=20-08,weekends=skip`
/// (`SEVTOOL_NAG_POLICY`): the nag ladder's rungs after (or before) the due date, the local
/// hours nobody is nagged in (`quiet=off` for none) and whether weekends are skipped.
fn nag_policy(spec: &str) -> Result<NagPolicy, String> {
    let mut policy = NagPolicy::default();
    for pair in pairs(spec) {
        let (key, value) = pair?;
        match key {
            "before" => policy.before = span(key, value)?,
            "overdue" => policy.overdue_after = span(key, value)?,
            "grace" => policy.grace = span(key, value)?,
            "repeat" => policy.repeat = span(key, value)?,
            "quiet" => (policy.quiet_from, policy.quiet_until) = quiet_hours(value)?,
            "weekends" => {
                policy.skip_weekends = match value {
                    "skip" => true,
                    "nag" => false,
                    v => return Err(format!("weekends: `{v}` is not skip or nag")),
                }
            }
            other => {
                return Err(format!(
                    "`{other}` is not one of before, overdue, grace, repeat, quiet, weekends"
                ));
            }
        }
    }
    if policy.grace <= policy.overdue_after {
        return Err("grace must be longer than overdue: the escalation comes after the first overdue nag".into());
    }
    Ok(policy)
}

/// `20-08` (from 20:00 to 08:00, overnight) or `off`; equal hours would silence nothing.
fn quiet_hours(value: &str) -> Result<(u32, u32), String> {
    if value == "off" {
        return Ok((0, 0));
    }
    let hours = value
        .split_once('-')
        .and_then(|(from, until)| Some((from.trim().parse::<u32>().ok()?, until.trim().parse::<u32>().ok()?)))
        .filter(|(from, until)| *from < 24 && *until < 24 && from != until);
    hours.ok_or_else(|| format!("quiet: `{value}` is not hours such as 20-08 (from-until, 0-23) or off"))
}

/// `SEVTOOL_REPORT_DUE_DAYS`: business days after resolution a SEV report is due.
fn report_due_days(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|d| (1..=60).contains(d))
        .ok_or_else(|| "must be a number of business days from 1 to 60".into())
}

/// `SEVTOOL_REPORT_OWNER_HOURS`: how long after mitigation a SEV may go without a report owner.
fn report_owner_within(value: &str) -> Result<Duration, String> {
    value
        .parse::<i64>()
        .ok()
        .filter(|h| (1..=24 * 14).contains(h))
        .map(Duration::hours)
        .ok_or_else(|| "must be a number of hours from 1 to 336".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::config;

    #[test]
    fn sca_deadlines_default_to_the_policy_and_can_be_changed() {
        assert_eq!(config(&[]).unwrap().sca_policy, DuePolicy::default());
        assert_eq!(config(&[]).unwrap().report_policy.due_business_days, 5);
        assert_eq!(
            config(&[("SEVTOOL_REPORT_DUE_DAYS", "10")])
                .unwrap()
                .report_policy
                .due_business_days,
            10
        );
        let bad = config(&[("SEVTOOL_REPORT_DUE_DAYS", "0")]).unwrap_err();
        assert_eq!(bad.name, "SEVTOOL_REPORT_DUE_DAYS");
        let p = config(&[("SEVTOOL_SCA_DUE_DAYS", "must=21, could=90, should=none")])
            .unwrap()
            .sca_policy;
        assert_eq!(
            (p.must_worst_days, p.must_days, p.should_days, p.could_days),
            (Some(14), Some(21), None, Some(90))
        );
        for bad in ["must=0", "sometimes=3", "must"] {
            assert!(config(&[("SEVTOOL_SCA_DUE_DAYS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_nag_policy_and_report_owner_hours_come_from_the_environment() {
        let c = config(&[
            ("SEVTOOL_NAG_POLICY", "grace=10d"),
            ("SEVTOOL_REPORT_OWNER_HOURS", "48"),
        ])
        .unwrap();
        assert_eq!(c.nag_policy.grace, chrono::Duration::days(10));
        assert_eq!(c.report_policy.owner_within, chrono::Duration::hours(48));
        assert_eq!(
            config(&[]).unwrap().report_policy.owner_within,
            chrono::Duration::hours(24)
        );
        let bad = config(&[("SEVTOOL_NAG_POLICY", "grace=soon")]).unwrap_err();
        assert_eq!(bad.name, "SEVTOOL_NAG_POLICY");
        assert!(bad.to_string().contains("grace"), "{bad}");
        let bad = config(&[("SEVTOOL_REPORT_OWNER_HOURS", "0")]).unwrap_err();
        assert_eq!(bad.name, "SEVTOOL_REPORT_OWNER_HOURS");
    }

    #[test]
    fn the_nag_time_zone_is_an_offset() {
        assert_eq!(config(&[]).unwrap().nag_offset.local_minus_utc(), 0);
        assert_eq!(
            config(&[("SEVTOOL_NAG_UTC_OFFSET", "+09:00")])
                .unwrap()
                .nag_offset
                .local_minus_utc(),
            9 * 3600
        );
        let err = config(&[("SEVTOOL_NAG_UTC_OFFSET", "Europe/Paris")]).unwrap_err();
        assert!(err.to_string().contains("+02:00"), "{err}");
    }

    #[test]
    fn nag_policy_changes_only_what_it_names() {
        assert_eq!(nag_policy("").unwrap(), NagPolicy::default());
        let p = nag_policy("before=36h, grace=14d, quiet=22-07, weekends=nag").unwrap();
        assert_eq!(p.before, Duration::hours(36));
        assert_eq!(p.grace, Duration::days(14));
        assert_eq!((p.quiet_from, p.quiet_until, p.skip_weekends), (22, 7, false));
        assert_eq!(p.repeat, NagPolicy::default().repeat);
    }

    #[test]
    fn bad_nag_policies_say_which_key_is_wrong() {
        for (spec, names) in [
            ("before=3", "before"),
            ("grace=0d", "grace"),
            ("repeat=400d", "repeat"),
            ("grace=200000000000000d", "grace"),
            ("before=9223372036854775807h", "before"),
            ("quiet=25-08", "quiet"),
            ("quiet=8-8", "quiet"),
            ("weekends=sometimes", "weekends"),
            ("often=1d", "often"),
            ("grace", "grace"),
            ("overdue=7d,grace=7d", "grace"),
        ] {
            let e = nag_policy(spec).unwrap_err();
            assert!(e.contains(names), "{spec}: {e}");
        }
    }

    #[test]
    fn due_days_are_bounded() {
        assert_eq!(due_policy("must=3650").unwrap().must_days, Some(3650));
        for bad in ["must=3651", "should=100000000000", "could=0"] {
            assert!(due_policy(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quiet_off_nags_at_any_hour() {
        let p = nag_policy("quiet=off,weekends=nag").unwrap();
        let night = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 7, 3, 0, 0).unwrap();
        assert_eq!(p.next_waking(night, chrono::FixedOffset::east_opt(0).unwrap()), night);
    }

    #[test]
    fn report_owner_hours_are_bounded() {
        assert_eq!(report_owner_within("48"), Ok(Duration::hours(48)));
        for bad in ["0", "-1", "337", "a day"] {
            assert!(report_owner_within(bad).is_err(), "{bad}");
        }
    }
}
