//! The Slack integration's task handler: sets up a SEV's channels when it is filed, cross-posts
//! its status updates, and acts on queued slash commands, reactions and modal submissions.
//! Each side effect is a memoized step, so a retried task never posts or creates twice.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use serde_json::Value;

use super::command::{self, Command, USAGE};
use super::messages::{self, is_slack_user, person};
use super::state::{AppliedReaction, ChannelRole};
use super::{Inbound, Reaction, SlackClient, SlackSettings, SlackSev, SlackState, naming};
use crate::app::{
    Access, AppError, FileRequest, NewSca, PagingService, ReportService, ScaService, SecurityGroup, SevService,
};
use crate::domain::{
    DomainError, EntryId, NagStep, NewSev, Priority, Sca, ScaId, ScaPatch, ScaSource, ScaStateName, Sev, SevId,
    SevPatch, Status, Timestamp,
};
use crate::queue::{Steps, Task, TaskEnvelope, TaskError, TaskHandler};
use crate::store::{RepoError, SevRepo};

/// Removing a reaction within this long undoes what it did.
const UNDO_WINDOW: Duration = Duration::minutes(10);
/// How many numbered names to try when a channel name is taken.
const NAME_ATTEMPTS: u32 = 10;

#[derive(Clone)]
pub struct SlackIntegration {
    pub(super) client: SlackClient,
    pub(super) sevs: SevService,
    scas: ScaService,
    pub(super) repo: SevRepo,
    pub(super) state: SlackState,
    pub(super) settings: Arc<SlackSettings>,
    /// Present when a team catalog is configured.
    pub(super) paging: Option<PagingService>,
    /// Builds the weekly digest it posts.
    pub(super) reports: Option<ReportService>,
    /// When reports are due, for the report nags.
    pub(super) report_policy: crate::domain::ReportPolicy,
    /// Who sees every private SEV, for [`SlackIntegration::access`].
    security: SecurityGroup,
}

/// What a person who may not see a channel's private SEV is told: no title, id or owner.
pub(super) const PRIVATE_CHANNEL: &str = "This channel belongs to a private SEV: only its members (reporter, coordinator, \
    report owner, SCA owners and whoever acted on it) and the security group may use `/sev` here.";

pub(super) fn storage(e: RepoError) -> TaskError {
    TaskError::Retryable(format!("storage: {e}"))
}

/// What an application error means for the task that hit it: people's mistakes are answered,
/// storage trouble is retried.
pub(super) enum Outcome {
    Done(String),
    Refused(String),
}

pub(super) fn outcome(result: Result<String, AppError>) -> Result<Outcome, TaskError> {
    match result {
        Ok(msg) => Ok(Outcome::Done(msg)),
        Err(AppError::Store(e)) => Err(TaskError::Retryable(format!("storage: {e}"))),
        Err(e) => Ok(Outcome::Refused(e.to_string())),
    }
}

impl SlackIntegration {
    pub fn new(
        client: SlackClient,
        sevs: SevService,
        scas: ScaService,
        repo: SevRepo,
        settings: Arc<SlackSettings>,
        security: SecurityGroup,
    ) -> Self {
        let state = SlackState::new(repo.clone());
        SlackIntegration {
            client,
            sevs,
            scas,
            repo,
            state,
            settings,
            paging: None,
            reports: None,
            report_policy: crate::domain::ReportPolicy::default(),
            security,
        }
    }

    /// What the Slack user `user` may see and act on: the one visibility policy.
    pub(super) fn access(&self, user: &str) -> Access {
        Access::person(user, &self.security)
    }

    /// Whether `user` may act on SEV `id`; storage trouble is retried.
    pub(super) async fn may_act(&self, user: &str, id: SevId) -> Result<bool, TaskError> {
        match self.access(user).check(&self.sevs, id).await {
            Ok(()) => Ok(true),
            Err(AppError::NotFound(_)) => Ok(false),
            Err(e) => Err(TaskError::Retryable(e.to_string())),
        }
    }

    pub fn with_reports(mut self, reports: ReportService) -> Self {
        self.report_policy = reports.policy().clone();
        self.reports = Some(reports);
        self
    }

    async fn add_sca(
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
        let sca = self.scas.create(sev, new, user.to_owned()).await?;
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

    pub fn with_paging(mut self, paging: Option<PagingService>) -> Self {
        self.paging = paging;
        self
    }

    pub(super) async fn load(&self, id: SevId) -> Result<crate::app::SevDetail, TaskError> {
        self.sevs.get(id).await.map_err(|e| match e {
            AppError::NotFound(_) => TaskError::Permanent(e.to_string()),
            other => TaskError::Retryable(other.to_string()),
        })
    }

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
    async fn on_filed(&self, id: SevId, steps: &Steps<'_>) -> Result<(), TaskError> {
        let sev = self.load(id).await?.sev;
        let base = naming::response_channel(&self.settings.channel_pattern, &sev);
        let response: String = steps
            .once("response-channel", || self.create_channel(&base, sev.private))
            .await?;
        let announce_name = naming::announce_channel(&base);
        let announce: String = steps
            .once("announce-channel", || self.create_channel(&announce_name, sev.private))
            .await?;
        let mut slack = self.state.sev(id).await.map_err(storage)?;
        slack.response = Some(response.clone());
        slack.announce = Some(announce.clone());
        self.state.save(id, &slack).await.map_err(storage)?;
        self.state
            .link_channel(&response, id, ChannelRole::Response)
            .await
            .map_err(storage)?;
        self.state
            .link_channel(&announce, id, ChannelRole::Announce)
            .await
            .map_err(storage)?;

        let people: Vec<String> = [Some(&sev.reporter), sev.coordinator.as_ref()]
            .into_iter()
            .flatten()
            .filter(|a| is_slack_user(a))
            .cloned()
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
        steps
            .once("announce-intro", || async {
                Ok(self.client.post_message(&announce, &text, None, None).await?)
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
            self.state.save(id, &slack).await.map_err(storage)?;
        }
        Ok(())
    }

    /// A timeline entry was added: post it where people follow the SEV.
    async fn on_entry(&self, id: SevId, entry_id: &EntryId, steps: &Steps<'_>) -> Result<(), TaskError> {
        let detail = self.load(id).await?;
        let Some(entry) = detail.timeline.iter().find(|e| &e.id == entry_id) else {
            return Err(TaskError::Permanent(format!("{id} has no timeline entry {entry_id}")));
        };
        if matches!(entry.kind, crate::domain::EntryKind::Filed { .. }) {
            return Ok(());
        }
        let slack = self.state.sev(id).await.map_err(storage)?;
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
        if let crate::domain::EntryKind::Report { change } = entry.kind {
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

    async fn on_inbound(&self, inbound: &Inbound, steps: &Steps<'_>) -> Result<(), TaskError> {
        match inbound {
            Inbound::Command {
                channel,
                user,
                text,
                response_url,
                trigger_id,
            } => {
                if self.paging.is_some() && matches!(command::parse(text), Ok(Command::Mayday)) {
                    return self.mayday_prompt(channel, user, response_url, steps).await;
                }
                let reply = self.run_command(channel, user, text, trigger_id).await?;
                steps
                    .once("respond", || async {
                        Ok(self.client.respond(response_url, &reply).await?)
                    })
                    .await
            }
            Inbound::Event { event, .. } => self.on_event(event, steps).await,
            Inbound::Action {
                action_id,
                value,
                user,
                response_url,
                selected_user,
                ..
            } => {
                if action_id.starts_with("sca_") {
                    let reply = self
                        .on_sca_action(user, action_id, value, selected_user.as_deref())
                        .await?;
                    steps
                        .once("reply", || async {
                            Ok(self.client.post_message(user, &reply, None, None).await?)
                        })
                        .await
                        .map(drop)
                } else {
                    let reply = self.on_action(action_id, value, user).await?;
                    steps
                        .once("respond", || async {
                            Ok(self.client.respond(response_url, &reply).await?)
                        })
                        .await
                }
            }
            Inbound::Submission {
                view_id,
                user,
                title,
                level,
                description,
                private,
            } => {
                let new = NewSev {
                    title: title.clone(),
                    level: Some(*level),
                    description: description.clone(),
                    private: *private,
                    ..NewSev::default()
                };
                let key = inbound.key();
                let filed = self.file(new, user, &key).await;
                let text = match outcome(filed)? {
                    Outcome::Done(msg) | Outcome::Refused(msg) => msg,
                };
                tracing::info!(view = %view_id, "modal submission handled");
                steps
                    .once("dm", || async {
                        Ok(self.client.post_message(user, &text, None, None).await?)
                    })
                    .await
                    .map(drop)
            }
        }
    }

    /// Reminds the owner; past due also the SEV's channel; on escalation also the coordinator and
    /// the channel of the team that owns the SEV's product track.
    async fn on_nag(&self, id: ScaId, step: NagStep, steps: &Steps<'_>) -> Result<(), TaskError> {
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
        if is_slack_user(&sca.owner) {
            let blocks = messages::nag_blocks(&sca, &text);
            steps
                .once("owner", || async {
                    Ok(self.client.post_message(&sca.owner, &text, Some(blocks), None).await?)
                })
                .await?;
        }
        if matches!(step, NagStep::Overdue | NagStep::Escalate)
            && let Some(channel) = self.state.sev(sca.sev).await.map_err(storage)?.response
        {
            steps
                .once("channel", || async {
                    Ok(self.client.post_message(&channel, &text, None, None).await?)
                })
                .await?;
        }
        if step == NagStep::Escalate
            && let Some(coordinator) = sev.coordinator.as_deref().filter(|c| is_slack_user(c))
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
    async fn on_sca_action(
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
        let current = match self.access(user).sca(&self.sevs, &self.scas, id).await {
            Ok(current) => current,
            Err(e) => {
                return Ok(match outcome(Err(e))? {
                    Outcome::Done(m) | Outcome::Refused(m) => m,
                });
            }
        };
        let snooze = |days| {
            let from = current.due.map_or_else(Utc::now, |d| d.max(Utc::now()));
            let to = from
                .checked_add_signed(Duration::days(days))
                .ok_or_else(|| DomainError::invalid("due", "cannot move any later"))?;
            Ok::<_, AppError>(ScaPatch {
                due: Some(Some(Timestamp::new("due", to)?)),
                ..ScaPatch::default()
            })
        };
        let patch = match action {
            "sca_done" => Ok(ScaPatch {
                state: Some((ScaStateName::Done, None)),
                ..ScaPatch::default()
            }),
            "sca_snooze_1d" => snooze(1),
            "sca_snooze_1w" => snooze(7),
            "sca_reassign" => match selected {
                Some(u) => Ok(ScaPatch {
                    owner: Some(u.to_owned()),
                    ..ScaPatch::default()
                }),
                None => return Ok("Pick someone to hand it to.".into()),
            },
            other => return Ok(format!("I don't know the action `{other}`.")),
        };
        let result = match patch {
            Ok(patch) => self.scas.update(id, patch, user.to_owned()).await,
            Err(e) => Err(e),
        };
        let reply = result.map(|s| {
            let due = s
                .due
                .map_or_else(|| "no due date".to_owned(), |d| format!("due {}", d.format("%Y-%m-%d")));
            match action {
                "sca_done" => format!("{} marked done. Thank you!", s.id),
                "sca_reassign" => format!("{} now belongs to {}.", s.id, person(&s.owner)),
                _ => format!("{} snoozed: now {due}.", s.id),
            }
        });
        Ok(match outcome(reply)? {
            Outcome::Done(m) | Outcome::Refused(m) => m,
        })
    }

    async fn file(&self, new: NewSev, user: &str, key: &str) -> Result<String, AppError> {
        let request = FileRequest {
            new,
            reporter: user.to_owned(),
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

    /// Runs a queued `/sev` command and returns the reply for the person who typed it.
    async fn run_command(&self, channel: &str, user: &str, text: &str, key: &str) -> Result<String, TaskError> {
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
            return Ok(
                match outcome(self.file(new, user, &format!("slack-command:{key}")).await)? {
                    Outcome::Done(m) | Outcome::Refused(m) => m,
                },
            );
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
            return Ok(match outcome(listed.map(|scas| sca_list(&scas, overdue)))? {
                Outcome::Done(m) | Outcome::Refused(m) => m,
            });
        }
        let Some((id, _)) = self.state.channel(channel).await.map_err(storage)? else {
            return Ok(
                "This is not a SEV channel. Use this command in a SEV's response channel, or `/sev new` to file one."
                    .into(),
            );
        };
        if !self.may_act(user, id).await? {
            return Ok(PRIVATE_CHANNEL.into());
        }
        let actor = user.to_owned();
        let sevs = &self.sevs;
        let done = |verb: &str, sev: Sev| Ok(format!("{} {verb}.", sev.id));
        let result = match cmd {
            Command::Update(t) => sevs
                .post_update(id, &t, actor)
                .await
                .and_then(|s| done("update posted", s)),
            Command::Level(l) => sevs
                .change_level(id, l, actor)
                .await
                .and_then(|s| done(&format!("is now {l}"), s)),
            Command::Status { to, reason } => sevs
                .set_status(id, to, reason, actor)
                .await
                .and_then(|s| done(&format!("is now {to}"), s)),
            Command::ReportOwner(u) => {
                let patch = SevPatch {
                    report_owner: Some(Some(u.clone())),
                    ..SevPatch::default()
                };
                sevs.patch(id, patch, actor)
                    .await
                    .and_then(|s| done(&format!("report owner is {}", person(&u)), s))
            }
            Command::Coordinator(u) => {
                let patch = SevPatch {
                    coordinator: Some(Some(u.clone())),
                    ..SevPatch::default()
                };
                sevs.patch(id, patch, actor)
                    .await
                    .and_then(|s| done(&format!("coordinator is {}", person(&u)), s))
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
        Ok(match outcome(result)? {
            Outcome::Done(m) | Outcome::Refused(m) => m,
        })
    }

    async fn on_event(&self, event: &Value, steps: &Steps<'_>) -> Result<(), TaskError> {
        let kind = event["type"].as_str().unwrap_or_default();
        if kind == "member_joined_channel" {
            return self.on_member_joined(event).await;
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
        let Some((id, ChannelRole::Response)) = self.state.channel(channel).await.map_err(storage)? else {
            return Ok(());
        };
        if !self.may_act(user, id).await? {
            return Ok(());
        }
        let reaction_key = format!("{channel}#{ts}#{emoji}#{user}");
        let reply = if kind == "reaction_added" {
            self.react(id, action, channel, ts, user, &reaction_key).await?
        } else {
            self.unreact(id, action, user, &reaction_key).await?
        };
        if let Some(reply) = reply {
            steps
                .once("confirm", || async {
                    Ok(self.client.post_message(channel, &reply, None, Some(ts)).await?)
                })
                .await?;
        }
        Ok(())
    }

    async fn react(
        &self,
        id: SevId,
        action: Reaction,
        channel: &str,
        ts: &str,
        user: &str,
        key: &str,
    ) -> Result<Option<String>, TaskError> {
        let actor = user.to_owned();
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
                .map(|s| format!("{} marked mitigated by {}.", s.id, person(user))),
            Reaction::Resolved => self
                .sevs
                .set_status(id, Status::Resolved, None, actor)
                .await
                .map(|s| format!("{} marked resolved by {}.", s.id, person(user))),
            Reaction::Update => {
                let m = message().await?;
                self.sevs
                    .post_update(id, &m.text, actor)
                    .await
                    .map(|s| format!("Posted as a status update of {}.", s.id))
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
        let reply = match outcome(result)? {
            Outcome::Done(msg) => {
                let applied = AppliedReaction { at: Utc::now(), author };
                self.state.record_reaction(key, &applied).await.map_err(storage)?;
                msg
            }
            Outcome::Refused(msg) => msg,
        };
        Ok(Some(reply))
    }

    /// Undoes a reaction removed soon after it acted, where undoing makes sense.
    async fn unreact(&self, id: SevId, action: Reaction, user: &str, key: &str) -> Result<Option<String>, TaskError> {
        let Some(applied) = self.state.applied_reaction(key).await.map_err(storage)? else {
            return Ok(None);
        };
        if Utc::now() - applied.at > UNDO_WINDOW {
            return Ok(None);
        }
        let sev = self.load(id).await?.sev;
        let actor = user.to_owned();
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
            Reaction::ReportOwner if sev.report_owner.is_some() && sev.report_owner == applied.author => {
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
        Ok(Some(
            match outcome(result.map(|s| format!("Undone: {} is {} again.", s.id, s.status)))? {
                Outcome::Done(m) | Outcome::Refused(m) => m,
            },
        ))
    }
}

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

#[async_trait]
impl TaskHandler for SlackIntegration {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        let steps = Steps::new(&self.repo, &task.key);
        match &task.task {
            Task::SevFiled { sev } => self.on_filed(*sev, &steps).await,
            Task::TimelineEntryAdded { sev, entry } => self.on_entry(*sev, entry, &steps).await,
            Task::Slack { inbound } => self.on_inbound(inbound, &steps).await,
            Task::Nag { sca, step, .. } => self.on_nag(*sca, *step, &steps).await,
            Task::PostDigest { week, .. } => self.post_digest(*week, &steps).await,
            Task::ReportNag { sev, step, .. } => self.on_report_nag(*sev, *step, &steps).await,
            // Planning, drafting and sweeping belong to other handlers; the pager queue's tasks
            // reach Slack as the timeline entries they write.
            _ => Ok(()),
        }
    }
}
