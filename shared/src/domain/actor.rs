//! Who did something, as the timeline records it: a Slack user id (`U024BE7LH`), a person who
//! signed in with the shared token (`web:alice`), an alert source (`alert:alertmanager`) or one
//! of sevtool's own actors (`sevtool`, `web`, `api`, `jira`). The shape of the name tells them
//! apart, so a name a person types must never take another kind's shape: that would let them
//! pass for a Slack user or a system actor, and so for a member of private SEVs.

/// Kept as an opaque string so every entry point can name its people its own way.
pub type Actor = String;

/// sevtool itself: report drafts, paging on filing.
pub const SEVTOOL: &str = "sevtool";
/// The web UI on the open local server, where nobody signs in.
pub const WEB: &str = "web";
/// A script's change that names nobody.
pub const API: &str = "api";
/// Changes read back from Jira.
pub const JIRA: &str = "jira";
/// Alert sources: `alert:<source>`. Their changes never count as a person taking a SEV over.
pub const ALERT_PREFIX: &str = "alert:";
/// People signed in with the shared token: `web:<the name they typed>`.
pub const WEB_PERSON_PREFIX: &str = "web:";

const SYSTEM: [&str; 4] = [SEVTOOL, WEB, API, JIRA];

/// Whether `name` is a Slack user id (`U…` or `W…`, upper-case letters and digits), the shape
/// Slack gives every user and sevtool turns into a mention.
pub fn is_slack_user(name: &str) -> bool {
    name.len() > 1 && name.starts_with(['U', 'W']) && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Names only sevtool itself gives, case aside: its own actors, alert sources and token
/// sign-ins (`web:…`). No request may name someone so, not even an operator's script.
pub fn is_system(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    SYSTEM.contains(&lower.as_str()) || lower.starts_with(ALERT_PREFIX) || lower.starts_with(WEB_PERSON_PREFIX)
}

/// Names a person may not give at sign-in: the system's, and Slack user ids (only Slack vouches
/// for those; an operator's script may name one, as it may do anything).
pub fn is_reserved(name: &str) -> bool {
    is_system(name) || is_slack_user(name.trim())
}

/// The actor of a person who signed in with the shared token under `name`.
pub fn web_person(name: &str) -> Actor {
    format!("{WEB_PERSON_PREFIX}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_actors_alert_sources_and_slack_ids_are_reserved_in_any_case() {
        for name in [
            "sevtool",
            "SevTool",
            " web ",
            "api",
            "JIRA",
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
        assert_eq!(web_person("alice"), "web:alice");
        assert!(is_reserved(&web_person("alice")));
        assert!(!is_slack_user(&web_person("U024BE7LH")));
    }
}
