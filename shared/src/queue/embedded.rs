//! The local queue: rows in the same SQLite file as the store, so a task survives a restart.
//! It mimics SQS: a received message is hidden for a visibility timeout that grows with each
//! receive (backoff), and after `max_receives` it moves to the dead-letter side. Several named
//! queues (tasks, pager) share the table, each read by its own consumer.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;

use super::{Message, Queue, QueueError, QueueName, TaskEnvelope};
use crate::clock::Clock;
use crate::store::{SqliteStore, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    visible_at_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    queue TEXT NOT NULL DEFAULT 'tasks'
);
";

/// Files from before named queues lack the column; their messages were all tasks.
const ADD_QUEUE_COLUMN: &str = "ALTER TABLE queue_messages ADD COLUMN queue TEXT NOT NULL DEFAULT 'tasks'";
const INDEX: &str = "
DROP INDEX IF EXISTS queue_visible;
CREATE INDEX IF NOT EXISTS queue_named_visible ON queue_messages (queue, dead, visible_at_ms);
";

#[derive(Clone)]
pub struct EmbeddedQueue {
    db: SqliteStore,
    name: &'static str,
    visibility_ms: i64,
    max_receives: u32,
    clock: Arc<dyn Clock>,
}

impl From<StoreError> for QueueError {
    fn from(e: StoreError) -> Self {
        QueueError::Backend(e.to_string())
    }
}

impl EmbeddedQueue {
    /// The `tasks` queue. `visibility` is the first retry delay; it doubles on every further receive.
    pub async fn open(
        db: SqliteStore,
        visibility: std::time::Duration,
        max_receives: u32,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, QueueError> {
        Self::open_named(db, QueueName::Tasks, visibility, max_receives, clock).await
    }

    pub async fn open_named(
        db: SqliteStore,
        name: QueueName,
        visibility: std::time::Duration,
        max_receives: u32,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, QueueError> {
        db.write(|c| {
            c.execute_batch(SCHEMA)?;
            let has_queue: bool = c
                .prepare("SELECT 1 FROM pragma_table_info('queue_messages') WHERE name = 'queue'")?
                .exists([])?;
            if !has_queue {
                c.execute_batch(ADD_QUEUE_COLUMN)?;
            }
            c.execute_batch(INDEX)?;
            Ok(())
        })
        .await?;
        Ok(EmbeddedQueue {
            db,
            name: name.as_str(),
            visibility_ms: i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX),
            max_receives,
            clock,
        })
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// Takes up to `max` visible messages and hides them until acknowledged or timed out.
    pub async fn receive(&self, max: usize) -> Result<Vec<Message>, QueueError> {
        let (visibility, max_receives, now, name) = (self.visibility_ms, self.max_receives, self.now_ms(), self.name);
        let messages = self
            .db
            .write(move |tx| {
                let rows: Vec<(i64, String, u32)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT id, body, receive_count FROM queue_messages
                         WHERE queue = ?3 AND dead = 0 AND visible_at_ms <= ?1 ORDER BY id LIMIT ?2",
                    )?;
                    let rows = stmt.query_map(params![now, max as i64, name], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
                    rows.collect::<Result<_, _>>()?
                };
                let mut out = Vec::new();
                for (id, body, count) in rows {
                    if count >= max_receives {
                        tx.execute("UPDATE queue_messages SET dead = 1 WHERE id = ?1", params![id])?;
                        tracing::error!(
                            message_id = id,
                            queue = name,
                            "task moved to the dead-letter queue after {count} attempts"
                        );
                        continue;
                    }
                    let delay = visibility.saturating_mul(1 << count.min(10));
                    tx.execute(
                        "UPDATE queue_messages SET receive_count = receive_count + 1, visible_at_ms = ?2 WHERE id = ?1",
                        params![id, now.saturating_add(delay)],
                    )?;
                    out.push(Message {
                        id: id.to_string(),
                        body,
                    });
                }
                Ok(out)
            })
            .await?;
        Ok(messages)
    }

    /// Deletes handled messages.
    pub async fn ack(&self, ids: Vec<String>) -> Result<(), QueueError> {
        self.db
            .write(move |tx| {
                for id in &ids {
                    tx.execute("DELETE FROM queue_messages WHERE id = ?1", params![id])?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Counts of `(waiting or in flight, dead)` messages.
    pub async fn depth(&self) -> Result<(i64, i64), QueueError> {
        let name = self.name;
        Ok(self
            .db
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT COALESCE(SUM(dead = 0), 0), COALESCE(SUM(dead = 1), 0) FROM queue_messages WHERE queue = ?1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .await?)
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError> {
        let bodies: Vec<String> = tasks.iter().map(TaskEnvelope::to_json).collect();
        let (now, name) = (self.now_ms(), self.name);
        self.db
            .write(move |tx| {
                for body in &bodies {
                    tx.execute(
                        "INSERT INTO queue_messages (body, visible_at_ms, queue) VALUES (?1, ?2, ?3)",
                        params![body, now, name],
                    )?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }
}
