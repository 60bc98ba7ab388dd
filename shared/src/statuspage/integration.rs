//! Public updates to the status page, from the worker's queue: the first opens the SEV's
//! incident, later ones update it with the SEV's status, impact and components as they are then.
//! Each update reaches the page once, through retries and redeliveries.

use std::sync::Arc;

use async_trait::async_trait;

use super::client::{IncidentChange, StatuspageClient};
use crate::domain::{
    Entry, EntryId, EntryKind, PublicImpact, PublicIncident, PublicStatus, Sev, SevId, StatusPageLink, incident_name,
};
use crate::paging::Catalog;
use crate::queue::{Steps, Task, TaskEnvelope, TaskError, TaskHandler};
use crate::store::{SevRepo, keys};

/// How long one public update may hold the right to open the SEV's incident before another takes
/// it over: well past a few retries with the queue's backoff, well short of the hours the queue
/// keeps retrying the others.
const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(15);

pub struct StatuspageIntegration {
    client: StatuspageClient,
    repo: SevRepo,
    /// The team catalog, when paging is configured: it lists each service's components.
    catalog: Option<Arc<Catalog>>,
    clock: Arc<dyn crate::clock::Clock>,
}

fn storage(e: impl std::fmt::Display) -> TaskError {
    TaskError::Retryable(format!("storage: {e}"))
}

impl StatuspageIntegration {
    pub fn new(
        client: StatuspageClient,
        repo: SevRepo,
        catalog: Option<Arc<Catalog>>,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Self {
        StatuspageIntegration {
            client,
            repo,
            catalog,
            clock,
        }
    }

    /// The SEV's link as `task_key` holds it now.
    fn claim(&self, task_key: &str, incident: Option<PublicIncident>) -> StatusPageLink {
        StatusPageLink {
            claimed_by: task_key.to_owned(),
            claimed_at: self.clock.now(),
            incident,
        }
    }

    /// The page's components the SEV affects: those of each service its `system/...` tags name.
    fn components(&self, sev: &Sev) -> Vec<String> {
        let Some(catalog) = &self.catalog else {
            return Vec::new();
        };
        let mut ids: Vec<String> = Vec::new();
        for service in sev.services() {
            for id in catalog.statuspage_components(service) {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        ids
    }

    async fn on_entry(&self, id: SevId, entry: &EntryId, task_key: &str) -> Result<(), TaskError> {
        let Some(entry) = self
            .repo
            .record::<Entry>(&keys::entry(id, entry))
            .await
            .map_err(storage)?
        else {
            return Err(TaskError::Permanent(format!("{id} has no timeline entry {entry}")));
        };
        let EntryKind::PublicUpdate { text, status } = entry.kind else {
            return Ok(());
        };
        let sev = self.repo.load(id).await.map_err(storage)?.sev;
        // Publishing refuses private SEVs; one made private since is not published either. A
        // drill rehearses the comms call, but its updates never reach customers.
        if sev.private || sev.drill {
            return Ok(());
        }
        let change = IncidentChange {
            sev: id,
            name: incident_name(&sev),
            status: status.unwrap_or_else(|| PublicStatus::of(&sev)),
            impact: PublicImpact::of(sev.level),
            body: text,
            components: self.components(&sev),
        };
        let steps = Steps::new(&self.repo, task_key, "statuspage");
        let key = keys::status_page(id);
        let link = self.repo.record::<StatusPageLink>(&key).await.map_err(storage)?;
        match link {
            // Opened by this very task, with this update: a redelivery has nothing left to send.
            Some(StatusPageLink {
                incident: Some(_),
                claimed_by,
                ..
            }) if claimed_by == task_key => Ok(()),
            Some(StatusPageLink {
                incident: Some(incident),
                ..
            }) => steps
                .once("update", || async {
                    Ok(self.client.update_incident(&incident.id, &change).await?.id)
                })
                .await
                .map(drop),
            // Another update is opening the incident; one that has tried for longer than the
            // lease (its task may have run out of retries) is taken over.
            Some(link) if link.claimed_by != task_key && self.clock.now() - link.claimed_at < CLAIM_LEASE => {
                Err(waiting(id))
            }
            Some(stale) if stale.claimed_by != task_key => {
                let claim = self.claim(task_key, None);
                self.repo.put_record(key, &claim).await.map_err(storage)?;
                self.open(id, &change, &steps, task_key).await
            }
            link => {
                if link.is_none() {
                    let claim = self.claim(task_key, None);
                    if !self.repo.put_new_record(key.clone(), &claim).await.map_err(storage)? {
                        return Err(waiting(id));
                    }
                }
                self.open(id, &change, &steps, task_key).await
            }
        }
    }

    /// Opens the SEV's incident with its first public update: finds the one a lost answer left
    /// behind, or creates it, and records it on the SEV before anything else.
    async fn open(
        &self,
        id: SevId,
        change: &IncidentChange,
        steps: &Steps<'_>,
        task_key: &str,
    ) -> Result<(), TaskError> {
        let key = keys::status_page(id);
        let opened = steps
            .once("open", || async {
                let incident = match self.client.find_incident(id).await? {
                    Some(found) => found,
                    None => self.client.create_incident(change).await?,
                };
                Ok(PublicIncident {
                    id: incident.id,
                    url: incident.shortlink,
                })
            })
            .await;
        let incident = match opened {
            Ok(incident) => incident,
            Err(TaskError::Permanent(reason)) => {
                // Refused for good: let the next public update try to open the incident instead.
                self.repo.delete_record(&key).await.map_err(storage)?;
                return Err(TaskError::Permanent(reason));
            }
            Err(e) => return Err(e),
        };
        let link = self.claim(task_key, Some(incident));
        self.repo.put_record(key, &link).await.map_err(storage)
    }
}

/// Another public update of the SEV is opening its incident; this one follows once it has.
fn waiting(id: SevId) -> TaskError {
    TaskError::Retryable(format!(
        "waiting for the first public update of {id} to open its status page incident"
    ))
}

#[async_trait]
impl TaskHandler for StatuspageIntegration {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        match &task.task {
            Task::TimelineEntryAdded { sev, entry } => self.on_entry(*sev, entry, task.key.as_str()).await,
            _ => Ok(()),
        }
    }
}
