//! The Jira task handler: files an issue for each new open SCA and links it, and marks done the
//! SCAs whose issue is done, on the daily sweep and when Jira's webhook says an issue changed.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::client::{JiraClient, JiraError, NewIssue};
use super::{JiraSettings, adf};
use crate::app::{AppError, ScaService};
use crate::domain::{Actor, Sca, ScaId, ScaPatch, ScaStateName};
use crate::paging::Catalog;
use crate::queue::{Steps, Task, TaskEnvelope, TaskError, TaskHandler};
use crate::store::{RepoError, SevRepo, keys};

/// An open SCA linked to an issue of this Jira site: what the sweep polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Linked {
    sca: ScaId,
    issue: String,
}

#[derive(Clone)]
pub struct JiraIntegration {
    client: JiraClient,
    settings: Arc<JiraSettings>,
    scas: ScaService,
    repo: SevRepo,
    /// The team catalog, when paging is configured: it says which team owns a product track.
    catalog: Option<Arc<Catalog>>,
    /// `SEVTOOL_PUBLIC_URL`, for a link from the issue back to the SEV.
    public_url: Option<String>,
}

/// The project an SCA's issue goes to: that of the team whose `product_tracks` include the SEV's
/// product track, else the default project. `Err` says what to configure.
pub fn project_for(
    product_track: Option<&str>,
    catalog: Option<&Catalog>,
    default: Option<&str>,
) -> Result<String, String> {
    let owner = product_track.and_then(|track| catalog?.owner_of(track));
    if let Some(project) = owner.and_then(|team| team.jira_project.as_deref()) {
        return Ok(project.to_owned());
    }
    if let Some(project) = default {
        return Ok(project.to_owned());
    }
    Err(match owner {
        Some(team) => format!(
            "no Jira project for team {}: set jira_project on it in the team catalog, or SEVTOOL_JIRA_PROJECT for a default project",
            team.name
        ),
        None => "no Jira project: no team in the catalog owns the SEV's product track with a jira_project, and SEVTOOL_JIRA_PROJECT (the default project) is not set".into(),
    })
}

fn storage(e: impl std::fmt::Display) -> TaskError {
    TaskError::Retryable(format!("storage: {e}"))
}

impl JiraIntegration {
    pub fn new(
        settings: Arc<JiraSettings>,
        scas: ScaService,
        repo: SevRepo,
        catalog: Option<Arc<Catalog>>,
        public_url: Option<String>,
    ) -> Self {
        JiraIntegration {
            client: JiraClient::new(&settings.url, &settings.email, settings.api_token.clone()),
            settings,
            scas,
            repo,
            catalog,
            public_url,
        }
    }

    /// Keeps the sweep's list right: an open SCA linked into this site is on it, others are not.
    /// Every change of an SCA passes here, so links people paste are synced too.
    async fn track(&self, sca: &Sca) -> Result<(), TaskError> {
        let key = keys::jira_link(sca.id);
        let issue = sca
            .ticket
            .as_deref()
            .filter(|_| sca.is_open())
            .and_then(|t| self.client.issue_key_of(t));
        let stored: Option<Linked> = self.repo.record(&key).await.map_err(storage)?;
        match issue {
            Some(issue) => {
                let wanted = Linked {
                    sca: sca.id,
                    issue: issue.to_owned(),
                };
                if stored.as_ref() != Some(&wanted) {
                    self.repo.put_record(key, &wanted).await.map_err(storage)?;
                }
            }
            None if stored.is_some() => self.repo.delete_record(&key).await.map_err(storage)?,
            None => {}
        }
        Ok(())
    }

    /// Files the SCA's issue and stores its link, once. The steps are kept per SCA rather than per
    /// task, so that neither a redelivered task, nor another change of the SCA arriving before
    /// the link is stored, nor a crash between the two, files a second issue; and a link someone
    /// removed on purpose is not put back.
    async fn link(&self, id: ScaId) -> Result<(), TaskError> {
        let sca = self.scas.get(id).await.map_err(TaskError::from)?;
        self.track(&sca).await?;
        if !sca.is_open() || sca.ticket.is_some() {
            return Ok(());
        }
        let sev = match self.repo.load(sca.sev).await {
            Ok(stored) => stored.sev,
            Err(RepoError::NotFound(sev)) => return Err(TaskError::Permanent(format!("{sev} does not exist"))),
            Err(e) => return Err(storage(e)),
        };
        let memo = format!("jira:{id}");
        let steps = Steps::new(&self.repo, &memo, "jira");
        let issue: String = steps
            .once("create-issue", || async {
                let project = project_for(
                    sev.product_track.as_deref(),
                    self.catalog.as_deref(),
                    self.settings.default_project.as_deref(),
                )
                .map_err(|reason| TaskError::Permanent(format!("{id}: {reason}")))?;
                let sev_url = self.public_url.as_ref().map(|u| format!("{u}/sevs/{}", sev.id));
                let new = NewIssue {
                    project: project.clone(),
                    issue_type: self.settings.issue_type.clone(),
                    summary: adf::summary(&sca),
                    priority: self.settings.priorities.name(sca.priority).to_owned(),
                    description: adf::description(&sca, &sev, sev_url.as_deref()),
                    due: sca.due.map(|d| d.date_naive()),
                };
                let key = self.client.create_issue(&new).await.map_err(|e| match e {
                    JiraError::Refused { .. } => {
                        TaskError::Permanent(format!("{id}: filing in project {project}: {e}"))
                    }
                    e => e.into(),
                })?;
                tracing::info!(sca = %id, issue = %key, "Jira issue filed");
                Ok(key)
            })
            .await?;
        steps
            .once("store-link", || async {
                let link = self.client.browse_link(&issue);
                let patch = ScaPatch {
                    ticket: Some(Some(link)),
                    ..ScaPatch::default()
                };
                let sca = self
                    .scas
                    .update(id, patch, Actor::JIRA)
                    .await
                    .map_err(TaskError::from)?;
                self.track(&sca).await
            })
            .await
    }

    /// Marks done the open linked SCAs whose issue is done. One issue failing does not stop the
    /// others; the sweep is retried when any could not be read for a reason that may pass.
    async fn sweep(&self) -> Result<(), TaskError> {
        let linked: Vec<Linked> = self.repo.records_under(keys::JIRA_LINKS).await.map_err(storage)?;
        self.check_all(&linked, "Jira sweep").await
    }

    /// What Jira's webhook said changed: the SCAs linked to `issue`, checked at once rather than
    /// at the next sweep. The webhook's body is not trusted: the issue is read back from Jira.
    async fn issue_changed(&self, issue: &str) -> Result<(), TaskError> {
        let linked: Vec<Linked> = self.repo.records_under(keys::JIRA_LINKS).await.map_err(storage)?;
        let linked: Vec<Linked> = linked.into_iter().filter(|l| l.issue == issue).collect();
        self.check_all(&linked, "Jira webhook").await
    }

    async fn check_all(&self, linked: &[Linked], what: &str) -> Result<(), TaskError> {
        let (mut done, mut retry, mut refused) = (0usize, Vec::new(), Vec::new());
        for l in linked {
            match self.check(l).await? {
                Checked::Done => done += 1,
                Checked::Open => {}
                Checked::Failed(e @ JiraError::Unavailable(_)) => retry.push(format!("{}: {e}", l.issue)),
                Checked::Failed(e) => refused.push(format!("{}: {e}", l.issue)),
            }
        }
        tracing::info!(polled = linked.len(), done, "{what}");
        let summary = |failed: &[String]| {
            format!(
                "{} of {} Jira issues could not be read; first: {}",
                failed.len(),
                linked.len(),
                failed.first().map_or("", String::as_str)
            )
        };
        if !retry.is_empty() {
            return Err(TaskError::Retryable(summary(&retry)));
        }
        if !refused.is_empty() {
            return Err(TaskError::Permanent(summary(&refused)));
        }
        Ok(())
    }

    /// Reads one linked SCA's issue and marks the SCA done if the issue is. `Err` only for what
    /// stops every other check too (storage).
    async fn check(&self, l: &Linked) -> Result<Checked, TaskError> {
        let sca = match self.scas.get(l.sca).await {
            Ok(sca) => sca,
            Err(AppError::NoSuchSca(_)) => {
                self.repo
                    .delete_record(&keys::jira_link(l.sca))
                    .await
                    .map_err(storage)?;
                return Ok(Checked::Open);
            }
            Err(e) => return Err(e.into()),
        };
        let current = sca.ticket.as_deref().and_then(|t| self.client.issue_key_of(t));
        if !sca.is_open() || current != Some(l.issue.as_str()) {
            self.track(&sca).await?;
            return Ok(Checked::Open);
        }
        match self.client.is_done(&l.issue).await {
            Ok(false) => Ok(Checked::Open),
            Ok(true) => {
                let patch = ScaPatch {
                    state: Some((ScaStateName::Done, None)),
                    ..ScaPatch::default()
                };
                let sca = self
                    .scas
                    .update(l.sca, patch, Actor::JIRA)
                    .await
                    .map_err(TaskError::from)?;
                self.track(&sca).await?;
                tracing::info!(sca = %l.sca, issue = %l.issue, "SCA done: its Jira issue is done");
                Ok(Checked::Done)
            }
            Err(e) if e.status() == Some(404) => {
                // Deleted, moved out of reach, or never ours to see: asking again will not help.
                tracing::warn!(sca = %l.sca, issue = %l.issue, "Jira issue not found; no longer polled");
                self.repo
                    .delete_record(&keys::jira_link(l.sca))
                    .await
                    .map_err(storage)?;
                Ok(Checked::Open)
            }
            Err(e) => Ok(Checked::Failed(e)),
        }
    }
}

/// What reading one linked SCA's issue found.
enum Checked {
    Done,
    /// Not done, or no longer ours to check.
    Open,
    Failed(JiraError),
}

#[async_trait]
impl TaskHandler for JiraIntegration {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        match &task.task {
            Task::ScheduleNags { sca, .. } => self.link(*sca).await,
            Task::Sweep { .. } => self.sweep().await,
            Task::JiraIssueChanged { issue, .. } => self.issue_changed(issue).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let pd = "[team.pagerduty]\nrouting_key = \"R0123456789abcdef0123456789abcdef\"\nschedule = \"P1\"\n";
        let text = format!(
            "[[team]]\nname = \"atc\"\nrotation = \"coordinator\"\n{pd}\n\
             [[team]]\nname = \"payments\"\nproduct_tracks = [\"checkout\"]\njira_project = \"PAY\"\n{pd}\n\
             [[team]]\nname = \"search\"\nproduct_tracks = [\"discovery\"]\n{pd}\n"
        );
        Catalog::parse(&text).unwrap()
    }

    #[test]
    fn the_owning_team_s_project_comes_first_then_the_default() {
        let c = catalog();
        assert_eq!(project_for(Some("Checkout "), Some(&c), Some("OPS")), Ok("PAY".into()));
        assert_eq!(project_for(Some("discovery"), Some(&c), Some("OPS")), Ok("OPS".into()));
        assert_eq!(project_for(Some("unknown"), Some(&c), Some("OPS")), Ok("OPS".into()));
        assert_eq!(project_for(None, Some(&c), Some("OPS")), Ok("OPS".into()));
        assert_eq!(project_for(Some("checkout"), None, Some("OPS")), Ok("OPS".into()));
    }

    #[test]
    fn without_a_project_the_reason_says_what_to_set() {
        let c = catalog();
        let team = project_for(Some("discovery"), Some(&c), None).unwrap_err();
        assert!(team.contains("team search") && team.contains("jira_project"), "{team}");
        let none = project_for(None, None, None).unwrap_err();
        assert!(none.contains("SEVTOOL_JIRA_PROJECT"), "{none}");
    }
}
