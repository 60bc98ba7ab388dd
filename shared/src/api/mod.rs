//! The HTTP routes, as one `axum::Router` served by Lambda (`intake`) and by `sevtool` alike.

mod alerts;
mod error;
mod export;
mod extract;
mod pages;
mod reports;
mod reports_page;
mod scas;
mod sev_report;
mod sevs;

use axum::Router;
use axum::routing::get;

pub use alerts::{AlertWebhooks, MAX_ALERT_BODY_BYTES};
pub use error::{ApiError, public_message, status_of};
pub use extract::{MAX_BODY_BYTES, actor};

use crate::app::{PagingService, ReportService, ScaService, SevService};
use crate::auth::Auth;

#[derive(Clone)]
pub struct ApiState {
    pub sevs: SevService,
    pub scas: ScaService,
    pub reports: ReportService,
    pub alerts: AlertWebhooks,
    /// Present when a team catalog is configured; paging routes answer 503 without it.
    pub paging: Option<PagingService>,
    pub auth: Auth,
}

/// Every route. Alert webhooks and the sign-in pages have their own checks; everything else is
/// behind sign-in.
pub fn router(state: ApiState) -> Router {
    let signed_in = Router::new()
        .merge(sevs::routes())
        .merge(scas::routes())
        .merge(crate::web::routes())
        .merge(reports::routes())
        .merge(sev_report::routes())
        .merge(export::routes())
        .merge(reports_page::routes())
        .merge(pages::routes())
        .merge(alerts::read_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.auth.clone(),
            crate::auth::require_sign_in,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(signed_in)
        .merge(alerts::routes())
        .merge(crate::auth::routes())
        .fallback(|| async { ApiError::not_found("no such route; the API lives under /api/sevs") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(axum::middleware::map_response(crate::web::security_headers))
        .with_state(state)
}
