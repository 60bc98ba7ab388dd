//! `/api/sevs/{id}/report`: the SEV report. GET answers Markdown (the stored report, else the
//! template filled in now), or the stored report as JSON with its `version` when the caller
//! accepts JSON; PUT saves an edit of a named version; `/complete` marks it ready for review.

use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::app::AppError;
use crate::domain::{Actor, MAX_REPORT_BYTES, Report};
use crate::http::extract::{VisibleSev, json_body, optional_json, parse_json};
use crate::http::{ApiError, AppState};
use crate::store::StoredReport;

/// A report's JSON escapes quotes and newlines; room for the largest report the domain allows.
const REPORT_BODY_BYTES: usize = 3 * MAX_REPORT_BYTES;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/sevs/{id}/report", get(show).put(save))
        .route("/api/sevs/{id}/report/complete", post(complete))
}

/// A stored report as the API and the web page show it.
#[derive(Serialize)]
pub struct ReportView {
    #[serde(flatten)]
    pub report: Report,
    pub version: u64,
}

impl From<StoredReport> for ReportView {
    fn from(s: StoredReport) -> Self {
        ReportView {
            report: s.report,
            version: s.version,
        }
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

async fn show(
    State(state): State<AppState>,
    VisibleSev { id, .. }: VisibleSev,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let stored = state.sev_reports.stored(id).await?;
    if wants_json(&headers) {
        let stored = stored.ok_or(AppError::NoReport(id))?;
        return Ok(Json(ReportView::from(stored)).into_response());
    }
    let markdown = match stored {
        Some(s) => s.report.markdown,
        None => state.sev_reports.filled_template(id).await?,
    };
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], markdown).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    markdown: String,
    /// The version this edit started from; absent or 0 only while there is no report yet.
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    author: Option<String>,
}

/// The report body is larger than other JSON bodies, so it has its own extractor limit.
struct ReportBody(SaveBody);

impl<S: Send + Sync> FromRequest<S> for ReportBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let body = json_body(req, REPORT_BODY_BYTES).await?;
        parse_json(&body).map(ReportBody)
    }
}

async fn save(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    ReportBody(body): ReportBody,
) -> Result<Json<ReportView>, ApiError> {
    let author = caller.actor(body.author, Actor::API)?;
    let saved = state.sev_reports.edit(id, &body.markdown, body.version, author).await?;
    Ok(Json(saved.into()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    #[serde(default)]
    author: Option<String>,
}

async fn complete(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    body: axum::body::Bytes,
) -> Result<Json<ReportView>, ApiError> {
    // `{"author": "..."}` for scripts on the open server; nothing otherwise.
    let body: CompleteBody = optional_json(&body)?;
    let author = caller.actor(body.author, Actor::API)?;
    Ok(Json(state.sev_reports.complete(id, author).await?.into()))
}
