//! Paging: the team catalog, the pager port with its PagerDuty, Opsgenie and JSM Ops adapters,
//! PagerDuty's and Opsgenie's webhooks, and the pager queue's task handler. Pages are recorded and queued by `app::PagingService`.

mod alert_api;
mod catalog;
mod handler;
mod jsm;
mod opsgenie;
mod opsgenie_webhook;
mod pager;
mod pagerduty;
mod pagerduty_webhook;
mod reply;

pub use catalog::{Catalog, CatalogError, PagerTarget, Rotation, Secret, Team};
pub use handler::PagingIntegration;
pub use jsm::Jsm;
pub use opsgenie::Opsgenie;
pub use opsgenie_webhook::{OpsgenieWebhook, router as opsgenie_webhook_router};
pub use pager::{Incidents, OnCall, PageRequest, Pager, PagerError, PagerRouter};
pub use pagerduty::PagerDuty;
pub use pagerduty_webhook::{
    PagerDutyWebhook, router as pagerduty_webhook_router, signature as pagerduty_webhook_signature,
};
