//! Builds the services over one backend or the other, once per process, so that every binary's
//! `main` only wires.

use std::sync::Arc;
use std::time::Duration;

use crate::alerts::Rules;
use crate::app::{AlertService, SevService};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::queue::{EmbeddedQueue, QueueError, Relay, SqsQueue};
use crate::store::{DynamoStore, SevRepo, SqliteStore, StoreError};

/// The first retry delay of the embedded queue; it doubles per attempt, as an SQS redrive would.
const EMBEDDED_VISIBILITY: Duration = Duration::from_secs(2);
/// Attempts before a task moves to the embedded dead-letter side (matches the SQS redrive policy).
pub const MAX_RECEIVES: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    #[error("cannot use the data directory {dir}: {source}")]
    DataDir { dir: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("{0} is required on AWS")]
    Missing(&'static str),
    #[error("SEVTOOL_ALERT_RULES={path}: {reason}")]
    AlertRules { path: String, reason: String },
}

#[derive(Clone)]
pub struct Services {
    pub repo: SevRepo,
    pub relay: Relay,
    pub sevs: SevService,
    pub alerts: AlertService,
}

fn services(repo: SevRepo, relay: Relay, rules: Rules) -> Services {
    let sevs = SevService::new(repo.clone(), relay.clone(), Arc::new(SystemClock));
    let alerts = AlertService::new(sevs.clone(), repo.clone(), Arc::new(rules), Arc::new(SystemClock));
    Services {
        repo,
        relay,
        sevs,
        alerts,
    }
}

/// The alert routing rules: the file `SEVTOOL_ALERT_RULES` names, else the built-in defaults.
/// A file that cannot be read or parsed stops the start, rather than silently opening nothing.
pub fn alert_rules(config: &Config) -> Result<Rules, WiringError> {
    let Some(path) = &config.alert_rules else {
        return Ok(Rules::defaults());
    };
    let failed = |reason: String| WiringError::AlertRules {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let rules = Rules::parse(&text).map_err(|e| failed(e.to_string()))?;
    tracing::info!(rules = rules.len(), "alert rules loaded");
    Ok(rules)
}

/// The local product: SQLite under the data directory, with the queue in the same file.
pub async fn embedded(config: &Config) -> Result<(Services, EmbeddedQueue), WiringError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| WiringError::DataDir {
        dir: config.data_dir.display().to_string(),
        source,
    })?;
    let store = SqliteStore::open(&config.data_dir.join("sevtool.db"))?;
    let queue = EmbeddedQueue::open(store.clone(), EMBEDDED_VISIBILITY, MAX_RECEIVES, Arc::new(SystemClock)).await?;
    let repo = SevRepo::new(Arc::new(store));
    let relay = Relay::new(repo.clone(), Arc::new(queue.clone()));
    Ok((services(repo, relay, alert_rules(config)?), queue))
}

/// Production: DynamoDB and SQS, clients built from the standard AWS environment.
pub async fn aws(config: &Config) -> Result<Services, WiringError> {
    let sdk = aws_config::load_from_env().await;
    let queue_url = config
        .task_queue_url
        .clone()
        .ok_or(WiringError::Missing("SEVTOOL_TASK_QUEUE_URL"))?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table.clone());
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), queue_url);
    let repo = SevRepo::new(Arc::new(store));
    let relay = Relay::new(repo.clone(), Arc::new(queue));
    Ok(services(repo, relay, alert_rules(config)?))
}
