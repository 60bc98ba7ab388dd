//! Paging routes: page one team, or every team (mayday), for a SEV.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use crate::app::{PagingError, PagingService};
use crate::domain::Actor;
use crate::http::extract::{ApiJson, VisibleSev};
use crate::http::{ApiError, AppState};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/sevs/{id}/pages", post(page))
        .route("/api/sevs/{id}/mayday", post(mayday))
}

fn paging(state: &AppState) -> Result<&PagingService, ApiError> {
    state.paging.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "paging is off here: set SEVTOOL_TEAMS to a team catalog and restart",
        )
    })
}

impl From<PagingError> for ApiError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::App(app) => app.into(),
            other => ApiError::new(crate::http::status_of(other.kind()), other.to_string()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageBody {
    team: String,
    #[serde(default)]
    author: Option<String>,
}

/// `202`: the page is recorded and queued; its outcome shows on the SEV.
async fn page(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    ApiJson(body): ApiJson<PageBody>,
) -> Result<Response, ApiError> {
    let service = paging(&state)?;
    let author = caller.actor(body.author, Actor::API)?;
    let name = service.team(&body.team)?.name.clone();
    let p = service.page(id, &name, &author).await?;
    let status = if p.new { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(json!(p.page))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaydayBody {
    #[serde(default)]
    confirm: bool,
    #[serde(default)]
    author: Option<String>,
}

async fn mayday(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    ApiJson(body): ApiJson<MaydayBody>,
) -> Result<Response, ApiError> {
    let service = paging(&state)?;
    let author = caller.actor(body.author, Actor::API)?;
    let teams = service.mayday(id, body.confirm, &author).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "sev": id, "teams": teams }))).into_response())
}
