//! Pages: one per team paged for a SEV, and the muster (who was paged, who joined, how fast).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Actor, SevId};

/// Why a team was paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageReason {
    /// Filing at or above the auto-page level pages the coordinator (and call-leader) rotation.
    Auto,
    /// Someone asked for this team (`/sev page`, the API).
    Manual,
    /// Every team at once.
    Mayday,
    /// An alert whose rule pages opened the SEV: its owning team.
    Alert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageState {
    /// Recorded, waiting for the pager queue.
    Queued,
    /// The pager took it.
    Paged,
    /// Someone on call acknowledged it in the pager.
    Acknowledged,
    /// The pager refused it, or kept failing past the give-up time.
    Failed,
    /// Resolved or closed at the pager because the SEV was resolved.
    Resolved,
}

impl PageState {
    /// Open at the pager, so resolving the SEV must resolve it there too.
    pub fn is_open(self) -> bool {
        matches!(self, PageState::Paged | PageState::Acknowledged)
    }
}

/// Someone on call for a paged team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCallPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: String,
    /// Their Slack user, once looked up by email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_user: Option<String>,
    /// When they joined the SEV's response channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined_at: Option<DateTime<Utc>>,
}

/// Which pager a team is paged through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PagerKind {
    PagerDuty,
    Opsgenie,
    Jsm,
}

impl PagerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PagerKind::PagerDuty => "pagerduty",
            PagerKind::Opsgenie => "opsgenie",
            PagerKind::Jsm => "jsm",
        }
    }
}

impl std::fmt::Display for PagerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub team: String,
    pub pager: PagerKind,
    pub state: PageState,
    pub reason: PageReason,
    /// Sent with every trigger and resolve, so a retried page never pages twice.
    pub dedup_key: String,
    #[serde(default)]
    pub on_call: Vec<OnCallPerson>,
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paged_at: Option<DateTime<Utc>>,
    /// Why the page failed, or the last error while it is being retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When someone first acknowledged it in the pager, and who (as the pager names them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
}

/// The pager's deduplication key of a SEV's page to a team: stable across retries and
/// processes, distinct per SEV and team.
pub fn dedup_key(sev: SevId, team: &str) -> String {
    format!("sevtool-{}-{team}", sev.0)
}

/// The SEV and team of one of our dedup keys; `None` for anyone else's.
pub fn parse_dedup_key(key: &str) -> Option<(SevId, &str)> {
    let (digits, team) = key.strip_prefix("sevtool-")?.split_once('-')?;
    let n: u64 = digits.parse().ok()?;
    (n > 0 && n.to_string() == digits && !team.is_empty()).then_some((SevId(n), team))
}

impl Page {
    pub fn new(sev: SevId, team: &str, pager: PagerKind, reason: PageReason, by: &Actor, now: DateTime<Utc>) -> Page {
        Page {
            team: team.to_owned(),
            pager,
            state: PageState::Queued,
            reason,
            dedup_key: dedup_key(sev, team),
            on_call: Vec::new(),
            requested_by: by.clone(),
            requested_at: now,
            updated_at: now,
            paged_at: None,
            error: None,
            acknowledged_at: None,
            acknowledged_by: None,
        }
    }

    /// Someone acknowledged it in the pager at `at`. Only the first acknowledgement of a paged
    /// page counts; true if that changed anything.
    pub fn acknowledged(&mut self, by: Option<&str>, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        if self.acknowledged_at.is_some() || self.state != PageState::Paged {
            return false;
        }
        self.state = PageState::Acknowledged;
        self.acknowledged_at = Some(at);
        self.acknowledged_by = by.map(str::to_owned);
        self.updated_at = now;
        true
    }

    pub fn paged(&mut self, on_call: Vec<OnCallPerson>, now: DateTime<Utc>) {
        self.state = PageState::Paged;
        self.on_call = on_call;
        self.paged_at = Some(now);
        self.updated_at = now;
        self.error = None;
    }

    pub fn failed(&mut self, reason: &str, now: DateTime<Utc>) {
        self.state = PageState::Failed;
        self.error = Some(reason.to_owned());
        self.updated_at = now;
    }

    pub fn resolved(&mut self, now: DateTime<Utc>) {
        self.state = PageState::Resolved;
        self.updated_at = now;
    }

    /// Marks the on-call person with this Slack user as joined; true if that changed anything.
    pub fn joined(&mut self, slack_user: &str, at: DateTime<Utc>) -> bool {
        let mut changed = false;
        for p in &mut self.on_call {
            if p.slack_user.as_deref() == Some(slack_user) && p.joined_at.is_none() {
                p.joined_at = Some(at);
                changed = true;
            }
        }
        if changed {
            self.updated_at = at;
        }
        changed
    }
}

/// Who was paged for a SEV and who has joined its response channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Muster {
    /// Emails of everyone paged, once each.
    pub paged: Vec<String>,
    pub joined: Vec<String>,
    pub missing: Vec<String>,
    /// From declaration until the last person paged joined; absent while anyone is missing.
    pub time_to_muster_minutes: Option<f64>,
}

pub fn muster(declared_at: DateTime<Utc>, pages: &[Page]) -> Muster {
    let mut people: Vec<&OnCallPerson> = Vec::new();
    for p in pages.iter().filter(|p| p.state != PageState::Failed) {
        for person in &p.on_call {
            match people.iter_mut().find(|q| q.email == person.email) {
                // The same person on call for two teams joined once, whichever page saw it.
                Some(q) if q.joined_at.is_none() => *q = person,
                Some(_) => {}
                None => people.push(person),
            }
        }
    }
    let paged: Vec<String> = people.iter().map(|p| p.email.clone()).collect();
    let joined: Vec<String> = people
        .iter()
        .filter(|p| p.joined_at.is_some())
        .map(|p| p.email.clone())
        .collect();
    let missing: Vec<String> = people
        .iter()
        .filter(|p| p.joined_at.is_none())
        .map(|p| p.email.clone())
        .collect();
    let last = people.iter().filter_map(|p| p.joined_at).max();
    let time_to_muster_minutes = match last {
        Some(last) if missing.is_empty() && !paged.is_empty() => {
            Some((last - declared_at).num_seconds().max(0) as f64 / 60.0)
        }
        _ => None,
    };
    Muster {
        paged,
        joined,
        missing,
        time_to_muster_minutes,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_first_acknowledgement_of_a_paged_page_counts() {
        let t = |m: i64| DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(m);
        let page = |team: &str, ack: Option<i64>| {
            let mut p = Page::new(
                SevId(1),
                team,
                PagerKind::PagerDuty,
                PageReason::Auto,
                &Actor::SEVTOOL,
                t(0),
            );
            p.paged(Vec::new(), t(1));
            if let Some(m) = ack {
                assert!(p.acknowledged(Some("Alice"), t(m), t(m)));
                assert!(
                    !p.acknowledged(Some("Bob"), t(m + 1), t(m + 1)),
                    "only the first counts"
                );
            }
            p
        };
        assert_eq!(page("a", None).acknowledged_at, None);
        let acked = page("b", Some(4));
        assert_eq!(acked.acknowledged_at, Some(t(4)));
        assert_eq!(acked.acknowledged_by.as_deref(), Some("Alice"));
        assert_eq!(acked.state, PageState::Acknowledged);
        let mut queued = Page::new(
            SevId(1),
            "q",
            PagerKind::PagerDuty,
            PageReason::Auto,
            &Actor::SEVTOOL,
            t(0),
        );
        assert!(
            !queued.acknowledged(None, t(2), t(2)),
            "a page not sent yet cannot be acknowledged"
        );
    }

    #[test]
    fn our_dedup_keys_read_back_and_nobody_else_s_do() {
        for (sev, team) in [(SevId(1), "atc"), (SevId(4812), "team-007"), (SevId(u64::MAX), "a_b")] {
            assert_eq!(super::parse_dedup_key(&dedup_key(sev, team)), Some((sev, team)));
        }
        for other in [
            "",
            "sevtool-",
            "sevtool-1",
            "sevtool-1-",
            "sevtool-0-atc",
            "sevtool-01-atc",
            "sevtool-x-atc",
            "other-1-atc",
            "sevtool-99999999999999999999-atc",
        ] {
            assert_eq!(super::parse_dedup_key(other), None, "{other}");
        }
    }

    use super::*;
    use chrono::{Duration, TimeZone};

    fn person(email: &str, user: &str) -> OnCallPerson {
        OnCallPerson {
            name: None,
            email: email.into(),
            slack_user: Some(user.into()),
            joined_at: None,
        }
    }

    #[test]
    fn dedup_keys_are_stable_and_distinct_per_sev_and_team() {
        assert_eq!(dedup_key(SevId(4), "payments"), dedup_key(SevId(4), "payments"));
        assert_ne!(dedup_key(SevId(4), "payments"), dedup_key(SevId(5), "payments"));
        assert_ne!(dedup_key(SevId(4), "payments"), dedup_key(SevId(4), "search"));
    }

    #[test]
    fn pager_kinds_serialise_as_the_names_stored_before_they_were_typed() {
        for (kind, name) in [
            (PagerKind::PagerDuty, "pagerduty"),
            (PagerKind::Opsgenie, "opsgenie"),
            (PagerKind::Jsm, "jsm"),
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            assert_eq!(serde_json::from_value::<PagerKind>(name.into()).unwrap(), kind);
            assert_eq!(kind.to_string(), name);
        }
    }

    #[test]
    fn muster_waits_for_everyone_then_measures_from_declaration() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut a = Page::new(
            SevId(1),
            "a",
            PagerKind::PagerDuty,
            PageReason::Mayday,
            &"U1".into(),
            t0,
        );
        a.paged(vec![person("a@x", "UA"), person("both@x", "UB")], t0);
        let mut b = Page::new(
            SevId(1),
            "b",
            PagerKind::PagerDuty,
            PageReason::Mayday,
            &"U1".into(),
            t0,
        );
        b.paged(vec![person("both@x", "UB")], t0);
        let mut failed = Page::new(
            SevId(1),
            "c",
            PagerKind::PagerDuty,
            PageReason::Mayday,
            &"U1".into(),
            t0,
        );
        failed.paged(vec![person("c@x", "UC")], t0);
        failed.failed("refused", t0);

        let m = muster(t0, &[a.clone(), b.clone(), failed.clone()]);
        assert_eq!(m.paged, ["a@x", "both@x"]);
        assert_eq!(m.missing, ["a@x", "both@x"]);
        assert_eq!(m.time_to_muster_minutes, None);

        assert!(a.joined("UA", t0 + Duration::minutes(3)));
        assert!(!a.joined("UA", t0 + Duration::minutes(9)), "the first join counts");
        assert!(b.joined("UB", t0 + Duration::minutes(6)));
        let m = muster(t0, &[a, b, failed]);
        assert_eq!(m.joined, ["a@x", "both@x"]);
        assert!(m.missing.is_empty());
        assert_eq!(m.time_to_muster_minutes, Some(6.0));
    }
}
