//! What a web handler answers when it cannot do what was asked: the same statuses and messages
//! as the JSON API (one mapping, `http::status_of`), shown as a page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::app::{AppError, PagingError};
use crate::domain::DomainError;
use crate::http::render::error_page;
use crate::http::{public_message, status_of};

pub(super) enum WebError {
    /// Refused before any service was asked: the status, and what to tell the person.
    Refused(StatusCode, String),
    App(Box<AppError>),
    Paging(Box<PagingError>),
    /// A page of its own: the form again with the error on it, or the framework's refusal.
    Page(Box<Response>),
}

impl WebError {
    pub(super) fn bad_request(text: impl Into<String>) -> WebError {
        WebError::Refused(StatusCode::BAD_REQUEST, text.into())
    }

    pub(super) fn page(page: Response) -> WebError {
        WebError::Page(Box::new(page))
    }
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> WebError {
        WebError::App(Box::new(e))
    }
}

impl From<DomainError> for WebError {
    fn from(e: DomainError) -> WebError {
        WebError::App(Box::new(AppError::Domain(e)))
    }
}

impl From<PagingError> for WebError {
    fn from(e: PagingError) -> WebError {
        match e {
            PagingError::App(app) => WebError::App(Box::new(app)),
            other => WebError::Paging(Box::new(other)),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::Refused(status, text) => error_page(status, &text),
            WebError::App(e) => app_error(*e),
            WebError::Paging(e) => error_page(status_of(e.kind()), &e.to_string()),
            WebError::Page(page) => *page,
        }
    }
}

/// The page for an application error: the API's status and message, as a page.
pub(super) fn app_error(e: AppError) -> Response {
    error_page(status_of(e.kind()), &public_message(&e))
}
