//! The pager queue's task handler: pages one team per task, looks up who is on call, resolves
//! pages when their SEV is resolved, and fans a mayday out into one task per team. Each pager
//! call is a memoized step, and every page carries its dedup key, so retries never page twice.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::pager::{Incidents, OnCall, PageRequest, Pager};
use crate::app::{PagingService, SevService};
use crate::domain::{Actor, PageState, SevId};
use crate::queue::{IncidentChange, Steps, Task, TaskEnvelope, TaskError, TaskHandler};
use crate::store::SevRepo;

/// A page still failing this long after it was asked for is recorded as failed, so that people
/// see it and page by phone, rather than it waiting silently in the queue's retries.
const GIVE_UP_AFTER: Duration = Duration::minutes(3);

#[derive(Clone)]
pub struct PagingIntegration {
    paging: PagingService,
    sevs: SevService,
    repo: SevRepo,
    pager: Arc<dyn Pager>,
    incidents: Arc<dyn Incidents>,
}

impl PagingIntegration {
    pub fn new(
        paging: PagingService,
        sevs: SevService,
        repo: SevRepo,
        pager: Arc<dyn Pager>,
        incidents: Arc<dyn Incidents>,
    ) -> Self {
        PagingIntegration {
            paging,
            sevs,
            repo,
            pager,
            incidents,
        }
    }

    /// A PagerDuty incident changed: if it is one of our pages (by its dedup key, read back from
    /// PagerDuty), record what happened on that page.
    async fn incident_changed(
        &self,
        incident: &str,
        change: IncidentChange,
        agent: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), TaskError> {
        let Some(key) = self.incidents.dedup_key(incident).await.map_err(TaskError::from)? else {
            tracing::info!(incident, "a PagerDuty event for an incident PagerDuty does not know");
            return Ok(());
        };
        self.page_changed(&key, change, agent, at).await
    }

    /// A pager said the page with this dedup key changed: record it on the page, if it is ours.
    async fn page_changed(
        &self,
        key: &str,
        change: IncidentChange,
        agent: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), TaskError> {
        let Some((id, team)) = crate::domain::parse_dedup_key(key) else {
            // Someone else's incident on a service our webhook also watches.
            tracing::debug!("a pager event for a page sevtool did not send");
            return Ok(());
        };
        let Some(page) = self.paging.page_of(id, team).await.map_err(TaskError::from)? else {
            return Ok(());
        };
        if page.state == PageState::Queued {
            // The trigger went out but is not recorded yet: come back once it is.
            return Err(TaskError::Retryable(format!(
                "the page of {id} to {team} is not recorded as paged yet"
            )));
        }
        // The pager's clock ahead of ours must not put an acknowledgement in the future.
        let at = at.min(self.sevs.now());
        let recorded = match change {
            IncidentChange::Acknowledged => self.paging.record_acknowledged(id, team, agent, at).await,
            IncidentChange::Resolved => self.paging.record_resolved(id, team).await,
            IncidentChange::Reassigned | IncidentChange::Escalated => {
                self.paging.record_escalated(id, team, change.as_str(), agent).await
            }
        };
        recorded.map_err(TaskError::from)?;
        tracing::info!(sev = %id, team, change = change.as_str(), pager = page.pager.as_str(), "pager event recorded");
        Ok(())
    }

    async fn page(&self, task: &TaskEnvelope, id: SevId, team_name: &str) -> Result<(), TaskError> {
        let Some(page) = self.paging.page_of(id, team_name).await.map_err(TaskError::from)? else {
            return Err(TaskError::Permanent(format!("{id} has no page to {team_name}")));
        };
        if page.state != PageState::Queued {
            return Ok(());
        }
        let Some(team) = self.paging.catalog().find(team_name).cloned() else {
            self.paging
                .record_failed(id, team_name, "the team is no longer in the catalog")
                .await
                .map_err(TaskError::from)?;
            return Ok(());
        };
        let sev = self.sevs.get(id).await.map_err(TaskError::from)?.sev;
        let request = PageRequest {
            sev: id,
            level: sev.level,
            team: team.name.clone(),
            summary: sev.title.clone(),
            dedup_key: page.dedup_key.clone(),
        };
        let steps = Steps::new(&self.repo, task.key.as_str(), "pager");
        let triggered = steps
            .once("trigger", || async {
                self.pager.trigger(&team.pager, &request).await.map_err(TaskError::from)
            })
            .await;
        let give_up = self.sevs.now() - task.created_at > GIVE_UP_AFTER;
        match triggered {
            Ok(()) => {}
            Err(TaskError::Retryable(reason)) if !give_up => {
                tracing::warn!(sev = %id, team = %team.name, %reason, "page failed; will retry");
                self.paging
                    .record_retrying(id, &team.name, &reason)
                    .await
                    .map_err(TaskError::from)?;
                return Err(TaskError::Retryable(reason));
            }
            Err(TaskError::Retryable(reason) | TaskError::Permanent(reason)) => {
                tracing::error!(sev = %id, team = %team.name, %reason, "page failed for good");
                self.paging
                    .record_failed(id, &team.name, &reason)
                    .await
                    .map_err(TaskError::from)?;
                return Ok(());
            }
        }
        let on_call: Vec<OnCall> = match steps
            .once("on-call", || async {
                self.pager.on_call(&team.pager).await.map_err(TaskError::from)
            })
            .await
        {
            Ok(people) => people,
            Err(TaskError::Retryable(reason)) if !give_up => return Err(TaskError::Retryable(reason)),
            // The page went out; not knowing who holds it must not hide that it did.
            Err(TaskError::Retryable(reason) | TaskError::Permanent(reason)) => {
                tracing::warn!(sev = %id, team = %team.name, %reason, "who is on call is unknown");
                Vec::new()
            }
        };
        self.paging
            .record_paged(id, &team.name, &on_call)
            .await
            .map_err(TaskError::from)?;
        tracing::info!(sev = %id, team = %team.name, people = on_call.len(), "paged");
        Ok(())
    }

    async fn resolve_pages(&self, task: &TaskEnvelope, id: SevId) -> Result<(), TaskError> {
        let steps = Steps::new(&self.repo, task.key.as_str(), "pager");
        for page in self.paging.pages(id).await.map_err(TaskError::from)? {
            match page.state {
                PageState::Paged | PageState::Acknowledged => {
                    if let Some(team) = self.paging.catalog().find(&page.team).cloned() {
                        steps
                            .once(&format!("resolve:{}", page.team), || async {
                                self.pager
                                    .resolve(&team.pager, &page.dedup_key)
                                    .await
                                    .map_err(TaskError::from)
                            })
                            .await?;
                    }
                }
                // Not sent yet: marking it resolved stops its task from paging anyone.
                PageState::Queued => {}
                PageState::Failed | PageState::Resolved => continue,
            }
            self.paging
                .record_resolved(id, &page.team)
                .await
                .map_err(TaskError::from)?;
        }
        Ok(())
    }
}

#[async_trait]
impl TaskHandler for PagingIntegration {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        match &task.task {
            Task::AutoPage { sev } => {
                let teams = self.paging.auto_page(*sev).await.map_err(TaskError::from)?;
                if !teams.is_empty() {
                    tracing::info!(sev = %sev, teams = teams.len(), "auto-paged");
                }
                Ok(())
            }
            Task::Page { sev, team } => self.page(task, *sev, team).await,
            Task::Mayday { sev } => {
                let created = self
                    .paging
                    .fan_out(*sev, &Actor::SEVTOOL)
                    .await
                    .map_err(TaskError::from)?;
                tracing::info!(sev = %sev, pages = created, "mayday fanned out");
                Ok(())
            }
            Task::ResolvePages { sev, .. } => self.resolve_pages(task, *sev).await,
            Task::PagerDutyEvent {
                change,
                incident,
                agent,
                at,
                ..
            } => self.incident_changed(incident, *change, agent.as_deref(), *at).await,
            Task::OpsgenieEvent {
                change,
                dedup_key,
                agent,
                at,
                ..
            } => self.page_changed(dedup_key, *change, agent.as_deref(), *at).await,
            // The pager queue carries only the seven above; anything else is another integration's.
            _ => Ok(()),
        }
    }
}
