//! Builds the services over one backend or the other, once per process, so that every binary's
//! `main` only wires.

use std::sync::Arc;
use std::time::Duration;

use crate::app::SevService;
use crate::clock::SystemClock;
use crate::config::{Config, ConfigError};
use crate::queue::{EmbeddedQueue, QueueError, Relay, SqsQueue};
use crate::secrets::{SECRETS_ARN_VAR, Secrets, SecretsError};
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
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

#[derive(Clone)]
pub struct Services {
    pub repo: SevRepo,
    pub relay: Relay,
    pub sevs: SevService,
}

fn services(repo: SevRepo, relay: Relay) -> Services {
    let sevs = SevService::new(repo.clone(), relay.clone(), Arc::new(SystemClock));
    Services { repo, relay, sevs }
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
    Ok((services(repo, relay), queue))
}

/// Production configuration: each variable from the environment, else from the Secrets Manager
/// secret that `SEVTOOL_SECRETS_ARN` names, read once per cold start.
pub async fn aws_config() -> Result<Config, WiringError> {
    let sdk = aws_config::load_from_env().await;
    aws_config_from(&sdk, |name| std::env::var(name).ok()).await
}

/// [`aws_config`] over a given SDK configuration and environment, for tests.
pub async fn aws_config_from(
    sdk: &aws_config::SdkConfig,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Config, WiringError> {
    let secrets = match env(SECRETS_ARN_VAR).filter(|id| !id.trim().is_empty()) {
        Some(id) => {
            let secrets = Secrets::load(&aws_sdk_secretsmanager::Client::new(sdk), &id).await?;
            // Names only: which settings came from the secret, never their values.
            tracing::info!(names = ?secrets.names().collect::<Vec<_>>(), "read the secrets");
            secrets
        }
        None => Secrets::default(),
    };
    Ok(Config::from_lookup(secrets.behind(env))?)
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
    Ok(services(repo, relay))
}
