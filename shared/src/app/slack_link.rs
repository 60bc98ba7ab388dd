//! The state of the local server's Socket Mode link to Slack: written by the link, read by the
//! status page and `/api/status`, so that a person can see why Slack is quiet.

use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LinkState {
    /// Starting: no connection has said `hello` yet.
    Connecting,
    /// `connections` are open and heard Slack's `hello`.
    Connected { connections: usize },
    /// No connection is open; the link keeps trying, with backoff. `error` says what failed last.
    Reconnecting { error: String },
    /// Slack turned Socket Mode off for the app (`link_disabled`), or refused the app-level
    /// token: the link has stopped and says why. Restart sevtool once it is fixed.
    Stopped { reason: String },
}

impl LinkState {
    /// One line for a person.
    pub fn describe(&self) -> String {
        match self {
            LinkState::Connecting => "connecting".to_owned(),
            LinkState::Connected { connections } => format!("connected ({connections} connections)"),
            LinkState::Reconnecting { error } => format!("reconnecting: {error}"),
            LinkState::Stopped { reason } => format!("stopped: {reason}"),
        }
    }
}

/// A handle to the link's state; clones share it.
#[derive(Debug, Clone)]
pub struct SlackLink(Arc<Mutex<LinkState>>);

impl Default for SlackLink {
    fn default() -> Self {
        SlackLink(Arc::new(Mutex::new(LinkState::Connecting)))
    }
}

impl SlackLink {
    pub fn set(&self, state: LinkState) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub fn get(&self) -> LinkState {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_state_and_it_reads_as_json_and_prose() {
        let link = SlackLink::default();
        let other = link.clone();
        other.set(LinkState::Connected { connections: 2 });
        assert_eq!(link.get(), LinkState::Connected { connections: 2 });
        assert_eq!(
            serde_json::to_value(link.get()).unwrap(),
            serde_json::json!({ "state": "connected", "connections": 2 })
        );
        assert_eq!(link.get().describe(), "connected (2 connections)");
    }
}
