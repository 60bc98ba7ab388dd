//! Who did something, as the timeline records it: a Slack user id (`U024BE7LH`), a person who
//! signed in with the shared token (`web:alice`), an alert source (`alert:alertmanager`), one of
//! sevtool's own actors (`sevtool`, `web`, `api`, `jira`, `import`, and the pagers
//! `pagerduty`, `opsgenie` and `jsm`), or a name a script gave.
//! The shape of the name tells them apart, so a name a person types must never take another
//! kind's shape: that would let them pass for a Slack user or a system actor, and so for a
//! member of private SEVs.
//!
//! [`Actor`] keeps the name exactly as given, so stored records and exports read and write the
//! same strings as ever; [`Actor::kind`] is the one place that reads the shape.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::PagerKind;

/// Alert sources: `alert:<source>`. Their changes never count as a person taking a SEV over.
pub const ALERT_PREFIX: &str = "alert:";
/// People signed in with the shared token: `web:<the name they typed>`.
pub const WEB_PERSON_PREFIX: &str = "web:";

/// Who did something. Serialised as the bare name (`"U024BE7LH"`, `"web:alice"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(Cow<'static, str>);

/// What an [`Actor`]'s name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind<'a> {
    /// A Slack user, by id: sevtool mentions them and looks up their time zone.
    Slack(&'a str),
    /// A person who signed in with the shared token, by the name they typed.
    Person(&'a str),
    /// An alert source (`alertmanager`, `grafana`, ...).
    Alert(&'a str),
    /// One of sevtool's own actors.
    System,
    /// Any other name: one a script gave, or one an imported record carried.
    Named(&'a str),
}

impl Actor {
    /// sevtool itself: report drafts, paging on filing.
    pub const SEVTOOL: Actor = Actor(Cow::Borrowed("sevtool"));
    /// The web UI on the open local server, where nobody signs in.
    pub const WEB: Actor = Actor(Cow::Borrowed("web"));
    /// A script's change that names nobody.
    pub const API: Actor = Actor(Cow::Borrowed("api"));
    /// Changes read back from Jira.
    pub const JIRA: Actor = Actor(Cow::Borrowed("jira"));
    /// The note on a SEV loaded from an export.
    pub const IMPORT: Actor = Actor(Cow::Borrowed("import"));
    /// Changes PagerDuty's webhook reported (acknowledgements, escalations).
    pub const PAGERDUTY: Actor = Actor(Cow::Borrowed("pagerduty"));
    /// Changes Opsgenie's webhook reported.
    pub const OPSGENIE: Actor = Actor(Cow::Borrowed("opsgenie"));
    /// Changes JSM Ops' webhook reported (it posts to the Opsgenie route).
    pub const JSM: Actor = Actor(Cow::Borrowed("jsm"));

    const SYSTEM: [Actor; 8] = [
        Actor::SEVTOOL,
        Actor::WEB,
        Actor::API,
        Actor::JIRA,
        Actor::IMPORT,
        Actor::PAGERDUTY,
        Actor::OPSGENIE,
        Actor::JSM,
    ];

    /// The pager whose webhook reports changes to a page it carries.
    pub fn pager(kind: PagerKind) -> Actor {
        match kind {
            PagerKind::PagerDuty => Actor::PAGERDUTY,
            PagerKind::Opsgenie => Actor::OPSGENIE,
            PagerKind::Jsm => Actor::JSM,
        }
    }

    /// A person who signed in with the shared token under `name`.
    pub fn web_person(name: &str) -> Actor {
        Actor(format!("{WEB_PERSON_PREFIX}{name}").into())
    }

    /// An alert source.
    pub fn alert(source: &str) -> Actor {
        Actor(format!("{ALERT_PREFIX}{source}").into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> ActorKind<'_> {
        let name = self.as_str();
        if Actor::SYSTEM.iter().any(|s| s.as_str() == name) {
            ActorKind::System
        } else if let Some(source) = name.strip_prefix(ALERT_PREFIX) {
            ActorKind::Alert(source)
        } else if let Some(person) = name.strip_prefix(WEB_PERSON_PREFIX) {
            ActorKind::Person(person)
        } else if is_slack_user(name) {
            ActorKind::Slack(name)
        } else {
            ActorKind::Named(name)
        }
    }

    /// The Slack user id, when this is a Slack user.
    pub fn slack_user(&self) -> Option<&str> {
        match self.kind() {
            ActorKind::Slack(id) => Some(id),
            _ => None,
        }
    }

    pub fn is_alert(&self) -> bool {
        matches!(self.kind(), ActorKind::Alert(_))
    }
}

impl From<String> for Actor {
    fn from(name: String) -> Actor {
        Actor(name.into())
    }
}

impl From<&str> for Actor {
    fn from(name: &str) -> Actor {
        Actor(name.to_owned().into())
    }
}

impl From<Actor> for String {
    fn from(actor: Actor) -> String {
        actor.0.into_owned()
    }
}

impl AsRef<str> for Actor {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Actor {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Actor {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a Slack user id (`U…` or `W…`, upper-case letters and digits), the shape
/// Slack gives every user and sevtool turns into a mention.
pub fn is_slack_user(name: &str) -> bool {
    name.len() > 1 && name.starts_with(['U', 'W']) && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Names only sevtool itself gives, case aside: its own actors, alert sources and token
/// sign-ins (`web:…`). No request may name someone so, not even an operator's script.
pub fn is_system(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    Actor::SYSTEM.iter().any(|s| s.as_str() == lower)
        || lower.starts_with(ALERT_PREFIX)
        || lower.starts_with(WEB_PERSON_PREFIX)
}

/// Names a person may not give at sign-in: the system's, and Slack user ids (only Slack vouches
/// for those; an operator's script may name one, as it may do anything).
pub fn is_reserved(name: &str) -> bool {
    is_system(name) || is_slack_user(name.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pager_reports_as_its_own_system_actor() {
        for kind in [PagerKind::PagerDuty, PagerKind::Opsgenie, PagerKind::Jsm] {
            let actor = Actor::pager(kind);
            assert_eq!(actor.as_str(), kind.as_str());
            assert_eq!(actor.kind(), ActorKind::System);
        }
    }

    #[test]
    fn system_actors_alert_sources_and_slack_ids_are_reserved_in_any_case() {
        for name in [
            "sevtool",
            "SevTool",
            " web ",
            "api",
            "JIRA",
            "Import",
            "PagerDuty",
            "opsgenie",
            "JSM",
            "alert:x",
            "Alert:prom",
            "web:alice",
            "U024BE7LH",
            "W1",
        ] {
            assert!(is_reserved(name), "{name}");
        }
        for name in ["alice", "Alice Smith", "u024be7lh", "U", "webmaster", "sevtool-bot"] {
            assert!(!is_reserved(name), "{name}");
        }
    }

    #[test]
    fn scripts_may_name_slack_users_but_never_the_system() {
        assert!(!is_system("U024BE7LH") && is_reserved("U024BE7LH"));
        assert!(is_system("Alert:prom") && is_system("web:bob") && is_system("SEVTOOL"));
    }

    #[test]
    fn a_token_sign_in_can_never_equal_a_reserved_name() {
        assert_eq!(Actor::web_person("alice"), "web:alice");
        assert!(is_reserved(Actor::web_person("alice").as_str()));
        assert_eq!(Actor::web_person("U024BE7LH").slack_user(), None);
    }

    #[test]
    fn the_kind_is_read_from_the_name_alone() {
        assert_eq!(Actor::from("U024BE7LH").kind(), ActorKind::Slack("U024BE7LH"));
        assert_eq!(Actor::web_person("bob").kind(), ActorKind::Person("bob"));
        assert_eq!(Actor::alert("grafana").kind(), ActorKind::Alert("grafana"));
        for system in [Actor::SEVTOOL, Actor::WEB, Actor::API, Actor::JIRA, Actor::IMPORT] {
            assert_eq!(system.kind(), ActorKind::System, "{system}");
        }
        assert_eq!(Actor::from("alice").kind(), ActorKind::Named("alice"));
        assert_eq!(Actor::from("u024be7lh").slack_user(), None);
    }

    #[test]
    fn every_name_serialises_exactly_as_it_was_stored() {
        for name in [
            "U024BE7LH",
            "web:alice",
            "alert:alertmanager",
            "sevtool",
            "SevTool",
            "alice smith",
            "",
        ] {
            let json = serde_json::to_string(name).unwrap();
            let actor: Actor = serde_json::from_str(&json).unwrap();
            assert_eq!(actor, name);
            assert_eq!(serde_json::to_string(&actor).unwrap(), json);
        }
    }
}
