//! The `/sev` slash-command interpreter, and the filing and SCA-adding it shares with modal
//! submissions and reactions.

use super::{PRIVATE_CHANNEL, SlackIntegration, reply};
use crate::app::{AppError, FileRequest, NewSca};
use crate::domain::{Actor, NewSev, Priority, Sca, ScaSource, Sev, SevId, SevPatch};
use crate::queue::TaskError;
use crate::slack::SlackSev;
use crate::slack::command::{self, Command, USAGE};
use crate::slack::messages::{self, person};

impl SlackIntegration {
    /// Runs a queued `/sev` command and returns the reply for the person who typed it.
    pub(super) async fn run_command(
        &self,
        channel: &str,
        user: &str,
        text: &str,
        key: &str,
    ) -> Result<String, TaskError> {
        let cmd = match command::parse(text) {
            Ok(cmd) => cmd,
            Err(usage) => return Ok(usage.to_string()),
        };
        if let Command::File { level, title } = &cmd {
            let new = NewSev {
                title: title.clone(),
                level: Some(*level),
                ..NewSev::default()
            };
            return reply(self.file(new, user, &format!("slack-command:{key}")).await);
        }
        if matches!(cmd, Command::Help | Command::OpenModal) {
            return Ok(USAGE.to_owned());
        }
        if let Command::Scas { overdue } = cmd {
            let listed = if overdue {
                self.scas.overdue().await
            } else {
                self.scas.open_for(user).await
            };
            let listed = match listed {
                Ok(scas) => self.access(user).retain(&self.sevs, scas, |s| s.sev).await,
                Err(e) => Err(e),
            };
            return reply(listed.map(|scas| sca_list(&scas, overdue)));
        }
        let Some((id, _)) = self.state.channel(channel).await.map_err(TaskError::from)? else {
            return Ok(
                "This is not a SEV channel. Use this command in a SEV's response channel, or `/sev new` to file one."
                    .into(),
            );
        };
        if !self.may_act(user, id).await? {
            return Ok(PRIVATE_CHANNEL.into());
        }
        let actor = Actor::from(user);
        let sevs = &self.sevs;
        let done = |verb: &str, sev: Sev| Ok(format!("{} {verb}.", sev.id));
        let result = match cmd {
            Command::Update(t) => sevs
                .post_update(id, &t, actor)
                .await
                .and_then(|s| done("update posted", s)),
            Command::Public(t) => sevs
                .post_public_update(id, &t, actor)
                .await
                .and_then(|s| done("public update published", s)),
            Command::Level(l) => sevs
                .change_level(id, l, actor)
                .await
                .and_then(|s| done(&format!("is now {l}"), s)),
            Command::Status { to, reason } => sevs
                .set_status(id, to, reason, actor)
                .await
                .and_then(|s| done(&format!("is now {to}"), s)),
            Command::ReportOwner(u) => {
                let u = Actor::from(u);
                let patch = SevPatch {
                    report_owner: Some(Some(u.clone())),
                    ..SevPatch::default()
                };
                sevs.patch(id, patch, actor)
                    .await
                    .and_then(|s| done(&format!("report owner is {}", person(&u)), s))
            }
            Command::Coordinator(u) => {
                let u = Actor::from(u);
                let patch = SevPatch {
                    coordinator: Some(Some(u.clone())),
                    ..SevPatch::default()
                };
                sevs.patch(id, patch, actor)
                    .await
                    .and_then(|s| done(&format!("coordinator is {}", person(&u)), s))
            }
            Command::CommsLead(u) => {
                let u = Actor::from(u);
                let patch = SevPatch {
                    comms_lead: Some(Some(u.clone())),
                    ..SevPatch::default()
                };
                sevs.patch(id, patch, actor)
                    .await
                    .and_then(|s| done(&format!("comms lead is {}", person(&u)), s))
            }
            Command::Deputy { user: u, remove } => {
                let u = Actor::from(u);
                let (patch, verb) = if remove {
                    let patch = SevPatch {
                        remove_deputies: vec![u.clone()],
                        ..SevPatch::default()
                    };
                    (patch, format!("no longer has {} as a deputy", person(&u)))
                } else {
                    let patch = SevPatch {
                        add_deputies: vec![u.clone()],
                        ..SevPatch::default()
                    };
                    (patch, format!("has {} as a deputy", person(&u)))
                };
                sevs.patch(id, patch, actor).await.and_then(|s| done(&verb, s))
            }
            Command::Tag(tag) => {
                let label = tag.to_string();
                let patch = SevPatch {
                    add_tags: vec![tag],
                    ..SevPatch::default()
                };
                sevs.patch(id, patch, actor)
                    .await
                    .and_then(|s| done(&format!("is tagged {label}"), s))
            }
            Command::Show => sevs.get(id).await.map(|d| {
                let slack = SlackSev::default();
                messages::announcement(&d.sev, &slack)
            }),
            Command::Page(team) => return self.page_command(id, &team, user).await,
            Command::Mayday => {
                Ok("Paging is not set up here: set SEVTOOL_TEAMS to a team catalog to page teams from Slack.".into())
            }
            Command::Sca { priority, text } => {
                let source = ScaSource::Slack {
                    channel: channel.to_owned(),
                    ts: None,
                };
                self.add_sca(id, priority, &text, user, source).await
            }
            Command::File { .. } | Command::Help | Command::OpenModal | Command::Scas { .. } => Ok(USAGE.to_owned()),
        };
        reply(result)
    }

    /// Files a SEV for `user`; `key` makes a retried command or submission file it once.
    pub(super) async fn file(&self, new: NewSev, user: &str, key: &str) -> Result<String, AppError> {
        let request = FileRequest {
            new,
            reporter: Actor::from(user),
            idempotency_key: Some(key.to_owned()),
        };
        let (sev, _) = self.sevs.file(request).await?;
        Ok(format!(
            "Filed {} ({}): {}. Its channels are being created now.",
            sev.id,
            sev.level,
            messages::escape(&sev.title)
        ))
    }

    /// Adds an SCA to `sev` from a command or a reaction; `source` says where it came from.
    pub(super) async fn add_sca(
        &self,
        sev: SevId,
        priority: Priority,
        text: &str,
        user: &str,
        source: ScaSource,
    ) -> Result<String, AppError> {
        let new = NewSca {
            text: text.to_owned(),
            priority,
            owner: None,
            due: None,
            ticket: None,
            source,
        };
        let sca = self.scas.create(sev, new, Actor::from(user)).await?;
        let due = sca
            .due
            .map_or_else(|| "no due date".to_owned(), |d| format!("due {}", d.format("%Y-%m-%d")));
        Ok(format!(
            "{} added to {} ({} do, owner {}, {due}).",
            sca.id,
            sev,
            sca.priority,
            person(&sca.owner)
        ))
    }
}

/// The reply to `/sev scas`: one line per SCA.
fn sca_list(scas: &[Sca], overdue: bool) -> String {
    if scas.is_empty() {
        return if overdue {
            "No corrective action is overdue.".into()
        } else {
            "You have no open corrective actions.".into()
        };
    }
    let lines: Vec<String> = scas
        .iter()
        .map(|s| {
            let due = s
                .due
                .map_or_else(|| "no due date".to_owned(), |d| format!("due {}", d.format("%Y-%m-%d")));
            format!(
                "• {} ({}, {}, {due}, {}): {}",
                s.id,
                s.sev,
                s.priority,
                person(&s.owner),
                messages::escape(&s.text)
            )
        })
        .collect();
    lines.join("\n")
}
