//! A fake PagerDuty on a free local port: the Events API v2 (`POST /v2/enqueue`), the two REST
//! calls on-call lookups make (`GET /oncalls`, `GET /users/{id}`), and `GET /incidents/{id}`
//! (each accepted trigger opens one incident per dedup key). It records every event, checks
//! what PagerDuty checks (a JSON body, the routing key, action, dedup key, a trigger's summary,
//! source and severity with their documented limits; the REST token), and can be told to answer
//! slowly or fail for some routing keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

pub const API_TOKEN: &str = "pd-fake-token";

#[derive(Debug, Clone)]
pub struct Event {
    pub routing_key: String,
    pub action: String,
    pub dedup_key: String,
    /// The HTTP status the fake answered.
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    events: Vec<Event>,
    /// Routing key -> statuses to answer before accepting, in order.
    failures: HashMap<String, Vec<u16>>,
    /// Routing key -> extra delay.
    slow: HashMap<String, Duration>,
    delay: Duration,
    /// Every request fails with this status (an outage).
    down: Option<u16>,
    /// Incident id -> its dedup key: one incident per dedup key, opened by its first accepted
    /// trigger, as PagerDuty deduplicates.
    incidents: Vec<(String, String)>,
}

#[derive(Clone, Default)]
pub struct FakePager {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakePager {
    pub async fn start() -> FakePager {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake pager");
        let addr = listener.local_addr().expect("fake pager address");
        let fake = FakePager {
            base: format!("http://{addr}"),
            ..FakePager::default()
        };
        let app = Router::new()
            .route("/v2/enqueue", post(enqueue))
            .route("/oncalls", get(oncalls))
            .route("/users/{id}", get(user))
            .route("/incidents/{id}", get(incident))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        fake
    }

    /// Every answer takes at least this long.
    pub fn latency(&self, d: Duration) {
        self.inner.lock().unwrap().delay = d;
    }

    pub fn slow(&self, routing_key: &str, d: Duration) {
        self.inner.lock().unwrap().slow.insert(routing_key.into(), d);
    }

    /// The next events for `routing_key` get these statuses, then it works.
    pub fn fail(&self, routing_key: &str, statuses: Vec<u16>) {
        self.inner.lock().unwrap().failures.insert(routing_key.into(), statuses);
    }

    pub fn down(&self, status: Option<u16>) {
        self.inner.lock().unwrap().down = status;
    }

    /// The id of the incident a dedup key opened.
    pub fn incident_of(&self, dedup_key: &str) -> Option<String> {
        let inner = self.inner.lock().unwrap();
        inner
            .incidents
            .iter()
            .find(|(_, k)| k == dedup_key)
            .map(|(id, _)| id.clone())
    }

    pub fn events(&self) -> Vec<Event> {
        self.inner.lock().unwrap().events.clone()
    }

    /// Accepted triggers: pages that reached someone.
    pub fn pages(&self) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.action == "trigger" && e.status == 202)
            .collect()
    }
}

/// What PagerDuty's Events API v2 refuses (documented limits: a 32-character routing key, a
/// dedup key of at most 255 characters, a trigger's summary of at most 1024 characters and a
/// severity of `critical`, `error`, `warning` or `info`), or `None` for a valid event.
fn invalid_event(v: &Value) -> Option<&'static str> {
    let s = |k: &str| v[k].as_str();
    let routing_key = s("routing_key").unwrap_or_default();
    let dedup_key = s("dedup_key").unwrap_or_default();
    let action = s("event_action").unwrap_or_default();
    let payload = &v["payload"];
    if !v.is_object() {
        return Some("Event object is invalid");
    }
    if routing_key.is_empty() || routing_key.len() > 32 {
        return Some("'routing_key' is invalid");
    }
    if !matches!(action, "trigger" | "resolve" | "acknowledge") {
        return Some("'event_action' is missing or blank");
    }
    // A trigger without one gets a generated key; sevtool must always send its own.
    if dedup_key.is_empty() || dedup_key.chars().count() > 255 {
        return Some("'dedup_key' is invalid");
    }
    if action == "trigger" {
        let summary = payload["summary"].as_str().unwrap_or_default();
        if summary.is_empty() || summary.chars().count() > 1024 {
            return Some("'payload.summary' is missing or longer than 1024 characters");
        }
        if payload["source"].as_str().is_none_or(str::is_empty) {
            return Some("'payload.source' is missing or blank");
        }
        if !matches!(
            payload["severity"].as_str(),
            Some("critical" | "error" | "warning" | "info")
        ) {
            return Some("'payload.severity' is invalid (must be one of critical, error, warning or info)");
        }
    }
    None
}

async fn enqueue(State(fake): State<FakePager>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let (routing_key, action, dedup_key) = (s("routing_key"), s("event_action"), s("dedup_key"));
    let problem = if json_body {
        invalid_event(&v)
    } else {
        Some("Content-Type must be application/json")
    };
    let (delay, status) = {
        let mut inner = fake.inner.lock().unwrap();
        let delay = inner.delay + inner.slow.get(&routing_key).copied().unwrap_or_default();
        let scripted = inner
            .failures
            .get_mut(&routing_key)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)));
        let status = inner
            .down
            .or(scripted)
            .unwrap_or(if problem.is_none() { 202 } else { 400 });
        (delay, status)
    };
    tokio::time::sleep(delay).await;
    let mut inner = fake.inner.lock().unwrap();
    if status == 202 && action == "trigger" && !inner.incidents.iter().any(|(_, k)| *k == dedup_key) {
        let id = format!("Q{:06}", inner.incidents.len() + 1);
        inner.incidents.push((id, dedup_key.clone()));
    }
    inner.events.push(Event {
        routing_key,
        action,
        dedup_key: dedup_key.clone(),
        status,
    });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match (status, problem) {
        (202, _) => json!({ "status": "success", "message": "Event processed", "dedup_key": dedup_key }),
        (400, Some(problem)) => {
            json!({ "status": "invalid event", "message": "Event object is invalid", "errors": [problem] })
        }
        _ => json!({ "status": "error", "message": "scripted failure" }),
    };
    (code, axum::Json(body)).into_response()
}

fn authorised(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Token token={API_TOKEN}"))
}

/// The on-call of schedule `S` is user `U-S`, whose email is `s@example.com`.
async fn oncalls(
    State(fake): State<FakePager>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let delay = fake.inner.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let ids: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "schedule_ids[]" || k == "escalation_policy_ids[]")
        .map(|(_, v)| v.as_str())
        .collect();
    let oncalls: Vec<Value> = ids
        .iter()
        .map(|id| json!({ "escalation_level": 1, "user": { "id": format!("U-{id}"), "type": "user_reference" } }))
        .collect();
    axum::Json(json!({ "oncalls": oncalls, "limit": 25, "offset": 0, "more": false })).into_response()
}

/// An incident as the REST API shows it, with the dedup key it was triggered with.
async fn incident(State(fake): State<FakePager>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let inner = fake.inner.lock().unwrap();
    let Some((_, key)) = inner.incidents.iter().find(|(i, _)| *i == id) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "error": { "message": "Not Found", "code": 2100 } })),
        )
            .into_response();
    };
    axum::Json(json!({ "incident": { "id": id, "type": "incident", "incident_key": key, "status": "triggered" } }))
        .into_response()
}

async fn user(State(fake): State<FakePager>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let delay = fake.inner.lock().unwrap().delay;
    tokio::time::sleep(delay).await;
    if !authorised(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(schedule) = id.strip_prefix("U-") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let email = format!("{}@example.com", schedule.to_lowercase());
    axum::Json(json!({ "user": { "id": id, "name": schedule, "email": email } })).into_response()
}
