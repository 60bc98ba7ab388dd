//! Reactions in a response channel: an emoji acts on the SEV (status, update, timeline note,
//! report owner, SCA), and removing it soon after undoes what it did.

use serde_json::Value;

use super::{SlackIntegration, reply};
use crate::domain::{Actor, Priority, ScaSource, SevId, SevPatch, Status};
use crate::queue::{Steps, TaskError};
use crate::slack::Reaction;
use crate::slack::messages::person;
use crate::slack::state::{AppliedReaction, ChannelRole};

impl SlackIntegration {
    /// A Slack event: a reaction in a response channel acts on its SEV; someone joining one
    /// is caught up, and counts for the muster if they were paged.
    pub(super) async fn on_event(&self, event: &Value, steps: &Steps<'_>) -> Result<(), TaskError> {
        let kind = event["type"].as_str().unwrap_or_default();
        if kind == "member_joined_channel" {
            let Some((channel, user)) = crate::slack::catch_up::joined(event) else {
                return Ok(());
            };
            let Some((id, ChannelRole::Response)) = self.state.channel(channel).await.map_err(TaskError::from)? else {
                return Ok(());
            };
            self.on_member_joined(id, user, event).await?;
            return steps
                .once("catch-up", || async { self.catch_up_joiner(id, channel, user).await })
                .await;
        }
        if !matches!(kind, "reaction_added" | "reaction_removed") || event["item"]["type"] != "message" {
            return Ok(());
        }
        let (Some(channel), Some(ts), Some(user), Some(emoji)) = (
            event["item"]["channel"].as_str(),
            event["item"]["ts"].as_str(),
            event["user"].as_str(),
            event["reaction"].as_str(),
        ) else {
            return Ok(());
        };
        let Some(action) = self.settings.reactions.action(emoji) else {
            return Ok(());
        };
        let Some((id, ChannelRole::Response)) = self.state.channel(channel).await.map_err(TaskError::from)? else {
            return Ok(());
        };
        if !self.may_act(user, id).await? {
            return Ok(());
        }
        let reaction_key = format!("{channel}#{ts}#{emoji}#{user}");
        let answer = if kind == "reaction_added" {
            self.react(id, action, channel, ts, user, &reaction_key).await?
        } else {
            self.unreact(id, action, user, &reaction_key).await?
        };
        if let Some(answer) = answer {
            steps
                .once("confirm", || async {
                    Ok(self.client.post_message(channel, &answer, None, Some(ts)).await?)
                })
                .await?;
        }
        Ok(())
    }

    /// Acts on a reaction just added; returns the confirmation for the message's thread.
    async fn react(
        &self,
        id: SevId,
        action: Reaction,
        channel: &str,
        ts: &str,
        user: &str,
        key: &str,
    ) -> Result<Option<String>, TaskError> {
        let actor = Actor::from(user);
        let message = || async {
            self.client
                .message(channel, ts)
                .await?
                .ok_or_else(|| TaskError::Permanent(format!("message {ts} is gone from {channel}")))
        };
        let mut author = None;
        let result = match action {
            Reaction::Mitigated => self
                .sevs
                .set_status(id, Status::Mitigated, None, actor)
                .await
                .map(|s| format!("{} marked mitigated by {}.", s.id, person(&Actor::from(user)))),
            Reaction::Resolved => self
                .sevs
                .set_status(id, Status::Resolved, None, actor)
                .await
                .map(|s| format!("{} marked resolved by {}.", s.id, person(&Actor::from(user)))),
            Reaction::Update => {
                let m = message().await?;
                self.sevs
                    .post_update(id, &m.text, actor)
                    .await
                    .map(|s| format!("Posted as a status update of {}.", s.id))
            }
            Reaction::Public => {
                let m = message().await?;
                self.sevs
                    .post_public_update(id, &m.text, actor)
                    .await
                    .map(|s| format!("Published as a public update of {}.", s.id))
            }
            Reaction::Timeline => {
                let m = message().await?;
                self.sevs
                    .add_note(id, &m.text, actor)
                    .await
                    .map(|s| format!("Added to the timeline of {}.", s.id))
            }
            Reaction::ReportOwner => {
                let m = message().await?;
                let Some(owner) = m.user else {
                    return Ok(Some("That message has no author to make report owner.".into()));
                };
                author = Some(owner.clone());
                let owner = Actor::from(owner);
                let patch = SevPatch {
                    report_owner: Some(Some(owner.clone())),
                    ..SevPatch::default()
                };
                self.sevs
                    .patch(id, patch, actor)
                    .await
                    .map(|s| format!("{} is the report owner of {}.", person(&owner), s.id))
            }
            Reaction::ScaMust | Reaction::ScaShould | Reaction::ScaCould => {
                let priority = match action {
                    Reaction::ScaMust => Priority::Must,
                    Reaction::ScaShould => Priority::Should,
                    _ => Priority::Could,
                };
                let m = message().await?;
                let source = ScaSource::Slack {
                    channel: channel.to_owned(),
                    ts: Some(ts.to_owned()),
                };
                self.add_sca(id, priority, &m.text, user, source).await
            }
        };
        // Only a reaction that acted is recorded, so only it can be undone.
        let answer = match result {
            Ok(msg) => {
                let applied = AppliedReaction {
                    at: self.sevs.now(),
                    author,
                };
                self.state
                    .record_reaction(key, &applied)
                    .await
                    .map_err(TaskError::from)?;
                msg
            }
            Err(e) => reply(Err(e))?,
        };
        Ok(Some(answer))
    }

    /// Undoes a reaction removed soon after it acted, where undoing makes sense.
    async fn unreact(&self, id: SevId, action: Reaction, user: &str, key: &str) -> Result<Option<String>, TaskError> {
        let Some(applied) = self.state.applied_reaction(key).await.map_err(TaskError::from)? else {
            return Ok(None);
        };
        if !applied.undoable_at(self.sevs.now()) {
            return Ok(None);
        }
        let sev = self.load(id).await?.sev;
        let actor = Actor::from(user);
        let result = match action {
            Reaction::Mitigated if sev.status == Status::Mitigated => {
                self.sevs
                    .set_status(id, Status::Open, Some("reaction removed".into()), actor)
                    .await
            }
            Reaction::Resolved if sev.status == Status::Resolved => {
                self.sevs
                    .set_status(id, Status::Open, Some("reaction removed".into()), actor)
                    .await
            }
            Reaction::ReportOwner
                if sev.report_owner.is_some()
                    && sev.report_owner.as_ref().map(Actor::as_str) == applied.author.as_deref() =>
            {
                self.sevs
                    .patch(
                        id,
                        SevPatch {
                            report_owner: Some(None),
                            ..SevPatch::default()
                        },
                        actor,
                    )
                    .await
            }
            _ => return Ok(None),
        };
        Ok(Some(reply(
            result.map(|s| format!("Undone: {} is {} again.", s.id, s.status)),
        )?))
    }
}
