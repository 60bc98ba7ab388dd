//! The paging service: the one way entry points and the pager queue act on a SEV's pages.
//! It records pages and their outcomes (on the SEV's partition and its timeline) and queues the
//! work; the pager calls themselves happen in `paging::PagingIntegration`, from the pager queue.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::retry::{Attempt, DEFAULT_ATTEMPTS, retry_optimistic};
use super::sevs::{entries_at, entry_tasks};
use super::{AppError, ErrorKind};
use crate::alerts::Owner;
use crate::clock::Clock;
use crate::domain::{Actor, EntryKind, Level, OnCallPerson, Page, PageReason, PageState, Sev, SevId, Status};
use crate::paging::{Catalog, OnCall, Rotation, Team};
use crate::queue::{Relay, Task, TaskEnvelope, TaskError};
use crate::store::{RepoError, SevRepo};

#[derive(Debug, thiserror::Error)]
pub enum PagingError {
    #[error("there is no team `{name}` in the catalog{}", did_you_mean(.suggestions))]
    UnknownTeam { name: String, suggestions: Vec<String> },
    #[error("no team in the catalog lists the service `{0}`")]
    UnknownService(String),
    #[error("the alert names no owner (a `team` or `service` label, or the rule's team)")]
    NoOwner,
    #[error("{0} is {1}; teams are paged for open or mitigated SEVs only")]
    Inactive(SevId, Status),
    #[error("mayday pages every team at once; confirm it by sending {{\"confirm\": true}}")]
    NotConfirmed,
    #[error(transparent)]
    App(#[from] AppError),
}

impl PagingError {
    /// The kind of error, as [`AppError::kind`] decides it for the rest.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PagingError::UnknownTeam { .. }
            | PagingError::UnknownService(_)
            | PagingError::NoOwner
            | PagingError::NotConfirmed => ErrorKind::Invalid,
            PagingError::Inactive(..) => ErrorKind::Conflict,
            PagingError::App(e) => e.kind(),
        }
    }
}

impl From<PagingError> for TaskError {
    fn from(e: PagingError) -> Self {
        match e {
            PagingError::App(e) => e.into(),
            other => TaskError::Permanent(other.to_string()),
        }
    }
}

impl From<RepoError> for PagingError {
    fn from(e: RepoError) -> Self {
        PagingError::App(e.into())
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// A page as asked for: the record, and whether this request created it.
#[derive(Debug, Clone)]
pub struct Paging {
    pub page: Page,
    pub new: bool,
}

#[derive(Clone)]
pub struct PagingService {
    repo: SevRepo,
    relay: Relay,
    clock: Arc<dyn Clock>,
    catalog: Arc<Catalog>,
    /// SEVs at this level or worse page the coordinator rotation when filed; `None`: never.
    autopage: Option<Level>,
}

impl PagingService {
    pub fn new(
        repo: SevRepo,
        relay: Relay,
        clock: Arc<dyn Clock>,
        catalog: Arc<Catalog>,
        autopage: Option<Level>,
    ) -> Self {
        PagingService {
            repo,
            relay,
            clock,
            catalog,
            autopage,
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    async fn active_sev(&self, id: SevId) -> Result<Sev, PagingError> {
        let sev = self.repo.load(id).await?.sev;
        if !sev.status.is_active() {
            return Err(PagingError::Inactive(id, sev.status));
        }
        Ok(sev)
    }

    pub fn team(&self, name: &str) -> Result<&Team, PagingError> {
        self.catalog.find(name).ok_or_else(|| PagingError::UnknownTeam {
            name: name.trim().to_owned(),
            suggestions: self.catalog.suggest(name),
        })
    }

    /// Records a page to `team` and queues it; an existing page to the team is returned as is.
    async fn create(&self, id: SevId, team: &Team, reason: PageReason, by: &Actor) -> Result<Paging, PagingError> {
        let now = self.clock.now();
        let page = Page::new(id, &team.name, team.pager.kind(), reason, by, now);
        let task = TaskEnvelope::new(
            Task::Page {
                sev: id,
                team: team.name.clone(),
            },
            now,
        );
        if self
            .repo
            .create_pages(id, std::slice::from_ref(&page), &[], &[task])
            .await?
        {
            tracing::info!(sev = %id, team = %team.name, reason = ?reason, "page queued");
            return Ok(Paging { page, new: true });
        }
        match self.repo.page(id, &team.name).await? {
            Some((page, _)) => Ok(Paging { page, new: false }),
            // Created and gone between the two reads cannot happen (pages are never deleted),
            // but if the store says so, asking again is the honest answer.
            None => Err(PagingError::App(AppError::Conflict)),
        }
    }

    /// Pages one team, named by name or alias.
    pub async fn page(&self, id: SevId, team: &str, by: &Actor) -> Result<Paging, PagingError> {
        let team = self.team(team)?.clone();
        self.active_sev(id).await?;
        let paging = self.create(id, &team, PageReason::Manual, by).await?;
        self.relay.kick().await;
        Ok(paging)
    }

    /// Pages the team that owns an alert-opened SEV, as `by` (the alert source). Like every
    /// page it is keyed by SEV and team, so an opening finished twice pages once.
    pub async fn page_for_alert(&self, id: SevId, owner: &Owner, by: &Actor) -> Result<String, PagingError> {
        let team = match owner {
            Owner::Team(name) => self.team(name)?.clone(),
            Owner::Service(service) => self
                .catalog
                .serving(service)
                .cloned()
                .ok_or_else(|| PagingError::UnknownService(service.clone()))?,
            Owner::Unnamed => return Err(PagingError::NoOwner),
        };
        self.active_sev(id).await?;
        self.create(id, &team, PageReason::Alert, by).await?;
        self.relay.kick().await;
        Ok(team.name)
    }

    /// Pages the coordinator rotation for a SEV filed at or above the auto-page level, and the
    /// call-leader and comms rotations too for SEV0 and SEV1. Returns the teams paged.
    pub async fn auto_page(&self, id: SevId) -> Result<Vec<String>, PagingError> {
        let sev = match self.active_sev(id).await {
            Ok(sev) => sev,
            Err(PagingError::Inactive(..)) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if !self.autopage.is_some_and(|l| sev.level.at_least(l)) {
            return Ok(Vec::new());
        }
        let mut teams = Vec::new();
        if let Some(t) = self.catalog.rotation(Rotation::Coordinator) {
            teams.push(t.clone());
        }
        if sev.level.at_least(Level::Sev1) {
            teams.extend(self.catalog.rotation(Rotation::CallLeader).cloned());
            // A private SEV is never published, and paging would make the comms on-call a member.
            if !sev.private {
                teams.extend(self.catalog.rotation(Rotation::Comms).cloned());
            }
        }
        for team in &teams {
            self.create(id, team, PageReason::Auto, &Actor::SEVTOOL).await?;
        }
        self.relay.kick().await;
        Ok(teams.into_iter().map(|t| t.name).collect())
    }

    /// Declares a mayday: every team will be paged. The fan-out itself runs from the pager
    /// queue, so a catalog of hundreds of teams never holds up the request.
    pub async fn mayday(&self, id: SevId, confirmed: bool, by: &Actor) -> Result<usize, PagingError> {
        if !confirmed {
            return Err(PagingError::NotConfirmed);
        }
        self.active_sev(id).await?;
        let now = self.clock.now();
        let teams = self.catalog.teams().len();
        let entries = entries_at(vec![EntryKind::Mayday { teams }], by, now);
        let mut tasks = entry_tasks(id, &entries, now);
        tasks.push(TaskEnvelope::new(Task::Mayday { sev: id }, now));
        self.repo.create_pages(id, &[], &entries, &tasks).await?;
        tracing::info!(sev = %id, teams, "mayday declared");
        self.relay.kick().await;
        Ok(teams)
    }

    /// The mayday fan-out: a page per team not paged yet. Safe to repeat after a crash.
    pub async fn fan_out(&self, id: SevId, by: &Actor) -> Result<usize, PagingError> {
        let paged: Vec<String> = self.repo.pages(id).await?.into_iter().map(|(p, _)| p.team).collect();
        let mut created = 0;
        for team in self.catalog.teams() {
            if paged.contains(&team.name) {
                continue;
            }
            if self.create(id, team, PageReason::Mayday, by).await?.new {
                created += 1;
            }
        }
        self.relay.kick().await;
        Ok(created)
    }

    /// The teams the catalog says own a SEV (its product track's team, and the team serving
    /// each `system/<service>` tag) that are not paged yet: offered as one-click pages, never
    /// paged by themselves. Only for active SEVs.
    pub fn suggested(&self, sev: &Sev, pages: &[Page]) -> Vec<String> {
        if !sev.status.is_active() {
            return Vec::new();
        }
        let by_track = sev.product_track.as_deref().and_then(|t| self.catalog.owner_of(t));
        let by_system = sev.services().filter_map(|service| self.catalog.serving(service));
        let mut teams: Vec<String> = Vec::new();
        for team in by_track.into_iter().chain(by_system) {
            if !teams.contains(&team.name) && !pages.iter().any(|p| p.team == team.name) {
                teams.push(team.name.clone());
            }
        }
        teams
    }

    pub async fn pages(&self, id: SevId) -> Result<Vec<Page>, AppError> {
        Ok(self.repo.pages(id).await?.into_iter().map(|(p, _)| p).collect())
    }

    pub async fn page_of(&self, id: SevId, team: &str) -> Result<Option<Page>, AppError> {
        Ok(self.repo.page(id, team).await?.map(|(p, _)| p))
    }

    /// Changes one page under optimistic concurrency. `change` returns `None` to leave the page
    /// alone, or the timeline entries the change makes.
    /// Changes one page; `author` writes its timeline entries (`None`: the page's own pager,
    /// whose webhook reported the change).
    async fn update<F>(
        &self,
        id: SevId,
        team: &str,
        author: Option<&Actor>,
        change: F,
    ) -> Result<Option<Page>, AppError>
    where
        F: Fn(&mut Page, DateTime<Utc>) -> Option<Vec<EntryKind>>,
    {
        retry_optimistic(DEFAULT_ATTEMPTS, || async {
            let Some((mut page, version)) = self.repo.page(id, team).await? else {
                return Ok(Attempt::Done(None));
            };
            let now = self.clock.now();
            let Some(kinds) = change(&mut page, now) else {
                return Ok(Attempt::Done(None));
            };
            let pager = Actor::pager(page.pager);
            let entries = entries_at(kinds, author.unwrap_or(&pager), now);
            let tasks = entry_tasks(id, &entries, now);
            match self.repo.save_page(id, &page, version, &entries, &tasks).await {
                Ok(()) => {
                    if !tasks.is_empty() {
                        self.relay.kick().await;
                    }
                    Ok(Attempt::Done(Some(page)))
                }
                Err(RepoError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The pager took the page and these people are on call.
    pub async fn record_paged(&self, id: SevId, team: &str, on_call: &[OnCall]) -> Result<Option<Page>, AppError> {
        let rotation = self.catalog.find(team).and_then(|t| t.rotation);
        self.update(id, team, Some(&Actor::SEVTOOL), |page, now| {
            if page.state != PageState::Queued {
                return None;
            }
            let people = on_call
                .iter()
                .map(|o| OnCallPerson {
                    name: o.name.clone(),
                    email: o.email.clone(),
                    slack_user: None,
                    joined_at: None,
                })
                .collect();
            page.paged(people, now);
            Some(vec![EntryKind::Paged {
                team: page.team.clone(),
                reason: page.reason,
                on_call: on_call.iter().map(|o| o.email.clone()).collect(),
                coordinator: rotation == Some(Rotation::Coordinator),
                comms_lead: rotation == Some(Rotation::Comms),
            }])
        })
        .await
    }

    pub async fn record_failed(&self, id: SevId, team: &str, reason: &str) -> Result<Option<Page>, AppError> {
        self.update(id, team, Some(&Actor::SEVTOOL), |page, now| {
            if page.state != PageState::Queued {
                return None;
            }
            page.failed(reason, now);
            Some(vec![EntryKind::PageFailed {
                team: page.team.clone(),
                reason: reason.to_owned(),
            }])
        })
        .await
    }

    /// Keeps the latest error of a page that is being retried, for the SEV's page to show.
    pub async fn record_retrying(&self, id: SevId, team: &str, error: &str) -> Result<(), AppError> {
        self.update(id, team, Some(&Actor::SEVTOOL), |page, now| {
            (page.state == PageState::Queued).then(|| {
                page.error = Some(error.to_owned());
                page.updated_at = now;
                Vec::new()
            })
        })
        .await
        .map(drop)
    }

    /// Someone took the page in the pager at `at` (`by`: the pager's name for them).
    pub async fn record_acknowledged(
        &self,
        id: SevId,
        team: &str,
        by: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<Page>, AppError> {
        let page = self
            .update(id, team, None, |page, now| {
                page.acknowledged(by, at, now).then(|| {
                    vec![EntryKind::PageAcknowledged {
                        team: page.team.clone(),
                        by: by.map(str::to_owned),
                    }]
                })
            })
            .await?;
        self.note_acknowledged(id).await?;
        Ok(page)
    }

    /// The SEV records when its first page was acknowledged, for the trend numbers (which read
    /// SEVs only). Read from the pages each time, so a redelivered ack or a crash between the
    /// page and the SEV settles to the same time.
    async fn note_acknowledged(&self, id: SevId) -> Result<(), AppError> {
        retry_optimistic(DEFAULT_ATTEMPTS, || async {
            let stored = self.repo.load(id).await?;
            let mut sev = stored.sev.clone();
            let pages = self.repo.pages(id).await?;
            let first = pages.iter().filter_map(|(p, _)| p.acknowledged_at).min();
            if first.is_none() || sev.acknowledged_at == first {
                return Ok(Attempt::Done(()));
            }
            sev.acknowledged_at = first;
            match self.repo.save(&stored, &sev, &[], &[]).await {
                Ok(()) => Ok(Attempt::Done(())),
                Err(RepoError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// The pager reassigned or escalated the page: said on the timeline while the page is open.
    pub async fn record_escalated(
        &self,
        id: SevId,
        team: &str,
        how: &str,
        by: Option<&str>,
    ) -> Result<Option<Page>, AppError> {
        self.update(id, team, None, |page, now| {
            if !page.state.is_open() {
                return None;
            }
            page.updated_at = now;
            Some(vec![EntryKind::PageEscalated {
                team: page.team.clone(),
                how: how.to_owned(),
                by: by.map(str::to_owned),
            }])
        })
        .await
    }

    pub async fn record_resolved(&self, id: SevId, team: &str) -> Result<Option<Page>, AppError> {
        self.update(id, team, Some(&Actor::SEVTOOL), |page, now| {
            if page.state == PageState::Resolved {
                return None;
            }
            let was_open = page.state.is_open();
            page.resolved(now);
            Some(if was_open {
                vec![EntryKind::PageResolved {
                    team: page.team.clone(),
                }]
            } else {
                Vec::new()
            })
        })
        .await
    }

    /// Remembers the Slack users of a page's on-call people, found by their email.
    pub async fn record_slack_users(
        &self,
        id: SevId,
        team: &str,
        users: &HashMap<String, String>,
    ) -> Result<(), AppError> {
        self.update(id, team, Some(&Actor::SEVTOOL), |page, _| {
            let mut changed = false;
            for p in &mut page.on_call {
                if let Some(u) = users.get(&p.email)
                    && p.slack_user.as_ref() != Some(u)
                {
                    p.slack_user = Some(u.clone());
                    changed = true;
                }
            }
            changed.then(Vec::new)
        })
        .await
        .map(drop)
    }

    /// Someone joined the SEV's response channel: if they were paged, they have mustered.
    /// Returns whether they were.
    pub async fn record_join(&self, id: SevId, slack_user: &str, at: DateTime<Utc>) -> Result<bool, AppError> {
        let mut mustered = false;
        let author = Actor::from(slack_user);
        for (page, _) in self.repo.pages(id).await? {
            if !page.on_call.iter().any(|p| p.slack_user.as_deref() == Some(slack_user)) {
                continue;
            }
            let first = !mustered;
            let changed = self
                .update(id, &page.team, Some(&author), |page, _| {
                    page.joined(slack_user, at).then(|| {
                        if first {
                            vec![EntryKind::Joined {
                                user: slack_user.to_owned(),
                            }]
                        } else {
                            Vec::new()
                        }
                    })
                })
                .await?;
            mustered |= changed.is_some();
        }
        if mustered {
            self.note_muster(id).await?;
        }
        Ok(mustered)
    }

    /// Once everyone paged has joined, the SEV records when, for the trend numbers (which read
    /// SEVs only, never their pages). Set once: a later page starts no new muster.
    async fn note_muster(&self, id: SevId) -> Result<(), AppError> {
        // Races are lost to other changes of the SEV, which is read again each time.
        retry_optimistic(DEFAULT_ATTEMPTS, || async {
            let stored = self.repo.load(id).await?;
            let mut sev = stored.sev.clone();
            if sev.mustered_at.is_some() {
                return Ok(Attempt::Done(()));
            }
            let pages: Vec<Page> = self.repo.pages(id).await?.into_iter().map(|(p, _)| p).collect();
            if crate::domain::muster(sev.declared_at, &pages)
                .time_to_muster_minutes
                .is_none()
            {
                return Ok(Attempt::Done(()));
            }
            sev.mustered_at = pages
                .iter()
                .filter(|p| p.state != PageState::Failed)
                .flat_map(|p| p.on_call.iter().filter_map(|o| o.joined_at))
                .max();
            match self.repo.save(&stored, &sev, &[], &[]).await {
                Ok(()) => Ok(Attempt::Done(())),
                Err(RepoError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }
}
