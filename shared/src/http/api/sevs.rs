use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::{FileRequest, ListFilter, SevDetail, SlackLink};
use crate::domain::{Actor, Entry, EntryKind, Level, NewSev, Sev, SevId, SevPatch, Status, Tag, Timestamp};
use crate::http::Caller;
use crate::http::etag::conditional;
use crate::http::extract::{ApiJson, ApiQuery, VisibleSev, present};
use crate::http::{ApiError, AppState};

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/sevs", post(file).get(list))
        .route("/api/sevs/{id}", get(show).patch(patch))
        .route("/api/sevs/{id}/updates", post(post_update))
        .route("/api/sevs/{id}/status", post(set_status))
        .route("/api/sevs/{id}/retry", post(retry))
        .route("/api/status", get(status))
}

const MAX_IDEMPOTENCY_KEY: usize = 255;

pub(super) fn sev_id(raw: &str) -> Result<SevId, ApiError> {
    Ok(raw.parse()?)
}

/// A SEV as the API shows it: its fields plus the durations derived from them.
fn sev_json(sev: &Sev) -> Value {
    let minutes = |d: Option<chrono::Duration>| d.map(|d| d.num_seconds() as f64 / 60.0);
    let mut v = serde_json::to_value(sev).unwrap_or_default();
    if let Value::Object(map) = &mut v {
        map.insert(
            "time_to_detect_minutes".into(),
            json!(minutes(Some(sev.time_to_detect()))),
        );
        map.insert(
            "time_to_mitigate_minutes".into(),
            json!(minutes(sev.time_to_mitigate())),
        );
        map.insert("time_to_resolve_minutes".into(), json!(minutes(sev.time_to_resolve())));
        map.insert(
            "time_to_acknowledge_minutes".into(),
            json!(minutes(sev.time_to_acknowledge())),
        );
    }
    v
}

/// What customers were told, apart from the internal updates: `{id, at, author, text}`.
fn public_updates(timeline: &[Entry]) -> Vec<Value> {
    timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::PublicUpdate { text, .. } => {
                Some(json!({"id": e.id, "at": e.at, "author": e.author, "text": text}))
            }
            _ => None,
        })
        .collect()
}

fn detail_json(detail: &SevDetail) -> Value {
    let mut v = sev_json(&detail.sev);
    if let Value::Object(map) = &mut v {
        map.insert("timeline".into(), json!(detail.timeline));
        map.insert("public_updates".into(), json!(public_updates(&detail.timeline)));
        if let Some(incident) = &detail.status_page {
            map.insert("status_page".into(), json!(incident));
        }
        map.insert("scas".into(), json!(detail.scas));
        map.insert("failed_tasks".into(), json!(detail.failed_tasks));
        map.insert("pages".into(), json!(detail.pages));
        map.insert("muster".into(), json!(detail.muster));
    }
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    title: String,
    level: Level,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    product_track: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    private: bool,
    #[serde(default)]
    drill: bool,
    #[serde(default)]
    started_at: Option<Timestamp>,
    #[serde(default)]
    detected_at: Option<Timestamp>,
    #[serde(default)]
    reporter: Option<String>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY && k.bytes().all(|b| b.is_ascii_graphic()));
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::bad_request(format!(
            "Idempotency-Key: must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters, such as a UUID"
        ))),
    }
}

async fn file(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FileBody>,
) -> Result<Response, ApiError> {
    let req = FileRequest {
        new: NewSev {
            title: body.title,
            level: Some(body.level),
            description: body.description,
            product_track: body.product_track,
            tags: body.tags,
            private: body.private,
            drill: body.drill,
            started_at: body.started_at,
            detected_at: body.detected_at,
        },
        reporter: caller.actor(body.reporter, Actor::API)?,
        idempotency_key: idempotency_key(&headers)?,
    };
    let (sev, new) = state.sevs.file(req).await?;
    let location =
        HeaderValue::from_str(&format!("/api/sevs/{}", sev.id)).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut response = (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(sev_json(&sev)),
    )
        .into_response();
    if !new {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn parse_list<T: std::str::FromStr<Err = crate::domain::DomainError>>(raw: Option<&str>) -> Result<Vec<T>, ApiError> {
    raw.unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.parse::<T>().map_err(ApiError::from))
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    level: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let filter = ListFilter {
        statuses: parse_list(params.status.as_deref())?,
        levels: parse_list(params.level.as_deref())?,
        since: params
            .since
            .as_deref()
            .map(|s| Timestamp::parse("since", s))
            .transpose()?,
        until: params
            .until
            .as_deref()
            .map(|s| Timestamp::parse("until", s))
            .transpose()?,
    };
    let sevs = state.sevs.list(&filter).await?;
    let sevs = caller.access().retain(&state.sevs, sevs, |s| s.id).await?;
    let body = Json(json!({ "sevs": sevs.iter().map(sev_json).collect::<Vec<_>>() }));
    Ok(conditional(&headers, body.into_response()).await)
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = sev_id(&id)?;
    let detail = state.sevs.get(id).await?;
    if !caller.access().may_see(&detail) {
        return Err(crate::app::AppError::NotFound(id).into());
    }
    Ok(conditional(&headers, Json(detail_json(&detail)).into_response()).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    text: String,
    /// For customers: only the comms lead, the coordinator or a deputy may publish one.
    #[serde(default)]
    public: bool,
    #[serde(default)]
    author: Option<String>,
}

async fn post_update(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response, ApiError> {
    let author = caller.actor(body.author, Actor::API)?;
    let sev = if body.public {
        state.sevs.post_public_update(id, &body.text, author).await?
    } else {
        state.sevs.post_update(id, &body.text, author).await?
    };
    Ok((StatusCode::CREATED, Json(sev_json(&sev))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: Status,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    author: Option<String>,
}

async fn set_status(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<Value>, ApiError> {
    let author = caller.actor(body.author, Actor::API)?;
    let sev = state.sevs.set_status(id, body.status, body.reason, author).await?;
    Ok(Json(sev_json(&sev)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    level: Option<Level>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    product_track: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    coordinator: Option<Option<Actor>>,
    #[serde(default, deserialize_with = "present")]
    report_owner: Option<Option<Actor>>,
    #[serde(default, deserialize_with = "present")]
    comms_lead: Option<Option<Actor>>,
    /// `null` clears them, as `[]` does.
    #[serde(default, deserialize_with = "present")]
    deputies: Option<Option<Vec<Actor>>>,
    #[serde(default)]
    add_deputies: Vec<Actor>,
    #[serde(default)]
    remove_deputies: Vec<Actor>,
    #[serde(default)]
    tags: Option<Vec<Tag>>,
    #[serde(default)]
    add_tags: Vec<Tag>,
    #[serde(default)]
    remove_tags: Vec<Tag>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    started_at: Option<Timestamp>,
    #[serde(default)]
    detected_at: Option<Timestamp>,
    #[serde(default)]
    author: Option<String>,
}

async fn patch(
    State(state): State<AppState>,
    VisibleSev { id, caller }: VisibleSev,
    ApiJson(mut body): ApiJson<PatchBody>,
) -> Result<Json<Value>, ApiError> {
    let author = caller.actor(body.author.take(), Actor::API)?;
    let patch = SevPatch {
        title: body.title,
        level: body.level,
        description: body.description,
        product_track: body.product_track,
        tags: body.tags,
        add_tags: body.add_tags,
        remove_tags: body.remove_tags,
        coordinator: body.coordinator,
        report_owner: body.report_owner,
        comms_lead: body.comms_lead,
        deputies: body.deputies.map(Option::unwrap_or_default),
        add_deputies: body.add_deputies,
        remove_deputies: body.remove_deputies,
        private: body.private,
        started_at: body.started_at,
        detected_at: body.detected_at,
    };
    if patch.is_empty() {
        return Err(ApiError::bad_request(
            "nothing to change: send one or more of title, level, description, product_track, coordinator, report_owner, comms_lead, deputies, add_deputies, remove_deputies, tags, add_tags, remove_tags, private, started_at, detected_at",
        ));
    }
    let sev = state.sevs.patch(id, patch, author).await?;
    Ok(Json(sev_json(&sev)))
}

/// `202 {"retried": n}`: the SEV's failed integration steps are queued again.
async fn retry(State(state): State<AppState>, VisibleSev { id, .. }: VisibleSev) -> Result<Response, ApiError> {
    let retried = state.sevs.retry_failed(id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "sev": id, "retried": retried }))).into_response())
}

/// Integration health: active SEVs with their failed steps, and whether paging is on.
async fn status(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let health = state.sevs.health().await?;
    let health = caller.access().retain(&state.sevs, health, |(s, _)| s.id).await?;
    let sevs: Vec<Value> = health
        .iter()
        .map(|(s, failed)| json!({"id": s.id, "title": s.title, "level": s.level, "status": s.status, "failed_steps": failed}))
        .collect();
    let socket_mode = state.slack_link.as_ref().map(SlackLink::get);
    Ok(Json(
        json!({ "paging": state.paging.is_some(), "slack_socket_mode": socket_mode, "sevs": sevs }),
    ))
}
