//! sevtool beside its peers on Slack's ack path: minimal Slack Bolt apps (Bolt Python under
//! uvicorn with 1 and 2 workers, Bolt JS on its HTTPReceiver; `bench/peers/`) that verify each
//! request's signature and ack it, storing nothing, against `sevtool` (embedded store, every ack
//! durable). Each gets the same pre-signed `/sev new` commands and `reaction_added` events from
//! the same wrk script, one after the other in each round, on a fresh process each time. The
//! figures are medians of the rounds; each sevtool row says whether it met its goal.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::Env;
use crate::fakes::FakeSlack;
use crate::sevtool::Sevtool;
use crate::slack_ack::{BOT_TOKEN, Kind, REQUESTS, SIGNING_SECRET, WrkResult, sign, write_requests, wrk};
use crate::table::{Row, fig};

const ROUNDS: usize = 3;

/// The goals issue 17 set, against the better Bolt Python.
const THROUGHPUT_RATIO_GOAL: f64 = 5.0;
const P99_GOAL_MS: f64 = 5.0;

#[derive(Clone, Copy, PartialEq)]
enum Server {
    Sevtool,
    BoltPython { workers: u8 },
    BoltJs,
}

const SERVERS: [Server; 4] = [
    Server::Sevtool,
    Server::BoltPython { workers: 1 },
    Server::BoltPython { workers: 2 },
    Server::BoltJs,
];

impl Server {
    fn label(self) -> String {
        match self {
            Server::Sevtool => "sevtool".into(),
            Server::BoltPython { workers } => format!("Bolt Python, {workers} uvicorn worker(s)"),
            Server::BoltJs => "Bolt JS (HTTPReceiver)".into(),
        }
    }

    fn slug(self) -> String {
        match self {
            Server::Sevtool => "sevtool".into(),
            Server::BoltPython { workers } => format!("bolt-python-{workers}"),
            Server::BoltJs => "bolt-js".into(),
        }
    }
}

/// A peer app. With several workers, uvicorn's first process stops its workers when it is told to stop.
struct Peer {
    child: Child,
    base: String,
}

impl Peer {
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-s", "TERM"])
                .arg(pid.to_string())
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts a Bolt peer and waits until it answers a signed `url_verification` (for two
/// workers, until both have had time to come up after the first answers).
async fn start_peer(env: &Env, server: Server, api_url: &str, log: &Path) -> anyhow::Result<Peer> {
    let peers = env.repo.join("bench/peers");
    let port = free_port()?;
    let mut command = match server {
        Server::BoltPython { workers } => {
            let mut c = Command::new(env.repo.join("target/bench-peers/venv/bin/uvicorn"));
            c.env_clear()
                .args(["bolt_app:api", "--log-level", "warning", "--no-access-log", "--workers"])
                .arg(workers.to_string())
                .arg("--port")
                .arg(port.to_string());
            c
        }
        Server::BoltJs => {
            let mut c = Command::new("node");
            c.env_clear().arg("bolt_app.js").env("PORT", port.to_string());
            c
        }
        Server::Sevtool => bail!("sevtool is not a peer"),
    };
    let child = command
        .current_dir(&peers)
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env("SLACK_BOT_TOKEN", BOT_TOKEN)
        .env("SLACK_API_URL", api_url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {} (bench/peers/install.sh installs it)", server.label()))?;
    let peer = Peer {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let body = r#"{"type":"url_verification","token":"legacy","challenge":"ready"}"#;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let timestamp = chrono::Utc::now().timestamp();
        let answered = http
            .post(format!("{}/slack/events", peer.base))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", timestamp.to_string())
            .header("x-slack-signature", sign(timestamp, body))
            .body(body)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if answered {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            peer.stop().await;
            bail!("{} did not answer within 30 s; see {}", server.label(), log.display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if matches!(server, Server::BoltPython { workers } if workers > 1) {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(peer)
}

/// Counts a process's fsync and fdatasync calls while it runs, with `perf stat` on the kernel's
/// syscall tracepoints (no ptrace, so the process runs at full speed). None where perf or the
/// tracepoints are not available.
struct FsyncCount(Child);

impl FsyncCount {
    async fn start(pid: u32) -> Option<FsyncCount> {
        let mut child = Command::new("perf")
            .args([
                "stat",
                "-x,",
                "-e",
                "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync",
                "-p",
            ])
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .ok()?;
        // perf attaches before it counts; give it a moment, and let one that fails at once say so.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if child.try_wait().ok().flatten().is_some() {
            return None;
        }
        Some(FsyncCount(child))
    }

    async fn stop(mut self) -> Option<u64> {
        let pid = self.0.id()?;
        let _ = Command::new("kill")
            .args(["-s", "INT"])
            .arg(pid.to_string())
            .status()
            .await;
        let mut err = String::new();
        self.0.stderr.take()?.read_to_string(&mut err).await.ok()?;
        let _ = self.0.wait().await;
        // CSV lines: count,unit,event,...
        let counts: Vec<u64> = err
            .lines()
            .filter(|l| l.contains("syscalls:sys_enter_"))
            .filter_map(|l| l.split(',').next()?.parse().ok())
            .collect();
        (counts.len() == 2).then(|| counts.iter().sum())
    }
}

/// One wrk run against a fresh process, with sevtool's fsyncs per request where perf can count them.
struct Round {
    result: WrkResult,
    fsyncs_per_request: Option<f64>,
}

async fn round(
    env: &Env,
    server: Server,
    kind: Kind,
    connections: usize,
    n: usize,
    first: usize,
    api_url: &str,
) -> anyhow::Result<Round> {
    let name = format!("peers-{}-{}-c{connections}-r{n}", server.slug(), kind.slug());
    let file = env.work.join(format!("{name}.requests"));
    let respond_base = api_url.trim_end_matches("/api/").to_owned();
    write_requests(&file, kind, first, &respond_base)?;
    let log = env.work.join(format!("{name}.log"));
    let outcome = match server {
        Server::Sevtool => {
            let sevtool = Sevtool::start(
                &env.bin("sevtool"),
                &env.work.join(&name),
                &[
                    ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
                    ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
                    ("SLACK_API_URL", api_url.to_owned()),
                ],
                &log,
            )
            .await?;
            let counter = match sevtool.pid() {
                Some(pid) => FsyncCount::start(pid).await,
                None => None,
            };
            let result = wrk(env, &sevtool.url(kind.route()), &file, kind, connections).await;
            let fsyncs = match counter {
                Some(c) => c.stop().await,
                None => None,
            };
            sevtool.stop().await;
            result.map(|result| Round {
                fsyncs_per_request: fsyncs.map(|f| f as f64 / result.requests.max(1) as f64),
                result,
            })
        }
        _ => {
            let peer = start_peer(env, server, api_url, &log).await?;
            // Bolt takes commands and events at one path.
            let result = wrk(env, &format!("{}/slack/events", peer.base), &file, kind, connections).await;
            peer.stop().await;
            result.map(|result| Round {
                result,
                fsyncs_per_request: None,
            })
        }
    };
    std::fs::remove_file(&file)?;
    outcome
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The medians of one server's rounds in one case.
struct Figures {
    throughput: f64,
    p50_ms: f64,
    p99_ms: f64,
    fsyncs_per_request: Option<f64>,
    errors: u64,
}

fn figures(rounds: &[Round]) -> Figures {
    let of = |f: fn(&WrkResult) -> f64| median(rounds.iter().map(|r| f(&r.result)).collect());
    let fsyncs: Vec<f64> = rounds.iter().filter_map(|r| r.fsyncs_per_request).collect();
    Figures {
        throughput: of(|r| r.requests as f64 / (r.duration_us as f64 / 1e6)),
        p50_ms: of(|r| r.p50_us as f64 / 1000.0),
        p99_ms: of(|r| r.p99_us as f64 / 1000.0),
        fsyncs_per_request: (fsyncs.len() == rounds.len()).then(|| median(fsyncs)),
        errors: rounds
            .iter()
            .map(|r| r.result.non_2xx + r.result.socket_errors + r.result.wraps)
            .sum(),
    }
}

/// Whether sevtool met its goal against the better Bolt Python, in words.
fn verdict(connections: usize, sevtool: &Figures, python: &Figures) -> String {
    let ratio = sevtool.throughput / python.throughput;
    if connections == 1 {
        let met = sevtool.p50_ms < python.p50_ms;
        format!(
            "goal: a lower p50 than Bolt Python ({:.2} ms): {}",
            python.p50_ms,
            if met { "met" } else { "NOT met" }
        )
    } else {
        let met = ratio >= THROUGHPUT_RATIO_GOAL && sevtool.p99_ms < P99_GOAL_MS;
        format!(
            "goal: ≥{THROUGHPUT_RATIO_GOAL:.0}x Bolt Python's throughput, p99 < {P99_GOAL_MS:.0} ms: {}",
            if met { "met" } else { "NOT met" }
        )
    }
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let (_slack, api_url) = FakeSlack::start().await?;
    let mut rows = Vec::new();
    let mut first = 0;
    for kind in [Kind::FileCommand, Kind::Reaction] {
        for connections in [1, 32] {
            let mut rounds: Vec<Vec<Round>> = SERVERS.iter().map(|_| Vec::new()).collect();
            // Servers take turns within a round, so a noisy moment does not land on one alone.
            for n in 0..ROUNDS {
                for (i, server) in SERVERS.iter().enumerate() {
                    rounds[i].push(round(env, *server, kind, connections, n, first, &api_url).await?);
                    first += REQUESTS;
                }
            }
            let all: Vec<Figures> = rounds.iter().map(|r| figures(r)).collect();
            let python = all[1..3]
                .iter()
                .max_by(|a, b| a.throughput.total_cmp(&b.throughput))
                .context("two Bolt Python servers")?;
            let sevtool = &all[0];
            for (server, f) in SERVERS.iter().zip(&all) {
                let mut row = Row::new(
                    "peers",
                    format!("{}, c={connections}: {}", kind.label(), server.label()),
                )
                .median(fig(f.p50_ms, "ms"))
                .p99(fig(f.p99_ms, "ms"))
                .with("throughput", fig(f.throughput, "req/s"));
                let mut note = Vec::new();
                if *server == Server::Sevtool {
                    row = row
                        .with("vs Bolt Python", fig(f.throughput / python.throughput, "x"))
                        .with("vs Bolt JS", fig(f.throughput / all[3].throughput, "x"));
                    if let Some(fsyncs) = f.fsyncs_per_request {
                        row = row.with("fsync per request", fig(fsyncs, ""));
                    }
                    note.push(verdict(connections, sevtool, python));
                }
                if f.errors > 0 {
                    note.push(format!("{} non-2xx, socket errors or repeats", f.errors));
                }
                rows.push(row.note(note.join("; ")));
            }
        }
    }
    Ok(rows)
}
