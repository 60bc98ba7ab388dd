//! Slack's ack path under load: signed slash commands and `reaction_added` events posted by wrk
//! to `sevtool` (embedded store, Slack on, its Web API a local fake), at concurrency 1 and 32.
//! Every request carries its own trigger_id or event_id, so each one is verified, parsed and
//! queued (one SQLite commit) rather than recognised as a retry.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use tokio::process::Command;

use crate::Env;
use crate::fakes::FakeSlack;
use crate::sevtool::Sevtool;
use crate::table::{Row, fig};

pub const SIGNING_SECRET: &str = "bench-signing-secret";
pub const BOT_TOKEN: &str = "xoxb-bench";
const DURATION: Duration = Duration::from_secs(5);
/// Pre-signed requests per run: more than the fastest case (the modal, about 12,000 a second here)
/// sends in a run, so that none repeats.
pub const REQUESTS: usize = 120_000;

#[derive(Clone, Copy)]
pub enum Kind {
    /// `/sev new SEV3 <title>`: parsed and queued; the consumer files the SEV afterwards.
    FileCommand,
    /// `/sev`: opens the intake modal, which calls `views.open` inside the ack (the trigger
    /// expires too soon for a queue hop), here on a local fake Slack.
    ModalCommand,
    /// A `reaction_added` event: queued for the consumer.
    Reaction,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::FileCommand => "`/sev new SEV3 <title>`",
            Kind::ModalCommand => "`/sev` (views.open in the ack)",
            Kind::Reaction => "`reaction_added` event",
        }
    }

    /// Names its data directory, log and request file.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::FileCommand => "file-command",
            Kind::ModalCommand => "modal-command",
            Kind::Reaction => "reaction",
        }
    }

    pub fn route(self) -> &'static str {
        match self {
            Kind::FileCommand | Kind::ModalCommand => "/slack/commands",
            Kind::Reaction => "/slack/events",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Kind::FileCommand | Kind::ModalCommand => "application/x-www-form-urlencoded",
            Kind::Reaction => "application/json",
        }
    }

    fn body(self, n: usize, respond_base: &str) -> String {
        match self {
            Kind::FileCommand | Kind::ModalCommand => {
                let text = match self {
                    Kind::FileCommand => format!("new SEV3 Bench load {n}"),
                    _ => String::new(),
                };
                let form = [
                    ("token", "legacy".to_owned()),
                    ("team_id", "T0BENCH".to_owned()),
                    ("team_domain", "bench".to_owned()),
                    ("channel_id", "C0BENCH".to_owned()),
                    ("channel_name", "general".to_owned()),
                    ("user_id", format!("U{:06}", n % 500)),
                    ("user_name", "bench".to_owned()),
                    ("command", "/sev".to_owned()),
                    ("text", text),
                    ("api_app_id", "A0BENCH".to_owned()),
                    ("response_url", format!("{respond_base}/respond/{n}")),
                    ("trigger_id", format!("{n}.1700000000.bench{n:08x}")),
                ];
                form.iter()
                    .map(|(k, v)| format!("{k}={}", urlencode(v)))
                    .collect::<Vec<_>>()
                    .join("&")
            }
            Kind::Reaction => serde_json::json!({
                "token": "legacy",
                "team_id": "T0BENCH",
                "api_app_id": "A0BENCH",
                "type": "event_callback",
                "event_id": format!("Ev{n:010}"),
                "event_time": 1_700_000_000 + n,
                "event": {
                    "type": "reaction_added",
                    "user": format!("U{:06}", n % 500),
                    "reaction": "sev-update",
                    "item": { "type": "message", "channel": "C0BENCH", "ts": format!("1700000000.{n:06}") },
                    "item_user": "U0000001",
                    "event_ts": format!("1700000000.{n:06}"),
                },
            })
            .to_string(),
        }
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Slack's v0 signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`.
pub fn sign(timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SIGNING_SECRET.as_bytes()).expect("HMAC takes any key");
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::from("v0=");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Writes the replay file: the timestamp, then one signed request per line (bodies hold no
/// tabs or newlines: forms are percent-encoded, JSON is compact).
pub fn write_requests(path: &Path, kind: Kind, first: usize, respond_base: &str) -> anyhow::Result<()> {
    let timestamp = chrono::Utc::now().timestamp();
    let mut out = format!("{timestamp}\n");
    for n in first..first + REQUESTS {
        let body = kind.body(n, respond_base);
        let _ = writeln!(out, "{}\t{body}", sign(timestamp, &body));
    }
    std::fs::write(path, out)?;
    Ok(())
}

#[derive(Deserialize)]
pub struct WrkResult {
    pub requests: u64,
    pub duration_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub non_2xx: u64,
    pub socket_errors: u64,
    pub wraps: u64,
}

pub async fn wrk(env: &Env, url: &str, file: &Path, kind: Kind, connections: usize) -> anyhow::Result<WrkResult> {
    let threads = connections.min(2);
    let output = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", DURATION.as_secs()))
        .arg("--timeout=10s")
        .arg("-s")
        .arg(env.repo.join("bench/wrk/replay.lua"))
        .arg(url)
        .arg("--")
        .arg(file)
        .arg(kind.content_type())
        .arg(threads.to_string())
        .output()
        .await
        .context("running wrk (apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(json) = stdout.lines().find_map(|l| l.strip_prefix("BENCH ")) else {
        bail!(
            "wrk printed no result: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    Ok(serde_json::from_str(json)?)
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let (_slack, api_url) = FakeSlack::start().await?;
    let respond_base = api_url.trim_end_matches("/api/").to_owned();
    let mut rows = Vec::new();
    let mut first = 0;
    for kind in [Kind::FileCommand, Kind::ModalCommand, Kind::Reaction] {
        for connections in [1, 32] {
            let name = format!("slack-{}-c{connections}", kind.slug());
            let data = env.work.join(&name);
            let server = Sevtool::start(
                &env.bin("sevtool"),
                &data,
                &[
                    ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
                    ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
                    ("SLACK_API_URL", api_url.clone()),
                ],
                &env.work.join(format!("{name}.log")),
            )
            .await?;
            let file = env.work.join(format!("{name}.requests"));
            write_requests(&file, kind, first, &respond_base)?;
            first += REQUESTS;
            let result = wrk(env, &server.url(kind.route()), &file, kind, connections).await;
            server.stop().await;
            // Tens of megabytes each, and never valid again (their timestamp expires).
            std::fs::remove_file(&file)?;
            let r = result?;
            let mut note = String::new();
            if r.non_2xx + r.socket_errors > 0 {
                note = format!("{} non-2xx, {} socket errors", r.non_2xx, r.socket_errors);
            }
            if r.wraps > 0 {
                note.push_str(" requests repeated (raise REQUESTS)");
            }
            rows.push(
                Row::new("slack ack", format!("{}, c={connections}", kind.label()))
                    .median(fig(r.p50_us as f64 / 1000.0, "ms"))
                    .p99(fig(r.p99_us as f64 / 1000.0, "ms"))
                    .with(
                        "throughput",
                        fig(r.requests as f64 / (r.duration_us as f64 / 1e6), "req/s"),
                    )
                    .note(note),
            );
        }
    }
    Ok(rows)
}
