//! The optional Jira Cloud integration: each open corrective action (SCA) becomes an issue in its
//! owning team's project, the issue's link is stored on the SCA, and the SCA is marked done once
//! the issue is: at once when Jira's webhook says so (`webhook`), else by the daily sweep. Off
//! unless `SEVTOOL_JIRA_URL` is set; a failure here never undoes or blocks the SCA, which is
//! stored before any of this runs.

mod adf;
mod client;
mod integration;
mod webhook;

pub use integration::JiraIntegration;
pub use webhook::{JiraWebhook, router as webhook_router, signature as webhook_signature};

use crate::config::Secret;
use crate::domain::Priority;

/// Jira settings, present when `SEVTOOL_JIRA_URL` is set (with the email and token it needs).
#[derive(Debug, Clone)]
pub struct JiraSettings {
    /// `SEVTOOL_JIRA_URL`: the site, as `https://acme.atlassian.net`, without a trailing `/`.
    pub url: String,
    /// `SEVTOOL_JIRA_EMAIL`: the account the API token belongs to.
    pub email: String,
    /// `SEVTOOL_JIRA_API_TOKEN`.
    pub api_token: Secret,
    /// `SEVTOOL_JIRA_PROJECT`: where issues go when no team in the catalog claims the SEV.
    pub default_project: Option<String>,
    /// `SEVTOOL_JIRA_ISSUE_TYPE`.
    pub issue_type: String,
    /// `SEVTOOL_JIRA_PRIORITIES`.
    pub priorities: Priorities,
    /// `SEVTOOL_JIRA_WEBHOOK_SECRET`: the secret Jira's webhook signs with; none: no webhook.
    pub webhook_secret: Option<Secret>,
}

/// The Jira priority each SCA priority gets. Jira priority schemes differ per site, hence names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priorities {
    pub must: String,
    pub should: String,
    pub could: String,
}

impl Default for Priorities {
    fn default() -> Self {
        Priorities {
            must: "Highest".into(),
            should: "High".into(),
            could: "Medium".into(),
        }
    }
}

impl Priorities {
    /// Parses `must=Blocker,should=Major,could=Minor` over the defaults.
    pub fn with_overrides(mut self, spec: &str) -> Result<Priorities, String> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not priority=Jira priority name"))?;
            let value = value.trim();
            if value.is_empty() {
                return Err(format!("`{pair}` names no Jira priority"));
            }
            let slot = match key.trim().to_ascii_lowercase().as_str() {
                "must" => &mut self.must,
                "should" => &mut self.should,
                "could" => &mut self.could,
                other => return Err(format!("`{other}` is not one of must, should, could")),
            };
            value.clone_into(slot);
        }
        Ok(self)
    }

    pub fn name(&self, priority: Priority) -> &str {
        match priority {
            Priority::Must => &self.must,
            Priority::Should => &self.should,
            Priority::Could => &self.could,
        }
    }
}

/// A Jira project key as Jira allows them by default: an upper-case letter, then upper-case
/// letters, digits or `_`. Checked at start-up so a typo shows there rather than on every SCA.
pub fn valid_project_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && key.len() <= 255
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_default_to_jira_s_scheme_and_can_be_renamed() {
        let p = Priorities::default();
        assert_eq!(
            [Priority::Must, Priority::Should, Priority::Could].map(|x| p.name(x).to_owned()),
            ["Highest", "High", "Medium"]
        );
        let p = Priorities::default()
            .with_overrides("must=Blocker, Should = Major ,could=Minor")
            .unwrap();
        assert_eq!(
            (p.must.as_str(), p.should.as_str(), p.could.as_str()),
            ("Blocker", "Major", "Minor")
        );
        let p = Priorities::default().with_overrides("could=Low").unwrap();
        assert_eq!((p.must.as_str(), p.could.as_str()), ("Highest", "Low"));
        assert_eq!(Priorities::default().with_overrides("").unwrap(), Priorities::default());
    }

    #[test]
    fn bad_priority_overrides_say_what_is_wrong() {
        for (spec, hint) in [
            ("urgent=Blocker", "must, should, could"),
            ("must", "priority=Jira priority name"),
            ("must=", "names no Jira priority"),
        ] {
            let err = Priorities::default().with_overrides(spec).unwrap_err();
            assert!(err.contains(hint), "{spec}: {err}");
        }
    }

    #[test]
    fn project_keys_look_like_jira_s() {
        for ok in ["PAY", "OPS2", "A_B"] {
            assert!(valid_project_key(ok), "{ok}");
        }
        for bad in ["", "pay", "2PAY", "PA Y", "PAY-1"] {
            assert!(!valid_project_key(bad), "{bad}");
        }
    }
}
