//! SCA nags: the reminders on each rung of the ladder, and the buttons they carry (done,
//! snooze, reassign).

use super::{SlackIntegration, reply};
use crate::app::AppError;
use crate::domain::{Actor, NagStep, ScaId, ScaPatch, ScaStateName, Sev};
use crate::queue::{Steps, TaskError};
use crate::slack::messages::{self, ScaAction, person};

impl SlackIntegration {
    /// Reminds the owner; past due also the SEV's channel; on escalation also the coordinator and
    /// the channel of the team that owns the SEV's product track.
    pub(super) async fn on_nag(&self, id: ScaId, step: NagStep, steps: &Steps<'_>) -> Result<(), TaskError> {
        let sca = match self.scas.get(id).await {
            Ok(sca) => sca,
            Err(AppError::NoSuchSca(_)) => return Ok(()),
            Err(e) => return Err(TaskError::Retryable(e.to_string())),
        };
        if !sca.is_open() {
            return Ok(());
        }
        let sev = self.load(sca.sev).await?.sev;
        let text = messages::nag(&sca, &sev, step);
        if let Some(owner) = sca.owner.slack_user() {
            let blocks = messages::nag_blocks(&sca, &text);
            steps
                .once("owner", || async {
                    Ok(self.client.post_message(owner, &text, Some(blocks), None).await?)
                })
                .await?;
        }
        if matches!(step, NagStep::Overdue | NagStep::Escalate)
            && let Some(channel) = self.state.sev(sca.sev).await.map_err(TaskError::from)?.response
        {
            steps
                .once("channel", || async {
                    Ok(self.client.post_message(&channel, &text, None, None).await?)
                })
                .await?;
        }
        if step == NagStep::Escalate
            && let Some(coordinator) = sev.coordinator.as_ref().and_then(Actor::slack_user)
        {
            steps
                .once("coordinator", || async {
                    Ok(self.client.post_message(coordinator, &text, None, None).await?)
                })
                .await?;
        }
        if step == NagStep::Escalate
            && let Some(channel) = self.team_channel(&sev)
        {
            steps
                .once("team", || async {
                    Ok(self.client.post_message(&channel, &text, None, None).await?)
                })
                .await?;
        }
        Ok(())
    }

    /// The channel of the team owning the SEV's product track. Private SEVs stay in their own
    /// channels: a team channel is open to people who are not members.
    fn team_channel(&self, sev: &Sev) -> Option<String> {
        if sev.private {
            return None;
        }
        let catalog = self.paging.as_ref()?.catalog();
        catalog.owner_of(sev.product_track.as_deref()?)?.channel.clone()
    }

    /// A nag's button: done, snooze (the due date moves, and with it the nags), or reassign.
    pub(super) async fn on_sca_action(
        &self,
        user: &str,
        action: &str,
        sca: &str,
        selected: Option<&str>,
    ) -> Result<String, TaskError> {
        let Ok(id) = sca.parse::<ScaId>() else {
            return Ok(format!("`{sca}` is not an SCA."));
        };
        // A button acts for whoever pressed it, so it may act only where they may.
        if let Err(e) = self.access(user).sca(&self.sevs, &self.scas, id).await {
            return reply(Err(e));
        }
        let Some(kind) = ScaAction::parse(action) else {
            return Ok(format!("I don't know the action `{action}`."));
        };
        let actor = Actor::from(user);
        let result = match kind {
            ScaAction::Done => {
                let patch = ScaPatch {
                    state: Some((ScaStateName::Done, None)),
                    ..ScaPatch::default()
                };
                self.scas.update(id, patch, actor).await
            }
            ScaAction::SnoozeDay => self.scas.snooze(id, 1, actor).await,
            ScaAction::SnoozeWeek => self.scas.snooze(id, 7, actor).await,
            ScaAction::Reassign => {
                let Some(u) = selected else {
                    return Ok("Pick someone to hand it to.".into());
                };
                let patch = ScaPatch {
                    owner: Some(Actor::from(u)),
                    ..ScaPatch::default()
                };
                self.scas.update(id, patch, actor).await
            }
        };
        reply(result.map(|s| match kind {
            ScaAction::Done => format!("{} marked done. Thank you!", s.id),
            ScaAction::Reassign => format!("{} now belongs to {}.", s.id, person(&s.owner)),
            ScaAction::SnoozeDay | ScaAction::SnoozeWeek => {
                let due = s
                    .due
                    .map_or_else(|| "no due date".to_owned(), |d| format!("due {}", d.format("%Y-%m-%d")));
                format!("{} snoozed: now {due}.", s.id)
            }
        }))
    }
}
