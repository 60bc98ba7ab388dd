//! What Slack sends, whichever transport carries it (the signed HTTP routes or a Socket Mode
//! envelope): parsed once, queued once and answered. Slack wants an answer within 3 seconds,
//! so the work happens in the task consumer; only what must be in the answer (the intake
//! modal's `views.open`, an ephemeral reply, a view submission's field errors) is done here.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::command::{self, Command, USAGE};
use super::{Inbound, SlackClient, messages};
use crate::clock::Clock;
use crate::domain::Level;
use crate::queue::{Queue, QueueError, Task, TaskEnvelope};

/// Everything an inbound request needs, built once per process.
#[derive(Clone)]
pub struct Ingress {
    pub queue: Arc<dyn Queue>,
    pub client: SlackClient,
    pub clock: Arc<dyn Clock>,
}

/// How a request was taken. The HTTP routes turn it into a status and body; Socket Mode into
/// an acknowledgement with a payload, or none.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Taken (queued, or answered in full): HTTP 200 with this body, an ack with this payload.
    Taken(Option<Value>),
    /// Cannot be acted on as sent: HTTP 400. A redelivery would be as malformed, so Socket Mode
    /// acknowledges it and logs why.
    Malformed(&'static str),
    /// Could not be queued: HTTP 503. Socket Mode withholds the ack so that Slack delivers it
    /// again, except where a person waits for the answer (a slash command): they get this reply.
    Unavailable(Option<Value>),
}

fn ephemeral(text: &str) -> Value {
    json!({ "response_type": "ephemeral", "text": text })
}

pub(super) const UNAVAILABLE: &str = "sevtool could not take this right now; please try again in a moment.";

/// A slash command, as Slack sends it: form fields over HTTP, a JSON object over Socket Mode.
#[derive(Deserialize)]
pub struct SlashCommand {
    #[serde(default)]
    text: String,
    channel_id: String,
    user_id: String,
    trigger_id: String,
    response_url: String,
}

pub const NOT_A_COMMAND: &str =
    "not a slash command payload: channel_id, user_id, trigger_id and response_url are required";

/// A `response_url` sevtool can post to: an absolute `https` (or, for a local Slack, `http`)
/// URL. Anything else is no URL at all, so a reply is never retried against an address that
/// cannot work.
fn response_url(raw: &str) -> Option<String> {
    let url = reqwest::Url::parse(raw).ok()?;
    (matches!(url.scheme(), "https" | "http") && url.has_host()).then(|| raw.to_owned())
}

impl Ingress {
    /// Queues one task. When the queue is down the request is refused, so that Slack (or the
    /// person) tries again rather than the request being lost.
    async fn enqueue(&self, inbound: Inbound) -> Result<(), QueueError> {
        let task = TaskEnvelope::new(Task::Slack { inbound }, self.clock.now());
        self.queue
            .send_batch(&[task])
            .await
            .inspect_err(|e| tracing::error!(error = %e, "could not queue a Slack request"))
    }

    pub async fn command(&self, cmd: SlashCommand) -> Answer {
        let Some(response_url) = response_url(&cmd.response_url) else {
            return Answer::Malformed("response_url must be an absolute https URL");
        };
        match command::parse(&cmd.text) {
            Err(usage) => Answer::Taken(Some(ephemeral(&usage.to_string()))),
            Ok(Command::Help) => Answer::Taken(Some(ephemeral(USAGE))),
            // The trigger expires 3 seconds after the command, too soon for a queue hop.
            Ok(Command::OpenModal) => match self
                .client
                .open_view(&cmd.trigger_id, messages::intake_modal(None))
                .await
            {
                Ok(()) => Answer::Taken(None),
                Err(e) => {
                    tracing::warn!(error = %e, "views.open failed");
                    Answer::Taken(Some(ephemeral(
                        "Slack did not open the form. File directly instead: `/sev new SEV1 checkout returns 5xx`",
                    )))
                }
            },
            Ok(parsed) => {
                let working = match &parsed {
                    Command::File { level, .. } => format!("Filing a {level} SEV…"),
                    _ => "On it…".to_owned(),
                };
                let inbound = Inbound::Command {
                    trigger_id: cmd.trigger_id,
                    channel: cmd.channel_id,
                    user: cmd.user_id,
                    text: cmd.text,
                    response_url,
                };
                match self.enqueue(inbound).await {
                    Ok(()) => Answer::Taken(Some(ephemeral(&working))),
                    Err(_) => Answer::Unavailable(Some(ephemeral(UNAVAILABLE))),
                }
            }
        }
    }

    /// An Events API body (`event_callback`, or over HTTP the one-off `url_verification`).
    pub async fn event(&self, payload: &Value) -> Answer {
        match payload["type"].as_str() {
            Some("url_verification") => Answer::Taken(Some(json!({ "challenge": payload["challenge"] }))),
            Some("event_callback") => {
                let Some(event_id) = payload["event_id"].as_str() else {
                    return Answer::Malformed("event_callback without event_id");
                };
                let inbound = Inbound::Event {
                    event_id: event_id.to_owned(),
                    event: payload["event"].clone(),
                };
                match self.enqueue(inbound).await {
                    Ok(()) => Answer::Taken(None),
                    Err(_) => Answer::Unavailable(None),
                }
            }
            _ => Answer::Taken(None),
        }
    }

    /// An interaction: a view submission, a button or menu press, a shortcut.
    pub async fn interaction(&self, payload: &Value) -> Answer {
        match payload["type"].as_str() {
            Some("view_submission") if payload["view"]["callback_id"] == "sev_intake" => self.submit(payload).await,
            Some("block_actions") => self.action(payload).await,
            Some("message_action" | "shortcut") => {
                let prefill = payload["message"]["text"].as_str();
                let trigger = payload["trigger_id"].as_str().unwrap_or_default();
                if let Err(e) = self.client.open_view(trigger, messages::intake_modal(prefill)).await {
                    tracing::warn!(error = %e, "views.open failed");
                }
                Answer::Taken(None)
            }
            _ => Answer::Taken(None),
        }
    }

    /// A button or menu press (a nag's, a mayday's confirmation): queued like a command, acted
    /// on by the task handler.
    async fn action(&self, payload: &Value) -> Answer {
        let action = &payload["actions"][0];
        let (Some(action_id), Some(trigger_id), Some(user)) = (
            action["action_id"].as_str(),
            payload["trigger_id"].as_str(),
            payload["user"]["id"].as_str(),
        ) else {
            return Answer::Malformed("block_actions without actions[0].action_id, trigger_id or user.id");
        };
        // A nag's people picker has no value of its own: its block carries the SCA's id.
        let value = action["value"]
            .as_str()
            .or_else(|| action["block_id"].as_str())
            .unwrap_or_default();
        let inbound = Inbound::Action {
            trigger_id: trigger_id.to_owned(),
            action_id: action_id.to_owned(),
            value: value.to_owned(),
            user: user.to_owned(),
            channel: payload["channel"]["id"].as_str().unwrap_or_default().to_owned(),
            // Presses in a modal carry none; their answer goes to the person directly.
            response_url: payload["response_url"]
                .as_str()
                .and_then(response_url)
                .unwrap_or_default(),
            selected_user: action["selected_user"].as_str().map(str::to_owned),
        };
        match self.enqueue(inbound).await {
            Ok(()) => Answer::Taken(None),
            Err(_) => Answer::Unavailable(None),
        }
    }

    async fn submit(&self, payload: &Value) -> Answer {
        let values = &payload["view"]["state"]["values"];
        let title = values["title"]["title"]["value"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if title.is_empty() {
            return field_error("title", "Say in a few words what is broken.");
        }
        if title.chars().count() > crate::domain::MAX_TITLE {
            return field_error(
                "title",
                "Keep the title under 200 characters; put the rest in the details.",
            );
        }
        let Some(level) = values["level"]["level"]["selected_option"]["value"]
            .as_str()
            .and_then(|l| l.parse::<Level>().ok())
        else {
            return field_error("level", "Pick a level.");
        };
        let (Some(view_id), Some(user)) = (payload["view"]["id"].as_str(), payload["user"]["id"].as_str()) else {
            return Answer::Malformed("view_submission without view.id or user.id");
        };
        let description = values["description"]["description"]["value"]
            .as_str()
            .map(str::to_owned);
        let private = values["private"]["private"]["selected_options"]
            .as_array()
            .is_some_and(|o| !o.is_empty());
        let inbound = Inbound::Submission {
            view_id: view_id.to_owned(),
            user: user.to_owned(),
            title,
            level,
            description,
            private,
        };
        match self.enqueue(inbound).await {
            Ok(()) => Answer::Taken(None),
            Err(_) => field_error(
                "title",
                "sevtool could not take this right now; press File again in a moment.",
            ),
        }
    }
}

/// A field error shown under the input in the modal.
fn field_error(block: &str, text: &str) -> Answer {
    Answer::Taken(Some(json!({ "response_action": "errors", "errors": { block: text } })))
}
