//! The Slack Web API over `reqwest`. Every call is a JSON POST with the bot token; Slack answers
//! HTTP 200 with `{"ok": false, "error": ...}` for most failures, 429 with `Retry-After` when
//! rate-limited, and 5xx when it is having a bad day.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::queue::TaskError;

/// A method's arguments: JSON for most methods, form-encoded for the read methods.
#[derive(Clone, Copy)]
enum Args<'a> {
    Json(&'a Value),
    Form(&'a [(&'a str, &'a str)]),
}

/// The longest `Retry-After` waited for inline; longer waits go back to the queue.
const MAX_INLINE_WAIT: Duration = Duration::from_secs(10);
const RATE_LIMIT_RETRIES: u32 = 3;
/// Slack asks for about one message per second per channel.
const POST_SPACING: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("Slack {method} answered error `{code}`")]
    Api { method: String, code: String },
    #[error("Slack {method} is rate-limited; retry after {retry_after:?}")]
    RateLimited { method: String, retry_after: Duration },
    #[error("Slack {method} answered HTTP {status}")]
    Http { method: String, status: u16 },
    #[error("Slack {method} could not be reached: {reason}")]
    Transport { method: String, reason: String },
    /// The request could not even be built (a malformed URL): no retry can mend it.
    #[error("Slack {method} request is malformed: {reason}")]
    Malformed { method: String, reason: String },
}

impl SlackError {
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Errors that will not go away by themselves (a revoked token, an archived channel) are
/// permanent; everything else is worth another try from the queue.
impl From<SlackError> for TaskError {
    fn from(e: SlackError) -> Self {
        const PERMANENT: &[&str] = &[
            "invalid_auth",
            "not_authed",
            "account_inactive",
            "token_revoked",
            "missing_scope",
            "channel_not_found",
            "is_archived",
            "not_in_channel",
            "invalid_blocks",
            "invalid_arguments",
            "msg_too_long",
            "user_not_found",
        ];
        match &e {
            SlackError::Api { code, .. } if PERMANENT.contains(&code.as_str()) => TaskError::Permanent(e.to_string()),
            SlackError::Malformed { .. } => TaskError::Permanent(e.to_string()),
            // Only a 4xx refusal is permanent here: unlike the pagers and Jira, a status that is
            // neither a refusal nor transient (a 3xx left after redirects) falls through to retry,
            // as everything unrecognised from Slack does.
            SlackError::Http { status, .. }
                if (400..500).contains(status) && !crate::outbound::is_transient(*status) =>
            {
                TaskError::Permanent(e.to_string())
            }
            _ => TaskError::Retryable(e.to_string()),
        }
    }
}

/// A failure to reach Slack; the URL is left out, since a response URL is itself a credential.
fn transport(method: &str, e: reqwest::Error) -> SlackError {
    let malformed = e.is_builder();
    let (method, reason) = (method.to_owned(), e.without_url().to_string());
    if malformed {
        SlackError::Malformed { method, reason }
    } else {
        SlackError::Transport { method, reason }
    }
}

/// A bot token. Its `Debug` hides the value so it can never be logged by accident.
#[derive(Clone)]
pub struct BotToken(String);

impl BotToken {
    pub fn new(token: impl Into<String>) -> Self {
        BotToken(token.into())
    }
}

impl std::fmt::Debug for BotToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotToken(…)")
    }
}

/// `SLACK_API_URL` as a root that method names are appended to: with one trailing `/`, whether
/// or not it was given with one.
pub(crate) fn api_root(base: &str) -> String {
    if base.ends_with('/') {
        base.to_owned()
    } else {
        format!("{base}/")
    }
}

#[derive(Clone)]
pub struct SlackClient {
    http: reqwest::Client,
    base: String,
    token: BotToken,
    /// When each channel may next be posted to.
    pacing: Arc<Mutex<HashMap<String, Instant>>>,
}

/// A message as `conversations.replies` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackMessage {
    pub user: Option<String>,
    pub text: String,
}

impl SlackClient {
    /// `base` is the Web API root, `https://slack.com/api/` in production.
    pub fn new(base: &str, token: BotToken) -> Self {
        let base = api_root(base);
        SlackClient {
            http: crate::outbound::client(),
            base,
            token,
            pacing: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Calls `method` with `args`, waiting out short rate limits.
    pub async fn call(&self, method: &str, args: Value) -> Result<Value, SlackError> {
        self.paced_by_rate_limits(method, Args::Json(&args)).await
    }

    /// Waits out a `Retry-After` up to [`MAX_INLINE_WAIT`], a few times; longer waits and
    /// repeated limits go back to the caller (and so the queue).
    async fn paced_by_rate_limits(&self, method: &str, args: Args<'_>) -> Result<Value, SlackError> {
        let mut attempt = 0;
        loop {
            match self.call_once(method, args).await {
                Err(SlackError::RateLimited { retry_after, .. })
                    if attempt < RATE_LIMIT_RETRIES && retry_after <= MAX_INLINE_WAIT =>
                {
                    attempt += 1;
                    tracing::info!(
                        method,
                        wait_ms = retry_after.as_millis() as u64,
                        "Slack rate limit; waiting"
                    );
                    tokio::time::sleep(retry_after).await;
                }
                other => return other,
            }
        }
    }

    async fn call_once(&self, method: &str, args: Args<'_>) -> Result<Value, SlackError> {
        let request = self
            .http
            .post(format!("{}{method}", self.base))
            .bearer_auth(&self.token.0);
        let request = match args {
            Args::Json(v) => request.json(v),
            Args::Form(pairs) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(pairs).unwrap_or_default()),
        };
        let response = request.send().await.map_err(|e| transport(method, e))?;
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs);
            return Err(SlackError::RateLimited {
                method: method.to_owned(),
                retry_after,
            });
        }
        if !status.is_success() {
            return Err(SlackError::Http {
                method: method.to_owned(),
                status: status.as_u16(),
            });
        }
        let body: Value = response.json().await.map_err(|e| transport(method, e))?;
        if body["ok"].as_bool() == Some(true) {
            Ok(body)
        } else {
            let code = body["error"].as_str().unwrap_or("unknown_error").to_owned();
            Err(SlackError::Api {
                method: method.to_owned(),
                code,
            })
        }
    }

    /// Waits until `channel` may be posted to again, and books the next slot.
    async fn pace(&self, channel: &str) {
        let wait = {
            let mut next = self.pacing.lock().await;
            let now = Instant::now();
            let slot = next.get(channel).copied().filter(|t| *t > now).unwrap_or(now);
            next.insert(channel.to_owned(), slot + POST_SPACING);
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Posts a message; returns its `ts`.
    pub async fn post_message(
        &self,
        channel: &str,
        text: &str,
        blocks: Option<Value>,
        thread_ts: Option<&str>,
    ) -> Result<String, SlackError> {
        self.pace(channel).await;
        let mut args = json!({ "channel": channel, "text": text, "unfurl_links": false });
        if let Some(b) = blocks {
            args["blocks"] = b;
        }
        if let Some(t) = thread_ts {
            args["thread_ts"] = json!(t);
        }
        let body = self.call("chat.postMessage", args).await?;
        Ok(body["ts"].as_str().unwrap_or_default().to_owned())
    }

    /// A message only `user` sees, in `channel` (they must be in it).
    pub async fn post_ephemeral(&self, channel: &str, user: &str, text: &str) -> Result<(), SlackError> {
        self.pace(channel).await;
        let args = json!({ "channel": channel, "user": user, "text": text, "unfurl_links": false });
        self.call("chat.postEphemeral", args).await.map(|_| ())
    }

    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        text: &str,
        blocks: Option<Value>,
    ) -> Result<(), SlackError> {
        let mut args = json!({ "channel": channel, "ts": ts, "text": text });
        if let Some(b) = blocks {
            args["blocks"] = b;
        }
        self.call("chat.update", args).await.map(drop)
    }

    /// Creates a channel; returns its id. `name_taken` is returned as an error for the caller to
    /// pick another name.
    pub async fn create_channel(&self, name: &str, private: bool) -> Result<String, SlackError> {
        let body = self
            .call("conversations.create", json!({ "name": name, "is_private": private }))
            .await?;
        Ok(body["channel"]["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Invites people; people already there are not an error.
    pub async fn invite(&self, channel: &str, users: &[String]) -> Result<(), SlackError> {
        if users.is_empty() {
            return Ok(());
        }
        match self
            .call(
                "conversations.invite",
                json!({ "channel": channel, "users": users.join(",") }),
            )
            .await
        {
            Err(e) if matches!(e.code(), Some("already_in_channel" | "cant_invite_self")) => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn pin(&self, channel: &str, ts: &str) -> Result<(), SlackError> {
        match self
            .call("pins.add", json!({ "channel": channel, "timestamp": ts }))
            .await
        {
            Err(e) if e.code() == Some("already_pinned") => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn open_view(&self, trigger_id: &str, view: Value) -> Result<(), SlackError> {
        self.call("views.open", json!({ "trigger_id": trigger_id, "view": view }))
            .await
            .map(drop)
    }

    /// The message at `ts` in `channel`, whether or not it is in a thread.
    pub async fn message(&self, channel: &str, ts: &str) -> Result<Option<SlackMessage>, SlackError> {
        let body = self
            .call(
                "conversations.replies",
                json!({ "channel": channel, "ts": ts, "limit": 1, "inclusive": true }),
            )
            .await?;
        Ok(body["messages"]
            .as_array()
            .and_then(|m| m.first())
            .map(|m| SlackMessage {
                user: m["user"].as_str().map(str::to_owned),
                text: m["text"].as_str().unwrap_or_default().to_owned(),
            }))
    }

    /// The Slack user with this email, if there is one in the workspace.
    pub async fn lookup_by_email(&self, email: &str) -> Result<Option<String>, SlackError> {
        match self.read("users.lookupByEmail", &[("email", email)]).await {
            Ok(body) => Ok(body["user"]["id"].as_str().map(str::to_owned)),
            Err(e) if e.code() == Some("users_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A person's offset east of UTC in seconds, from the time zone of their Slack profile;
    /// `None` when Slack does not know them.
    pub async fn user_tz_offset(&self, user: &str) -> Result<Option<i32>, SlackError> {
        match self.read("users.info", &[("user", user)]).await {
            Ok(body) => Ok(body["user"]["tz_offset"].as_i64().and_then(|s| i32::try_from(s).ok())),
            Err(e) if e.code() == Some("user_not_found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A read method: they take form arguments only, not JSON like the others.
    async fn read(&self, method: &str, args: &[(&str, &str)]) -> Result<Value, SlackError> {
        self.paced_by_rate_limits(method, Args::Form(args)).await
    }

    /// Answers a slash command through its `response_url` (valid for 30 minutes, 5 uses).
    pub async fn respond(&self, response_url: &str, text: &str) -> Result<(), SlackError> {
        self.respond_with(response_url, text, None).await
    }

    /// Like `respond`, with Block Kit blocks (buttons) under the text.
    pub async fn respond_with(&self, response_url: &str, text: &str, blocks: Option<Value>) -> Result<(), SlackError> {
        let method = "response_url";
        let mut body = json!({ "response_type": "ephemeral", "replace_original": false, "text": text });
        if let Some(b) = blocks {
            body["blocks"] = b;
        }
        let response = self
            .http
            .post(response_url)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport(method, e))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(SlackError::Http {
                method: method.into(),
                status: response.status().as_u16(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_that_cannot_be_built_is_not_retried_but_an_unreachable_slack_is() {
        let http = reqwest::Client::new();
        let malformed = http.post("").send().await.expect_err("no URL");
        assert!(matches!(
            TaskError::from(transport("response_url", malformed)),
            TaskError::Permanent(_)
        ));
        // Port 9 (discard) on loopback: nothing listens, the connection is refused.
        let refused = http.post("http://127.0.0.1:9/").send().await.expect_err("refused");
        assert!(matches!(
            TaskError::from(transport("chat.postMessage", refused)),
            TaskError::Retryable(_)
        ));
    }
}
