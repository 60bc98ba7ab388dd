//! A fake of Slack's Socket Mode on a free local port: the websocket end, reached through the
//! URL that the fake Slack's `apps.connections.open` hands out. It says `hello` on every new
//! connection, sends envelopes as Slack does, and checks every acknowledgement it gets back: the
//! envelope id was sent on that connection and not acknowledged before, the frame holds nothing
//! but `envelope_id` and (only where Slack accepts one) `payload`, and it came within Slack's 3
//! seconds. What it finds wrong is kept in [`FakeSocketMode::problems`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub const APP_TOKEN: &str = "xapp-1-A0FAKE-1-fake-app-token";
/// Slack's limit for an ack.
const ACK_WITHIN: Duration = Duration::from_secs(3);

/// One acknowledgement, as received.
#[derive(Debug, Clone)]
pub struct Ack {
    pub envelope_id: String,
    pub connection: u64,
    pub payload: Option<Value>,
    /// From sending the envelope to receiving its ack.
    pub latency: Duration,
}

struct Sent {
    connection: u64,
    at: Instant,
    accepts_response_payload: bool,
}

struct Connection {
    out: mpsc::UnboundedSender<Message>,
    open: bool,
}

#[derive(Default)]
struct Inner {
    tickets: Vec<String>,
    connections: HashMap<u64, Connection>,
    /// Connection ids in the order they said hello.
    order: Vec<u64>,
    sent: HashMap<String, Sent>,
    acks: Vec<Ack>,
    problems: Vec<String>,
    next: u64,
}

#[derive(Clone)]
pub struct FakeSocketMode {
    inner: Arc<Mutex<Inner>>,
    addr: std::net::SocketAddr,
}

impl FakeSocketMode {
    pub async fn start() -> FakeSocketMode {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Socket Mode");
        let fake = FakeSocketMode {
            inner: Arc::default(),
            addr: listener.local_addr().expect("fake Socket Mode address"),
        };
        let accepting = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(accepting.clone().serve(stream));
            }
        });
        fake
    }

    /// What `apps.connections.open` answers: a fresh one-time URL.
    pub fn open_url(&self) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let ticket = format!("ticket-{}", inner.next);
        inner.tickets.push(ticket.clone());
        format!("ws://{}/link/?ticket={ticket}", self.addr)
    }

    // The handshake callback's error type is tungstenite's HTTP response, large by its design.
    #[allow(clippy::result_large_err)]
    async fn serve(self, stream: tokio::net::TcpStream) {
        let mut ticket = None;
        let socket = tokio_tungstenite::accept_hdr_async(
            stream,
            |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
                ticket = req
                    .uri()
                    .query()
                    .and_then(|q| q.strip_prefix("ticket="))
                    .map(str::to_owned);
                Ok(resp)
            },
        )
        .await;
        let Ok(socket) = socket else { return };
        let id = {
            let mut inner = self.inner.lock().unwrap();
            let known = ticket.as_ref().and_then(|t| inner.tickets.iter().position(|k| k == t));
            match known {
                // A ticket opens one connection, once.
                Some(i) => drop(inner.tickets.remove(i)),
                None => {
                    inner
                        .problems
                        .push(format!("a connection with an unknown or reused ticket {ticket:?}"));
                    return;
                }
            }
            inner.next += 1;
            inner.next
        };
        let (mut sink, mut stream) = socket.split();
        let (out, mut outbox) = mpsc::unbounded_channel::<Message>();
        let hello = {
            let mut inner = self.inner.lock().unwrap();
            inner.connections.insert(
                id,
                Connection {
                    out: out.clone(),
                    open: true,
                },
            );
            inner.order.push(id);
            let open = inner.connections.values().filter(|c| c.open).count();
            json!({ "type": "hello", "num_connections": open, "debug_info": { "host": "fake-applink", "approximate_connection_time": 18060 }, "connection_info": { "app_id": "A0FAKE" } })
        };
        let _ = out.send(Message::Text(hello.to_string().into()));
        let writer = tokio::spawn(async move {
            while let Some(message) = outbox.recv().await {
                // An empty binary frame is this fake's signal to drop the TCP connection at once,
                // without a close frame, as a network failure would.
                if matches!(&message, Message::Binary(b) if b.is_empty()) {
                    return;
                }
                let closing = matches!(message, Message::Close(_));
                if sink.send(message).await.is_err() || closing {
                    return;
                }
            }
        });
        loop {
            tokio::select! {
                frame = stream.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_ack(id, text.as_str()),
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                _ = tokio::time::sleep(Duration::from_millis(50)), if writer.is_finished() => break,
            }
        }
        writer.abort();
        if let Some(c) = self.inner.lock().unwrap().connections.get_mut(&id) {
            c.open = false;
        }
    }

    fn on_ack(&self, connection: u64, text: &str) {
        let mut inner = self.inner.lock().unwrap();
        let Ok(Value::Object(frame)) = serde_json::from_str::<Value>(text) else {
            inner
                .problems
                .push(format!("a frame that is not a JSON object: {text}"));
            return;
        };
        let extra: Vec<&String> = frame
            .keys()
            .filter(|k| *k != "envelope_id" && *k != "payload")
            .collect();
        if !extra.is_empty() {
            inner
                .problems
                .push(format!("an ack with fields Slack does not take: {extra:?}"));
        }
        let Some(envelope_id) = frame.get("envelope_id").and_then(Value::as_str) else {
            inner.problems.push(format!("a frame without envelope_id: {text}"));
            return;
        };
        let Some(sent) = inner.sent.get(envelope_id) else {
            inner
                .problems
                .push(format!("an ack of envelope {envelope_id}, which was never sent"));
            return;
        };
        let latency = sent.at.elapsed();
        let problem = if sent.connection != connection {
            Some(format!(
                "envelope {envelope_id} acknowledged on connection {connection}, sent on {}",
                sent.connection
            ))
        } else if latency > ACK_WITHIN {
            Some(format!("envelope {envelope_id} acknowledged after {latency:?}"))
        } else if frame.contains_key("payload") && !sent.accepts_response_payload {
            Some(format!(
                "envelope {envelope_id} acknowledged with a payload it does not accept"
            ))
        } else {
            None
        };
        if inner.acks.iter().any(|a| a.envelope_id == envelope_id) {
            inner
                .problems
                .push(format!("envelope {envelope_id} acknowledged twice"));
        }
        inner.problems.extend(problem);
        inner.acks.push(Ack {
            envelope_id: envelope_id.to_owned(),
            connection,
            payload: frame.get("payload").cloned(),
            latency,
        });
    }

    /// Waits until `n` connections are open, or fails the test; returns their ids, oldest first.
    pub async fn wait_open(&self, n: usize, secs: u64) -> Vec<u64> {
        poll(
            secs,
            || Some(self.open()).filter(|open| open.len() >= n),
            || format!("{n} open connections; have {:?}", self.open()),
        )
        .await
    }

    /// Waits until exactly `ids` are open (oldest first), or fails the test after `secs`.
    pub async fn wait_exactly(&self, ids: &[u64], secs: u64) {
        poll(
            secs,
            || (self.open() == ids).then_some(()),
            || format!("exactly {ids:?} open; have {:?}", self.open()),
        )
        .await
    }

    /// The open connections, oldest first.
    pub fn open(&self) -> Vec<u64> {
        let inner = self.inner.lock().unwrap();
        inner
            .order
            .iter()
            .copied()
            .filter(|id| inner.connections.get(id).is_some_and(|c| c.open))
            .collect()
    }

    /// How many connections were ever opened.
    pub fn opened(&self) -> usize {
        self.inner.lock().unwrap().order.len()
    }

    /// Sends an envelope of `kind` on `connection`; returns its envelope id.
    pub fn send(&self, connection: u64, kind: &str, payload: Value, retry_attempt: u32) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let envelope_id = format!("{:08x}-fake-{}", inner.next, inner.next);
        let accepts_response_payload = kind != "events_api";
        let mut envelope = json!({
            "envelope_id": envelope_id, "type": kind, "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        });
        if kind == "events_api" {
            envelope["retry_attempt"] = json!(retry_attempt);
            envelope["retry_reason"] = json!(if retry_attempt > 0 { "timeout" } else { "" });
        }
        let out = inner
            .connections
            .get(&connection)
            .expect("no such connection")
            .out
            .clone();
        inner.sent.insert(
            envelope_id.clone(),
            Sent {
                connection,
                at: Instant::now(),
                accepts_response_payload,
            },
        );
        drop(inner);
        out.send(Message::Text(envelope.to_string().into()))
            .expect("the connection is gone");
        envelope_id
    }

    /// Says `disconnect` with `reason` on `connection`, and closes it `after` later as Slack does
    /// (`None`: leaves it open).
    pub fn disconnect(&self, connection: u64, reason: &str, after: Option<Duration>) {
        let out = self.inner.lock().unwrap().connections[&connection].out.clone();
        let frame = json!({ "type": "disconnect", "reason": reason, "debug_info": { "host": "fake-applink" } });
        let _ = out.send(Message::Text(frame.to_string().into()));
        if let Some(after) = after {
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let _ = out.send(Message::Close(None));
            });
        }
    }

    /// Drops `connection`'s TCP connection at once, without a close frame.
    pub fn drop_connection(&self, connection: u64) {
        let mut inner = self.inner.lock().unwrap();
        let dropped = inner.connections.get_mut(&connection).expect("no such connection");
        dropped.open = false;
        let _ = dropped.out.send(Message::Binary(Vec::new().into()));
    }

    pub fn acks(&self, envelope_id: &str) -> Vec<Ack> {
        let inner = self.inner.lock().unwrap();
        inner
            .acks
            .iter()
            .filter(|a| a.envelope_id == envelope_id)
            .cloned()
            .collect()
    }

    /// Waits for the ack of `envelope_id`, or fails the test after `secs`.
    pub async fn wait_ack(&self, envelope_id: &str, secs: u64) -> Ack {
        poll(
            secs,
            || self.acks(envelope_id).pop(),
            || format!("the ack of {envelope_id}; problems: {:?}", self.problems()),
        )
        .await
    }

    /// Everything the fake found wrong with what sevtool sent it.
    pub fn problems(&self) -> Vec<String> {
        self.inner.lock().unwrap().problems.clone()
    }
}

/// Polls `ready` until it answers, or fails the test after `secs` saying what was awaited.
async fn poll<T>(secs: u64, ready: impl Fn() -> Option<T>, awaited: impl Fn() -> String) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs}s waiting for {}",
            awaited()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
