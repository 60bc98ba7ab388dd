//! What every form post goes through before its handler runs: the form's type and size, the
//! CSRF token and, for a form about one SEV or SCA, that the caller may see it. Handlers take
//! these extractors, so no form can skip a check.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::WebError;
use crate::domain::{DomainError, ScaId, SevId};
use crate::http::{AppState, Caller, MAX_BODY_BYTES, csrf};

/// A form posted from one of our pages: URL-encoded, at most `LIMIT` bytes, with a valid CSRF
/// token.
pub(super) struct CsrfForm<T, const LIMIT: usize = MAX_BODY_BYTES>(pub T);

impl<T: DeserializeOwned, const LIMIT: usize> FromRequest<AppState> for CsrfForm<T, LIMIT> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|r| WebError::page(r.into_response()))?;
        checked(&headers, &body, LIMIT).map(CsrfForm)
    }
}

fn checked<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes, limit: usize) -> Result<T, WebError> {
    let refuse = |status, text: &str| Err(WebError::Refused(status, text.to_owned()));
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
    serde_urlencoded::from_bytes(body).map_err(|e| WebError::bad_request(format!("the form is incomplete: {e}")))
}

/// A form about one SEV (`/sevs/{id}/…`), posted by someone who may see that SEV.
pub(super) struct SevForm<T, const LIMIT: usize = MAX_BODY_BYTES> {
    pub id: SevId,
    pub form: T,
    pub caller: Caller,
}

impl<T: DeserializeOwned + Send, const LIMIT: usize> FromRequest<AppState> for SevForm<T, LIMIT> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let (raw, caller) = path_and_caller(&mut parts, state).await?;
        let id = sev_id(&raw);
        let form = CsrfForm::<T, LIMIT>::from_request(Request::from_parts(parts, body), state).await;
        // A malformed SEV number is a 404 whatever the form says.
        let (id, CsrfForm(form)) = (id?, form?);
        caller.access().check(&state.sevs, id).await?;
        Ok(SevForm { id, form, caller })
    }
}

/// A form about one SCA (`/scas/{id}/…`), posted by someone who may see the SCA's SEV.
pub(super) struct ScaForm<T> {
    pub id: ScaId,
    pub form: T,
    pub caller: Caller,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ScaForm<T> {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let (raw, caller) = path_and_caller(&mut parts, state).await?;
        let id = raw
            .parse::<ScaId>()
            .map_err(|e| WebError::Refused(StatusCode::NOT_FOUND, e.to_string()));
        let form = CsrfForm::<T>::from_request(Request::from_parts(parts, body), state).await;
        let (id, CsrfForm(form)) = (id?, form?);
        caller.access().sca(&state.sevs, &state.scas, id).await?;
        Ok(ScaForm { id, form, caller })
    }
}

async fn path_and_caller(parts: &mut Parts, state: &AppState) -> Result<(String, Caller), WebError> {
    let Path(raw) = Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|r| WebError::page(r.into_response()))?;
    let Ok(caller) = Caller::from_request_parts(parts, state).await;
    Ok((raw, caller))
}

/// A SEV number from the URL; a malformed one names no SEV, so it is a 404.
pub(super) fn sev_id(raw: &str) -> Result<SevId, WebError> {
    raw.parse()
        .map_err(|e: DomainError| WebError::Refused(StatusCode::NOT_FOUND, e.to_string()))
}
