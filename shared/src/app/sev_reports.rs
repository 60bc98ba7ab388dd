//! The stored SEV report: drafted from the template when the SEV gets a report owner, edited by
//! people, marked complete for review. Every save names the version it edited, so two people
//! editing at once never silently overwrite each other.

use std::sync::Arc;

use async_trait::async_trait;

use super::AppError;
use super::retry::{Attempt, retry_optimistic};
use super::sevs::{entries_at, entry_tasks};
use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::{Actor, Entry, EntryKind, Report, ReportChange, SevId};
use crate::queue::{Relay, Task, TaskEnvelope, TaskError, TaskHandler};
use crate::reports::{self, Template};
use crate::store::{RepoError, SevRepo, StoredReport};

/// Completion re-reads and retries when an edit lands at the same moment. Fewer tries than the
/// default: a report's saves are people editing it, so one that keeps changing under the
/// completer after a few re-reads is being saved by someone else, and the completer must be told
/// (a 409) rather than wait it out.
const COMPLETE_ATTEMPTS: u32 = 5;

/// The timeline entry of a report change and the tasks it causes (Slack posts, report nags).
fn timeline_change(
    sev: SevId,
    change: ReportChange,
    by: &Actor,
    now: DateTime<Utc>,
) -> (Vec<Entry>, Vec<TaskEnvelope>) {
    let entries = entries_at(vec![EntryKind::Report { change }], by, now);
    let tasks = entry_tasks(sev, &entries, now);
    (entries, tasks)
}

/// The SEV report: one document per SEV, from the company's template.
#[derive(Clone)]
pub struct SevReportService {
    repo: SevRepo,
    relay: Relay,
    clock: Arc<dyn Clock>,
    template: Arc<Template>,
}

impl SevReportService {
    pub fn new(repo: SevRepo, relay: Relay, clock: Arc<dyn Clock>, template: Arc<Template>) -> Self {
        SevReportService {
            repo,
            relay,
            clock,
            template,
        }
    }

    /// The SEV's report as the template fills it in now (record, timeline and SCAs): what a draft
    /// starts from, and what is shown while there is no stored report.
    pub async fn filled_template(&self, id: SevId) -> Result<String, AppError> {
        let sev = self.repo.load(id).await?.sev;
        let timeline = self.repo.timeline(id).await?;
        let scas = self.repo.scas_of(id).await?;
        Ok(reports::sev_report(
            &self.template,
            &sev,
            &timeline,
            &scas,
            self.clock.now(),
        ))
    }

    /// The stored report, if there is one. Callers have read the SEV already (to check who may
    /// see it), so a missing SEV is simply one without a report here.
    pub async fn stored(&self, sev: SevId) -> Result<Option<StoredReport>, AppError> {
        Ok(self.repo.report(sev).await?)
    }

    /// Drafts the report from the template unless the SEV has one. Returns the stored report.
    pub async fn draft(&self, sev: SevId, by: Actor) -> Result<StoredReport, AppError> {
        if let Some(existing) = self.stored(sev).await? {
            return Ok(existing);
        }
        let markdown = self.filled_template(sev).await?;
        match self.create(sev, &markdown, by).await {
            Err(AppError::StaleReport { .. }) => self.repo.report(sev).await?.ok_or(AppError::NoReport(sev)),
            other => other,
        }
    }

    async fn create(&self, sev: SevId, markdown: &str, by: Actor) -> Result<StoredReport, AppError> {
        let now = self.clock.now();
        let owner = self
            .repo
            .load(sev)
            .await?
            .sev
            .report_owner
            .unwrap_or_else(|| by.clone());
        let report = Report::draft(sev, markdown, owner, by.clone(), now)?;
        let (entries, tasks) = timeline_change(sev, ReportChange::Drafted, &by, now);
        match self.repo.save_report(&report, None, &entries, &tasks).await {
            Ok(version) => {
                tracing::info!(sev = %sev, "SEV report drafted");
                self.relay.kick().await;
                Ok(StoredReport { report, version })
            }
            Err(RepoError::Conflict) => Err(self.stale(sev).await),
            Err(e) => Err(e.into()),
        }
    }

    async fn stale(&self, sev: SevId) -> AppError {
        match self.repo.report(sev).await {
            Ok(current) => AppError::StaleReport {
                sev,
                current: current.map_or(0, |c| c.version),
            },
            Err(e) => e.into(),
        }
    }

    /// Saves `markdown` over version `version` of the report (none yet: `None` or 0 creates it).
    pub async fn edit(
        &self,
        sev: SevId,
        markdown: &str,
        version: Option<u64>,
        by: Actor,
    ) -> Result<StoredReport, AppError> {
        let Some(mut stored) = self.stored(sev).await? else {
            return match version {
                None | Some(0) => self.create(sev, markdown, by).await,
                Some(_) => Err(AppError::StaleReport { sev, current: 0 }),
            };
        };
        let version = version.ok_or(AppError::ReportVersionRequired(sev))?;
        if version != stored.version {
            return Err(AppError::StaleReport {
                sev,
                current: stored.version,
            });
        }
        if !stored.report.edit(markdown, by, self.clock.now())? {
            return Ok(stored);
        }
        match self.repo.save_report(&stored.report, Some(version), &[], &[]).await {
            Ok(v) => {
                stored.version = v;
                Ok(stored)
            }
            Err(RepoError::Conflict) => Err(self.stale(sev).await),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks the report ready for review: it goes to the reports channel and the weekly digest.
    pub async fn complete(&self, sev: SevId, by: Actor) -> Result<StoredReport, AppError> {
        retry_optimistic(COMPLETE_ATTEMPTS, || async {
            let mut stored = self.stored(sev).await?.ok_or(AppError::NoReport(sev))?;
            let now = self.clock.now();
            if !stored.report.complete(by.clone(), now)? {
                return Ok(Attempt::Done(stored));
            }
            let (entries, tasks) = timeline_change(sev, ReportChange::Completed, &by, now);
            match self
                .repo
                .save_report(&stored.report, Some(stored.version), &entries, &tasks)
                .await
            {
                Ok(v) => {
                    tracing::info!(sev = %sev, "SEV report marked complete");
                    self.relay.kick().await;
                    stored.version = v;
                    Ok(Attempt::Done(stored))
                }
                Err(RepoError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}

/// Drafts a SEV's report when it gets a report owner, whichever way it got one.
#[derive(Clone)]
pub struct ReportDrafter {
    reports: SevReportService,
}

impl ReportDrafter {
    pub fn new(reports: SevReportService) -> Self {
        ReportDrafter { reports }
    }
}

#[async_trait]
impl TaskHandler for ReportDrafter {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        let Task::DraftReport { sev, .. } = &task.task else {
            return Ok(());
        };
        self.reports
            .draft(*sev, Actor::SEVTOOL)
            .await
            .map(drop)
            .map_err(TaskError::from)
    }
}
