//! `POST /alerts/generic`: a small JSON shape for any source that can send a webhook.
//!
//! ```json
//! {"fingerprint": "db-1-disk", "status": "firing", "title": "Disk 95% full on db-1",
//!  "labels": {"severity": "critical", "service": "ledger"},
//!  "description": "…", "runbook_url": "https://…", "source_url": "https://…",
//!  "starts_at": "2026-07-14T09:00:00Z"}
//! ```
//!
//! `fingerprint` (the deduplication key) and `title` are required; `status` defaults to firing.
//! Each call is one alert, and an alert is its own group.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Alert, AlertStatus, Labels, Notification, PayloadError, RUNBOOK_ANNOTATION, Source, check_group_key};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericPayload {
    fingerprint: String,
    title: String,
    #[serde(default = "firing")]
    status: AlertStatus,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    runbook_url: Option<String>,
    #[serde(default)]
    source_url: Option<String>,
    #[serde(default)]
    starts_at: Option<DateTime<Utc>>,
}

fn firing() -> AlertStatus {
    AlertStatus::Firing
}

impl GenericPayload {
    pub fn into_notification(self) -> Result<Notification, PayloadError> {
        check_group_key("fingerprint", &self.fingerprint)?;
        if self.title.trim().is_empty() {
            return Err(PayloadError(
                "title: is required; say in a few words what is wrong".into(),
            ));
        }
        let mut labels = self.labels;
        labels
            .entry("alertname".into())
            .or_insert_with(|| self.title.trim().to_owned());
        let mut annotations = Labels::new();
        annotations.insert("summary".into(), self.title.trim().to_owned());
        for (name, value) in [
            ("description", self.description),
            (RUNBOOK_ANNOTATION, self.runbook_url),
        ] {
            if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
                annotations.insert(name.into(), v);
            }
        }
        let links = self
            .source_url
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .map(|u| ("source".to_owned(), u))
            .into_iter()
            .collect();
        let alert = Alert {
            fingerprint: self.fingerprint.trim().to_owned(),
            status: self.status,
            labels: labels.clone(),
            annotations: annotations.clone(),
            starts_at: super::real_time(self.starts_at),
            ends_at: None,
            links,
        };
        Ok(Notification {
            source: Source::Generic,
            group_key: self.fingerprint,
            status: self.status,
            alerts: vec![alert],
            group_labels: labels,
            common_annotations: annotations,
            truncated_alerts: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<Notification, String> {
        serde_json::from_value::<GenericPayload>(v)
            .map_err(|e| e.to_string())?
            .into_notification()
            .map_err(|e| e.0)
    }

    #[test]
    fn one_call_is_one_alert_in_its_own_group() {
        let n = parse(json!({"fingerprint": "db-1-disk", "title": "Disk full",
            "labels": {"severity": "critical"}, "runbook_url": "https://rb/disk"}))
        .unwrap();
        assert_eq!((n.group_key.as_str(), n.status), ("db-1-disk", AlertStatus::Firing));
        assert_eq!(n.alerts[0].name(), "Disk full");
        assert_eq!(n.runbook_url().as_deref(), Some("https://rb/disk"));
        let r = parse(json!({"fingerprint": "db-1-disk", "title": "Disk full", "status": "resolved"})).unwrap();
        assert_eq!(r.status, AlertStatus::Resolved);
    }

    #[test]
    fn names_what_is_missing_or_unknown() {
        assert!(parse(json!({"title": "x"})).unwrap_err().contains("fingerprint"));
        assert!(
            parse(json!({"fingerprint": "x", "title": " "}))
                .unwrap_err()
                .starts_with("title")
        );
        assert!(
            parse(json!({"fingerprint": "x", "title": "t", "sevrity": "1"}))
                .unwrap_err()
                .contains("sevrity")
        );
        assert!(
            parse(json!({"fingerprint": "x", "title": "t", "status": "ok"}))
                .unwrap_err()
                .contains("`firing`")
        );
    }
}
