//! The JSON API: SEVs, SCAs, pages, reports, the export and the alert webhooks.

mod alerts;
mod export;
mod pages;
mod reports;
mod scas;
mod sev_report;
mod sevs;

use axum::Router;

pub use alerts::{AlertWebhooks, MAX_ALERT_BODY_BYTES};

use crate::http::AppState;

/// The JSON API and the alert read routes, all behind the sign-in gate.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(sevs::routes())
        .merge(scas::routes())
        .merge(reports::routes())
        .merge(sev_report::routes())
        .merge(export::routes())
        .merge(pages::routes())
        .merge(alerts::read_routes())
}

/// The alert webhooks: outside the gate, with a token of their own.
pub fn webhooks() -> Router<AppState> {
    alerts::routes()
}
