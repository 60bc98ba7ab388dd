//! Opsgenie: `POST /v2/alerts` with the dedup key as `alias`, close by alias on resolve, and who is
//! on call from `GET /v2/schedules/{name}/on-calls`. Each team's API key comes from the
//! environment variable its catalog entry names.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::catalog::{PagerTarget, Secret};
use super::pager::{OnCall, PageRequest, Pager, PagerError, trim_base, with_query};
use crate::domain::Level;

const NAME: &str = "Opsgenie";
/// Opsgenie truncates alert messages beyond this.
const MAX_MESSAGE: usize = 130;

#[derive(Clone)]
pub struct Opsgenie {
    http: reqwest::Client,
    base: String,
    /// API keys by the name of the environment variable they came from.
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

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Opsgenie {
    pub fn new(base: &str, keys: HashMap<String, Secret>) -> Self {
        Opsgenie {
            http: crate::outbound::client(),
            base: trim_base(base),
            keys,
        }
    }

    fn key<'a>(&'a self, target: &'a PagerTarget) -> Result<(&'a str, &'a Secret), PagerError> {
        match target {
            PagerTarget::Opsgenie { team, api_key_env, .. } => {
                self.keys.get(api_key_env).map(|k| (team.as_str(), k)).ok_or_else(|| {
                    PagerError::NotConfigured(format!("{api_key_env} is not set; it holds the Opsgenie API key"))
                })
            }
            PagerTarget::PagerDuty { .. } => Err(PagerError::NotConfigured(
                "a PagerDuty team was sent to the Opsgenie adapter".into(),
            )),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder, key: &Secret) -> Result<reqwest::Response, PagerError> {
        request
            .header("authorization", format!("GenieKey {}", key.expose()))
            .send()
            .await
            .map_err(|e| PagerError::transport(NAME, e))
    }
}

fn check(status: u16) -> Result<(), PagerError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(PagerError::from_status(NAME, status))
    }
}

#[async_trait]
impl Pager for Opsgenie {
    async fn trigger(&self, target: &PagerTarget, page: &PageRequest) -> Result<(), PagerError> {
        let (team, key) = self.key(target)?;
        let body = json!({
            "message": truncate(&format!("{} {}: {}", page.sev, page.level, page.summary), MAX_MESSAGE),
            "alias": page.dedup_key,
            "description": page.summary,
            "responders": [{ "type": "team", "name": team }],
            "tags": ["sevtool", page.level.as_str()],
            "details": { "sev": page.sev.to_string(), "level": page.level.as_str(), "team": page.team },
            "entity": page.sev.to_string(),
            "source": "sevtool",
            "priority": priority(page.level),
        });
        let request = self.http.post(format!("{}/v2/alerts", self.base)).json(&body);
        check(self.send(request, key).await?.status().as_u16())
    }

    async fn resolve(&self, target: &PagerTarget, dedup_key: &str) -> Result<(), PagerError> {
        let (_, key) = self.key(target)?;
        let request = self
            .http
            .post(with_query(
                &format!("{}/v2/alerts/{dedup_key}/close", self.base),
                &[("identifierType", "alias")],
            ))
            .json(&json!({ "source": "sevtool", "note": "The SEV was resolved in sevtool." }));
        match self.send(request, key).await?.status().as_u16() {
            // Already closed or never created: either way nothing is open at Opsgenie.
            404 => Ok(()),
            status => check(status),
        }
    }

    async fn on_call(&self, target: &PagerTarget) -> Result<Vec<OnCall>, PagerError> {
        let PagerTarget::Opsgenie {
            schedule: Some(schedule),
            ..
        } = target
        else {
            return Ok(Vec::new());
        };
        let (_, key) = self.key(target)?;
        let request = self.http.get(with_query(
            &format!("{}/v2/schedules/{schedule}/on-calls", self.base),
            &[("scheduleIdentifierType", "name"), ("flat", "true")],
        ));
        let response = self.send(request, key).await?;
        check(response.status().as_u16())?;
        let body: Value = response.json().await.map_err(|e| PagerError::transport(NAME, e))?;
        Ok(body["data"]["onCallRecipients"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|r| r.contains('@'))
            .map(|email| OnCall {
                name: None,
                email: email.to_owned(),
            })
            .collect())
    }
}
