//! The inbound routes, served by the `slack` Lambda and by `sevtool`. Slack wants an answer
//! within 3 seconds, so each request is only verified, parsed, queued once and answered; the
//! work happens in the task consumer.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::command::{self, Command, USAGE};
use super::{Inbound, SignatureError, SigningSecret, SlackClient, messages};
use crate::clock::Clock;
use crate::domain::Level;
use crate::queue::{Queue, QueueError, Task, TaskEnvelope};

#[derive(Clone)]
pub struct SlackRoutes {
    pub secret: SigningSecret,
    pub queue: Arc<dyn Queue>,
    pub client: SlackClient,
    pub clock: Arc<dyn Clock>,
}

pub fn router(state: SlackRoutes) -> axum::Router {
    axum::Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/events", post(events))
        .route("/slack/interactions", post(interactions))
        .with_state(state)
}

fn reply(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "response_type": "ephemeral", "text": text }))).into_response()
}

/// Checks Slack's signature on the raw body; never logs the body or the signature.
fn verify(state: &SlackRoutes, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = state.clock.now().timestamp();
    state.secret.verify(
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        body,
        now,
    )
}

fn unauthorized(e: SignatureError) -> Response {
    tracing::warn!(reason = %e, "rejected an unsigned or badly signed Slack request");
    (StatusCode::UNAUTHORIZED, Json(json!({ "error": e.to_string() }))).into_response()
}

fn bad_request(what: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": what }))).into_response()
}

/// Queues one task. When the queue is down the request is refused, so that Slack (or the
/// person) tries again rather than the request being lost.
async fn enqueue(state: &SlackRoutes, inbound: Inbound) -> Result<(), QueueError> {
    let task = TaskEnvelope::new(Task::Slack { inbound }, state.clock.now());
    state
        .queue
        .send_batch(&[task])
        .await
        .inspect_err(|e| tracing::error!(error = %e, "could not queue a Slack request"))
}

fn unavailable() -> Response {
    reply(
        StatusCode::SERVICE_UNAVAILABLE,
        "sevtool could not take this right now; please try again in a moment.",
    )
}

#[derive(Deserialize)]
struct SlashCommand {
    #[serde(default)]
    text: String,
    channel_id: String,
    user_id: String,
    trigger_id: String,
    response_url: String,
}

/// A `response_url` sevtool can post to: an absolute `https` (or, for a local Slack, `http`)
/// URL. Anything else is no URL at all, so a reply is never retried against an address that
/// cannot work.
fn response_url(raw: &str) -> Option<String> {
    let url = reqwest::Url::parse(raw).ok()?;
    (matches!(url.scheme(), "https" | "http") && url.has_host()).then(|| raw.to_owned())
}

async fn commands(State(state): State<SlackRoutes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = verify(&state, &headers, &body) {
        return unauthorized(e);
    }
    let Ok(cmd) = serde_urlencoded::from_bytes::<SlashCommand>(&body) else {
        return bad_request(
            "not a slash command payload: channel_id, user_id, trigger_id and response_url are required",
        );
    };
    let Some(response_url) = response_url(&cmd.response_url) else {
        return bad_request("response_url must be an absolute https URL");
    };
    match command::parse(&cmd.text) {
        Err(usage) => reply(StatusCode::OK, &usage.to_string()),
        Ok(Command::Help) => reply(StatusCode::OK, USAGE),
        // The trigger expires 3 seconds after the command, too soon for a queue hop.
        Ok(Command::OpenModal) => match state
            .client
            .open_view(&cmd.trigger_id, messages::intake_modal(None))
            .await
        {
            Ok(()) => StatusCode::OK.into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "views.open failed");
                reply(
                    StatusCode::OK,
                    "Slack did not open the form. File directly instead: `/sev new SEV1 checkout returns 5xx`",
                )
            }
        },
        Ok(parsed) => {
            let working = match &parsed {
                Command::File { level, .. } => format!("Filing a {level} SEV…"),
                _ => "On it…".to_owned(),
            };
            let inbound = Inbound::Command {
                trigger_id: cmd.trigger_id,
                channel: cmd.channel_id,
                user: cmd.user_id,
                text: cmd.text,
                response_url,
            };
            match enqueue(&state, inbound).await {
                Ok(()) => reply(StatusCode::OK, &working),
                Err(_) => unavailable(),
            }
        }
    }
}

async fn events(State(state): State<SlackRoutes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = verify(&state, &headers, &body) {
        return unauthorized(e);
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("the event body is not JSON");
    };
    match payload["type"].as_str() {
        Some("url_verification") => Json(json!({ "challenge": payload["challenge"] })).into_response(),
        Some("event_callback") => {
            let Some(event_id) = payload["event_id"].as_str() else {
                return bad_request("event_callback without event_id");
            };
            let inbound = Inbound::Event {
                event_id: event_id.to_owned(),
                event: payload["event"].clone(),
            };
            match enqueue(&state, inbound).await {
                Ok(()) => StatusCode::OK.into_response(),
                Err(_) => unavailable(),
            }
        }
        _ => StatusCode::OK.into_response(),
    }
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

/// A field error shown under the input in the modal.
fn field_error(block: &str, text: &str) -> Response {
    Json(json!({ "response_action": "errors", "errors": { block: text } })).into_response()
}

async fn interactions(State(state): State<SlackRoutes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = verify(&state, &headers, &body) {
        return unauthorized(e);
    }
    let Some(payload) = serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .ok()
        .and_then(|f| serde_json::from_str::<Value>(&f.payload).ok())
    else {
        return bad_request("the interaction has no JSON `payload` field");
    };
    match payload["type"].as_str() {
        Some("view_submission") if payload["view"]["callback_id"] == "sev_intake" => submit(&state, &payload).await,
        Some("block_actions") => action(&state, &payload).await,
        Some("message_action" | "shortcut") => {
            let prefill = payload["message"]["text"].as_str();
            let trigger = payload["trigger_id"].as_str().unwrap_or_default();
            if let Err(e) = state.client.open_view(trigger, messages::intake_modal(prefill)).await {
                tracing::warn!(error = %e, "views.open failed");
            }
            StatusCode::OK.into_response()
        }
        _ => StatusCode::OK.into_response(),
    }
}

/// A button or menu press (a nag's, a mayday's confirmation): queued like a command, acted on by
/// the task handler.
async fn action(state: &SlackRoutes, payload: &Value) -> Response {
    let action = &payload["actions"][0];
    let (Some(action_id), Some(trigger_id), Some(user)) = (
        action["action_id"].as_str(),
        payload["trigger_id"].as_str(),
        payload["user"]["id"].as_str(),
    ) else {
        return bad_request("block_actions without actions[0].action_id, trigger_id or user.id");
    };
    // A nag's people picker has no value of its own: its block carries the SCA's id.
    let value = action["value"]
        .as_str()
        .or_else(|| action["block_id"].as_str())
        .unwrap_or_default();
    let inbound = Inbound::Action {
        trigger_id: trigger_id.to_owned(),
        action_id: action_id.to_owned(),
        value: value.to_owned(),
        user: user.to_owned(),
        channel: payload["channel"]["id"].as_str().unwrap_or_default().to_owned(),
        // Presses in a modal carry none; their answer goes to the person directly.
        response_url: payload["response_url"]
            .as_str()
            .and_then(response_url)
            .unwrap_or_default(),
        selected_user: action["selected_user"].as_str().map(str::to_owned),
    };
    match enqueue(state, inbound).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(_) => unavailable(),
    }
}

async fn submit(state: &SlackRoutes, payload: &Value) -> Response {
    let values = &payload["view"]["state"]["values"];
    let title = values["title"]["title"]["value"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if title.is_empty() {
        return field_error("title", "Say in a few words what is broken.");
    }
    if title.chars().count() > crate::domain::MAX_TITLE {
        return field_error(
            "title",
            "Keep the title under 200 characters; put the rest in the details.",
        );
    }
    let Some(level) = values["level"]["level"]["selected_option"]["value"]
        .as_str()
        .and_then(|l| l.parse::<Level>().ok())
    else {
        return field_error("level", "Pick a level.");
    };
    let (Some(view_id), Some(user)) = (payload["view"]["id"].as_str(), payload["user"]["id"].as_str()) else {
        return bad_request("view_submission without view.id or user.id");
    };
    let description = values["description"]["description"]["value"]
        .as_str()
        .map(str::to_owned);
    let private = values["private"]["private"]["selected_options"]
        .as_array()
        .is_some_and(|o| !o.is_empty());
    let inbound = Inbound::Submission {
        view_id: view_id.to_owned(),
        user: user.to_owned(),
        title,
        level,
        description,
        private,
    };
    match enqueue(state, inbound).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(_) => field_error(
            "title",
            "sevtool could not take this right now; press File again in a moment.",
        ),
    }
}
