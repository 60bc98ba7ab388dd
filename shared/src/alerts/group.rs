//! The state of one alert group, kept under `ALERTGROUP#<source>#<id>`: which SEV it opened (or is
//! opening), which alerts it has seen, and how many deliveries have not reached the timeline yet.
//! Deliveries that add nothing new only bump a counter here, so a storm of repeats costs one
//! small write each and never floods the SEV's timeline.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::text::{describe_alert, when};
use super::{AlertStatus, Labels, Notification, Owner, Plan, Source};
use crate::domain::{Entry, EntryKind, Level, NewSev, Sev, SevId, Tag, Timestamp};

/// Fingerprints remembered per group, so a huge group cannot grow its item without bound.
pub const MAX_KNOWN_ALERTS: usize = 500;
/// Repeats that add nothing new are summarised on the timeline at most this often.
pub const NOTE_EVERY: Duration = Duration::minutes(30);

/// The SEV a group is about to open, fixed when the group is claimed so that every delivery
/// that finishes the opening files exactly the same SEV (and so hits the same idempotency key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedSev {
    pub title: String,
    pub level: Level,
    pub description: String,
    pub product_track: Option<String>,
    pub tags: Vec<Tag>,
    pub started_at: DateTime<Utc>,
    pub note: String,
    pub rule: String,
    pub team: Option<String>,
    /// The owner to page once the SEV is filed (see [`Plan::page`]); absent in groups claimed
    /// before paging from alerts existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Owner>,
}

impl PlannedSev {
    pub fn new_sev(&self) -> NewSev {
        NewSev {
            title: self.title.clone(),
            level: Some(self.level),
            description: Some(self.description.clone()),
            product_track: self.product_track.clone(),
            tags: self.tags.clone(),
            private: false,
            drill: false,
            started_at: Timestamp::new("started_at", self.started_at).ok(),
            detected_at: Timestamp::new("detected_at", self.started_at).ok(),
        }
    }
}

/// Where an alert-opened SEV came from, kept on the SEV (`SEV#<n>` / `ALERT`) for its page and
/// its announcements (the runbook link, the team to page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertOrigin {
    pub source: Source,
    pub group_key: String,
    pub group: String,
    pub generation: u64,
    pub rule: String,
    pub team: Option<String>,
    pub runbook_url: Option<String>,
    pub group_labels: Labels,
    /// Whom opening the SEV paged, or why nobody was, when its rule pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<AlertPage>,
}

/// What a paging rule's SEV did about its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertPage {
    /// The catalog team paged (the page itself is on the SEV's `pages`).
    Paged { team: String },
    /// Nobody was paged, and why: an unknown team or service, or no catalog.
    NotPaged { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertGroup {
    pub source: Source,
    pub group_key: String,
    /// Bumped each time the group opens a SEV; part of the filing's idempotency key.
    pub generation: u64,
    /// The SEV of the current generation, once filed and linked. It may since have ended.
    pub sev: Option<SevId>,
    /// Set from claim until link: the SEV being opened.
    pub pending: Option<PlannedSev>,
    pub mitigate_on_resolve: bool,
    pub runbook_url: Option<String>,
    pub group_labels: Labels,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Deliveries in this generation (firing and resolved, retries included).
    pub deliveries: u64,
    pub firing_deliveries: u64,
    /// Deliveries since the timeline last heard of this group.
    pub unreported: u64,
    pub noted_at: Option<DateTime<Utc>>,
    pub known: BTreeSet<String>,
    pub firing: bool,
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What a delivery to a group with a live SEV changes on that SEV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// A timeline update to post, when the delivery says something new.
    pub note: Option<String>,
    /// The group fired again after being resolved.
    pub firing_again: bool,
    /// The group just resolved (the first resolved delivery, not its repeats).
    pub resolved: bool,
}

impl AlertGroup {
    /// A group seen for the first time.
    pub fn new(n: &Notification, now: DateTime<Utc>) -> AlertGroup {
        AlertGroup {
            source: n.source,
            group_key: n.group_key.clone(),
            generation: 0,
            sev: None,
            pending: None,
            mitigate_on_resolve: false,
            runbook_url: n.runbook_url(),
            group_labels: n.group_labels.clone(),
            first_seen: now,
            last_seen: now,
            deliveries: 0,
            firing_deliveries: 0,
            unreported: 0,
            noted_at: None,
            known: BTreeSet::new(),
            firing: false,
            resolved_at: None,
        }
    }

    fn remember(&mut self, n: &Notification) -> Vec<String> {
        let mut new = Vec::new();
        for a in n.firing() {
            if !self.known.contains(&a.fingerprint) && self.known.len() < MAX_KNOWN_ALERTS {
                self.known.insert(a.fingerprint.clone());
                new.push(a.fingerprint.clone());
            }
        }
        new
    }

    fn seen(&mut self, n: &Notification, now: DateTime<Utc>) {
        self.last_seen = now;
        self.deliveries += 1;
        if n.status == AlertStatus::Firing {
            self.firing_deliveries += 1;
        }
        if let Some(url) = n.runbook_url() {
            self.runbook_url = Some(url);
        }
    }

    /// A delivery that opens nothing: counted, and the group's state kept for the next one.
    pub fn record(&mut self, n: &Notification, now: DateTime<Utc>) {
        self.seen(n, now);
        self.firing = n.status == AlertStatus::Firing;
        if !self.firing {
            self.resolved_at = Some(now);
        }
    }

    /// Starts a new generation that will open `planned`. Counters restart: they describe one SEV.
    pub fn claim(&mut self, n: &Notification, plan: &Plan, planned: PlannedSev, now: DateTime<Utc>) {
        self.generation += 1;
        self.sev = None;
        self.pending = Some(planned);
        self.mitigate_on_resolve = plan.mitigate_on_resolve;
        self.group_labels = n.group_labels.clone();
        self.deliveries = 0;
        self.firing_deliveries = 0;
        self.unreported = 0;
        self.noted_at = Some(now);
        self.known.clear();
        self.remember(n);
        self.seen(n, now);
        self.firing = true;
        self.resolved_at = None;
    }

    pub fn link(&mut self, sev: SevId) {
        self.sev = Some(sev);
        self.pending = None;
    }

    pub fn origin(&self, id: &str) -> Option<AlertOrigin> {
        let planned = self.pending.as_ref()?;
        Some(AlertOrigin {
            source: self.source,
            group_key: self.group_key.clone(),
            group: id.to_owned(),
            generation: self.generation,
            rule: planned.rule.clone(),
            team: planned.team.clone(),
            runbook_url: self.runbook_url.clone(),
            group_labels: self.group_labels.clone(),
            page: None,
        })
    }

    /// A delivery for a group whose SEV is live. Says what, if anything, reaches the timeline.
    pub fn follow_up(&mut self, n: &Notification, now: DateTime<Utc>) -> FollowUp {
        let repeats = self.unreported;
        let since = self.noted_at;
        self.seen(n, now);
        let mut out = FollowUp {
            note: None,
            firing_again: false,
            resolved: false,
        };
        match n.status {
            AlertStatus::Firing => {
                let new = self.remember(n);
                out.firing_again = !self.firing;
                self.firing = true;
                let stale = since.is_none_or(|t| now - t >= NOTE_EVERY);
                if !new.is_empty() || out.firing_again || stale {
                    let mut lines = Vec::new();
                    if out.firing_again {
                        lines.push(format!("Alerts firing again at {}.", when(now)));
                    }
                    if !new.is_empty() {
                        let described: Vec<String> = n
                            .firing()
                            .filter(|a| new.contains(&a.fingerprint))
                            .take(20)
                            .map(describe_alert)
                            .collect();
                        lines.push(format!(
                            "{} new alert{} in the group:\n{}",
                            new.len(),
                            if new.len() == 1 { "" } else { "s" },
                            described.join("\n")
                        ));
                    }
                    if repeats > 0 {
                        let since = since.map(|t| format!(" since {}", when(t))).unwrap_or_default();
                        lines.push(format!(
                            "Still firing: {} more time{}{since}.",
                            repeats,
                            if repeats == 1 { "" } else { "s" }
                        ));
                    }
                    if !lines.is_empty() {
                        out.note = Some(lines.join("\n"));
                    }
                }
            }
            AlertStatus::Resolved if self.firing => {
                self.firing = false;
                self.resolved_at = Some(now);
                out.resolved = true;
                out.note = Some(super::text::resolved_note(n, self.firing_deliveries, now));
            }
            // A repeat of a resolved delivery (a retry, or a re-send) says nothing new.
            AlertStatus::Resolved => {}
        }
        if out.note.is_some() {
            self.unreported = 0;
            self.noted_at = Some(now);
        } else {
            self.unreported += 1;
        }
        out
    }
}

/// Who, if anyone, has taken the SEV over from the alerts: a coordinator was named, or someone
/// other than an alert source changed its status or level. Alerts then stop changing its status.
pub fn taken_over(sev: &Sev, timeline: &[Entry]) -> Option<String> {
    if let Some(c) = &sev.coordinator {
        return Some(format!("{c} is coordinating"));
    }
    timeline
        .iter()
        .rev()
        .filter(|e| !e.author.is_alert())
        .find_map(|e| match &e.kind {
            EntryKind::StatusChanged { to, .. } => Some(format!("{} set the status to {to}", e.author)),
            EntryKind::LevelChanged { to, .. } => Some(format!("{} set the level to {to}", e.author)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::{Alert, Rules};
    use crate::domain::{EntryId, Status};
    use chrono::TimeZone;

    fn t(m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 14, 9, m, 0).unwrap()
    }

    fn alert(fp: &str, status: AlertStatus) -> Alert {
        Alert {
            fingerprint: fp.into(),
            status,
            labels: [("alertname", "DiskFull"), ("severity", "critical"), ("instance", fp)]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: Labels::new(),
            starts_at: Some(t(0)),
            ends_at: None,
            links: vec![],
        }
    }

    fn notification(status: AlertStatus, fps: &[&str]) -> Notification {
        Notification {
            source: Source::Alertmanager,
            group_key: "g".into(),
            status,
            alerts: fps.iter().map(|f| alert(f, status)).collect(),
            group_labels: Labels::new(),
            common_annotations: Labels::new(),
            truncated_alerts: 0,
        }
    }

    fn claimed() -> AlertGroup {
        let n = notification(AlertStatus::Firing, &["a"]);
        let plan = Rules::defaults().decide(n.firing()).unwrap();
        let planned = crate::alerts::text::planned(&n, &plan, t(0));
        let mut g = AlertGroup::new(&n, t(0));
        g.claim(&n, &plan, planned, t(0));
        g.link(SevId(1));
        g
    }

    #[test]
    fn repeats_are_counted_not_noted_until_something_new_happens() {
        let mut g = claimed();
        let firing = notification(AlertStatus::Firing, &["a"]);
        for m in 1..=14 {
            assert_eq!(g.follow_up(&firing, t(m)).note, None);
        }
        assert_eq!((g.unreported, g.firing_deliveries), (14, 15));
        let more = notification(AlertStatus::Firing, &["a", "b"]);
        let note = g.follow_up(&more, t(20)).note.unwrap();
        assert!(
            note.starts_with("1 new alert in the group:\n- DiskFull {instance=\"b\""),
            "{note}"
        );
        assert!(note.contains("Still firing: 14 more times since"), "{note}");
        assert_eq!(g.unreported, 0);
    }

    #[test]
    fn quiet_repeats_are_summarised_at_most_every_half_hour() {
        let mut g = claimed();
        let firing = notification(AlertStatus::Firing, &["a"]);
        assert_eq!(g.follow_up(&firing, t(29)).note, None);
        let note = g.follow_up(&firing, t(31)).note.unwrap();
        assert!(note.starts_with("Still firing: 1 more time since"), "{note}");
    }

    #[test]
    fn resolving_is_noted_once_and_firing_again_is_noticed() {
        let mut g = claimed();
        let resolved = notification(AlertStatus::Resolved, &["a"]);
        let first = g.follow_up(&resolved, t(5));
        assert!(first.resolved);
        assert!(
            first
                .note
                .unwrap()
                .contains("All alerts resolved at 2026-07-14 09:05:00 UTC")
        );
        let again = g.follow_up(&resolved, t(6));
        assert_eq!(
            (again.resolved, again.note),
            (false, None),
            "a retried resolve adds nothing"
        );
        let refire = g.follow_up(&notification(AlertStatus::Firing, &["a"]), t(7));
        assert!(refire.firing_again);
        assert!(refire.note.unwrap().starts_with("Alerts firing again"));
    }

    #[test]
    fn known_alerts_are_bounded() {
        let mut g = claimed();
        let many: Vec<String> = (0..MAX_KNOWN_ALERTS + 50).map(|i| format!("f{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        g.follow_up(&notification(AlertStatus::Firing, &refs), t(1));
        assert_eq!(g.known.len(), MAX_KNOWN_ALERTS);
    }

    fn entry(author: &str, kind: EntryKind) -> Entry {
        Entry {
            id: EntryId::new(t(0), 1),
            at: t(0),
            author: author.into(),
            kind,
        }
    }

    #[test]
    fn a_person_changing_status_or_level_or_coordinating_takes_over() {
        let n = notification(AlertStatus::Firing, &["a"]);
        let planned = crate::alerts::text::planned(&n, &Rules::defaults().decide(n.firing()).unwrap(), t(0));
        let (mut sev, _) = Sev::file(SevId(1), planned.new_sev(), "alert:alertmanager".into(), t(1)).unwrap();
        let by_alerts = [
            entry("alert:alertmanager", EntryKind::Filed { level: Level::Sev2 }),
            entry(
                "alert:alertmanager",
                EntryKind::StatusChanged {
                    from: Status::Open,
                    to: Status::Mitigated,
                    reason: None,
                },
            ),
            entry("alice", EntryKind::Update { text: "looking".into() }),
        ];
        assert_eq!(taken_over(&sev, &by_alerts), None, "updates by people do not take over");
        let mut by_alice = by_alerts.to_vec();
        by_alice.push(entry(
            "alice",
            EntryKind::LevelChanged {
                from: Level::Sev2,
                to: Level::Sev1,
            },
        ));
        assert_eq!(
            taken_over(&sev, &by_alice).as_deref(),
            Some("alice set the level to SEV1")
        );
        sev.coordinator = Some("bob".into());
        assert_eq!(taken_over(&sev, &by_alerts).as_deref(), Some("bob is coordinating"));
    }
}
