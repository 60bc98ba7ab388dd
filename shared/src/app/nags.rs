//! Plans each open SCA's nags as schedules, and plans them again whenever the SCA changes or an
//! escalation fires, so the ladder goes on until the SCA is done or dropped.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::FixedOffset;

use super::ScaService;
use crate::clock::Clock;
use crate::domain::{Actor, NagPolicy, NagStep, ReportPolicy, ScaId};
use crate::queue::{Task, TaskEnvelope, TaskError, TaskHandler};
use crate::schedule::Scheduler;
use crate::store::SevRepo;

/// Where a person is, for their quiet hours: their own time zone, when something knows it.
#[async_trait]
pub trait TimeZones: Send + Sync {
    async fn offset_of(&self, person: &Actor) -> Option<FixedOffset>;
}

#[derive(Clone)]
pub struct NagPlanner {
    scas: ScaService,
    pub(super) scheduler: Arc<dyn Scheduler>,
    pub(super) policy: NagPolicy,
    /// Owners' time zone for quiet hours when their own is not known.
    pub(super) offset: FixedOffset,
    zones: Option<Arc<dyn TimeZones>>,
    /// Where reports and their policy are read, for the report nags; none: no report nags.
    pub(super) reports: Option<(SevRepo, ReportPolicy)>,
    pub(super) clock: Arc<dyn Clock>,
}

/// One schedule per SCA and rung, so moving a due date moves the schedule rather than adding one.
pub fn schedule_name(sca: ScaId, step: NagStep) -> String {
    format!("sca-{}-{}", sca.0, step.as_str())
}

impl NagPlanner {
    pub fn new(
        scas: ScaService,
        scheduler: Arc<dyn Scheduler>,
        policy: NagPolicy,
        offset: FixedOffset,
        clock: Arc<dyn Clock>,
    ) -> Self {
        NagPlanner {
            scas,
            scheduler,
            policy,
            offset,
            zones: None,
            reports: None,
            clock,
        }
    }

    /// Also nags about SEV reports (a missing owner, an overdue report).
    pub fn with_reports(mut self, repo: SevRepo, policy: ReportPolicy) -> Self {
        self.reports = Some((repo, policy));
        self
    }

    /// Looks up each owner's own time zone (from their Slack profile), falling back to the
    /// configured offset.
    pub fn with_zones(mut self, zones: Arc<dyn TimeZones>) -> Self {
        self.zones = Some(zones);
        self
    }

    pub(super) async fn offset_of(&self, owner: &Actor) -> FixedOffset {
        match &self.zones {
            Some(zones) => zones.offset_of(owner).await.unwrap_or(self.offset),
            None => self.offset,
        }
    }

    /// Upserts the schedules of the rungs still to come and deletes the others.
    pub async fn plan(&self, id: ScaId) -> Result<(), TaskError> {
        let sca = self.scas.get(id).await?;
        let now = self.clock.now();
        let offset = self.offset_of(&sca.owner).await;
        let ladder = self.policy.ladder(&sca, now, offset);
        for step in NagStep::ALL {
            let name = schedule_name(id, step);
            let result = match ladder.iter().find(|(s, _)| *s == step) {
                Some((_, at)) => {
                    let task = TaskEnvelope::new(Task::Nag { sca: id, step, at: *at }, now);
                    self.scheduler.upsert(&name, *at, &task).await
                }
                None => self.scheduler.delete(&name).await,
            };
            result.map_err(|e| TaskError::Retryable(e.to_string()))?;
        }
        Ok(())
    }
}

impl NagPlanner {
    /// Plans every open SCA's nags again: a schedule that was lost (deleted by hand, never made
    /// because the scheduler was down past the task's retries) comes back. Idempotent.
    pub async fn sweep(&self) -> Result<usize, TaskError> {
        let scas = self.scas.open_with_due().await?;
        let mut failed = 0;
        for sca in &scas {
            if let Err(e) = self.plan(sca.id).await {
                tracing::warn!(sca = %sca.id, error = %e, "sweep could not plan an SCA's nags");
                failed += 1;
            }
        }
        tracing::info!(scas = scas.len(), failed, "nag sweep done");
        if failed > 0 {
            return Err(TaskError::Retryable(format!(
                "{failed} of {} SCAs could not be planned",
                scas.len()
            )));
        }
        Ok(scas.len())
    }
}

#[async_trait]
impl TaskHandler for NagPlanner {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        match &task.task {
            Task::Sweep { .. } => {
                self.sweep().await?;
                self.sweep_reports().await
            }
            Task::ScheduleReportNags { sev, .. } | Task::ReportNag { sev, .. } => self.plan_report(*sev).await,
            Task::ScheduleNags { sca, .. }
            | Task::Nag {
                sca,
                step: NagStep::Escalate,
                ..
            } => self.plan(*sca).await,
            _ => Ok(()),
        }
    }
}
