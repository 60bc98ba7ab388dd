//! The HTTP routes, as one `axum::Router` served by Lambda (`intake`) and by `sevtool` alike.

mod alerts;
mod error;
mod export;
mod extract;
mod pages;
mod reports;
mod reports_page;
mod scas;
mod sevs;

use axum::Router;
use axum::routing::get;

pub use alerts::{AlertWebhooks, MAX_ALERT_BODY_BYTES};
pub use error::ApiError;
pub use extract::MAX_BODY_BYTES;

use crate::app::{PagingService, ReportService, ScaService, SevService};

#[derive(Clone)]
pub struct ApiState {
    pub sevs: SevService,
    pub scas: ScaService,
    pub reports: ReportService,
    pub alerts: AlertWebhooks,
    /// Present when a team catalog is configured; paging routes answer 503 without it.
    pub paging: Option<PagingService>,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(sevs::routes())
        .merge(scas::routes())
        .merge(crate::web::routes())
        .merge(reports::routes())
        .merge(export::routes())
        .merge(reports_page::routes())
        .merge(alerts::routes())
        .merge(pages::routes())
        .fallback(|| async { ApiError::not_found("no such route; the API lives under /api/sevs") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}
