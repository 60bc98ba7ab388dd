//! The `worker` Lambda. Two things invoke it: the SQS event source, with batches of integration
//! tasks (failed ones are reported one by one so that only they are delivered again), and an
//! EventBridge Scheduler schedule every minute with `{"sweep": "outbox"}`, which relays whatever a
//! crash between commit and send left in the outbox.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use sev::app::Integrations;
use sev::clock::SystemClock;
use sev::queue::{Consumer, Relay, batch_response, messages};
use sev::store::SevRepo;

/// What the worker was invoked with, told apart by shape.
#[derive(Debug)]
enum Invocation {
    Tasks(SqsEvent),
    SweepOutbox,
}

#[derive(Debug, thiserror::Error)]
enum InvocationError {
    /// Names the keys it saw, not their values: a stray payload may hold anything.
    #[error(
        "unrecognised payload (top-level keys: {keys:?}): expected an SQS event (\"Records\") or {{\"sweep\": \"outbox\"}}"
    )]
    Unrecognised { keys: Vec<String> },
    #[error("not a valid SQS event: {0}")]
    BadSqsEvent(String),
}

/// serde's message without the values it quotes ("invalid type: string \"…\""), which may be
/// anything a message carried.
fn without_values(e: &serde_json::Error) -> String {
    let mut out = String::new();
    let mut quote = None;
    for c in e.to_string().chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
            }
        }
    }
    out
}

impl Invocation {
    fn parse(payload: Value) -> Result<Invocation, InvocationError> {
        let Value::Object(object) = &payload else {
            return Err(InvocationError::Unrecognised { keys: Vec::new() });
        };
        if object.len() == 1 && object.get("sweep").and_then(Value::as_str) == Some("outbox") {
            return Ok(Invocation::SweepOutbox);
        }
        if object.contains_key("Records") {
            return serde_json::from_value(payload)
                .map(Invocation::Tasks)
                .map_err(|e| InvocationError::BadSqsEvent(without_values(&e)));
        }
        Err(InvocationError::Unrecognised {
            keys: object.keys().cloned().collect(),
        })
    }
}

struct Worker {
    repo: SevRepo,
    relay: Relay,
    integrations: Integrations,
}

impl Worker {
    async fn handle(&self, payload: Value) -> Result<Value, lambda_runtime::Error> {
        match Invocation::parse(payload)? {
            Invocation::Tasks(event) => Ok(serde_json::to_value(self.handle_tasks(event).await)?),
            Invocation::SweepOutbox => {
                // An error fails the invocation; the next sweep, a minute later, tries again.
                let relayed = self.relay.run().await?;
                tracing::info!(relayed, "outbox swept");
                Ok(serde_json::json!({ "relayed": relayed }))
            }
        }
    }

    async fn handle_tasks(&self, event: SqsEvent) -> SqsBatchResponse {
        let consumer = Consumer {
            handler: &self.integrations,
            repo: &self.repo,
            clock: &SystemClock,
        };
        batch_response(consumer.process(messages(event), 1).await)
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    let worker = &Worker {
        repo: services.repo.clone(),
        relay: services.relay.clone(),
        integrations: sev::wiring::integrations(&config, &services),
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        worker.handle(event.payload).await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use sev::app::{FileRequest, SevService};
    use sev::clock::SystemClock;
    use sev::domain::{Level, NewSev};
    use sev::queue::{Queue, QueueError, Task, TaskEnvelope};
    use sev::store::SqliteStore;

    use super::*;

    /// Keeps what it is sent, or refuses everything, as a queue in an outage would.
    #[derive(Default)]
    struct TestQueue {
        down: bool,
        sent: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Queue for TestQueue {
        async fn send_batch(&self, tasks: &[TaskEnvelope]) -> Result<(), QueueError> {
            if self.down {
                return Err(QueueError::Backend("queue is down".into()));
            }
            self.sent
                .lock()
                .unwrap()
                .extend(tasks.iter().map(|t| t.key.to_string()));
            Ok(())
        }
    }

    struct Fixture {
        worker: Worker,
        queue: Arc<TestQueue>,
        _dir: tempfile::TempDir,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let repo = SevRepo::new(Arc::new(SqliteStore::open(&dir.path().join("w.db")).unwrap()));
        let queue = Arc::new(TestQueue::default());
        let worker = Worker {
            relay: Relay::new(repo.clone(), queue.clone()),
            repo,
            integrations: Integrations::default(),
        };
        Fixture {
            worker,
            queue,
            _dir: dir,
        }
    }

    fn record(id: &str, body: &str) -> Value {
        serde_json::json!({
            "messageId": id,
            "receiptHandle": "rh",
            "body": body,
            "attributes": {},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tasks",
            "awsRegion": "us-east-1"
        })
    }

    #[tokio::test]
    async fn an_sqs_event_reports_only_the_failed_records() {
        let f = fixture();
        let good = TaskEnvelope::new(
            Task::SevFiled {
                sev: sev::domain::SevId(1),
            },
            chrono::Utc::now(),
        );
        let event = serde_json::json!({ "Records": [record("ok-1", &good.to_json()), record("bad-1", "not a task")] });
        let response = f.worker.handle(event).await.unwrap();
        assert_eq!(
            response,
            serde_json::json!({ "batchItemFailures": [{ "itemIdentifier": "bad-1" }] })
        );
    }

    #[tokio::test]
    async fn the_sweep_relays_what_a_failed_send_left_in_the_outbox() {
        let f = fixture();
        // Filing while the queue is down commits the SEV and leaves its task in the outbox.
        let down = Relay::new(
            f.worker.repo.clone(),
            Arc::new(TestQueue {
                down: true,
                ..Default::default()
            }),
        );
        let sevs = SevService::new(f.worker.repo.clone(), down, Arc::new(SystemClock));
        let new = NewSev {
            title: "Checkout returns 5xx".into(),
            level: Some(Level::Sev1),
            ..NewSev::default()
        };
        sevs.file(FileRequest {
            new,
            reporter: "test".into(),
            idempotency_key: None,
        })
        .await
        .unwrap();
        // Filing queues two tasks: the integrations' and the auto-page.
        assert_eq!(f.worker.repo.outbox(10).await.unwrap().len(), 2);

        let response = f.worker.handle(serde_json::json!({ "sweep": "outbox" })).await.unwrap();
        assert_eq!(response, serde_json::json!({ "relayed": 2 }));
        assert_eq!(f.queue.sent.lock().unwrap().len(), 2);
        assert!(f.worker.repo.outbox(10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unknown_payload_is_a_clear_error() {
        let f = fixture();
        for payload in [
            serde_json::json!({ "sweep": "everything" }),
            serde_json::json!({ "detail-type": "Scheduled Event", "detail": { "token": "s3cret" } }),
            serde_json::json!(["Records"]),
        ] {
            let err = f.worker.handle(payload).await.unwrap_err().to_string();
            assert!(
                err.contains("unrecognised payload") && err.contains("\"sweep\": \"outbox\""),
                "{err}"
            );
            assert!(!err.contains("s3cret"), "values stay out of the error: {err}");
        }
        for records in [
            serde_json::json!("s3cret"),
            serde_json::json!([{ "messageId": 42424242, "body": "s3cret" }]),
        ] {
            let err = f
                .worker
                .handle(serde_json::json!({ "Records": records }))
                .await
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("not a valid SQS event: invalid type"), "{err}");
            assert!(
                !err.contains("s3cret") && !err.contains("42424242"),
                "values stay out of the error: {err}"
            );
        }
        assert!(f.queue.sent.lock().unwrap().is_empty());
    }
}
