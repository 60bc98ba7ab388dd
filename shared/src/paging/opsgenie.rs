//! Opsgenie: alerts through `/v2/alerts` (see `alert_api.rs`), and who is on call from `GET /v2/schedules/{name}/on-calls`. Each team's API key comes from the
//! environment variable its catalog entry names.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use super::alert_api::AlertApi;
use super::catalog::{PagerTarget, Secret};
use super::pager::{OnCall, PageRequest, Pager, PagerError, trim_base, with_query};

#[derive(Clone)]
pub struct Opsgenie {
    alerts: AlertApi,
    base: String,
}

impl Opsgenie {
    pub fn new(base: &str, keys: HashMap<String, Secret>) -> Self {
        let base = trim_base(base);
        Opsgenie {
            alerts: AlertApi::new(format!("{base}/v2/alerts"), "Opsgenie", keys),
            base,
        }
    }

    fn key<'a>(&'a self, target: &'a PagerTarget) -> Result<(&'a str, &'a Secret), PagerError> {
        match target {
            PagerTarget::Opsgenie { team, api_key_env, .. } => Ok((team.as_str(), self.alerts.key(api_key_env)?)),
            PagerTarget::PagerDuty { .. } | PagerTarget::Jsm { .. } => Err(PagerError::NotConfigured(
                "another pager's team was sent to the Opsgenie adapter".into(),
            )),
        }
    }
}

#[async_trait]
impl Pager for Opsgenie {
    async fn trigger(&self, target: &PagerTarget, page: &PageRequest) -> Result<(), PagerError> {
        let (team, key) = self.key(target)?;
        self.alerts.create(key, page, team).await
    }

    async fn resolve(&self, target: &PagerTarget, dedup_key: &str) -> Result<(), PagerError> {
        let (_, key) = self.key(target)?;
        self.alerts.close(key, dedup_key).await
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
        let request = self.alerts.http().get(with_query(
            &format!("{}/v2/schedules/{schedule}/on-calls", self.base),
            &[("scheduleIdentifierType", "name"), ("flat", "true")],
        ));
        let response = self.alerts.send(request, key).await?;
        self.alerts.check(response.status().as_u16())?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| PagerError::transport(self.alerts.pager, e))?;
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
