use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{EntryId, NagStep, ReportNagStep, ScaId, SevId};
use crate::reports::IsoWeek;
use crate::slack::Inbound;

/// The current envelope version. A consumer refuses envelopes from a newer producer rather than
/// guess at them; they wait in the queue (and then its dead-letter queue) until it is upgraded.
pub const TASK_VERSION: u32 = 1;

/// Work for the integrations, named by what happened rather than by what to do about it, so
/// each integration decides its own steps (Slack announces, a pager pages).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Task {
    SevFiled {
        sev: SevId,
    },
    TimelineEntryAdded {
        sev: SevId,
        entry: EntryId,
    },
    /// A Slack request acknowledged at once and acted on here.
    Slack {
        inbound: Inbound,
    },
    /// An SCA changed (its timeline entry `change` says how): plan its nags again.
    ScheduleNags {
        sca: ScaId,
        change: EntryId,
    },
    /// A scheduled reminder about an open SCA, fired by the scheduler.
    Nag {
        sca: ScaId,
        step: NagStep,
        at: DateTime<Utc>,
    },
    /// A SEV was filed: page the coordinator (and call-leader) rotation if its level calls for it.
    AutoPage {
        sev: SevId,
    },
    /// Page one team (its page record says why and with which dedup key).
    Page {
        sev: SevId,
        team: String,
    },
    /// Page every team in the catalog.
    Mayday {
        sev: SevId,
    },
    /// The SEV was resolved: resolve its open pages.
    ResolvePages {
        sev: SevId,
        entry: EntryId,
    },
    /// Something that decides a SEV's report nags changed (its status, its report owner, its
    /// report; entry `change`): plan them again.
    ScheduleReportNags {
        sev: SevId,
        change: EntryId,
    },
    /// A scheduled reminder about a SEV's report (no owner yet, or overdue).
    ReportNag {
        sev: SevId,
        step: ReportNagStep,
        at: DateTime<Utc>,
    },
    /// The SEV got a report owner (its timeline entry `entry` says so): draft its report.
    DraftReport {
        sev: SevId,
        entry: EntryId,
    },
    /// Post the weekly review digest of `week`. `request` tells a scheduled post (`scheduled`)
    /// from each one asked for on demand, so a redelivery posts once and a new request again.
    PostDigest {
        week: IsoWeek,
        request: String,
    },
    /// The daily sweep: plan again whatever a missed or lost schedule would leave behind, and
    /// poll the integrations that have no push of their own. One per day, however often sent.
    Sweep {
        day: NaiveDate,
    },
    /// Jira's webhook said `issue` changed; `delivery` names the delivery (the same on Jira's
    /// retries). The SCAs linked to it are checked.
    JiraIssueChanged {
        issue: String,
        delivery: String,
    },
    /// PagerDuty's V3 webhook said `incident` changed (`event`: its outbound event's id, the
    /// same on PagerDuty's retries). Matched to our page by the incident's dedup key.
    PagerDutyEvent {
        event: String,
        change: IncidentChange,
        incident: String,
        /// Who did it, as PagerDuty names them (`event.agent.summary`).
        agent: Option<String>,
        at: DateTime<Utc>,
    },
    /// Opsgenie's (or JSM Ops') webhook said its `alert` changed; `dedup_key` is the alert's
    /// alias, which sevtool set when it paged. `at` (the alert's `updatedAt`) tells one action
    /// from the next on the same alert, and is the same on Opsgenie's retries.
    OpsgenieEvent {
        alert: String,
        change: IncidentChange,
        dedup_key: String,
        /// Who did it, as Opsgenie names them (`alert.username`).
        agent: Option<String>,
        at: DateTime<Utc>,
    },
}

/// What a pager's webhook says happened to a page (a PagerDuty incident, an Opsgenie alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentChange {
    Acknowledged,
    Resolved,
    Reassigned,
    Escalated,
}

impl IncidentChange {
    /// The V3 event type that says so (`incident.acknowledged`), if it is one sevtool acts on.
    pub fn from_event_type(event_type: &str) -> Option<IncidentChange> {
        match event_type {
            "incident.acknowledged" => Some(IncidentChange::Acknowledged),
            "incident.resolved" => Some(IncidentChange::Resolved),
            "incident.reassigned" => Some(IncidentChange::Reassigned),
            "incident.escalated" => Some(IncidentChange::Escalated),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentChange::Acknowledged => "acknowledged",
            IncidentChange::Resolved => "resolved",
            IncidentChange::Reassigned => "reassigned",
            IncidentChange::Escalated => "escalated",
        }
    }
}

/// The queues tasks travel on. Pages have their own, so that a page never waits behind Slack's
/// rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueName {
    Tasks,
    Pager,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Tasks => "tasks",
            QueueName::Pager => "pager",
        }
    }
}

impl Task {
    pub fn queue(&self) -> QueueName {
        match self {
            Task::SevFiled { .. }
            | Task::TimelineEntryAdded { .. }
            | Task::Slack { .. }
            | Task::ScheduleNags { .. }
            | Task::Nag { .. }
            | Task::DraftReport { .. }
            | Task::ScheduleReportNags { .. }
            | Task::ReportNag { .. }
            | Task::PostDigest { .. }
            | Task::Sweep { .. }
            | Task::JiraIssueChanged { .. } => QueueName::Tasks,
            Task::AutoPage { .. }
            | Task::Page { .. }
            | Task::Mayday { .. }
            | Task::ResolvePages { .. }
            | Task::PagerDutyEvent { .. }
            | Task::OpsgenieEvent { .. } => QueueName::Pager,
        }
    }
}

/// A task's idempotency key: what it is about, by kind (`page:SEV-3:payments`). Consumers claim
/// and memoize by it, so a redelivered or re-sent task carries the same key and acts once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskKey(String);

impl TaskKey {
    /// Only tasks make keys (see [`TaskEnvelope::new`]); a stored one reads back as it was.
    pub(crate) fn new(kind: &str, about: std::fmt::Arguments<'_>) -> TaskKey {
        TaskKey(format!("{kind}:{about}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<&str> for TaskKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEnvelope {
    pub v: u32,
    pub key: TaskKey,
    pub created_at: DateTime<Utc>,
    pub task: Task,
}

impl TaskEnvelope {
    pub fn new(task: Task, created_at: DateTime<Utc>) -> Self {
        let key = match &task {
            Task::SevFiled { sev } => TaskKey::new("sev-filed", format_args!("{sev}")),
            Task::TimelineEntryAdded { sev, entry } => TaskKey::new("entry", format_args!("{sev}:{entry}")),
            Task::Slack { inbound } => inbound.key(),
            Task::ScheduleNags { sca, change } => TaskKey::new("schedule-nags", format_args!("{sca}:{change}")),
            Task::Nag { sca, step, at } => {
                TaskKey::new("nag", format_args!("{sca}:{}:{}", step.as_str(), at.timestamp()))
            }
            Task::AutoPage { sev } => TaskKey::new("auto-page", format_args!("{sev}")),
            Task::Page { sev, team } => TaskKey::new("page", format_args!("{sev}:{team}")),
            Task::Mayday { sev } => TaskKey::new("mayday", format_args!("{sev}")),
            Task::ResolvePages { sev, entry } => TaskKey::new("resolve-pages", format_args!("{sev}:{entry}")),
            Task::DraftReport { sev, entry } => TaskKey::new("draft-report", format_args!("{sev}:{entry}")),
            Task::ScheduleReportNags { sev, change } => {
                TaskKey::new("schedule-report-nags", format_args!("{sev}:{change}"))
            }
            Task::ReportNag { sev, step, at } => {
                TaskKey::new("report-nag", format_args!("{sev}:{}:{}", step.as_str(), at.timestamp()))
            }
            Task::PostDigest { week, request } => TaskKey::new("digest", format_args!("{week}:{request}")),
            Task::Sweep { day } => TaskKey::new("sweep", format_args!("{day}")),
            Task::JiraIssueChanged { issue, delivery } => {
                TaskKey::new("jira-issue", format_args!("{issue}:{delivery}"))
            }
            Task::PagerDutyEvent { event, .. } => TaskKey::new("pagerduty-event", format_args!("{event}")),
            Task::OpsgenieEvent { alert, change, at, .. } => TaskKey::new(
                "opsgenie-event",
                format_args!(
                    "{alert}:{}:{}",
                    change.as_str(),
                    at.timestamp_nanos_opt().unwrap_or_default()
                ),
            ),
        };
        TaskEnvelope {
            v: TASK_VERSION,
            key,
            created_at,
            task,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("a task always serialises: {e}"))
    }

    pub fn sev(&self) -> Option<SevId> {
        match &self.task {
            Task::SevFiled { sev }
            | Task::TimelineEntryAdded { sev, .. }
            | Task::AutoPage { sev }
            | Task::Page { sev, .. }
            | Task::Mayday { sev }
            | Task::ResolvePages { sev, .. }
            | Task::DraftReport { sev, .. }
            | Task::ScheduleReportNags { sev, .. }
            | Task::ReportNag { sev, .. } => Some(*sev),
            Task::Slack { .. }
            | Task::ScheduleNags { .. }
            | Task::Nag { .. }
            | Task::PostDigest { .. }
            | Task::Sweep { .. }
            | Task::JiraIssueChanged { .. }
            | Task::PagerDutyEvent { .. }
            | Task::OpsgenieEvent { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_per_task_so_redeliveries_deduplicate() {
        let at = Utc::now();
        let a = TaskEnvelope::new(Task::SevFiled { sev: SevId(3) }, at);
        let b = TaskEnvelope::new(Task::SevFiled { sev: SevId(3) }, at + chrono::Duration::seconds(5));
        assert_eq!(a.key, b.key);
        assert_eq!(a.key, "sev-filed:SEV-3");
    }

    #[test]
    fn pages_travel_on_their_own_queue() {
        let sev = SevId(1);
        assert_eq!(Task::SevFiled { sev }.queue(), QueueName::Tasks);
        assert_eq!(
            Task::Page {
                sev,
                team: "payments".into()
            }
            .queue(),
            QueueName::Pager
        );
        assert_eq!(Task::Mayday { sev }.queue(), QueueName::Pager);
        assert_eq!(Task::AutoPage { sev }.queue(), QueueName::Pager);
    }

    #[test]
    fn round_trips_through_json() {
        let t = TaskEnvelope::new(
            Task::TimelineEntryAdded {
                sev: SevId(3),
                entry: EntryId::new(Utc::now(), 9),
            },
            Utc::now(),
        );
        let json = t.to_json();
        assert!(json.contains("\"type\":\"timeline_entry_added\""), "{json}");
        assert_eq!(serde_json::from_str::<TaskEnvelope>(&json).unwrap(), t);
    }
}
