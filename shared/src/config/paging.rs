//! Paging: the team catalog, PagerDuty and Opsgenie, and which SEVs page automatically.

use std::path::PathBuf;

use crate::domain::Level;

use super::{ConfigError, Secret, checked_as_given, set, set_or};

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
    /// `SEVTOOL_AUTOPAGE_LEVEL`: SEVs at this level or worse page the coordinator rotation.
    pub autopage: Option<Level>,
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
        ])
        .unwrap()
        .paging
        .unwrap();
        assert_eq!(p.pagerduty_events_url, "https://events.pagerduty.com");
        assert_eq!(p.pagerduty_api_url, "https://api.pagerduty.com");
        assert_eq!(p.opsgenie_api_url, "https://api.opsgenie.com");
        assert_eq!(p.autopage, Some(Level::Sev2));
        assert!(!format!("{p:?}").contains("pd-secret") && !format!("{p:?}").contains("pd-whsec"));
        assert_eq!(
            p.pagerduty_webhook_secret.as_ref().map(|s| s.expose()),
            Some("pd-whsec")
        );
        let off = config(&[("SEVTOOL_TEAMS", "t"), ("SEVTOOL_AUTOPAGE_LEVEL", "off")]).unwrap();
        assert_eq!(off.paging.unwrap().autopage, None);
        assert!(config(&[("SEVTOOL_TEAMS", "t"), ("SEVTOOL_AUTOPAGE_LEVEL", "SEV9")]).is_err());
    }
}
