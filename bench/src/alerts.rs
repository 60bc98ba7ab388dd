//! Alert storm: 10,000 Alertmanager webhook posts over 1,000 groups to `sevtool`, ten rounds of
//! every group (a group re-sent every `group_interval`, as Alertmanager does), 16 in flight, as
//! Alertmanager's per-group senders would be. Then the cost of a duplicate on DynamoDB: the
//! `intake` function behind the Runtime API, its AWS calls counted by the recording proxy.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::Env;
use crate::coldstart::{ALERT_TOKEN, Lambdas, http_event};
use crate::lambda::Function;
use crate::sevtool::Sevtool;
use crate::table::{Row, fig};
use crate::units::{Ledger, Usage};

const GROUPS: usize = 1_000;
const ROUNDS: usize = 10;
const IN_FLIGHT: usize = 16;
const DUPLICATES: usize = 20;

/// Alertmanager's webhook payload (`"version": "4"`) for one group: one firing alert, labelled so
/// that the built-in rule `severity="critical"` opens a SEV2.
pub fn payload(group: usize) -> Value {
    let service = format!("svc-{group:04}");
    let labels = json!({ "alertname": "HighErrorRate", "env": "prod", "service": service, "severity": "critical" });
    let annotations = json!({
        "summary": "5xx rate above 5%",
        "description": format!("{service} 5xx ratio 7.2% over 5m"),
        "runbook_url": format!("https://runbooks.example.com/{service}"),
    });
    json!({
        "receiver": "sev-webhook",
        "status": "firing",
        "alerts": [{
            "status": "firing",
            "labels": labels,
            "annotations": annotations,
            "startsAt": "2026-11-21T09:09:43Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com/graph?g0.expr=rate(http_5xx%5B5m%5D)",
            "fingerprint": format!("{:016x}", 0x69c2_e62f_0000_0000_u64 + group as u64),
        }],
        "groupLabels": { "alertname": "HighErrorRate", "service": service },
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.example.com:9093",
        "version": "4",
        "groupKey": format!("{{}}:{{alertname=\"HighErrorRate\", service=\"{service}\"}}"),
        "truncatedAlerts": 0,
    })
}

async fn storm(env: &Env) -> anyhow::Result<Vec<Row>> {
    let server = Sevtool::start(
        &env.bin("sevtool"),
        &env.work.join("alerts"),
        &[("ALERT_WEBHOOK_TOKEN", ALERT_TOKEN.to_owned())],
        &env.work.join("alerts.log"),
    )
    .await?;
    let client = reqwest::Client::new();
    let url = server.url("/alerts/alertmanager");
    let bodies: Vec<String> = (0..ROUNDS)
        .flat_map(|_| (0..GROUPS).map(|g| payload(g).to_string()))
        .collect();
    let started = Instant::now();
    let outcomes: Vec<anyhow::Result<(f64, Value)>> = futures_util::stream::iter(bodies)
        .map(|body| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let t = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(ALERT_TOKEN)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?;
                let status = response.status();
                let answer: Value = response.json().await?;
                if !status.is_success() {
                    bail!("{status}: {answer}");
                }
                Ok((t.elapsed().as_secs_f64() * 1000.0, answer))
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let wall = started.elapsed().as_secs_f64();
    let mut latencies = Vec::new();
    let mut actions: BTreeMap<String, usize> = BTreeMap::new();
    let mut sevs = HashSet::new();
    for outcome in outcomes {
        let (ms, answer) = outcome.context("an alert post failed")?;
        latencies.push(ms);
        *actions
            .entry(answer["action"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
        if let Some(sev) = answer["sev"].as_str() {
            sevs.insert(sev.to_owned());
        }
    }
    let listed: Value = client
        .get(server.url("/api/sevs?status=open"))
        .send()
        .await?
        .json()
        .await?;
    let open = listed["sevs"].as_array().map_or(0, Vec::len);
    let peak = server.peak_rss_mib();
    server.stop().await;
    let actions = actions
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let posts = (GROUPS * ROUNDS) as f64;
    Ok(vec![
        Row::new(
            "alert storm",
            format!("{} posts, {GROUPS} groups, {IN_FLIGHT} in flight", GROUPS * ROUNDS),
        )
        .latency_ms(&latencies)
        .with("wall", fig(wall, "s"))
        .with("throughput", fig(posts / wall, "posts/s"))
        .with("SEVs opened", fig(sevs.len() as f64, ""))
        .with("open after", fig(open as f64, ""))
        .with("peak RSS", fig(peak.unwrap_or(f64::NAN), "MiB"))
        .note(format!("per-post latency; actions: {actions}")),
    ])
}

/// What a repeat delivery costs on DynamoDB, through the production `intake` binary.
async fn duplicates_on_dynamodb(env: &Env) -> anyhow::Result<Vec<Row>> {
    let lambdas = Lambdas::start(env, true).await?;
    let proxy = lambdas.proxy.clone().context("the proxy")?;
    let log = env.work.join("lambda-intake-alerts.log");
    let mut intake = Function::start(&env.function("intake"), &lambdas.env, &log).await?;
    let event = || {
        http_event(
            "POST",
            "/alerts/alertmanager",
            &[
                ("content-type", "application/json".to_owned()),
                ("authorization", format!("Bearer {ALERT_TOKEN}")),
            ],
            &payload(0).to_string(),
        )
    };
    // Every AWS call a delivery makes happens before it is answered (the relay runs inline), so
    // the calls taken after each answer are exactly that delivery's.
    let mut ledger = Ledger::default();
    let mut actions = Vec::new();
    let mut dups = Usage::default();
    for delivery in 0..=DUPLICATES {
        let answer = intake.invoke(event()).await?;
        let body: Value = serde_json::from_str(answer.body["body"].as_str().unwrap_or("{}"))?;
        actions.push(body["action"].as_str().unwrap_or("?").to_owned());
        let usage = ledger.total(&proxy.take());
        if delivery > 0 {
            dups.add(&usage);
        }
    }
    intake.stop().await;
    lambdas.moto.stop().await;
    if actions[0] != "opened" || actions[1..].iter().any(|a| a != "counted") {
        bail!(
            "expected one opening and then counted repeats: {actions:?}; see {}",
            log.display()
        );
    }
    let n = DUPLICATES as f64;
    Ok(vec![
        Row::new("alert storm", "a duplicate delivery on DynamoDB (intake)")
            .with("store writes", fig(dups.writes as f64 / n, "per dup"))
            .with("WCU", fig(dups.wcu / n, "per dup"))
            .with("reads", fig(dups.reads as f64 / n, "per dup"))
            .with("RCU", fig(dups.rcu / n, "per dup"))
            .note(format!(
                "mean over {DUPLICATES} repeats of one group; units computed from item sizes"
            )),
    ])
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let mut rows = storm(env).await?;
    rows.extend(duplicates_on_dynamodb(env).await?);
    Ok(rows)
}
