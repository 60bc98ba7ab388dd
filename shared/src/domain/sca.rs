//! Corrective actions (SCAs): what must change so a SEV does not happen again.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Actor, DomainError, Level, SevId, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScaId(pub u64);

impl fmt::Display for ScaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SCA-{}", self.0)
    }
}

impl FromStr for ScaId {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("sca-"))
            .map_or(t, |_| &t[4..]);
        digits
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
            .map(ScaId)
            .ok_or_else(|| DomainError::invalid("id", format!("`{t}` is not an SCA id; ids look like SCA-7")))
    }
}

impl Serialize for ScaId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ScaId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Must Do, Should Do, Could Do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Must,
    Should,
    Could,
}

impl FromStr for Priority {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "must" | "must do" => Ok(Priority::Must),
            "should" | "should do" => Ok(Priority::Should),
            "could" | "could do" => Ok(Priority::Could),
            other => Err(DomainError::invalid(
                "priority",
                format!("`{other}` is not a priority; use must, should or could"),
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Priority {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Priority::Must => "must",
            Priority::Should => "should",
            Priority::Could => "could",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ScaState {
    Open,
    Done {
        at: DateTime<Utc>,
    },
    /// Dropped on purpose, with the reason on record.
    WontDo {
        reason: String,
        at: DateTime<Utc>,
    },
}

/// Where an SCA was written down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum ScaSource {
    /// `ts` is the message an SCA was made from, if it was (a reaction rather than `/sev sca`).
    Slack {
        channel: String,
        ts: Option<String>,
    },
    Web,
    Api,
}

/// How long each priority gets, by SEV level. `None`: no deadline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuePolicy {
    /// Must Do on SEV0 and SEV1.
    pub must_worst_days: Option<i64>,
    /// Must Do on SEV2 and SEV3.
    pub must_days: Option<i64>,
    pub should_days: Option<i64>,
    pub could_days: Option<i64>,
}

impl Default for DuePolicy {
    fn default() -> Self {
        DuePolicy {
            must_worst_days: Some(14),
            must_days: Some(30),
            should_days: Some(60),
            could_days: None,
        }
    }
}

impl DuePolicy {
    pub fn due(&self, priority: Priority, level: Level, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = match priority {
            Priority::Must if level.at_least(Level::Sev1) => self.must_worst_days,
            Priority::Must => self.must_days,
            Priority::Should => self.should_days,
            Priority::Could => self.could_days,
        };
        days.and_then(|d| from.checked_add_signed(Duration::try_days(d)?))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sca {
    pub id: ScaId,
    pub sev: SevId,
    pub text: String,
    pub priority: Priority,
    pub owner: Actor,
    pub due: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub state: ScaState,
    pub source: ScaSource,
    pub ticket: Option<String>,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
}

pub const MAX_SCA_TEXT: usize = 2_000;

/// The one rule adding and changing an SCA both apply to its due date: within the years a
/// [`Timestamp`] allows, and not already past (a day's slack for time zones).
fn check_due(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, DomainError> {
    let Some(due) = due else {
        return Ok(None);
    };
    let due = Timestamp::new("due", due)?.get();
    if now
        .checked_sub_signed(Duration::days(1))
        .is_some_and(|yesterday| due < yesterday)
    {
        return Err(DomainError::invalid("due", "is in the past; give a date from today on"));
    }
    Ok(Some(due))
}

fn clean(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let text = super::text::trim(raw);
    if text.is_empty() {
        return Err(DomainError::invalid(field, "is required"));
    }
    if text.chars().count() > max {
        return Err(DomainError::invalid(field, format!("is longer than {max} characters")));
    }
    Ok(text.to_owned())
}

/// What changes on an SCA. `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ScaPatch {
    pub text: Option<String>,
    pub priority: Option<Priority>,
    pub owner: Option<Actor>,
    pub due: Option<Option<Timestamp>>,
    pub ticket: Option<Option<String>>,
    /// `open`, `done`, or `won't do` with its reason.
    pub state: Option<(ScaStateName, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaStateName {
    Open,
    Done,
    WontDo,
}

impl Sca {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: ScaId,
        sev: SevId,
        text: &str,
        priority: Priority,
        owner: Actor,
        due: Option<DateTime<Utc>>,
        source: ScaSource,
        created_by: Actor,
        now: DateTime<Utc>,
    ) -> Result<Sca, DomainError> {
        let text = clean("text", text, MAX_SCA_TEXT)?;
        let owner = Actor::from(clean("owner", owner.as_str(), 100)?);
        let due = check_due(due, now)?;
        Ok(Sca {
            id,
            sev,
            text,
            priority,
            owner,
            due,
            state: ScaState::Open,
            source,
            ticket: None,
            created_by,
            created_at: now,
        })
    }

    pub fn is_open(&self) -> bool {
        self.state == ScaState::Open
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && self.due.is_some_and(|d| d < now)
    }

    /// Applies a patch; returns a line per real change for the SEV's timeline.
    pub fn apply(&mut self, patch: ScaPatch, now: DateTime<Utc>) -> Result<Vec<String>, DomainError> {
        let mut next = self.clone();
        let mut changes = Vec::new();
        if let Some(t) = patch
            .text
            .map(|t| clean("text", &t, MAX_SCA_TEXT))
            .transpose()?
            .filter(|t| *t != next.text)
        {
            next.text = t;
            changes.push("text edited".to_owned());
        }
        if let Some(p) = patch.priority.filter(|p| *p != next.priority) {
            changes.push(format!("priority {} -> {p}", next.priority));
            next.priority = p;
        }
        if let Some(o) = patch
            .owner
            .map(|o| clean("owner", o.as_str(), 100).map(Actor::from))
            .transpose()?
            .filter(|o| *o != next.owner)
        {
            changes.push(format!("owner {} -> {o}", next.owner));
            next.owner = o;
        }
        let due = patch.due.map(|d| check_due(d.map(Timestamp::get), now)).transpose()?;
        if let Some(d) = due.filter(|d| *d != next.due) {
            changes.push(d.map_or_else(
                || "due date removed".to_owned(),
                |d| format!("due {}", d.format("%Y-%m-%d")),
            ));
            next.due = d;
        }
        if let Some(t) = patch.ticket.filter(|t| *t != next.ticket) {
            changes.push(
                t.as_deref()
                    .map_or_else(|| "ticket unlinked".to_owned(), |t| format!("ticket {t}")),
            );
            next.ticket = t;
        }
        if let Some((state, reason)) = patch.state {
            let new = match state {
                ScaStateName::Open => ScaState::Open,
                ScaStateName::Done => ScaState::Done { at: now },
                ScaStateName::WontDo => {
                    let reason = reason
                        .as_deref()
                        .map(|r| clean("reason", r, MAX_SCA_TEXT))
                        .transpose()?;
                    let reason = reason.ok_or_else(|| {
                        DomainError::invalid("reason", "is required to drop an SCA; say why it will not be done")
                    })?;
                    ScaState::WontDo { reason, at: now }
                }
            };
            let same = std::mem::discriminant(&new) == std::mem::discriminant(&next.state);
            if !same {
                changes.push(match &new {
                    ScaState::Open => "reopened".to_owned(),
                    ScaState::Done { .. } => "done".to_owned(),
                    ScaState::WontDo { reason, .. } => format!("won't do: {reason}"),
                });
                next.state = new;
            }
        }
        *self = next;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 14, 9, 0, 0).unwrap()
    }

    fn sca() -> Sca {
        Sca::new(
            ScaId(1),
            SevId(3),
            " add an alert ",
            Priority::Must,
            "U1".into(),
            Some(t0() + Duration::days(14)),
            ScaSource::Api,
            "U2".into(),
            t0(),
        )
        .unwrap()
    }

    #[test]
    fn default_policy_gives_must_do_14_days_on_the_worst_levels() {
        let p = DuePolicy::default();
        assert_eq!(
            p.due(Priority::Must, Level::Sev0, t0()),
            Some(t0() + Duration::days(14))
        );
        assert_eq!(
            p.due(Priority::Must, Level::Sev1, t0()),
            Some(t0() + Duration::days(14))
        );
        assert_eq!(
            p.due(Priority::Must, Level::Sev2, t0()),
            Some(t0() + Duration::days(30))
        );
        assert_eq!(
            p.due(Priority::Should, Level::Sev0, t0()),
            Some(t0() + Duration::days(60))
        );
        assert_eq!(p.due(Priority::Could, Level::Sev0, t0()), None);
    }

    #[test]
    fn ids_and_priorities_parse_as_people_type_them() {
        assert_eq!("sca-7".parse::<ScaId>(), Ok(ScaId(7)));
        assert_eq!(ScaId(7).to_string(), "SCA-7");
        assert!("SEV-7".parse::<ScaId>().is_err());
        assert_eq!("Must Do".parse::<Priority>(), Ok(Priority::Must));
        assert!(
            "urgent"
                .parse::<Priority>()
                .unwrap_err()
                .to_string()
                .contains("must, should or could")
        );
    }

    #[test]
    fn new_scas_are_open_with_clean_text() {
        let s = sca();
        assert_eq!(s.text, "add an alert");
        assert!(s.is_open());
        assert!(!s.is_overdue(t0()));
        assert!(s.is_overdue(t0() + Duration::days(15)));
        let empty = Sca::new(
            ScaId(1),
            SevId(3),
            " ",
            Priority::Must,
            "U1".into(),
            None,
            ScaSource::Web,
            "U1".into(),
            t0(),
        );
        assert!(matches!(empty, Err(DomainError::Invalid { field: "text", .. })));
    }

    #[test]
    fn dropping_an_sca_needs_a_reason() {
        let mut s = sca();
        let err = s
            .apply(
                ScaPatch {
                    state: Some((ScaStateName::WontDo, None)),
                    ..ScaPatch::default()
                },
                t0(),
            )
            .unwrap_err();
        assert!(err.to_string().contains("say why"), "{err}");
        assert!(s.is_open(), "a refused patch changes nothing");
        let changes = s
            .apply(
                ScaPatch {
                    state: Some((ScaStateName::WontDo, Some("superseded by SCA-9".into()))),
                    ..ScaPatch::default()
                },
                t0(),
            )
            .unwrap();
        assert_eq!(changes, ["won't do: superseded by SCA-9"]);
        assert!(
            !s.is_overdue(t0() + Duration::days(99)),
            "a dropped SCA is never overdue"
        );
    }

    #[test]
    fn patches_report_only_real_changes() {
        let mut s = sca();
        let changes = s
            .apply(
                ScaPatch {
                    owner: Some("U9".into()),
                    text: Some("add an alert".into()),
                    state: Some((ScaStateName::Done, None)),
                    ..ScaPatch::default()
                },
                t0(),
            )
            .unwrap();
        assert_eq!(changes, ["owner U1 -> U9", "done"]);
        let again = s
            .apply(
                ScaPatch {
                    state: Some((ScaStateName::Done, None)),
                    ..ScaPatch::default()
                },
                t0(),
            )
            .unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn serialises_state_and_source_inline() {
        let json = serde_json::to_value(sca()).unwrap();
        assert_eq!(json["id"], "SCA-1");
        assert_eq!(json["state"], "open");
        assert_eq!(json["priority"], "must");
        assert_eq!(json["source"]["via"], "api");
    }

    #[test]
    fn adding_and_changing_an_sca_accept_and_refuse_the_same_due_dates() {
        let far_past = DateTime::<Utc>::MIN_UTC;
        let yesterday_and_more = t0() - Duration::days(3);
        let far_future = DateTime::<Utc>::MAX_UTC;
        for bad in [far_past, yesterday_and_more, far_future] {
            let new = Sca::new(
                ScaId(1),
                SevId(3),
                "x",
                Priority::Must,
                "U1".into(),
                Some(bad),
                ScaSource::Api,
                "U1".into(),
                t0(),
            );
            let e = new.unwrap_err().to_string();
            assert!(e.starts_with("due: "), "{bad}: {e}");
            // A PATCH can only carry a Timestamp, which the far ends cannot even become.
            if let Ok(ts) = Timestamp::new("due", bad) {
                let patch = ScaPatch {
                    due: Some(Some(ts)),
                    ..ScaPatch::default()
                };
                assert_eq!(sca().apply(patch, t0()).unwrap_err().to_string(), e);
            }
        }
        let fine = Timestamp::new("due", t0() + Duration::days(400)).unwrap();
        let patch = ScaPatch {
            due: Some(Some(fine)),
            ..ScaPatch::default()
        };
        assert_eq!(sca().apply(patch, t0()).unwrap(), ["due 2027-08-18"]);
    }

    #[test]
    fn policy_deadlines_never_overflow() {
        let p = DuePolicy {
            must_worst_days: Some(i64::MAX),
            ..DuePolicy::default()
        };
        assert_eq!(p.due(Priority::Must, Level::Sev0, t0()), None);
        assert_eq!(
            DuePolicy::default().due(Priority::Must, Level::Sev2, DateTime::<Utc>::MAX_UTC),
            None
        );
    }
}
