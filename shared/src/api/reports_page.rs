//! `GET /reports`: the trend reports as one server-rendered page, charts inline as SVG. Every
//! piece of text people wrote (product tracks, tags) is escaped; the charts carry none.

use std::fmt::Write as _;

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

use super::extract::ApiQuery;
use super::reports::range;
use super::{ApiError, ApiState};
use crate::auth::Caller;
use crate::domain::Level;
use crate::reports::{self, Dimension, MonthRange, MonthRow, TopAnswer};

pub fn routes() -> axum::Router<ApiState> {
    axum::Router::new().route("/reports", get(page))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    since: Option<String>,
    until: Option<String>,
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn minutes(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |m| format!("{m:.0}"))
}

async fn page(
    State(state): State<ApiState>,
    caller: Caller,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Html<String>, ApiError> {
    let range = range(&state, p.since.as_deref(), p.until.as_deref())?;
    let who = caller.viewer();
    let sevs = state.reports.started_in(range).await?;
    let rows = reports::monthly(&sevs, range, who);
    let tracks = reports::top(&sevs, Dimension::ProductTrack, range, who, 5);
    let systems = reports::top(&sevs, Dimension::System, range, who, 5);
    let trend = state.reports.trend(Level::Sev1, 3, who).await?;
    let chart = |r: Result<String, String>| {
        r.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "chart not drawn");
            "<p>The chart could not be drawn.</p>".to_owned()
        })
    };
    Ok(Html(render(
        range,
        &rows,
        &chart(reports::counts_by_level(&rows)),
        &chart(reports::response_times(&rows)),
        &[&tracks, &systems],
        &trend.answer,
    )))
}

fn render(range: MonthRange, rows: &[MonthRow], counts: &str, times: &str, tops: &[&TopAnswer], trend: &str) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>SEV reports</title>\
         <style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}}</style></head><body>\
         <h1>SEV reports, {}</h1><p>Drills and private SEVs are left out.</p>",
        escape(&range.to_string())
    );
    let _ = write!(h, "<figure>{counts}</figure><figure>{times}</figure>");
    let _ = write!(h, "<h2>Is the SEV1 count declining?</h2><p>{}</p>", escape(trend));
    for top in tops {
        let _ = write!(
            h,
            "<h2>Most SEVs by {}</h2><p>{}</p><ol>",
            escape(&format!("{:?}", top.dimension)).to_lowercase(),
            escape(&top.answer)
        );
        for r in &top.top {
            let _ = write!(h, "<li>{}: {}</li>", escape(&r.key), r.count);
        }
        h.push_str("</ol>");
    }
    h.push_str("<h2>By month</h2><table><tr><th>month</th><th>total</th>");
    for l in Level::ALL {
        let _ = write!(h, "<th>{l}</th>");
    }
    h.push_str("<th>drills</th><th>mean minutes to detect</th><th>mean minutes to resolve</th></tr>");
    for r in rows {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td>", r.month, r.total);
        for l in Level::ALL {
            let _ = write!(h, "<td>{}</td>", r.by_level.get(&l).copied().unwrap_or(0));
        }
        let _ = write!(
            h,
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            r.drills,
            minutes(r.mttd_minutes),
            minutes(r.mttr_minutes)
        );
    }
    h.push_str("</table></body></html>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_people_wrote() {
        assert_eq!(escape("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
