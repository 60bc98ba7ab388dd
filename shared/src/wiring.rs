//! Builds the services over one backend or the other, once per process, so that every binary's
//! `main` only wires.

use std::sync::Arc;
use std::time::Duration;

use crate::alerts::Rules;
use crate::app::{AlertService, Integrations, ReportService, ScaService, SevService};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::queue::{EmbeddedQueue, Queue, QueueError, Relay, SqsQueue};
use crate::reports::Template;
use crate::slack::{SlackClient, SlackIntegration, SlackRoutes};
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
    #[error("SEVTOOL_REPORT_TEMPLATE={path}: {reason}")]
    ReportTemplate { path: String, reason: String },
}

#[derive(Clone)]
pub struct Services {
    pub repo: SevRepo,
    pub relay: Relay,
    pub sevs: SevService,
    pub scas: ScaService,
    pub alerts: AlertService,
    pub reports: ReportService,
    /// Where tasks go: entry points that only acknowledge (Slack) enqueue here directly.
    pub queue: Arc<dyn Queue>,
}

fn services(config: &Config, repo: SevRepo, queue: Arc<dyn Queue>, rules: Rules, template: Template) -> Services {
    let relay = Relay::new(repo.clone(), queue.clone());
    let sevs = SevService::new(repo.clone(), relay.clone(), Arc::new(SystemClock));
    let scas = ScaService::new(
        repo.clone(),
        relay.clone(),
        Arc::new(SystemClock),
        config.sca_policy.clone(),
    );
    let alerts = AlertService::new(sevs.clone(), repo.clone(), Arc::new(rules), Arc::new(SystemClock));
    let reports = ReportService::new(repo.clone(), Arc::new(SystemClock), Arc::new(template));
    Services {
        reports,
        repo,
        relay,
        sevs,
        scas,
        alerts,
        queue,
    }
}

/// The task handlers of every configured integration.
pub fn integrations(config: &Config, services: &Services) -> Integrations {
    let mut all = Integrations::default();
    if let Some(slack) = &config.slack {
        let client = SlackClient::new(&slack.api_url, slack.bot_token.clone());
        let handler = SlackIntegration::new(
            client,
            services.sevs.clone(),
            services.scas.clone(),
            services.repo.clone(),
            Arc::new(slack.clone()),
        );
        all = all.with("slack", Arc::new(handler));
    }
    all
}

/// Slack's inbound routes, when Slack is configured.
pub fn slack_routes(config: &Config, services: &Services) -> Option<SlackRoutes> {
    config.slack.as_ref().map(|slack| SlackRoutes {
        secret: slack.signing_secret.clone(),
        queue: services.queue.clone(),
        client: SlackClient::new(&slack.api_url, slack.bot_token.clone()),
        clock: Arc::new(SystemClock),
    })
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

/// The SEV report template: the file `SEVTOOL_REPORT_TEMPLATE` names, else the shipped one. A
/// file that cannot be read, or names an unknown placeholder, stops the start.
pub fn report_template(config: &Config) -> Result<Template, WiringError> {
    let Some(path) = &config.report_template else {
        return Ok(Template::shipped());
    };
    let failed = |reason: String| WiringError::ReportTemplate {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    Template::parse(&text).map_err(failed)
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
    Ok((
        services(
            config,
            repo,
            Arc::new(queue.clone()),
            alert_rules(config)?,
            report_template(config)?,
        ),
        queue,
    ))
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
    Ok(services(
        config,
        SevRepo::new(Arc::new(store)),
        Arc::new(queue),
        alert_rules(config)?,
        report_template(config)?,
    ))
}
