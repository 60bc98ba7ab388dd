//! The task queue: per-item failures, deduplicated redelivery, dead-lettering, on the embedded
//! queue, and the SQS adapter against moto.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sev::clock::ManualClock;
use sev::domain::{EntryId, SevId};
use sev::queue::{
    Consumer, EmbeddedQueue, Message, Queue, SqsQueue, Steps, Task, TaskEnvelope, TaskError, TaskHandler,
};
use sev::store::{SevRepo, SqliteStore};

/// Handles tasks by script: each key fails with the given errors, in order, then succeeds.
#[derive(Default)]
struct Scripted {
    failures: Mutex<HashMap<String, Vec<TaskError>>>,
    handled: Mutex<Vec<String>>,
}

impl Scripted {
    fn fail(self, key: &str, errors: Vec<TaskError>) -> Self {
        self.failures.lock().unwrap().insert(key.to_owned(), errors);
        self
    }

    fn handled(&self) -> Vec<String> {
        self.handled.lock().unwrap().clone()
    }
}

#[async_trait]
impl TaskHandler for Scripted {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        if let Some(errors) = self.failures.lock().unwrap().get_mut(task.key.as_str())
            && !errors.is_empty()
        {
            return Err(errors.remove(0));
        }
        self.handled.lock().unwrap().push(task.key.to_string());
        Ok(())
    }
}

fn task(n: u64) -> TaskEnvelope {
    TaskEnvelope::new(Task::SevFiled { sev: SevId(n) }, Utc::now())
}

struct Local {
    queue: EmbeddedQueue,
    clock: Arc<ManualClock>,
    repo: SevRepo,
    _dir: tempfile::TempDir,
}

async fn local(visibility_ms: u64, max_receives: u32) -> Local {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("q.db")).unwrap();
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let visibility = Duration::from_millis(visibility_ms);
    let queue = EmbeddedQueue::open(store.clone(), visibility, max_receives, clock.clone())
        .await
        .unwrap();
    Local {
        queue,
        clock,
        repo: SevRepo::new(Arc::new(store)),
        _dir: dir,
    }
}

/// One batch through the consumer, in order, as the worker Lambda runs it.
async fn process_batch(handler: &dyn TaskHandler, repo: &SevRepo, messages: Vec<Message>) -> Vec<String> {
    let consumer = Consumer {
        handler,
        repo,
        clock: &sev::clock::SystemClock,
    };
    consumer.process(messages, 1).await
}

/// One round of what a consumer does: receive, handle, acknowledge what succeeded.
async fn round(l: &Local, handler: &dyn TaskHandler) -> (usize, Vec<String>) {
    let messages = l.queue.receive(10).await.unwrap();
    let received = messages.len();
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let retry = process_batch(handler, &l.repo, messages).await;
    l.queue
        .ack(ids.into_iter().filter(|id| !retry.contains(id)).collect())
        .await
        .unwrap();
    (received, retry)
}

#[tokio::test]
async fn one_failing_task_never_retries_its_batch_mates() {
    let l = local(20, 5).await;
    let handler = Scripted::default().fail("sev-filed:SEV-2", vec![TaskError::Retryable("slack 503".into())]);
    l.queue.send_batch(&[task(1), task(2), task(3)]).await.unwrap();
    let (received, retry) = round(&l, &handler).await;
    assert_eq!((received, retry.len()), (3, 1));
    assert_eq!(handler.handled(), ["sev-filed:SEV-1", "sev-filed:SEV-3"]);
    l.clock.advance(chrono::Duration::milliseconds(19));
    let hidden = round(&l, &handler).await.0;
    assert_eq!(hidden, 0, "the failed task is hidden for its visibility timeout");
    l.clock.advance(chrono::Duration::milliseconds(1));
    assert_eq!(round(&l, &handler).await, (1, vec![]));
    assert_eq!(handler.handled().len(), 3);
    assert_eq!(l.queue.depth().await.unwrap(), (0, 0));
}

#[tokio::test]
async fn a_redelivered_or_resent_task_acts_once() {
    let l = local(20, 5).await;
    let handler = Scripted::default();
    l.queue.send_batch(&[task(1), task(1)]).await.unwrap();
    assert_eq!(round(&l, &handler).await, (2, vec![]));
    l.queue.send_batch(&[task(1)]).await.unwrap();
    assert_eq!(round(&l, &handler).await, (1, vec![]));
    assert_eq!(handler.handled(), ["sev-filed:SEV-1"]);
}

#[tokio::test]
async fn a_permanent_failure_is_kept_on_its_sev_and_not_retried() {
    let l = local(20, 5).await;
    let handler = Scripted::default().fail("sev-filed:SEV-4", vec![TaskError::Permanent("channel archived".into())]);
    l.queue.send_batch(&[task(4)]).await.unwrap();
    assert_eq!(round(&l, &handler).await, (1, vec![]));
    let failed = l.repo.failed_tasks(SevId(4)).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].reason, "channel archived");
    assert_eq!(failed[0].task.key, "sev-filed:SEV-4");
    l.queue.send_batch(&[task(4)]).await.unwrap();
    assert_eq!(round(&l, &handler).await, (1, vec![]));
    assert!(handler.handled().is_empty());
}

#[tokio::test]
async fn a_retried_failure_leaves_the_sev_and_runs_once_more() {
    let l = local(20, 5).await;
    let handler = Scripted::default().fail("sev-filed:SEV-5", vec![TaskError::Permanent("not_in_channel".into())]);
    l.queue.send_batch(&[task(5)]).await.unwrap();
    round(&l, &handler).await;
    let failed = l.repo.failed_tasks(SevId(5)).await.unwrap();
    assert_eq!(failed.len(), 1);

    l.repo.requeue_failed(&failed[0]).await.unwrap();
    assert!(l.repo.failed_tasks(SevId(5)).await.unwrap().is_empty());
    let outbox = l.repo.outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 1, "back in the outbox, for the relay to send");
    assert_eq!(outbox[0].1, failed[0].task);
    l.queue.send_batch(&[outbox[0].1.clone()]).await.unwrap();
    assert_eq!(round(&l, &handler).await, (1, vec![]));
    assert_eq!(
        handler.handled(),
        ["sev-filed:SEV-5"],
        "no longer marked handled, so it runs"
    );
}

#[tokio::test]
async fn unreadable_tasks_end_in_the_dead_letter_side_not_the_bin() {
    let l = local(1, 3).await;
    let handler = Scripted::default();
    let bad = process_batch(
        &handler,
        &l.repo,
        vec![Message {
            id: "m1".into(),
            body: "{not json".into(),
        }],
    )
    .await;
    assert_eq!(bad, ["m1"]);
    let mut future = task(5);
    future.v = 99;
    let newer = process_batch(
        &handler,
        &l.repo,
        vec![Message {
            id: "m2".into(),
            body: future.to_json(),
        }],
    )
    .await;
    assert_eq!(
        newer,
        ["m2"],
        "a task from a newer producer waits for an upgraded consumer"
    );

    let always = Scripted::default().fail(
        "sev-filed:SEV-6",
        (0..10).map(|_| TaskError::Retryable("down".into())).collect(),
    );
    l.queue.send_batch(&[task(6)]).await.unwrap();
    for _ in 0..6 {
        round(&l, &always).await;
        l.clock.advance(chrono::Duration::seconds(1));
    }
    assert_eq!(
        l.queue.depth().await.unwrap(),
        (0, 1),
        "after 3 receives it is dead-lettered"
    );
}

#[tokio::test]
async fn sqs_adapter_sends_batches_and_redrives_to_the_dead_letter_queue() {
    let client = aws_sdk_sqs::Client::new(&common::sdk_config().await);
    let name = common::unique("tasks");
    let url = SqsQueue::create_queue_with_dlq(&client, &name, 2).await.unwrap();
    let queue = SqsQueue::new(client.clone(), url.clone());
    let tasks: Vec<TaskEnvelope> = (1..=12)
        .map(|n| {
            TaskEnvelope::new(
                Task::TimelineEntryAdded {
                    sev: SevId(n),
                    entry: EntryId::new(Utc::now(), n),
                },
                Utc::now(),
            )
        })
        .collect();
    queue.send_batch(&tasks).await.unwrap();

    let mut bodies = Vec::new();
    while bodies.len() < 12 {
        let out = client
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        assert!(!messages.is_empty(), "only {} of 12 tasks arrived", bodies.len());
        for m in messages {
            bodies.push(serde_json::from_str::<TaskEnvelope>(m.body().unwrap()).unwrap());
            client
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    bodies.sort_by_key(|t| t.sev());
    assert_eq!(bodies, tasks);

    queue.send_batch(&tasks[..1]).await.unwrap();
    for _ in 0..3 {
        client
            .receive_message()
            .queue_url(&url)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
    }
    let dlq = client
        .get_queue_url()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap();
    let dead = client
        .receive_message()
        .queue_url(dlq.queue_url().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        dead.messages.unwrap_or_default().len(),
        1,
        "received twice without success, it moved to the DLQ"
    );
}

#[tokio::test]
async fn two_integrations_steps_of_one_task_never_read_each_others_results() {
    let l = local(20, 5).await;
    let key = "sev-filed:SEV-1";
    let slack = Steps::new(&l.repo, key, "slack");
    let pager = Steps::new(&l.repo, key, "pager");
    let posted: String = slack
        .once("announce", || async { Ok("slack-ts".to_owned()) })
        .await
        .unwrap();
    let paged: String = pager
        .once("announce", || async { Ok("pager-id".to_owned()) })
        .await
        .unwrap();
    assert_eq!((posted.as_str(), paged.as_str()), ("slack-ts", "pager-id"));
    let again: String = slack
        .once("announce", || async { Err(TaskError::Permanent("acted twice".into())) })
        .await
        .unwrap();
    assert_eq!(again, "slack-ts", "a redelivery gets the recorded result");
}

#[tokio::test]
async fn a_step_recorded_before_steps_were_scoped_is_still_done_once() {
    let l = local(20, 5).await;
    let key = "sev-filed:SEV-2";
    l.repo.record_step(key, "announce", "\"old-ts\"".into()).await.unwrap();
    let steps = Steps::new(&l.repo, key, "slack");
    let got: String = steps
        .once("announce", || async { Err(TaskError::Permanent("acted twice".into())) })
        .await
        .unwrap();
    assert_eq!(got, "old-ts");
}
