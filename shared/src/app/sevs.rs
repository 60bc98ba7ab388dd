use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::AppError;
use super::retry::{Attempt, DEFAULT_ATTEMPTS, retry_optimistic};
use crate::clock::Clock;
use crate::domain::{
    Actor, DomainError, Entry, EntryId, EntryKind, LeadRole, Level, Muster, NewSev, Page, PublicIncident, Sev,
    SevField, SevId, SevPatch, Status, StatusPageLink, Timestamp, muster,
};
use crate::queue::{Relay, Task, TaskEnvelope};
use crate::store::{FailedTask, NewSevRecord, RepoError, SevRepo};

/// When a list names no time range, it covers active SEVs and those started this recently.
const DEFAULT_LIST_WINDOW: Duration = Duration::days(90);
/// The longest range a list may cover: ten years, like the reports' 120 months. The list is read
/// month by month, so a range such as `since=1970-01-01` is refused rather than read for minutes.
const MAX_LIST_WINDOW: Duration = Duration::days(3653);

/// A request to file a SEV, as any entry point hands it over.
#[derive(Debug, Clone)]
pub struct FileRequest {
    pub new: NewSev,
    pub reporter: Actor,
    /// Makes a retried request return the SEV the first one filed.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub levels: Vec<Level>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// A SEV with everything its page shows.
#[derive(Debug, Clone, Serialize)]
pub struct SevDetail {
    #[serde(flatten)]
    pub sev: Sev,
    pub timeline: Vec<Entry>,
    pub scas: Vec<crate::domain::Sca>,
    pub failed_tasks: Vec<FailedTask>,
    pub pages: Vec<Page>,
    pub muster: Muster,
    /// Its incident on the company's status page, once a public update opened one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_page: Option<PublicIncident>,
}

#[derive(Clone)]
pub struct SevService {
    repo: SevRepo,
    relay: Relay,
    clock: Arc<dyn Clock>,
}

fn fingerprint(new: &NewSev, reporter: &Actor) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{:?}|{:?}|{reporter}",
        new.title,
        new.level,
        new.description,
        new.product_track,
        new.tags,
        new.private,
        new.drill,
        new.started_at,
        new.detected_at
    )
}

/// Entries of one change share its time; their ids keep the order the change made them in,
/// with a random part so that ids from concurrent writers never collide.
pub(super) fn entries_at(kinds: Vec<EntryKind>, author: &Actor, now: DateTime<Utc>) -> Vec<Entry> {
    let base = u64::from(rand::random::<u32>()) << 8;
    kinds
        .into_iter()
        .zip(base..)
        .map(|(kind, nonce)| Entry {
            id: EntryId::new(now, nonce),
            at: now,
            author: author.clone(),
            kind,
        })
        .collect()
}

pub(super) fn entry_tasks(id: SevId, entries: &[Entry], now: DateTime<Utc>) -> Vec<TaskEnvelope> {
    let mut tasks: Vec<TaskEnvelope> = entries
        .iter()
        .map(|e| {
            TaskEnvelope::new(
                Task::TimelineEntryAdded {
                    sev: id,
                    entry: e.id.clone(),
                },
                now,
            )
        })
        .collect();
    // Resolving a SEV resolves its pages: nobody should stay paged for a SEV that is over.
    let resolved = entries.iter().find(|e| {
        matches!(
            e.kind,
            EntryKind::StatusChanged {
                to: Status::Resolved,
                ..
            }
        )
    });
    // The report nags depend on the status, the report owner and the report, nothing else.
    for e in entries.iter().filter(|e| decides_report_nags(&e.kind)) {
        tasks.push(TaskEnvelope::new(
            Task::ScheduleReportNags {
                sev: id,
                change: e.id.clone(),
            },
            now,
        ));
    }
    // Whoever owns the report gets a draft to start from, however they came to own it.
    for e in &entries_owning_report(entries) {
        tasks.push(TaskEnvelope::new(
            Task::DraftReport {
                sev: id,
                entry: e.id.clone(),
            },
            now,
        ));
    }
    if let Some(e) = resolved {
        tasks.push(TaskEnvelope::new(
            Task::ResolvePages {
                sev: id,
                entry: e.id.clone(),
            },
            now,
        ));
    }
    tasks
}

fn decides_report_nags(kind: &EntryKind) -> bool {
    match kind {
        EntryKind::StatusChanged { .. } | EntryKind::Report { .. } => true,
        EntryKind::FieldChanged { field, .. } => *field == SevField::ReportOwner,
        _ => false,
    }
}

fn entries_owning_report(entries: &[Entry]) -> Vec<&Entry> {
    entries
        .iter()
        .filter(|e| matches!(&e.kind, EntryKind::FieldChanged { field, value } if *field == SevField::ReportOwner && !value.is_empty()))
        .collect()
}

impl SevService {
    pub fn new(repo: SevRepo, relay: Relay, clock: Arc<dyn Clock>) -> Self {
        SevService { repo, relay, clock }
    }

    /// The service's clock, for entry points that time rules of their own (a reaction's undo
    /// window), so tests can move it.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Files a SEV. Returns it and whether this call created it (false for an idempotent replay).
    pub async fn file(&self, req: FileRequest) -> Result<(Sev, bool), AppError> {
        let now = self.clock.now();
        let print = fingerprint(&req.new, &req.reporter);
        let (sev, filed) = Sev::file(SevId(0), req.new, req.reporter.clone(), now)?;
        let reporter = req.reporter.clone();
        let record = NewSevRecord {
            sev,
            entries: Box::new(move |_| entries_at(vec![filed.clone()], &reporter, now)),
            tasks: Box::new(move |id| {
                vec![
                    TaskEnvelope::new(Task::SevFiled { sev: id }, now),
                    TaskEnvelope::new(Task::AutoPage { sev: id }, now),
                ]
            }),
            idempotency: req.idempotency_key.as_deref().map(|k| ("sev", k, print)),
        };
        let created = self.repo.create(record).await?;
        if created.new {
            tracing::info!(sev = %created.sev.id, level = %created.sev.level, "SEV filed");
            self.relay.kick().await;
        }
        Ok((created.sev, created.new))
    }

    pub async fn get(&self, id: SevId) -> Result<SevDetail, AppError> {
        let stored = self.repo.load(id).await?;
        let timeline = self.repo.timeline(id).await?;
        let failed_tasks = self.repo.failed_tasks(id).await?;
        let scas = self.repo.scas_of(id).await?;
        let pages: Vec<Page> = self.repo.pages(id).await?.into_iter().map(|(p, _)| p).collect();
        let muster = muster(stored.sev.declared_at, &pages);
        let status_page = self
            .repo
            .record::<StatusPageLink>(&crate::store::keys::status_page(id))
            .await?
            .and_then(|link| link.incident);
        Ok(SevDetail {
            sev: stored.sev,
            timeline,
            scas,
            failed_tasks,
            pages,
            muster,
            status_page,
        })
    }

    /// Active SEVs, each with how many of its integration steps failed for good.
    pub async fn health(&self) -> Result<Vec<(Sev, usize)>, AppError> {
        let filter = ListFilter {
            statuses: crate::domain::Status::ALL
                .into_iter()
                .filter(|s| s.is_active())
                .collect(),
            ..ListFilter::default()
        };
        let mut out = Vec::new();
        for sev in self.list(&filter).await? {
            let failed = self.repo.failed_tasks(sev.id).await?.len();
            out.push((sev, failed));
        }
        Ok(out)
    }

    /// Sends the SEV's failed integration steps round again; returns how many.
    pub async fn retry_failed(&self, id: SevId) -> Result<usize, AppError> {
        self.repo.load(id).await?;
        let failed = self.repo.failed_tasks(id).await?;
        for task in &failed {
            self.repo.requeue_failed(task).await?;
        }
        if !failed.is_empty() {
            tracing::info!(sev = %id, tasks = failed.len(), "failed integration steps queued again");
            self.relay.kick().await;
        }
        Ok(failed.len())
    }

    pub async fn post_update(&self, id: SevId, text: &str, author: Actor) -> Result<Sev, AppError> {
        self.mutate(id, author, |sev, _| Ok(vec![sev.update(text)?])).await
    }

    /// Publishes an update for customers; see [`Sev::public_update`] for who may.
    pub async fn post_public_update(&self, id: SevId, text: &str, author: Actor) -> Result<Sev, AppError> {
        let publisher = author.clone();
        self.mutate(id, author, |sev, _| Ok(vec![sev.public_update(text, &publisher)?]))
            .await
    }

    pub async fn add_note(&self, id: SevId, text: &str, author: Actor) -> Result<Sev, AppError> {
        self.mutate(id, author, |sev, _| Ok(vec![sev.note(text)?])).await
    }

    pub async fn change_level(&self, id: SevId, level: Level, author: Actor) -> Result<Sev, AppError> {
        self.mutate(id, author, |sev, _| Ok(vec![sev.change_level(level)?]))
            .await
    }

    pub async fn set_status(
        &self,
        id: SevId,
        status: Status,
        reason: Option<String>,
        author: Actor,
    ) -> Result<Sev, AppError> {
        self.mutate(id, author, |sev, now| {
            Ok(vec![sev.move_to(status, reason.clone(), now)?])
        })
        .await
    }

    /// Gives `user` the role unless someone already holds it (a person's choice wins over the
    /// pager's). Returns the SEV as it is afterwards.
    pub async fn claim_lead(&self, id: SevId, role: LeadRole, user: &Actor, author: Actor) -> Result<Sev, AppError> {
        self.mutate(id, author, |sev, _| {
            if sev.lead(role).is_some() {
                return Ok(Vec::new());
            }
            let who = Some(Some(user.clone()));
            sev.apply(match role {
                LeadRole::Coordinator => SevPatch {
                    coordinator: who,
                    ..SevPatch::default()
                },
                LeadRole::CommsLead => SevPatch {
                    comms_lead: who,
                    ..SevPatch::default()
                },
            })
        })
        .await
    }

    /// Changes fields and tags. A patch that changes nothing writes nothing.
    pub async fn patch(&self, id: SevId, patch: SevPatch, author: Actor) -> Result<Sev, AppError> {
        let by = author.clone();
        self.mutate(id, author, |sev, _| sev.apply_by(patch.clone(), &by)).await
    }

    /// Reads, changes and writes a SEV under optimistic concurrency, retrying on lost races so
    /// that concurrent changes all land, each judged against the SEV as it then is.
    async fn mutate<F>(&self, id: SevId, author: Actor, change: F) -> Result<Sev, AppError>
    where
        F: Fn(&mut Sev, DateTime<Utc>) -> Result<Vec<EntryKind>, DomainError>,
    {
        retry_optimistic(DEFAULT_ATTEMPTS, || async {
            let stored = self.repo.load(id).await?;
            let mut sev = stored.sev.clone();
            let now = self.clock.now();
            let kinds = change(&mut sev, now)?;
            if kinds.is_empty() {
                return Ok(Attempt::Done(sev));
            }
            let entries = entries_at(kinds, &author, now);
            let tasks = entry_tasks(id, &entries, now);
            match self.repo.save(&stored, &sev, &entries, &tasks).await {
                Ok(()) => {
                    self.relay.kick().await;
                    Ok(Attempt::Done(sev))
                }
                Err(RepoError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    /// Lists SEVs: the active ones first (worst level, then newest), then the rest newest first.
    /// With no time range, the list covers every active SEV and those started in the last 90 days.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<Sev>, AppError> {
        let ranged = filter.since.is_some() || filter.until.is_some();
        let until = filter
            .until
            .map_or_else(|| self.clock.now() + Duration::seconds(1), Timestamp::get);
        let since = filter.since.map_or(until - DEFAULT_LIST_WINDOW, Timestamp::get);
        if since >= until {
            return Err(DomainError::invalid("since", "must be before until").into());
        }
        if until - since > MAX_LIST_WINDOW {
            return Err(DomainError::invalid(
                "since",
                "the range is longer than ten years; ask for a shorter one (the reports cover longer spans by month)",
            )
            .into());
        }
        let mut sevs = self.repo.started_between(since, until).await?;
        if !ranged {
            let known: std::collections::HashSet<SevId> = sevs.iter().map(|s| s.id).collect();
            let older_active: Vec<Sev> = self
                .repo
                .active()
                .await?
                .into_iter()
                .filter(|s| !known.contains(&s.id))
                .collect();
            sevs.extend(older_active);
        }
        sevs.retain(|s| {
            (filter.statuses.is_empty() || filter.statuses.contains(&s.status))
                && (filter.levels.is_empty() || filter.levels.contains(&s.level))
        });
        sevs.sort_by(|a, b| {
            b.status
                .is_active()
                .cmp(&a.status.is_active())
                .then(if a.status.is_active() {
                    a.level.cmp(&b.level)
                } else {
                    std::cmp::Ordering::Equal
                })
                .then(b.declared_at.cmp(&a.declared_at))
                .then(b.id.cmp(&a.id))
        });
        Ok(sevs)
    }
}
