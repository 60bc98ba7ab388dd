//! Configuration from the environment. Every variable is documented in the README; the defaults
//! make `make run` work with nothing set.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::app::SecurityGroup;
use crate::domain::{DuePolicy, Level, NagPolicy};
use crate::jira::{JiraSettings, Priorities, valid_project_key};
use crate::slack::{BotToken, Reactions, SigningSecret, SlackSettings};

mod policies;

#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is not valid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

/// Which third-party integrations are switched on, judged from the variables that enable them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integrations {
    pub slack: bool,
    pub pager: bool,
    pub alerts: bool,
    pub jira: bool,
}

impl Integrations {
    /// One line per integration for the start-up log: on, or off and how to switch it on.
    pub fn describe(&self) -> Vec<String> {
        let line = |on: bool, name: &str, how: &str| {
            if on {
                format!("{name}: on")
            } else {
                format!("{name}: off (set {how})")
            }
        };
        vec![
            line(self.slack, "slack", "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
            line(self.pager, "paging", "SEVTOOL_TEAMS to a team catalog"),
            line(self.alerts, "alert webhooks", "ALERT_WEBHOOK_TOKEN"),
            line(
                self.jira,
                "jira",
                "SEVTOOL_JIRA_URL, SEVTOOL_JIRA_EMAIL and SEVTOOL_JIRA_API_TOKEN",
            ),
        ]
    }
}

/// A secret from the environment. Its `Debug` hides it, so logging a config never leaks it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Secrets come from files (the team catalog) as well as the environment.
impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as serde::Deserialize>::deserialize(d).map(Secret)
    }
}

/// Sign in with Slack (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`): the auth module's settings.
#[derive(Debug, Clone)]
pub struct SlackSignInSettings {
    pub client_id: String,
    pub client_secret: Secret,
    /// `SLACK_TEAM_ID`: only members of this workspace may sign in.
    pub team_id: Option<String>,
    /// `SLACK_AUTHORIZE_URL`.
    pub authorize_url: String,
    /// `SLACK_API_URL`: where `openid.connect.token` lives.
    pub api_url: String,
    /// `SEVTOOL_PUBLIC_URL` + `/auth/slack/callback`, as registered in the Slack app.
    pub redirect_uri: String,
}

/// Paging settings, present when `SEVTOOL_TEAMS` names a team catalog.
#[derive(Debug, Clone)]
pub struct PagingSettings {
    /// `SEVTOOL_TEAMS`.
    pub teams: PathBuf,
    /// `PAGERDUTY_EVENTS_URL`: Events API v2 base (`/v2/enqueue` is appended).
    pub pagerduty_events_url: String,
    /// `PAGERDUTY_API_URL`: REST API base (`/oncalls`, `/users/{id}`).
    pub pagerduty_api_url: String,
    /// `PAGERDUTY_API_TOKEN`: REST API token, for who is on call.
    pub pagerduty_token: Option<Secret>,
    /// `OPSGENIE_API_URL`.
    pub opsgenie_api_url: String,
    /// `SEVTOOL_AUTOPAGE_LEVEL`: SEVs at this level or worse page the coordinator rotation.
    pub autopage: Option<Level>,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `SEVTOOL_HOST`: the address `sevtool` binds. Loopback by default: the local server is open.
    pub host: IpAddr,
    /// `PORT`.
    pub port: u16,
    /// `SEVTOOL_DATA_DIR`: where the embedded store keeps its file.
    pub data_dir: PathBuf,
    /// `SEVTOOL_TABLE`: the DynamoDB table, on AWS.
    pub table: String,
    /// `SEVTOOL_TASK_QUEUE_URL`: the SQS queue for integration tasks, on AWS.
    pub task_queue_url: Option<String>,
    pub integrations: Integrations,
    /// `SEVTOOL_PAGER_QUEUE_URL`: the SQS queue of page tasks, on AWS.
    pub pager_queue_url: Option<String>,
    /// Present when `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` are both set.
    pub slack: Option<SlackSettings>,
    /// `SEVTOOL_SCA_DUE_DAYS`: days an SCA gets, by priority (and level for Must Do).
    pub sca_policy: DuePolicy,
    /// `SEVTOOL_REPORT_DUE_DAYS` and `SEVTOOL_REPORT_OWNER_HOURS`: when a SEV report is due and
    /// how soon after mitigation it should have an owner.
    pub report_policy: crate::domain::ReportPolicy,
    /// `SEVTOOL_NAG_POLICY`: the nag ladder's rungs, quiet hours and weekends.
    pub nag_policy: NagPolicy,
    /// `SEVTOOL_SCHEDULE_GROUP`: the EventBridge Scheduler group of the nag schedules.
    pub schedule_group: String,
    /// `SEVTOOL_SCHEDULE_TARGET_ARN`: the task queue's ARN, which fired schedules send to (AWS).
    pub schedule_target_arn: Option<String>,
    /// `SEVTOOL_SCHEDULER_ROLE_ARN`: the role EventBridge Scheduler assumes to send (AWS).
    pub scheduler_role_arn: Option<String>,
    /// `SEVTOOL_NAG_UTC_OFFSET`: owners' time zone for quiet hours, as `+02:00`.
    pub nag_offset: chrono::FixedOffset,
    /// `ALERT_WEBHOOK_TOKEN`: what alert sources must send; unset, the alert webhooks refuse all.
    pub alert_webhook_token: Option<Secret>,
    /// `SEVTOOL_ALERT_RULES`: the alert routing rules file; unset, the built-in defaults apply.
    pub alert_rules: Option<PathBuf>,
    pub paging: Option<PagingSettings>,
    /// `SEVTOOL_REPORT_TEMPLATE`: a SEV report template file; unset, the shipped one.
    pub report_template: Option<PathBuf>,
    /// `SEVTOOL_ACCESS_TOKEN`: the shared token for scripts (bearer) and the `/signin` form.
    pub access_token: Option<Secret>,
    /// `SEVTOOL_SESSION_KEY`: signs session cookies; unset, a random key per process.
    pub session_key: Option<Secret>,
    /// `SEVTOOL_PUBLIC_URL`: where people reach the web UI, as `https://sev.example.com`.
    pub public_url: Option<String>,
    /// Present when `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` are set: Sign in with Slack.
    pub slack_sign_in: Option<SlackSignInSettings>,
    /// `SEVTOOL_SECURITY_GROUP`: who sees every private SEV (Slack user ids or signed-in names).
    pub security_group: SecurityGroup,
    /// Present when `SEVTOOL_JIRA_URL` is set: SCAs become Jira issues.
    pub jira: Option<JiraSettings>,
    /// `SEVTOOL_EXPORT_BUCKET`: the S3 bucket of the data lake the `reports` function exports to.
    pub export_bucket: Option<String>,
    /// `SEVTOOL_EXPORT_PREFIX`: where in that bucket, empty or ending with `/`.
    pub export_prefix: String,
}

/// `raw` (the value of `name`) through `parse`; a refusal names the variable and its value.
fn checked<T>(name: &'static str, raw: String, parse: fn(&str) -> Result<T, String>) -> Result<T, ConfigError> {
    parse(raw.trim()).map_err(|reason| ConfigError {
        name,
        value: raw,
        reason,
    })
}

/// An S3 key prefix as a folder: no leading `/`, one trailing `/`; `/` alone is the bucket's root.
fn key_prefix(raw: &str) -> String {
    let folder = raw.trim().trim_matches('/');
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

/// The Jira settings, when `SEVTOOL_JIRA_URL` turns the integration on; the rest is then checked.
fn jira(get: &impl Fn(&str) -> Option<String>) -> Result<Option<JiraSettings>, ConfigError> {
    let set = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let Some(url) = set("SEVTOOL_JIRA_URL") else {
        return Ok(None);
    };
    let url = url.trim_end_matches('/').to_owned();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ConfigError {
            name: "SEVTOOL_JIRA_URL",
            value: url,
            reason: "must be the Jira site's address, as https://acme.atlassian.net".into(),
        });
    }
    let needed = |name: &'static str, what: &str| {
        set(name).ok_or_else(|| ConfigError {
            name,
            value: String::new(),
            reason: format!("SEVTOOL_JIRA_URL turns Jira on, which needs {what}"),
        })
    };
    let email = needed(
        "SEVTOOL_JIRA_EMAIL",
        "the email of the account the API token belongs to",
    )?;
    // Taken as given (not trimmed), as every token is.
    let api_token = get("SEVTOOL_JIRA_API_TOKEN")
        .filter(|v| !v.trim().is_empty())
        .map(Secret)
        .ok_or_else(|| ConfigError {
            name: "SEVTOOL_JIRA_API_TOKEN",
            value: String::new(),
            reason: "SEVTOOL_JIRA_URL turns Jira on, which needs an API token (id.atlassian.com, Security, API tokens)"
                .into(),
        })?;
    let default_project = set("SEVTOOL_JIRA_PROJECT");
    if let Some(p) = default_project.as_ref().filter(|p| !valid_project_key(p)) {
        return Err(ConfigError {
            name: "SEVTOOL_JIRA_PROJECT",
            value: p.clone(),
            reason: "is not a Jira project key: upper-case letters, digits or `_`, starting with a letter, e.g. OPS"
                .into(),
        });
    }
    let spec = set("SEVTOOL_JIRA_PRIORITIES").unwrap_or_default();
    let priorities = Priorities::default()
        .with_overrides(&spec)
        .map_err(|reason| ConfigError {
            name: "SEVTOOL_JIRA_PRIORITIES",
            value: spec.clone(),
            reason: format!("{reason}; write it as must=Highest,should=High,could=Medium"),
        })?;
    Ok(Some(JiraSettings {
        url,
        email,
        api_token,
        default_project,
        issue_type: set("SEVTOOL_JIRA_ISSUE_TYPE").unwrap_or_else(|| "Task".into()),
        // Taken as given (not trimmed): a secret is compared byte for byte.
        webhook_secret: get("SEVTOOL_JIRA_WEBHOOK_SECRET")
            .filter(|v| !v.trim().is_empty())
            .map(Secret::new),
        priorities,
    }))
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let set = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let parsed = |name: &'static str, default: &str| -> Result<String, ConfigError> {
            Ok(set(name).unwrap_or_else(|| default.to_owned()))
        };
        let host_raw = parsed("SEVTOOL_HOST", "127.0.0.1")?;
        let host: IpAddr = host_raw.parse().map_err(|e: std::net::AddrParseError| ConfigError {
            name: "SEVTOOL_HOST",
            value: host_raw.clone(),
            reason: e.to_string(),
        })?;
        let port_raw = parsed("PORT", "3000")?;
        let port = port_raw.parse().map_err(|e: std::num::ParseIntError| ConfigError {
            name: "PORT",
            value: port_raw.clone(),
            reason: format!("{e}; use a port number such as 3000, or 0 for any free port"),
        })?;
        let mut slack = match (set("SLACK_BOT_TOKEN"), set("SLACK_SIGNING_SECRET")) {
            (Some(token), Some(secret)) => {
                let pattern = parsed("SLACK_CHANNEL_PATTERN", "sev-{n}-{slug}")?;
                if !pattern.contains("{n}") {
                    return Err(ConfigError {
                        name: "SLACK_CHANNEL_PATTERN",
                        value: pattern,
                        reason: "must contain {n}, the SEV number, so every SEV gets its own channel".into(),
                    });
                }
                let spec = parsed("SLACK_REACTIONS", "")?;
                let reactions = Reactions::default()
                    .with_overrides(&spec)
                    .map_err(|reason| ConfigError {
                        name: "SLACK_REACTIONS",
                        value: spec.clone(),
                        reason,
                    })?;
                Some(SlackSettings {
                    bot_token: BotToken::new(token),
                    signing_secret: SigningSecret::new(secret),
                    api_url: parsed("SLACK_API_URL", "https://slack.com/api/")?,
                    announce_channel: parsed("SLACK_ANNOUNCE_CHANNEL", "sevs")?,
                    channel_pattern: pattern,
                    reactions,
                    reports_channel: parsed("SLACK_REPORTS_CHANNEL", "sev-reports")?,
                    digest_channel: parsed("SLACK_DIGEST_CHANNEL", "sev-review")?,
                    web_url: None,
                })
            }
            _ => None,
        };
        let offset_raw = parsed("SEVTOOL_NAG_UTC_OFFSET", "+00:00")?;
        let nag_offset = offset_raw.parse::<chrono::FixedOffset>().map_err(|e| ConfigError {
            name: "SEVTOOL_NAG_UTC_OFFSET",
            value: offset_raw.clone(),
            reason: format!("{e}; write it as +02:00 or -05:00"),
        })?;
        // The process timeline: each parser reads its variable over the defaults.
        let sca_policy = checked(
            "SEVTOOL_SCA_DUE_DAYS",
            parsed("SEVTOOL_SCA_DUE_DAYS", "")?,
            policies::due_policy,
        )?;
        let report_policy = crate::domain::ReportPolicy {
            due_business_days: checked(
                "SEVTOOL_REPORT_DUE_DAYS",
                parsed("SEVTOOL_REPORT_DUE_DAYS", "5")?,
                policies::report_due_days,
            )?,
            owner_within: checked(
                "SEVTOOL_REPORT_OWNER_HOURS",
                parsed("SEVTOOL_REPORT_OWNER_HOURS", "24")?,
                policies::report_owner_within,
            )?,
        };
        let nag_policy = checked(
            "SEVTOOL_NAG_POLICY",
            parsed("SEVTOOL_NAG_POLICY", "")?,
            policies::nag_policy,
        )?;
        let paging = match set("SEVTOOL_TEAMS") {
            Some(teams) => {
                let level = parsed("SEVTOOL_AUTOPAGE_LEVEL", "SEV2")?;
                let autopage = if level.trim().eq_ignore_ascii_case("off") {
                    None
                } else {
                    Some(level.parse::<Level>().map_err(|e| ConfigError {
                        name: "SEVTOOL_AUTOPAGE_LEVEL",
                        value: level.clone(),
                        reason: format!("{e}; or `off` to never page automatically"),
                    })?)
                };
                Some(PagingSettings {
                    teams: PathBuf::from(teams),
                    pagerduty_events_url: parsed("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com")?,
                    pagerduty_api_url: parsed("PAGERDUTY_API_URL", "https://api.pagerduty.com")?,
                    pagerduty_token: set("PAGERDUTY_API_TOKEN").map(Secret::new),
                    opsgenie_api_url: parsed("OPSGENIE_API_URL", "https://api.opsgenie.com")?,
                    autopage,
                })
            }
            None => None,
        };
        let public_url = set("SEVTOOL_PUBLIC_URL").map(|u| u.trim().trim_end_matches('/').to_owned());
        if let Some(slack) = &mut slack {
            slack.web_url = public_url.clone();
        }
        if let Some(url) = &public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError {
                name: "SEVTOOL_PUBLIC_URL",
                value: url.clone(),
                reason: "must start with https:// (or http:// on a laptop)".into(),
            });
        }
        let slack_sign_in = match (
            set("SLACK_CLIENT_ID"),
            get("SLACK_CLIENT_SECRET").filter(|v| !v.trim().is_empty()),
        ) {
            (None, None) => None,
            (Some(client_id), Some(secret)) => {
                let Some(public) = &public_url else {
                    return Err(ConfigError {
                        name: "SEVTOOL_PUBLIC_URL",
                        value: String::new(),
                        reason: "Sign in with Slack needs it, to tell Slack where to send people back".into(),
                    });
                };
                Some(SlackSignInSettings {
                    client_id: client_id.trim().to_owned(),
                    client_secret: Secret(secret),
                    team_id: set("SLACK_TEAM_ID").map(|t| t.trim().to_owned()),
                    authorize_url: parsed("SLACK_AUTHORIZE_URL", "https://slack.com/openid/connect/authorize")?,
                    api_url: parsed("SLACK_API_URL", "https://slack.com/api/")?,
                    redirect_uri: format!("{public}/auth/slack/callback"),
                })
            }
            (id, _) => {
                return Err(ConfigError {
                    name: if id.is_some() {
                        "SLACK_CLIENT_SECRET"
                    } else {
                        "SLACK_CLIENT_ID"
                    },
                    value: String::new(),
                    reason: "Sign in with Slack needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET".into(),
                });
            }
        };
        // Trimmed: a secret pasted from a file often ends in a newline no script would send.
        let access_token = get("SEVTOOL_ACCESS_TOKEN")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(Secret);
        if access_token.is_none() && slack_sign_in.is_none() && !host.is_loopback() {
            return Err(ConfigError {
                name: "SEVTOOL_HOST",
                value: host_raw,
                reason: "serving beyond this machine needs sign-in: set SEVTOOL_ACCESS_TOKEN (or Sign in with Slack)"
                    .into(),
            });
        }
        let session_key = get("SEVTOOL_SESSION_KEY").filter(|v| !v.trim().is_empty()).map(Secret);
        if session_key.as_ref().is_some_and(|k| k.expose().len() < 32) {
            return Err(ConfigError {
                name: "SEVTOOL_SESSION_KEY",
                value: "(hidden)".into(),
                reason: "is shorter than 32 characters; use a long random value, e.g. `openssl rand -hex 32`".into(),
            });
        }
        let security_group = SecurityGroup::new(
            set("SEVTOOL_SECURITY_GROUP")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
        );
        let jira = jira(&get)?;
        Ok(Config {
            access_token,
            session_key,
            public_url,
            slack_sign_in,
            security_group,
            host,
            port,
            data_dir: PathBuf::from(parsed("SEVTOOL_DATA_DIR", ".sevtool")?),
            table: parsed("SEVTOOL_TABLE", "sevtool")?,
            task_queue_url: set("SEVTOOL_TASK_QUEUE_URL"),
            pager_queue_url: set("SEVTOOL_PAGER_QUEUE_URL"),
            integrations: Integrations {
                slack: slack.is_some(),
                pager: paging.is_some(),
                alerts: set("ALERT_WEBHOOK_TOKEN").is_some(),
                jira: jira.is_some(),
            },
            jira,
            slack,
            sca_policy,
            report_policy,
            nag_policy,
            schedule_group: parsed("SEVTOOL_SCHEDULE_GROUP", "sevtool")?,
            schedule_target_arn: set("SEVTOOL_SCHEDULE_TARGET_ARN"),
            scheduler_role_arn: set("SEVTOOL_SCHEDULER_ROLE_ARN"),
            nag_offset,
            // Taken as given (not trimmed): a token is compared byte for byte.
            alert_webhook_token: get("ALERT_WEBHOOK_TOKEN").filter(|v| !v.trim().is_empty()).map(Secret),
            alert_rules: set("SEVTOOL_ALERT_RULES").map(PathBuf::from),
            paging,
            report_template: set("SEVTOOL_REPORT_TEMPLATE").map(PathBuf::from),
            export_bucket: set("SEVTOOL_EXPORT_BUCKET").map(|b| b.trim().to_owned()),
            export_prefix: key_prefix(&parsed("SEVTOOL_EXPORT_PREFIX", "sevtool/")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_serve_loopback_on_3000_with_integrations_off() {
        let c = config(&[]).unwrap();
        assert_eq!((c.host.to_string(), c.port), ("127.0.0.1".into(), 3000));
        assert_eq!(c.data_dir, PathBuf::from(".sevtool"));
        assert!(c.integrations.describe().iter().all(|l| l.contains("off")));
    }

    #[test]
    fn slack_needs_both_secrets() {
        assert!(!config(&[("SLACK_BOT_TOKEN", "xoxb-1")]).unwrap().integrations.slack);
        let c = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]).unwrap();
        assert_eq!(c.integrations.describe()[0], "slack: on");
    }

    #[test]
    fn slack_settings_have_documented_defaults_and_are_checked() {
        let both = [("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")];
        let slack = config(&both).unwrap().slack.unwrap();
        assert_eq!(
            (slack.api_url.as_str(), slack.announce_channel.as_str()),
            ("https://slack.com/api/", "sevs")
        );
        assert_eq!(slack.channel_pattern, "sev-{n}-{slug}");
        assert!(
            !format!("{slack:?}").contains("xoxb-1"),
            "secrets never reach Debug output"
        );
        let bad = config(&[both[0], both[1], ("SLACK_CHANNEL_PATTERN", "incident-{slug}")]).unwrap_err();
        assert!(bad.to_string().contains("{n}"), "{bad}");
        assert!(config(&[both[0], both[1], ("SLACK_REACTIONS", "nope")]).is_err());
    }

    #[test]
    fn sca_deadlines_default_to_the_policy_and_can_be_changed() {
        assert_eq!(config(&[]).unwrap().sca_policy, DuePolicy::default());
        assert_eq!(config(&[]).unwrap().report_policy.due_business_days, 5);
        assert_eq!(
            config(&[("SEVTOOL_REPORT_DUE_DAYS", "10")])
                .unwrap()
                .report_policy
                .due_business_days,
            10
        );
        let bad = config(&[("SEVTOOL_REPORT_DUE_DAYS", "0")]).unwrap_err();
        assert_eq!(bad.name, "SEVTOOL_REPORT_DUE_DAYS");
        let p = config(&[("SEVTOOL_SCA_DUE_DAYS", "must=21, could=90, should=none")])
            .unwrap()
            .sca_policy;
        assert_eq!(
            (p.must_worst_days, p.must_days, p.should_days, p.could_days),
            (Some(14), Some(21), None, Some(90))
        );
        for bad in ["must=0", "sometimes=3", "must"] {
            assert!(config(&[("SEVTOOL_SCA_DUE_DAYS", bad)]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_nag_policy_and_report_owner_hours_come_from_the_environment() {
        let c = config(&[
            ("SEVTOOL_NAG_POLICY", "grace=10d"),
            ("SEVTOOL_REPORT_OWNER_HOURS", "48"),
        ])
        .unwrap();
        assert_eq!(c.nag_policy.grace, chrono::Duration::days(10));
        assert_eq!(c.report_policy.owner_within, chrono::Duration::hours(48));
        assert_eq!(
            config(&[]).unwrap().report_policy.owner_within,
            chrono::Duration::hours(24)
        );
        let bad = config(&[("SEVTOOL_NAG_POLICY", "grace=soon")]).unwrap_err();
        assert_eq!(bad.name, "SEVTOOL_NAG_POLICY");
        assert!(bad.to_string().contains("grace"), "{bad}");
        let bad = config(&[("SEVTOOL_REPORT_OWNER_HOURS", "0")]).unwrap_err();
        assert_eq!(bad.name, "SEVTOOL_REPORT_OWNER_HOURS");
    }

    #[test]
    fn the_export_prefix_is_a_folder() {
        let c = config(&[]).unwrap();
        assert_eq!((c.export_bucket, c.export_prefix.as_str()), (None, "sevtool/"));
        let c = config(&[("SEVTOOL_EXPORT_BUCKET", "lake"), ("SEVTOOL_EXPORT_PREFIX", "/raw/sev")]).unwrap();
        assert_eq!(
            (c.export_bucket.as_deref(), c.export_prefix.as_str()),
            (Some("lake"), "raw/sev/")
        );
        assert_eq!(config(&[("SEVTOOL_EXPORT_PREFIX", "/")]).unwrap().export_prefix, "");
    }

    #[test]
    fn the_nag_time_zone_is_an_offset() {
        assert_eq!(config(&[]).unwrap().nag_offset.local_minus_utc(), 0);
        assert_eq!(
            config(&[("SEVTOOL_NAG_UTC_OFFSET", "+09:00")])
                .unwrap()
                .nag_offset
                .local_minus_utc(),
            9 * 3600
        );
        let err = config(&[("SEVTOOL_NAG_UTC_OFFSET", "Europe/Paris")]).unwrap_err();
        assert!(err.to_string().contains("+02:00"), "{err}");
    }

    #[test]
    fn the_alert_token_is_kept_but_never_printed() {
        let c = config(&[("ALERT_WEBHOOK_TOKEN", "s3cret"), ("SEVTOOL_ALERT_RULES", "rules.toml")]).unwrap();
        assert_eq!(c.alert_webhook_token.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(c.alert_rules, Some(PathBuf::from("rules.toml")));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            config(&[("ALERT_WEBHOOK_TOKEN", " ")]).unwrap().alert_webhook_token,
            None
        );
    }

    #[test]
    fn paging_has_documented_defaults_and_hides_the_token() {
        assert!(config(&[]).unwrap().paging.is_none());
        let p = config(&[("SEVTOOL_TEAMS", "teams.toml"), ("PAGERDUTY_API_TOKEN", "pd-secret")])
            .unwrap()
            .paging
            .unwrap();
        assert_eq!(p.pagerduty_events_url, "https://events.pagerduty.com");
        assert_eq!(p.pagerduty_api_url, "https://api.pagerduty.com");
        assert_eq!(p.opsgenie_api_url, "https://api.opsgenie.com");
        assert_eq!(p.autopage, Some(Level::Sev2));
        assert!(!format!("{p:?}").contains("pd-secret"));
        let off = config(&[("SEVTOOL_TEAMS", "t"), ("SEVTOOL_AUTOPAGE_LEVEL", "off")]).unwrap();
        assert_eq!(off.paging.unwrap().autopage, None);
        assert!(config(&[("SEVTOOL_TEAMS", "t"), ("SEVTOOL_AUTOPAGE_LEVEL", "SEV9")]).is_err());
    }

    #[test]
    fn only_loopback_may_be_served_without_sign_in() {
        let err = config(&[("SEVTOOL_HOST", "0.0.0.0")]).unwrap_err().to_string();
        assert!(err.contains("SEVTOOL_ACCESS_TOKEN"), "{err}");
        let c = config(&[("SEVTOOL_HOST", "0.0.0.0"), ("SEVTOOL_ACCESS_TOKEN", "t0ken")]).unwrap();
        assert_eq!(c.access_token.as_ref().map(Secret::expose), Some("t0ken"));
        let padded = config(&[("SEVTOOL_ACCESS_TOKEN", " t0ken\n")]).unwrap();
        assert_eq!(
            padded.access_token.as_ref().map(Secret::expose),
            Some("t0ken"),
            "trimmed"
        );
        assert!(!format!("{c:?}").contains("t0ken"));
        assert!(config(&[("SEVTOOL_HOST", "::1")]).is_ok());
    }

    #[test]
    fn slack_sign_in_needs_both_credentials_and_the_public_address() {
        let both = [("SLACK_CLIENT_ID", "1.2"), ("SLACK_CLIENT_SECRET", "cs")];
        let err = config(&both).unwrap_err().to_string();
        assert!(err.contains("SEVTOOL_PUBLIC_URL"), "{err}");
        let c = config(&[both[0], both[1], ("SEVTOOL_PUBLIC_URL", "https://sev.example.com/")]).unwrap();
        let s = c.slack_sign_in.unwrap();
        assert_eq!(s.redirect_uri, "https://sev.example.com/auth/slack/callback");
        assert_eq!(s.authorize_url, "https://slack.com/openid/connect/authorize");
        assert!(
            config(&[both[0]])
                .unwrap_err()
                .to_string()
                .contains("SLACK_CLIENT_SECRET")
        );
        assert!(config(&[("SEVTOOL_PUBLIC_URL", "sev.example.com")]).is_err());
    }

    #[test]
    fn session_keys_are_long_and_the_security_group_is_a_list() {
        assert!(config(&[("SEVTOOL_SESSION_KEY", "short")]).is_err());
        let c = config(&[
            ("SEVTOOL_SESSION_KEY", "0123456789abcdef0123456789abcdef"),
            ("SEVTOOL_SECURITY_GROUP", "U1, U2,,"),
        ])
        .unwrap();
        assert_eq!(c.security_group, SecurityGroup::new(["U1".to_owned(), "U2".to_owned()]));
    }

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

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("PORT", "eighty")]).unwrap_err().to_string();
        assert!(err.starts_with("PORT=\"eighty\""), "{err}");
        assert!(config(&[("SEVTOOL_HOST", "localhost:1")]).is_err());
    }
}
