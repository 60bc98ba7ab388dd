//! Reports over 100,000 SEVs: ten years of history (833 a month) loaded with `sevtool import`,
//! then the monthly numbers, the top systems, tags and product tracks and the SEV1 trend over the
//! whole range, timed through the API, with the server's memory before and at its peak. Then the
//! DynamoDB side: a 10-year monthly report through the production `intake` binary, with the items
//! it read counted from the recorded traffic.
//!
//! The import writes one fsync'd transaction per row, so the history is loaded onto tmpfs
//! (`/dev/shm`) when there is one: loading is set-up here, not what is measured.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Datelike, Duration as Days, Months, NaiveDate, Utc};
use serde_json::Value;

use crate::Env;
use crate::coldstart::{ACCESS_TOKEN, Lambdas, http_event, json_post};
use crate::lambda::Function;
use crate::sevtool::{Sevtool, base_command};
use crate::table::{Row, fig, percentile};
use crate::units::Ledger;

const SEVS: usize = 100_000;
const MONTHS: u32 = 120;
const REPEATS: usize = 5;

/// The goals issue 17 set, over `SEVS` SEVs: every report's median, `sevtool`'s peak memory,
/// and the items a 10-year monthly report reads from DynamoDB.
const MEDIAN_GOAL_MS: f64 = 50.0;
const PEAK_RSS_GOAL_MIB: f64 = 40.0;
const ITEMS_READ_GOAL: usize = 200;

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}

fn median_goal(samples: &[f64]) -> String {
    let median = percentile(samples, 50.0);
    format!(
        "goal: median < {MEDIAN_GOAL_MS:.0} ms: {}",
        verdict(median < MEDIAN_GOAL_MS)
    )
}

fn rss_goal(peak: f64) -> String {
    format!(
        "goal: peak RSS < {PEAK_RSS_GOAL_MIB:.0} MiB: {}",
        verdict(peak < PEAK_RSS_GOAL_MIB)
    )
}

const TRACKS: [&str; 8] = [
    "checkout", "search", "payments", "identity", "mobile", "ads", "data", "infra",
];

fn level(n: usize) -> &'static str {
    match n % 50 {
        0 => "SEV0",
        1..=6 => "SEV1",
        7..=24 => "SEV2",
        _ => "SEV3",
    }
}

/// The history as the export's CSV columns, every SEV closed, spread over `MONTHS` months.
fn history_csv(first_month: NaiveDate) -> String {
    let mut csv = String::from(
        "id,title,level,status,product_track,tags,private,drill,reporter,coordinator,report_owner,\
         started_at,detected_at,declared_at,mitigated_at,resolved_at,closed_at,resolution,description\n",
    );
    let fmt = "%Y-%m-%dT%H:%M:%SZ";
    for n in 0..SEVS {
        let month = first_month + Months::new((n % MONTHS as usize) as u32);
        let day = (n / MONTHS as usize) % 28;
        let start = (month + Days::days(day as i64))
            .and_hms_opt((n % 24) as u32, (n % 60) as u32, 0)
            .expect("a valid time")
            .and_utc();
        let detected = start + Days::minutes((n % 30) as i64);
        let mitigated = detected + Days::minutes(20 + (n % 90) as i64);
        let resolved = mitigated + Days::minutes(30 + (n % 300) as i64);
        let closed = resolved + Days::days(3);
        let track = TRACKS[n % TRACKS.len()];
        let _ = writeln!(
            csv,
            "SEV-{id},Historic SEV {id} in {track},{level},closed,{track},system/svc-{svc} root-cause/deploy/config team/{track},\
             false,{drill},alice,bob,carol,{start},{detected},{detected},{mitigated},{resolved},{closed},Rolled back,Imported for the benchmark",
            id = n + 1,
            level = level(n),
            svc = n % 40,
            drill = n % 100 == 99,
            start = start.format(fmt),
            detected = detected.format(fmt),
            mitigated = mitigated.format(fmt),
            resolved = resolved.format(fmt),
            closed = closed.format(fmt),
        );
    }
    csv
}

fn data_dir(env: &Env) -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() {
        shm.join(format!("sevbench-reports-{}", std::process::id()))
    } else {
        env.work.join("reports")
    }
}

/// Times `path` `REPEATS` times; answers the samples in ms and the last body.
async fn time_get(client: &reqwest::Client, url: &str) -> anyhow::Result<(Vec<f64>, Value)> {
    let mut samples = Vec::new();
    let mut last = Value::Null;
    for _ in 0..REPEATS {
        let t = Instant::now();
        let response = client.get(url).send().await?;
        let status = response.status();
        last = response.json().await?;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            bail!("{url} answered {status}: {last}");
        }
    }
    Ok((samples, last))
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let now = Utc::now().date_naive();
    let this_month = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).context("this month")?;
    let first_month = this_month - Months::new(MONTHS - 1);
    let csv_path = env.work.join("history.csv");
    std::fs::write(&csv_path, history_csv(first_month))?;
    let data = data_dir(env);
    let log = env.work.join("reports.log");

    let t = Instant::now();
    let status = base_command(&env.bin("sevtool"), &data, &[("RUST_LOG", "warn".to_owned())], &log)?
        .arg("import")
        .arg(&csv_path)
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    let import_secs = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!("sevtool import failed; see {}", log.display());
    }

    let result = serve_and_time(env, &data, first_month, this_month).await;
    let _ = std::fs::remove_dir_all(&data);
    let mut rows = result?;
    rows.push(dynamodb(env, first_month, this_month).await?);
    rows.push(
        Row::new("reports", format!("load {SEVS} SEVs with sevtool import"))
            .with("wall", fig(import_secs, "s"))
            .with("rate", fig(SEVS as f64 / import_secs, "rows/s"))
            .note(if data.starts_with("/dev/shm") {
                "set-up, on tmpfs (no fsync cost)"
            } else {
                "set-up, on disk"
            }),
    );
    Ok(rows)
}

async fn serve_and_time(
    env: &Env,
    data: &std::path::Path,
    first_month: NaiveDate,
    this_month: NaiveDate,
) -> anyhow::Result<Vec<Row>> {
    let server = Sevtool::start(&env.bin("sevtool"), data, &[], &env.work.join("reports.log")).await?;
    let client = reqwest::Client::new();
    // Settle, then note the resident memory before any report.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before = server.rss_mib().unwrap_or(f64::NAN);
    let (since, until) = (first_month.format("%Y-%m"), this_month.format("%Y-%m"));
    let monthly_url = server.url(&format!("/api/reports/monthly?since={since}&until={until}"));
    let (monthly, body) = time_get(&client, &monthly_url).await?;
    let total: u64 = body["months"]
        .as_array()
        .map_or(0, |m| m.iter().filter_map(|m| m["total"].as_u64()).sum());
    let drills: u64 = body["months"]
        .as_array()
        .map_or(0, |m| m.iter().filter_map(|m| m["drills"].as_u64()).sum());
    if total + drills != SEVS as u64 {
        bail!("the monthly report counts {total} SEVs and {drills} drills, not {SEVS}");
    }
    let peak_monthly = server.peak_rss_mib().unwrap_or(f64::NAN);
    let mut tops = Vec::new();
    for dimension in ["system", "tag", "product_track"] {
        let url = server.url(&format!(
            "/api/reports/top?dimension={dimension}&since={since}&until={until}"
        ));
        let (samples, body) = time_get(&client, &url).await?;
        if body["top"].as_array().is_none_or(Vec::is_empty) {
            bail!("the top {dimension} report found nothing: {body}");
        }
        tops.push((dimension, samples));
    }
    let trend_url = server.url(&format!("/api/reports/trend?level=SEV1&months={}", MONTHS - 1));
    let (trend, _) = time_get(&client, &trend_url).await?;
    let peak = server.peak_rss_mib().unwrap_or(f64::NAN);
    server.stop().await;
    let note = format!("{REPEATS} runs each, p99 column is the worst; all {MONTHS} months");
    let mut rows = vec![
        Row::new("reports", format!("monthly numbers over {SEVS} SEVs"))
            .latency_ms(&monthly)
            .with("RSS before", fig(before, "MiB"))
            .with("peak RSS after", fig(peak_monthly, "MiB"))
            .note(format!("{note}; {}", median_goal(&monthly))),
    ];
    for (dimension, samples) in &tops {
        let what = dimension.replace('_', " ");
        rows.push(
            Row::new("reports", format!("top {what}s (same range)"))
                .latency_ms(samples)
                .note(median_goal(samples)),
        );
    }
    rows.push(
        Row::new("reports", format!("SEV1 trend ({} complete months)", MONTHS - 1))
            .latency_ms(&trend)
            .with("peak RSS after all", fig(peak, "MiB"))
            .note(format!("{}; {}", median_goal(&trend), rss_goal(peak))),
    );
    Ok(rows)
}

/// One SEV a month for `MONTHS` months, filed through `intake` on DynamoDB, then the monthly
/// report over all of them: the items it reads are the tallies, one per month, whatever the
/// number of SEVs in each.
async fn dynamodb(env: &Env, first_month: NaiveDate, this_month: NaiveDate) -> anyhow::Result<Row> {
    let lambdas = Lambdas::start(env, true).await?;
    let proxy = lambdas.proxy.clone().context("the proxy")?;
    let log = env.work.join("lambda-intake-reports.log");
    let mut intake = Function::start(&env.function("intake"), &lambdas.env, &log).await?;
    let mut invoke = async |event: Value| -> anyhow::Result<Value> {
        let answer = intake.invoke(event).await?;
        let status = answer.body["statusCode"].as_u64().unwrap_or(0);
        let body: Value = serde_json::from_str(answer.body["body"].as_str().unwrap_or("null"))?;
        if !(200..300).contains(&status) {
            bail!("intake answered {status}: {body}; see {}", log.display());
        }
        Ok(body)
    };
    for n in 0..MONTHS {
        let started = (first_month + Months::new(n))
            .and_hms_opt(12, 0, 0)
            .context("a start")?;
        let file = json_post(
            "/api/sevs",
            &serde_json::json!({
                "title": format!("History {n}: checkout returns 5xx"),
                "level": level(n as usize),
                "product_track": TRACKS[n as usize % TRACKS.len()],
                "tags": [format!("system/svc-{}", n % 40)],
                "started_at": started.and_utc().to_rfc3339(),
            }),
        );
        invoke(file).await?;
    }
    proxy.take();
    let (since, until) = (first_month.format("%Y-%m"), this_month.format("%Y-%m"));
    let report = http_event(
        "GET",
        &format!("/api/reports/monthly?since={since}&until={until}"),
        &[("authorization", format!("Bearer {ACCESS_TOKEN}"))],
        "",
    );
    let body = invoke(report).await?;
    let usage = Ledger::default().total(&proxy.take());
    intake.stop().await;
    lambdas.moto.stop().await;
    let total: u64 = body["months"]
        .as_array()
        .map_or(0, |m| m.iter().filter_map(|m| m["total"].as_u64()).sum());
    if total != u64::from(MONTHS) {
        bail!("the monthly report on DynamoDB counts {total} SEVs, not {MONTHS}");
    }
    Ok(Row::new(
        "reports",
        format!("DynamoDB: monthly numbers over {MONTHS} months (intake)"),
    )
    .with("requests", fig(usage.requests as f64, ""))
    .with("items read", fig(usage.items_read as f64, ""))
    .with("RCU", fig(usage.rcu, ""))
    .note(format!(
        "one SEV a month filed first; goal: at most {ITEMS_READ_GOAL} items read: {}",
        verdict(usage.items_read <= ITEMS_READ_GOAL)
    )))
}
