//! sevtool's library: the SEV domain, the application services every entry point calls, and the
//! adapters behind small ports (storage, queue), plus the HTTP layer (`http`) shared by Lambda
//! and `sevtool`.

pub mod alerts;
pub mod app;
mod aws_error;
pub mod clock;
pub mod config;
pub mod domain;
mod hex;
pub mod http;
pub mod jira;
mod outbound;
pub mod paging;
pub mod queue;
pub mod reports;
pub mod schedule;
pub mod secrets;
pub mod slack;
pub mod statuspage;
pub mod store;
pub mod telemetry;
pub mod transfer;
pub mod wiring;
