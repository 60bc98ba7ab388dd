use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::AppError;
use super::retry::{Attempt, DEFAULT_ATTEMPTS, retry_optimistic};
use crate::clock::Clock;
use crate::domain::{
    Actor, DomainError, DuePolicy, Entry, EntryId, EntryKind, Priority, Sca, ScaId, ScaPatch, ScaSource, SevId,
    Timestamp,
};
use crate::queue::{Relay, Task, TaskEnvelope};
use crate::store::{RepoError, SevRepo};

/// A new corrective action as an entry point hands it over.
#[derive(Debug, Clone)]
pub struct NewSca {
    pub text: String,
    pub priority: Priority,
    /// Defaults to whoever adds it.
    pub owner: Option<Actor>,
    /// Defaults to the policy's deadline for the priority and the SEV's level.
    pub due: Option<Timestamp>,
    pub ticket: Option<String>,
    pub source: ScaSource,
}

#[derive(Clone)]
pub struct ScaService {
    repo: SevRepo,
    relay: Relay,
    clock: Arc<dyn Clock>,
    policy: DuePolicy,
}

fn entry(sca: ScaId, change: String, author: &Actor, now: DateTime<Utc>) -> Entry {
    Entry {
        id: EntryId::new(now, rand::random()),
        at: now,
        author: author.clone(),
        kind: EntryKind::Sca { sca, change },
    }
}

/// Announce the change, and plan the SCA's nags again (its due date, owner or state may differ).
fn tasks(sev: SevId, sca: ScaId, e: &Entry, now: DateTime<Utc>) -> Vec<TaskEnvelope> {
    vec![
        TaskEnvelope::new(
            Task::TimelineEntryAdded {
                sev,
                entry: e.id.clone(),
            },
            now,
        ),
        TaskEnvelope::new(
            Task::ScheduleNags {
                sca,
                change: e.id.clone(),
            },
            now,
        ),
    ]
}

impl ScaService {
    pub fn new(repo: SevRepo, relay: Relay, clock: Arc<dyn Clock>, policy: DuePolicy) -> Self {
        ScaService {
            repo,
            relay,
            clock,
            policy,
        }
    }

    pub async fn create(&self, sev: SevId, new: NewSca, author: Actor) -> Result<Sca, AppError> {
        let level = self.repo.load(sev).await?.sev.level;
        let now = self.clock.now();
        let due = new
            .due
            .map(Timestamp::get)
            .or_else(|| self.policy.due(new.priority, level, now));
        let owner = new.owner.unwrap_or_else(|| author.clone());
        let mut sca = Sca::new(
            ScaId(0),
            sev,
            &new.text,
            new.priority,
            owner,
            due,
            new.source,
            author.clone(),
            now,
        )?;
        sca.ticket = new.ticket;
        let describe = |id: ScaId| {
            let due = sca
                .due
                .map_or_else(|| "no due date".to_owned(), |d| format!("due {}", d.format("%Y-%m-%d")));
            entry(
                id,
                format!("added ({}, owner {}, {due}): {}", sca.priority, sca.owner, sca.text),
                &author,
                now,
            )
        };
        let created = self
            .repo
            .create_sca(&sca, describe, |id, e| tasks(sev, id, e, now))
            .await?;
        tracing::info!(sca = %created.id, sev = %sev, "SCA added");
        self.relay.kick().await;
        Ok(created)
    }

    pub async fn get(&self, id: ScaId) -> Result<Sca, AppError> {
        Ok(self.repo.load_sca(id).await?.ok_or(AppError::NoSuchSca(id))?.0)
    }

    /// Moves an SCA's due date `days` later, from its due date or from now if that has passed
    /// (snoozing an overdue SCA gives it time from today, not from a date already gone).
    pub async fn snooze(&self, id: ScaId, days: i64, author: Actor) -> Result<Sca, AppError> {
        let current = self.get(id).await?;
        let now = self.clock.now();
        let from = current.due.map_or(now, |d| d.max(now));
        let to = chrono::Duration::try_days(days)
            .and_then(|d| from.checked_add_signed(d))
            .ok_or_else(|| DomainError::invalid("due", "cannot move any later"))?;
        let patch = ScaPatch {
            due: Some(Some(Timestamp::new("due", to)?)),
            ..ScaPatch::default()
        };
        self.update(id, patch, author).await
    }

    /// Changes an SCA under optimistic concurrency; each real change goes on the SEV's timeline.
    pub async fn update(&self, id: ScaId, patch: ScaPatch, author: Actor) -> Result<Sca, AppError> {
        retry_optimistic(DEFAULT_ATTEMPTS, || async {
            let (mut sca, version) = self.repo.load_sca(id).await?.ok_or(AppError::NoSuchSca(id))?;
            let now = self.clock.now();
            let changes = sca.apply(patch.clone(), now)?;
            if changes.is_empty() {
                return Ok(Attempt::Done(sca));
            }
            let entries: Vec<Entry> = changes.into_iter().map(|c| entry(id, c, &author, now)).collect();
            let tasks: Vec<TaskEnvelope> = entries.iter().flat_map(|e| tasks(sca.sev, id, e, now)).collect();
            match self.repo.save_sca(&sca, version, &entries, &tasks).await {
                Ok(()) => {
                    self.relay.kick().await;
                    Ok(Attempt::Done(sca))
                }
                Err(RepoError::Conflict) => Ok(Attempt::Lost),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    pub async fn of_sev(&self, sev: SevId) -> Result<Vec<Sca>, AppError> {
        Ok(self.repo.scas_of(sev).await?)
    }

    pub async fn open_for(&self, owner: &str) -> Result<Vec<Sca>, AppError> {
        Ok(self.repo.open_scas_of(owner).await?)
    }

    pub async fn overdue(&self) -> Result<Vec<Sca>, AppError> {
        Ok(self.repo.overdue_scas(self.clock.now()).await?)
    }

    /// Every open SCA with a due date (the ones with nags), from the due index.
    pub async fn open_with_due(&self) -> Result<Vec<Sca>, AppError> {
        // Far enough ahead for any due date the policy or a person sets.
        let horizon = self.clock.now() + chrono::Duration::days(100 * 366);
        Ok(self.repo.overdue_scas(horizon).await?)
    }
}
