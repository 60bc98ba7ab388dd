//! The `pager` Lambda: an SQS event source delivers page tasks from the pager queue, apart from
//! the Slack tasks so that a page never waits behind Slack's rate limits. Tasks of one batch run
//! concurrently (one slow pager must not hold up the other teams); failed ones are reported one
//! by one so that only they are delivered again.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use sev::app::Integrations;
use sev::clock::SystemClock;
use sev::queue::{Consumer, batch_response, messages};
use sev::store::SevRepo;

/// The event source's batch size: every task of a batch is in flight at once.
const CONCURRENCY: usize = 10;

async fn handle(repo: &SevRepo, integrations: &Integrations, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let consumer = Consumer {
        handler: integrations,
        repo,
        clock: &SystemClock,
    };
    batch_response(consumer.process(messages(event.payload), CONCURRENCY).await)
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    if services.paging.is_none() {
        return Err("the pager function needs SEVTOOL_TEAMS (the team catalog)".into());
    }
    let integrations = sev::wiring::pager_integrations(&services);
    let (repo, integrations) = (&services.repo, &integrations);
    lambda_runtime::run(service_fn(|event| async move {
        Ok::<_, lambda_runtime::Error>(handle(repo, integrations, event).await)
    }))
    .await
}
