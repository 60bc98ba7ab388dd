//! Alertmanager's webhook payload (version 4) and Grafana's, which is the same shape with extra
//! fields. Unknown fields are ignored so that newer senders keep working.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Alert, AlertStatus, Labels, Notification, PayloadError, Source, check_group_key, real_time};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAlert {
    status: AlertStatus,
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
    #[serde(default)]
    starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    ends_at: Option<DateTime<Utc>>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    // Grafana only.
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: Option<String>,
    #[serde(default, rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(default, rename = "silenceURL")]
    silence_url: Option<String>,
    #[serde(default)]
    value_string: Option<String>,
}

/// `POST /alerts/alertmanager`: Alertmanager's webhook payload, `version` "4".
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertmanagerPayload {
    version: String,
    group_key: String,
    status: AlertStatus,
    alerts: Vec<WireAlert>,
    #[serde(default)]
    group_labels: Labels,
    #[serde(default)]
    common_annotations: Labels,
    #[serde(default)]
    truncated_alerts: u64,
}

/// `POST /alerts/grafana`: Grafana unified alerting's webhook payload, `version` "1". It is
/// Alertmanager's shape plus `orgId`, `title`, `state`, `message` and, per alert,
/// `dashboardURL`, `panelURL`, `silenceURL`, `valueString` (kept as links and a value annotation).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrafanaPayload {
    version: String,
    group_key: String,
    status: AlertStatus,
    alerts: Vec<WireAlert>,
    #[serde(default)]
    group_labels: Labels,
    #[serde(default)]
    common_annotations: Labels,
    #[serde(default)]
    truncated_alerts: u64,
    #[serde(default)]
    org_id: Option<i64>,
}

fn link(name: &str, url: Option<String>) -> Option<(String, String)> {
    url.map(|u| u.trim().to_owned())
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .map(|u| (name.to_owned(), u))
}

/// Alertmanager always sends a fingerprint; the fallback keeps older senders deduplicating by labels.
fn label_fingerprint(labels: &Labels) -> String {
    let joined: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    super::group_id(Source::Generic, &joined.join(","))
}

fn convert(alerts: Vec<WireAlert>) -> Result<Vec<Alert>, PayloadError> {
    if alerts.is_empty() {
        return Err(PayloadError(
            "alerts: is empty; a notification carries at least one alert".into(),
        ));
    }
    alerts
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let fingerprint = match a.fingerprint.map(|f| f.trim().to_owned()) {
                Some(f) if f.len() > 200 => {
                    return Err(PayloadError(format!(
                        "alerts[{i}].fingerprint: is longer than 200 characters"
                    )));
                }
                Some(f) if !f.is_empty() => f,
                _ => label_fingerprint(&a.labels),
            };
            let mut annotations = a.annotations;
            if let Some(v) = a.value_string.filter(|v| !v.trim().is_empty()) {
                annotations.entry("value".into()).or_insert(v);
            }
            let links = [
                link("source", a.generator_url),
                link("dashboard", a.dashboard_url),
                link("panel", a.panel_url),
                link("silence", a.silence_url),
            ]
            .into_iter()
            .flatten()
            .collect();
            Ok(Alert {
                fingerprint,
                status: a.status,
                labels: a.labels,
                annotations,
                starts_at: real_time(a.starts_at),
                ends_at: real_time(a.ends_at),
                links,
            })
        })
        .collect()
}

impl AlertmanagerPayload {
    pub fn into_notification(self) -> Result<Notification, PayloadError> {
        if self.version != "4" {
            return Err(PayloadError(format!(
                "version: `{}` is not supported; this endpoint takes Alertmanager's webhook payload version \"4\"",
                self.version
            )));
        }
        check_group_key("groupKey", &self.group_key)?;
        Ok(Notification {
            source: Source::Alertmanager,
            group_key: self.group_key,
            status: self.status,
            alerts: convert(self.alerts)?,
            group_labels: self.group_labels,
            common_annotations: self.common_annotations,
            truncated_alerts: self.truncated_alerts,
        })
    }
}

impl GrafanaPayload {
    pub fn into_notification(self) -> Result<Notification, PayloadError> {
        if self.version != "1" {
            return Err(PayloadError(format!(
                "version: `{}` is not supported; this endpoint takes Grafana's webhook payload version \"1\"",
                self.version
            )));
        }
        check_group_key("groupKey", &self.group_key)?;
        // Grafana's group keys are per organisation's Alertmanager; keep orgs apart.
        let group_key = match self.org_id {
            Some(org) => format!("org{org}:{}", self.group_key),
            None => self.group_key,
        };
        Ok(Notification {
            source: Source::Grafana,
            group_key,
            status: self.status,
            alerts: convert(self.alerts)?,
            group_labels: self.group_labels,
            common_annotations: self.common_annotations,
            truncated_alerts: self.truncated_alerts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendored(name: &str) -> String {
        let path = format!("{}/../../shared/vendor/alertmanager/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn parse(json: &str) -> Result<Notification, PayloadError> {
        serde_json::from_str::<AlertmanagerPayload>(json)
            .map_err(|e| PayloadError(e.to_string()))?
            .into_notification()
    }

    #[test]
    fn parses_the_recorded_firing_payload() {
        let n = parse(&vendored("alertmanager-firing.json")).unwrap();
        assert_eq!(n.source, Source::Alertmanager);
        assert_eq!(n.group_key, "{}:{alertname=\"HighErrorRate\", service=\"checkout\"}");
        assert_eq!(n.status, AlertStatus::Firing);
        let a = &n.alerts[0];
        assert_eq!(a.fingerprint, "69c2e62f0b0aec37");
        assert_eq!(a.name(), "HighErrorRate");
        assert_eq!(a.labels["severity"], "critical");
        assert_eq!(a.ends_at, None, "Go's zero time means still firing");
        assert!(a.starts_at.is_some());
        assert_eq!(a.links[0].0, "source");
        assert_eq!(
            n.runbook_url().as_deref(),
            Some("https://runbooks.example.com/checkout")
        );
    }

    #[test]
    fn parses_the_recorded_resolved_payload() {
        let n = parse(&vendored("alertmanager-resolved.json")).unwrap();
        assert_eq!(n.status, AlertStatus::Resolved);
        assert!(n.alerts[0].ends_at.is_some());
        assert_eq!(n.firing().count(), 0);
    }

    #[test]
    fn refuses_other_versions_and_empty_groups() {
        let mut v: serde_json::Value = serde_json::from_str(&vendored("alertmanager-firing.json")).unwrap();
        v["version"] = "3".into();
        let err = parse(&v.to_string()).unwrap_err().0;
        assert!(err.starts_with("version: `3`"), "{err}");
        v["version"] = "4".into();
        v["groupKey"] = " ".into();
        assert!(parse(&v.to_string()).unwrap_err().0.starts_with("groupKey"));
        v["groupKey"] = "g".into();
        v["alerts"] = serde_json::json!([]);
        assert!(parse(&v.to_string()).unwrap_err().0.starts_with("alerts: is empty"));
    }

    #[test]
    fn a_missing_fingerprint_falls_back_to_the_labels() {
        let mk = |labels: serde_json::Value| {
            parse(
                &serde_json::json!({"version": "4", "groupKey": "g", "status": "firing",
                    "alerts": [{"status": "firing", "labels": labels}]})
                .to_string(),
            )
            .unwrap()
            .alerts[0]
                .fingerprint
                .clone()
        };
        assert_eq!(mk(serde_json::json!({"a": "1"})), mk(serde_json::json!({"a": "1"})));
        assert_ne!(mk(serde_json::json!({"a": "1"})), mk(serde_json::json!({"a": "2"})));
    }

    #[test]
    fn grafana_extras_become_links_and_orgs_stay_apart() {
        let json = serde_json::json!({
            "receiver": "sev", "status": "firing", "orgId": 1, "version": "1",
            "groupKey": "{}/{}:{alertname=\"DiskFull\"}", "title": "[FIRING:1] DiskFull", "state": "alerting",
            "message": "…", "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull"},
              "annotations": {}, "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "https://grafana.example.com/alerting/grafana/abc/view",
              "fingerprint": "f1", "silenceURL": "https://grafana.example.com/alerting/silence/new",
              "dashboardURL": "", "panelURL": "", "valueString": "[ var='A' value=97 ]"}]
        });
        let n: GrafanaPayload = serde_json::from_value(json).unwrap();
        let n = n.into_notification().unwrap();
        assert_eq!(n.source, Source::Grafana);
        assert!(n.group_key.starts_with("org1:"));
        let names: Vec<&str> = n.alerts[0].links.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["source", "silence"], "empty URLs are dropped");
        assert_eq!(n.alerts[0].annotations["value"], "[ var='A' value=97 ]");
    }
}
