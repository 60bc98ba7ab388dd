//! Slack's ack path over Socket Mode: `sevtool` with an app-level token connects to a local fake
//! Socket Mode server (its `apps.connections.open` on the fake Slack), which sends slash
//! commands and `reaction_added` events over both of sevtool's connections and times each
//! envelope from the moment it is written to the moment its ack arrives, with 1 and 32 envelopes
//! in flight. Every envelope carries its own trigger_id or event_id, so each one is parsed and
//! queued (one SQLite commit), never recognised as a redelivery.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::Env;
use crate::fakes::FakeSlack;
use crate::sevtool::Sevtool;
use crate::slack_ack::BOT_TOKEN;
use crate::table::{Row, fig, percentile};

const APP_TOKEN: &str = "xapp-1-A0BENCH-1-bench";
/// How long each case sends for.
const DURATION: Duration = Duration::from_secs(5);
/// sevtool keeps this many connections open; the bench spreads envelopes over all of them.
const CONNECTIONS: usize = 2;

type Socket = WebSocketStream<TcpStream>;

#[derive(Clone, Copy)]
enum Kind {
    FileCommand,
    Reaction,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::FileCommand => "`/sev new SEV3 <title>` envelope",
            Kind::Reaction => "`reaction_added` envelope",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Kind::FileCommand => "file-command",
            Kind::Reaction => "reaction",
        }
    }

    fn envelope(self, n: usize) -> Value {
        let (kind, payload) = match self {
            Kind::FileCommand => (
                "slash_commands",
                json!({
                    "token": "legacy", "team_id": "T0BENCH", "team_domain": "bench", "channel_id": "C0BENCH",
                    "channel_name": "general", "user_id": format!("U{:06}", n % 500), "user_name": "bench",
                    "command": "/sev", "text": format!("new SEV3 Bench load {n}"), "api_app_id": "A0BENCH",
                    "response_url": "http://127.0.0.1:9/respond", "trigger_id": format!("{n}.1700000000.sock{n:08x}"),
                }),
            ),
            Kind::Reaction => (
                "events_api",
                json!({
                    "token": "legacy", "team_id": "T0BENCH", "api_app_id": "A0BENCH", "type": "event_callback",
                    "event_id": format!("EvS{n:010}"), "event_time": 1_700_000_000 + n,
                    "event": {
                        "type": "reaction_added", "user": format!("U{:06}", n % 500), "reaction": "sev-update",
                        "item": { "type": "message", "channel": "C0BENCH", "ts": format!("1700000000.{n:06}") },
                        "item_user": "U0000001", "event_ts": format!("1700000000.{n:06}"),
                    },
                }),
            ),
        };
        json!({
            "envelope_id": format!("bench-{n:010}"), "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": "",
        })
    }
}

/// Sends in flight, by envelope id: when each was written.
type Pending = Arc<Mutex<HashMap<String, Instant>>>;

/// Accepts sevtool's connections and says `hello` on each; answers their write halves.
async fn accept(
    listener: &TcpListener,
    acks: mpsc::UnboundedSender<(String, Instant)>,
) -> anyhow::Result<Vec<SplitSink<Socket, Message>>> {
    let mut sinks = Vec::new();
    while sinks.len() < CONNECTIONS {
        let (tcp, _) = tokio::time::timeout(Duration::from_secs(30), listener.accept())
            .await
            .context("sevtool did not open its Socket Mode connections within 30 s")??;
        let socket = tokio_tungstenite::accept_async(tcp).await?;
        let (mut sink, stream) = socket.split();
        let hello = json!({ "type": "hello", "num_connections": sinks.len() + 1, "debug_info": { "host": "bench" } });
        sink.send(Message::Text(hello.to_string().into())).await?;
        tokio::spawn(read_acks(stream, acks.clone()));
        sinks.push(sink);
    }
    Ok(sinks)
}

async fn read_acks(mut stream: SplitStream<Socket>, acks: mpsc::UnboundedSender<(String, Instant)>) {
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else { continue };
        let at = Instant::now();
        if let Some(id) = serde_json::from_str::<Value>(text.as_str())
            .ok()
            .and_then(|v| v["envelope_id"].as_str().map(str::to_owned))
        {
            let _ = acks.send((id, at));
        }
    }
}

struct Measured {
    latencies_ms: Vec<f64>,
    sent: usize,
    seconds: f64,
    unacked: usize,
}

/// Keeps `in_flight` envelopes outstanding for [`DURATION`], round-robin over the connections.
async fn drive(
    sinks: &mut [SplitSink<Socket, Message>],
    acks: &mut mpsc::UnboundedReceiver<(String, Instant)>,
    kind: Kind,
    first: usize,
    in_flight: usize,
) -> anyhow::Result<Measured> {
    let pending: Pending = Arc::default();
    let slots = Arc::new(Semaphore::new(in_flight));
    let mut latencies_ms = Vec::new();
    let collect = async {
        while let Some((id, at)) = acks.recv().await {
            if let Some(sent) = pending.lock().ok().and_then(|mut p| p.remove(&id)) {
                latencies_ms.push(at.duration_since(sent).as_secs_f64() * 1000.0);
                slots.add_permits(1);
            }
        }
    };
    let started = Instant::now();
    let sending = async {
        let mut n = first;
        while started.elapsed() < DURATION {
            let permit = slots.acquire().await?;
            permit.forget();
            let envelope = kind.envelope(n);
            let id = envelope["envelope_id"].as_str().unwrap_or_default().to_owned();
            if let Ok(mut p) = pending.lock() {
                p.insert(id, Instant::now());
            }
            sinks[n % sinks.len()]
                .send(Message::Text(envelope.to_string().into()))
                .await?;
            n += 1;
        }
        // Wait for the stragglers (Slack would redeliver after 3 s; here they are only counted).
        let deadline = Instant::now() + Duration::from_secs(5);
        while pending.lock().map_or(0, |p| p.len()) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        anyhow::Ok(n - first)
    };
    let sent = tokio::select! {
        sent = sending => sent?,
        () = collect => bail!("sevtool closed its Socket Mode connections"),
    };
    let seconds = started.elapsed().as_secs_f64();
    let unacked = pending.lock().map_or(0, |p| p.len());
    Ok(Measured {
        latencies_ms,
        sent,
        seconds,
        unacked,
    })
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let (slack, api_url) = FakeSlack::start().await?;
    let mut rows = Vec::new();
    let mut first = 0;
    for kind in [Kind::FileCommand, Kind::Reaction] {
        for in_flight in [1, 32] {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            slack.socket_mode_at(format!("ws://{}/link/", listener.local_addr()?));
            let name = format!("socket-{}-f{in_flight}", kind.slug());
            let server = Sevtool::start(
                &env.bin("sevtool"),
                &env.work.join(&name),
                &[
                    ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
                    ("SLACK_APP_TOKEN", APP_TOKEN.to_owned()),
                    ("SLACK_API_URL", api_url.clone()),
                ],
                &env.work.join(format!("{name}.log")),
            )
            .await?;
            let (acks_tx, mut acks) = mpsc::unbounded_channel();
            let mut sinks = accept(&listener, acks_tx).await?;
            let m = drive(&mut sinks, &mut acks, kind, first, in_flight).await;
            server.stop().await;
            let m = m?;
            first += m.sent;
            let acked = m.latencies_ms.len();
            let mut note = format!("{} envelopes over {CONNECTIONS} connections", m.sent);
            if m.unacked > 0 {
                note.push_str(&format!(", {} never acknowledged", m.unacked));
            }
            let slow = m.latencies_ms.iter().filter(|l| **l > 3000.0).count();
            if slow > 0 {
                note.push_str(&format!(", {slow} past Slack's 3 s"));
            }
            rows.push(
                Row::new("socket mode ack", format!("{}, {in_flight} in flight", kind.label()))
                    .median(fig(percentile(&m.latencies_ms, 50.0), "ms"))
                    .p99(fig(percentile(&m.latencies_ms, 99.0), "ms"))
                    .with("throughput", fig(acked as f64 / m.seconds, "env/s"))
                    .note(note),
            );
        }
    }
    Ok(rows)
}
