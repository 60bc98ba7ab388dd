//! What customers are told: the status and impact a public update carries, and the draft the
//! comms lead starts from. Built only from a SEV's public facts (what is affected, since when,
//! how far along it is): never its title, description or internal updates, which are written
//! for engineers.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Level, Sev, Status};

/// The SEV's incident on the company's status page, which its public updates go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicIncident {
    pub id: String,
    /// The incident's public link, when the page gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Which task opens the SEV's status page incident (its first public update), and the incident
/// once opened: one SEV, one incident, however many updates race to be first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPageLink {
    pub claimed_by: String,
    pub claimed_at: DateTime<Utc>,
    #[serde(default)]
    pub incident: Option<PublicIncident>,
}

/// How far along the SEV is, as a status page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl PublicStatus {
    /// Open SEVs are investigated until a `root-cause/...` tag says the cause is known; a
    /// mitigated one is being watched; resolved and closed ones are over.
    pub fn of(sev: &Sev) -> PublicStatus {
        match sev.status {
            Status::Open if sev.tags.iter().any(|t| t.segments().next() == Some("root-cause")) => {
                PublicStatus::Identified
            }
            Status::Open => PublicStatus::Investigating,
            Status::Mitigated => PublicStatus::Monitoring,
            Status::Resolved | Status::Closed => PublicStatus::Resolved,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PublicStatus::Investigating => "investigating",
            PublicStatus::Identified => "identified",
            PublicStatus::Monitoring => "monitoring",
            PublicStatus::Resolved => "resolved",
        }
    }
}

impl fmt::Display for PublicStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is for customers, from the SEV's level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicImpact {
    None,
    Minor,
    Major,
    Critical,
}

impl PublicImpact {
    pub fn of(level: Level) -> PublicImpact {
        match level {
            Level::Sev0 => PublicImpact::Critical,
            Level::Sev1 => PublicImpact::Major,
            Level::Sev2 => PublicImpact::Minor,
            Level::Sev3 => PublicImpact::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PublicImpact::None => "none",
            PublicImpact::Minor => "minor",
            PublicImpact::Major => "major",
            PublicImpact::Critical => "critical",
        }
    }
}

/// What customers would recognise as affected: the services the SEV's `system/...` tags name,
/// else its product track; `None` when the SEV says neither.
fn affected(sev: &Sev) -> Option<String> {
    let services: Vec<&str> = sev.services().collect();
    if services.is_empty() {
        sev.product_track.clone()
    } else {
        Some(services.join(", "))
    }
}

/// The status page incident's name: what is affected, never the SEV's own title.
pub fn incident_name(sev: &Sev) -> String {
    match affected(sev) {
        Some(what) => format!("Problems with {what}"),
        None => "Some of our services are degraded".to_owned(),
    }
}

/// A first customer update for the comms lead to edit: what is affected, since when, and where
/// it stands.
pub fn draft(sev: &Sev) -> String {
    let what = affected(sev).unwrap_or_else(|| "some of our services".to_owned());
    let since = sev.started_at.format("%Y-%m-%d %H:%M UTC");
    let now = match PublicStatus::of(sev) {
        PublicStatus::Investigating => "We are investigating and will post an update as soon as we know more.",
        PublicStatus::Identified => "We have identified the cause and are working on a fix.",
        PublicStatus::Monitoring => "A fix is in place and we are monitoring the results.",
        PublicStatus::Resolved => "This incident has been resolved.",
    };
    format!("Since {since}, some customers may be affected by problems with {what}. {now}")
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::{NewSev, SevId};

    fn sev() -> Sev {
        let new = NewSev {
            title: "ledger db primary OOM".into(),
            description: Some("internal: the replica lag alert fired".into()),
            ..NewSev::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 7, 14, 9, 30, 0).unwrap();
        Sev::file(SevId(7), new, "U1".into(), now).unwrap().0
    }

    #[test]
    fn the_status_follows_the_sev_and_a_root_cause_tag() {
        let mut s = sev();
        assert_eq!(PublicStatus::of(&s), PublicStatus::Investigating);
        s.tags.insert("root-cause/deploy".parse().unwrap());
        assert_eq!(PublicStatus::of(&s), PublicStatus::Identified);
        s.status = Status::Mitigated;
        assert_eq!(PublicStatus::of(&s), PublicStatus::Monitoring);
        for done in [Status::Resolved, Status::Closed] {
            s.status = done;
            assert_eq!(PublicStatus::of(&s), PublicStatus::Resolved);
        }
    }

    #[test]
    fn the_incident_is_named_for_what_is_affected_never_the_title() {
        let mut s = sev();
        assert_eq!(incident_name(&s), "Some of our services are degraded");
        s.product_track = Some("checkout".into());
        assert_eq!(incident_name(&s), "Problems with checkout");
        s.tags.insert("system/payments-api/ledger".parse().unwrap());
        assert_eq!(incident_name(&s), "Problems with payments-api");
    }

    #[test]
    fn impact_follows_the_level() {
        let impacts = Level::ALL.map(|l| PublicImpact::of(l).as_str());
        assert_eq!(impacts, ["critical", "major", "minor", "none"]);
    }

    #[test]
    fn the_draft_says_what_since_when_and_where_it_stands_and_nothing_internal() {
        let mut s = sev();
        let text = draft(&s);
        assert_eq!(
            text,
            "Since 2026-07-14 09:30 UTC, some customers may be affected by problems with some of our services. \
             We are investigating and will post an update as soon as we know more."
        );
        s.product_track = Some("checkout".into());
        assert!(draft(&s).contains("problems with checkout."));
        for tag in ["system/payments-api", "system/card-auth/3ds"] {
            s.tags.insert(tag.parse().unwrap());
        }
        let named = draft(&s);
        assert!(named.contains("problems with card-auth, payments-api."), "{named}");
        s.status = Status::Mitigated;
        let later = draft(&s);
        assert!(later.ends_with("A fix is in place and we are monitoring the results."));
        assert!(!later.contains("ledger") && !later.contains("replica"), "{later}");
    }
}
