//! A fake Opsgenie and Jira Service Management Ops on a free local port; they share one alert
//! contract (JSM's integration events API is Opsgenie's Alert API on a new path):
//! - Opsgenie: `POST /v2/alerts`, `POST /v2/alerts/{alias}/close?identifierType=alias` and
//!   `GET /v2/schedules/{name}/on-calls?scheduleIdentifierType=name&flat=true`;
//! - JSM Ops: `POST /jsm/ops/integration/v2/alerts`, its `/close` the same way, and
//!   `GET /jsm/ops/api/{cloudId}/v1/schedules/{id}/on-calls?flat=true` (basic auth), answering
//!   Atlassian account ids, which `GET /rest/api/3/user?accountId=` turns into people.
//!
//! It checks what the vendors document: `Authorization: GenieKey <key>` with a known key, a JSON
//! body, a message of 1 to 130 characters, an alias of at most 512, a priority of P1 to P5;
//! it answers 202 `{"result", "took", "requestId"}` as both do, and records every alert.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

/// The integration API key the fake accepts, for Opsgenie and JSM alike.
pub const GENIE_KEY: &str = "genie-fake-key";
/// The JSM Ops cloud id, and the Atlassian account that reads on-call schedules.
pub const CLOUD_ID: &str = "c0ffee00-0000-4000-8000-000000000001";
pub const JSM_EMAIL: &str = "sevtool-bot@example.com";
pub const JSM_TOKEN: &str = "jsm-fake-api-token";

type Fake = State<FakeGenie>;
type Pairs = Query<Vec<(String, String)>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `opsgenie` or `jsm`: which API it came through.
    pub api: &'static str,
    pub action: String,
    pub alias: String,
    /// The responder team's name (creates only).
    pub team: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    alerts: Vec<Alert>,
}

#[derive(Clone, Default)]
pub struct FakeGenie {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeGenie {
    pub async fn start() -> FakeGenie {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake genie");
        let addr = listener.local_addr().expect("fake genie address");
        let fake = FakeGenie {
            base: format!("http://{addr}"),
            ..FakeGenie::default()
        };
        let app = Router::new()
            .route(
                "/v2/alerts",
                post(|s: Fake, h: HeaderMap, b: Bytes| create(s, h, b, "opsgenie")),
            )
            .route(
                "/v2/alerts/{alias}/close",
                post(|s: Fake, p: Path<String>, q: Pairs, h: HeaderMap| close(s, p, q, h, "opsgenie")),
            )
            .route("/v2/schedules/{name}/on-calls", get(opsgenie_on_calls))
            .route(
                "/jsm/ops/integration/v2/alerts",
                post(|s: Fake, h: HeaderMap, b: Bytes| create(s, h, b, "jsm")),
            )
            .route(
                "/jsm/ops/integration/v2/alerts/{alias}/close",
                post(|s: Fake, p: Path<String>, q: Pairs, h: HeaderMap| close(s, p, q, h, "jsm")),
            )
            .route("/jsm/ops/api/{cloud}/v1/schedules/{id}/on-calls", get(jsm_on_calls))
            .route("/rest/api/3/user", get(jira_user))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        fake
    }

    pub fn alerts(&self) -> Vec<Alert> {
        self.inner.lock().unwrap().alerts.clone()
    }

    /// Accepted creates: pages that reached someone.
    pub fn pages(&self) -> Vec<Alert> {
        self.alerts()
            .into_iter()
            .filter(|a| a.action == "create" && a.status == 202)
            .collect()
    }
}

fn refused(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "message": message, "took": 0.001, "requestId": "r-refused" })),
    )
        .into_response()
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({ "result": "Request will be processed", "took": 0.01, "requestId": "r-1" })),
    )
        .into_response()
}

fn genie_key(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("GenieKey {GENIE_KEY}"))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// What Opsgenie's Create Alert refuses with 422, or `None` for a valid alert.
fn invalid_alert(v: &Value) -> Option<&'static str> {
    let message = v["message"].as_str().unwrap_or_default();
    if message.is_empty() || message.chars().count() > 130 {
        return Some("message must be 1 to 130 characters");
    }
    if v["alias"]
        .as_str()
        .is_none_or(|a| a.is_empty() || a.chars().count() > 512)
    {
        return Some("alias must be 1 to 512 characters (sevtool always sends one)");
    }
    if !matches!(v["priority"].as_str(), None | Some("P1" | "P2" | "P3" | "P4" | "P5")) {
        return Some("priority must be one of P1, P2, P3, P4, P5");
    }
    None
}

fn record(fake: &FakeGenie, alert: Alert) {
    fake.inner.lock().unwrap().alerts.push(alert);
}

async fn create(State(fake): Fake, headers: HeaderMap, body: Bytes, api: &'static str) -> Response {
    if !genie_key(&headers) {
        return refused(StatusCode::UNAUTHORIZED, "Key format is not valid!");
    }
    if !is_json(&headers) {
        return refused(StatusCode::BAD_REQUEST, "Content-Type must be application/json");
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let problem = invalid_alert(&v);
    let status = if problem.is_none() { 202 } else { 422 };
    record(
        &fake,
        Alert {
            api,
            action: "create".into(),
            alias: v["alias"].as_str().unwrap_or_default().into(),
            team: v["responders"][0]["name"].as_str().map(str::to_owned),
            status,
        },
    );
    match problem {
        None => accepted(),
        Some(problem) => refused(StatusCode::UNPROCESSABLE_ENTITY, problem),
    }
}

async fn close(
    State(fake): Fake,
    Path(alias): Path<String>,
    Query(q): Pairs,
    headers: HeaderMap,
    api: &'static str,
) -> Response {
    if !genie_key(&headers) {
        return refused(StatusCode::UNAUTHORIZED, "Key format is not valid!");
    }
    if !q.iter().any(|(k, v)| k == "identifierType" && v == "alias") {
        // Without it the path is read as an alert id, which ours never is.
        return refused(StatusCode::NOT_FOUND, "Alert does not exist");
    }
    record(
        &fake,
        Alert {
            api,
            action: "close".into(),
            alias,
            team: None,
            status: 202,
        },
    );
    accepted()
}

/// The on-call of Opsgenie schedule `S` is `s@example.com`.
async fn opsgenie_on_calls(
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    if !genie_key(&headers) {
        return refused(StatusCode::UNAUTHORIZED, "Key format is not valid!");
    }
    if !q.iter().any(|(k, v)| k == "scheduleIdentifierType" && v == "name") {
        return refused(StatusCode::NOT_FOUND, "Schedule with id does not exist");
    }
    let email = format!("{}@example.com", name.to_lowercase());
    axum::Json(json!({
        "data": { "_parent": { "name": name, "enabled": true }, "onCallRecipients": [email] },
        "took": 0.1, "requestId": "r-oncall",
    }))
    .into_response()
}

fn basic_auth(headers: &HeaderMap) -> bool {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{JSM_EMAIL}:{JSM_TOKEN}"));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Basic {expected}"))
}

/// The account id of the person on call for JSM schedule `id`.
pub fn account_of(schedule: &str) -> String {
    format!("acc-{schedule}")
}

async fn jsm_on_calls(
    Path((cloud, id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    if !basic_auth(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "errors": [{ "title": "Unauthorized" }] })),
        )
            .into_response();
    }
    if cloud != CLOUD_ID {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({ "errors": [{ "title": "Site not found" }] })),
        )
            .into_response();
    }
    if q.iter().any(|(k, v)| k == "flat" && v == "true") {
        axum::Json(json!({ "onCallUsers": [account_of(&id)] })).into_response()
    } else {
        axum::Json(json!({ "onCallParticipants": [{ "id": account_of(&id), "type": "user" }] })).into_response()
    }
}

/// The Jira platform's user: account `acc-S` is `s@example.com`.
async fn jira_user(Query(q): Query<Vec<(String, String)>>, headers: HeaderMap) -> Response {
    if !basic_auth(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(schedule) = q
        .iter()
        .find(|(k, _)| k == "accountId")
        .and_then(|(_, v)| v.strip_prefix("acc-"))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    axum::Json(json!({
        "accountId": format!("acc-{schedule}"), "accountType": "atlassian", "active": true,
        "displayName": schedule, "emailAddress": format!("{}@example.com", schedule.to_lowercase()),
    }))
    .into_response()
}
