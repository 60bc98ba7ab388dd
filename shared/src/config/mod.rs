//! Configuration from the environment. Every variable is documented in the README; the defaults
//! make `make run` work with nothing set.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::app::SecurityGroup;
use crate::domain::{DuePolicy, NagPolicy};
use crate::jira::JiraSettings;
use crate::slack::SlackSettings;
use crate::statuspage::StatuspageSettings;

mod alerts;
mod aws;
mod jira;
mod paging;
mod policies;
mod server;
mod sign_in;
mod slack;
mod statuspage;

pub use paging::{JsmAccount, PagingSettings};
pub use sign_in::SlackSignInSettings;

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
    /// How Slack is heard when it is on: "HTTP", "Socket Mode", or both.
    pub slack_transport: Option<&'static str>,
    pub pager: bool,
    pub alerts: bool,
    pub jira: bool,
    pub statuspage: bool,
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
            match self.slack_transport {
                Some(how) if self.slack => format!("slack: on ({how})"),
                _ => line(
                    self.slack,
                    "slack",
                    "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)",
                ),
            },
            line(self.pager, "paging", "SEVTOOL_TEAMS to a team catalog"),
            line(self.alerts, "alert webhooks", "ALERT_WEBHOOK_TOKEN"),
            line(
                self.jira,
                "jira",
                "SEVTOOL_JIRA_URL, SEVTOOL_JIRA_EMAIL and SEVTOOL_JIRA_API_TOKEN",
            ),
            line(
                self.statuspage,
                "statuspage",
                "STATUSPAGE_PAGE_ID and STATUSPAGE_API_KEY",
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
    /// Present when `STATUSPAGE_API_KEY` and `STATUSPAGE_PAGE_ID` are set: public updates go to
    /// the company's status page.
    pub statuspage: Option<StatuspageSettings>,
    /// `SEVTOOL_EXPORT_BUCKET`: the S3 bucket of the data lake the `reports` function exports to.
    pub export_bucket: Option<String>,
    /// `SEVTOOL_EXPORT_PREFIX`: where in that bucket, empty or ending with `/`.
    pub export_prefix: String,
}

/// The value of `name`, as given, unless it is unset or blank: a blank variable counts as unset.
fn set(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name).filter(|v| !v.trim().is_empty())
}

/// The value of `name` as given, or `default` when it is unset or blank.
fn set_or(get: &impl Fn(&str) -> Option<String>, name: &str, default: &str) -> String {
    set(get, name).unwrap_or_else(|| default.to_owned())
}

/// The value of `name` without surrounding whitespace, unless it is unset or blank.
fn trimmed(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    set(get, name).map(|v| v.trim().to_owned())
}

/// `raw` (the value of `name`) through `parse`; a refusal names the variable and its value.
fn checked<T>(
    name: &'static str,
    raw: String,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    parse(raw.trim()).map_err(|reason| ConfigError {
        name,
        value: raw,
        reason,
    })
}

/// As [`checked`], but `parse` sees the value exactly as set, surrounding whitespace included.
fn checked_as_given<T>(
    name: &'static str,
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    parse(raw).map_err(|reason| ConfigError {
        name,
        value: raw.to_owned(),
        reason,
    })
}

/// A secret (as given) through `check`; a refusal names the variable but never shows the value.
fn checked_secret(
    name: &'static str,
    raw: String,
    check: impl FnOnce(&str) -> Result<(), String>,
) -> Result<Secret, ConfigError> {
    check(&raw).map_err(|reason| hidden(name, reason))?;
    Ok(Secret(raw))
}

/// A refusal of a secret: it names the variable but never shows the value.
fn hidden(name: &'static str, reason: String) -> ConfigError {
    ConfigError {
        name,
        value: "(hidden)".into(),
        reason,
    }
}

/// A refusal with no value to show: `name` is unset although something else needs it.
fn missing(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        value: String::new(),
        reason: reason.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        // Read in this order, so that of several bad variables the same one is reported as before.
        let server = server::read(&get)?;
        let mut slack = slack::read(&get)?;
        let timeline = policies::read(&get)?;
        let paging = paging::read(&get)?;
        let sign_in = sign_in::read(&get, &server)?;
        if let Some(slack) = &mut slack {
            slack.web_url = sign_in.public_url.clone();
        }
        let jira = jira::read(&get)?;
        let statuspage = statuspage::read(&get)?;
        let alerts = alerts::read(&get);
        let aws = aws::read(&get);
        Ok(Config {
            access_token: sign_in.access_token,
            session_key: sign_in.session_key,
            public_url: sign_in.public_url,
            slack_sign_in: sign_in.slack,
            security_group: sign_in.security_group,
            host: server.host,
            port: server.port,
            data_dir: server.data_dir,
            table: aws.table,
            task_queue_url: aws.task_queue_url,
            pager_queue_url: aws.pager_queue_url,
            integrations: Integrations {
                slack: slack.is_some(),
                slack_transport: slack.as_ref().map(|s| match (&s.app_token, &s.signing_secret) {
                    (Some(_), Some(_)) => "Socket Mode and HTTP",
                    (Some(_), None) => "Socket Mode",
                    _ => "HTTP",
                }),
                pager: paging.is_some(),
                alerts: alerts.webhook_token.is_some(),
                jira: jira.is_some(),
                statuspage: statuspage.is_some(),
            },
            jira,
            statuspage,
            slack,
            sca_policy: timeline.sca_policy,
            report_policy: timeline.report_policy,
            nag_policy: timeline.nag_policy,
            schedule_group: aws.schedule_group,
            schedule_target_arn: aws.schedule_target_arn,
            scheduler_role_arn: aws.scheduler_role_arn,
            nag_offset: timeline.nag_offset,
            alert_webhook_token: alerts.webhook_token,
            alert_rules: alerts.rules,
            paging,
            report_template: server.report_template,
            export_bucket: aws.export_bucket,
            export_prefix: aws.export_prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The configuration from exactly these variables; the readers' tests go through it too.
    pub(in crate::config) fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
}
