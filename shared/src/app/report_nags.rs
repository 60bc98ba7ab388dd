//! Plans the nags about SEV reports (no owner after mitigation, overdue after resolution) as
//! schedules, again whenever the SEV's status, report owner or report changes, a nag fires or
//! the daily sweep runs, so they repeat until the report has an owner and is complete.

use chrono::Duration;

use super::NagPlanner;
use crate::domain::{ReportNagStep, SevId};
use crate::queue::{Task, TaskEnvelope, TaskError};
use crate::store::RepoError;

/// How far back the sweep looks for SEVs that may still owe a report.
const SWEEP_WINDOW: Duration = Duration::days(180);

/// One schedule per SEV and reminder, so a plan moves it rather than adding one.
pub fn report_schedule_name(sev: SevId, step: ReportNagStep) -> String {
    format!("report-{}-{}", sev.0, step.as_str())
}

fn retryable(e: RepoError) -> TaskError {
    TaskError::Retryable(e.to_string())
}

impl NagPlanner {
    /// Upserts the report nags still owed for `id` and deletes the others.
    pub async fn plan_report(&self, id: SevId) -> Result<(), TaskError> {
        let Some((repo, policy)) = &self.reports else {
            return Ok(());
        };
        let sev = match repo.load(id).await {
            Ok(stored) => stored.sev,
            Err(RepoError::NotFound(_)) => return Err(TaskError::Permanent(format!("{id} does not exist"))),
            Err(e) => return Err(retryable(e)),
        };
        let complete = repo
            .report(id)
            .await
            .map_err(retryable)?
            .is_some_and(|r| r.report.is_complete());
        let now = self.clock.now();
        let nags = policy.nags(&sev, complete, now);
        for step in ReportNagStep::ALL {
            let name = report_schedule_name(id, step);
            let result = match nags.iter().find(|(s, _)| *s == step) {
                Some((_, at)) => {
                    // Quiet hours of whoever the nag is for: the owner, or the coordinator.
                    let person = match step {
                        ReportNagStep::Owner => sev.coordinator.as_ref(),
                        ReportNagStep::Overdue => sev.report_owner.as_ref(),
                    };
                    let offset = match person {
                        Some(p) => self.offset_of(p).await,
                        None => self.offset,
                    };
                    let at = self.policy.next_waking(*at, offset);
                    let task = TaskEnvelope::new(Task::ReportNag { sev: id, step, at }, now);
                    self.scheduler.upsert(&name, at, &task).await
                }
                None => self.scheduler.delete(&name).await,
            };
            result.map_err(|e| TaskError::Retryable(e.to_string()))?;
        }
        Ok(())
    }

    /// Plans the report nags of every SEV of the last months again.
    pub(super) async fn sweep_reports(&self) -> Result<(), TaskError> {
        let Some((repo, _)) = &self.reports else {
            return Ok(());
        };
        let now = self.clock.now();
        let sevs = repo.started_between(now - SWEEP_WINDOW, now).await.map_err(retryable)?;
        for sev in sevs.iter().filter(|s| !s.drill) {
            self.plan_report(sev.id).await?;
        }
        Ok(())
    }
}
