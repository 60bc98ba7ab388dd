use serde::{Deserialize, Serialize};

use crate::domain::SevId;
use crate::store::{RepoError, SevRepo, keys};

/// What Slack knows of a SEV: its channels and the messages later steps edit or reply to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlackSev {
    pub response: Option<String>,
    pub announce: Option<String>,
    /// The SEV's message in the announcement channel (`#sevs`), edited in place and replied to.
    pub announcement_ts: Option<String>,
    /// The mayday roll-call in the response channel, edited as people are paged and join.
    #[serde(default)]
    pub roll_call_ts: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelRole {
    Response,
    Announce,
}

#[derive(Serialize, Deserialize)]
struct ChannelLink {
    sev: SevId,
    role: ChannelRole,
}

/// A reaction that acted, kept so that removing it soon after can undo what it did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppliedReaction {
    pub at: chrono::DateTime<chrono::Utc>,
    pub author: Option<String>,
}

/// Removing a reaction within this long undoes what it did; later, it is a change of mind
/// that needs saying in words (a reaction removed a day later must not reopen a SEV).
const UNDO_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

impl AppliedReaction {
    /// Whether removing the reaction at `now` still undoes it.
    pub fn undoable_at(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        now - self.at <= UNDO_WINDOW
    }
}

#[derive(Clone)]
pub struct SlackState {
    repo: SevRepo,
}

impl SlackState {
    pub fn new(repo: SevRepo) -> Self {
        SlackState { repo }
    }

    pub async fn sev(&self, id: SevId) -> Result<SlackSev, RepoError> {
        Ok(self.repo.record(&keys::slack_sev(id)).await?.unwrap_or_default())
    }

    pub async fn save(&self, id: SevId, slack: &SlackSev) -> Result<(), RepoError> {
        self.repo.put_record(keys::slack_sev(id), slack).await
    }

    pub async fn link_channel(&self, channel: &str, sev: SevId, role: ChannelRole) -> Result<(), RepoError> {
        self.repo
            .put_record(keys::channel(channel), &ChannelLink { sev, role })
            .await
    }

    /// The SEV whose channel this is, and which of its channels.
    pub async fn channel(&self, channel: &str) -> Result<Option<(SevId, ChannelRole)>, RepoError> {
        Ok(self
            .repo
            .record::<ChannelLink>(&keys::channel(channel))
            .await?
            .map(|l| (l.sev, l.role)))
    }

    pub async fn applied_reaction(&self, key: &str) -> Result<Option<AppliedReaction>, RepoError> {
        self.repo.record(&keys::reaction(key)).await
    }

    pub async fn record_reaction(&self, key: &str, applied: &AppliedReaction) -> Result<(), RepoError> {
        self.repo.put_record(keys::reaction(key), applied).await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    #[test]
    fn a_reaction_is_undone_only_if_removed_within_ten_minutes() {
        let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
        let applied = AppliedReaction { at, author: None };
        assert!(applied.undoable_at(at));
        assert!(applied.undoable_at(at + Duration::minutes(10)));
        assert!(!applied.undoable_at(at + Duration::minutes(10) + Duration::seconds(1)));
        assert!(!applied.undoable_at(at + Duration::days(1)));
    }
}
