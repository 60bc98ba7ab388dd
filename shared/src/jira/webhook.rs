//! `POST /jira/webhook`: Jira Cloud's admin webhook, signed with the secret it was registered
//! with (`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`). A signed issue event is queued
//! as a check of that issue and answered at once; the body is only trusted for the issue's key,
//! since the check reads the issue back from Jira.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::client::valid_issue_key;
use crate::clock::Clock;
use crate::config::Secret;
use crate::queue::{Queue, Task, TaskEnvelope};

/// The issue events that can change whether an issue is done.
const ISSUE_EVENTS: [&str; 2] = ["jira:issue_updated", "jira:issue_deleted"];

#[derive(Clone)]
pub struct JiraWebhook {
    /// `SEVTOOL_JIRA_WEBHOOK_SECRET`; none: the webhook is off and says so.
    pub secret: Option<Secret>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

pub fn router(state: JiraWebhook) -> Router {
    Router::new().route("/jira/webhook", post(webhook)).with_state(state)
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

fn error(status: StatusCode, text: &str) -> Response {
    answer(status, json!({ "error": text }))
}

/// What Jira signs: `sha256=` and the hex HMAC-SHA256 of the raw body under the secret.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    format!("sha256={}", crate::hex::hmac_sha256(secret.expose().as_bytes(), body))
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "webhookEvent")]
    event: String,
    issue: Option<Issue>,
}

#[derive(Deserialize)]
struct Issue {
    key: String,
}

async fn webhook(State(state): State<JiraWebhook>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.secret else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the Jira webhook is off here: set SEVTOOL_JIRA_WEBHOOK_SECRET to the secret the webhook was registered with",
        );
    };
    let sent = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    let Some(sent) = sent else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing X-Hub-Signature: register the webhook with a secret",
        );
    };
    if !bool::from(signature(secret, &body).as_bytes().ct_eq(sent.trim().as_bytes())) {
        tracing::warn!("rejected a Jira webhook with a wrong signature");
        return error(
            StatusCode::UNAUTHORIZED,
            "X-Hub-Signature does not match the body and the secret",
        );
    }
    let event: Event = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("not a Jira webhook event ({e}); expected webhookEvent and issue.key"),
            );
        }
    };
    if !ISSUE_EVENTS.contains(&event.event.as_str()) {
        return answer(StatusCode::OK, json!({ "ignored": event.event }));
    }
    let Some(issue) = event.issue.map(|i| i.key).filter(|k| valid_issue_key(k)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "issue.key: missing, or not an issue key such as PAY-12",
        );
    };
    // Jira sends the same identifier again when it retries a delivery.
    let delivery = headers
        .get("x-atlassian-webhook-identifier")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map_or_else(|| crate::hex::hex(&Sha256::digest(&body)[..16]), str::to_owned);
    let task = TaskEnvelope::new(
        Task::JiraIssueChanged {
            issue: issue.clone(),
            delivery,
        },
        state.clock.now(),
    );
    if let Err(e) = state.queue.send_batch(&[task]).await {
        tracing::error!(error = %e, "could not queue a Jira webhook");
        // Jira retries what is not answered with 2xx: nothing is lost.
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "sevtool could not take this right now; Jira will retry",
        );
    }
    tracing::info!(issue = %issue, "Jira webhook queued");
    answer(StatusCode::ACCEPTED, json!({ "queued": issue }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_jira_does() {
        // HMAC-SHA256("It's a Secret to Everybody", "Hello, World!"), the WebSub example
        // GitHub documents for the same scheme.
        let secret = Secret::new("It's a Secret to Everybody");
        assert_eq!(
            signature(&secret, b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    use crate::queue::RecordingQueue;
    use axum::http::Request;

    const SECRET: &str = "jira-webhook-secret";

    /// Posts `body` to the webhook (signed when `signed`, with `identifier` as Jira's delivery
    /// id) and returns the status, the answer and what was queued.
    async fn deliver(
        secret: Option<&str>,
        queue_down: bool,
        body: &str,
        signed: bool,
        identifier: Option<&str>,
    ) -> (StatusCode, serde_json::Value, Vec<TaskEnvelope>) {
        let queue = Arc::new(RecordingQueue {
            down: queue_down,
            ..RecordingQueue::default()
        });
        let app = router(JiraWebhook {
            secret: secret.map(Secret::new),
            queue: queue.clone(),
            clock: Arc::new(crate::clock::SystemClock),
        });
        let mut req = Request::post("/jira/webhook");
        if signed {
            req = req.header("x-hub-signature", signature(&Secret::new(SECRET), body.as_bytes()));
        }
        if let Some(id) = identifier {
            req = req.header("x-atlassian-webhook-identifier", id);
        }
        let (status, answer) = crate::http::call(app, req, body).await;
        let sent = queue.sent.lock().unwrap().clone();
        (status, answer, sent)
    }

    const UPDATED: &str = r#"{"webhookEvent": "jira:issue_updated", "issue": {"key": "PAY-12"}}"#;

    #[tokio::test]
    async fn a_signed_issue_event_is_queued_once_per_delivery_and_everything_else_is_refused() {
        let (status, answer, sent) = deliver(Some(SECRET), false, UPDATED, true, Some("d-17")).await;
        assert_eq!((status, answer), (StatusCode::ACCEPTED, json!({"queued": "PAY-12"})));
        let expected = Task::JiraIssueChanged {
            issue: "PAY-12".into(),
            delivery: "d-17".into(),
        };
        assert_eq!(sent.iter().map(|t| t.task.clone()).collect::<Vec<_>>(), [expected]);

        // A delivery id Jira would not send is replaced by one derived from the body.
        for odd in ["", "has space", "semi;colon", &"x".repeat(101)] {
            let (_, _, sent) = deliver(Some(SECRET), false, UPDATED, true, Some(odd)).await;
            let Task::JiraIssueChanged { delivery, .. } = &sent[0].task else {
                panic!("{sent:?}")
            };
            assert_eq!(delivery.len(), 32, "{odd:?} -> {delivery}");
            assert!(delivery.chars().all(|c| c.is_ascii_hexdigit()));
        }
        let longest = "a".repeat(100);
        let (_, _, sent) = deliver(Some(SECRET), false, UPDATED, true, Some(&longest)).await;
        assert!(matches!(&sent[0].task, Task::JiraIssueChanged { delivery, .. } if *delivery == longest));

        let refused = [
            (
                deliver(None, false, UPDATED, true, None).await,
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                deliver(Some(SECRET), false, UPDATED, false, None).await,
                StatusCode::UNAUTHORIZED,
            ),
            (
                deliver(Some("other"), false, UPDATED, true, None).await,
                StatusCode::UNAUTHORIZED,
            ),
            (
                deliver(Some(SECRET), false, "{}", true, None).await,
                StatusCode::BAD_REQUEST,
            ),
            (
                deliver(
                    Some(SECRET),
                    false,
                    r#"{"webhookEvent": "jira:issue_updated", "issue": {"key": "no"}}"#,
                    true,
                    None,
                )
                .await,
                StatusCode::BAD_REQUEST,
            ),
            (
                deliver(Some(SECRET), true, UPDATED, true, None).await,
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ];
        for ((status, answer, sent), expected) in refused {
            assert_eq!(status, expected, "{answer}");
            assert!(answer["error"].is_string(), "{answer}");
            assert!(sent.is_empty());
        }
        let created = r#"{"webhookEvent": "jira:issue_created", "issue": {"key": "PAY-1"}}"#;
        let (status, answer, sent) = deliver(Some(SECRET), false, created, true, None).await;
        assert_eq!(
            (status, answer),
            (StatusCode::OK, json!({"ignored": "jira:issue_created"}))
        );
        assert!(sent.is_empty());
    }
}
