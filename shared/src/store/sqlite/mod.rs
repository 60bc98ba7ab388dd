//! The embedded backend: SQLite in WAL mode with `synchronous=FULL`, so a write that returned is
//! on disk and survives a crash or SIGKILL. One thread writes, and concurrent writes share a
//! transaction and its fsync (`writer.rs`); reads use their own connections, which WAL lets run
//! beside the writer and see only what is committed.

mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Condition, Index, Item, Key, Query, SortKey, Store, StoreError, Write, now_epoch};
use writer::Writer;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT, gsi1sk TEXT,
    gsi2pk TEXT, gsi2sk TEXT,
    version INTEGER NOT NULL,
    expires_at INTEGER,
    data TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk) WHERE gsi2pk IS NOT NULL;
";

/// Idle read connections kept open; more are opened while reads pile up, then closed.
const IDLE_READERS: usize = 4;

#[derive(Clone)]
pub struct SqliteStore {
    writer: Arc<Writer>,
    readers: Arc<Readers>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(format!("sqlite: {e}"))
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = connect(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteStore {
            writer: Arc::new(Writer::start(conn)?),
            readers: Arc::new(Readers {
                path: path.to_owned(),
                idle: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Runs `f` in the next shared write transaction and returns once that is on disk. `f` must
    /// not begin or end a transaction itself; when it returns an error, only its own statements
    /// are rolled back. Other embedded adapters (the queue) write to the same file through this.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// Runs `f` on a read connection off the async runtime. It sees what was committed when it
    /// started, never a write still in flight.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match lock(&readers.idle).pop() {
                Some(conn) => conn,
                None => connect(&readers.path)?,
            };
            let out = f(&conn);
            let mut idle = lock(&readers.idle);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Backend(format!("sqlite reader thread failed: {e}")))?
    }

    /// Write transactions committed since the store was opened (each is one fsync of the log).
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }
}

/// The pool holds only idle connections, so a panic while holding its lock leaves nothing
/// half-done, and a poisoned mutex is safe to keep using.
fn lock(idle: &Mutex<Vec<Connection>>) -> std::sync::MutexGuard<'_, Vec<Connection>> {
    idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn holds(tx: &Connection, key: &Key, condition: Condition, now: i64) -> Result<bool, StoreError> {
    if condition == Condition::Always {
        return Ok(true);
    }
    let live_version: Option<i64> = tx
        .query_row(
            "SELECT version FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
            params![key.pk, key.sk, now],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match condition {
        Condition::Always => true,
        Condition::NotExists => live_version.is_none(),
        Condition::Version(v) => live_version.is_some_and(|live| u64::try_from(live) == Ok(v)),
    })
}

fn apply(tx: &Connection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::Put(item, _) => {
            tx.execute(
                "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, version, expires_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    item.key.pk,
                    item.key.sk,
                    item.gsi1.as_ref().map(|k| &k.pk),
                    item.gsi1.as_ref().map(|k| &k.sk),
                    item.gsi2.as_ref().map(|k| &k.pk),
                    item.gsi2.as_ref().map(|k| &k.sk),
                    i64::try_from(item.version).map_err(|_| StoreError::Backend("version overflow".into()))?,
                    item.expires_at,
                    item.data,
                ],
            )?;
        }
        Write::Delete(key, _) => {
            tx.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk])?;
        }
    }
    Ok(())
}

fn write_key(w: &Write) -> (&Key, Condition) {
    match w {
        Write::Put(item, c) => (&item.key, *c),
        Write::Delete(key, c) => (key, *c),
    }
}

fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let gsi = |pk: Option<String>, sk: Option<String>| pk.zip(sk).map(|(pk, sk)| Key { pk, sk });
    Ok(Item {
        key: Key::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?),
        gsi1: gsi(r.get(2)?, r.get(3)?),
        gsi2: gsi(r.get(4)?, r.get(5)?),
        version: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
        expires_at: r.get(7)?,
        data: r.get(8)?,
    })
}

const COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, version, expires_at, data";

/// SQLite compares text bytewise, like DynamoDB; this is above every UTF-8 continuation of a prefix.
const PREFIX_END: char = '\u{10FFFF}';

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.read(move |c| {
            let sql = format!(
                "SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)"
            );
            Ok(c.query_row(&sql, params![key.pk, key.sk, now_epoch()], row_to_item)
                .optional()?)
        })
        .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.transact(vec![Write::Put(item, condition)]).await.map_err(single)
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.transact(vec![Write::Delete(key.clone(), condition)])
            .await
            .map_err(single)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.write(move |tx| {
            let now = now_epoch();
            let mut failed = Vec::new();
            for (i, w) in writes.iter().enumerate() {
                let (key, condition) = write_key(w);
                if !holds(tx, key, condition, now)? {
                    failed.push(i);
                }
            }
            if !failed.is_empty() {
                return Err(StoreError::TransactionCancelled { failed });
            }
            for w in &writes {
                apply(tx, w)?;
            }
            Ok(())
        })
        .await
    }

    async fn query(&self, q: &Query) -> Result<Vec<Item>, StoreError> {
        let q = q.clone();
        self.read(move |c| {
            let (pk_col, sk_col) = match q.index {
                Index::Primary => ("pk", "sk"),
                Index::Gsi1 => ("gsi1pk", "gsi1sk"),
                Index::Gsi2 => ("gsi2pk", "gsi2sk"),
            };
            let (lo, hi) = match &q.sk {
                SortKey::Any => (String::new(), PREFIX_END.to_string()),
                SortKey::Prefix(p) => (p.clone(), format!("{p}{PREFIX_END}")),
                SortKey::Between(a, b) => (a.clone(), b.clone()),
            };
            let order = if q.descending { "DESC" } else { "ASC" };
            let limit = q.limit.map_or(-1, |l| l as i64);
            let sql = format!(
                "SELECT {COLUMNS} FROM items
                 WHERE {pk_col} = ?1 AND {sk_col} >= ?2 AND {sk_col} <= ?3
                   AND (expires_at IS NULL OR expires_at > ?4)
                 ORDER BY {sk_col} {order}, pk {order}, sk {order} LIMIT ?5"
            );
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![q.pk, lo, hi, now_epoch(), limit], row_to_item)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }
}

/// A single write reports a plain failed condition, as DynamoDB's PutItem/DeleteItem do.
fn single(e: StoreError) -> StoreError {
    match e {
        StoreError::TransactionCancelled { .. } => StoreError::ConditionFailed,
        other => other,
    }
}
