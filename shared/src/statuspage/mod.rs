//! Atlassian Statuspage, switched on by `STATUSPAGE_PAGE_ID` (with `STATUSPAGE_API_KEY`): a SEV's
//! first public update opens an incident on the company's status page, later ones update it.

mod client;
mod integration;

pub use client::{ComponentStatus, Incident, IncidentChange, StatuspageClient, StatuspageError, valid_id};
pub use integration::StatuspageIntegration;

/// Where Statuspage's API is when `STATUSPAGE_API_URL` does not say.
pub const DEFAULT_API_URL: &str = "https://api.statuspage.io/v1";

/// The Statuspage settings, from the environment (see `config`).
#[derive(Debug, Clone)]
pub struct StatuspageSettings {
    /// `STATUSPAGE_API_URL`.
    pub api_url: String,
    /// `STATUSPAGE_PAGE_ID`: the page the incidents go on.
    pub page_id: String,
    /// `STATUSPAGE_API_KEY`.
    pub api_key: crate::config::Secret,
}
