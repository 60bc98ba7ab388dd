//! Channel set-up and cross-posting: a filed SEV's response and announcement channels, its
//! pinned summary and announcement, and each new timeline entry posted where people follow it.

use super::SlackIntegration;
use crate::domain::{Actor, EntryId, EntryKind, SevId};
use crate::queue::{Steps, TaskError};
use crate::slack::messages;
use crate::slack::naming;
use crate::slack::state::ChannelRole;

/// How many numbered names to try when a channel name is taken.
const NAME_ATTEMPTS: u32 = 10;

impl SlackIntegration {
    async fn create_channel(&self, name: &str, private: bool) -> Result<String, TaskError> {
        for attempt in 0..NAME_ATTEMPTS {
            match self
                .client
                .create_channel(&naming::with_suffix(name, attempt), private)
                .await
            {
                Err(e) if e.code() == Some("name_taken") => continue,
                other => return other.map_err(TaskError::from),
            }
        }
        Err(TaskError::Permanent(format!(
            "channel names {name} to {name}-{NAME_ATTEMPTS} are all taken"
        )))
    }

    /// A SEV was filed: two channels, invites, the pinned summary, the announcement.
    pub(super) async fn on_filed(&self, id: SevId, steps: &Steps<'_>) -> Result<(), TaskError> {
        let detail = self.load(id).await?;
        let offer = self.paging.as_ref().map(|p| p.suggested(&detail.sev, &detail.pages));
        let sev = detail.sev;
        let base = naming::response_channel(&self.settings.channel_pattern, &sev);
        let response: String = steps
            .once("response-channel", || self.create_channel(&base, sev.private))
            .await?;
        let announce_name = naming::announce_channel(&base);
        let announce: String = steps
            .once("announce-channel", || self.create_channel(&announce_name, sev.private))
            .await?;
        let mut slack = self.state.sev(id).await.map_err(TaskError::from)?;
        slack.response = Some(response.clone());
        slack.announce = Some(announce.clone());
        self.state.save(id, &slack).await.map_err(TaskError::from)?;
        self.state
            .link_channel(&response, id, ChannelRole::Response)
            .await
            .map_err(TaskError::from)?;
        self.state
            .link_channel(&announce, id, ChannelRole::Announce)
            .await
            .map_err(TaskError::from)?;

        let people: Vec<String> = [Some(&sev.reporter), sev.coordinator.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(Actor::slack_user)
            .map(str::to_owned)
            .collect();
        steps
            .once("invite", || async { Ok(self.client.invite(&response, &people).await?) })
            .await?;
        let summary = messages::summary(&sev, &self.settings.reactions);
        let summary_ts: String = steps
            .once("summary", || async {
                Ok(self.client.post_message(&response, &summary, None, None).await?)
            })
            .await?;
        steps
            .once("pin", || async { Ok(self.client.pin(&response, &summary_ts).await?) })
            .await?;

        let text = messages::announcement(&sev, &slack);
        // The SEV's own announcement offers to page the teams that own it: one click, never
        // automatic. (`#sevs` is edited in place as the SEV changes, so it carries no buttons.)
        let blocks = offer
            .filter(|teams| !teams.is_empty())
            .map(|teams| messages::with_page_offer(&text, id, &teams));
        steps
            .once("announce-intro", || async {
                Ok(self.client.post_message(&announce, &text, blocks.clone(), None).await?)
            })
            .await?;
        // Private SEVs stay out of the public announcement channel.
        if !sev.private {
            let channel = &self.settings.announce_channel;
            let ts: String = steps
                .once("announcement", || async {
                    Ok(self.client.post_message(channel, &text, None, None).await?)
                })
                .await?;
            slack.announcement_ts = Some(ts);
            self.state.save(id, &slack).await.map_err(TaskError::from)?;
        }
        Ok(())
    }

    /// A timeline entry was added: post it where people follow the SEV.
    pub(super) async fn on_entry(&self, id: SevId, entry_id: &EntryId, steps: &Steps<'_>) -> Result<(), TaskError> {
        let detail = self.load(id).await?;
        let Some(entry) = detail.timeline.iter().find(|e| &e.id == entry_id) else {
            return Err(TaskError::Permanent(format!("{id} has no timeline entry {entry_id}")));
        };
        if matches!(entry.kind, EntryKind::Filed { .. }) {
            return Ok(());
        }
        let slack = self.state.sev(id).await.map_err(TaskError::from)?;
        let (Some(response), Some(announce)) = (slack.response.as_deref(), slack.announce.as_deref()) else {
            return Err(TaskError::Retryable(format!(
                "the Slack channels of {id} are not set up yet"
            )));
        };
        if !self.on_paging_entry(&detail, entry, response, steps).await? {
            return Ok(());
        }
        let text = messages::entry_post(&detail.sev, entry);
        steps
            .once("response", || async {
                Ok(self.client.post_message(response, &text, None, None).await?)
            })
            .await?;
        if let EntryKind::Report { change } = entry.kind {
            self.on_report(&detail.sev, change, response, steps).await?;
        }
        if !messages::is_status_update(entry) {
            return Ok(());
        }
        steps
            .once("announce", || async {
                Ok(self.client.post_message(announce, &text, None, None).await?)
            })
            .await?;
        if let Some(ts) = slack.announcement_ts.as_deref() {
            let channel = &self.settings.announce_channel;
            steps
                .once("thread", || async {
                    Ok(self.client.post_message(channel, &text, None, Some(ts)).await?)
                })
                .await?;
            let current = messages::announcement(&detail.sev, &slack);
            self.client.update_message(channel, ts, &current, None).await?;
        }
        Ok(())
    }
}
