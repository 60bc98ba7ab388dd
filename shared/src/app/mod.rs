//! Application services: the one way every entry point (web, Slack, alerts) acts on SEVs.

mod error;
mod integrations;
mod paging;
mod sevs;

pub use error::AppError;
pub use integrations::Integrations;
pub use paging::{Paging, PagingError, PagingService, SEVTOOL};
pub use sevs::{FileRequest, ListFilter, SevDetail, SevService};
