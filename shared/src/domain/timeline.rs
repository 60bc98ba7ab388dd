use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, Level, PageReason, Status};

/// A timeline entry's id: its time in microseconds then a random suffix, so ids sort in time
/// order and two entries written in the same microsecond by different writers never collide.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(String);

impl EntryId {
    pub fn new(at: DateTime<Utc>, nonce: u64) -> Self {
        EntryId(format!("{:016}-{nonce:016x}", at.timestamp_micros().max(0)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportChange {
    Drafted,
    Completed,
}

/// What happened. The timeline is append-only: entries are written once and never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryKind {
    Filed {
        level: Level,
    },
    Update {
        text: String,
    },
    /// An update for customers, published by the comms lead, the coordinator or a deputy (and to
    /// the status page when one is connected). Never on a private SEV.
    PublicUpdate {
        text: String,
        /// Where the SEV stood when it was published: what the status page is told with it,
        /// however late a retry sends it. Absent on updates published before it was kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<super::PublicStatus>,
    },
    /// Kept on the timeline for the record, but not announced (a log line, a graph, a finding).
    Note {
        text: String,
    },
    LevelChanged {
        from: Level,
        to: Level,
    },
    StatusChanged {
        from: Status,
        to: Status,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A corrective action was added or changed (`change` says what).
    Sca {
        sca: super::ScaId,
        change: String,
    },
    FieldChanged {
        field: SevField,
        value: String,
    },
    /// The SEV report was drafted or marked complete (edits are not on the timeline: the report
    /// keeps who edited it last).
    Report {
        change: ReportChange,
    },
    /// A team's pager took the page; `on_call` are the emails of who it reached, when known.
    Paged {
        team: String,
        reason: PageReason,
        #[serde(default)]
        on_call: Vec<String>,
        /// The team is the coordinator rotation, whose on-call becomes the SEV's coordinator.
        #[serde(default)]
        coordinator: bool,
        /// The team is the comms rotation, whose on-call becomes the SEV's comms lead.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        comms_lead: bool,
    },
    PageFailed {
        team: String,
        reason: String,
    },
    PageResolved {
        team: String,
    },
    /// Someone on call took the page in the pager (`by`: as the pager names them).
    PageAcknowledged {
        team: String,
        by: Option<String>,
    },
    /// The pager moved the page on: `how` is `reassigned` or `escalated`.
    PageEscalated {
        team: String,
        how: String,
        by: Option<String>,
    },
    /// Every team in the catalog is being paged.
    Mayday {
        teams: usize,
    },
    /// Someone paged joined the response channel.
    Joined {
        user: String,
    },
}

/// A field of a SEV that a patch sets, as the timeline names it (`report_owner`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SevField {
    Title,
    Description,
    ProductTrack,
    Coordinator,
    ReportOwner,
    CommsLead,
    Deputies,
    Tags,
    Private,
    StartedAt,
    DetectedAt,
    /// A name no release of sevtool writes today, read back from an older record as it was.
    Other(String),
}

impl SevField {
    const NAMED: [SevField; 11] = [
        SevField::Title,
        SevField::Description,
        SevField::ProductTrack,
        SevField::Coordinator,
        SevField::ReportOwner,
        SevField::CommsLead,
        SevField::Deputies,
        SevField::Tags,
        SevField::Private,
        SevField::StartedAt,
        SevField::DetectedAt,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            SevField::Title => "title",
            SevField::Description => "description",
            SevField::ProductTrack => "product_track",
            SevField::Coordinator => "coordinator",
            SevField::ReportOwner => "report_owner",
            SevField::CommsLead => "comms_lead",
            SevField::Deputies => "deputies",
            SevField::Tags => "tags",
            SevField::Private => "private",
            SevField::StartedAt => "started_at",
            SevField::DetectedAt => "detected_at",
            SevField::Other(name) => name,
        }
    }
}

impl From<String> for SevField {
    fn from(name: String) -> SevField {
        SevField::NAMED
            .into_iter()
            .find(|f| f.as_str() == name)
            .unwrap_or(SevField::Other(name))
    }
}

impl From<SevField> for String {
    fn from(field: SevField) -> String {
        field.as_str().to_owned()
    }
}

impl fmt::Display for SevField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub at: DateTime<Utc>,
    pub author: Actor,
    #[serde(flatten)]
    pub kind: EntryKind,
}

impl Entry {
    /// One line a person reads in a timeline or a Slack cross-post.
    pub fn summary(&self) -> String {
        match &self.kind {
            EntryKind::Filed { level } => format!("Filed as {level}"),
            EntryKind::Sca { sca, change } => format!("{sca}: {change}"),
            EntryKind::Update { text } | EntryKind::Note { text } => text.clone(),
            EntryKind::PublicUpdate { text, .. } => format!("Public update: {text}"),
            EntryKind::LevelChanged { from, to } => format!("Level changed from {from} to {to}"),
            EntryKind::StatusChanged { from, to, reason } => match reason {
                Some(r) => format!("Status changed from {from} to {to}: {r}"),
                None => format!("Status changed from {from} to {to}"),
            },
            EntryKind::FieldChanged { field, value } if value.is_empty() => format!("Cleared {field}"),
            EntryKind::FieldChanged { field, value } => format!("Set {field} to {value}"),
            EntryKind::Report {
                change: ReportChange::Drafted,
            } => "Drafted the SEV report".to_owned(),
            EntryKind::Report {
                change: ReportChange::Completed,
            } => "Marked the SEV report complete".to_owned(),
            EntryKind::Paged { team, on_call, .. } if on_call.is_empty() => format!("Paged {team}"),
            EntryKind::Paged { team, on_call, .. } => format!("Paged {team}: {}", on_call.join(", ")),
            EntryKind::PageFailed { team, reason } => format!("Paging {team} failed: {reason}"),
            EntryKind::PageResolved { team } => format!("Resolved the page to {team}"),
            EntryKind::PageAcknowledged { team, by } => match by {
                Some(by) => format!("{by} acknowledged the page to {team}"),
                None => format!("The page to {team} was acknowledged"),
            },
            EntryKind::PageEscalated { team, how, by } => match by {
                Some(by) => format!("The page to {team} was {how} by {by}"),
                None => format!("The page to {team} was {how}"),
            },
            EntryKind::Mayday { teams } => format!("Mayday: paging all {teams} teams"),
            EntryKind::Joined { user } => format!("{user} joined"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_sort_in_time_order() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let t1 = t0 + chrono::Duration::microseconds(1);
        assert!(EntryId::new(t0, u64::MAX) < EntryId::new(t1, 0));
    }

    #[test]
    fn serialises_kind_inline_for_the_api() {
        let e = Entry {
            id: EntryId::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(), 1),
            at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            author: "U1".into(),
            kind: EntryKind::StatusChanged {
                from: Status::Open,
                to: Status::Resolved,
                reason: Some("false alarm".into()),
            },
        };
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "status_changed");
        assert_eq!(json["to"], "resolved");
        assert_eq!(serde_json::from_value::<Entry>(json).unwrap(), e);
        assert_eq!(e.summary(), "Status changed from open to resolved: false alarm");
    }
}
