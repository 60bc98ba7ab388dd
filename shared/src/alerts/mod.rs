//! Alerts from monitoring systems, as pure values and rules (no I/O): the webhook payloads each
//! source sends, normalised into one [`Notification`]; the routing rules that decide whether an
//! alert opens a SEV; and the per-group state that deduplicates repeats. The application service
//! that acts on them is `app::AlertService`.

mod alertmanager;
mod generic;
mod group;
mod matcher;
mod rules;
mod template;
mod text;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Actor, Timestamp};

pub use alertmanager::{AlertmanagerPayload, GrafanaPayload};
pub use generic::GenericPayload;
pub use group::{AlertGroup, AlertOrigin, AlertPage, FollowUp, MAX_KNOWN_ALERTS, NOTE_EVERY, PlannedSev, taken_over};
pub use matcher::Matcher;
pub use rules::{Owner, Plan, Rules, RulesError};
pub use text::planned;

/// Labels and annotations: sorted, so that everything derived from them is stable.
pub type Labels = BTreeMap<String, String>;

/// The annotation whose link is shown on the SEV and kept for its announcement.
pub const RUNBOOK_ANNOTATION: &str = "runbook_url";

/// Where a notification came from. Groups of different sources never share a SEV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Alertmanager,
    Grafana,
    Generic,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Alertmanager => "alertmanager",
            Source::Grafana => "grafana",
            Source::Generic => "generic",
        }
    }

    /// The actor alert-made changes are recorded under. Anything not starting with `alert:` is a
    /// person (or another integration acting for one), which is what "taken over" looks for.
    pub fn actor(self) -> Actor {
        Actor::alert(self.as_str())
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// One alert as every source reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Identifies the alert within its group across deliveries.
    pub fingerprint: String,
    pub status: AlertStatus,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Links back to the source: a graph, a dashboard, a panel.
    pub links: Vec<(String, String)>,
}

impl Alert {
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("alert", String::as_str)
    }

    pub fn runbook_url(&self) -> Option<&str> {
        self.annotations
            .get(RUNBOOK_ANNOTATION)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

/// One delivery from a source: the current state of one alert group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub source: Source,
    /// The source's identity of the group (Alertmanager's `groupKey`; the generic fingerprint).
    pub group_key: String,
    pub status: AlertStatus,
    pub alerts: Vec<Alert>,
    pub group_labels: Labels,
    pub common_annotations: Labels,
    /// Alerts the source left out of the payload (Alertmanager's `max_alerts`).
    pub truncated_alerts: u64,
}

impl Notification {
    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.status == AlertStatus::Firing)
    }

    /// The first runbook link: the group's common one, else the first alert's.
    pub fn runbook_url(&self) -> Option<String> {
        self.common_annotations
            .get(RUNBOOK_ANNOTATION)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .or_else(|| self.alerts.iter().find_map(|a| a.runbook_url().map(str::to_owned)))
    }
}

/// Why a payload was refused, naming the field. Shown as-is in a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

/// Alertmanager writes Go's zero time (`0001-01-01T00:00:00Z`) for "not ended yet". Any other
/// time outside the years a [`Timestamp`] allows is a source's broken clock: it is dropped like
/// the zero time rather than refusing (and so losing) the alert.
pub(crate) fn real_time(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.and_then(|t| Timestamp::new("startsAt", t).ok()).map(Timestamp::get)
}

/// Longest group key accepted; keys are hashed for storage, this only bounds what is kept.
pub const MAX_GROUP_KEY: usize = 4096;

pub(crate) fn check_group_key(field: &str, key: &str) -> Result<(), PayloadError> {
    if key.trim().is_empty() {
        return Err(PayloadError(format!("{field}: is required and must not be empty")));
    }
    if key.len() > MAX_GROUP_KEY {
        return Err(PayloadError(format!("{field}: is longer than {MAX_GROUP_KEY} bytes")));
    }
    Ok(())
}

/// A stable id for a group, safe in any store key: `sha256(source, key)` in hex.
pub fn group_id(source: Source, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(source.as_str().as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    crate::hex::hex(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids_are_stable_and_separate_sources() {
        let a = group_id(Source::Alertmanager, "{}:{alertname=\"X\"}");
        assert_eq!(a, group_id(Source::Alertmanager, "{}:{alertname=\"X\"}"));
        assert_ne!(a, group_id(Source::Grafana, "{}:{alertname=\"X\"}"));
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn zero_time_means_not_ended() {
        let zero = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z").unwrap().to_utc();
        assert_eq!(real_time(Some(zero)), None);
        let t = Utc::now();
        assert_eq!(real_time(Some(t)), Some(t));
    }
}
