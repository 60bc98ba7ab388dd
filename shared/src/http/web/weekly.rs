//! The weekly SEV review on the web: the digest of a week, and a button that posts it to Slack
//! (the same post the Monday schedule makes).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::error::WebError;
use super::form::CsrfForm;
use super::pages::{when, with_cookie};
use crate::http::AppState;
use crate::http::Caller;
use crate::http::csrf;
use crate::http::render::render;
use crate::reports::IsoWeek;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/weekly", get(show))
        .route("/weekly/post", post(post_to_slack))
}

#[derive(Deserialize, Default)]
struct WeekParams {
    #[serde(default)]
    week: Option<String>,
    #[serde(default)]
    posted: Option<String>,
}

fn week_or_last(state: &AppState, raw: Option<&str>) -> Result<IsoWeek, String> {
    match raw.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => w.parse().map_err(|e: crate::domain::DomainError| e.to_string()),
        None => Ok(IsoWeek::of(state.trends.now()).prev()),
    }
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(p): Query<WeekParams>,
) -> Result<Response, WebError> {
    let week = week_or_last(&state, p.week.as_deref()).map_err(WebError::bad_request)?;
    let digest = state.trends.weekly(week, caller.viewer()).await?;
    let (token, cookie) = csrf::token(&headers, state.auth.secure_cookies());
    let total: usize = digest.by_level.values().map(Vec::len).sum();
    let completed: Vec<(String, &crate::reports::ReportLine)> = digest
        .reports_completed
        .iter()
        .map(|r| (when(r.completed_at), r))
        .collect();
    let page = render(
        StatusCode::OK,
        "weekly.html",
        minijinja::context! {
            digest => &digest,
            total,
            completed,
            prev => digest.week.prev(),
            next => digest.week.next(),
            posted => p.posted.is_some(),
            submission => format!("{:032x}", rand::random::<u128>()),
            csrf => token,
            who => caller.display_name(),
        },
    );
    Ok(with_cookie(page, cookie))
}

#[derive(Deserialize)]
struct PostForm {
    week: String,
    submission: String,
}

async fn post_to_slack(State(state): State<AppState>, CsrfForm(f): CsrfForm<PostForm>) -> Result<Response, WebError> {
    let week = week_or_last(&state, Some(&f.week)).map_err(WebError::bad_request)?;
    // The submission id makes a double click or a resent form post once.
    state.jobs.post_digest(week, &format!("web:{}", f.submission)).await?;
    Ok(Redirect::to(&format!("/weekly?week={week}&posted=1")).into_response())
}
