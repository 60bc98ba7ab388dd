//! A fake Atlassian Statuspage on a free local port: `POST /pages/{page}/incidents`,
//! `GET /pages/{page}/incidents/unresolved` and `PATCH /pages/{page}/incidents/{id}`.
//!
//! It checks what Statuspage documents: `Authorization: OAuth <key>` with the known key, the known
//! page, a JSON `{"incident": {...}}` body with a name of 1 to 255 characters, a realtime status,
//! a known impact and a body of at most 25,000 characters; it answers as Statuspage does (the
//! incident with its `id` and `shortlink`) and records every incident and update.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

pub const STATUSPAGE_KEY: &str = "statuspage-fake-key";
pub const STATUSPAGE_PAGE: &str = "fakepage0001";

/// One accepted request: `create` or `update`, with its `incident` object.
#[derive(Debug, Clone)]
pub struct Call {
    pub action: &'static str,
    pub incident: Value,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    incidents: Vec<Value>,
}

#[derive(Clone, Default)]
pub struct FakeStatuspage {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

type Fake = State<FakeStatuspage>;

fn refuse(status: StatusCode, why: &str) -> Response {
    (status, axum::Json(json!({ "error": why }))).into_response()
}

/// The request's incident, if everything Statuspage checks holds.
fn checked(page: &str, headers: &HeaderMap, body: &Value) -> Result<Value, (StatusCode, &'static str)> {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("OAuth {STATUSPAGE_KEY}")) {
        return Err((StatusCode::UNAUTHORIZED, "Could not authenticate"));
    }
    if page != STATUSPAGE_PAGE {
        return Err((StatusCode::NOT_FOUND, "The requested resource could not be found."));
    }
    let incident = &body["incident"];
    let name = incident["name"].as_str().unwrap_or("");
    let status = incident["status"].as_str().unwrap_or("");
    let impact = incident["impact_override"].as_str().unwrap_or("");
    let text = incident["body"].as_str().unwrap_or("");
    if name.is_empty() || name.chars().count() > 255 {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, "name must be 1 to 255 characters"));
    }
    if !["investigating", "identified", "monitoring", "resolved"].contains(&status) {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, "status is not a realtime status"));
    }
    if !["none", "minor", "major", "critical"].contains(&impact) || text.chars().count() > 25_000 {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, "impact_override or body is invalid"));
    }
    Ok(incident.clone())
}

async fn create(fake: Fake, Path(page): Path<String>, headers: HeaderMap, body: axum::Json<Value>) -> Response {
    let incident = match checked(&page, &headers, &body) {
        Ok(i) => i,
        Err((status, why)) => return refuse(status, why),
    };
    let mut inner = fake.inner.lock().unwrap();
    let id = format!("inc{:08}", inner.incidents.len() + 1);
    let stored = json!({
        "id": id, "page_id": page, "name": incident["name"], "status": incident["status"],
        "shortlink": format!("https://stspg.io/{id}"), "metadata": incident["metadata"],
    });
    inner.incidents.push(stored.clone());
    inner.calls.push(Call {
        action: "create",
        incident,
    });
    (StatusCode::CREATED, axum::Json(stored)).into_response()
}

async fn unresolved(fake: Fake, Path(page): Path<String>, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("OAuth {STATUSPAGE_KEY}"))
        || page != STATUSPAGE_PAGE
    {
        return refuse(StatusCode::UNAUTHORIZED, "Could not authenticate");
    }
    let open: Vec<Value> = fake.inner.lock().unwrap().incidents.clone();
    axum::Json(Value::Array(open)).into_response()
}

async fn update(
    fake: Fake,
    Path((page, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> Response {
    let incident = match checked(&page, &headers, &body) {
        Ok(i) => i,
        Err((status, why)) => return refuse(status, why),
    };
    let mut inner = fake.inner.lock().unwrap();
    let Some(stored) = inner.incidents.iter_mut().find(|i| i["id"] == id.as_str()) else {
        return refuse(StatusCode::NOT_FOUND, "The requested resource could not be found.");
    };
    stored["status"] = incident["status"].clone();
    let answer = stored.clone();
    inner.calls.push(Call {
        action: "update",
        incident,
    });
    axum::Json(answer).into_response()
}

impl FakeStatuspage {
    pub async fn start() -> FakeStatuspage {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake statuspage");
        let addr = listener.local_addr().expect("fake statuspage address");
        let fake = FakeStatuspage {
            base: format!("http://{addr}"),
            ..FakeStatuspage::default()
        };
        let app = Router::new()
            .route("/pages/{page}/incidents", post(create))
            .route("/pages/{page}/incidents/unresolved", get(unresolved))
            .route("/pages/{page}/incidents/{id}", patch(update))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        fake
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }
}
