//! A minimal Lambda Runtime API (the part a custom runtime uses): the function polls
//! `GET /2018-06-01/runtime/invocation/next` for an event and posts its answer to
//! `.../invocation/{id}/response` (or `/error`, or `/runtime/init/error` when it cannot start).
//! One server per function process, so "first poll" is exactly the end of its init.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex as AsyncMutex, mpsc};

use crate::fakes::serve;

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function answered to one invocation.
#[derive(Debug)]
pub struct Answer {
    pub ok: bool,
    pub body: Value,
    pub at: Instant,
}

#[derive(Clone)]
struct Api {
    events: Arc<AsyncMutex<mpsc::Receiver<Value>>>,
    answers: mpsc::Sender<Answer>,
    first_poll: Arc<Mutex<Option<Instant>>>,
    next_id: Arc<AtomicU64>,
}

async fn next(State(api): State<Api>) -> Response {
    if let Ok(mut first) = api.first_poll.lock() {
        first.get_or_insert_with(Instant::now);
    }
    let Some(event) = api.events.lock().await.recv().await else {
        // The bench is over: keep the poller waiting until it is killed.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let id = api.next_id.fetch_add(1, Ordering::Relaxed);
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    (
        [
            ("lambda-runtime-aws-request-id", format!("req-{id}")),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            (
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
            ),
            (
                "lambda-runtime-trace-id",
                format!("Root=1-00000000-{id:024x};Sampled=0"),
            ),
            ("content-type", "application/json".to_owned()),
        ],
        event.to_string(),
    )
        .into_response()
}

async fn answered(api: Api, ok: bool, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let body = serde_json::from_slice(&body).unwrap_or(Value::String(String::from_utf8_lossy(&body).into()));
    let _ = api.answers.send(Answer { ok, body, at }).await;
    StatusCode::ACCEPTED
}

/// One function process and its Runtime API.
pub struct Function {
    child: Child,
    pub started: Instant,
    api: Api,
    events: mpsc::Sender<Value>,
    answers: mpsc::Receiver<Answer>,
}

impl Function {
    /// Starts `binary` against a fresh Runtime API, with `env` on top of the Lambda variables.
    pub async fn start(binary: &Path, env: &[(String, String)], log: &Path) -> anyhow::Result<Function> {
        let (events_tx, events_rx) = mpsc::channel(16);
        let (answers_tx, answers_rx) = mpsc::channel(16);
        let api = Api {
            events: Arc::new(AsyncMutex::new(events_rx)),
            answers: answers_tx,
            first_poll: Arc::default(),
            next_id: Arc::default(),
        };
        let app = Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(
                &format!("{PREFIX}/invocation/{{id}}/response"),
                post(|State(api): State<Api>, _: UrlPath<String>, body: Bytes| answered(api, true, body)),
            )
            .route(
                &format!("{PREFIX}/invocation/{{id}}/error"),
                post(|State(api): State<Api>, _: UrlPath<String>, body: Bytes| answered(api, false, body)),
            )
            .route(
                &format!("{PREFIX}/init/error"),
                post(|State(api): State<Api>, body: Bytes| answered(api, false, body)),
            )
            .with_state(api.clone());
        let base = serve(app).await?;
        let name = binary.file_name().and_then(|n| n.to_str()).unwrap_or("function");
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_LAMBDA_RUNTIME_API", base.trim_start_matches("http://"))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("_HANDLER", "bootstrap")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            // Lambda functions log to stdout; both go to the log file.
            .stdout(std::fs::File::options().create(true).append(true).open(log)?)
            .stderr(std::fs::File::options().create(true).append(true).open(log)?)
            .kill_on_drop(true);
        // The clock starts at exec, as Lambda's init duration does.
        let started = Instant::now();
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Function {
            child,
            started,
            api,
            events: events_tx,
            answers: answers_rx,
        })
    }

    /// Invokes the function once and waits for its answer.
    pub async fn invoke(&mut self, event: Value) -> anyhow::Result<Answer> {
        self.events.send(event).await.context("the Runtime API stopped")?;
        match tokio::time::timeout(Duration::from_secs(60), self.answers.recv()).await {
            Ok(Some(answer)) => Ok(answer),
            Ok(None) => bail!("the Runtime API stopped"),
            Err(_) => bail!("no answer within 60 s"),
        }
    }

    /// When the function first asked for an event: the end of its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.api.first_poll.lock().ok().and_then(|f| *f)
    }

    /// Peak resident memory so far, from the kernel (`VmHWM`), in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        self.child.id().and_then(crate::sevtool::peak_rss_mib)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
