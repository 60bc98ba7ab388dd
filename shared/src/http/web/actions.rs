//! Form posts. Each checks the CSRF token, acts through the application services, and answers
//! with a redirect back to the page (post/redirect/get), so a refresh never repeats an action.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::pages::{FormValues, app_error, intake_page};
use super::web_actor;
use crate::app::{FileRequest, NewSca};
use crate::domain::{
    Actor, Level, NewSev, Priority, ScaId, ScaPatch, ScaSource, ScaStateName, SevId, SevPatch, Status, Timestamp,
};
use crate::http::Caller;
use crate::http::csrf;
use crate::http::render::error_page;
use crate::http::{AppState, MAX_BODY_BYTES};

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

/// Why a form post was refused before it reached a service; shown as an error page.
pub(super) struct Refusal(pub(super) StatusCode, pub(super) String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error_page(self.0, &self.1)
    }
}

/// A form body, checked for type, size and the CSRF token before anything acts on it.
pub(super) fn form<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, Refusal> {
    form_within(headers, body, MAX_BODY_BYTES)
}

/// [`form`] for the one form that carries more than a few lines (the report editor).
fn form_within<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes, limit: usize) -> Result<T, Refusal> {
    let refuse = |status, text: &str| Err(Refusal(status, text.to_owned()));
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send this form from the page it belongs to",
        );
    }
    if body.len() > limit {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "that is more text than a form takes; shorten it",
        );
    }
    #[derive(Deserialize)]
    struct Token {
        #[serde(default)]
        csrf: String,
    }
    let token: Token = serde_urlencoded::from_bytes(body).unwrap_or(Token { csrf: String::new() });
    if !csrf::valid(headers, &token.csrf) {
        let expired = "this form has expired or came from another site; reload the page and try again";
        return refuse(StatusCode::FORBIDDEN, expired);
    }
    serde_urlencoded::from_bytes(body)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("the form is incomplete: {e}")))
}

/// The prologue of every form posted about a SEV: its id, the checked form, and the caller's
/// right to see the SEV. The error is the page to answer with.
pub(super) async fn sev_form<T: DeserializeOwned>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    raw_id: &str,
    body: &Bytes,
) -> Result<(SevId, T), Response> {
    sev_form_within(state, caller, headers, raw_id, body, MAX_BODY_BYTES).await
}

/// [`sev_form`] with its own size limit (the report editor).
pub(super) async fn sev_form_within<T: DeserializeOwned>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    raw_id: &str,
    body: &Bytes,
    limit: usize,
) -> Result<(SevId, T), Response> {
    let (id, f) = match (sev_id(raw_id), form_within::<T>(headers, body, limit)) {
        (Ok(id), Ok(f)) => (id, f),
        (Err(r), _) | (_, Err(r)) => return Err(r.into_response()),
    };
    caller.access().check(&state.sevs, id).await.map_err(app_error)?;
    Ok((id, f))
}

pub(super) fn back_to(id: SevId) -> Response {
    Redirect::to(&format!("/sevs/{id}")).into_response()
}

pub(super) fn sev_id(raw: &str) -> Result<SevId, Refusal> {
    raw.parse()
        .map_err(|e: crate::domain::DomainError| Refusal(StatusCode::NOT_FOUND, e.to_string()))
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

async fn file(State(state): State<AppState>, caller: Caller, headers: HeaderMap, body: Bytes) -> Response {
    let f: FileForm = match form(&headers, &body) {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    let values = FormValues {
        title: f.title.clone(),
        level: f.level.clone(),
        description: f.description.clone(),
        private: f.private.is_some(),
    };
    let level = match f.level.parse::<Level>() {
        Ok(l) => l,
        Err(e) => {
            return intake_page(
                StatusCode::BAD_REQUEST,
                &state,
                &caller,
                &headers,
                values,
                Some(e.to_string()),
            );
        }
    };
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
        Ok((sev, _)) => Redirect::to(&format!("/sevs/{}", sev.id)).into_response(),
        Err(crate::app::AppError::Domain(e)) => intake_page(
            StatusCode::BAD_REQUEST,
            &state,
            &caller,
            &headers,
            values,
            Some(e.to_string()),
        ),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    text: String,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sev_form::<UpdateForm>(&state, &caller, &headers, &id, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    match state.sevs.post_update(id, &f.text, web_actor(&caller)).await {
        Ok(_) => back_to(id),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct StatusForm {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

async fn status(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sev_form::<StatusForm>(&state, &caller, &headers, &id, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let to = match f.status.parse::<Status>() {
        Ok(s) => s,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match state
        .sevs
        .set_status(id, to, blank_to_none(f.reason), web_actor(&caller))
        .await
    {
        Ok(_) => back_to(id),
        Err(e) => app_error(e),
    }
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
}

/// A `datetime-local` field (`2026-07-01T09:30`) as UTC; blank leaves the time alone.
fn utc_field(name: &'static str, raw: Option<String>) -> Result<Option<Timestamp>, String> {
    match blank_to_none(raw) {
        None => Ok(None),
        Some(v) => chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
            .map_err(|_| format!("{name}: that is not a time; use 2026-07-01T09:30 (UTC)"))
            .and_then(|t| Timestamp::new(name, t.and_utc()).map_err(|e| e.to_string()))
            .map(Some),
    }
}

/// Saves the fields form: blank fields clear, unchanged ones change nothing.
async fn fields(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sev_form::<FieldsForm>(&state, &caller, &headers, &id, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let level = match f.level.as_deref().map(str::parse::<Level>).transpose() {
        Ok(l) => l,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let add_tags = match blank_to_none(f.add_tag).map(|t| t.parse()).transpose() {
        Ok(t) => t.into_iter().collect(),
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &format!("{e}")),
    };
    let remove_tags = match blank_to_none(f.remove_tag).map(|t| t.parse()).transpose() {
        Ok(t) => t.into_iter().collect(),
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &format!("{e}")),
    };
    let (started_at, detected_at) = match (utc_field("started", f.started_at), utc_field("detected", f.detected_at)) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => return error_page(StatusCode::BAD_REQUEST, &e),
    };
    let patch = SevPatch {
        level,
        coordinator: f.coordinator.map(|c| blank_to_none(Some(c)).map(Actor::from)),
        report_owner: f.report_owner.map(|c| blank_to_none(Some(c)).map(Actor::from)),
        product_track: f.product_track.map(|c| blank_to_none(Some(c))),
        add_tags,
        remove_tags,
        started_at,
        detected_at,
        ..SevPatch::default()
    };
    match state.sevs.patch(id, patch, web_actor(&caller)).await {
        Ok(_) => back_to(id),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct ScaForm {
    text: String,
    priority: String,
    #[serde(default)]
    owner: Option<String>,
}

async fn add_sca(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sev_form::<ScaForm>(&state, &caller, &headers, &id, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let priority = match f.priority.parse::<Priority>() {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let new = NewSca {
        text: f.text,
        priority,
        owner: blank_to_none(f.owner).map(Actor::from),
        due: None,
        ticket: None,
        source: ScaSource::Web,
    };
    match state.scas.create(id, new, web_actor(&caller)).await {
        Ok(_) => back_to(id),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
struct OwnerForm {
    owner: String,
}

/// The prologue of every form about one SCA: its id (404 when malformed), the form, and that the
/// caller may see its SEV.
async fn sca_form<T: DeserializeOwned>(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    raw_id: &str,
    body: &Bytes,
) -> Result<(ScaId, T), Response> {
    let (id, f) = match (raw_id.parse::<ScaId>(), form::<T>(headers, body)) {
        (Ok(id), Ok(f)) => (id, f),
        (Err(e), _) => return Err(error_page(StatusCode::NOT_FOUND, &e.to_string())),
        (_, Err(r)) => return Err(r.into_response()),
    };
    caller
        .access()
        .sca(&state.sevs, &state.scas, id)
        .await
        .map_err(app_error)?;
    Ok((id, f))
}

/// Hands an SCA to someone else; its nags follow the new owner.
async fn sca_owner(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sca_form::<OwnerForm>(&state, &caller, &headers, &id, &body).await {
        Ok(parsed) => parsed,
        Err(r) => return r,
    };
    let Some(owner) = blank_to_none(Some(f.owner)) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "owner: say who takes this corrective action over",
        );
    };
    let patch = ScaPatch {
        owner: Some(Actor::from(owner)),
        ..ScaPatch::default()
    };
    match state.scas.update(id, patch, web_actor(&caller)).await {
        Ok(sca) => back_to(sca.sev),
        Err(e) => app_error(e),
    }
}

async fn sca_done(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, Empty {}) = match sca_form::<Empty>(&state, &caller, &headers, &id, &body).await {
        Ok(parsed) => parsed,
        Err(r) => return r,
    };
    let patch = ScaPatch {
        state: Some((ScaStateName::Done, None)),
        ..ScaPatch::default()
    };
    match state.scas.update(id, patch, web_actor(&caller)).await {
        Ok(sca) => back_to(sca.sev),
        Err(e) => app_error(e),
    }
}

#[derive(Deserialize)]
struct PageForm {
    team: String,
}

/// The paging service, or the page that says paging is off here.
fn paging(state: &AppState) -> Result<&crate::app::PagingService, Refusal> {
    state.paging.as_ref().ok_or_else(|| {
        Refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            "paging is off here: set SEVTOOL_TEAMS to a team catalog and restart".into(),
        )
    })
}

fn paging_error(e: crate::app::PagingError) -> Response {
    match e {
        crate::app::PagingError::App(app) => app_error(app),
        other => error_page(crate::http::status_of(other.kind()), &other.to_string()),
    }
}

async fn page_team(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sev_form::<PageForm>(&state, &caller, &headers, &id, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let service = match paging(&state) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let team = match service.team(&f.team) {
        Ok(t) => t.name.clone(),
        Err(e) => return paging_error(e),
    };
    match service.page(id, &team, &web_actor(&caller)).await {
        Ok(_) => back_to(id),
        Err(e) => paging_error(e),
    }
}

#[derive(Deserialize)]
struct MaydayForm {
    #[serde(default)]
    confirm: Option<String>,
}

/// Pages every team's on-call; the form's confirm box is the confirm step.
async fn mayday(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (id, f) = match sev_form::<MaydayForm>(&state, &caller, &headers, &id, &body).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let service = match paging(&state) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    match service.mayday(id, f.confirm.is_some(), &web_actor(&caller)).await {
        Ok(_) => back_to(id),
        Err(e) => paging_error(e),
    }
}

async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let id = match sev_form::<Empty>(&state, &caller, &headers, &id, &body).await {
        Ok((id, Empty {})) => id,
        Err(page) => return page,
    };
    match state.sevs.retry_failed(id).await {
        Ok(_) => back_to(id),
        Err(e) => app_error(e),
    }
}
