//! The Jira integration, switched on by `SEVTOOL_JIRA_URL`: SCAs become Jira issues.

use crate::jira::{JiraSettings, Priorities, valid_project_key};

use super::{ConfigError, Secret, checked_as_given, missing, set, trimmed};

/// The Jira settings, when `SEVTOOL_JIRA_URL` turns the integration on; the rest is then checked.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Option<JiraSettings>, ConfigError> {
    let Some(url) = trimmed(get, "SEVTOOL_JIRA_URL") else {
        return Ok(None);
    };
    let url = checked_as_given("SEVTOOL_JIRA_URL", url.trim_end_matches('/'), |url| {
        if url.starts_with("https://") || url.starts_with("http://") {
            Ok(url.to_owned())
        } else {
            Err("must be the Jira site's address, as https://acme.atlassian.net".into())
        }
    })?;
    let needed = |name: &'static str, what: &str| {
        trimmed(get, name).ok_or_else(|| missing(name, format!("SEVTOOL_JIRA_URL turns Jira on, which needs {what}")))
    };
    let email = needed(
        "SEVTOOL_JIRA_EMAIL",
        "the email of the account the API token belongs to",
    )?;
    // Taken as given (not trimmed), as every token is.
    let api_token = set(get, "SEVTOOL_JIRA_API_TOKEN").map(Secret).ok_or_else(|| {
        missing(
            "SEVTOOL_JIRA_API_TOKEN",
            "SEVTOOL_JIRA_URL turns Jira on, which needs an API token (id.atlassian.com, Security, API tokens)",
        )
    })?;
    let default_project = trimmed(get, "SEVTOOL_JIRA_PROJECT")
        .map(|p| {
            checked_as_given("SEVTOOL_JIRA_PROJECT", &p, |p| {
                if valid_project_key(p) {
                    Ok(p.to_owned())
                } else {
                    Err("is not a Jira project key: upper-case letters, digits or `_`, starting with a letter, e.g. OPS"
                        .into())
                }
            })
        })
        .transpose()?;
    let spec = trimmed(get, "SEVTOOL_JIRA_PRIORITIES").unwrap_or_default();
    let priorities = checked_as_given("SEVTOOL_JIRA_PRIORITIES", &spec, |spec| {
        Priorities::default()
            .with_overrides(spec)
            .map_err(|reason| format!("{reason}; write it as must=Highest,should=High,could=Medium"))
    })?;
    Ok(Some(JiraSettings {
        url,
        email,
        api_token,
        default_project,
        issue_type: trimmed(get, "SEVTOOL_JIRA_ISSUE_TYPE").unwrap_or_else(|| "Task".into()),
        // Taken as given (not trimmed): a secret is compared byte for byte.
        webhook_secret: set(get, "SEVTOOL_JIRA_WEBHOOK_SECRET").map(Secret::new),
        priorities,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::tests::config;
    use crate::jira::Priorities;

    #[test]
    fn jira_is_off_by_default_and_checked_when_on() {
        assert!(config(&[]).unwrap().jira.is_none());
        let on = [
            ("SEVTOOL_JIRA_URL", "https://acme.atlassian.net/"),
            ("SEVTOOL_JIRA_EMAIL", "bot@acme.test"),
            ("SEVTOOL_JIRA_API_TOKEN", "jira-s3cret"),
        ];
        let c = config(&on).unwrap();
        assert!(c.integrations.describe().contains(&"jira: on".to_owned()));
        let j = c.jira.unwrap();
        assert_eq!(
            (j.url.as_str(), j.issue_type.as_str()),
            ("https://acme.atlassian.net", "Task")
        );
        assert_eq!((j.default_project, j.priorities), (None, Priorities::default()));
        assert_eq!(j.api_token.expose(), "jira-s3cret");
        assert!(!format!("{:?}", config(&on).unwrap()).contains("jira-s3cret"));
        let j = config(&[
            on[0],
            on[1],
            on[2],
            ("SEVTOOL_JIRA_PROJECT", "OPS"),
            ("SEVTOOL_JIRA_ISSUE_TYPE", "Bug"),
            ("SEVTOOL_JIRA_PRIORITIES", "must=Blocker"),
        ])
        .unwrap()
        .jira
        .unwrap();
        assert_eq!(
            (j.default_project.as_deref(), j.issue_type.as_str()),
            (Some("OPS"), "Bug")
        );
        assert_eq!(j.priorities.must, "Blocker");
        for (bad, name) in [
            (vec![on[0], on[1]], "SEVTOOL_JIRA_API_TOKEN"),
            (vec![on[0], on[2]], "SEVTOOL_JIRA_EMAIL"),
            (
                vec![("SEVTOOL_JIRA_URL", "acme.atlassian.net"), on[1], on[2]],
                "SEVTOOL_JIRA_URL",
            ),
            (
                vec![on[0], on[1], on[2], ("SEVTOOL_JIRA_PROJECT", "ops")],
                "SEVTOOL_JIRA_PROJECT",
            ),
            (
                vec![on[0], on[1], on[2], ("SEVTOOL_JIRA_PRIORITIES", "urgent=x")],
                "SEVTOOL_JIRA_PRIORITIES",
            ),
        ] {
            let err = config(&bad).unwrap_err().to_string();
            assert!(err.starts_with(name), "{err}");
            assert!(!err.contains("jira-s3cret"), "{err}");
        }
    }
}
