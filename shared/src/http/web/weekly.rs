//! The weekly SEV review on the web: the digest of a week, and a button that posts it to Slack
//! (the same post the Monday schedule makes).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::actions::form;
use super::pages::{app_error, when, with_cookie};
use crate::http::AppState;
use crate::http::Caller;
use crate::http::csrf;
use crate::http::render::{error_page, render};
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
) -> Response {
    let week = match week_or_last(&state, p.week.as_deref()) {
        Ok(w) => w,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let digest = match state.trends.weekly(week, caller.viewer()).await {
        Ok(d) => d,
        Err(e) => return app_error(e),
    };
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
    with_cookie(page, cookie)
}

#[derive(Deserialize)]
struct PostForm {
    week: String,
    submission: String,
}

async fn post_to_slack(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let f: PostForm = match form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let week = match week_or_last(&state, Some(&f.week)) {
        Ok(w) => w,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    // The submission id makes a double click or a resent form post once.
    match state.jobs.post_digest(week, &format!("web:{}", f.submission)).await {
        Ok(()) => Redirect::to(&format!("/weekly?week={week}&posted=1")).into_response(),
        Err(e) => app_error(e),
    }
}
