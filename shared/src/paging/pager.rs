//! The pager port: what paging needs from PagerDuty, Opsgenie or JSM Ops, whichever a team uses.

use std::sync::Arc;

use async_trait::async_trait;

use super::catalog::PagerTarget;
use crate::domain::{Level, SevId};
use crate::queue::TaskError;

/// What a page says. The summary goes to the pager (that is its job) but never to a log.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub sev: SevId,
    pub level: Level,
    pub team: String,
    pub summary: String,
    pub dedup_key: String,
}

/// Someone on call, as the pager knows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OnCall {
    pub name: Option<String>,
    pub email: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PagerError {
    /// The pager refused the request as malformed or unauthorised: retrying will not help.
    #[error("{pager} refused the request: HTTP {status}")]
    Refused { pager: &'static str, status: u16 },
    /// Down, slow, rate-limited or unreachable: worth another try.
    #[error("{pager} is unavailable: {reason}")]
    Unavailable { pager: &'static str, reason: String },
    /// Something sevtool lacks to make the call (a token, an API key variable).
    #[error("{0}")]
    NotConfigured(String),
}

impl PagerError {
    /// Classifies an HTTP answer the way both vendors document theirs.
    pub fn from_status(pager: &'static str, status: u16) -> PagerError {
        if crate::outbound::is_transient(status) {
            PagerError::Unavailable {
                pager,
                reason: format!("HTTP {status}"),
            }
        } else {
            PagerError::Refused { pager, status }
        }
    }

    pub fn transport(pager: &'static str, e: reqwest::Error) -> PagerError {
        // Without the URL: a URL can carry an identifier we would rather not log.
        PagerError::Unavailable {
            pager,
            reason: e.without_url().to_string(),
        }
    }
}

impl From<PagerError> for TaskError {
    fn from(e: PagerError) -> Self {
        match e {
            PagerError::Unavailable { .. } => TaskError::Retryable(e.to_string()),
            PagerError::Refused { .. } | PagerError::NotConfigured(_) => TaskError::Permanent(e.to_string()),
        }
    }
}

/// What the pager knows of an incident its webhook named: the dedup key it was triggered with,
/// read back from the pager rather than taken from the delivery.
#[async_trait]
pub trait Incidents: Send + Sync {
    /// The incident's dedup key (`None`: no such incident).
    async fn dedup_key(&self, incident: &str) -> Result<Option<String>, PagerError>;
}

#[async_trait]
pub trait Pager: Send + Sync {
    /// Pages the target. Sending the same `dedup_key` again never pages twice.
    async fn trigger(&self, target: &PagerTarget, page: &PageRequest) -> Result<(), PagerError>;
    /// Resolves (closes) the page with this key; one that is already gone is not an error.
    async fn resolve(&self, target: &PagerTarget, dedup_key: &str) -> Result<(), PagerError>;
    /// Who is on call for the target now; empty when the catalog names no schedule for it.
    async fn on_call(&self, target: &PagerTarget) -> Result<Vec<OnCall>, PagerError>;
}

/// Sends each team's page to the adapter of its pager.
#[derive(Clone)]
pub struct PagerRouter {
    pub pagerduty: Arc<dyn Pager>,
    pub opsgenie: Arc<dyn Pager>,
    pub jsm: Arc<dyn Pager>,
    /// PagerDuty's incidents, which its webhook names.
    pub incidents: Arc<dyn Incidents>,
}

impl PagerRouter {
    fn pick(&self, target: &PagerTarget) -> &dyn Pager {
        match target {
            PagerTarget::PagerDuty { .. } => self.pagerduty.as_ref(),
            PagerTarget::Opsgenie { .. } => self.opsgenie.as_ref(),
            PagerTarget::Jsm { .. } => self.jsm.as_ref(),
        }
    }
}

#[async_trait]
impl Pager for PagerRouter {
    async fn trigger(&self, target: &PagerTarget, page: &PageRequest) -> Result<(), PagerError> {
        self.pick(target).trigger(target, page).await
    }

    async fn resolve(&self, target: &PagerTarget, dedup_key: &str) -> Result<(), PagerError> {
        self.pick(target).resolve(target, dedup_key).await
    }

    async fn on_call(&self, target: &PagerTarget) -> Result<Vec<OnCall>, PagerError> {
        self.pick(target).on_call(target).await
    }
}

pub(crate) fn trim_base(base: &str) -> String {
    base.trim_end_matches('/').to_owned()
}

/// `url?query`, encoded as forms are (`schedule_ids%5B%5D=P1`).
pub(crate) fn with_query(url: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let encoded = serde_urlencoded::to_string(query).unwrap_or_default();
    format!("{url}?{encoded}")
}
