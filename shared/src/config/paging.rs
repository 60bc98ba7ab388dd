//! Paging: the team catalog, PagerDuty, Opsgenie and JSM Ops, and which SEVs page automatically.

use std::path::PathBuf;

use crate::domain::Level;

use super::{ConfigError, Secret, checked, checked_as_given, set, set_or};

/// Paging settings, present when `SEVTOOL_TEAMS` names a team catalog.
#[derive(Debug, Clone)]
pub struct PagingSettings {
    /// `SEVTOOL_TEAMS`.
    pub teams: PathBuf,
    /// `PAGERDUTY_EVENTS_URL`: Events API v2 base (`/v2/enqueue` is appended).
    pub pagerduty_events_url: String,
    /// `PAGERDUTY_API_URL`: REST API base (`/oncalls`, `/users/{id}`).
    pub pagerduty_api_url: String,
    /// `PAGERDUTY_API_TOKEN`: REST API token, for who is on call and whose page an incident is.
    pub pagerduty_token: Option<Secret>,
    /// `PAGERDUTY_WEBHOOK_SECRET`: the V3 webhook subscription's signing secret; without it
    /// `POST /pagerduty/webhook` answers 503.
    pub pagerduty_webhook_secret: Option<Secret>,
    /// `OPSGENIE_API_URL`.
    pub opsgenie_api_url: String,
    /// `OPSGENIE_WEBHOOK_SECRET`: what the Opsgenie (or JSM Ops) webhook integration sends as
    /// `Authorization: Bearer <secret>`; without it `POST /opsgenie/webhook` answers 503.
    pub opsgenie_webhook_secret: Option<Secret>,
    /// `JSM_OPS_API_URL`: Atlassian's API gateway, for JSM Ops' integration events and REST API.
    pub jsm_ops_api_url: String,
    /// The account that reads JSM Ops schedules, when all four of its variables are set.
    pub jsm_account: Option<JsmAccount>,
    /// `SEVTOOL_AUTOPAGE_LEVEL`: SEVs at this level or worse page the coordinator rotation.
    pub autopage: Option<Level>,
}

/// The Atlassian account that looks up who is on call in JSM Ops: `JSM_CLOUD_ID`,
/// `JSM_SITE_URL` (the Jira site, which turns account ids into people), `JSM_EMAIL` and
/// `JSM_API_TOKEN`.
#[derive(Debug, Clone)]
pub struct JsmAccount {
    pub cloud_id: String,
    pub site_url: String,
    pub email: String,
    pub api_token: Secret,
}

const JSM_ACCOUNT: [&str; 4] = ["JSM_CLOUD_ID", "JSM_SITE_URL", "JSM_EMAIL", "JSM_API_TOKEN"];

fn jsm_account(get: &impl Fn(&str) -> Option<String>) -> Result<Option<JsmAccount>, ConfigError> {
    let value = |i: usize| set(get, JSM_ACCOUNT[i]);
    let (Some(cloud_id), Some(site_url), Some(email), Some(api_token)) = (value(0), value(1), value(2), value(3))
    else {
        let missing: Vec<&str> = JSM_ACCOUNT.into_iter().filter(|n| set(get, n).is_none()).collect();
        return match JSM_ACCOUNT.into_iter().find(|n| set(get, n).is_some()) {
            Some(given) => checked_as_given(given, "(set)", |_| {
                Err(format!("the JSM Ops on-call lookup also needs {}", missing.join(", ")))
            }),
            None => Ok(None),
        };
    };
    let cloud_id = checked("JSM_CLOUD_ID", cloud_id, |v| {
        let ok = !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        ok.then(|| v.to_owned())
            .ok_or_else(|| "a cloud id is a UUID; https://<site>.atlassian.net/_edge/tenant_info shows it".into())
    })?;
    let site_url = checked("JSM_SITE_URL", site_url, |v| {
        let ok = (v.starts_with("https://") || v.starts_with("http://")) && !v.contains(char::is_whitespace);
        ok.then(|| v.trim_end_matches('/').to_owned())
            .ok_or_else(|| "the Jira site's URL, e.g. https://example.atlassian.net".into())
    })?;
    Ok(Some(JsmAccount {
        cloud_id,
        site_url,
        email: email.trim().to_owned(),
        api_token: Secret::new(api_token),
    }))
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Option<PagingSettings>, ConfigError> {
    let Some(teams) = set(get, "SEVTOOL_TEAMS") else {
        return Ok(None);
    };
    let autopage = checked_as_given(
        "SEVTOOL_AUTOPAGE_LEVEL",
        &set_or(get, "SEVTOOL_AUTOPAGE_LEVEL", "SEV2"),
        |v| {
            if v.trim().eq_ignore_ascii_case("off") {
                return Ok(None);
            }
            v.parse::<Level>()
                .map(Some)
                .map_err(|e| format!("{e}; or `off` to never page automatically"))
        },
    )?;
    Ok(Some(PagingSettings {
        teams: PathBuf::from(teams),
        pagerduty_events_url: set_or(get, "PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com"),
        pagerduty_api_url: set_or(get, "PAGERDUTY_API_URL", "https://api.pagerduty.com"),
        pagerduty_token: set(get, "PAGERDUTY_API_TOKEN").map(Secret::new),
        pagerduty_webhook_secret: set(get, "PAGERDUTY_WEBHOOK_SECRET").map(Secret::new),
        opsgenie_api_url: set_or(get, "OPSGENIE_API_URL", "https://api.opsgenie.com"),
        opsgenie_webhook_secret: set(get, "OPSGENIE_WEBHOOK_SECRET").map(Secret::new),
        jsm_ops_api_url: set_or(get, "JSM_OPS_API_URL", "https://api.atlassian.com"),
        jsm_account: jsm_account(get)?,
        autopage,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::tests::config;
    use crate::domain::Level;

    #[test]
    fn paging_has_documented_defaults_and_hides_the_token() {
        assert!(config(&[]).unwrap().paging.is_none());
        let p = config(&[
            ("SEVTOOL_TEAMS", "teams.toml"),
            ("PAGERDUTY_API_TOKEN", "pd-secret"),
            ("PAGERDUTY_WEBHOOK_SECRET", "pd-whsec"),
            ("OPSGENIE_WEBHOOK_SECRET", "og-whsec"),
        ])
        .unwrap()
        .paging
        .unwrap();
        assert_eq!(p.pagerduty_events_url, "https://events.pagerduty.com");
        assert_eq!(p.pagerduty_api_url, "https://api.pagerduty.com");
        assert_eq!(p.opsgenie_api_url, "https://api.opsgenie.com");
        assert_eq!(p.autopage, Some(Level::Sev2));
        let shown = format!("{p:?}");
        assert!(!shown.contains("pd-secret") && !shown.contains("pd-whsec") && !shown.contains("og-whsec"));
        assert_eq!(p.opsgenie_webhook_secret.as_ref().map(|s| s.expose()), Some("og-whsec"));
        assert_eq!(
            p.pagerduty_webhook_secret.as_ref().map(|s| s.expose()),
            Some("pd-whsec")
        );
        assert_eq!(p.jsm_ops_api_url, "https://api.atlassian.com");
        assert!(p.jsm_account.is_none());
        let off = config(&[("SEVTOOL_TEAMS", "t"), ("SEVTOOL_AUTOPAGE_LEVEL", "off")]).unwrap();
        assert_eq!(off.paging.unwrap().autopage, None);
        assert!(config(&[("SEVTOOL_TEAMS", "t"), ("SEVTOOL_AUTOPAGE_LEVEL", "SEV9")]).is_err());
    }

    #[test]
    fn the_jsm_account_needs_all_four_variables_and_hides_its_token() {
        let all = [
            ("SEVTOOL_TEAMS", "t"),
            ("JSM_CLOUD_ID", "c0ffee00-0000-4000-8000-000000000001"),
            ("JSM_SITE_URL", "https://example.atlassian.net/"),
            ("JSM_EMAIL", "bot@example.com"),
            ("JSM_API_TOKEN", "jsm-token"),
        ];
        let account = config(&all).unwrap().paging.unwrap().jsm_account.unwrap();
        assert_eq!(account.site_url, "https://example.atlassian.net");
        assert!(!format!("{account:?}").contains("jsm-token"));
        for left_out in 1..all.len() {
            let some: Vec<_> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != left_out)
                .map(|(_, v)| *v)
                .collect();
            let e = config(&some).unwrap_err().to_string();
            assert!(e.contains(all[left_out].0), "{e}");
            assert!(!e.contains("jsm-token"), "{e}");
        }
        let mut bad = all;
        bad[1].1 = "example.atlassian.net/../x";
        assert!(config(&bad).unwrap_err().to_string().contains("JSM_CLOUD_ID"));
        let mut bad = all;
        bad[2].1 = "example.atlassian.net";
        assert!(config(&bad).unwrap_err().to_string().contains("JSM_SITE_URL"));
    }
}
