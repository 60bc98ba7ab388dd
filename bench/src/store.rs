//! The store: SEV create + update + timeline read round trips on the embedded store (through
//! `sevtool`'s API, one after the other), and DynamoDB requests and capacity units per SEV
//! lifecycle through the production `intake` binary.

use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Env;
use crate::coldstart::{ACCESS_TOKEN, Lambdas, http_event, json_post};
use crate::lambda::Function;
use crate::sevtool::Sevtool;
use crate::table::{Row, fig};
use crate::units::{Ledger, Usage};

const ROUND_TRIPS: usize = 300;

async fn send(request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await?;
    if !status.is_success() {
        bail!("{status}: {body}");
    }
    Ok(body)
}

async fn embedded(env: &Env) -> anyhow::Result<Vec<Row>> {
    let server = Sevtool::start(
        &env.bin("sevtool"),
        &env.work.join("store"),
        &[],
        &env.work.join("store.log"),
    )
    .await?;
    let client = reqwest::Client::new();
    let (mut create, mut update, mut read, mut whole) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    for n in 0..ROUND_TRIPS {
        let t0 = Instant::now();
        let sev = send(
            client
                .post(server.url("/api/sevs"))
                .json(&json!({ "title": format!("Round trip {n}"), "level": "SEV3" })),
        )
        .await?;
        create.push(ms(t0));
        let id = sev["id"].as_str().context("the SEV's id")?.to_owned();
        let t1 = Instant::now();
        send(
            client
                .post(server.url(&format!("/api/sevs/{id}/updates")))
                .json(&json!({ "text": "Rolled back deploy 4812" })),
        )
        .await?;
        update.push(ms(t1));
        let t2 = Instant::now();
        let got = send(client.get(server.url(&format!("/api/sevs/{id}")))).await?;
        read.push(ms(t2));
        whole.push(ms(t0));
        if got["timeline"].as_array().map_or(0, Vec::len) < 2 {
            bail!("{id}'s timeline lacks the update: {got}");
        }
    }
    server.stop().await;
    let case = |what: &str| format!("{what} (embedded, via the API)");
    Ok(vec![
        Row::new("store", case("create + update + read SEV"))
            .latency_ms(&whole)
            .note(format!("{ROUND_TRIPS} sequential round trips, SQLite fsync on commit")),
        Row::new("store", case("create (POST /api/sevs)")).latency_ms(&create),
        Row::new("store", case("update (POST …/updates)")).latency_ms(&update),
        Row::new("store", case("read with timeline (GET)")).latency_ms(&read),
    ])
}

/// The steps of a SEV's life, as API calls to `intake`.
fn lifecycle(id: &str) -> Vec<(&'static str, Value)> {
    let status = |s: &str| json_post(&format!("/api/sevs/{id}/status"), &json!({ "status": s }));
    vec![
        (
            "update",
            json_post(
                &format!("/api/sevs/{id}/updates"),
                &json!({ "text": "Rolled back deploy 4812" }),
            ),
        ),
        (
            "read",
            http_event(
                "GET",
                &format!("/api/sevs/{id}"),
                &[("authorization", format!("Bearer {ACCESS_TOKEN}"))],
                "",
            ),
        ),
        ("mitigate", status("mitigated")),
        ("resolve", status("resolved")),
        ("close", status("closed")),
    ]
}

async fn dynamodb(env: &Env) -> anyhow::Result<Vec<Row>> {
    let lambdas = Lambdas::start(env, true).await?;
    let proxy = lambdas.proxy.clone().context("the proxy")?;
    let log = env.work.join("lambda-intake-store.log");
    let mut intake = Function::start(&env.function("intake"), &lambdas.env, &log).await?;
    let mut ledger = Ledger::default();
    let mut invoke = async |event: Value| -> anyhow::Result<(Value, Usage)> {
        let answer = intake.invoke(event).await?;
        let status = answer.body["statusCode"].as_u64().unwrap_or(0);
        let body: Value = serde_json::from_str(answer.body["body"].as_str().unwrap_or("null"))?;
        if !(200..300).contains(&status) {
            bail!("intake answered {status}: {body}; see {}", log.display());
        }
        // The relay runs before the answer, so every call the step made is in by now.
        Ok((body, ledger.total(&proxy.take())))
    };
    // The second SEV is measured: the first also creates the SEV counter.
    let mut steps: Vec<(&str, Usage)> = Vec::new();
    for round in 0..2 {
        steps.clear();
        let file = json_post(
            "/api/sevs",
            &json!({ "title": format!("Lifecycle {round}: checkout returns 5xx"), "level": "SEV2" }),
        );
        let (sev, usage) = invoke(file).await?;
        steps.push(("file", usage));
        let id = sev["id"].as_str().context("the SEV's id")?.to_owned();
        for (step, event) in lifecycle(&id) {
            let (_, usage) = invoke(event).await?;
            steps.push((step, usage));
        }
    }
    intake.stop().await;
    lambdas.moto.stop().await;
    let mut total = Usage::default();
    for (_, u) in &steps {
        total.add(u);
    }
    let detail = steps
        .iter()
        .map(|(s, u)| format!("{s} {}r/{}w", u.reads, u.writes))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(vec![
        Row::new("store", "DynamoDB per SEV lifecycle (intake)")
            .with("requests", fig(total.requests as f64, ""))
            .with("reads", fig(total.reads as f64, ""))
            .with("writes", fig(total.writes as f64, ""))
            .with("RCU", fig(total.rcu, ""))
            .with("WCU", fig(total.wcu, ""))
            .note(format!("file SEV2, update, read, mitigate, resolve, close: {detail}")),
    ])
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let mut rows = embedded(env).await?;
    rows.extend(dynamodb(env).await?);
    Ok(rows)
}
