//! `POST /opsgenie/webhook`: the alert action data of an Opsgenie Webhook integration, or of a
//! Jira Service Management Ops one, which sends the same body (Atlassian, "Alert action data":
//! docs.opsgenie.com/docs/marid-alert-action-data and support.atlassian.com/jira-service-management-cloud/
//! docs/alert-action-data-for-jira-edge-connector). Neither signs its deliveries; both send the
//! custom headers the integration is given, so the integration carries
//! `Authorization: Bearer <OPSGENIE_WEBHOOK_SECRET>`, compared in constant time.
//!
//! The actions sevtool acts on: `Acknowledge`, `Close` and `AssignOwnership`, each naming the
//! alert by `alert.alias` (our dedup key), the person by `alert.username` and the time by
//! `alert.updatedAt` (nanoseconds since the epoch). `Escalate` is answered `ignored`: its body
//! carries only the alert's id, not its alias.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::catalog::Secret;
use super::reply::{answer, error};
use crate::clock::Clock;
use crate::domain::Timestamp;
use crate::queue::{IncidentChange, Queue, Task, TaskEnvelope};

#[derive(Clone)]
pub struct OpsgenieWebhook {
    /// `OPSGENIE_WEBHOOK_SECRET`; none: the webhook is off and says so.
    pub secret: Option<Secret>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

pub fn router(state: OpsgenieWebhook) -> Router {
    Router::new()
        .route("/opsgenie/webhook", post(webhook))
        .with_state(state)
}

/// Whether the `Authorization` header is `Bearer <secret>`, compared in constant time.
fn authorized(header: &str, secret: &Secret) -> bool {
    let expected = format!("Bearer {}", secret.expose());
    bool::from(header.as_bytes().ct_eq(expected.as_bytes()))
}

#[derive(Deserialize)]
struct Delivery {
    action: String,
    #[serde(default)]
    alert: Option<Alert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Alert {
    alert_id: Option<String>,
    alias: Option<String>,
    username: Option<String>,
    updated_at: Option<i64>,
}

fn change_of(action: &str) -> Option<IncidentChange> {
    match action {
        "Acknowledge" => Some(IncidentChange::Acknowledged),
        "Close" => Some(IncidentChange::Resolved),
        "AssignOwnership" => Some(IncidentChange::Reassigned),
        _ => None,
    }
}

/// Opsgenie's alert ids: UUIDs, sometimes with a millisecond suffix (`...-1704440650350`).
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `updatedAt` in nanoseconds, if it falls within the years every sevtool time does.
fn updated_at(nanos: i64) -> Option<DateTime<Utc>> {
    Timestamp::new("alert.updatedAt", DateTime::from_timestamp_nanos(nanos))
        .ok()
        .map(Timestamp::get)
}

async fn webhook(State(state): State<OpsgenieWebhook>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.secret else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the Opsgenie webhook is off here: set SEVTOOL_TEAMS and OPSGENIE_WEBHOOK_SECRET, and give the integration the header Authorization: Bearer <that secret>",
        );
    };
    let Some(sent) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing Authorization: add the header Authorization: Bearer <OPSGENIE_WEBHOOK_SECRET> to the webhook integration",
        );
    };
    if !authorized(sent, secret) {
        tracing::warn!("rejected an Opsgenie webhook with a wrong secret");
        return error(
            StatusCode::UNAUTHORIZED,
            "the Authorization header is not Bearer and this webhook's secret",
        );
    }
    let delivery = match serde_json::from_slice::<Delivery>(&body) {
        Ok(d) => d,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("not Opsgenie alert action data ({e}); expected action and alert"),
            );
        }
    };
    let Some(change) = change_of(&delivery.action) else {
        let action: String = delivery.action.chars().take(40).collect();
        return answer(StatusCode::OK, json!({ "ignored": action }));
    };
    let alert = delivery.alert;
    let id = alert
        .as_ref()
        .and_then(|a| a.alert_id.clone())
        .filter(|id| valid_id(id));
    let alias = alert.as_ref().and_then(|a| a.alias.clone());
    let at = alert.as_ref().and_then(|a| a.updated_at).and_then(updated_at);
    let (Some(id), Some(alias), Some(at)) = (id, alias, at) else {
        return error(
            StatusCode::BAD_REQUEST,
            "alert.alertId must be an Opsgenie id, and alert.alias and alert.updatedAt (nanoseconds) are required",
        );
    };
    let Some(dedup_key) = crate::domain::parse_dedup_key(&alias).map(|_| alias.clone()) else {
        // Someone else's alert on an integration that also posts here.
        return answer(StatusCode::OK, json!({ "ignored": "not a sevtool page" }));
    };
    let agent = alert
        .and_then(|a| a.username)
        .map(|s| crate::domain::text::squash(&s).chars().take(100).collect::<String>())
        .filter(|s| !s.is_empty());
    let task = TaskEnvelope::new(
        Task::OpsgenieEvent {
            alert: id.clone(),
            change,
            dedup_key,
            agent,
            at,
        },
        state.clock.now(),
    );
    if let Err(e) = state.queue.send_batch(&[task]).await {
        tracing::error!(error = %e, "could not queue an Opsgenie webhook");
        // Opsgenie retries a delivery that fails: nothing is lost.
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "sevtool could not take this right now; try again",
        );
    }
    tracing::info!(alert = %id, change = change.as_str(), "Opsgenie webhook queued");
    answer(StatusCode::ACCEPTED, json!({ "queued": id }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::RecordingQueue;
    use axum::http::Request;

    const SECRET: &str = "og-webhook-secret";

    #[test]
    fn only_bearer_and_the_exact_secret_is_authorized() {
        let secret = Secret::new(SECRET);
        assert!(authorized("Bearer og-webhook-secret", &secret));
        for wrong in [
            "bearer og-webhook-secret",
            "Bearer og-webhook-secre",
            "Bearer og-webhook-secret ",
            "og-webhook-secret",
            "Bearer ",
            "",
        ] {
            assert!(!authorized(wrong, &secret), "{wrong:?}");
        }
    }

    async fn deliver(
        secret: Option<&str>,
        body: &str,
        auth: Option<&str>,
    ) -> (StatusCode, serde_json::Value, Vec<Task>) {
        let queue = Arc::new(RecordingQueue::default());
        let app = router(OpsgenieWebhook {
            secret: secret.map(Secret::new),
            queue: queue.clone(),
            clock: Arc::new(crate::clock::SystemClock),
        });
        let mut req = Request::post("/opsgenie/webhook");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let (status, answer) = crate::http::call(app, req, body).await;
        let sent = queue.sent.lock().unwrap().iter().map(|t| t.task.clone()).collect();
        (status, answer, sent)
    }

    const BEARER: Option<&str> = Some("Bearer og-webhook-secret");

    fn action(action: &str, alert: serde_json::Value) -> String {
        json!({
            "source": {"name": "", "type": "web"}, "alert": alert, "action": action,
            "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d", "integrationName": "sevtool",
        })
        .to_string()
    }

    fn alert(alias: &str) -> serde_json::Value {
        json!({
            "updatedAt": 1_796_205_900_123_456_789_i64, "message": "SEV-4 SEV1: db down",
            "username": " alice@example.com ", "alertId": "052652ac-5d1c-464a-812a-7dd18bbfba8c",
            "source": "sevtool", "alias": alias, "tinyId": "23", "createdAt": 1_796_205_800_000_i64,
        })
    }

    #[tokio::test]
    async fn an_acknowledge_close_or_reassign_of_our_page_is_queued_with_its_time() {
        let (status, answer, sent) = deliver(Some(SECRET), &action("Acknowledge", alert("sevtool-4-db")), BEARER).await;
        assert_eq!(
            (status, answer),
            (
                StatusCode::ACCEPTED,
                json!({"queued": "052652ac-5d1c-464a-812a-7dd18bbfba8c"})
            )
        );
        assert_eq!(
            sent,
            [Task::OpsgenieEvent {
                alert: "052652ac-5d1c-464a-812a-7dd18bbfba8c".into(),
                change: IncidentChange::Acknowledged,
                dedup_key: "sevtool-4-db".into(),
                agent: Some("alice@example.com".into()),
                at: "2026-12-02T10:05:00.123456789Z".parse().unwrap(),
            }]
        );
        for (name, change) in [
            ("Close", IncidentChange::Resolved),
            ("AssignOwnership", IncidentChange::Reassigned),
        ] {
            let (_, _, sent) = deliver(Some(SECRET), &action(name, alert("sevtool-4-db")), BEARER).await;
            assert!(
                matches!(&sent[..], [Task::OpsgenieEvent { change: c, .. }] if *c == change),
                "{name}: {sent:?}"
            );
        }
    }

    #[tokio::test]
    async fn what_is_off_unauthorized_malformed_or_not_ours_is_refused_or_ignored() {
        let good = action("Acknowledge", alert("sevtool-4-db"));
        let cases = [
            (deliver(None, &good, BEARER).await, StatusCode::SERVICE_UNAVAILABLE),
            (deliver(Some(SECRET), &good, None).await, StatusCode::UNAUTHORIZED),
            (
                deliver(Some(SECRET), &good, Some("Bearer nope")).await,
                StatusCode::UNAUTHORIZED,
            ),
            (deliver(Some(SECRET), "{}", BEARER).await, StatusCode::BAD_REQUEST),
            (deliver(Some(SECRET), "not json", BEARER).await, StatusCode::BAD_REQUEST),
        ];
        for ((status, answer, sent), expected) in cases {
            assert_eq!(status, expected, "{answer}");
            assert!(answer["error"].is_string(), "{answer}");
            assert!(sent.is_empty());
        }
        let mut no_time = alert("sevtool-4-db");
        no_time["updatedAt"] = json!(null);
        let mut bad_id = alert("sevtool-4-db");
        bad_id["alertId"] = json!("../x");
        let mut negative = alert("sevtool-4-db");
        negative["updatedAt"] = json!(-5);
        let mut past_2200 = alert("sevtool-4-db");
        past_2200["updatedAt"] = json!(i64::MAX);
        let mut no_alias = alert("x");
        no_alias["alias"] = json!(null);
        for body in [no_time, bad_id, negative, past_2200, no_alias].map(|a| action("Acknowledge", a)) {
            let (status, answer, sent) = deliver(Some(SECRET), &body, BEARER).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
            assert!(sent.is_empty());
        }
        let escalate = json!({"action": "Escalate", "escalationId": "e1", "alert": {"alertId": "a1"}}).to_string();
        for (body, ignored) in [
            (escalate, "Escalate"),
            (action("AddNote", alert("sevtool-4-db")), "AddNote"),
            (
                action("Acknowledge", alert("someone-elses-alias")),
                "not a sevtool page",
            ),
        ] {
            let (status, answer, sent) = deliver(Some(SECRET), &body, BEARER).await;
            assert_eq!((status, answer), (StatusCode::OK, json!({ "ignored": ignored })));
            assert!(sent.is_empty());
        }
    }
}
