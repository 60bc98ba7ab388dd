use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Actor, DomainError, EntryKind, Level, SevField, Status, Tag, Timestamp};

/// The human number of a SEV, shown as `SEV-<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SevId(pub u64);

impl fmt::Display for SevId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SEV-{}", self.0)
    }
}

impl FromStr for SevId {
    type Err = DomainError;

    /// Accepts `SEV-42`, `sev-42` and `42`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .get(..4)
            .filter(|p| p.eq_ignore_ascii_case("sev-"))
            .map_or(t, |_| &t[4..]);
        digits
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && digits.bytes().all(|b| b.is_ascii_digit()))
            .map(SevId)
            .ok_or_else(|| DomainError::invalid("id", format!("`{t}` is not a SEV id; ids look like SEV-42")))
    }
}

impl Serialize for SevId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SevId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;
/// Deputies act for the coordinator on one call each; more than a handful is a roster, not a role.
pub const MAX_DEPUTIES: usize = 10;

/// What a person gives when filing: deliberately little, the rest is filled in later.
#[derive(Debug, Clone, Default)]
pub struct NewSev {
    pub title: String,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub product_track: Option<String>,
    pub tags: Vec<Tag>,
    pub private: bool,
    pub drill: bool,
    pub started_at: Option<Timestamp>,
    pub detected_at: Option<Timestamp>,
}

/// A role the on-call of a pager rotation takes on a SEV when nobody holds it yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadRole {
    Coordinator,
    CommsLead,
}

/// A change to a SEV's descriptive fields. `None` leaves a field alone; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct SevPatch {
    pub title: Option<String>,
    pub level: Option<Level>,
    pub description: Option<Option<String>>,
    pub product_track: Option<Option<String>>,
    pub tags: Option<Vec<Tag>>,
    pub add_tags: Vec<Tag>,
    pub remove_tags: Vec<Tag>,
    pub coordinator: Option<Option<Actor>>,
    pub report_owner: Option<Option<Actor>>,
    pub comms_lead: Option<Option<Actor>>,
    /// Replaces the deputies; `add_deputies` and `remove_deputies` then apply on top.
    pub deputies: Option<Vec<Actor>>,
    pub add_deputies: Vec<Actor>,
    pub remove_deputies: Vec<Actor>,
    pub private: Option<bool>,
    pub started_at: Option<Timestamp>,
    pub detected_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sev {
    pub id: SevId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub level: Level,
    pub status: Status,
    pub reporter: Actor,
    #[serde(default)]
    pub coordinator: Option<Actor>,
    #[serde(default)]
    pub report_owner: Option<Actor>,
    /// Who decides what customers are told, and publishes the public updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comms_lead: Option<Actor>,
    /// People acting for the coordinator on one call (the tech call or the comms call).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub deputies: BTreeSet<Actor>,
    #[serde(default)]
    pub product_track: Option<String>,
    #[serde(default)]
    pub tags: BTreeSet<Tag>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub drill: bool,
    pub started_at: DateTime<Utc>,
    pub detected_at: DateTime<Utc>,
    pub declared_at: DateTime<Utc>,
    #[serde(default)]
    pub mitigated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub resolved_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// When the last person paged joined the response channel: everyone called has mustered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mustered_at: Option<DateTime<Utc>>,
    /// When the first page was acknowledged in the pager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Why it was resolved, when that needs saying (a false alarm, a duplicate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

fn clean_title(raw: &str) -> Result<String, DomainError> {
    let title = super::text::squash(raw);
    if title.is_empty() {
        return Err(DomainError::invalid(
            "title",
            "is required; say in a few words what is broken",
        ));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(DomainError::invalid(
            "title",
            format!("is longer than {MAX_TITLE} characters; put the rest in the description"),
        ));
    }
    Ok(title)
}

fn clean_text(field: &'static str, raw: &str) -> Result<Option<String>, DomainError> {
    let text = super::text::trim(raw);
    if text.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            field,
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn clean_name(field: &'static str, raw: &str) -> Result<Option<String>, DomainError> {
    let name = super::text::trim(raw);
    if name.chars().count() > 100 {
        return Err(DomainError::invalid(field, "is longer than 100 characters"));
    }
    Ok((!name.is_empty()).then(|| name.to_owned()))
}

/// The deputies after a patch: each name checked like any role's, and at most [`MAX_DEPUTIES`].
fn deputies(
    now: &BTreeSet<Actor>,
    replace: Option<Vec<Actor>>,
    add: Vec<Actor>,
    remove: &[Actor],
) -> Result<BTreeSet<Actor>, DomainError> {
    let mut next = BTreeSet::new();
    for name in replace
        .unwrap_or_else(|| now.iter().cloned().collect())
        .into_iter()
        .chain(add)
    {
        if let Some(name) = clean_name("deputies", name.as_str())? {
            if name.chars().any(char::is_control) {
                return Err(DomainError::invalid("deputies", "takes one name per deputy"));
            }
            next.insert(Actor::from(name));
        }
    }
    for name in remove {
        next.remove(&Actor::from(super::text::trim(name.as_str()).to_owned()));
    }
    if next.len() > MAX_DEPUTIES {
        return Err(DomainError::invalid(
            "deputies",
            format!("has more than {MAX_DEPUTIES} people; a deputy acts for the coordinator on one call"),
        ));
    }
    Ok(next)
}

/// Checks that the incident started before it was noticed, and was noticed before it was declared.
fn check_times(started: DateTime<Utc>, detected: DateTime<Utc>, declared: DateTime<Utc>) -> Result<(), DomainError> {
    if started > detected {
        return Err(DomainError::invalid(
            "started_at",
            "is after detected_at; an incident is detected after it starts",
        ));
    }
    if detected > declared {
        return Err(DomainError::invalid(
            "detected_at",
            "is after the SEV was declared; set it to when someone first noticed",
        ));
    }
    Ok(())
}

impl SevPatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.level.is_none()
            && self.description.is_none()
            && self.product_track.is_none()
            && self.tags.is_none()
            && self.add_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.coordinator.is_none()
            && self.report_owner.is_none()
            && self.comms_lead.is_none()
            && self.deputies.is_none()
            && self.add_deputies.is_empty()
            && self.remove_deputies.is_empty()
            && self.private.is_none()
            && self.started_at.is_none()
            && self.detected_at.is_none()
    }
}

impl Sev {
    /// Files a SEV: validates what the reporter gave and fills the rest with defaults. The level
    /// defaults to SEV2: filing fast matters more than grading right, and it can be changed.
    pub fn file(id: SevId, new: NewSev, reporter: Actor, now: DateTime<Utc>) -> Result<(Sev, EntryKind), DomainError> {
        let title = clean_title(&new.title)?;
        let description = match new.description.as_deref() {
            Some(d) => clean_text("description", d)?,
            None => None,
        };
        let product_track = match new.product_track.as_deref() {
            Some(p) => clean_name("product_track", p)?,
            None => None,
        };
        let detected_at = new.detected_at.map_or(now, Timestamp::get);
        let started_at = new.started_at.map_or(detected_at, Timestamp::get);
        check_times(started_at, detected_at, now)?;
        let level = new.level.unwrap_or(Level::Sev2);
        let sev = Sev {
            id,
            title,
            description,
            level,
            status: Status::Open,
            reporter,
            coordinator: None,
            report_owner: None,
            comms_lead: None,
            deputies: BTreeSet::new(),
            product_track,
            tags: new.tags.into_iter().collect(),
            private: new.private,
            drill: new.drill,
            started_at,
            detected_at,
            declared_at: now,
            mitigated_at: None,
            resolved_at: None,
            closed_at: None,
            mustered_at: None,
            acknowledged_at: None,
            resolution: None,
        };
        Ok((sev, EntryKind::Filed { level }))
    }

    /// Who holds `role`, if anyone.
    pub fn lead(&self, role: LeadRole) -> Option<&Actor> {
        match role {
            LeadRole::Coordinator => self.coordinator.as_ref(),
            LeadRole::CommsLead => self.comms_lead.as_ref(),
        }
    }

    /// The services its `system/<service>/...` tags name.
    pub fn services(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().filter_map(|tag| {
            let mut segments = tag.segments();
            (segments.next() == Some("system")).then(|| segments.next()).flatten()
        })
    }

    /// Time from the start of the incident until someone noticed it.
    pub fn time_to_detect(&self) -> Duration {
        self.detected_at - self.started_at
    }

    /// Time from the start of the incident until it was mitigated (or resolved, if mitigation
    /// was skipped). `None` while neither has happened.
    pub fn time_to_mitigate(&self) -> Option<Duration> {
        self.mitigated_at.or(self.resolved_at).map(|t| t - self.started_at)
    }

    /// Time from the start of the incident until it was resolved.
    pub fn time_to_resolve(&self) -> Option<Duration> {
        self.resolved_at.map(|t| t - self.started_at)
    }

    /// From declaration until everyone paged had joined, as the SEV's `muster` measures it.
    pub fn time_to_muster(&self) -> Option<Duration> {
        self.mustered_at.map(|t| (t - self.declared_at).max(Duration::zero()))
    }

    /// From declaration until the first page was acknowledged in the pager.
    pub fn time_to_acknowledge(&self) -> Option<Duration> {
        self.acknowledged_at
            .map(|t| (t - self.declared_at).max(Duration::zero()))
    }

    /// Moves the SEV to `to`, stamping the time. Reopening clears the later timestamps so the
    /// derived durations describe the final resolution, while the timeline keeps every move.
    pub fn move_to(
        &mut self,
        to: Status,
        reason: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<EntryKind, DomainError> {
        self.status.check_move(to)?;
        let reason = match reason.as_deref() {
            Some(r) => clean_text("reason", r)?,
            None => None,
        };
        let from = self.status;
        match to {
            Status::Open => {
                self.mitigated_at = None;
                self.resolved_at = None;
                self.resolution = None;
            }
            Status::Mitigated => self.mitigated_at = Some(now),
            Status::Resolved => {
                self.resolved_at = Some(now);
                self.resolution = reason.clone();
            }
            Status::Closed => self.closed_at = Some(now),
        }
        self.status = to;
        Ok(EntryKind::StatusChanged { from, to, reason })
    }

    pub fn change_level(&mut self, to: Level) -> Result<EntryKind, DomainError> {
        if self.level == to {
            return Err(DomainError::AlreadyAtLevel(to));
        }
        let from = std::mem::replace(&mut self.level, to);
        Ok(EntryKind::LevelChanged { from, to })
    }

    /// Checks an update's text; updates change nothing on the SEV itself but its timeline.
    pub fn update(&self, text: &str) -> Result<EntryKind, DomainError> {
        Ok(EntryKind::Update {
            text: self.timeline_text(text)?,
        })
    }

    /// Checks a note's text: like an update, but kept on the timeline without being announced.
    pub fn note(&self, text: &str) -> Result<EntryKind, DomainError> {
        Ok(EntryKind::Note {
            text: self.timeline_text(text)?,
        })
    }

    /// Whether `who` may appoint the comms lead and deputies: the coordinator or the comms lead;
    /// while the SEV has neither, anyone who may act on it (someone has to start); and sevtool's
    /// own actors (the pager's on-call claiming the role, an operator's script, the open local
    /// server).
    pub fn may_appoint(&self, who: &Actor) -> bool {
        matches!(who.kind(), super::actor::ActorKind::System)
            || (self.coordinator.is_none() && self.comms_lead.is_none())
            || self.coordinator.as_ref() == Some(who)
            || self.comms_lead.as_ref() == Some(who)
    }

    /// [`Sev::apply`] by `author`: a patch that changes the comms lead or the deputies is refused
    /// unless the author may appoint them, since those roles may publish to customers.
    pub fn apply_by(&mut self, patch: SevPatch, author: &Actor) -> Result<Vec<EntryKind>, DomainError> {
        let mut next = self.clone();
        let entries = next.apply(patch)?;
        let appoints = next.comms_lead != self.comms_lead || next.deputies != self.deputies;
        if appoints && !self.may_appoint(author) {
            return Err(DomainError::NotAppointer(author.as_str().chars().take(100).collect()));
        }
        *self = next;
        Ok(entries)
    }

    /// Whether `who` may publish this SEV's public updates: whoever leads its response or its
    /// communication.
    pub fn may_publish(&self, who: &Actor) -> bool {
        self.comms_lead.as_ref() == Some(who) || self.coordinator.as_ref() == Some(who) || self.deputies.contains(who)
    }

    /// Checks a public update: its text, who publishes it and that the SEV may be published.
    pub fn public_update(&self, text: &str, author: &Actor) -> Result<EntryKind, DomainError> {
        if self.private {
            return Err(DomainError::PrivateNotPublished);
        }
        if !self.may_publish(author) {
            return Err(DomainError::NotPublisher(author.as_str().chars().take(100).collect()));
        }
        Ok(EntryKind::PublicUpdate {
            text: self.timeline_text(text)?,
            status: Some(super::PublicStatus::of(self)),
        })
    }

    fn timeline_text(&self, text: &str) -> Result<String, DomainError> {
        if self.status == Status::Closed {
            return Err(DomainError::Closed);
        }
        clean_text("text", text)?.ok_or_else(|| DomainError::invalid("text", "is required; say what changed"))
    }

    /// Applies a patch and returns one timeline entry per field that really changed. The level is
    /// changed through [`Sev::change_level`] so it reads the same on the timeline however it was set.
    pub fn apply(&mut self, patch: SevPatch) -> Result<Vec<EntryKind>, DomainError> {
        let mut next = self.clone();
        let mut entries = Vec::new();
        let mut field = |field: SevField, value: String| entries.push(EntryKind::FieldChanged { field, value });
        if let Some(t) = patch.title {
            let t = clean_title(&t)?;
            if t != next.title {
                field(SevField::Title, t.clone());
                next.title = t;
            }
        }
        if let Some(d) = patch.description {
            let d = match d.as_deref() {
                Some(d) => clean_text("description", d)?,
                None => None,
            };
            if d != next.description {
                // The description can be long and private-ish; the timeline notes the edit only.
                field(
                    SevField::Description,
                    if d.is_some() { "(edited)".into() } else { String::new() },
                );
                next.description = d;
            }
        }
        if let Some(v) = patch.product_track {
            let v = match v.as_deref() {
                Some(v) => clean_name("product_track", v)?,
                None => None,
            };
            if v != next.product_track {
                field(SevField::ProductTrack, v.clone().unwrap_or_default());
                next.product_track = v;
            }
        }
        for (name, which, patch_value, slot) in [
            (
                "coordinator",
                SevField::Coordinator,
                patch.coordinator,
                &mut next.coordinator,
            ),
            (
                "report_owner",
                SevField::ReportOwner,
                patch.report_owner,
                &mut next.report_owner,
            ),
            (
                "comms_lead",
                SevField::CommsLead,
                patch.comms_lead,
                &mut next.comms_lead,
            ),
        ] {
            if let Some(v) = patch_value {
                let v = match v {
                    Some(v) => clean_name(name, v.as_str())?.map(Actor::from),
                    None => None,
                };
                if v != *slot {
                    field(which, v.as_ref().map_or_else(String::new, |a| a.as_str().to_owned()));
                    *slot = v;
                }
            }
        }
        let deputies = deputies(
            &next.deputies,
            patch.deputies,
            patch.add_deputies,
            &patch.remove_deputies,
        )?;
        if deputies != next.deputies {
            field(
                SevField::Deputies,
                deputies.iter().map(Actor::as_str).collect::<Vec<_>>().join(", "),
            );
            next.deputies = deputies;
        }
        let mut tags = patch
            .tags
            .map_or_else(|| next.tags.clone(), |t| t.into_iter().collect());
        tags.extend(patch.add_tags);
        for t in &patch.remove_tags {
            tags.remove(t);
        }
        if tags != next.tags {
            field(
                SevField::Tags,
                tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(", "),
            );
            next.tags = tags;
        }
        if let Some(p) = patch.private.filter(|p| *p != next.private) {
            field(SevField::Private, p.to_string());
            next.private = p;
        }
        let started = patch.started_at.map_or(next.started_at, Timestamp::get);
        let detected = patch.detected_at.map_or(next.detected_at, Timestamp::get);
        check_times(started, detected, next.declared_at)?;
        if started != next.started_at {
            field(SevField::StartedAt, started.to_rfc3339());
            next.started_at = started;
        }
        if detected != next.detected_at {
            field(SevField::DetectedAt, detected.to_rfc3339());
            next.detected_at = detected;
        }
        if let Some(level) = patch.level.filter(|l| *l != next.level) {
            entries.push(next.change_level(level)?);
        }
        *self = next;
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ts(h: u32, m: u32) -> Timestamp {
        Timestamp::new("t", t(h, m)).unwrap()
    }

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 14, h, m, 0).unwrap()
    }

    fn filed() -> Sev {
        let new = NewSev {
            title: "  Checkout   returns 5xx ".into(),
            level: Some(Level::Sev1),
            started_at: Some(ts(9, 0)),
            detected_at: Some(ts(9, 10)),
            ..NewSev::default()
        };
        Sev::file(SevId(7), new, "U1".into(), t(9, 15)).unwrap().0
    }

    #[test]
    fn ids_print_and_parse_as_sev_dash_n() {
        assert_eq!(SevId(42).to_string(), "SEV-42");
        assert_eq!("sev-42".parse::<SevId>(), Ok(SevId(42)));
        assert_eq!("42".parse::<SevId>(), Ok(SevId(42)));
        for bad in ["SEV-", "SEV-0", "SEV-+4", "SEV-4x", "x"] {
            assert!(bad.parse::<SevId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn filing_normalises_the_title_and_opens_the_sev() {
        let sev = filed();
        assert_eq!(sev.title, "Checkout returns 5xx");
        assert_eq!(sev.status, Status::Open);
        assert_eq!(sev.declared_at, t(9, 15));
    }

    #[test]
    fn filing_needs_only_a_title() {
        let (sev, entry) = Sev::file(
            SevId(1),
            NewSev {
                title: "x".into(),
                ..NewSev::default()
            },
            "U1".into(),
            t(9, 0),
        )
        .unwrap();
        assert_eq!(sev.level, Level::Sev2);
        assert_eq!((sev.started_at, sev.detected_at), (t(9, 0), t(9, 0)));
        assert_eq!(entry, EntryKind::Filed { level: Level::Sev2 });
    }

    #[test]
    fn filing_rejects_an_empty_or_huge_title() {
        for title in ["   ".to_owned(), "x".repeat(MAX_TITLE + 1)] {
            let err = Sev::file(
                SevId(1),
                NewSev {
                    title,
                    ..NewSev::default()
                },
                "U1".into(),
                t(9, 0),
            )
            .unwrap_err();
            assert!(matches!(err, DomainError::Invalid { field: "title", .. }));
        }
    }

    #[test]
    fn filing_rejects_times_out_of_order() {
        let new = NewSev {
            title: "x".into(),
            started_at: Some(ts(10, 0)),
            detected_at: Some(ts(9, 0)),
            ..NewSev::default()
        };
        assert!(matches!(
            Sev::file(SevId(1), new, "U1".into(), t(11, 0)),
            Err(DomainError::Invalid {
                field: "started_at",
                ..
            })
        ));
        let new = NewSev {
            title: "x".into(),
            detected_at: Some(ts(12, 0)),
            ..NewSev::default()
        };
        assert!(matches!(
            Sev::file(SevId(1), new, "U1".into(), t(11, 0)),
            Err(DomainError::Invalid {
                field: "detected_at",
                ..
            })
        ));
    }

    #[test]
    fn durations_are_derived_from_timestamps() {
        let mut sev = filed();
        assert_eq!(sev.time_to_detect(), Duration::minutes(10));
        assert_eq!(sev.time_to_resolve(), None);
        sev.move_to(Status::Resolved, None, t(10, 0)).unwrap();
        assert_eq!(sev.time_to_resolve(), Some(Duration::minutes(60)));
        assert_eq!(
            sev.time_to_mitigate(),
            Some(Duration::minutes(60)),
            "skipped mitigation counts as resolution"
        );
    }

    #[test]
    fn a_false_alarm_is_resolved_with_a_reason_then_closed() {
        let mut sev = filed();
        assert!(sev.move_to(Status::Closed, None, t(9, 20)).is_err());
        let entry = sev
            .move_to(Status::Resolved, Some("false alarm".into()), t(9, 20))
            .unwrap();
        assert_eq!(
            entry,
            EntryKind::StatusChanged {
                from: Status::Open,
                to: Status::Resolved,
                reason: Some("false alarm".into())
            }
        );
        assert_eq!(sev.resolution.as_deref(), Some("false alarm"));
        sev.move_to(Status::Closed, None, t(9, 30)).unwrap();
        assert_eq!(sev.closed_at, Some(t(9, 30)));
    }

    #[test]
    fn reopening_clears_the_later_timestamps() {
        let mut sev = filed();
        sev.move_to(Status::Mitigated, None, t(9, 30)).unwrap();
        sev.move_to(Status::Open, None, t(9, 40)).unwrap();
        assert_eq!((sev.mitigated_at, sev.resolved_at), (None, None));
        sev.move_to(Status::Mitigated, None, t(9, 50)).unwrap();
        assert_eq!(sev.time_to_mitigate(), Some(Duration::minutes(50)));
    }

    #[test]
    fn level_changes_are_recorded_and_no_ops_reported() {
        let mut sev = filed();
        assert_eq!(
            sev.change_level(Level::Sev0),
            Ok(EntryKind::LevelChanged {
                from: Level::Sev1,
                to: Level::Sev0
            })
        );
        assert_eq!(
            sev.change_level(Level::Sev0),
            Err(DomainError::AlreadyAtLevel(Level::Sev0))
        );
    }

    #[test]
    fn updates_need_text_and_an_unclosed_sev() {
        let mut sev = filed();
        assert!(matches!(
            sev.update("  "),
            Err(DomainError::Invalid { field: "text", .. })
        ));
        assert_eq!(
            sev.update(" rolled back "),
            Ok(EntryKind::Update {
                text: "rolled back".into()
            })
        );
        assert_eq!(sev.note(" graph "), Ok(EntryKind::Note { text: "graph".into() }));
        sev.move_to(Status::Resolved, None, t(10, 0)).unwrap();
        sev.move_to(Status::Closed, None, t(10, 0)).unwrap();
        assert_eq!(sev.update("late note"), Err(DomainError::Closed));
        assert_eq!(sev.note("late note"), Err(DomainError::Closed));
    }

    #[test]
    fn patch_records_only_real_changes() {
        let mut sev = filed();
        let tag: Tag = "system/payments".parse().unwrap();
        let entries = sev
            .apply(SevPatch {
                title: Some("Checkout returns 5xx".into()),
                product_track: Some(Some("payments".into())),
                add_tags: vec![tag.clone()],
                level: Some(Level::Sev0),
                ..SevPatch::default()
            })
            .unwrap();
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert_eq!(sev.product_track.as_deref(), Some("payments"));
        assert!(sev.tags.contains(&tag));
        assert_eq!(sev.level, Level::Sev0);
        let again = sev
            .apply(SevPatch {
                product_track: Some(Some("payments".into())),
                ..SevPatch::default()
            })
            .unwrap();
        assert!(again.is_empty());
    }

    #[test]
    fn a_rejected_patch_changes_nothing() {
        let mut sev = filed();
        let before = sev.clone();
        let err = sev.apply(SevPatch {
            title: Some("new".into()),
            detected_at: Some(ts(8, 0)),
            ..SevPatch::default()
        });
        assert!(err.is_err());
        assert_eq!(sev, before);
    }

    #[test]
    fn clearing_a_field_is_recorded() {
        let mut sev = filed();
        sev.apply(SevPatch {
            coordinator: Some(Some("U2".into())),
            ..SevPatch::default()
        })
        .unwrap();
        let entries = sev
            .apply(SevPatch {
                coordinator: Some(None),
                ..SevPatch::default()
            })
            .unwrap();
        assert_eq!(
            entries,
            [EntryKind::FieldChanged {
                field: SevField::Coordinator,
                value: String::new()
            }]
        );
        assert_eq!(sev.coordinator, None);
    }

    #[test]
    fn the_comms_lead_and_deputies_are_roles_on_the_timeline() {
        let mut sev = filed();
        let entries = sev
            .apply(SevPatch {
                comms_lead: Some(Some(" U9 ".into())),
                add_deputies: vec!["U3".into(), "U2".into(), "U3".into()],
                ..SevPatch::default()
            })
            .unwrap();
        assert_eq!(
            entries,
            [
                EntryKind::FieldChanged {
                    field: SevField::CommsLead,
                    value: "U9".into()
                },
                EntryKind::FieldChanged {
                    field: SevField::Deputies,
                    value: "U2, U3".into()
                }
            ]
        );
        assert_eq!(sev.comms_lead, Some("U9".into()));
        let removed = sev
            .apply(SevPatch {
                remove_deputies: vec!["U2".into()],
                add_deputies: vec!["U3".into()],
                ..SevPatch::default()
            })
            .unwrap();
        assert_eq!(
            removed,
            [EntryKind::FieldChanged {
                field: SevField::Deputies,
                value: "U3".into()
            }]
        );
        let cleared = sev
            .apply(SevPatch {
                deputies: Some(vec![]),
                ..SevPatch::default()
            })
            .unwrap();
        assert_eq!(
            cleared,
            [EntryKind::FieldChanged {
                field: SevField::Deputies,
                value: String::new()
            }]
        );
        assert!(sev.deputies.is_empty());
    }

    #[test]
    fn only_the_comms_lead_the_coordinator_or_a_deputy_publish_and_never_a_private_sev() {
        let mut sev = filed();
        let refused = sev.public_update("We are investigating", &"U5".into());
        assert_eq!(refused, Err(DomainError::NotPublisher("U5".into())));
        sev.coordinator = Some("U2".into());
        sev.comms_lead = Some("U3".into());
        sev.deputies.insert("U4".into());
        for who in ["U2", "U3", "U4"] {
            assert_eq!(
                sev.public_update(" We are investigating ", &who.into()),
                Ok(EntryKind::PublicUpdate {
                    text: "We are investigating".into(),
                    status: Some(crate::domain::PublicStatus::Investigating),
                }),
                "{who}"
            );
        }
        assert!(sev.public_update("", &"U3".into()).is_err());
        sev.private = true;
        assert_eq!(
            sev.public_update("We are investigating", &"U3".into()),
            Err(DomainError::PrivateNotPublished)
        );
    }

    #[test]
    fn the_coordinator_or_the_comms_lead_appoints_once_either_is_there() {
        let mut sev = filed();
        let appoint = |who: &str| SevPatch {
            add_deputies: vec![who.into()],
            ..SevPatch::default()
        };
        sev.apply_by(appoint("U5"), &"U5".into())
            .expect("with neither role held, whoever acts starts");
        sev.apply(SevPatch {
            coordinator: Some(Some("U2".into())),
            ..SevPatch::default()
        })
        .unwrap();
        let before = sev.clone();
        assert_eq!(
            sev.apply_by(appoint("U6"), &"U6".into()),
            Err(DomainError::NotAppointer("U6".into()))
        );
        assert_eq!(sev, before, "a refused appointment changes nothing");
        let comms = SevPatch {
            comms_lead: Some(Some("U3".into())),
            ..SevPatch::default()
        };
        sev.apply_by(comms, &"U2".into()).expect("the coordinator appoints");
        sev.apply_by(appoint("U7"), &"U3".into())
            .expect("so does the comms lead");
        sev.apply_by(appoint("U8"), &Actor::SEVTOOL)
            .expect("and sevtool's own actors");
        let unchanged = SevPatch {
            comms_lead: Some(Some("U3".into())),
            title: Some("new title".into()),
            ..SevPatch::default()
        };
        sev.apply_by(unchanged, &"U9".into())
            .expect("a form that repeats the roles as they are appoints nobody");
    }

    #[test]
    fn deputies_are_bounded_and_checked_like_any_role() {
        let mut sev = filed();
        let many = (0..=MAX_DEPUTIES).map(|i| Actor::from(format!("U{i}"))).collect();
        let before = sev.clone();
        assert!(matches!(
            sev.apply(SevPatch {
                deputies: Some(many),
                ..SevPatch::default()
            }),
            Err(DomainError::Invalid { field: "deputies", .. })
        ));
        assert!(matches!(
            sev.apply(SevPatch {
                add_deputies: vec![Actor::from("x".repeat(101))],
                ..SevPatch::default()
            }),
            Err(DomainError::Invalid { field: "deputies", .. })
        ));
        assert_eq!(sev, before);
    }
}
