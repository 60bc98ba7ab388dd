use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::Level;
use crate::queue::TaskKey;

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
        /// Empty when the press came without a usable one: the answer goes to `user` instead.
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
    pub fn key(&self) -> TaskKey {
        match self {
            Inbound::Command { trigger_id, .. } => TaskKey::new("slack-command", format_args!("{trigger_id}")),
            Inbound::Event { event_id, .. } => TaskKey::new("slack-event", format_args!("{event_id}")),
            Inbound::Action { trigger_id, .. } => TaskKey::new("slack-action", format_args!("{trigger_id}")),
            Inbound::Submission { view_id, .. } => TaskKey::new("slack-view", format_args!("{view_id}")),
        }
    }
}
