use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppError;
use crate::domain::DomainError;

/// An error as the API answers it: a status and `{"error": "<what is wrong and how to fix it>"}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "this route does not take that method; see the API in the README",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The body was left unread, so the connection cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match &e {
            AppError::Domain(DomainError::Invalid { .. }) => StatusCode::BAD_REQUEST,
            AppError::Domain(_) | AppError::Conflict | AppError::IdempotencyMismatch => StatusCode::CONFLICT,
            AppError::NotFound(_) | AppError::NoSuchSca(_) | AppError::NoReport(_) => StatusCode::NOT_FOUND,
            AppError::StaleReport { .. } => StatusCode::CONFLICT,
            AppError::ReportVersionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            AppError::Store(store) => {
                tracing::error!(error = %store, "storage failed");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage is unavailable right now; nothing was changed, try again shortly",
                );
            }
        };
        Self::new(status, e.to_string())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        AppError::from(e).into()
    }
}
