//! The HTTP layer, served by Lambda (`intake`) and by `sevtool` alike: one owner of the state,
//! the router and the mapping of errors to statuses. Its children never import one another:
//! `api` (JSON), `web` (pages) and `auth` (sign-in and the gate) each depend only on what this
//! module owns (the state, [`Caller`], the extractors, the error mapping, the page renderer) and
//! on the application services.

pub mod api;
pub mod auth;
mod caller;
pub(crate) mod csrf;
mod error;
mod etag;
pub(crate) mod extract;
mod headers;
pub(crate) mod render;
mod web;

use axum::Router;
use axum::routing::get;

pub use api::{AlertWebhooks, MAX_ALERT_BODY_BYTES};
pub use caller::{Caller, Person};
pub use error::{ApiError, public_message, status_of};
pub use extract::MAX_BODY_BYTES;

use crate::app::{
    Jobs, PagingService, ScaService, SevReportService, SevService, SlackLink, TransferService, TrendService,
};

/// What every handler works with, built once per process.
#[derive(Clone)]
pub struct AppState {
    pub sevs: SevService,
    pub scas: ScaService,
    pub trends: TrendService,
    pub sev_reports: SevReportService,
    pub transfer: TransferService,
    pub jobs: Jobs,
    pub alerts: AlertWebhooks,
    /// Present when a team catalog is configured; paging routes answer 503 without it.
    pub paging: Option<PagingService>,
    pub auth: auth::Auth,
    /// The local server's Socket Mode link to Slack, when it has one; shown on the status page.
    pub slack_link: Option<SlackLink>,
}

/// Every route. Alert webhooks and the sign-in pages have their own checks; everything else is
/// behind the sign-in gate, which puts the [`Caller`] on each request.
pub fn router(state: AppState) -> Router {
    let signed_in =
        Router::new()
            .merge(api::routes())
            .merge(web::routes())
            .route_layer(axum::middleware::from_fn_with_state(
                state.auth.clone(),
                auth::require_sign_in,
            ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(signed_in)
        .merge(api::webhooks())
        .merge(auth::routes())
        .fallback(|| async { ApiError::not_found("no such route; the API lives under /api/sevs") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::map_response(headers::security_headers))
        .with_state(state)
}

/// Sends one request through `app` in a unit test; returns the status and the JSON answer
/// (`null` when it is not JSON).
#[cfg(test)]
pub(crate) async fn call(
    app: axum::Router,
    req: axum::http::request::Builder,
    body: &str,
) -> (axum::http::StatusCode, serde_json::Value) {
    use tower::ServiceExt;
    let req = req.body(axum::body::Body::from(body.to_owned())).expect("a request");
    let response = app.oneshot(req).await.expect("routers are infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("the body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}
