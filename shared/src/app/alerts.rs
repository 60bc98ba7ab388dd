//! The alert service: turns a source's notification into SEV changes, through `SevService` like
//! every other entry point. One alert group has at most one live SEV at a time:
//!
//! - no live SEV and the rules say open: the group is *claimed* (a conditional write of its item,
//!   which fixes the SEV to file), the SEV is filed under an idempotency key derived from the
//!   group and its generation, and the group is *linked* to it. A delivery that finds a claimed
//!   group finishes the same filing, so concurrent deliveries, or one after a crash between
//!   claim and link, all end with the same single SEV;
//! - a live SEV: the delivery is counted on the group, and only what is new (new alerts, the
//!   group resolving or firing again, a half-hourly summary of repeats) reaches the timeline;
//! - otherwise the delivery is recorded on the group and opens nothing.

use std::sync::Arc;

use serde::Serialize;

use super::retry::{Attempt, DEFAULT_ATTEMPTS, retry_optimistic};
use super::{AppError, FileRequest, PagingError, PagingService, SevService};
use crate::alerts::{
    AlertGroup, AlertOrigin, AlertPage, AlertStatus, Notification, Owner, Rules, group_id, planned, taken_over,
};
use crate::clock::Clock;
use crate::domain::{Actor, Sev, SevId, Status};
use crate::store::{RepoError, SevRepo};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    /// The delivery opened a SEV.
    Opened,
    /// It added something new to the SEV's timeline.
    Updated,
    /// It repeated what the SEV already knows and was only counted.
    Counted,
    /// The group resolved: an update was posted (and the SEV mitigated, if so configured).
    Resolved,
    /// No live SEV and the rules open none: recorded on the group only.
    Recorded,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlertOutcome {
    pub action: AlertAction,
    pub sev: Option<SevId>,
    /// The group's id (a hash of source and group key).
    pub group: String,
    /// The SEV was marked mitigated by this delivery.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mitigated: bool,
}

#[derive(Clone)]
pub struct AlertService {
    sevs: SevService,
    repo: SevRepo,
    rules: Arc<Rules>,
    clock: Arc<dyn Clock>,
    /// Pages the owners of SEVs opened by paging rules; `None` without a team catalog.
    paging: Option<PagingService>,
}

impl AlertService {
    pub fn new(
        sevs: SevService,
        repo: SevRepo,
        rules: Arc<Rules>,
        clock: Arc<dyn Clock>,
        paging: Option<PagingService>,
    ) -> Self {
        AlertService {
            sevs,
            repo,
            rules,
            clock,
            paging,
        }
    }

    pub async fn receive(&self, n: &Notification) -> Result<AlertOutcome, AppError> {
        let id = group_id(n.source, &n.group_key);
        // Any lost race on the group, or a delivery found opening its SEV, is `Conflict` from the
        // attempt: read the group again. Lost races in a row refuse the delivery with a retryable
        // error.
        retry_optimistic(DEFAULT_ATTEMPTS, || async {
            match self.attempt(&id, n).await {
                Err(AppError::Conflict) => Ok(Attempt::Lost),
                other => other.map(Attempt::Done),
            }
        })
        .await
    }

    async fn attempt(&self, id: &str, n: &Notification) -> Result<AlertOutcome, AppError> {
        let now = self.clock.now();
        let Some(stored) = self.repo.alert_group(n.source, id).await? else {
            return self.open_or_record(id, AlertGroup::new(n, now), None, n).await;
        };
        let (group, version) = (stored.group, stored.version);
        if group.pending.is_some() {
            // Another delivery is opening the group's SEV: finish that for it (filing is
            // idempotent), then this delivery is a follow-up like any other.
            self.finish_opening(id, group, version).await?;
            return Err(AppError::Conflict);
        }
        if let Some(sev_id) = group.sev {
            match self.repo.load(sev_id).await {
                Ok(s) if s.sev.status.is_active() => return self.follow_up(id, group, version, s.sev, n).await,
                // Its SEV has ended (or is gone): the group may open a new one.
                Ok(_) | Err(RepoError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.open_or_record(id, group, Some(version), n).await
    }

    async fn open_or_record(
        &self,
        id: &str,
        mut group: AlertGroup,
        expected: Option<u64>,
        n: &Notification,
    ) -> Result<AlertOutcome, AppError> {
        let now = self.clock.now();
        let plan = match n.status {
            AlertStatus::Firing => self.rules.decide(n.firing()),
            AlertStatus::Resolved => None,
        };
        let Some(plan) = plan else {
            group.record(n, now);
            self.repo.save_alert_group(id, &group, expected).await?;
            tracing::debug!(group = id, source = %n.source, "alert recorded; no rule opens a SEV");
            return Ok(AlertOutcome {
                action: AlertAction::Recorded,
                sev: None,
                group: id.to_owned(),
                mitigated: false,
            });
        };
        group.claim(n, &plan, planned(n, &plan, now), now);
        let version = self.repo.save_alert_group(id, &group, expected).await?;
        let sev = self.finish_opening(id, group, version).await?;
        Ok(AlertOutcome {
            action: AlertAction::Opened,
            sev: Some(sev),
            group: id.to_owned(),
            mitigated: false,
        })
    }

    /// Files the claimed group's SEV (idempotently) and links the group to it. Whoever links
    /// posts the opening note, so it is posted once however many deliveries race here.
    async fn finish_opening(&self, id: &str, mut group: AlertGroup, version: u64) -> Result<SevId, AppError> {
        let Some(planned) = group.pending.clone() else {
            return Err(AppError::Conflict);
        };
        let actor = group.source.actor();
        let (sev, _) = self
            .sevs
            .file(FileRequest {
                new: planned.new_sev(),
                reporter: actor.clone(),
                idempotency_key: Some(format!("alertgroup:{id}:{}", group.generation)),
            })
            .await?;
        let Some(mut origin) = group.origin(id) else {
            return Err(AppError::Conflict);
        };
        // Paged before the link, so that an opening cut short is paged by whoever finishes it;
        // a page is keyed by SEV and team, so finishing twice pages once.
        if let Some(owner) = &planned.page {
            origin.page = Some(self.page_owner(sev.id, owner, &actor).await?);
        }
        group.link(sev.id);
        match self.repo.link_alert_group(id, &group, version, sev.id, &origin).await {
            Ok(_) => {
                tracing::info!(sev = %sev.id, level = %sev.level, group = id, source = %group.source, "alert group opened a SEV");
                self.post(sev.id, &planned.note, &actor).await?;
            }
            // Another delivery linked the same SEV first.
            Err(RepoError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(sev.id)
    }

    async fn follow_up(
        &self,
        id: &str,
        mut group: AlertGroup,
        version: u64,
        sev: Sev,
        n: &Notification,
    ) -> Result<AlertOutcome, AppError> {
        let now = self.clock.now();
        let actor = group.source.actor();
        let change = group.follow_up(n, now);
        // Decided before the group is saved, so that a retry after a failure decides the same.
        let mut mitigate = false;
        let mut note = change.note.clone();
        let wants_status = (change.resolved && group.mitigate_on_resolve && sev.status == Status::Open)
            || (change.firing_again && sev.status == Status::Mitigated);
        if wants_status {
            let timeline = self.repo.timeline(sev.id).await?;
            match taken_over(&sev, &timeline) {
                Some(who) if change.resolved => {
                    let why = format!("Not marking the SEV mitigated: {who}.");
                    note = Some(note.map_or(why.clone(), |n| format!("{n}\n{why}")));
                }
                Some(_) => {}
                None => mitigate = true,
            }
        }
        self.repo.save_alert_group(id, &group, Some(version)).await?;
        if let Some(text) = &note {
            self.post(sev.id, text, &actor).await?;
        }
        let mut mitigated = false;
        if mitigate {
            let (to, reason) = if change.resolved {
                (Status::Mitigated, "all alerts resolved")
            } else {
                (Status::Open, "alerts firing again")
            };
            match self
                .sevs
                .set_status(sev.id, to, Some(reason.into()), actor.clone())
                .await
            {
                Ok(_) => mitigated = to == Status::Mitigated,
                // Someone moved it meanwhile: theirs stands.
                Err(AppError::Domain(e)) => tracing::info!(sev = %sev.id, error = %e, "alert status change skipped"),
                Err(e) => return Err(e),
            }
        }
        let action = if change.resolved {
            AlertAction::Resolved
        } else if note.is_some() {
            AlertAction::Updated
        } else {
            AlertAction::Counted
        };
        tracing::debug!(sev = %sev.id, group = id, deliveries = group.deliveries, ?action, "alert delivery handled");
        Ok(AlertOutcome {
            action,
            sev: Some(sev.id),
            group: id.to_owned(),
            mitigated,
        })
    }

    /// Where an alert-opened SEV came from, with its group's counters while the group is still
    /// on that SEV's generation.
    pub async fn origin(&self, sev: SevId) -> Result<Option<(AlertOrigin, Option<AlertGroup>)>, AppError> {
        let Some(origin) = self.repo.alert_origin(sev).await? else {
            return Ok(None);
        };
        let group = self
            .repo
            .alert_group(origin.source, &origin.group)
            .await?
            .map(|s| s.group)
            .filter(|g| g.generation == origin.generation && g.sev == Some(sev));
        Ok(Some((origin, group)))
    }

    /// Pages the team that owns the alert, or says why nobody could be paged.
    async fn page_owner(&self, sev: SevId, owner: &Owner, by: &Actor) -> Result<AlertPage, AppError> {
        let reason = match &self.paging {
            None => "no team catalog is set (SEVTOOL_TEAMS)".to_owned(),
            Some(paging) => match paging.page_for_alert(sev, owner, by).await {
                Ok(team) => return Ok(AlertPage::Paged { team }),
                Err(PagingError::App(e)) => return Err(e),
                Err(e) => e.to_string(),
            },
        };
        tracing::warn!(sev = %sev, %reason, "a paging alert's SEV paged nobody");
        Ok(AlertPage::NotPaged { reason })
    }

    /// Posts to the timeline. A SEV closed between our read and this write keeps its record as is.
    async fn post(&self, sev: SevId, text: &str, actor: &Actor) -> Result<(), AppError> {
        match self.sevs.post_update(sev, text, actor.clone()).await {
            Ok(_) => Ok(()),
            Err(AppError::Domain(e)) => {
                tracing::info!(sev = %sev, error = %e, "alert update skipped");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
