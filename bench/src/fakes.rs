//! The third parties the binaries talk to, faked on local ports: Slack's Web API (so the queue
//! consumers never reach slack.com) and PagerDuty's Events API v2 with a set latency.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Serves `app` on a free loopback port and answers its base URL.
pub async fn serve(app: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("a fake server stopped: {e}");
        }
    });
    Ok(format!("http://{addr}"))
}

/// A Slack Web API that says yes to everything, with the fields the client reads.
#[derive(Clone, Default)]
pub struct FakeSlack {
    /// Numbers the channels and messages it creates.
    next: Arc<AtomicU64>,
    /// What `apps.connections.open` answers, once a Socket Mode fake is listening.
    socket_url: Arc<Mutex<Option<String>>>,
}

impl FakeSlack {
    /// Starts it; `SLACK_API_URL` is the answer with `/api/` appended.
    pub async fn start() -> anyhow::Result<(FakeSlack, String)> {
        let fake = FakeSlack::default();
        let app = Router::new()
            .route("/api/{method}", post(slack_api))
            .route("/respond/{id}", post(|| async { StatusCode::OK }))
            .with_state(fake.clone());
        let base = serve(app).await?;
        Ok((fake, format!("{base}/api/")))
    }

    /// Makes `apps.connections.open` hand out `url`.
    pub fn socket_mode_at(&self, url: String) {
        if let Ok(mut at) = self.socket_url.lock() {
            *at = Some(url);
        }
    }
}

/// The named argument from a JSON or form body (the client sends both kinds).
fn arg(body: &[u8], name: &str) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        return v[name].as_str().map(str::to_owned);
    }
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.replace('+', " "))
}

async fn slack_api(State(fake): State<FakeSlack>, Path(method): Path<String>, body: Bytes) -> Response {
    let n = fake.next.fetch_add(1, Ordering::Relaxed);
    let channel = arg(&body, "channel").unwrap_or_else(|| "C0000001".into());
    let extra = match method.as_str() {
        "conversations.create" => {
            let name = arg(&body, "name").unwrap_or_else(|| format!("sev-{n}"));
            json!({ "channel": { "id": format!("C{n:08}"), "name": name } })
        }
        "chat.postMessage" => json!({ "channel": channel, "ts": format!("1700000000.{n:06}") }),
        "users.lookupByEmail" => json!({ "user": { "id": format!("U{n:08}") } }),
        "apps.connections.open" => match fake.socket_url.lock().ok().and_then(|u| u.clone()) {
            Some(url) => json!({ "url": format!("{url}?ticket={n}") }),
            None => return axum::Json(json!({ "ok": false, "error": "unknown_method" })).into_response(),
        },
        // What a Bolt peer asks once, to learn whose token it holds.
        "auth.test" => {
            json!({ "user_id": "U0BENCHBOT", "bot_id": "B0BENCH", "team_id": "T0BENCH", "team": "bench", "user": "sevbot" })
        }
        "conversations.replies" => {
            json!({ "messages": [{ "user": "U0000001", "text": "a message", "ts": "1700000000.000001" }] })
        }
        _ => json!({}),
    };
    let mut answer = json!({ "ok": true });
    if let (Value::Object(a), Value::Object(e)) = (&mut answer, extra) {
        a.extend(e);
    }
    axum::Json(answer).into_response()
}

/// PagerDuty's Events API v2 answering after `latency`, counting distinct dedup keys accepted.
#[derive(Clone)]
pub struct FakePager {
    latency: Duration,
    accepted: Arc<Mutex<HashSet<String>>>,
    changed: Arc<Notify>,
    first_request: Arc<Mutex<Option<Instant>>>,
}

impl FakePager {
    pub async fn start(latency: Duration) -> anyhow::Result<(FakePager, String)> {
        let fake = FakePager {
            latency,
            accepted: Arc::default(),
            changed: Arc::default(),
            first_request: Arc::default(),
        };
        let app = Router::new()
            .route("/v2/enqueue", post(enqueue))
            .with_state(fake.clone());
        Ok((fake.clone(), serve(app).await?))
    }

    /// When the first event arrived.
    pub fn first_request(&self) -> Option<Instant> {
        self.first_request.lock().ok().and_then(|f| *f)
    }

    pub fn accepted(&self) -> usize {
        self.accepted.lock().map_or(0, |a| a.len())
    }

    /// Waits until `n` distinct pages were accepted, or `timeout` passed.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if self.accepted() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.accepted() >= n;
            }
        }
    }
}

async fn enqueue(State(fake): State<FakePager>, body: Bytes) -> Response {
    if let Ok(mut first) = fake.first_request.lock() {
        first.get_or_insert_with(Instant::now);
    }
    tokio::time::sleep(fake.latency).await;
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(key) = event["dedup_key"].as_str() else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "status": "invalid event" })),
        )
            .into_response();
    };
    if let Ok(mut accepted) = fake.accepted.lock() {
        accepted.insert(key.to_owned());
    }
    fake.changed.notify_waiters();
    let answer = json!({ "status": "success", "message": "Event processed", "dedup_key": key });
    (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
}
