//! Form posts. The extractors ([`CsrfForm`], [`SevForm`], [`ScaForm`]) have checked the CSRF
//! token and who may see what before a handler runs; each handler acts through the application
//! services and answers with a redirect back to the page (post/redirect/get), so a refresh never
//! repeats an action.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use super::error::WebError;
use super::form::{CsrfForm, ScaForm, SevForm};
use super::pages::{FormValues, intake_page};
use super::web_actor;
use crate::app::{AppError, FileRequest, NewSca, PagingService};
use crate::domain::{
    Actor, Level, NewSev, Priority, ScaPatch, ScaSource, ScaStateName, SevId, SevPatch, Status, Timestamp,
};
use crate::http::{AppState, Caller};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/sevs", post(file))
        .route("/sevs/{id}/updates", post(update))
        .route("/sevs/{id}/status", post(status))
        .route("/sevs/{id}/fields", post(fields))
        .route("/sevs/{id}/scas", post(add_sca))
        .route("/scas/{id}/done", post(sca_done))
        .route("/scas/{id}/owner", post(sca_owner))
        .route("/sevs/{id}/pages", post(page_team))
        .route("/sevs/{id}/mayday", post(mayday))
        .route("/sevs/{id}/retry", post(retry))
}

pub(super) fn back_to(id: SevId) -> Response {
    Redirect::to(&format!("/sevs/{id}")).into_response()
}

fn blank_to_none(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[derive(Deserialize)]
struct FileForm {
    submission: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    private: Option<String>,
}

async fn file(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<FileForm>,
) -> Result<Response, WebError> {
    let values = FormValues {
        title: f.title.clone(),
        level: f.level.clone(),
        description: f.description.clone(),
        private: f.private.is_some(),
    };
    // A mistake is shown on the form itself, with what was typed kept.
    let again = |values, e: String| {
        WebError::page(intake_page(
            StatusCode::BAD_REQUEST,
            &state,
            &caller,
            &headers,
            values,
            Some(e),
        ))
    };
    let level = f
        .level
        .parse::<Level>()
        .map_err(|e| again(values.clone(), e.to_string()))?;
    let new = NewSev {
        title: f.title,
        level: Some(level),
        description: blank_to_none(Some(f.description)),
        private: f.private.is_some(),
        ..NewSev::default()
    };
    let request = FileRequest {
        new,
        reporter: web_actor(&caller),
        idempotency_key: Some(format!("web:{}", f.submission)),
    };
    match state.sevs.file(request).await {
        Ok((sev, _)) => Ok(Redirect::to(&format!("/sevs/{}", sev.id)).into_response()),
        Err(AppError::Domain(e)) => Err(again(values, e.to_string())),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    text: String,
    /// The "public" checkbox: present when ticked.
    #[serde(default)]
    public: Option<String>,
}

async fn update(State(state): State<AppState>, post: SevForm<UpdateForm>) -> Result<Response, WebError> {
    let SevForm { id, form, caller } = post;
    if form.public.is_some() {
        state
            .sevs
            .post_public_update(id, &form.text, web_actor(&caller))
            .await?;
    } else {
        state.sevs.post_update(id, &form.text, web_actor(&caller)).await?;
    }
    Ok(back_to(id))
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn status(State(state): State<AppState>, post: SevForm<StatusForm>) -> Result<Response, WebError> {
    let SevForm { id, form, caller } = post;
    let to = form.status.parse::<Status>()?;
    state
        .sevs
        .set_status(id, to, blank_to_none(form.reason), web_actor(&caller))
        .await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
struct FieldsForm {
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    coordinator: Option<String>,
    #[serde(default)]
    report_owner: Option<String>,
    #[serde(default)]
    comms_lead: Option<String>,
    /// Comma-separated: the form has one box for every deputy.
    #[serde(default)]
    deputies: Option<String>,
    #[serde(default)]
    product_track: Option<String>,
    #[serde(default)]
    add_tag: Option<String>,
    #[serde(default)]
    remove_tag: Option<String>,
    /// `datetime-local` values, read as UTC (the page labels them so).
    #[serde(default)]
    started_at: Option<String>,
    #[serde(default)]
    detected_at: Option<String>,
    /// What the page showed for each field, so that a field left as it was changes nothing even
    /// when the SEV changed since the page was drawn (someone else's edit is not undone).
    #[serde(default)]
    level_was: Option<String>,
    #[serde(default)]
    coordinator_was: Option<String>,
    #[serde(default)]
    report_owner_was: Option<String>,
    #[serde(default)]
    comms_lead_was: Option<String>,
    #[serde(default)]
    deputies_was: Option<String>,
    #[serde(default)]
    product_track_was: Option<String>,
}

/// The field's value if the person changed it from what the page showed, else `None`.
fn edited(value: Option<String>, was: Option<String>) -> Option<String> {
    match (value, was) {
        (Some(v), Some(w)) if v.trim() == w.trim() => None,
        (value, _) => value,
    }
}

/// A `datetime-local` field (`2026-07-01T09:30`) as UTC; blank leaves the time alone.
fn utc_field(name: &'static str, raw: Option<String>) -> Result<Option<Timestamp>, WebError> {
    match blank_to_none(raw) {
        None => Ok(None),
        Some(v) => {
            let t = chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M").map_err(|_| {
                WebError::bad_request(format!("{name}: that is not a time; use 2026-07-01T09:30 (UTC)"))
            })?;
            Ok(Some(Timestamp::new(name, t.and_utc())?))
        }
    }
}

/// Saves the fields form: blank fields clear, unchanged ones change nothing.
async fn fields(State(state): State<AppState>, post: SevForm<FieldsForm>) -> Result<Response, WebError> {
    let SevForm { id, form: f, caller } = post;
    let level = edited(f.level, f.level_was);
    let level = level.as_deref().map(str::parse::<Level>).transpose()?;
    let add_tags = blank_to_none(f.add_tag).map(|t| t.parse()).transpose()?;
    let remove_tags = blank_to_none(f.remove_tag).map(|t| t.parse()).transpose()?;
    let started_at = utc_field("started", f.started_at)?;
    let detected_at = utc_field("detected", f.detected_at)?;
    let patch = SevPatch {
        level,
        coordinator: edited(f.coordinator, f.coordinator_was).map(|c| blank_to_none(Some(c)).map(Actor::from)),
        report_owner: edited(f.report_owner, f.report_owner_was).map(|c| blank_to_none(Some(c)).map(Actor::from)),
        comms_lead: edited(f.comms_lead, f.comms_lead_was).map(|c| blank_to_none(Some(c)).map(Actor::from)),
        deputies: edited(f.deputies, f.deputies_was).map(|d| {
            d.split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| Actor::from(d.to_owned()))
                .collect()
        }),
        product_track: edited(f.product_track, f.product_track_was).map(|c| blank_to_none(Some(c))),
        add_tags: add_tags.into_iter().collect(),
        remove_tags: remove_tags.into_iter().collect(),
        started_at,
        detected_at,
        ..SevPatch::default()
    };
    state.sevs.patch(id, patch, web_actor(&caller)).await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
struct NewScaForm {
    text: String,
    priority: String,
    #[serde(default)]
    owner: Option<String>,
}

async fn add_sca(State(state): State<AppState>, post: SevForm<NewScaForm>) -> Result<Response, WebError> {
    let SevForm { id, form: f, caller } = post;
    let new = NewSca {
        text: f.text,
        priority: f.priority.parse::<Priority>()?,
        owner: blank_to_none(f.owner).map(Actor::from),
        due: None,
        ticket: None,
        source: ScaSource::Web,
    };
    state.scas.create(id, new, web_actor(&caller)).await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
pub(super) struct Empty {}

#[derive(Deserialize)]
struct OwnerForm {
    owner: String,
}

/// Hands an SCA to someone else; its nags follow the new owner.
async fn sca_owner(State(state): State<AppState>, post: ScaForm<OwnerForm>) -> Result<Response, WebError> {
    let ScaForm { id, form, caller } = post;
    let owner = blank_to_none(Some(form.owner))
        .ok_or_else(|| WebError::bad_request("owner: say who takes this corrective action over"))?;
    let patch = ScaPatch {
        owner: Some(Actor::from(owner)),
        ..ScaPatch::default()
    };
    let sca = state.scas.update(id, patch, web_actor(&caller)).await?;
    Ok(back_to(sca.sev))
}

async fn sca_done(State(state): State<AppState>, post: ScaForm<Empty>) -> Result<Response, WebError> {
    let ScaForm { id, caller, .. } = post;
    let patch = ScaPatch {
        state: Some((ScaStateName::Done, None)),
        ..ScaPatch::default()
    };
    let sca = state.scas.update(id, patch, web_actor(&caller)).await?;
    Ok(back_to(sca.sev))
}

#[derive(Deserialize)]
struct PageForm {
    team: String,
}

/// The paging service, or the page that says paging is off here.
fn paging(state: &AppState) -> Result<&PagingService, WebError> {
    state.paging.as_ref().ok_or_else(|| {
        WebError::Refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "paging is off here: set SEVTOOL_TEAMS to a team catalog and restart".into(),
        )
    })
}

async fn page_team(State(state): State<AppState>, post: SevForm<PageForm>) -> Result<Response, WebError> {
    let SevForm { id, form, caller } = post;
    let service = paging(&state)?;
    let team = service.team(&form.team)?.name.clone();
    service.page(id, &team, &web_actor(&caller)).await?;
    Ok(back_to(id))
}

#[derive(Deserialize)]
struct MaydayForm {
    #[serde(default)]
    confirm: Option<String>,
}

/// Pages every team's on-call; the form's confirm box is the confirm step.
async fn mayday(State(state): State<AppState>, post: SevForm<MaydayForm>) -> Result<Response, WebError> {
    let SevForm { id, form, caller } = post;
    paging(&state)?
        .mayday(id, form.confirm.is_some(), &web_actor(&caller))
        .await?;
    Ok(back_to(id))
}

async fn retry(State(state): State<AppState>, post: SevForm<Empty>) -> Result<Response, WebError> {
    state.sevs.retry_failed(post.id).await?;
    Ok(back_to(post.id))
}
