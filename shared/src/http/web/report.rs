//! The SEV report editor: the stored report (or the template filled in now, until one is saved)
//! in a Markdown text area, saved against the version it was loaded at. A save that lost a race
//! shows the editor again with the person's text kept, so nothing they typed is lost.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::actions::{Empty, back_to};
use super::error::WebError;
use super::form::{SevForm, sev_id};
use super::pages::{when, with_cookie};
use super::web_actor;
use crate::app::AppError;
use crate::domain::{MAX_REPORT_BYTES, SevId, unwritten_sections};
use crate::http::AppState;
use crate::http::Caller;
use crate::http::csrf;
use crate::http::render::render;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/sevs/{id}/report", get(editor).post(save))
        .route("/sevs/{id}/report/complete", post(complete))
}

/// Form encoding triples some characters; the domain checks the decoded size.
const MAX_FORM_BYTES: usize = 3 * MAX_REPORT_BYTES;

/// What the editor shows besides the text: set when a save or completion was refused.
#[derive(Default)]
struct Notice {
    error: Option<String>,
    /// The text the person sent, kept when their save was refused.
    kept: Option<String>,
}

async fn page(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: SevId,
    status: StatusCode,
    notice: Notice,
) -> Result<Response, WebError> {
    let detail = caller.access().sev(&state.sevs, id).await?;
    let stored = state.sev_reports.stored(id).await?;
    let (markdown, version) = match &stored {
        Some(s) => (s.report.markdown.clone(), s.version),
        None => (state.sev_reports.filled_template(id).await?, 0),
    };
    let text = notice.kept.unwrap_or(markdown);
    let (token, cookie) = csrf::token(headers, state.auth.secure_cookies());
    let page = render(
        status,
        "report.html",
        minijinja::context! {
            sev => detail.sev,
            stored => stored.as_ref().map(|s| &s.report),
            updated => stored.as_ref().map(|s| when(s.report.updated_at)),
            completed => stored.as_ref().and_then(|s| s.report.completed_at()).map(when),
            version,
            text,
            unwritten => unwritten_sections(&text),
            error => notice.error,
            max_bytes => MAX_REPORT_BYTES,
            csrf => token,
            who => caller.display_name(),
        },
    );
    Ok(with_cookie(page, cookie))
}

async fn editor(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    page(
        &state,
        &caller,
        &headers,
        sev_id(&id)?,
        StatusCode::OK,
        Notice::default(),
    )
    .await
}

#[derive(Deserialize)]
struct SaveForm {
    markdown: String,
    version: u64,
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    post: SevForm<SaveForm, MAX_FORM_BYTES>,
) -> Result<Response, WebError> {
    let SevForm { id, form, caller } = post;
    match state
        .sev_reports
        .edit(id, &form.markdown, Some(form.version), web_actor(&caller))
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/sevs/{id}/report")).into_response()),
        Err(e @ (AppError::StaleReport { .. } | AppError::Domain(_))) => {
            let status = if matches!(e, AppError::StaleReport { .. }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            let notice = Notice {
                error: Some(e.to_string()),
                kept: Some(form.markdown),
            };
            page(&state, &caller, &headers, id, status, notice).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    post: SevForm<Empty>,
) -> Result<Response, WebError> {
    let SevForm { id, caller, .. } = post;
    match state.sev_reports.complete(id, web_actor(&caller)).await {
        Ok(_) => Ok(back_to(id)),
        Err(e @ (AppError::Domain(_) | AppError::NoReport(_))) => {
            let notice = Notice {
                error: Some(e.to_string()),
                kept: None,
            };
            page(&state, &caller, &headers, id, StatusCode::BAD_REQUEST, notice).await
        }
        Err(e) => Err(e.into()),
    }
}
