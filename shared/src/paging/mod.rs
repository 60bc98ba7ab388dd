//! Paging: the team catalog, the pager port with its PagerDuty and Opsgenie adapters,
//! PagerDuty's webhook, and the pager queue's task handler. Pages are recorded and queued by `app::PagingService`.

mod catalog;
mod handler;
mod opsgenie;
mod pager;
mod pagerduty;
mod webhook;

pub use catalog::{Catalog, CatalogError, PagerTarget, Rotation, Secret, Team};
pub use handler::PagingIntegration;
pub use opsgenie::Opsgenie;
pub use pager::{Incidents, OnCall, PageRequest, Pager, PagerError, PagerRouter};
pub use pagerduty::PagerDuty;
pub use webhook::{PagerDutyWebhook, router as webhook_router, signature as webhook_signature};
