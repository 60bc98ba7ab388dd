//! What the bot says. Plain `mrkdwn` text: it reads well in notifications, screen readers and
//! the mobile app, where block layouts often do not.

use serde_json::{Value, json};

use super::{Reaction, Reactions, SlackSev};
use crate::domain::{Actor, Entry, EntryKind, Level, NagStep, Sca, Sev, SevId};

/// Slack's three control characters, escaped in anything a person wrote.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Slack user becomes a mention; anyone else (a web user, an alert source) is named as is.
pub fn person(actor: &Actor) -> String {
    match actor.slack_user() {
        Some(id) => format!("<@{id}>"),
        None => escape(actor.as_str()),
    }
}

fn drill(sev: &Sev) -> &'static str {
    if sev.drill { "[DRILL] " } else { "" }
}

fn headline(sev: &Sev) -> String {
    format!(
        "{}*{}* · {} · {} · {}",
        drill(sev),
        sev.id,
        sev.level,
        sev.status,
        escape(&sev.title)
    )
}

fn channel(id: Option<&str>) -> String {
    id.map_or_else(|| "(being created)".to_owned(), |c| format!("<#{c}>"))
}

/// The `#sevs` announcement, edited in place as the SEV changes.
pub fn announcement(sev: &Sev, slack: &SlackSev) -> String {
    let coordinator = sev.coordinator.as_ref().map_or_else(|| "unassigned".to_owned(), person);
    format!(
        ":rotating_light: {}\nCoordinator: {coordinator} · Reporter: {} · Response: {} · Announcements: {}",
        headline(sev),
        person(&sev.reporter),
        channel(slack.response.as_deref()),
        channel(slack.announce.as_deref()),
    )
}

/// An announcement with a button per team to page (`page_team`, value `SEV-<n> <team>`).
pub fn with_page_offer(text: &str, id: SevId, teams: &[String]) -> Value {
    let buttons: Vec<Value> = teams
        .iter()
        .map(|team| {
            json!({
                "type": "button",
                "action_id": PAGE_TEAM,
                "value": format!("{id} {team}"),
                "text": { "type": "plain_text", "text": truncate(&format!("Page {team}"), 75) },
            })
        })
        .collect();
    json!([
        { "type": "section", "text": { "type": "mrkdwn", "text": truncate(text, 3000) } },
        { "type": "actions", "elements": buttons },
    ])
}

/// The action id of a "Page <team>" button.
pub const PAGE_TEAM: &str = "page_team";

/// The pinned summary in the response channel, with the emoji legend.
pub fn summary(sev: &Sev, reactions: &Reactions) -> String {
    let legend = [
        (Reaction::Update, "post the message as a status update"),
        (Reaction::Timeline, "add the message to the timeline"),
        (Reaction::Mitigated, "mark the SEV mitigated"),
        (Reaction::Resolved, "mark the SEV resolved"),
        (Reaction::ReportOwner, "make the message's author the report owner"),
        (Reaction::ScaMust, "corrective action, must do"),
        (Reaction::ScaShould, "corrective action, should do"),
        (Reaction::ScaCould, "corrective action, could do"),
    ]
    .iter()
    .map(|(r, what)| format!("• :{}: {what}", reactions.name(*r)))
    .collect::<Vec<_>>()
    .join("\n");
    let description = sev
        .description
        .as_deref()
        .map(|d| format!("\n>{}", escape(d)))
        .unwrap_or_default();
    format!(
        "{}{description}\nReporter: {}. This is the response channel: work here; status updates are cross-posted to the announcements channel.\n*React to a message to:*\n{legend}\nOr type `/sev help`.",
        headline(sev),
        person(&sev.reporter),
    )
}

/// Whether an entry is news for people following the SEV from outside.
pub fn is_status_update(entry: &Entry) -> bool {
    matches!(
        entry.kind,
        EntryKind::Update { .. }
            | EntryKind::PublicUpdate { .. }
            | EntryKind::StatusChanged { .. }
            | EntryKind::LevelChanged { .. }
    )
}

/// One timeline entry as a cross-post.
pub fn entry_post(sev: &Sev, entry: &Entry) -> String {
    format!(
        "{}{} · {} ({}): {}",
        drill(sev),
        sev.id,
        kind_label(&entry.kind),
        person(&entry.author),
        escape(&entry.summary())
    )
}

fn kind_label(kind: &EntryKind) -> &'static str {
    match kind {
        EntryKind::Filed { .. } => "filed",
        EntryKind::Update { .. } => "*update*",
        // Its summary already says it is public.
        EntryKind::PublicUpdate { .. } => "*update*",
        EntryKind::Note { .. } => "note",
        EntryKind::LevelChanged { .. } => "*level*",
        EntryKind::StatusChanged { .. } => "*status*",
        EntryKind::FieldChanged { .. } => "changed",
        EntryKind::Sca { .. } => "corrective action",
        EntryKind::Report { .. } => "*report*",
        EntryKind::Paged { .. }
        | EntryKind::PageResolved { .. }
        | EntryKind::PageAcknowledged { .. }
        | EntryKind::PageEscalated { .. }
        | EntryKind::Mayday { .. } => "*paging*",
        EntryKind::PageFailed { .. } => "*paging failed*",
        EntryKind::Joined { .. } => "joined",
    }
}

/// A reminder about an open SCA; each rung says a little more plainly what is at stake.
pub fn nag(sca: &Sca, sev: &Sev, step: NagStep) -> String {
    let due = sca
        .due
        .map_or_else(|| "no due date".to_owned(), |d| d.format("%Y-%m-%d").to_string());
    let lead = match step {
        NagStep::Before => format!(":spiral_calendar_pad: {} is due on {due}", sca.id),
        NagStep::Due => format!(":alarm_clock: {} is due today ({due})", sca.id),
        NagStep::Overdue => format!(":warning: {} is overdue (it was due {due})", sca.id),
        NagStep::Escalate => format!(
            ":rotating_light: {} is still open, well past its due date ({due})",
            sca.id
        ),
    };
    format!(
        "{lead}: {} ({} do, from {}: {}). Owner: {}. Mark it done, snooze it, or hand it to someone else.",
        escape(&sca.text),
        sca.priority,
        sev.id,
        escape(&sev.title),
        person(&sca.owner)
    )
}

/// What a nag's buttons do: the `action_id`s the nag is sent with and read back by the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaAction {
    Done,
    SnoozeDay,
    SnoozeWeek,
    /// A users menu: the press carries the person picked.
    Reassign,
}

impl ScaAction {
    pub const ALL: [ScaAction; 4] = [
        ScaAction::Done,
        ScaAction::SnoozeDay,
        ScaAction::SnoozeWeek,
        ScaAction::Reassign,
    ];
    /// Every SCA action id starts with this, so an unknown one (an old message's button) is
    /// still answered as an SCA action.
    pub const PREFIX: &str = "sca_";

    pub fn as_str(self) -> &'static str {
        match self {
            ScaAction::Done => "sca_done",
            ScaAction::SnoozeDay => "sca_snooze_1d",
            ScaAction::SnoozeWeek => "sca_snooze_1w",
            ScaAction::Reassign => "sca_reassign",
        }
    }

    pub fn parse(action_id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == action_id)
    }
}

/// The nag as blocks, with its buttons. The actions block carries the SCA's id.
pub fn nag_blocks(sca: &Sca, text: &str) -> Value {
    let id = sca.id.to_string();
    let button = |label: &str, action: ScaAction| json!({ "type": "button", "text": { "type": "plain_text", "text": label }, "action_id": action.as_str(), "value": id });
    json!([
        { "type": "section", "text": { "type": "mrkdwn", "text": text } },
        { "type": "actions", "block_id": id, "elements": [
            button("Mark done", ScaAction::Done),
            button("Snooze 1 day", ScaAction::SnoozeDay),
            button("Snooze 1 week", ScaAction::SnoozeWeek),
            { "type": "users_select", "action_id": ScaAction::Reassign.as_str(), "placeholder": { "type": "plain_text", "text": "Reassign to…" } },
        ] },
    ])
}

/// The intake modal: deliberately sparse. `prefill` is the text of a message it was opened from.
pub fn intake_modal(prefill: Option<&str>) -> Value {
    let options: Vec<Value> = Level::ALL
        .iter()
        .map(|l| {
            json!({
                "text": { "type": "plain_text", "text": l.as_str() },
                "description": { "type": "plain_text", "text": truncate(l.criteria(), 75) },
                "value": l.as_str(),
            })
        })
        .collect();
    let criteria = Level::ALL
        .iter()
        .map(|l| format!("*{l}*: {}", l.criteria()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut description = json!({
        "type": "plain_text_input", "action_id": "description", "multiline": true,
    });
    if let Some(p) = prefill {
        description["initial_value"] = json!(truncate(p, 2900));
    }
    json!({
        "type": "modal",
        "callback_id": "sev_intake",
        "title": { "type": "plain_text", "text": "File a SEV" },
        "submit": { "type": "plain_text", "text": "File" },
        "close": { "type": "plain_text", "text": "Cancel" },
        "blocks": [
            { "type": "input", "block_id": "title", "label": { "type": "plain_text", "text": "What is broken?" },
              "element": { "type": "plain_text_input", "action_id": "title", "max_length": 200 } },
            { "type": "input", "block_id": "level", "label": { "type": "plain_text", "text": "Level" },
              "element": { "type": "static_select", "action_id": "level", "options": options,
                           "initial_option": options[2] } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": criteria } ] },
            { "type": "input", "block_id": "description", "optional": true,
              "label": { "type": "plain_text", "text": "Details (optional)" }, "element": description },
            { "type": "input", "block_id": "private", "optional": true,
              "label": { "type": "plain_text", "text": "Sensitive" },
              "element": { "type": "checkboxes", "action_id": "private", "options": [
                  { "text": { "type": "plain_text", "text": "Security or customer data at risk (private SEV)" }, "value": "private" } ] } },
        ],
    })
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_mentioned_only_when_they_are_slack_users() {
        assert_eq!(person(&"U024BE7LH".into()), "<@U024BE7LH>");
        assert_eq!(person(&"web:alice".into()), "web:alice");
        assert_eq!(person(&"<script>".into()), "&lt;script&gt;");
        assert_eq!(person(&"U".into()), "U");
    }

    #[test]
    fn nags_carry_their_sca_and_the_buttons_to_act_on_it() {
        use crate::domain::{Priority, ScaId, ScaSource, SevId};
        let now = chrono::Utc::now();
        let sev = Sev::file(
            SevId(1),
            crate::domain::NewSev {
                title: "DB <down>".into(),
                ..Default::default()
            },
            "U1".into(),
            now,
        )
        .unwrap()
        .0;
        let sca = Sca::new(
            ScaId(3),
            SevId(1),
            "Add a canary",
            Priority::Must,
            "U2".into(),
            Some(now),
            ScaSource::Api,
            "U1".into(),
            now,
        )
        .unwrap();
        let text = nag(&sca, &sev, NagStep::Overdue);
        assert!(
            text.contains("SCA-3 is overdue") && text.contains("DB &lt;down&gt;") && text.contains("<@U2>"),
            "{text}"
        );
        let blocks = nag_blocks(&sca, &text);
        assert_eq!(blocks[1]["block_id"], "SCA-3");
        let actions: Vec<&str> = blocks[1]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action_id"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["sca_done", "sca_snooze_1d", "sca_snooze_1w", "sca_reassign"]);
    }

    #[test]
    fn sca_action_ids_read_back_as_the_action_they_name() {
        for action in ScaAction::ALL {
            assert_eq!(ScaAction::parse(action.as_str()), Some(action));
            assert!(action.as_str().starts_with(ScaAction::PREFIX));
        }
        assert_eq!(ScaAction::parse("sca_x"), None);
        assert_eq!(ScaAction::parse("mayday_confirm"), None);
    }

    #[test]
    fn the_modal_offers_every_level_with_its_criteria() {
        let view = intake_modal(Some("from a message"));
        let options = view["blocks"][1]["element"]["options"].as_array().unwrap();
        assert_eq!(options.len(), 4);
        assert_eq!(view["blocks"][1]["element"]["initial_option"]["value"], "SEV2");
        assert_eq!(view["blocks"][3]["element"]["initial_value"], "from a message");
        assert!(
            view["blocks"][2]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("SEV0")
        );
    }
}
