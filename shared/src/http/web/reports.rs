//! `GET /reports`: the trend reports as one page in the site's layout, charts inline as SVG.
//! The charts are drawn by `reports::charts` from numbers only; everything people wrote (product
//! tracks, tags) goes through the template, which escapes it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::error::WebError;
use crate::domain::Level;
use crate::http::extract::{ApiQuery, month_range};
use crate::http::render::render;
use crate::http::{AppState, Caller};
use crate::reports::{self, Dimension, TopAnswer};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/reports", get(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    since: Option<String>,
    until: Option<String>,
}

#[derive(Serialize)]
struct Top<'a> {
    label: &'static str,
    answer: &'a str,
    rows: &'a [reports::Ranked],
}

#[derive(Serialize)]
struct Row {
    month: String,
    total: usize,
    levels: Vec<usize>,
    drills: usize,
    mttd: String,
    mttr: String,
}

fn minutes(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |m| format!("{m:.0}"))
}

fn top<'a>(answer: &'a TopAnswer, label: &'static str) -> Top<'a> {
    Top {
        label,
        answer: &answer.answer,
        rows: &answer.top,
    }
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Response, WebError> {
    let range = month_range(state.trends.now(), p.since.as_deref(), p.until.as_deref())
        .map_err(|e| WebError::Refused(e.status, e.message))?;
    let who = caller.viewer();
    let tallies = state.trends.tallies(range).await?;
    let trend = state.trends.trend(Level::Sev1, 3, who).await?;
    let months = reports::monthly(&tallies, range, who);
    let tracks = reports::top(&tallies, Dimension::ProductTrack, range, who, 5);
    let systems = reports::top(&tallies, Dimension::System, range, who, 5);
    let chart = |r: Result<String, String>| {
        r.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "chart not drawn");
            "<p>The chart could not be drawn.</p>".to_owned()
        })
    };
    let rows: Vec<Row> = months
        .iter()
        .map(|r| Row {
            month: r.month.to_string(),
            total: r.total,
            levels: Level::ALL
                .iter()
                .map(|l| r.by_level.get(l).copied().unwrap_or(0))
                .collect(),
            drills: r.drills,
            mttd: minutes(r.mttd_minutes),
            mttr: minutes(r.mttr_minutes),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        "reports.html",
        minijinja::context! {
            range => range.to_string(),
            private_counted => who.sees_private,
            counts => chart(reports::counts_by_level(&months)),
            times => chart(reports::response_times(&months)),
            trend => trend.answer,
            tops => [top(&tracks, "product track"), top(&systems, "system")],
            levels => Level::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            rows,
            who => caller.display_name(),
        },
    ))
}
