//! Secrets on AWS (Slack tokens, the alert webhook token, pager keys). They live in one Secrets
//! Manager secret, never in plain environment variables or the deployment template: its
//! SecretString is a JSON object of variable name to value, read once per cold start, and each
//! configuration variable comes from the environment if set there, else from the secret.
//!
//! Values never reach a log, an error message or a `Debug` form: only names and counts do.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_secretsmanager::Client;

/// Names the secret (ARN or name) that holds the values; unset means "no secret", as locally.
pub const SECRETS_ARN_VAR: &str = "SEVTOOL_SECRETS_ARN";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("{0}")]
    Read(String),
    /// Says what is wrong with the secret's shape, never what it holds.
    #[error("secret {secret_id} is not usable: {reason}; it must be a JSON object of NAME -> string value")]
    Malformed { secret_id: String, reason: String },
}

/// Variable name to value, from the secret. Empty values count as unset, as empty environment
/// variables do, so a placeholder such as `{"SLACK_BOT_TOKEN": ""}` leaves that integration off.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// Parses a SecretString. `secret_id` only labels errors.
    pub fn parse(secret_id: &str, secret_string: &str) -> Result<Secrets, SecretsError> {
        let malformed = |reason: String| SecretsError::Malformed {
            secret_id: secret_id.to_owned(),
            reason,
        };
        // serde_json's own message could quote part of the text, which is secret: say where only.
        let value: serde_json::Value = serde_json::from_str(secret_string)
            .map_err(|e| malformed(format!("not JSON (line {}, column {})", e.line(), e.column())))?;
        let serde_json::Value::Object(object) = value else {
            return Err(malformed("not a JSON object".into()));
        };
        let mut values = BTreeMap::new();
        for (name, value) in object {
            match value {
                serde_json::Value::String(s) => {
                    values.insert(name, s);
                }
                _ => return Err(malformed(format!("the value of {name} is not a string"))),
            }
        }
        Ok(Secrets { values })
    }

    /// Reads the secret's current value.
    pub async fn load(client: &Client, secret_id: &str) -> Result<Secrets, SecretsError> {
        let out = client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| SecretsError::Read(crate::aws_error::describe("Secrets Manager", "GetSecretValue", &e)))?;
        let text = out.secret_string().ok_or_else(|| SecretsError::Malformed {
            secret_id: secret_id.to_owned(),
            reason: "it has no SecretString (binary secrets are not supported)".into(),
        })?;
        Secrets::parse(secret_id, text)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The names that have a value, for the start-up log.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, _)| k.as_str())
    }

    /// A lookup for `Config::from_lookup`: `env` first, so an operator can override one value
    /// without touching the secret, then the secret.
    pub fn behind<'a>(&'a self, env: impl Fn(&str) -> Option<String> + 'a) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| self.get(name).map(str::to_owned))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_object_of_strings_and_treats_empty_as_unset() {
        let s = Secrets::parse("s", r#"{"SLACK_BOT_TOKEN": "xoxb-1", "ALERT_WEBHOOK_TOKEN": ""}"#).unwrap();
        assert_eq!(s.get("SLACK_BOT_TOKEN"), Some("xoxb-1"));
        assert_eq!(s.get("ALERT_WEBHOOK_TOKEN"), None);
        assert_eq!(s.names().collect::<Vec<_>>(), ["SLACK_BOT_TOKEN"]);
    }

    #[test]
    fn errors_and_debug_never_show_values() {
        for text in [
            r#"{"A": "hunter2", "B": 7}"#,
            r#"["hunter2"]"#,
            r#"{"A": "hunter2""#,
            "hunter2",
        ] {
            let err = Secrets::parse("arn:s", text).unwrap_err().to_string();
            assert!(err.contains("arn:s") && !err.contains("hunter2"), "{err}");
        }
        let s = Secrets::parse("s", r#"{"A": "hunter2"}"#).unwrap();
        let debug = format!("{s:?}");
        assert!(debug.contains('A') && !debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn the_environment_wins_over_the_secret_unless_empty() {
        let s = Secrets::parse("s", r#"{"A": "from-secret", "B": "from-secret"}"#).unwrap();
        let env = |name: &str| match name {
            "A" => Some("from-env".to_owned()),
            "B" => Some(" ".to_owned()),
            _ => None,
        };
        let get = s.behind(env);
        assert_eq!(get("A").as_deref(), Some("from-env"));
        assert_eq!(get("B").as_deref(), Some("from-secret"));
        assert_eq!(get("C"), None);
    }
}
