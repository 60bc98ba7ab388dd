//! `/api/reports/...`: trend numbers as JSON.
//!
//! Private SEVs count only for callers who may see them all (see [`Caller::viewer`]).

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::Level;
use crate::http::Caller;
use crate::http::extract::{ApiQuery, month_range};
use crate::http::{ApiError, AppState};
use crate::reports::{Dimension, MAX_MONTHS};

/// Months a report covers when the query names none: the last year, this month included.
const DEFAULT_TOP: usize = 10;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/reports/monthly", get(monthly))
        .route("/api/reports/top", get(top))
        .route("/api/reports/trend", get(trend))
        .route("/api/reports/scas", get(scas))
        .route("/api/reports/weekly", get(weekly))
        .route("/api/reports/weekly/post", axum::routing::post(post_weekly))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeParams {
    since: Option<String>,
    until: Option<String>,
}

async fn monthly(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Json<Value>, ApiError> {
    let range = month_range(state.trends.now(), p.since.as_deref(), p.until.as_deref())?;
    let months = state.trends.monthly(range, caller.viewer()).await?;
    Ok(Json(json!({ "months": months })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopParams {
    dimension: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
}

async fn top(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<TopParams>,
) -> Result<Json<Value>, ApiError> {
    let dimension: Dimension = p
        .dimension
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("dimension: is required; use product_track, tag, system or team"))?
        .parse()?;
    let limit = match p.limit.as_deref() {
        None => DEFAULT_TOP,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("limit: `{raw}` is not a number from 1 to 1000")))?,
    };
    let range = month_range(state.trends.now(), p.since.as_deref(), p.until.as_deref())?;
    let answer = state.trends.top(dimension, range, caller.viewer(), limit).await?;
    Ok(Json(json!(answer)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrendParams {
    level: Option<String>,
    months: Option<String>,
}

async fn trend(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<TrendParams>,
) -> Result<Json<Value>, ApiError> {
    let level: Level = p.level.as_deref().unwrap_or("SEV1").parse()?;
    let months = match p.months.as_deref() {
        None => 3,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (2..=MAX_MONTHS).contains(n))
            .ok_or_else(|| ApiError::bad_request(format!("months: `{raw}` is not a number from 2 to {MAX_MONTHS}")))?,
    };
    let trend = state.trends.trend(level, months, caller.viewer()).await?;
    Ok(Json(json!(trend)))
}

async fn scas(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Json<Value>, ApiError> {
    let range = month_range(state.trends.now(), p.since.as_deref(), p.until.as_deref())?;
    Ok(Json(json!(state.trends.scas(range, caller.viewer()).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeekParams {
    week: Option<String>,
}

/// `week` defaults to the last complete week, the one a Monday review looks back on.
async fn weekly(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<WeekParams>,
) -> Result<Json<Value>, ApiError> {
    let week = match p.week.as_deref() {
        Some(w) => w.parse()?,
        None => crate::reports::IsoWeek::of(state.trends.now()).prev(),
    };
    Ok(Json(json!(state.trends.weekly(week, caller.viewer()).await?)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PostWeekBody {
    week: Option<String>,
}

/// Posts the digest to Slack's digest channel (202: queued). An `Idempotency-Key` makes a retried
/// request post once; without one every request posts. The posted digest leaves private SEVs
/// out whoever asks, since everyone in the channel reads it.
async fn post_weekly(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let body: PostWeekBody = crate::http::extract::optional_json(&body)?;
    let week = match body.week.as_deref() {
        Some(w) => w.parse()?,
        None => crate::reports::IsoWeek::of(state.trends.now()).prev(),
    };
    let request = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(key) if !key.trim().is_empty() => format!("api:{}", key.trim()),
        _ => format!("api:{}", state.trends.now().timestamp_micros()),
    };
    state.jobs.post_digest(week, &request).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(json!({ "week": week, "posting": true })),
    ))
}
