use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Level;

/// A Slack request, acknowledged at once and queued to be acted on. Each carries the id Slack
/// gave it, so a retried delivery becomes the same task and acts once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Inbound {
    Command {
        trigger_id: String,
        channel: String,
        user: String,
        text: String,
        response_url: String,
    },
    Event {
        event_id: String,
        event: Value,
    },
    /// A button or menu pressed in one of our messages (`block_actions`): a nag's (`sca_done`,
    /// `sca_snooze_1d`, `sca_snooze_1w`, `sca_reassign` with `selected_user`; `value` is the SCA)
    /// or a mayday's confirmation.
    Action {
        /// Slack's id of the press (its `trigger_id`), unique per press.
        trigger_id: String,
        action_id: String,
        value: String,
        user: String,
        #[serde(default)]
        channel: String,
        #[serde(default)]
        response_url: String,
        #[serde(default)]
        selected_user: Option<String>,
    },
    /// The intake modal, submitted.
    Submission {
        view_id: String,
        user: String,
        title: String,
        level: Level,
        description: Option<String>,
        private: bool,
    },
}

impl Eq for Inbound {}

impl Inbound {
    pub fn key(&self) -> String {
        match self {
            Inbound::Command { trigger_id, .. } => format!("slack-command:{trigger_id}"),
            Inbound::Event { event_id, .. } => format!("slack-event:{event_id}"),
            Inbound::Action { trigger_id, .. } => format!("slack-action:{trigger_id}"),
            Inbound::Submission { view_id, .. } => format!("slack-view:{view_id}"),
        }
    }
}
