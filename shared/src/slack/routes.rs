//! The inbound HTTP routes, served by the `slack` Lambda and by `sevtool`: each request is
//! verified against the signing secret, then taken by the same [`Ingress`] as Socket Mode.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ingress::{Answer, Ingress, NOT_A_COMMAND, SlashCommand, UNAVAILABLE};
use super::{SignatureError, SigningSecret};

#[derive(Clone)]
pub struct SlackRoutes {
    pub secret: SigningSecret,
    pub ingress: Ingress,
}

pub fn router(state: SlackRoutes) -> axum::Router {
    axum::Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/events", post(events))
        .route("/slack/interactions", post(interactions))
        .with_state(state)
}

/// Checks Slack's signature on the raw body; never logs the body or the signature.
fn verify(state: &SlackRoutes, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureError> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let now = state.ingress.clock.now().timestamp();
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

fn respond(answer: Answer) -> Response {
    match answer {
        Answer::Taken(Some(body)) => Json(body).into_response(),
        Answer::Taken(None) => StatusCode::OK.into_response(),
        Answer::Malformed(what) => bad_request(what),
        Answer::Unavailable(body) => {
            let body = body.unwrap_or_else(|| json!({ "response_type": "ephemeral", "text": UNAVAILABLE }));
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}

async fn commands(State(state): State<SlackRoutes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = verify(&state, &headers, &body) {
        return unauthorized(e);
    }
    match serde_urlencoded::from_bytes::<SlashCommand>(&body) {
        Ok(cmd) => respond(state.ingress.command(cmd).await),
        Err(_) => bad_request(NOT_A_COMMAND),
    }
}

async fn events(State(state): State<SlackRoutes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = verify(&state, &headers, &body) {
        return unauthorized(e);
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(payload) => respond(state.ingress.event(&payload).await),
        Err(_) => bad_request("the event body is not JSON"),
    }
}

#[derive(Deserialize)]
struct InteractionForm {
    payload: String,
}

async fn interactions(State(state): State<SlackRoutes>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(e) = verify(&state, &headers, &body) {
        return unauthorized(e);
    }
    match serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .ok()
        .and_then(|f| serde_json::from_str::<Value>(&f.payload).ok())
    {
        Some(payload) => respond(state.ingress.interaction(&payload).await),
        None => bad_request("the interaction has no JSON `payload` field"),
    }
}
