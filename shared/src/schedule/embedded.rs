//! The local scheduler: schedules are items in the store (so they survive restarts), and
//! `sevtool` fires the due ones into the embedded task queue.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ScheduleError, Scheduler};
use crate::queue::{Queue, TaskEnvelope};
use crate::store::keys::sortable_time;
use crate::store::{Condition, Index, Item, Key, Query, SortKey, Store, StoreError, Write};

const SCHEDULES: &str = "SCHEDULE";

impl From<StoreError> for ScheduleError {
    fn from(e: StoreError) -> Self {
        ScheduleError::Backend(e.to_string())
    }
}

#[derive(Clone)]
pub struct EmbeddedScheduler {
    store: Arc<dyn Store>,
}

fn pointer(name: &str) -> Key {
    Key::new(format!("SCHEDNAME#{name}"), SCHEDULES)
}

impl EmbeddedScheduler {
    pub fn new(store: Arc<dyn Store>) -> Self {
        EmbeddedScheduler { store }
    }

    /// Sends every task due by `now` to `queue`, then removes its schedule, as a fired
    /// EventBridge schedule deletes itself. Returns how many fired.
    pub async fn fire_due(&self, now: DateTime<Utc>, queue: &dyn Queue) -> Result<usize, ScheduleError> {
        // Keys are `<time>#<name>`: the upper bound takes in every name due at exactly `now`.
        let upto = format!("{}#\u{10FFFF}", sortable_time(now));
        let q = Query::new(Index::Primary, SCHEDULES, SortKey::Between(String::new(), upto));
        let due = self.store.query(&q).await?;
        let tasks = due
            .iter()
            .map(|i| serde_json::from_str::<TaskEnvelope>(&i.data).map_err(|e| ScheduleError::Backend(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        if tasks.is_empty() {
            return Ok(0);
        }
        queue
            .send_batch(&tasks)
            .await
            .map_err(|e| ScheduleError::Backend(e.to_string()))?;
        for item in &due {
            let name = item.key.sk.split_once('#').map_or("", |(_, n)| n);
            self.store
                .transact(vec![
                    Write::Delete(item.key.clone(), Condition::Always),
                    Write::Delete(pointer(name), Condition::Always),
                ])
                .await?;
        }
        Ok(due.len())
    }

    /// The pending schedules' names and times, soonest first (for tests and the status page).
    pub async fn pending(&self) -> Result<Vec<(String, DateTime<Utc>)>, ScheduleError> {
        let items = self
            .store
            .query(&Query::new(Index::Primary, SCHEDULES, SortKey::Any))
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| {
                let (at, name) = i.key.sk.split_once('#')?;
                let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
                Some((name.to_owned(), at))
            })
            .collect())
    }
}

#[async_trait]
impl Scheduler for EmbeddedScheduler {
    async fn upsert(&self, name: &str, at: DateTime<Utc>, task: &TaskEnvelope) -> Result<(), ScheduleError> {
        let key = Key::new(SCHEDULES, format!("{}#{name}", sortable_time(at)));
        let mut writes = Vec::new();
        if let Some(old) = self.store.get(&pointer(name)).await?
            && old.data != key.sk
        {
            writes.push(Write::Delete(Key::new(SCHEDULES, old.data), Condition::Always));
        }
        writes.push(Write::Put(Item::new(key.clone(), task.to_json()), Condition::Always));
        writes.push(Write::Put(Item::new(pointer(name), key.sk), Condition::Always));
        Ok(self.store.transact(writes).await?)
    }

    async fn delete(&self, name: &str) -> Result<(), ScheduleError> {
        let Some(old) = self.store.get(&pointer(name)).await? else {
            return Ok(());
        };
        let writes = vec![
            Write::Delete(Key::new(SCHEDULES, old.data), Condition::Always),
            Write::Delete(pointer(name), Condition::Always),
        ];
        Ok(self.store.transact(writes).await?)
    }
}
