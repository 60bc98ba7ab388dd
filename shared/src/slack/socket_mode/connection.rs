//! One Socket Mode connection: asks Slack for a URL (`apps.connections.open`), opens the
//! websocket, waits for `hello`, then takes every envelope through the [`Ingress`] and
//! acknowledges it once its task is durably queued. It reports what happens to the link, which
//! decides when to open another.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::AppToken;
use super::frame::{self, DisconnectReason, Envelope, Frame, Kind};
use crate::slack::ingress::{Answer, Ingress, NOT_A_COMMAND, SlashCommand};

/// Opening the websocket (TCP, TLS, the upgrade) has no deadline of its own; a middlebox that
/// never answers the upgrade must not hold a connection slot for good.
const OPEN_WITHIN: Duration = Duration::from_secs(10);
/// Slack says `hello` at once; a connection that stays silent this long is given up.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// We ping this often, and Slack pings us; a connection that hears nothing at all for
/// `IDLE_LIMIT` is half-open (a NAT dropped it) and is replaced.
const PING_EVERY: Duration = Duration::from_secs(15);
const IDLE_LIMIT: Duration = Duration::from_secs(45);
/// After a `disconnect` warning Slack closes the socket within about ten seconds; if it does
/// not, we do.
const RETIRE_WITHIN: Duration = Duration::from_secs(30);
/// Slack's payloads are a few kilobytes; a view with many blocks stays far below this.
const MAX_FRAME_BYTES: usize = 1 << 20;

/// What the link needs to open a connection; built once.
pub(super) struct Dial {
    pub http: reqwest::Client,
    /// `SLACK_API_URL`, ending in `/`.
    pub api_url: String,
    pub token: AppToken,
    pub tls: Arc<rustls::ClientConfig>,
    pub ingress: Ingress,
}

/// What a connection tells the link.
#[derive(Debug)]
pub(super) enum Report {
    /// Heard `hello`: envelopes may arrive.
    Ready(u64),
    /// Slack is about to close it (`warning`, `refresh_requested`): open the replacement now.
    Retiring(u64),
    Closed {
        id: u64,
        /// Whether it heard `hello` before it closed.
        was_ready: bool,
        error: Option<String>,
    },
    /// Slack will not take connections for this app (Socket Mode off, token refused).
    Stop(String),
}

/// Why a connection could not be opened: worth another try, or never.
#[derive(Debug)]
enum OpenError {
    Transient(String),
    Refused(String),
}

/// Errors of `apps.connections.open` that no retry can fix.
fn refused(error: &str) -> bool {
    matches!(
        error,
        "invalid_auth"
            | "not_authed"
            | "not_allowed_token_type"
            | "token_revoked"
            | "account_inactive"
            | "missing_scope"
    )
}

impl Dial {
    async fn url(&self) -> Result<String, OpenError> {
        let answer = self
            .http
            .post(format!("{}apps.connections.open", self.api_url))
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .send()
            .await
            .map_err(|e| OpenError::Transient(format!("apps.connections.open failed: {e}")))?;
        let status = answer.status();
        let body: Value = answer
            .json()
            .await
            .map_err(|_| OpenError::Transient(format!("apps.connections.open answered {status} without JSON")))?;
        match (body["ok"].as_bool(), body["url"].as_str(), body["error"].as_str()) {
            (Some(true), Some(url), _) if url.starts_with("wss://") || url.starts_with("ws://") => Ok(url.to_owned()),
            (_, _, Some(error)) if refused(error) => Err(OpenError::Refused(format!(
                "Slack refused SLACK_APP_TOKEN ({error}): it must be an app-level token with connections:write"
            ))),
            (_, _, Some(error)) => Err(OpenError::Transient(format!("apps.connections.open: {error}"))),
            _ => Err(OpenError::Transient(format!(
                "apps.connections.open answered {status} without a websocket url"
            ))),
        }
    }
}

/// Runs one connection until it closes, `close` turns true, or Slack stops the link.
pub(super) async fn run(
    id: u64,
    dial: Arc<Dial>,
    reports: mpsc::UnboundedSender<Report>,
    mut close: watch::Receiver<bool>,
) {
    let closed = |was_ready, error| Report::Closed { id, was_ready, error };
    let url = match dial.url().await {
        Ok(url) => url,
        Err(OpenError::Refused(reason)) => {
            let _ = reports.send(Report::Stop(reason));
            return;
        }
        Err(OpenError::Transient(error)) => {
            let _ = reports.send(closed(false, Some(error)));
            return;
        }
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let connector = tokio_tungstenite::Connector::Rustls(dial.tls.clone());
    // The URL carries a one-time ticket: it is neither logged nor put in an error.
    let open = tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, Some(connector));
    let socket = tokio::select! {
        opened = tokio::time::timeout(OPEN_WITHIN, open) => match opened {
            Ok(Ok((socket, _))) => socket,
            Ok(Err(e)) => {
                let _ = reports.send(closed(false, Some(format!("could not open the websocket: {}", redact(&e)))));
                return;
            }
            Err(_) => {
                let _ = reports.send(closed(false, Some(format!("the websocket did not open within {OPEN_WITHIN:?}"))));
                return;
            }
        },
        _ = close.changed() => return,
    };
    let (mut sink, mut stream) = socket.split();
    // Acks are written by whichever envelope finishes first; one writer owns the sink.
    let (out, mut outbox) = mpsc::unbounded_channel::<Message>();
    let writer = tokio::spawn(async move {
        while let Some(message) = outbox.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let started = Instant::now();
    let mut was_ready = false;
    let mut retire_by: Option<Instant> = None;
    let mut heard = Instant::now();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let error = loop {
        let deadline = if was_ready {
            retire_by.map_or(heard + IDLE_LIMIT, |r| r.min(heard + IDLE_LIMIT))
        } else {
            started + HELLO_WITHIN
        };
        let message = tokio::select! {
            message = stream.next() => message,
            _ = ping.tick() => {
                let _ = out.send(Message::Ping(Vec::new().into()));
                continue;
            }
            () = tokio::time::sleep_until(deadline) => {
                break match (was_ready, retire_by) {
                    (false, _) => Some("Slack did not say hello".to_owned()),
                    (true, Some(_)) => None,
                    (true, None) => Some("the connection went silent".to_owned()),
                };
            }
            _ = close.changed() => break None,
        };
        heard = Instant::now();
        let text = match message {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => break None,
            Some(Ok(_)) => continue,
            Some(Err(e)) => break Some(format!("the websocket failed: {}", redact(&e))),
        };
        match frame::parse(text.as_str()) {
            Ok(Frame::Hello) => {
                was_ready = true;
                let _ = reports.send(Report::Ready(id));
            }
            Ok(Frame::Disconnect(DisconnectReason::LinkDisabled)) => {
                let _ = reports.send(Report::Stop(
                    "Slack disabled Socket Mode for this app (link_disabled): turn it on in the app's settings and restart sevtool"
                        .to_owned(),
                ));
                break None;
            }
            Ok(Frame::Disconnect(reason)) => {
                tracing::info!(connection = id, reason = ?reason, "Slack is replacing a Socket Mode connection");
                if retire_by.is_none() {
                    retire_by = Some(Instant::now() + RETIRE_WITHIN);
                    let _ = reports.send(Report::Retiring(id));
                }
            }
            Ok(Frame::Envelope(envelope)) => {
                let ingress = dial.ingress.clone();
                let out = out.clone();
                tokio::spawn(async move {
                    if let Some(ack) = take(&ingress, &envelope).await {
                        // A closed connection loses only the ack: Slack delivers again, and the
                        // payload's own id makes the second delivery act once.
                        let _ = out.send(Message::Text(ack.into()));
                    }
                });
            }
            Ok(Frame::Other(kind)) => tracing::debug!(connection = id, kind, "ignored a Socket Mode frame"),
            Err(e) => tracing::warn!(connection = id, error = %e, "ignored a malformed Socket Mode frame"),
        }
    };
    let _ = out.send(Message::Close(None));
    drop(out);
    let _ = writer.await;
    let _ = reports.send(closed(was_ready, error));
}

/// Takes one envelope as the HTTP routes take the same payload; returns the ack to send, or
/// none when the task could not be queued (Slack then delivers it again).
async fn take(ingress: &Ingress, envelope: &Envelope) -> Option<String> {
    let answer = match &envelope.kind {
        Kind::EventsApi => ingress.event(&envelope.payload).await,
        Kind::SlashCommands => match SlashCommand::deserialize(&envelope.payload) {
            Ok(cmd) => ingress.command(cmd).await,
            Err(_) => Answer::Malformed(NOT_A_COMMAND),
        },
        Kind::Interactive => ingress.interaction(&envelope.payload).await,
        Kind::Other(kind) => {
            tracing::debug!(
                kind,
                "acknowledged a Socket Mode envelope of a type sevtool does not handle"
            );
            Answer::Taken(None)
        }
    };
    match answer {
        Answer::Taken(payload) | Answer::Unavailable(payload @ Some(_)) => Some(frame::ack(envelope, payload)),
        Answer::Malformed(why) => {
            tracing::warn!(
                why,
                retry_attempt = envelope.retry_attempt,
                "acknowledged a Socket Mode envelope sevtool cannot act on"
            );
            Some(frame::ack(envelope, None))
        }
        Answer::Unavailable(None) => None,
    }
}

/// A websocket error as a sentence without the URL (its ticket opens the connection).
fn redact(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(response) => format!("Slack answered {}", response.status()),
        Error::Url(_) => "the websocket url is not usable".to_owned(),
        Error::Io(e) => e.to_string(),
        Error::Tls(e) => format!("TLS: {e}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::queue::RecordingQueue;
    use crate::slack::{BotToken, SlackClient};
    use serde_json::json;

    fn ingress(queue: Arc<RecordingQueue>) -> Ingress {
        Ingress {
            queue,
            // Nothing here reaches Slack: no envelope below opens a view.
            client: SlackClient::new("http://127.0.0.1:9/api/", BotToken::new("xoxb-unit")),
            clock: Arc::new(SystemClock),
        }
    }

    fn envelope(kind: Kind, payload: Value) -> Envelope {
        let text = json!({ "envelope_id": "e1", "type": "events_api", "payload": payload,
                           "accepts_response_payload": kind != Kind::EventsApi })
        .to_string();
        let Ok(Frame::Envelope(mut e)) = frame::parse(&text) else {
            panic!("an envelope")
        };
        e.kind = kind;
        e
    }

    fn event() -> Value {
        json!({ "type": "event_callback", "event_id": "Ev1", "event": { "type": "reaction_added" } })
    }

    fn file_command() -> Value {
        json!({ "text": "new SEV2 search is slow", "channel_id": "C1", "user_id": "U1",
                "trigger_id": "t1", "response_url": "https://hooks.slack.com/commands/1" })
    }

    #[tokio::test]
    async fn an_envelope_is_acknowledged_only_once_its_task_is_queued() {
        let queue = Arc::new(RecordingQueue::default());
        let ack = take(&ingress(queue.clone()), &envelope(Kind::EventsApi, event())).await;
        assert_eq!(ack.as_deref(), Some(r#"{"envelope_id":"e1"}"#));
        assert_eq!(queue.sent.lock().unwrap().len(), 1);

        let command = take(&ingress(queue.clone()), &envelope(Kind::SlashCommands, file_command())).await;
        let ack: Value = serde_json::from_str(&command.unwrap()).unwrap();
        assert_eq!(ack["payload"]["text"], "Filing a SEV2 SEV…");
        assert_eq!(queue.sent.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn when_the_queue_is_down_an_event_is_left_for_slack_to_redeliver_and_a_person_is_told() {
        let down = Arc::new(RecordingQueue {
            down: true,
            ..RecordingQueue::default()
        });
        assert_eq!(
            take(&ingress(down.clone()), &envelope(Kind::EventsApi, event())).await,
            None
        );
        let command = take(&ingress(down), &envelope(Kind::SlashCommands, file_command())).await;
        let ack: Value = serde_json::from_str(&command.unwrap()).unwrap();
        assert!(
            ack["payload"]["text"].as_str().unwrap().contains("could not take this"),
            "{ack}"
        );
    }

    #[tokio::test]
    async fn what_cannot_be_acted_on_is_acknowledged_without_a_payload() {
        let queue = Arc::new(RecordingQueue::default());
        let broken = take(
            &ingress(queue.clone()),
            &envelope(Kind::SlashCommands, json!({ "text": "x" })),
        )
        .await;
        assert_eq!(broken.as_deref(), Some(r#"{"envelope_id":"e1"}"#));
        let bad_url = json!({ "text": "help", "channel_id": "C1", "user_id": "U1", "trigger_id": "t", "response_url": "file:///etc" });
        let refused = take(&ingress(queue.clone()), &envelope(Kind::SlashCommands, bad_url)).await;
        assert_eq!(refused.as_deref(), Some(r#"{"envelope_id":"e1"}"#));
        let other = take(
            &ingress(queue.clone()),
            &envelope(Kind::Other("later".into()), json!({})),
        )
        .await;
        assert_eq!(other.as_deref(), Some(r#"{"envelope_id":"e1"}"#));
        assert!(queue.sent.lock().unwrap().is_empty(), "nothing was queued");
    }

    #[test]
    fn only_token_errors_stop_the_link() {
        for fatal in ["invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked"] {
            assert!(refused(fatal), "{fatal}");
        }
        for passing in ["internal_error", "ratelimited", "service_unavailable", "fatal_error"] {
            assert!(!refused(passing), "{passing}");
        }
    }
}
