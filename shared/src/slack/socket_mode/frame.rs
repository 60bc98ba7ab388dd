//! The frames of Slack's Socket Mode protocol: what a connection hears (`hello`, `disconnect`,
//! and envelopes carrying Events API, slash command and interactive payloads) and the one thing
//! it says back (the acknowledgement of an envelope, with an optional response payload).

use serde::Deserialize;
use serde_json::{Value, json};

/// Slack's id of one delivery. A redelivery of the same payload gets a new envelope id; what
/// makes it act once is the payload's own id (`event_id`, `trigger_id`, `view.id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeId(String);

impl EnvelopeId {
    /// Slack's ids are short printable tokens; anything else is refused rather than echoed.
    const MAX_LEN: usize = 128;

    fn parse(raw: &str) -> Option<EnvelopeId> {
        let fits = !raw.is_empty() && raw.len() <= Self::MAX_LEN && raw.bytes().all(|b| b.is_ascii_graphic());
        fits.then(|| EnvelopeId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    EventsApi,
    SlashCommands,
    Interactive,
    /// A type this version does not know: acknowledged and ignored.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: EnvelopeId,
    pub kind: Kind,
    pub payload: Value,
    /// Whether the ack may carry a response payload (slash commands and interactions).
    pub accepts_response_payload: bool,
    /// 0 on the first delivery; Slack counts up when it sends the same payload again.
    pub retry_attempt: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// This connection closes in about ten seconds.
    Warning,
    /// Slack wants this connection replaced.
    RefreshRequested,
    /// Socket Mode was turned off for the app: no new connection will be accepted.
    LinkDisabled,
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Hello,
    Disconnect(DisconnectReason),
    Envelope(Envelope),
    /// A frame type this version does not know.
    Other(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("not a JSON object with a string `type`")]
    Shape,
    #[error("an envelope without a usable envelope_id")]
    EnvelopeId,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    envelope_id: Option<String>,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    accepts_response_payload: bool,
    #[serde(default)]
    retry_attempt: u32,
    #[serde(default)]
    reason: Option<String>,
}

pub fn parse(text: &str) -> Result<Frame, FrameError> {
    let raw: Raw = serde_json::from_str(text).map_err(|_| FrameError::Shape)?;
    let kind = match raw.kind.as_str() {
        "hello" => {
            return Ok(Frame::Hello);
        }
        "disconnect" => {
            let reason = match raw.reason.as_deref() {
                Some("warning") => DisconnectReason::Warning,
                Some("refresh_requested") => DisconnectReason::RefreshRequested,
                Some("link_disabled") => DisconnectReason::LinkDisabled,
                other => DisconnectReason::Other(other.unwrap_or_default().to_owned()),
            };
            return Ok(Frame::Disconnect(reason));
        }
        "events_api" => Kind::EventsApi,
        "slash_commands" => Kind::SlashCommands,
        "interactive" => Kind::Interactive,
        other if raw.envelope_id.is_some() => Kind::Other(other.to_owned()),
        other => return Ok(Frame::Other(other.to_owned())),
    };
    let id = raw
        .envelope_id
        .as_deref()
        .and_then(EnvelopeId::parse)
        .ok_or(FrameError::EnvelopeId)?;
    Ok(Frame::Envelope(Envelope {
        id,
        kind,
        payload: raw.payload,
        accepts_response_payload: raw.accepts_response_payload,
        retry_attempt: raw.retry_attempt,
    }))
}

/// The acknowledgement of one envelope. A payload goes only where Slack accepts one.
pub fn ack(envelope: &Envelope, payload: Option<Value>) -> String {
    match payload.filter(|_| envelope.accepts_response_payload) {
        Some(payload) => json!({ "envelope_id": envelope.id.as_str(), "payload": payload }),
        None => json!({ "envelope_id": envelope.id.as_str() }),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_and_every_disconnect_reason_parse() {
        let hello = r#"{"type":"hello","num_connections":2,"debug_info":{"host":"applink-1"},"connection_info":{"app_id":"A1"}}"#;
        assert_eq!(parse(hello), Ok(Frame::Hello));
        let odd = r#"{"type":"hello","num_connections":"two"}"#;
        assert_eq!(
            parse(odd),
            Ok(Frame::Hello),
            "fields sevtool does not read never fail a hello"
        );
        for (reason, want) in [
            ("warning", DisconnectReason::Warning),
            ("refresh_requested", DisconnectReason::RefreshRequested),
            ("link_disabled", DisconnectReason::LinkDisabled),
            ("later", DisconnectReason::Other("later".into())),
        ] {
            let text = json!({ "type": "disconnect", "reason": reason, "debug_info": { "host": "h" } }).to_string();
            assert_eq!(parse(&text), Ok(Frame::Disconnect(want)));
        }
    }

    #[test]
    fn an_envelope_keeps_its_payload_and_retry_count() {
        let text = json!({
            "envelope_id": "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545",
            "type": "events_api",
            "accepts_response_payload": false,
            "retry_attempt": 1,
            "retry_reason": "timeout",
            "payload": { "type": "event_callback", "event_id": "Ev1" },
        })
        .to_string();
        let Ok(Frame::Envelope(e)) = parse(&text) else {
            panic!("not an envelope");
        };
        assert_eq!(e.kind, Kind::EventsApi);
        assert_eq!(e.retry_attempt, 1);
        assert_eq!(e.payload["event_id"], "Ev1");
        assert!(!e.accepts_response_payload);
    }

    #[test]
    fn envelopes_without_a_usable_id_and_non_objects_are_refused() {
        for bad in [
            json!({ "type": "events_api", "payload": {} }),
            json!({ "type": "slash_commands", "envelope_id": "", "payload": {} }),
            json!({ "type": "interactive", "envelope_id": "a b", "payload": {} }),
            json!({ "type": "interactive", "envelope_id": "x".repeat(129), "payload": {} }),
        ] {
            assert_eq!(parse(&bad.to_string()), Err(FrameError::EnvelopeId), "{bad}");
        }
        assert_eq!(parse("[1]"), Err(FrameError::Shape));
        assert_eq!(parse("not json"), Err(FrameError::Shape));
        assert_eq!(parse(r#"{"type":7}"#), Err(FrameError::Shape));
    }

    #[test]
    fn unknown_frames_and_unknown_envelopes_are_told_apart() {
        assert_eq!(parse(r#"{"type":"pong"}"#), Ok(Frame::Other("pong".into())));
        let Ok(Frame::Envelope(e)) = parse(r#"{"type":"new_kind","envelope_id":"e1"}"#) else {
            panic!("an unknown envelope is still an envelope, so it is acknowledged");
        };
        assert_eq!(e.kind, Kind::Other("new_kind".into()));
    }

    #[test]
    fn an_ack_carries_a_payload_only_where_slack_accepts_one() {
        let mut e = Envelope {
            id: EnvelopeId("e1".into()),
            kind: Kind::SlashCommands,
            payload: Value::Null,
            accepts_response_payload: true,
            retry_attempt: 0,
        };
        let reply = json!({ "text": "Filing…" });
        let with: Value = serde_json::from_str(&ack(&e, Some(reply.clone()))).unwrap();
        assert_eq!(with, json!({ "envelope_id": "e1", "payload": reply }));
        e.accepts_response_payload = false;
        let without: Value = serde_json::from_str(&ack(&e, Some(reply))).unwrap();
        assert_eq!(without, json!({ "envelope_id": "e1" }));
        let none: Value = serde_json::from_str(&ack(&e, None)).unwrap();
        assert_eq!(none, json!({ "envelope_id": "e1" }));
    }
}
