//! `POST /pagerduty/webhook`: PagerDuty's V3 webhooks, each delivery signed in
//! `X-PagerDuty-Signature` as one or more comma-separated `v1=<hex HMAC-SHA256 of the body>`
//! (several while a secret is rotated; any one may match, compared in constant time). See
//! PagerDuty's developer documentation, "Verifying Signatures" and "V3 Overview". An incident
//! event sevtool acts on is queued and answered at once; the body is trusted only for the
//! event's id, type, time, agent and incident id: whose page it is comes from the incident's
//! dedup key, read back from PagerDuty by the pager queue.

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
use crate::queue::{IncidentChange, Queue, Task, TaskEnvelope};

#[derive(Clone)]
pub struct PagerDutyWebhook {
    /// `PAGERDUTY_WEBHOOK_SECRET`; none: the webhook is off and says so.
    pub secret: Option<Secret>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

pub fn router(state: PagerDutyWebhook) -> Router {
    Router::new()
        .route("/pagerduty/webhook", post(webhook))
        .with_state(state)
}

/// What PagerDuty signs under one secret: `v1=` and the hex HMAC-SHA256 of the raw body.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    format!("v1={}", crate::hex::hmac_sha256(secret.expose().as_bytes(), body))
}

/// Whether any of the header's signatures is ours for this body. Every candidate is compared,
/// so the time taken says nothing about which one came close.
fn signed(header: &str, secret: &Secret, body: &[u8]) -> bool {
    let expected = signature(secret, body);
    header
        .split(',')
        .map(str::trim)
        .filter(|s| s.starts_with("v1="))
        .fold(false, |found, s| {
            found | bool::from(s.as_bytes().ct_eq(expected.as_bytes()))
        })
}

#[derive(Deserialize)]
struct Delivery {
    event: Event,
}

#[derive(Deserialize)]
struct Event {
    id: String,
    event_type: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    agent: Option<Agent>,
    data: Data,
}

#[derive(Deserialize)]
struct Agent {
    #[serde(default)]
    summary: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
}

/// PagerDuty's ids: short and alphanumeric (event ids are UUIDs, with dashes).
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

async fn webhook(State(state): State<PagerDutyWebhook>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.secret else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the PagerDuty webhook is off here: set SEVTOOL_TEAMS and PAGERDUTY_WEBHOOK_SECRET to the subscription's secret",
        );
    };
    let Some(sent) = headers.get("x-pagerduty-signature").and_then(|v| v.to_str().ok()) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "missing X-PagerDuty-Signature: send V3 webhooks (a webhook subscription)",
        );
    };
    if !signed(sent, secret, &body) {
        tracing::warn!("rejected a PagerDuty webhook with a wrong signature");
        return error(
            StatusCode::UNAUTHORIZED,
            "no v1 signature in X-PagerDuty-Signature matches the body and the secret",
        );
    }
    let event = match serde_json::from_slice::<Delivery>(&body) {
        Ok(d) => d.event,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("not a PagerDuty V3 webhook ({e}); expected event.id, event_type, occurred_at and data"),
            );
        }
    };
    let Some(change) = IncidentChange::from_event_type(&event.event_type) else {
        return answer(StatusCode::OK, json!({ "ignored": event.event_type }));
    };
    let incident = event.data.id.filter(|id| event.data.kind == "incident" && valid_id(id));
    let (true, Some(incident)) = (valid_id(&event.id), incident) else {
        return error(
            StatusCode::BAD_REQUEST,
            "event.id and event.data.id must be PagerDuty ids, and event.data an incident",
        );
    };
    let agent = event
        .agent
        .and_then(|a| a.summary)
        .map(|s| crate::domain::text::squash(&s).chars().take(100).collect::<String>())
        .filter(|s| !s.is_empty());
    let task = TaskEnvelope::new(
        Task::PagerDutyEvent {
            event: event.id.clone(),
            change,
            incident,
            agent,
            at: event.occurred_at,
        },
        state.clock.now(),
    );
    if let Err(e) = state.queue.send_batch(&[task]).await {
        tracing::error!(error = %e, "could not queue a PagerDuty webhook");
        // PagerDuty retries what is not answered with 2xx: nothing is lost.
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "sevtool could not take this right now; PagerDuty will retry",
        );
    }
    tracing::info!(event = %event.id, change = change.as_str(), "PagerDuty webhook queued");
    answer(StatusCode::ACCEPTED, json!({ "queued": event.id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_one_of_the_v1_signatures_may_match_and_nothing_else_does() {
        let secret = Secret::new("whsec-test");
        let body = br#"{"event":{}}"#;
        let ours = signature(&secret, body);
        assert!(ours.starts_with("v1=") && ours.len() == 3 + 64);
        let other = signature(&Secret::new("old-secret"), body);
        assert!(signed(&ours, &secret, body));
        assert!(signed(&format!("{other},{ours}"), &secret, body), "during a rotation");
        assert!(signed(&format!("{ours}, {other}"), &secret, body));
        assert!(
            signed(&format!("{ours},{ours}"), &secret, body),
            "two that match are still signed"
        );
        assert!(!signed(&other, &secret, body));
        assert!(!signed(&ours.replacen("v1=", "v0=", 1), &secret, body), "only v1");
        assert!(!signed(&ours[3..], &secret, body), "the version is part of it");
        assert!(!signed(&ours, &secret, br#"{"event":{"x":1}}"#), "another body");
        assert!(!signed("", &secret, body));
    }

    use crate::queue::RecordingQueue;
    use axum::http::Request;

    const SECRET: &str = "pd-webhook-secret";

    async fn deliver(
        secret: Option<&str>,
        body: &str,
        sig: Option<String>,
    ) -> (StatusCode, serde_json::Value, Vec<Task>) {
        let queue = Arc::new(RecordingQueue::default());
        let app = router(PagerDutyWebhook {
            secret: secret.map(Secret::new),
            queue: queue.clone(),
            clock: Arc::new(crate::clock::SystemClock),
        });
        let mut req = Request::post("/pagerduty/webhook");
        if let Some(s) = sig {
            req = req.header("x-pagerduty-signature", s);
        }
        let (status, answer) = crate::http::call(app, req, body).await;
        let sent = queue.sent.lock().unwrap().iter().map(|t| t.task.clone()).collect();
        (status, answer, sent)
    }

    fn event(id: &str, event_type: &str, data: serde_json::Value, agent: serde_json::Value) -> String {
        json!({ "event": {
            "id": id, "event_type": event_type, "resource_type": "incident",
            "occurred_at": "2026-12-02T10:05:00Z", "agent": agent, "data": data,
        }})
        .to_string()
    }

    fn sign(body: &str) -> Option<String> {
        Some(signature(&Secret::new(SECRET), body.as_bytes()))
    }

    #[tokio::test]
    async fn a_signed_incident_event_is_queued_with_what_the_pager_queue_needs() {
        let incident = json!({"id": "PGR0VU2", "type": "incident"});
        let body = event(
            "5ac6-4822",
            "incident.acknowledged",
            incident.clone(),
            json!({"summary": " Alice\u{200B}  Ops "}),
        );
        let (status, answer, sent) = deliver(Some(SECRET), &body, sign(&body)).await;
        assert_eq!((status, answer), (StatusCode::ACCEPTED, json!({"queued": "5ac6-4822"})));
        assert_eq!(
            sent,
            [Task::PagerDutyEvent {
                event: "5ac6-4822".into(),
                change: IncidentChange::Acknowledged,
                incident: "PGR0VU2".into(),
                agent: Some("Alice Ops".into()),
                at: "2026-12-02T10:05:00Z".parse().unwrap(),
            }]
        );
        for (event_type, change) in [
            ("incident.resolved", IncidentChange::Resolved),
            ("incident.reassigned", IncidentChange::Reassigned),
            ("incident.escalated", IncidentChange::Escalated),
        ] {
            let body = event("e1", event_type, incident.clone(), serde_json::Value::Null);
            let (_, _, sent) = deliver(Some(SECRET), &body, sign(&body)).await;
            assert!(
                matches!(&sent[..], [Task::PagerDutyEvent { change: c, agent: None, .. }] if *c == change),
                "{event_type}: {sent:?}"
            );
        }
    }

    #[tokio::test]
    async fn what_is_off_unsigned_malformed_or_not_an_incident_is_refused_or_ignored() {
        let good = event(
            "e1",
            "incident.acknowledged",
            json!({"id": "PGR0VU2", "type": "incident"}),
            json!({}),
        );
        let note = event(
            "e2",
            "incident.annotated",
            json!({"id": "P2LA89X", "type": "incident_note"}),
            json!({}),
        );
        let cases = [
            (deliver(None, &good, sign(&good)).await, StatusCode::SERVICE_UNAVAILABLE),
            (deliver(Some(SECRET), &good, None).await, StatusCode::UNAUTHORIZED),
            (
                deliver(Some(SECRET), &good, Some(signature(&Secret::new("x"), good.as_bytes()))).await,
                StatusCode::UNAUTHORIZED,
            ),
            (deliver(Some(SECRET), "{}", sign("{}")).await, StatusCode::BAD_REQUEST),
        ];
        for ((status, answer, sent), expected) in cases {
            assert_eq!(status, expected, "{answer}");
            assert!(answer["error"].is_string(), "{answer}");
            assert!(sent.is_empty());
        }
        for (id, data) in [
            ("e 1", json!({"id": "PGR0VU2", "type": "incident"})),
            ("e1", json!({"id": "../x", "type": "incident"})),
            ("e1", json!({"id": "PGR0VU2", "type": "incident_note"})),
            ("e1", json!({"type": "incident"})),
            (&"e".repeat(65), json!({"id": "PGR0VU2", "type": "incident"})),
        ] {
            let body = event(id, "incident.acknowledged", data.clone(), json!({}));
            let (status, answer, sent) = deliver(Some(SECRET), &body, sign(&body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{id} {data}: {answer}");
            assert!(sent.is_empty());
        }
        let longest = "e".repeat(64);
        let body = event(
            &longest,
            "incident.acknowledged",
            json!({"id": "PGR0VU2", "type": "incident"}),
            json!({}),
        );
        assert_eq!(deliver(Some(SECRET), &body, sign(&body)).await.0, StatusCode::ACCEPTED);
        let (status, answer, sent) = deliver(Some(SECRET), &note, sign(&note)).await;
        assert_eq!(
            (status, answer),
            (StatusCode::OK, json!({"ignored": "incident.annotated"}))
        );
        assert!(sent.is_empty());
    }
}
