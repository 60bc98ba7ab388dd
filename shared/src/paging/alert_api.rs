//! The alert API Opsgenie and JSM Ops share: JSM's integration events API is Opsgenie's Alert
//! API on a new path, with the same body, the same `Authorization: GenieKey <key>` and the same
//! asynchronous 202. A page creates an alert whose `alias` is its dedup key (so a retry never
//! opens a second alert), and resolving closes it by that alias.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::catalog::Secret;
use super::pager::{PageRequest, PagerError, with_query};
use crate::domain::Level;

/// Both truncate alert messages beyond this.
const MAX_MESSAGE: usize = 130;

#[derive(Clone)]
pub(super) struct AlertApi {
    http: reqwest::Client,
    /// The alerts resource: `{base}/v2/alerts` or `{base}/jsm/ops/integration/v2/alerts`.
    alerts: String,
    /// The pager's name, for errors.
    pub(super) pager: &'static str,
    /// Integration API keys by the name of the environment variable they came from.
    keys: HashMap<String, Secret>,
}

fn priority(level: Level) -> &'static str {
    match level {
        Level::Sev0 => "P1",
        Level::Sev1 => "P2",
        Level::Sev2 => "P3",
        Level::Sev3 => "P4",
    }
}

/// The alert a page creates, routed to the responder team `team`.
fn alert(page: &PageRequest, team: &str) -> Value {
    let message: String = format!("{} {}: {}", page.sev, page.level, page.summary)
        .chars()
        .take(MAX_MESSAGE)
        .collect();
    json!({
        "message": message,
        "alias": page.dedup_key,
        "description": page.summary,
        "responders": [{ "type": "team", "name": team }],
        "tags": ["sevtool", page.level.as_str()],
        "details": { "sev": page.sev.to_string(), "level": page.level.as_str(), "team": page.team },
        "entity": page.sev.to_string(),
        "source": "sevtool",
        "priority": priority(page.level),
    })
}

impl AlertApi {
    pub(super) fn new(alerts: String, pager: &'static str, keys: HashMap<String, Secret>) -> Self {
        AlertApi {
            http: crate::outbound::client(),
            alerts,
            pager,
            keys,
        }
    }

    /// The key in the variable a team's catalog entry names.
    pub(super) fn key(&self, api_key_env: &str) -> Result<&Secret, PagerError> {
        self.keys.get(api_key_env).ok_or_else(|| {
            PagerError::NotConfigured(format!(
                "{api_key_env} is not set; it holds the {} integration API key",
                self.pager
            ))
        })
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` with the integration's key.
    pub(super) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        key: &Secret,
    ) -> Result<reqwest::Response, PagerError> {
        request
            .header("authorization", format!("GenieKey {}", key.expose()))
            .send()
            .await
            .map_err(|e| PagerError::transport(self.pager, e))
    }

    pub(super) fn check(&self, status: u16) -> Result<(), PagerError> {
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(PagerError::from_status(self.pager, status))
        }
    }

    pub(super) async fn create(&self, key: &Secret, page: &PageRequest, team: &str) -> Result<(), PagerError> {
        let request = self.http.post(&self.alerts).json(&alert(page, team));
        self.check(self.send(request, key).await?.status().as_u16())
    }

    pub(super) async fn close(&self, key: &Secret, dedup_key: &str) -> Result<(), PagerError> {
        let request = self
            .http
            .post(with_query(
                &format!("{}/{dedup_key}/close", self.alerts),
                &[("identifierType", "alias")],
            ))
            .json(&json!({ "source": "sevtool", "note": "The SEV was resolved in sevtool." }));
        match self.send(request, key).await?.status().as_u16() {
            // Already closed or never created: either way nothing is open.
            404 => Ok(()),
            status => self.check(status),
        }
    }
}
