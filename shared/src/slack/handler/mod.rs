//! The Slack integration's task handler: sets up a SEV's channels when it is filed, cross-posts
//! its status updates, and acts on queued slash commands, reactions and modal submissions.
//! Each side effect is a memoized step, so a retried task never posts or creates twice.
//!
//! This file owns the integration itself (its state, who may act) and the dispatch of tasks and
//! inbound Slack traffic; the work is split by concern into `channels`, `commands`, `reactions`
//! and `nags` here, and `slack::paging` and `slack::reports` beside.

mod channels;
mod commands;
mod nags;
mod reactions;

use std::sync::Arc;

use async_trait::async_trait;

use super::command::{self, Command};
use super::messages::ScaAction;
use super::{Inbound, SlackClient, SlackSettings, SlackState};
use crate::app::{Access, AppError, PagingService, ScaService, SecurityGroup, SevService, TrendService};
use crate::domain::{Actor, NewSev, SevId};
use crate::queue::{Steps, Task, TaskEnvelope, TaskError, TaskHandler};
use crate::store::SevRepo;

#[derive(Clone)]
pub struct SlackIntegration {
    pub(super) client: SlackClient,
    pub(super) sevs: SevService,
    scas: ScaService,
    pub(super) repo: SevRepo,
    pub(super) state: SlackState,
    pub(super) settings: Arc<SlackSettings>,
    /// Present when a team catalog is configured.
    pub(super) paging: Option<PagingService>,
    /// Builds the weekly digest it posts.
    pub(super) trends: Option<TrendService>,
    /// When reports are due, for the report nags.
    pub(super) report_policy: crate::domain::ReportPolicy,
    /// Who sees every private SEV, for [`SlackIntegration::access`].
    security: SecurityGroup,
}

/// What a person who may not see a channel's private SEV is told: no title, id or owner.
pub(super) const PRIVATE_CHANNEL: &str = "This channel belongs to a private SEV: only its members (reporter, coordinator, \
    report owner, SCA owners and whoever acted on it) and the security group may use `/sev` here.";

/// What an application error means for the task that hit it, by its kind: what may succeed
/// later (an outage, contention) is retried, anything else is the person's answer.
pub(super) fn reply(result: Result<String, AppError>) -> Result<String, TaskError> {
    match result {
        Ok(msg) => Ok(msg),
        Err(e) if e.kind().is_transient() => Err(e.into()),
        Err(e) => Ok(e.to_string()),
    }
}

impl SlackIntegration {
    pub fn new(
        client: SlackClient,
        sevs: SevService,
        scas: ScaService,
        repo: SevRepo,
        settings: Arc<SlackSettings>,
        security: SecurityGroup,
    ) -> Self {
        let state = SlackState::new(repo.clone());
        SlackIntegration {
            client,
            sevs,
            scas,
            repo,
            state,
            settings,
            paging: None,
            trends: None,
            report_policy: crate::domain::ReportPolicy::default(),
            security,
        }
    }

    /// What the Slack user `user` may see and act on: the one visibility policy.
    pub(super) fn access(&self, user: &str) -> Access {
        Access::person(&Actor::from(user), &self.security)
    }

    /// Whether `user` may act on SEV `id`; storage trouble is retried.
    pub(super) async fn may_act(&self, user: &str, id: SevId) -> Result<bool, TaskError> {
        match self.access(user).check(&self.sevs, id).await {
            Ok(()) => Ok(true),
            Err(AppError::NotFound(_)) => Ok(false),
            Err(e) => Err(TaskError::Retryable(e.to_string())),
        }
    }

    pub fn with_trends(mut self, trends: TrendService) -> Self {
        self.report_policy = trends.policy().clone();
        self.trends = Some(trends);
        self
    }

    pub fn with_paging(mut self, paging: Option<PagingService>) -> Self {
        self.paging = paging;
        self
    }

    pub(super) async fn load(&self, id: SevId) -> Result<crate::app::SevDetail, TaskError> {
        self.sevs.get(id).await.map_err(TaskError::from)
    }

    async fn on_inbound(&self, inbound: &Inbound, steps: &Steps<'_>) -> Result<(), TaskError> {
        match inbound {
            Inbound::Command {
                channel,
                user,
                text,
                response_url,
                trigger_id,
            } => {
                if self.paging.is_some() && matches!(command::parse(text), Ok(Command::Mayday)) {
                    return self.mayday_prompt(channel, user, response_url, steps).await;
                }
                let answer = self.run_command(channel, user, text, trigger_id).await?;
                steps
                    .once("respond", || async {
                        Ok(self.client.respond(response_url, &answer).await?)
                    })
                    .await
            }
            Inbound::Event { event, .. } => self.on_event(event, steps).await,
            Inbound::Action {
                action_id,
                value,
                user,
                response_url,
                selected_user,
                ..
            } => {
                if action_id.starts_with(ScaAction::PREFIX) {
                    let answer = self
                        .on_sca_action(user, action_id, value, selected_user.as_deref())
                        .await?;
                    steps
                        .once("reply", || async {
                            Ok(self.client.post_message(user, &answer, None, None).await?)
                        })
                        .await
                        .map(drop)
                } else {
                    let answer = self.on_action(action_id, value, user).await?;
                    if response_url.is_empty() {
                        return steps
                            .once("reply", || async {
                                Ok(self.client.post_message(user, &answer, None, None).await?)
                            })
                            .await
                            .map(drop);
                    }
                    steps
                        .once("respond", || async {
                            Ok(self.client.respond(response_url, &answer).await?)
                        })
                        .await
                }
            }
            Inbound::Submission {
                view_id,
                user,
                title,
                level,
                description,
                private,
            } => {
                let new = NewSev {
                    title: title.clone(),
                    level: Some(*level),
                    description: description.clone(),
                    private: *private,
                    ..NewSev::default()
                };
                let key = inbound.key();
                let filed = self.file(new, user, key.as_str()).await;
                let text = reply(filed)?;
                tracing::info!(view = %view_id, "modal submission handled");
                steps
                    .once("dm", || async {
                        Ok(self.client.post_message(user, &text, None, None).await?)
                    })
                    .await
                    .map(drop)
            }
        }
    }
}

#[async_trait]
impl TaskHandler for SlackIntegration {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        let steps = Steps::new(&self.repo, task.key.as_str(), "slack");
        match &task.task {
            Task::SevFiled { sev } => self.on_filed(*sev, &steps).await,
            Task::TimelineEntryAdded { sev, entry } => self.on_entry(*sev, entry, &steps).await,
            Task::Slack { inbound } => self.on_inbound(inbound, &steps).await,
            Task::Nag { sca, step, .. } => self.on_nag(*sca, *step, &steps).await,
            Task::PostDigest { week, .. } => self.post_digest(*week, &steps).await,
            Task::ReportNag { sev, step, .. } => self.on_report_nag(*sev, *step, &steps).await,
            // Planning, drafting and sweeping belong to other handlers; the pager queue's tasks
            // reach Slack as the timeline entries they write.
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ScaId;
    use crate::store::StoreError;

    #[test]
    fn people_are_answered_and_storage_trouble_is_retried() {
        assert_eq!(reply(Ok("done".into())).unwrap(), "done");
        assert_eq!(
            reply(Err(AppError::NoSuchSca(ScaId(7)))).unwrap(),
            "SCA-7 does not exist"
        );
        let down = reply(Err(AppError::Store(StoreError::Backend("down".into()))));
        assert!(
            matches!(&down, Err(TaskError::Retryable(m)) if m == "storage is unavailable: storage backend failed: down"),
            "{down:?}"
        );
        let busy = reply(Err(AppError::Conflict));
        assert!(
            matches!(&busy, Err(TaskError::Retryable(_))),
            "contention is retried: {busy:?}"
        );
    }
}
