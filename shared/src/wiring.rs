//! Builds the services over one backend or the other, once per process, so that every binary's
//! `main` only wires.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::alerts::Rules;
use crate::app::{
    AlertService, Integrations, Jobs, NagPlanner, PagingService, ReportDrafter, ScaService, SevReportService,
    SevService, SlackLink, TransferService, TrendService,
};
use crate::clock::SystemClock;
use crate::config::{Config, ConfigError, PagingSettings};
use crate::jira::{JiraIntegration, JiraWebhook};
use crate::paging::{
    Catalog, CatalogError, Jsm, Opsgenie, OpsgenieWebhook, PagerDuty, PagerDutyWebhook, PagerRouter, PagingIntegration,
    Secret,
};
use crate::queue::{EmbeddedQueue, Queue, QueueError, QueueName, Relay, RoutedQueue, SqsQueue};
use crate::reports::Template;
use crate::schedule::{EmbeddedScheduler, EventBridgeScheduler, Scheduler};
use crate::secrets::{SECRETS_ARN_VAR, Secrets, SecretsError};
use crate::slack::socket_mode::SocketMode;
use crate::slack::{Ingress, SlackClient, SlackIntegration, SlackRoutes, SlackTimeZones};
use crate::statuspage::{StatuspageClient, StatuspageIntegration};
use crate::store::{DynamoStore, SevRepo, SqliteStore, Store, StoreError};
use crate::transfer::{Lake, S3Lake};

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
    #[error("SEVTOOL_TEAMS: {0}")]
    Catalog(#[from] CatalogError),
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
    pub scas: ScaService,
    pub alerts: AlertService,
    pub trends: TrendService,
    pub sev_reports: SevReportService,
    pub transfer: TransferService,
    pub jobs: Jobs,
    /// Where tasks go: entry points that only acknowledge (Slack) enqueue here directly.
    pub queue: Arc<dyn Queue>,
    /// Where SCA nags are scheduled.
    pub scheduler: Arc<dyn Scheduler>,
    /// Present when a team catalog is configured.
    pub paging: Option<PagingService>,
    /// The pager adapters, present with `paging`.
    pub pager: Option<PagerRouter>,
    /// The data lake the `reports` function exports to: on AWS, when `SEVTOOL_EXPORT_BUCKET`
    /// names one.
    pub lake: Option<Arc<dyn Lake>>,
}

/// The local queues: one table, one named queue per consumer.
#[derive(Clone)]
pub struct LocalQueues {
    pub tasks: EmbeddedQueue,
    pub pager: EmbeddedQueue,
}

fn pager(settings: &PagingSettings, catalog: &Catalog) -> PagerRouter {
    // Each Opsgenie or JSM Ops key is read from the variable the catalog names; a missing one fails only
    // the pages of the teams that need it, and says which variable to set.
    let keys: HashMap<String, Secret> = catalog
        .key_envs()
        .into_iter()
        .filter_map(|name| {
            let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty());
            if value.is_none() {
                tracing::warn!(
                    variable = name,
                    "an Opsgenie or JSM Ops API key variable named in the team catalog is not set"
                );
            }
            value.map(|v| (name.to_owned(), Secret::new(v)))
        })
        .collect();
    let pagerduty = Arc::new(PagerDuty::new(
        &settings.pagerduty_events_url,
        &settings.pagerduty_api_url,
        settings.pagerduty_token.clone(),
    ));
    PagerRouter {
        pagerduty: pagerduty.clone(),
        opsgenie: Arc::new(Opsgenie::new(&settings.opsgenie_api_url, keys.clone())),
        jsm: Arc::new(Jsm::new(&settings.jsm_ops_api_url, keys, settings.jsm_account.clone())),
        incidents: pagerduty,
    }
}

fn services(
    config: &Config,
    repo: SevRepo,
    queue: Arc<dyn Queue>,
    scheduler: Arc<dyn Scheduler>,
    rules: Rules,
    template: Template,
) -> Result<Services, WiringError> {
    let relay = Relay::new(repo.clone(), queue.clone());
    let clock = Arc::new(SystemClock);
    let sevs = SevService::new(repo.clone(), relay.clone(), clock.clone());
    let scas = ScaService::new(repo.clone(), relay.clone(), clock.clone(), config.sca_policy.clone());
    let trends = TrendService::new(repo.clone(), clock.clone(), config.report_policy.clone());
    let sev_reports = SevReportService::new(repo.clone(), relay.clone(), clock.clone(), Arc::new(template));
    let transfer = TransferService::new(repo.clone(), clock.clone());
    let jobs = Jobs::new(repo.clone(), relay.clone(), clock.clone());
    let (paging, pager) = match &config.paging {
        Some(settings) => {
            let catalog = Arc::new(Catalog::load(&settings.teams)?);
            tracing::info!(teams = catalog.teams().len(), "team catalog loaded");
            let pager = pager(settings, &catalog);
            let service = PagingService::new(repo.clone(), relay.clone(), clock.clone(), catalog, settings.autopage);
            (Some(service), Some(pager))
        }
        None => (None, None),
    };
    let alerts = AlertService::new(sevs.clone(), repo.clone(), Arc::new(rules), clock, paging.clone());
    Ok(Services {
        trends,
        sev_reports,
        transfer,
        jobs,
        repo,
        relay,
        sevs,
        scas,
        alerts,
        queue,
        scheduler,
        paging,
        pager,
        lake: None,
    })
}

/// The task handlers of every configured integration on the task queue.
pub fn integrations(config: &Config, services: &Services) -> Integrations {
    let mut planner = NagPlanner::new(
        services.scas.clone(),
        services.scheduler.clone(),
        config.nag_policy.clone(),
        config.nag_offset,
        Arc::new(SystemClock),
    )
    .with_reports(services.repo.clone(), config.report_policy.clone());
    // One client for both, built once: the owners' time zones and the Slack integration.
    let slack = config
        .slack
        .as_ref()
        .map(|s| (s, SlackClient::new(&s.api_url, s.bot_token.clone())));
    if let Some((_, client)) = &slack {
        let zones = SlackTimeZones::new(client.clone(), services.repo.clone(), Arc::new(SystemClock));
        planner = planner.with_zones(Arc::new(zones));
    }
    let mut all = Integrations::default()
        .with("nags", Arc::new(planner))
        .with("reports", Arc::new(ReportDrafter::new(services.sev_reports.clone())));
    if let Some((slack, client)) = slack {
        let handler = SlackIntegration::new(
            client,
            services.sevs.clone(),
            services.scas.clone(),
            services.repo.clone(),
            Arc::new(slack.clone()),
            config.security_group.clone(),
        )
        .with_paging(services.paging.clone())
        .with_trends(services.trends.clone());
        all = all.with("slack", Arc::new(handler));
    }
    // Last: the SCA is stored and its nags planned before Jira is asked anything.
    if let Some(jira) = &config.jira {
        let catalog = services.paging.as_ref().map(|p| Arc::new(p.catalog().clone()));
        let handler = JiraIntegration::new(
            Arc::new(jira.clone()),
            services.scas.clone(),
            services.repo.clone(),
            catalog,
            config.public_url.clone(),
        );
        all = all.with("jira", Arc::new(handler));
    }
    if let Some(page) = &config.statuspage {
        let client = StatuspageClient::new(&page.api_url, &page.page_id, page.api_key.clone());
        let catalog = services.paging.as_ref().map(|p| Arc::new(p.catalog().clone()));
        let handler = StatuspageIntegration::new(client, services.repo.clone(), catalog, Arc::new(SystemClock));
        all = all.with("statuspage", Arc::new(handler));
    }
    all
}

/// The task handlers of the pager queue.
pub fn pager_integrations(services: &Services) -> Integrations {
    match (&services.paging, &services.pager) {
        (Some(paging), Some(pager)) => Integrations::default().with(
            "paging",
            Arc::new(PagingIntegration::new(
                paging.clone(),
                services.sevs.clone(),
                services.repo.clone(),
                Arc::new(pager.clone()),
                pager.incidents.clone(),
            )),
        ),
        _ => Integrations::default(),
    }
}

/// Slack's inbound routes, when Slack is configured.
/// What Slack's requests go through on either transport; present when Slack is on.
fn slack_ingress(config: &Config, services: &Services) -> Option<Ingress> {
    config.slack.as_ref().map(|slack| Ingress {
        queue: services.queue.clone(),
        client: SlackClient::new(&slack.api_url, slack.bot_token.clone()),
        clock: Arc::new(SystemClock),
    })
}

/// The signed HTTP routes; present when `SLACK_SIGNING_SECRET` is set.
pub fn slack_routes(config: &Config, services: &Services) -> Option<SlackRoutes> {
    let secret = config.slack.as_ref()?.signing_secret.clone()?;
    Some(SlackRoutes {
        secret,
        ingress: slack_ingress(config, services)?,
    })
}

/// Socket Mode, for the local server; present when `SLACK_APP_TOKEN` is set. Its state is
/// shown on the status page through `link`.
pub fn socket_mode(config: &Config, services: &Services, link: &SlackLink) -> Option<SocketMode> {
    let slack = config.slack.as_ref()?;
    Some(SocketMode {
        token: slack.app_token.clone()?,
        api_url: slack.api_url.clone(),
        ingress: slack_ingress(config, services)?,
        link: link.clone(),
    })
}

/// The pagers' webhooks, served beside the API: `POST /pagerduty/webhook` and
/// `POST /opsgenie/webhook`. Each is on when paging is and its secret is set
/// (`PAGERDUTY_WEBHOOK_SECRET`, `OPSGENIE_WEBHOOK_SECRET`), else it answers 503 saying what to set.
pub fn pager_webhooks(config: &Config, services: &Services) -> axum::Router {
    let paging = config.paging.as_ref();
    let pagerduty = crate::paging::pagerduty_webhook_router(PagerDutyWebhook {
        secret: paging.and_then(|p| p.pagerduty_webhook_secret.clone()),
        queue: services.queue.clone(),
        clock: Arc::new(SystemClock),
    });
    let opsgenie = crate::paging::opsgenie_webhook_router(OpsgenieWebhook {
        secret: paging.and_then(|p| p.opsgenie_webhook_secret.clone()),
        queue: services.queue.clone(),
        clock: Arc::new(SystemClock),
    });
    pagerduty.merge(opsgenie)
}

/// `POST /jira/webhook`, served beside the API: on when Jira is and its webhook has a secret,
/// else it answers 503 saying what to set.
pub fn jira_webhook(config: &Config, services: &Services) -> axum::Router {
    crate::jira::webhook_router(JiraWebhook {
        secret: config.jira.as_ref().and_then(|j| j.webhook_secret.clone()),
        queue: services.queue.clone(),
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

/// The local product: SQLite under the data directory, with the queues and the nag schedules in
/// the same file.
pub async fn embedded(config: &Config) -> Result<(Services, LocalQueues, EmbeddedScheduler), WiringError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| WiringError::DataDir {
        dir: config.data_dir.display().to_string(),
        source,
    })?;
    let sqlite = SqliteStore::open(&config.data_dir.join("sevtool.db"))?;
    let open = |name| {
        EmbeddedQueue::open_named(
            sqlite.clone(),
            name,
            EMBEDDED_VISIBILITY,
            MAX_RECEIVES,
            Arc::new(SystemClock),
        )
    };
    let queues = LocalQueues {
        tasks: open(QueueName::Tasks).await?,
        pager: open(QueueName::Pager).await?,
    };
    let routed = RoutedQueue::new(Arc::new(queues.tasks.clone()), Arc::new(queues.pager.clone()));
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let scheduler = EmbeddedScheduler::new(store.clone());
    let rules = alert_rules(config)?;
    let template = report_template(config)?;
    let all = services(
        config,
        SevRepo::new(store),
        Arc::new(routed),
        Arc::new(scheduler.clone()),
        rules,
        template,
    )?;
    Ok((all, queues, scheduler))
}

/// Production: DynamoDB, SQS and EventBridge Scheduler, clients built from the standard AWS
/// environment.
pub async fn aws(config: &Config) -> Result<Services, WiringError> {
    let sdk = aws_config::load_from_env().await;
    let queue_url = config
        .task_queue_url
        .clone()
        .ok_or(WiringError::Missing("SEVTOOL_TASK_QUEUE_URL"))?;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let tasks: Arc<dyn Queue> = Arc::new(SqsQueue::new(sqs.clone(), queue_url));
    // Without paging, the few pager tasks every SEV makes (auto-page, resolve pages) have
    // nothing to do; they may as well land on the task queue, whose consumers ignore them.
    let pager: Arc<dyn Queue> = match (&config.pager_queue_url, &config.paging) {
        (Some(url), _) => Arc::new(SqsQueue::new(sqs, url.clone())),
        (None, Some(_)) => return Err(WiringError::Missing("SEVTOOL_PAGER_QUEUE_URL (paging is on)")),
        (None, None) => tasks.clone(),
    };
    let target = config
        .schedule_target_arn
        .clone()
        .ok_or(WiringError::Missing("SEVTOOL_SCHEDULE_TARGET_ARN"))?;
    let role = config
        .scheduler_role_arn
        .clone()
        .ok_or(WiringError::Missing("SEVTOOL_SCHEDULER_ROLE_ARN"))?;
    let scheduler = EventBridgeScheduler::new(
        aws_sdk_scheduler::Client::new(&sdk),
        config.schedule_group.clone(),
        target,
        role,
    );
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.table.clone());
    let rules = alert_rules(config)?;
    let template = report_template(config)?;
    let mut all = services(
        config,
        SevRepo::new(Arc::new(store)),
        Arc::new(RoutedQueue::new(tasks, pager)),
        Arc::new(scheduler),
        rules,
        template,
    )?;
    // Built from the same SDK configuration as the other clients: no second look-up at cold start.
    all.lake = config.export_bucket.as_ref().map(|bucket| {
        Arc::new(S3Lake::new(
            aws_sdk_s3::Client::new(&sdk),
            bucket,
            &config.export_prefix,
        )) as Arc<dyn Lake>
    });
    Ok(all)
}
