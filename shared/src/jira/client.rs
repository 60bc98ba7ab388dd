//! Jira Cloud REST API v3: creates issues (`POST /rest/api/3/issue`) and reads whether one is
//! done (`GET /rest/api/3/issue/{key}`), with Basic auth (account email and API token).

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::config::Secret;
use crate::queue::TaskError;

/// Jira's error texts are short; a proxy's HTML error page is not, and says nothing useful.
const MAX_DETAIL: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum JiraError {
    /// Down, slow, rate-limited or unreachable: worth another try.
    #[error("Jira is unavailable: {0}")]
    Unavailable(String),
    /// Jira refused the request; the same request will be refused again.
    #[error("Jira refused the request: HTTP {status}{detail}")]
    Refused { status: u16, detail: String },
    /// Jira said yes but not in a shape we understand.
    #[error("Jira's answer is not understood: {0}")]
    Unexpected(String),
}

impl JiraError {
    pub fn status(&self) -> Option<u16> {
        match self {
            JiraError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<JiraError> for TaskError {
    fn from(e: JiraError) -> Self {
        match e {
            JiraError::Unavailable(_) => TaskError::Retryable(e.to_string()),
            JiraError::Refused { .. } | JiraError::Unexpected(_) => TaskError::Permanent(e.to_string()),
        }
    }
}

/// A new issue as sevtool files it.
#[derive(Debug, Clone)]
pub struct NewIssue {
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    pub priority: String,
    /// An ADF document.
    pub description: Value,
    pub due: Option<NaiveDate>,
}

#[derive(Clone)]
pub struct JiraClient {
    http: reqwest::Client,
    base: String,
    email: String,
    token: Secret,
}

/// What Jira says went wrong (`errorMessages` and per-field `errors`), plus what to check for the
/// statuses whose cause is on our side of the configuration.
fn detail(status: u16, body: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        if let Some(messages) = v["errorMessages"].as_array() {
            parts.extend(messages.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(fields) = v["errors"].as_object() {
            parts.extend(
                fields
                    .iter()
                    .filter_map(|(field, m)| m.as_str().map(|m| format!("{field}: {m}"))),
            );
        }
    }
    match status {
        401 => parts.push("check SEVTOOL_JIRA_EMAIL and SEVTOOL_JIRA_API_TOKEN".into()),
        403 => parts.push("the Jira account lacks permission in this project".into()),
        _ => {}
    }
    let mut text = parts.join("; ");
    if text.chars().count() > MAX_DETAIL {
        text = text.chars().take(MAX_DETAIL).collect::<String>() + "…";
    }
    if text.is_empty() { text } else { format!(" ({text})") }
}

fn transport(e: reqwest::Error) -> JiraError {
    // Without the URL: it names the site and the issue, which the caller adds where it helps.
    JiraError::Unavailable(e.without_url().to_string())
}

async fn check(response: reqwest::Response) -> Result<Value, JiraError> {
    let status = response.status().as_u16();
    let body = response.text().await.map_err(transport)?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&body).map_err(|e| JiraError::Unexpected(format!("not JSON: {e}")));
    }
    if crate::outbound::is_transient(status) {
        return Err(JiraError::Unavailable(format!("HTTP {status}")));
    }
    Err(JiraError::Refused {
        status,
        detail: detail(status, &body),
    })
}

/// An issue key as Jira makes them: `PROJECT-123`.
pub(super) fn valid_issue_key(key: &str) -> bool {
    key.split_once('-').is_some_and(|(project, n)| {
        super::valid_project_key(project) && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    })
}

impl JiraClient {
    pub fn new(base: &str, email: &str, token: Secret) -> Self {
        JiraClient {
            http: crate::outbound::client(),
            base: base.trim_end_matches('/').to_owned(),
            email: email.to_owned(),
            token,
        }
    }

    /// Where people open an issue.
    pub fn browse_link(&self, key: &str) -> String {
        format!("{}/browse/{key}", self.base)
    }

    /// The issue key of a link into this Jira site (`{base}/browse/KEY`), whoever wrote it.
    pub fn issue_key_of<'a>(&self, link: &'a str) -> Option<&'a str> {
        let rest = link.trim().strip_prefix(&self.base)?.strip_prefix("/browse/")?;
        let key = rest.split(['?', '#', '/']).next()?;
        valid_issue_key(key).then_some(key)
    }

    /// Creates the issue; returns its key. Not idempotent: Jira has no idempotency key, so the
    /// caller records the key before doing anything else.
    pub async fn create_issue(&self, issue: &NewIssue) -> Result<String, JiraError> {
        let mut fields = json!({
            "project": { "key": issue.project },
            "issuetype": { "name": issue.issue_type },
            "summary": issue.summary,
            "priority": { "name": issue.priority },
            "description": issue.description,
        });
        if let Some(due) = issue.due {
            fields["duedate"] = json!(due.format("%Y-%m-%d").to_string());
        }
        let response = self
            .http
            .post(format!("{}/rest/api/3/issue", self.base))
            .basic_auth(&self.email, Some(self.token.expose()))
            .header("accept", "application/json")
            .json(&json!({ "fields": fields }))
            .send()
            .await
            .map_err(transport)?;
        let created = check(response).await?;
        created["key"]
            .as_str()
            .filter(|k| valid_issue_key(k))
            .map(str::to_owned)
            .ok_or_else(|| JiraError::Unexpected("the created issue has no key".into()))
    }

    /// Whether the issue is in Jira's `done` status category, whatever the workflow calls it.
    pub async fn is_done(&self, key: &str) -> Result<bool, JiraError> {
        if !valid_issue_key(key) {
            return Err(JiraError::Unexpected(format!("`{key}` is not an issue key")));
        }
        let response = self
            .http
            .get(format!("{}/rest/api/3/issue/{key}?fields=status,resolution", self.base))
            .basic_auth(&self.email, Some(self.token.expose()))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(transport)?;
        let issue = check(response).await?;
        issue["fields"]["status"]["statusCategory"]["key"]
            .as_str()
            .map(|category| category == "done")
            .ok_or_else(|| JiraError::Unexpected(format!("issue {key} has no status category")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_into_this_site_give_their_issue_key() {
        let c = JiraClient::new("https://acme.atlassian.net/", "bot@acme.test", Secret::new("t"));
        assert_eq!(c.browse_link("PAY-12"), "https://acme.atlassian.net/browse/PAY-12");
        assert_eq!(
            c.issue_key_of("https://acme.atlassian.net/browse/PAY-12"),
            Some("PAY-12")
        );
        assert_eq!(
            c.issue_key_of(" https://acme.atlassian.net/browse/PAY-12?focus=1 "),
            Some("PAY-12")
        );
        for other in [
            "https://other.atlassian.net/browse/PAY-12",
            "https://acme.atlassian.net/browse/pay-12",
            "https://acme.atlassian.net/projects/PAY",
            "PAY-12",
        ] {
            assert_eq!(c.issue_key_of(other), None, "{other}");
        }
    }

    #[test]
    fn refusals_carry_jira_s_reasons_and_what_to_check() {
        let body = r#"{"errorMessages":["Issue does not exist"],"errors":{"priority":"Priority name 'Blocker' is not valid"}}"#;
        let d = detail(400, body);
        assert_eq!(
            d,
            " (Issue does not exist; priority: Priority name 'Blocker' is not valid)"
        );
        assert!(detail(401, "").contains("SEVTOOL_JIRA_API_TOKEN"));
        assert_eq!(detail(404, "<html>gateway</html>"), "");
        assert!(
            detail(400, &format!(r#"{{"errorMessages":["{}"]}}"#, "x".repeat(900)))
                .chars()
                .count()
                < 400
        );
    }

    #[test]
    fn only_unavailability_is_retried() {
        assert!(matches!(
            TaskError::from(JiraError::Unavailable("HTTP 503".into())),
            TaskError::Retryable(_)
        ));
        let refused = JiraError::Refused {
            status: 400,
            detail: String::new(),
        };
        assert!(matches!(TaskError::from(refused), TaskError::Permanent(_)));
    }
}
