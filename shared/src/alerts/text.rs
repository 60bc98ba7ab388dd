//! What people read about alerts: the SEV's title and description and the timeline notes.

use chrono::{DateTime, Utc};

use super::group::PlannedSev;
use super::{Alert, Labels, Notification, Plan, Source};
use crate::domain::{MAX_TEXT, MAX_TITLE};

/// Alerts listed in a description; the rest are counted.
const LISTED_ALERTS: usize = 20;

pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Alertmanager => "Alertmanager",
        Source::Grafana => "Grafana",
        Source::Generic => "an alert webhook",
    }
}

fn labels_inline(labels: &Labels, skip: &[&str]) -> String {
    let parts: Vec<String> = labels
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// One line per alert: name, labels, since when, its summary and links.
pub fn describe_alert(a: &Alert) -> String {
    let mut line = format!("- {} {}", a.name(), labels_inline(&a.labels, &["alertname"]));
    if let Some(t) = a.starts_at {
        line.push_str(&format!(" since {}", when(t)));
    }
    if let Some(s) = a
        .annotations
        .get("summary")
        .or_else(|| a.annotations.get("description"))
    {
        line.push_str(&format!(": {}", clip(s.trim(), 300)));
    }
    for (name, url) in &a.links {
        line.push_str(&format!(" [{name}: {url}]"));
    }
    line
}

fn title(n: &Notification) -> String {
    let first = n.firing().next().or(n.alerts.first());
    let name = first.map_or("Alert", Alert::name);
    let summary = n
        .common_annotations
        .get("summary")
        .or_else(|| first.and_then(|a| a.annotations.get("summary")))
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty());
    let title = match summary {
        Some(s) if s != name => format!("{name}: {s}"),
        _ => name.to_owned(),
    };
    clip(&title, MAX_TITLE)
}

fn description(n: &Notification, plan: &Plan) -> String {
    let firing: Vec<&Alert> = n.firing().collect();
    let mut text = format!(
        "Opened by {} from alert group {} ({} alert{} firing; rule: {}).",
        source_name(n.source),
        labels_inline(&n.group_labels, &[]),
        firing.len(),
        if firing.len() == 1 { "" } else { "s" },
        plan.rule
    );
    if let Some(url) = n.runbook_url() {
        text.push_str(&format!("\nRunbook: {url}"));
    }
    if let Some(team) = &plan.team {
        text.push_str(&format!("\nTeam: {team}"));
    }
    if let Some(d) = n.common_annotations.get("description") {
        text.push_str(&format!("\n\n{}", d.trim()));
    }
    text.push_str("\n\nAlerts:");
    for a in firing.iter().take(LISTED_ALERTS) {
        text.push('\n');
        text.push_str(&describe_alert(a));
    }
    let unlisted = firing.len().saturating_sub(LISTED_ALERTS) as u64 + n.truncated_alerts;
    if unlisted > 0 {
        text.push_str(&format!("\n… and {unlisted} more"));
    }
    clip(&text, MAX_TEXT)
}

/// The SEV a group's firing alerts open, decided once when the group is claimed.
pub fn planned(n: &Notification, plan: &Plan, now: DateTime<Utc>) -> PlannedSev {
    // The incident started when the earliest alert did; a source clock ahead of ours must not
    // make the SEV start in the future, which the domain rightly refuses.
    let started_at = n.firing().filter_map(|a| a.starts_at).min().unwrap_or(now).min(now);
    PlannedSev {
        title: title(n),
        level: plan.level,
        description: description(n, plan),
        product_track: plan.product_track.clone(),
        tags: plan.tags.clone(),
        started_at,
        note: opening_note(n, plan),
        rule: plan.rule.clone(),
        team: plan.team.clone(),
        page: plan.page.clone(),
    }
}

/// The first timeline update of an alert-opened SEV: why it exists and where the runbook is.
pub fn opening_note(n: &Notification, plan: &Plan) -> String {
    let firing: Vec<&Alert> = n.firing().collect();
    let mut text = format!(
        "Opened by {} (rule: {}, {} alert{} firing).",
        source_name(n.source),
        plan.rule,
        firing.len(),
        if firing.len() == 1 { "" } else { "s" }
    );
    if let Some(url) = n.runbook_url() {
        text.push_str(&format!(" Runbook: {url}"));
    }
    if let Some(team) = &plan.team {
        text.push_str(&format!(" Team: {team}."));
    }
    clip(&text, MAX_TEXT)
}

pub fn resolved_note(n: &Notification, firing_deliveries: u64, now: DateTime<Utc>) -> String {
    let ended = n.alerts.iter().filter_map(|a| a.ends_at).max().unwrap_or(now);
    format!(
        "All alerts resolved at {} (the group fired {} time{} in all).",
        when(ended.min(now)),
        firing_deliveries,
        if firing_deliveries == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::{AlertStatus, Rules};

    fn n() -> Notification {
        let labels: Labels = [
            ("alertname", "HighErrorRate"),
            ("service", "checkout"),
            ("severity", "critical"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let annotations: Labels = [
            ("summary", "5xx   rate above 5%"),
            ("runbook_url", "https://rb/checkout"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Notification {
            source: Source::Alertmanager,
            group_key: "g".into(),
            status: AlertStatus::Firing,
            alerts: vec![Alert {
                fingerprint: "f".into(),
                status: AlertStatus::Firing,
                labels,
                annotations: annotations.clone(),
                starts_at: Some(Utc::now() + chrono::Duration::hours(1)),
                ends_at: None,
                links: vec![("source".into(), "https://prom/graph".into())],
            }],
            group_labels: [("alertname".to_string(), "HighErrorRate".to_string())].into(),
            common_annotations: annotations,
            truncated_alerts: 2,
        }
    }

    #[test]
    fn the_planned_sev_names_the_alert_and_shows_the_runbook() {
        let n = n();
        let plan = Rules::defaults().decide(n.firing()).unwrap();
        let now = Utc::now();
        let p = planned(&n, &plan, now);
        assert_eq!(p.title, "HighErrorRate: 5xx rate above 5%");
        assert!(
            p.description.contains("Runbook: https://rb/checkout"),
            "{}",
            p.description
        );
        assert!(p.description.contains("Team: checkout"));
        assert!(p.description.contains("[source: https://prom/graph]"));
        assert!(p.description.ends_with("… and 2 more"), "{}", p.description);
        assert!(p.note.contains("Runbook: https://rb/checkout"));
        assert_eq!(p.started_at, now, "a start in the future is clamped to now");
        assert!(crate::domain::Sev::file(crate::domain::SevId(1), p.new_sev(), "alert:x".into(), now).is_ok());
    }
}
