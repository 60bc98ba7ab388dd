use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::error::WebError;
use super::form::sev_id;
use super::web_actor;
use crate::app::ListFilter;
use crate::domain::actor::ActorKind;
use crate::domain::{Actor, EntryKind, Level, Sca, ScaState, Sev, Status, public_draft};
use crate::http::AppState;
use crate::http::Caller;
use crate::http::csrf;
use crate::http::etag::conditional;
use crate::http::render::render;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/", get(list))
        .route("/assets/live.js", get(live_js))
        .route("/sevs/new", get(new_form))
        .route("/sevs/{id}", get(show))
        .route("/status", get(status))
        .route("/scas", get(scas))
}

/// Sets the CSRF cookie on a page response when the request had none.
pub(super) fn with_cookie(mut response: Response, cookie: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

fn age(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - since;
    if d < Duration::hours(1) {
        format!("{}m", d.num_minutes().max(0))
    } else if d < Duration::days(2) {
        format!("{}h {}m", d.num_hours(), d.num_minutes() % 60)
    } else {
        format!("{}d", d.num_days())
    }
}

pub(super) fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn minutes(d: Option<Duration>) -> Option<String> {
    d.map(|d| format!("{}h {:02}m", d.num_hours(), d.num_minutes() % 60))
}

#[derive(Deserialize, Serialize, Default)]
struct ListParams {
    #[serde(default)]
    level: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    product_track: String,
    #[serde(default)]
    tag: String,
}

#[derive(Serialize)]
struct Row {
    id: String,
    title: String,
    level: Level,
    status: Status,
    drill: bool,
    age: String,
    coordinator: Option<Actor>,
}

/// The live pages' script: small, so it is compiled in and served with the pages.
async fn live_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("assets/live.js"),
    )
        .into_response()
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(params): Query<ListParams>,
) -> Result<Response, WebError> {
    let mut filter = ListFilter::default();
    if let Ok(l) = params.level.parse() {
        filter.levels.push(l);
    }
    if let Ok(s) = params.status.parse() {
        filter.statuses.push(s);
    }
    let tag = params.tag.parse::<crate::domain::Tag>().ok();
    let sevs = state.sevs.list(&filter).await?;
    let sevs = caller.access().retain(&state.sevs, sevs, |s| s.id).await?;
    let now = state.sevs.now();
    let track = params.product_track.trim().to_ascii_lowercase();
    let rows: Vec<Row> = sevs
        .into_iter()
        .filter(|s| {
            track.is_empty()
                || s.product_track
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(&track))
        })
        .filter(|s| tag.as_ref().is_none_or(|t| s.tags.iter().any(|x| x.is_under(t))))
        .map(|s| Row {
            id: s.id.to_string(),
            age: age(s.declared_at, now),
            title: s.title,
            level: s.level,
            status: s.status,
            drill: s.drill,
            coordinator: s.coordinator,
        })
        .collect();
    let page = render(
        StatusCode::OK,
        "list.html",
        minijinja::context! {
            sevs => rows, levels => Level::ALL, statuses => Status::ALL, filter => params, who => caller.display_name(),
        },
    );
    Ok(conditional(&headers, page).await)
}

#[derive(Serialize, Default, Clone)]
pub struct FormValues {
    pub title: String,
    pub level: String,
    pub description: String,
    pub private: bool,
}

#[derive(Serialize)]
struct LevelChoice {
    name: &'static str,
    criteria: &'static str,
}

/// The intake form; `values` refills it after a refused submit, so nothing typed is lost.
pub fn intake_page(
    status: StatusCode,
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    values: FormValues,
    error: Option<String>,
) -> Response {
    let (token, cookie) = csrf::token(headers, state.auth.secure_cookies());
    let levels: Vec<LevelChoice> = Level::ALL
        .iter()
        .map(|l| LevelChoice {
            name: l.as_str(),
            criteria: l.criteria(),
        })
        .collect();
    // A fresh id per rendering: submitting this form twice (a double click, a refresh) files once.
    let submission = format!("{:032x}", rand::random::<u128>());
    let mut page = render(
        status,
        "new.html",
        minijinja::context! { csrf => token, submission, levels, form => values, error, who => caller.display_name() },
    );
    // Cacheable in this browser only, so Back shows this same form, submission id and all, and
    // sending it again finds the SEV it filed instead of filing another.
    page.headers_mut()
        .insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("private"));
    with_cookie(page, cookie)
}

async fn new_form(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Response {
    intake_page(
        StatusCode::OK,
        &state,
        &caller,
        &headers,
        FormValues {
            level: "SEV2".into(),
            ..FormValues::default()
        },
        None,
    )
}

#[derive(Serialize)]
struct ScaRow {
    id: String,
    text: String,
    priority: String,
    owner: Actor,
    due: Option<String>,
    state: &'static str,
}

fn sca_row(s: &Sca) -> ScaRow {
    ScaRow {
        id: s.id.to_string(),
        text: s.text.clone(),
        priority: s.priority.to_string(),
        owner: s.owner.clone(),
        due: s.due.map(|d| d.format("%Y-%m-%d").to_string()),
        state: match s.state {
            ScaState::Open => "open",
            ScaState::Done { .. } => "done",
            ScaState::WontDo { .. } => "won't do",
        },
    }
}

#[derive(Serialize)]
struct FailedRow {
    step: String,
    reason: String,
    at: String,
}

#[derive(Serialize)]
struct PageRow {
    team: String,
    state: String,
    on_call: String,
    requested: String,
    error: Option<String>,
    /// "by <who> at <when>", once someone acknowledged it in the pager.
    acknowledged: Option<String>,
}

/// The catch-up at the top of the SEV page (see `app::CatchUp`); Slack sends the same to
/// whoever joins the response channel.
#[derive(Serialize)]
struct CatchUpView {
    age: String,
    /// `team (state)`.
    pages: Vec<String>,
    joined: Vec<String>,
    updates: Vec<EntryRow>,
    update_count: usize,
    open_scas: usize,
}

fn catch_up_view(detail: &crate::app::SevDetail, now: DateTime<Utc>) -> CatchUpView {
    let c = crate::app::CatchUp::of(detail, now);
    CatchUpView {
        age: c.age(),
        pages: c
            .pages
            .iter()
            .map(|p| format!("{} ({})", p.team, crate::app::page_state(p)))
            .collect(),
        joined: c.joined.to_vec(),
        updates: c
            .updates
            .iter()
            .map(|(at, author, text)| EntryRow {
                at: when(*at),
                author: (*author).clone(),
                summary: (*text).to_owned(),
            })
            .collect(),
        update_count: c.update_count,
        open_scas: c.open_scas.len(),
    }
}

#[derive(Serialize)]
struct EntryRow {
    at: String,
    author: Actor,
    summary: String,
}

fn moves(sev: &Sev) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|to| sev.status.check_move(*to).is_ok())
        .collect()
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id = sev_id(&id)?;
    let detail = caller.access().sev(&state.sevs, id).await?;
    let (token, cookie) = csrf::token(&headers, state.auth.secure_cookies());
    let timeline: Vec<EntryRow> = detail
        .timeline
        .iter()
        .map(|e| EntryRow {
            at: when(e.at),
            author: e.author.clone(),
            summary: e.summary(),
        })
        .collect();
    let public_updates: Vec<EntryRow> = detail
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::PublicUpdate { text, .. } => Some(EntryRow {
                at: when(e.at),
                author: e.author.clone(),
                summary: text.clone(),
            }),
            _ => None,
        })
        .collect();
    let draft = (!detail.sev.private).then(|| public_draft(&detail.sev));
    let failed: Vec<FailedRow> = detail
        .failed_tasks
        .iter()
        .map(|f| FailedRow {
            step: f.task.key.to_string(),
            reason: f.reason.clone(),
            at: when(f.failed_at),
        })
        .collect();
    let pages: Vec<PageRow> = detail
        .pages
        .iter()
        .map(|p| PageRow {
            team: p.team.clone(),
            state: format!("{:?}", p.state).to_lowercase(),
            on_call: p
                .on_call
                .iter()
                .map(|o| o.name.clone().unwrap_or_else(|| o.email.clone()))
                .collect::<Vec<_>>()
                .join(", "),
            requested: format!("{} by {}", when(p.requested_at), p.requested_by),
            error: p.error.clone(),
            acknowledged: p.acknowledged_at.map(|at| {
                let by = p.acknowledged_by.as_deref().unwrap_or("someone");
                format!("by {by} at {}", when(at))
            }),
        })
        .collect();
    let teams: Vec<String> = state
        .paging
        .as_ref()
        .map(|p| p.catalog().teams().iter().map(|t| t.name.clone()).collect())
        .unwrap_or_default();
    let suggested = state
        .paging
        .as_ref()
        .map(|p| p.suggested(&detail.sev, &detail.pages))
        .unwrap_or_default();
    let report_state = match state.sev_reports.stored(id).await? {
        None => "not drafted yet (it is when someone owns the report)".to_owned(),
        Some(s) => match s.report.completed_at() {
            Some(at) => format!("complete since {}", when(at)),
            None => format!(
                "draft, last edited by {} at {}",
                s.report.updated_by,
                when(s.report.updated_at)
            ),
        },
    };
    let page = render(
        StatusCode::OK,
        "sev.html",
        minijinja::context! {
            catch_up => catch_up_view(&detail, state.sevs.now()),
            sev => detail.sev,
            started => when(detail.sev.started_at),
            detected => when(detail.sev.detected_at),
            declared => when(detail.sev.declared_at),
            ttd => minutes(Some(detail.sev.time_to_detect())),
            ttr => minutes(detail.sev.time_to_resolve()),
            moves => moves(&detail.sev),
            levels => Level::ALL,
            scas => detail.scas.iter().map(sca_row).collect::<Vec<_>>(),
            timeline,
            public_updates,
            draft,
            may_publish => detail.sev.may_publish(&web_actor(&caller)),
            status_page => detail.status_page,
            failed,
            pages,
            teams,
            suggested,
            paging_on => state.paging.is_some(),
            muster => detail.muster,
            report_state,
            csrf => token,
            who => caller.display_name(),
        },
    );
    Ok(conditional(&headers, with_cookie(page, cookie)).await)
}

#[derive(Deserialize, Default)]
struct ScaParams {
    #[serde(default)]
    owner: Option<String>,
}

/// "My open SCAs" (the signed-in person's, or `?owner=` on the open server) and every overdue
/// one, soonest due first: the web twin of `/sev scas` and `/sev scas overdue`.
async fn scas(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ScaParams>,
) -> Result<Response, WebError> {
    // Someone signed in with the token as `web:ada` also owns what was assigned to plain "ada"
    // (a typed owner): only for this list, never for who may see a private SEV.
    let owners: Vec<String> = match &caller {
        Caller::Person(p) => match p.id.kind() {
            ActorKind::Person(name) => vec![p.id.to_string(), name.to_owned()],
            _ => vec![p.id.to_string()],
        },
        _ => params
            .owner
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .into_iter()
            .collect(),
    };
    let mut mine = Ok(Vec::new());
    for owner in &owners {
        mine = match (mine, state.scas.open_for(owner).await) {
            (Ok(mut all), Ok(more)) => {
                all.extend(more);
                Ok(all)
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
    }
    let mine = mine.map(|mut all| {
        all.sort_by_key(|s| (s.due.is_none(), s.due));
        all
    });
    let now = state.sevs.now();
    let overdue = state
        .scas
        .overdue()
        .await
        .map(|all| all.into_iter().filter(|s| s.is_overdue(now)).collect::<Vec<_>>());
    let (mine, overdue) = (mine?, overdue?);
    let access = caller.access();
    let visible = |list| access.retain(&state.sevs, list, |s: &Sca| s.sev);
    let (mine, overdue) = (visible(mine).await?, visible(overdue).await?);
    let rows = |list: Vec<Sca>| list.iter().map(|s| (s.sev.to_string(), sca_row(s))).collect::<Vec<_>>();
    Ok(render(
        StatusCode::OK,
        "scas.html",
        minijinja::context! {
            owner => owners.first(), mine => rows(mine), overdue => rows(overdue),
            signed_in => matches!(caller, Caller::Person(_)), who => caller.display_name(),
        },
    ))
}

#[derive(Serialize)]
struct HealthRow {
    id: String,
    title: String,
    level: Level,
    status: Status,
    failed: usize,
}

/// The integration status page: each active SEV's failed steps, with a link to retry them.
async fn status(State(state): State<AppState>, caller: Caller) -> Result<Response, WebError> {
    let health = state.sevs.health().await?;
    let health = caller.access().retain(&state.sevs, health, |(s, _)| s.id).await?;
    let rows: Vec<HealthRow> = health
        .into_iter()
        .map(|(s, failed)| HealthRow {
            id: s.id.to_string(),
            title: s.title,
            level: s.level,
            status: s.status,
            failed,
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        "status.html",
        minijinja::context! {
            sevs => rows,
            paging_on => state.paging.is_some(),
            socket_mode => state.slack_link.as_ref().map(|l| l.get().describe()),
            who => caller.display_name(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ages_read_at_a_glance() {
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        assert_eq!(age(t, t + Duration::minutes(12)), "12m");
        assert_eq!(age(t, t + Duration::minutes(135)), "2h 15m");
        assert_eq!(age(t, t + Duration::days(9)), "9d");
    }
}
