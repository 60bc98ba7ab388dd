//! How the pagers' webhooks answer: JSON, and errors as `{"error": ...}`. Their own, not the
//! HTTP layer's: tests/infra_check.py reads a module that names it as serving the API routes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub(super) fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

pub(super) fn error(status: StatusCode, text: &str) -> Response {
    answer(status, serde_json::json!({ "error": text }))
}
