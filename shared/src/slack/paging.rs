//! Paging from Slack: `/sev page <team>`, `/sev mayday` with its confirm button, the on-call
//! people invited into the response channel, and the mayday roll-call of who was paged and
//! who has joined.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::handler::{SlackIntegration, reply};
use super::messages::{self, escape};
use crate::app::{PagingError, SevDetail};
use crate::domain::{Actor, Entry, EntryKind, LeadRole, Page, PageReason, PageState, Sev, SevField, SevId};
use crate::queue::{Steps, TaskError};

pub(super) const MAYDAY_CONFIRM: &str = "mayday_confirm";
const NOT_SET_UP: &str = "Paging is not set up here: set SEVTOOL_TEAMS to a team catalog to page teams from Slack.";
/// Names listed in the roll-call before "and N more", to stay far below Slack's message limit.
const ROLL_CALL_NAMES: usize = 60;

fn paging_reply(e: PagingError) -> Result<String, TaskError> {
    match e {
        PagingError::App(app) => reply(Err(app)),
        other => Ok(other.to_string()),
    }
}

fn list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(ROLL_CALL_NAMES).map(|n| escape(n)).collect();
    match names.len().saturating_sub(ROLL_CALL_NAMES) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The pages someone took in the pager, and who, as the pager names them.
fn acknowledged(pages: &[Page]) -> Vec<String> {
    pages
        .iter()
        .filter(|p| p.acknowledged_at.is_some())
        .map(|p| match &p.acknowledged_by {
            Some(by) => format!("{} by {by}", p.team),
            None => p.team.clone(),
        })
        .collect()
}

/// Who leads the response, so whoever answers the mayday knows whom to report to.
fn roles(sev: &Sev) -> String {
    let nobody = || "nobody yet".to_owned();
    let mut line = format!(
        "\n*Coordinator:* {} · *Comms lead:* {}",
        sev.coordinator.as_ref().map_or_else(nobody, messages::person),
        sev.comms_lead.as_ref().map_or_else(nobody, messages::person),
    );
    if !sev.deputies.is_empty() {
        let deputies: Vec<String> = sev.deputies.iter().map(messages::person).collect();
        line.push_str(&format!(" · *Deputies:* {}", deputies.join(", ")));
    }
    line
}

/// The roll-call: every team paged and how it went, who joined and who is still missing.
pub(super) fn roll_call(detail: &SevDetail) -> String {
    let pages = &detail.pages;
    let count = |s: PageState| pages.iter().filter(|p| p.state == s).count();
    let failed: Vec<String> = pages
        .iter()
        .filter(|p| p.state == PageState::Failed)
        .map(|p| p.team.clone())
        .collect();
    let m = &detail.muster;
    let mut text = format!(
        ":rotating_light: *Mayday roll-call for {}*\n{} teams: {} paged, {} waiting, {} failed",
        detail.sev.id,
        pages.len(),
        count(PageState::Paged) + count(PageState::Acknowledged) + count(PageState::Resolved),
        count(PageState::Queued),
        failed.len()
    );
    text.push_str(&roles(&detail.sev));
    if !failed.is_empty() {
        text.push_str(&format!("\n*Paging failed* (call them): {}", list(&failed)));
    }
    let acknowledged = acknowledged(pages);
    if !acknowledged.is_empty() {
        text.push_str(&format!(
            "\n*Acknowledged* ({}): {}",
            acknowledged.len(),
            list(&acknowledged)
        ));
    }
    text.push_str(&format!("\n*Joined* ({}): {}", m.joined.len(), list(&m.joined)));
    text.push_str(&format!(
        "\n*Still missing* ({}): {}",
        m.missing.len(),
        list(&m.missing)
    ));
    if let Some(minutes) = m.time_to_muster_minutes {
        text.push_str(&format!(
            "\nEveryone paged joined {minutes:.0} min after the SEV was declared."
        ));
    }
    text
}

impl SlackIntegration {
    pub(super) async fn page_command(&self, id: SevId, team: &str, user: &str) -> Result<String, TaskError> {
        let Some(paging) = &self.paging else {
            return Ok(NOT_SET_UP.into());
        };
        match paging.page(id, team, &Actor::from(user)).await {
            Ok(p) if p.new => Ok(format!("Paging {} for {id}…", p.page.team)),
            Ok(p) => Ok(format!("{} was already paged for {id} ({:?}).", p.page.team, p.page.state).to_lowercase()),
            Err(e) => paging_reply(e),
        }
    }

    /// `/sev mayday`: only a button press (and its confirm dialog) pages everyone.
    pub(super) async fn mayday_prompt(
        &self,
        channel: &str,
        user: &str,
        response_url: &str,
        steps: &Steps<'_>,
    ) -> Result<(), TaskError> {
        let sev = match self.state.channel(channel).await.map_err(TaskError::from)? {
            Some((id, _)) => Some((id, self.may_act(user, id).await?)),
            None => None,
        };
        let text = match (&self.paging, sev) {
            (None, _) => NOT_SET_UP.to_owned(),
            (Some(_), None) => "This is not a SEV channel. Use `/sev mayday` in a SEV's response channel.".to_owned(),
            (Some(_), Some((_, false))) => super::handler::PRIVATE_CHANNEL.to_owned(),
            (Some(paging), Some((id, true))) => {
                let teams = paging.catalog().teams().len();
                let text = format!("Mayday pages the on-call of every team ({teams}) for {id}. Are you sure?");
                let blocks = json!([
                    { "type": "section", "text": { "type": "mrkdwn", "text": text } },
                    { "type": "actions", "elements": [{
                        "type": "button",
                        "action_id": MAYDAY_CONFIRM,
                        "style": "danger",
                        "value": id.to_string(),
                        "text": { "type": "plain_text", "text": format!("Page all {teams} teams") },
                        "confirm": {
                            "title": { "type": "plain_text", "text": "Mayday?" },
                            "text": { "type": "plain_text", "text": format!("Every team's on-call will be paged for {id}.") },
                            "confirm": { "type": "plain_text", "text": "Page everyone" },
                            "deny": { "type": "plain_text", "text": "Cancel" },
                            "style": "danger"
                        }
                    }]}
                ]);
                return steps
                    .once("respond", || async {
                        Ok(self
                            .client
                            .respond_with(response_url, &text, Some(blocks.clone()))
                            .await?)
                    })
                    .await;
            }
        };
        steps
            .once("respond", || async {
                Ok(self.client.respond(response_url, &text).await?)
            })
            .await
    }

    /// A paging button: a mayday's confirmation (value: the SEV) or an announcement's "Page
    /// <team>" (value: the SEV and the team). Both ask the visibility policy first.
    pub(super) async fn on_action(&self, action_id: &str, value: &str, user: &str) -> Result<String, TaskError> {
        if action_id != MAYDAY_CONFIRM && action_id != messages::PAGE_TEAM {
            return Ok("That button is not sevtool's.".into());
        }
        let Some(paging) = &self.paging else {
            return Ok(NOT_SET_UP.into());
        };
        let (sev, team) = value.split_once(' ').unwrap_or((value, ""));
        let Ok(id) = sev.parse::<SevId>() else {
            return Ok("That button names no SEV.".into());
        };
        if !self.may_act(user, id).await? {
            return Ok(format!("{}", crate::app::AppError::NotFound(id)));
        }
        let by = Actor::from(user);
        if action_id == messages::PAGE_TEAM {
            return match paging.page(id, team, &by).await {
                Ok(p) if p.new => Ok(format!("Paging {} for {id}.", p.page.team)),
                Ok(p) => Ok(format!("{} is already paged for {id}.", p.page.team)),
                Err(e) => paging_reply(e),
            };
        }
        match paging.mayday(id, true, &by).await {
            Ok(teams) => Ok(format!("Mayday declared for {id}: paging all {teams} teams.")),
            Err(e) => paging_reply(e),
        }
    }

    /// Acts on the paging entries of a SEV's timeline; returns whether the entry should also be
    /// cross-posted as usual (mayday pages and joins show in the roll-call instead).
    pub(super) async fn on_paging_entry(
        &self,
        detail: &SevDetail,
        entry: &Entry,
        response: &str,
        steps: &Steps<'_>,
    ) -> Result<bool, TaskError> {
        let id = detail.sev.id;
        match &entry.kind {
            EntryKind::Paged {
                team,
                reason,
                on_call,
                coordinator,
                comms_lead,
            } => {
                let mut users: HashMap<String, String> = HashMap::new();
                for email in on_call {
                    let found: Option<String> = steps
                        .once(&format!("lookup:{email}"), || async {
                            Ok(self.client.lookup_by_email(email).await?)
                        })
                        .await?;
                    if let Some(u) = found {
                        users.insert(email.clone(), u);
                    }
                }
                let ids: Vec<String> = on_call.iter().filter_map(|e| users.get(e).cloned()).collect();
                steps
                    .once("invite-on-call", || async {
                        Ok(self.client.invite(response, &ids).await?)
                    })
                    .await?;
                if let Some(paging) = &self.paging {
                    paging
                        .record_slack_users(id, team, &users)
                        .await
                        .map_err(|e| TaskError::Retryable(e.to_string()))?;
                }
                let role = match (coordinator, comms_lead) {
                    (true, _) => Some(LeadRole::Coordinator),
                    (_, true) => Some(LeadRole::CommsLead),
                    _ => None,
                };
                if let (Some(role), Some(first)) = (role, ids.first()) {
                    self.sevs
                        .claim_lead(id, role, &Actor::from(first.as_str()), Actor::SEVTOOL)
                        .await
                        .map_err(|e| TaskError::Retryable(e.to_string()))?;
                }
                self.refresh_roll_call(id).await?;
                Ok(*reason != PageReason::Mayday)
            }
            EntryKind::PageFailed { .. } | EntryKind::PageAcknowledged { .. } => {
                self.refresh_roll_call(id).await?;
                Ok(true)
            }
            EntryKind::Joined { .. } => {
                self.refresh_roll_call(id).await?;
                Ok(false)
            }
            EntryKind::FieldChanged {
                field: SevField::Coordinator | SevField::CommsLead | SevField::Deputies,
                ..
            } => {
                self.refresh_roll_call(id).await?;
                Ok(true)
            }
            EntryKind::Mayday { .. } => {
                let text = roll_call(detail);
                let ts: String = steps
                    .once("roll-call", || async {
                        Ok(self.client.post_message(response, &text, None, None).await?)
                    })
                    .await?;
                let mut slack = self.state.sev(id).await.map_err(TaskError::from)?;
                slack.roll_call_ts = Some(ts);
                self.state.save(id, &slack).await.map_err(TaskError::from)?;
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    /// Edits the roll-call in place to the SEV's current pages, if a mayday posted one.
    async fn refresh_roll_call(&self, id: SevId) -> Result<(), TaskError> {
        let slack = self.state.sev(id).await.map_err(TaskError::from)?;
        let (Some(channel), Some(ts)) = (slack.response.as_deref(), slack.roll_call_ts.as_deref()) else {
            return Ok(());
        };
        let detail = self
            .sevs
            .get(id)
            .await
            .map_err(|e| TaskError::Retryable(e.to_string()))?;
        let text = roll_call(&detail);
        Ok(self.client.update_message(channel, ts, &text, None).await?)
    }

    /// Someone joined a response channel: if they were paged, they have mustered.
    pub(super) async fn on_member_joined(&self, id: SevId, user: &str, event: &Value) -> Result<(), TaskError> {
        let Some(paging) = &self.paging else {
            return Ok(());
        };
        let at = event["event_ts"]
            .as_str()
            .and_then(|ts| ts.split('.').next())
            .and_then(|s| s.parse::<i64>().ok())
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .unwrap_or_else(chrono::Utc::now);
        if paging
            .record_join(id, user, at)
            .await
            .map_err(|e| TaskError::Retryable(e.to_string()))?
        {
            tracing::info!(sev = %id, "a paged person joined the response channel");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PagerKind;

    #[test]
    fn the_roll_call_names_who_acknowledged_each_page() {
        let now = chrono::Utc::now();
        let page = |team: &str| {
            let mut p = Page::new(SevId(7), team, PagerKind::Jsm, PageReason::Mayday, &Actor::SEVTOOL, now);
            p.paged(Vec::new(), now);
            p
        };
        let (mut atc, mut db, web) = (page("atc"), page("db"), page("web"));
        assert!(atc.acknowledged(Some("Alice Ops"), now, now));
        assert!(db.acknowledged(None, now, now));
        assert_eq!(acknowledged(&[atc, web, db]), ["atc by Alice Ops", "db"]);
    }

    #[test]
    fn the_roll_call_names_who_leads_the_response() {
        let now = chrono::Utc::now();
        let new = crate::domain::NewSev {
            title: "db down".into(),
            ..Default::default()
        };
        let (mut sev, _) = Sev::file(SevId(7), new, "U1".into(), now).expect("a valid SEV");
        assert_eq!(roles(&sev), "\n*Coordinator:* nobody yet · *Comms lead:* nobody yet");
        sev.coordinator = Some("U0ATC".into());
        sev.comms_lead = Some("web:cat <b>".into());
        sev.deputies = ["U0DEP".into(), "bo".into()].into();
        assert_eq!(
            roles(&sev),
            "\n*Coordinator:* <@U0ATC> · *Comms lead:* web:cat &lt;b&gt; · *Deputies:* <@U0DEP>, bo"
        );
    }
}
