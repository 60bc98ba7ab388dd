//! Reports in Slack: a drafted report is posted in its SEV's response channel, a completed one
//! in the reports channel for review (a private SEV's stays in its own channel), and the weekly
//! digest in the digest channel.

use super::handler::SlackIntegration;
use super::report_posts::{ReportPost, digest_message, report_message, report_nag};
use crate::domain::{Actor, ReportChange, ReportNagStep, Sev, SevId};
use crate::queue::{Steps, TaskError};
use crate::reports::{IsoWeek, Viewer};

impl SlackIntegration {
    pub(super) async fn on_report(
        &self,
        sev: &Sev,
        change: ReportChange,
        response: &str,
        steps: &Steps<'_>,
    ) -> Result<(), TaskError> {
        let Some(stored) = self.repo.report(sev.id).await.map_err(TaskError::from)? else {
            return Err(TaskError::Permanent(format!("{} has no stored report", sev.id)));
        };
        let web = self.settings.web_url.as_deref();
        let (why, channel) = match change {
            ReportChange::Drafted => (ReportPost::Drafted, response),
            ReportChange::Completed if sev.private => (ReportPost::Complete, response),
            ReportChange::Completed => (ReportPost::Complete, self.settings.reports_channel.as_str()),
        };
        let (text, blocks) = report_message(sev, &stored.report, web, why);
        steps
            .once("report", || async {
                Ok(self
                    .client
                    .post_message(channel, &text, Some(blocks.clone()), None)
                    .await?)
            })
            .await?;
        Ok(())
    }

    /// Posts the digest of `week` to the digest channel. Scheduled digests are read by people who
    /// may not see private SEVs, so those are left out.
    pub(super) async fn post_digest(&self, week: IsoWeek, steps: &Steps<'_>) -> Result<(), TaskError> {
        let Some(trends) = &self.trends else {
            return Err(TaskError::Permanent(
                "the weekly digest needs the trend reports service".into(),
            ));
        };
        let digest = trends
            .weekly(week, Viewer::ANONYMOUS)
            .await
            .map_err(|e| TaskError::Retryable(e.to_string()))?;
        let text = digest_message(&digest, self.settings.web_url.as_deref());
        let channel = &self.settings.digest_channel;
        steps
            .once("digest", || async {
                Ok(self.client.post_message(channel, &text, None, None).await?)
            })
            .await?;
        tracing::info!(week = %week, "weekly digest posted to Slack");
        Ok(())
    }

    /// A report nag fired: said only if it is still owed when it fires (an owner may have been
    /// named, the report completed, since it was planned).
    pub(super) async fn on_report_nag(
        &self,
        id: SevId,
        step: ReportNagStep,
        steps: &Steps<'_>,
    ) -> Result<(), TaskError> {
        let sev = self.load(id).await?.sev;
        let complete = self
            .repo
            .report(id)
            .await
            .map_err(TaskError::from)?
            .is_some_and(|r| r.report.is_complete());
        let due = match (step, sev.resolved_at) {
            (ReportNagStep::Owner, _) => sev.mitigated_at.or(sev.resolved_at),
            (ReportNagStep::Overdue, Some(resolved)) => Some(self.report_policy.due(resolved)),
            (ReportNagStep::Overdue, None) => None,
        };
        let owed = match step {
            ReportNagStep::Owner => sev.report_owner.is_none() && !complete,
            ReportNagStep::Overdue => !complete && !sev.status.is_active(),
        };
        let Some(due) = due.filter(|_| owed) else {
            return Ok(());
        };
        let text = report_nag(&sev, step, due, self.settings.web_url.as_deref());
        let person = match step {
            ReportNagStep::Owner => sev.coordinator.as_ref(),
            ReportNagStep::Overdue => sev.report_owner.as_ref(),
        };
        if let Some(person) = person.and_then(Actor::slack_user) {
            steps
                .once("person", || async {
                    Ok(self.client.post_message(person, &text, None, None).await?)
                })
                .await?;
        }
        if let Some(channel) = self.state.sev(id).await.map_err(TaskError::from)?.response {
            steps
                .once("channel", || async {
                    Ok(self.client.post_message(&channel, &text, None, None).await?)
                })
                .await?;
        }
        Ok(())
    }
}
