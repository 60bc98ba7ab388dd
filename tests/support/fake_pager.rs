//! A fake PagerDuty on a free local port: the Events API v2 (`POST /v2/enqueue`) and the two REST
//! calls on-call lookups make (`GET /oncalls`, `GET /users/{id}`). It records every event, checks
//! what PagerDuty checks (routing key, action, dedup key, token), and can be told to answer
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

async fn enqueue(State(fake): State<FakePager>, body: axum::body::Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let (routing_key, action, dedup_key) = (s("routing_key"), s("event_action"), s("dedup_key"));
    let (delay, status) = {
        let mut inner = fake.inner.lock().unwrap();
        let delay = inner.delay + inner.slow.get(&routing_key).copied().unwrap_or_default();
        let scripted = inner
            .failures
            .get_mut(&routing_key)
            .and_then(|f| (!f.is_empty()).then(|| f.remove(0)));
        let valid = !routing_key.is_empty()
            && matches!(action.as_str(), "trigger" | "resolve" | "acknowledge")
            && !dedup_key.is_empty()
            && (action != "trigger" || v["payload"]["summary"].is_string() && v["payload"]["source"].is_string());
        let status = inner.down.or(scripted).unwrap_or(if valid { 202 } else { 400 });
        (delay, status)
    };
    tokio::time::sleep(delay).await;
    fake.inner.lock().unwrap().events.push(Event {
        routing_key,
        action,
        dedup_key: dedup_key.clone(),
        status,
    });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(json!({ "status": "success", "dedup_key": dedup_key }))).into_response()
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
