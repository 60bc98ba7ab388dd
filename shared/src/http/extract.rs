//! Extractors that turn every way a request can be malformed into a precise JSON error, instead
//! of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::{ApiError, AppState, Caller};
use crate::domain::SevId;
use crate::reports::{Month, MonthRange};

/// The SEV a route names (`/api/sevs/{id}/…`), checked before the handler runs: a missing SEV
/// and one the caller may not see are the same 404 (a malformed number is a 400 naming the
/// shape), so no handler can act on a private SEV by forgetting to ask.
pub struct VisibleSev {
    pub id: SevId,
    pub caller: Caller,
}

impl FromRequestParts<AppState> for VisibleSev {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no such route; the API lives under /api/sevs"))?;
        let id: SevId = raw.parse()?;
        let Ok(caller) = Caller::from_request_parts(parts, state).await;
        caller.access().check(&state.sevs, id).await?;
        Ok(VisibleSev { id, caller })
    }
}

/// The largest request body the API reads. Enough for a long update; anything bigger is a mistake.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than {} KiB; shorten the text", limit / 1024),
    )
}

/// A JSON body: `Content-Type: application/json`, at most [`MAX_BODY_BYTES`], and every field
/// error named by its path (`tags[1]: ...`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let body = json_body(req, MAX_BODY_BYTES).await?;
        parse_json(&body).map(ApiJson)
    }
}

/// Reads a JSON request's body, refusing other content types (415) and bodies over `limit` (413)
/// without reading past the limit.
pub async fn json_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the body as JSON with the header Content-Type: application/json",
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large(limit))
}

/// A body a caller may leave out (`POST` with nothing to say): empty is `T::default()`.
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Ok(T::default());
    }
    parse_json(body)
}

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the body must be a JSON object, such as {\"title\": \"...\"}",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(inner.to_string())
        } else {
            ApiError::bad_request(format!("{path}: {inner}"))
        }
    })
}

/// Query parameters, with unknown or malformed ones named in a 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
    }
}

/// Tells "absent" (leave alone) from `null` (clear) for optional fields.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The months `since..=until` of a report's query: `until` defaults to this month and `since`
/// to a year before it; at most [`MAX_MONTHS`](crate::reports::MAX_MONTHS) long.
pub fn month_range(
    now: chrono::DateTime<chrono::Utc>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<MonthRange, ApiError> {
    let month = |field: &'static str, raw: &str| {
        raw.parse::<Month>().map_err(|_| {
            ApiError::bad_request(format!(
                "{field}: `{}` is not a month; write months like 2026-07",
                raw.trim()
            ))
        })
    };
    let until = match until {
        Some(u) => month("until", u)?,
        None => Month::of(now),
    };
    let since = match since {
        Some(s) => month("since", s)?,
        None => until.last(DEFAULT_MONTHS).first,
    };
    Ok(MonthRange::new(since, until)?)
}

/// Reports without a range cover this month and the eleven before it.
const DEFAULT_MONTHS: usize = 12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "a_sevtool_session=x; sevtool_session=y".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "sevtool_session"), Some("y"));
        assert_eq!(cookie(&h, "missing"), None);
    }
}
