//! Storage. `Store` is one port over DynamoDB-style items; `SevRepo` holds the single-table design
//! on top of it. The two backends, `dynamo` and `sqlite`, pass the same contract tests.

mod alert_groups;
mod dynamo;
pub(crate) mod keys;
mod repo;
mod reports;
mod sqlite;

use async_trait::async_trait;

pub use alert_groups::StoredGroup;
pub use dynamo::DynamoStore;
pub(crate) use repo::backoff;
pub use repo::{Claim, Created, FailedTask, NewSevRecord, Rebuilt, RepoError, SevRepo, Stored};
pub use reports::StoredReport;
pub use sqlite::SqliteStore;

/// An item's primary key, or the key of a secondary index entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// One stored item. `data` is the JSON of the domain value; the key attributes around it exist
/// only to find it again. `version` is bumped by every write so that writers can be optimistic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub key: Key,
    /// Entry in the first secondary index (sparse: absent means not indexed).
    pub gsi1: Option<Key>,
    /// Entry in the second secondary index.
    pub gsi2: Option<Key>,
    pub version: u64,
    /// Unix seconds after which the item no longer exists (DynamoDB TTL). Readers treat an expired
    /// item as absent even before the backend deletes it, since DynamoDB may take days to.
    pub expires_at: Option<i64>,
    pub data: String,
}

impl Item {
    pub fn new(key: Key, data: String) -> Self {
        Item {
            key,
            gsi1: None,
            gsi2: None,
            version: 1,
            expires_at: None,
            data,
        }
    }
}

/// The condition a write needs to hold, checked atomically with the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// No live item has this key.
    NotExists,
    /// A live item has this key with exactly this version.
    Version(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put(Item, Condition),
    Delete(Key, Condition),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Primary,
    Gsi1,
    Gsi2,
}

/// Which sort keys a query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Any,
    Prefix(String),
    /// Inclusive on both ends, like DynamoDB's `BETWEEN`.
    Between(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: SortKey,
    pub descending: bool,
    pub limit: Option<usize>,
}

impl Query {
    pub fn new(index: Index, pk: impl Into<String>, sk: SortKey) -> Self {
        Query {
            index,
            pk: pk.into(),
            sk,
            descending: false,
            limit: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the write's condition did not hold")]
    ConditionFailed,
    /// A transaction wrote nothing because the conditions of these writes (by position) failed.
    #[error("the transaction was cancelled: conditions failed on writes {failed:?}")]
    TransactionCancelled { failed: Vec<usize> },
    /// Another transaction touched the same items at the same time; nothing was written and the
    /// whole transaction may simply be tried again.
    #[error("the transaction conflicted with another one")]
    TransactionConflict,
    #[error("stored item {0:?} is malformed: {1}")]
    Corrupt(Key, String),
    #[error("storage backend failed: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Store: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;
    /// All writes or none. Each key may appear once.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError>;
}

/// Seconds since the epoch, the unit DynamoDB's TTL uses. Expiry is the backend's business:
/// DynamoDB deletes by its own wall clock, so TTLs are set and read on the real time, never on
/// the application's injectable clock (a test's clock moved a week on must not expire claims).
pub(crate) fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The TTL of an item that lives for `d` from now.
pub(crate) fn expires_after(d: chrono::Duration) -> i64 {
    now_epoch().saturating_add(d.num_seconds())
}
