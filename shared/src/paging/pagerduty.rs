//! PagerDuty: pages through the Events API v2 (`POST /v2/enqueue`), finds who is on call
//! through the REST API (`GET /oncalls`, then `GET /users/{id}` for the email), and reads an
//! incident's dedup key (`GET /incidents/{id}`, its `incident_key`) for the V3 webhook.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::catalog::{PagerTarget, Secret};
use super::pager::{Incidents, OnCall, PageRequest, Pager, PagerError, trim_base, with_query};
use crate::domain::Level;

const NAME: &str = "PagerDuty";
/// The REST API's versioned media type, with plain JSON as a fallback some proxies and mocks need.
const ACCEPT: &str = "application/vnd.pagerduty+json;version=2, application/json;q=0.9";
/// At most this many people per rotation are looked up: the first levels of a policy.
const MAX_ON_CALL: usize = 5;

#[derive(Clone)]
pub struct PagerDuty {
    http: reqwest::Client,
    events_url: String,
    api_url: String,
    /// `PAGERDUTY_API_TOKEN`; without it pages still go out but nobody is looked up.
    token: Option<Secret>,
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::Sev0 | Level::Sev1 => "critical",
        Level::Sev2 => "error",
        Level::Sev3 => "warning",
    }
}

impl PagerDuty {
    pub fn new(events_url: &str, api_url: &str, token: Option<Secret>) -> Self {
        PagerDuty {
            http: crate::outbound::client(),
            events_url: trim_base(events_url),
            api_url: trim_base(api_url),
            token,
        }
    }

    async fn enqueue(&self, body: Value) -> Result<(), PagerError> {
        let response = self
            .http
            .post(format!("{}/v2/enqueue", self.events_url))
            .json(&body)
            .send()
            .await
            .map_err(|e| PagerError::transport(NAME, e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(PagerError::from_status(NAME, status))
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, PagerError> {
        let token = self.token.as_ref().ok_or_else(|| {
            PagerError::NotConfigured("PAGERDUTY_API_TOKEN is not set, so who is on call cannot be looked up".into())
        })?;
        let response = self
            .http
            .get(with_query(&format!("{}{path}", self.api_url), query))
            .header("accept", ACCEPT)
            .header("content-type", "application/json")
            .header("authorization", format!("Token token={}", token.expose()))
            .send()
            .await
            .map_err(|e| PagerError::transport(NAME, e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(PagerError::from_status(NAME, status));
        }
        response.json().await.map_err(|e| PagerError::transport(NAME, e))
    }
}

fn routing_key(target: &PagerTarget) -> Result<&Secret, PagerError> {
    match target {
        PagerTarget::PagerDuty { routing_key, .. } => Ok(routing_key),
        PagerTarget::Opsgenie { .. } | PagerTarget::Jsm { .. } => Err(PagerError::NotConfigured(
            "an Opsgenie team was sent to the PagerDuty adapter".into(),
        )),
    }
}

#[async_trait]
impl Pager for PagerDuty {
    async fn trigger(&self, target: &PagerTarget, page: &PageRequest) -> Result<(), PagerError> {
        let body = json!({
            "routing_key": routing_key(target)?.expose(),
            "event_action": "trigger",
            "dedup_key": page.dedup_key,
            "client": "sevtool",
            "payload": {
                "summary": format!("{} {}: {}", page.sev, page.level, page.summary),
                "severity": severity(page.level),
                "source": "sevtool",
                "component": page.team,
                "group": page.sev.to_string(),
                "class": page.level.as_str(),
                "custom_details": { "sev": page.sev.to_string(), "level": page.level.as_str(), "team": page.team },
            },
        });
        self.enqueue(body).await
    }

    async fn resolve(&self, target: &PagerTarget, dedup_key: &str) -> Result<(), PagerError> {
        let body = json!({
            "routing_key": routing_key(target)?.expose(),
            "event_action": "resolve",
            "dedup_key": dedup_key,
        });
        self.enqueue(body).await
    }

    async fn on_call(&self, target: &PagerTarget) -> Result<Vec<OnCall>, PagerError> {
        let PagerTarget::PagerDuty {
            schedule,
            escalation_policy,
            ..
        } = target
        else {
            return Ok(Vec::new());
        };
        let filter = match (schedule, escalation_policy) {
            (Some(s), _) => ("schedule_ids[]", s.as_str()),
            (None, Some(p)) => ("escalation_policy_ids[]", p.as_str()),
            (None, None) => return Ok(Vec::new()),
        };
        let body = self.get("/oncalls", &[filter, ("earliest", "true")]).await?;
        let mut oncalls: Vec<&Value> = body["oncalls"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        // The first escalation level is who gets woken up; later levels are backups.
        oncalls.sort_by_key(|o| o["escalation_level"].as_u64().unwrap_or(u64::MAX));
        let mut ids: Vec<&str> = Vec::new();
        for o in oncalls {
            if let Some(id) = o["user"]["id"].as_str()
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        ids.truncate(MAX_ON_CALL);
        let mut people = Vec::new();
        for id in ids {
            let user = self.get(&format!("/users/{id}"), &[]).await?;
            if let Some(email) = user["user"]["email"].as_str() {
                people.push(OnCall {
                    name: user["user"]["name"].as_str().map(str::to_owned),
                    email: email.to_owned(),
                });
            }
        }
        Ok(people)
    }
}

#[async_trait]
impl Incidents for PagerDuty {
    async fn dedup_key(&self, incident: &str) -> Result<Option<String>, PagerError> {
        match self.get(&format!("/incidents/{incident}"), &[]).await {
            Ok(body) => Ok(body["incident"]["incident_key"].as_str().map(str::to_owned)),
            Err(PagerError::Refused { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
