//! AWS for the Lambda binaries: moto (the emulator `make test` uses) behind a recording proxy.
//! The binaries' `AWS_ENDPOINT_URL` points at the proxy, which forwards every call to moto and
//! keeps what DynamoDB was asked and answered, so that request counts and capacity units come
//! from the production code's real traffic.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::fakes::serve;
use crate::units::Call;

pub const REGION: &str = "us-east-1";
pub const TABLE: &str = "sevtool";

/// moto's server on a free port, stopped when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    /// Runs `tests/moto_server.py` (one request at a time, as `make test` does) from the venv.
    pub async fn start(venv: &Path, repo: &Path, log: &Path) -> anyhow::Result<Moto> {
        let port = free_port()?;
        let python = venv.join("bin/python");
        let child = Command::new(&python)
            .arg(repo.join("tests/moto_server.py"))
            .args(["127.0.0.1", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting moto with {} (run `make .venv/.moto`)", python.display()))?;
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{}/moto-api/", moto.url)).send().await.is_ok() {
                return Ok(moto);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("moto did not start in 10 s; see {}", log.display())
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One AWS JSON-protocol call, unsigned: moto does not check signatures.
pub async fn call(endpoint: &str, target: &str, body: Value) -> anyhow::Result<Value> {
    // moto reads the region (and so which backend) from the credential scope.
    let service = if target.starts_with("DynamoDB") {
        "dynamodb"
    } else {
        "sqs"
    };
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=bench/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let response = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", target)
        .header("authorization", auth)
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{target} failed with {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The table as `DynamoStore::create_table` makes it, and the two queues.
pub struct Resources {
    pub task_queue: String,
    pub pager_queue: String,
}

pub async fn create_resources(endpoint: &str) -> anyhow::Result<Resources> {
    let attrs: Vec<Value> = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
        .iter()
        .map(|a| json!({ "AttributeName": a, "AttributeType": "S" }))
        .collect();
    let schema = |pk: &str, sk: &str| json!([{ "AttributeName": pk, "KeyType": "HASH" }, { "AttributeName": sk, "KeyType": "RANGE" }]);
    let index = |name: &str, pk: &str, sk: &str| json!({ "IndexName": name, "KeySchema": schema(pk, sk), "Projection": { "ProjectionType": "ALL" } });
    call(
        endpoint,
        "DynamoDB_20120810.CreateTable",
        json!({
            "TableName": TABLE,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": attrs,
            "KeySchema": schema("pk", "sk"),
            "GlobalSecondaryIndexes": [index("gsi1", "gsi1pk", "gsi1sk"), index("gsi2", "gsi2pk", "gsi2sk")],
        }),
    )
    .await?;
    let queue = |name: &'static str| async move {
        let out = call(endpoint, "AmazonSQS.CreateQueue", json!({ "QueueName": name })).await?;
        out["QueueUrl"]
            .as_str()
            .map(str::to_owned)
            .context("CreateQueue answered no QueueUrl")
    };
    Ok(Resources {
        task_queue: queue("sevtool-tasks").await?,
        pager_queue: queue("sevtool-pages").await?,
    })
}

/// Takes what is waiting on a queue, as the SQS event source would hand it to a function.
pub async fn receive_event(endpoint: &str, queue_url: &str) -> anyhow::Result<Value> {
    let out = call(
        endpoint,
        "AmazonSQS.ReceiveMessage",
        json!({ "QueueUrl": queue_url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1 }),
    )
    .await?;
    let records: Vec<Value> = out["Messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| {
            json!({
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "md5OfBody": m["MD5OfBody"],
                "attributes": { "ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000",
                                "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1700000000000" },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:queue"),
                "awsRegion": REGION,
            })
        })
        .collect();
    if records.is_empty() {
        bail!("nothing is waiting on {queue_url}");
    }
    // Handed over: the event source deletes what a function took (here before it even ran, so
    // that the next run's event holds only new tasks).
    for m in out["Messages"].as_array().map(Vec::as_slice).unwrap_or_default() {
        call(
            endpoint,
            "AmazonSQS.DeleteMessage",
            json!({ "QueueUrl": queue_url, "ReceiptHandle": m["ReceiptHandle"] }),
        )
        .await?;
    }
    Ok(json!({ "Records": records }))
}

/// Forwards to moto and records every DynamoDB call.
#[derive(Clone)]
pub struct Proxy {
    upstream: String,
    http: reqwest::Client,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> anyhow::Result<(Proxy, String)> {
        let proxy = Proxy {
            upstream: upstream.to_owned(),
            http: reqwest::Client::new(),
            calls: Arc::default(),
        };
        let app = Router::new().fallback(forward).with_state(proxy.clone());
        Ok((proxy.clone(), serve(app).await?))
    }

    /// Every DynamoDB call since the last take, oldest first.
    pub fn take(&self) -> Vec<Call> {
        self.calls
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

async fn forward(State(proxy): State<Proxy>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = proxy.http.request(method, format!("{}{path}", proxy.upstream));
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let response = match request.body(body.clone()).send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = response.status();
    let response_headers = response.headers().clone();
    let answer = response.bytes().await.unwrap_or_default();
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
        let call = Call {
            op: op.to_owned(),
            request: serde_json::from_slice(&body).unwrap_or_default(),
            response: serde_json::from_slice(&answer).unwrap_or_default(),
            ok: status.is_success(),
        };
        if let Ok(mut calls) = proxy.calls.lock() {
            calls.push(call);
        }
    }
    let mut out = (status, answer).into_response();
    for (name, value) in &response_headers {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            out.headers_mut().insert(name, value.clone());
        }
    }
    out
}
