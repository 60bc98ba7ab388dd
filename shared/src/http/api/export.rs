//! `GET /api/export?format=csv|jsonl`: SEVs for the data lake, columns as in `transfer::COLUMNS`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use crate::http::Caller;
use crate::http::extract::ApiQuery;
use crate::http::{ApiError, AppState};
use crate::reports::{MAX_MONTHS, Month};
use crate::transfer::{self, Format};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/api/export", get(export))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    format: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

async fn export(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<impl IntoResponse, ApiError> {
    let format: Format = p
        .format
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("format: is required; use csv or jsonl"))?
        .parse()?;
    // Without `since`, the longest range a report allows, ending with `until`.
    let since = match p.since {
        Some(s) => Some(s),
        None => {
            let until = match p.until.as_deref() {
                Some(u) => u.parse::<Month>()?,
                None => Month::of(state.transfer.now()),
            };
            Some(until.last(MAX_MONTHS).first.to_string())
        }
    };
    let range = crate::http::extract::month_range(state.transfer.now(), since.as_deref(), p.until.as_deref())?;
    let sevs = state.transfer.export(range, caller.viewer()).await?;
    let mut body = Vec::new();
    transfer::write(&sevs, format, &mut body).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("export failed: {e}"),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], body))
}
