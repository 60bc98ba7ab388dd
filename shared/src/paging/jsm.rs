//! Jira Service Management Ops, Opsgenie's successor. Pages go through its integration events
//! API, which takes Opsgenie's alert body on a new path and with the same `GenieKey` auth
//! (Atlassian, "Integration events": developer.atlassian.com/cloud/jira/service-desk-ops/rest/v1/
//! api-group-integration-events; see `alert_api.rs`): `POST /jsm/ops/integration/v2/alerts` with
//! the dedup key as `alias`, and `POST .../alerts/{alias}/close?identifierType=alias` on resolve;
//! both answer 202 and act asynchronously.
//!
//! Who is on call comes from the JSM Ops REST API, with basic auth of an Atlassian account's email
//! and API token (".../service-desk-ops/rest/v2/api-group-schedule-on-calls"):
//! `GET /jsm/ops/api/{cloudId}/v1/schedules/{scheduleId}/on-calls?flat=true` answers
//! `{"onCallUsers": [<account id>...]}`, and each account id becomes a name and an email through
//! the Jira platform's `GET {site}/rest/api/3/user?accountId=` (an email the person's privacy
//! settings hide is skipped). Each team's integration key comes from the environment variable
//! its catalog entry names.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Deserialize;

use super::alert_api::AlertApi;
use super::catalog::{PagerTarget, Secret};
use super::pager::{OnCall, PageRequest, Pager, PagerError, trim_base, with_query};
use crate::config::JsmAccount;

/// More on-call people than this on one schedule is a misconfiguration, not a rota.
const MAX_ON_CALL: usize = 10;

#[derive(Clone)]
pub struct Jsm {
    alerts: AlertApi,
    base: String,
    /// The account that reads schedules; without it nobody on call is looked up.
    account: Option<JsmAccount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnCallUsers {
    #[serde(default)]
    on_call_users: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    email_address: Option<String>,
}

impl Jsm {
    pub fn new(base: &str, keys: HashMap<String, Secret>, account: Option<JsmAccount>) -> Self {
        let base = trim_base(base);
        Jsm {
            alerts: AlertApi::new(format!("{base}/jsm/ops/integration/v2/alerts"), "JSM Ops", keys),
            base,
            account,
        }
    }

    fn key<'a>(&'a self, target: &'a PagerTarget) -> Result<(&'a str, &'a Secret), PagerError> {
        match target {
            PagerTarget::Jsm { team, api_key_env, .. } => Ok((team.as_str(), self.alerts.key(api_key_env)?)),
            PagerTarget::PagerDuty { .. } | PagerTarget::Opsgenie { .. } => Err(PagerError::NotConfigured(
                "another pager's team was sent to the JSM Ops adapter".into(),
            )),
        }
    }

    /// A REST call as the schedule-reading account; `None` for a 404.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: String,
        account: &JsmAccount,
    ) -> Result<Option<T>, PagerError> {
        let pager = self.alerts.pager;
        let response = self
            .alerts
            .http()
            .get(url)
            .basic_auth(&account.email, Some(account.api_token.expose()))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| PagerError::transport(pager, e))?;
        if response.status().as_u16() == 404 {
            return Ok(None);
        }
        self.alerts.check(response.status().as_u16())?;
        response
            .json()
            .await
            .map(Some)
            .map_err(|e| PagerError::transport(pager, e))
    }
}

#[async_trait]
impl Pager for Jsm {
    async fn trigger(&self, target: &PagerTarget, page: &PageRequest) -> Result<(), PagerError> {
        let (team, key) = self.key(target)?;
        self.alerts.create(key, page, team).await
    }

    async fn resolve(&self, target: &PagerTarget, dedup_key: &str) -> Result<(), PagerError> {
        let (_, key) = self.key(target)?;
        self.alerts.close(key, dedup_key).await
    }

    async fn on_call(&self, target: &PagerTarget) -> Result<Vec<OnCall>, PagerError> {
        let PagerTarget::Jsm {
            schedule: Some(schedule),
            ..
        } = target
        else {
            return Ok(Vec::new());
        };
        let Some(account) = &self.account else {
            return Err(PagerError::NotConfigured(
                "set JSM_CLOUD_ID, JSM_SITE_URL, JSM_EMAIL and JSM_API_TOKEN to look up who is on call in JSM Ops"
                    .into(),
            ));
        };
        let url = with_query(
            &format!(
                "{}/jsm/ops/api/{}/v1/schedules/{schedule}/on-calls",
                self.base, account.cloud_id
            ),
            &[("flat", "true")],
        );
        let Some(users) = self.get_json::<OnCallUsers>(url, account).await? else {
            return Err(PagerError::Refused {
                pager: self.alerts.pager,
                status: 404,
            });
        };
        let mut people = Vec::new();
        for id in users.on_call_users.iter().take(MAX_ON_CALL) {
            let url = with_query(&format!("{}/rest/api/3/user", account.site_url), &[("accountId", id)]);
            let Some(user) = self.get_json::<User>(url, account).await? else {
                continue;
            };
            if let Some(email) = user.email_address.filter(|e| e.contains('@')) {
                people.push(OnCall {
                    name: user.display_name,
                    email,
                });
            }
        }
        Ok(people)
    }
}
