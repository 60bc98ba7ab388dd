use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::NewSca;
use crate::domain::{Actor, Priority, ScaId, ScaPatch, ScaSource, ScaStateName, Timestamp};
use crate::http::Caller;
use crate::http::extract::{ApiJson, ApiQuery, VisibleSev, present};
use crate::http::{ApiError, AppState};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/sevs/{id}/scas", post(create))
        .route("/api/scas", get(list))
        .route("/api/scas/{id}", get(show).patch(update))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    text: String,
    priority: Priority,
    #[serde(default)]
    owner: Option<Actor>,
    #[serde(default)]
    due: Option<Timestamp>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    author: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    VisibleSev { id: sev, caller }: VisibleSev,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    let new = NewSca {
        text: body.text,
        priority: body.priority,
        owner: body.owner,
        due: body.due,
        ticket: body.ticket,
        source: ScaSource::Api,
    };
    let author = caller.actor(body.author, Actor::API)?;
    let sca = state.scas.create(sev, new, author).await?;
    Ok((StatusCode::CREATED, Json(sca)).into_response())
}

async fn show(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = id.parse::<ScaId>()?;
    let sca = caller.access().sca(&state.sevs, &state.scas, id).await?;
    Ok(Json(json!(sca)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    priority: Option<Priority>,
    #[serde(default)]
    owner: Option<Actor>,
    #[serde(default, deserialize_with = "present")]
    due: Option<Option<Timestamp>>,
    #[serde(default, deserialize_with = "present")]
    ticket: Option<Option<String>>,
    #[serde(default)]
    state: Option<ScaStateName>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    author: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<Value>, ApiError> {
    let id: ScaId = id.parse()?;
    if body.reason.is_some() && body.state.is_none() {
        return Err(ApiError::bad_request("reason: goes with \"state\": \"wont_do\""));
    }
    let patch = ScaPatch {
        text: body.text,
        priority: body.priority,
        owner: body.owner,
        due: body.due,
        ticket: body.ticket,
        state: body.state.map(|s| (s, body.reason)),
    };
    if patch.text.is_none()
        && patch.priority.is_none()
        && patch.owner.is_none()
        && patch.due.is_none()
        && patch.ticket.is_none()
        && patch.state.is_none()
    {
        return Err(ApiError::bad_request(
            "nothing to change: send one or more of text, priority, owner, due, ticket, state (open, done, wont_do with a reason)",
        ));
    }
    let author = caller.actor(body.author, Actor::API)?;
    caller.access().sca(&state.sevs, &state.scas, id).await?;
    let sca = state.scas.update(id, patch, author).await?;
    Ok(Json(json!(sca)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    owner: Option<String>,
    #[serde(default)]
    overdue: bool,
}

/// `?owner=U1`: that person's open SCAs; `?overdue=true`: every overdue SCA (with `owner`, theirs).
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Value>, ApiError> {
    let mut scas = match (&params.owner, params.overdue) {
        (Some(owner), _) => state.scas.open_for(owner).await?,
        (None, true) => state.scas.overdue().await?,
        (None, false) => return Err(ApiError::bad_request("give owner=<person> and/or overdue=true")),
    };
    if params.overdue {
        let now = state.sevs.now();
        scas.retain(|s| s.is_overdue(now));
    }
    let scas = caller.access().retain(&state.sevs, scas, |s| s.sev).await?;
    Ok(Json(json!({ "scas": scas })))
}
