//! Fixtures shared by the integration tests: each backend, fresh per test.

pub mod prism;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sev::queue::{Queue, QueueError, TaskEnvelope};
use sev::store::{Condition, DynamoStore, Item, Key, Query, SqliteStore, Store, StoreError, Write};

/// The SEV service over a fresh embedded store and queue, on a clock the test moves (it starts
/// at 2026-11-02 09:00 UTC), for tests that drive an integration's task handler by hand.
pub struct EmbeddedWorld {
    pub repo: sev::store::SevRepo,
    pub relay: sev::queue::Relay,
    pub sevs: sev::app::SevService,
    pub clock: Arc<sev::clock::ManualClock>,
    _dir: tempfile::TempDir,
}

pub async fn embedded_world() -> EmbeddedWorld {
    use chrono::TimeZone;
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStore::open(&dir.path().join("world.db")).expect("open sqlite");
    let start = chrono::Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
    let clock = Arc::new(sev::clock::ManualClock::new(start));
    let queue = sev::queue::EmbeddedQueue::open(sqlite.clone(), std::time::Duration::from_millis(1), 5, clock.clone())
        .await
        .expect("open the embedded queue");
    let repo = sev::store::SevRepo::new(Arc::new(sqlite));
    let relay = sev::queue::Relay::new(repo.clone(), Arc::new(queue));
    let sevs = sev::app::SevService::new(repo.clone(), relay.clone(), clock.clone());
    EmbeddedWorld {
        repo,
        relay,
        sevs,
        clock,
        _dir: dir,
    }
}

/// A store, and whatever must live as long as it (the temporary directory of the embedded one).
pub struct Backend {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

pub fn embedded() -> Backend {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("test.db")).expect("open sqlite");
    Backend {
        store: Arc::new(store),
        _dir: Some(dir),
    }
}

/// The moto server `make test` starts; its URL comes in `SEVTOOL_TEST_AWS_ENDPOINT`.
pub fn aws_endpoint() -> String {
    std::env::var("SEVTOOL_TEST_AWS_ENDPOINT")
        .expect("SEVTOOL_TEST_AWS_ENDPOINT is not set: run the tests with `make test`, which starts a moto server")
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(aws_endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .test_credentials()
        // moto answers some faults with 500s the SDK would retry for seconds; fail fast instead.
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh DynamoDB table on moto.
pub async fn dynamodb() -> Backend {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let store = DynamoStore::new(client, unique("contract"));
    store.create_table().await.expect("create table on moto");
    Backend {
        store: Arc::new(store),
        _dir: None,
    }
}

/// A queue that keeps what it is sent, for tests of what producers send.
#[derive(Default)]
pub struct RecordingQueue {
    pub sent: Mutex<Vec<TaskEnvelope>>,
}

impl RecordingQueue {
    pub fn keys(&self) -> Vec<String> {
        self.sent.lock().unwrap().iter().map(|t| t.key.to_string()).collect()
    }
}

#[async_trait]
impl Queue for RecordingQueue {
    async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError> {
        self.sent.lock().unwrap().extend_from_slice(tasks);
        Ok(())
    }
}

/// A store that counts the items each call writes, to measure what an operation costs.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    pub writes: AtomicU32,
}

impl CountingStore {
    pub fn wrap(inner: Arc<dyn Store>) -> Arc<CountingStore> {
        Arc::new(CountingStore {
            inner,
            writes: AtomicU32::new(0),
        })
    }

    pub fn writes(&self) -> u32 {
        self.writes.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.writes.fetch_add(writes.len() as u32, Ordering::SeqCst);
        self.inner.transact(writes).await
    }
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        self.inner.query(query).await
    }
}
