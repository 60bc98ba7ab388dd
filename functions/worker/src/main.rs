//! The `worker` Lambda: an SQS event source delivers integration tasks in batches; failed ones
//! are reported one by one so that only they are delivered again.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use sev::app::Integrations;
use sev::config::Config;
use sev::queue::{Message, process_batch};
use sev::store::SevRepo;

async fn handle(repo: &SevRepo, integrations: &Integrations, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let messages = event
        .payload
        .records
        .into_iter()
        .filter_map(|r| {
            // Without an id the record could not be reported as failed; SQS always sends one.
            let id = r.message_id?;
            Some(Message {
                id,
                body: r.body.unwrap_or_default(),
            })
        })
        .collect();
    let failed = process_batch(integrations, repo, messages).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|item_identifier| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = item_identifier;
            f
        })
        .collect();
    response
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let services = sev::wiring::aws(&config).await?;
    let integrations = sev::wiring::integrations(&config, &services);
    let (repo, integrations) = (&services.repo, &integrations);
    lambda_runtime::run(service_fn(|event| async move {
        Ok::<_, lambda_runtime::Error>(handle(repo, integrations, event).await)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aws_lambda_events::sqs::SqsMessage;
    use sev::queue::{Task, TaskEnvelope};
    use sev::store::SqliteStore;

    use super::*;

    fn record(id: &str, body: &str) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.message_id = Some(id.to_owned());
        m.body = Some(body.to_owned());
        m
    }

    #[tokio::test]
    async fn reports_only_the_failed_records() {
        let dir = tempfile::tempdir().unwrap();
        let repo = SevRepo::new(Arc::new(SqliteStore::open(&dir.path().join("w.db")).unwrap()));
        let good = TaskEnvelope::new(
            Task::SevFiled {
                sev: sev::domain::SevId(1),
            },
            chrono::Utc::now(),
        );
        let mut event = SqsEvent::default();
        event.records = vec![record("ok-1", &good.to_json()), record("bad-1", "not a task")];
        let response = handle(
            &repo,
            &Integrations::default(),
            LambdaEvent::new(event, Default::default()),
        )
        .await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        assert_eq!(failed, ["bad-1"]);
    }
}
