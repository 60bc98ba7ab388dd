//! The EventBridge Scheduler adapter against the AWS wire protocol (moto): schedules are
//! created, moved and deleted as an SCA changes, none is left once it is done, and each one
//! deletes itself once fired (moto never fires, so that is asked of the schedule). The
//! embedded scheduler does the same when it fires.

use crate::common;

use std::sync::Arc;

use aws_sdk_scheduler::types::ActionAfterCompletion;
use chrono::{Duration, FixedOffset, TimeZone, Utc};
use sev::app::{FileRequest, NagPlanner, NewSca, ScaService, SevService, schedule_name};
use sev::clock::ManualClock;
use sev::domain::{
    DuePolicy, Level, NagPolicy, NagStep, NewSev, Priority, ScaPatch, ScaSource, ScaStateName, Timestamp,
};
use sev::queue::{Relay, Task, TaskEnvelope};
use sev::schedule::{EmbeddedScheduler, EventBridgeScheduler, Scheduler};
use sev::store::SevRepo;

const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:sevtool-tasks";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/sevtool-scheduler";

async fn scheduler() -> (EventBridgeScheduler, aws_sdk_scheduler::Client, String) {
    let client = aws_sdk_scheduler::Client::new(&common::sdk_config().await);
    let group = common::unique("nags");
    let s = EventBridgeScheduler::new(client.clone(), group.clone(), QUEUE_ARN, ROLE_ARN);
    s.create_group().await.unwrap();
    (s, client, group)
}

async fn names(client: &aws_sdk_scheduler::Client, group: &str) -> Vec<String> {
    let out = client.list_schedules().group_name(group).send().await.unwrap();
    let mut names: Vec<String> = out
        .schedules()
        .iter()
        .filter_map(|s| s.name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn upsert_creates_then_moves_and_delete_is_idempotent() {
    let (s, client, group) = scheduler().await;
    let at = Utc.with_ymd_and_hms(2030, 1, 2, 9, 0, 0).unwrap();
    let task = TaskEnvelope::new(
        Task::Nag {
            sca: sev::domain::ScaId(4),
            step: NagStep::Due,
            at,
        },
        at,
    );
    s.upsert("sca-4-due", at, &task).await.unwrap();
    let got = client
        .get_schedule()
        .name("sca-4-due")
        .group_name(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(got.schedule_expression(), Some("at(2030-01-02T09:00:00)"));
    let target = got.target().unwrap();
    assert_eq!((target.arn(), target.role_arn()), (QUEUE_ARN, ROLE_ARN));
    let sent: TaskEnvelope = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(sent, task, "the schedule carries the task itself");
    assert_eq!(
        got.action_after_completion(),
        Some(&ActionAfterCompletion::Delete),
        "a fired schedule deletes itself"
    );

    let later = at + Duration::days(7);
    s.upsert("sca-4-due", later, &task).await.unwrap();
    let got = client
        .get_schedule()
        .name("sca-4-due")
        .group_name(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(got.schedule_expression(), Some("at(2030-01-09T09:00:00)"));
    assert_eq!(
        got.action_after_completion(),
        Some(&ActionAfterCompletion::Delete),
        "a moved schedule still deletes itself"
    );
    assert_eq!(names(&client, &group).await, ["sca-4-due"], "moved, not added");

    s.delete("sca-4-due").await.unwrap();
    s.delete("sca-4-due").await.unwrap();
    assert!(names(&client, &group).await.is_empty());
}

#[tokio::test]
async fn an_scas_schedules_follow_it_until_it_is_done() {
    let (s, client, group) = scheduler().await;
    let b = common::embedded();
    let now = Utc::now();
    let clock = Arc::new(ManualClock::new(now));
    let repo = SevRepo::new(b.store.clone());
    let relay = Relay::new(repo.clone(), Arc::new(common::RecordingQueue::default()));
    let sevs = SevService::new(repo.clone(), relay.clone(), clock.clone());
    let scas = ScaService::new(repo, relay, clock.clone(), DuePolicy::default());
    let utc = FixedOffset::east_opt(0).unwrap();
    let planner = NagPlanner::new(scas.clone(), Arc::new(s), NagPolicy::default(), utc, clock);

    let new = NewSev {
        title: "x".into(),
        level: Some(Level::Sev1),
        ..NewSev::default()
    };
    let (sev, _) = sevs
        .file(FileRequest {
            new,
            reporter: "U1".into(),
            idempotency_key: None,
        })
        .await
        .unwrap();
    let sca = NewSca {
        text: "fix".into(),
        priority: Priority::Must,
        owner: None,
        due: Some(Timestamp::new("due", now + Duration::days(20)).unwrap()),
        ticket: None,
        source: ScaSource::Api,
    };
    let sca = scas.create(sev.id, sca, "U1".into()).await.unwrap();
    planner.plan(sca.id).await.unwrap();
    let mut expected: Vec<String> = NagStep::ALL.iter().map(|step| schedule_name(sca.id, *step)).collect();
    expected.sort();
    assert_eq!(names(&client, &group).await, expected);

    let done = ScaPatch {
        state: Some((ScaStateName::Done, None)),
        ..ScaPatch::default()
    };
    scas.update(sca.id, done, "U1".into()).await.unwrap();
    planner.plan(sca.id).await.unwrap();
    assert!(
        names(&client, &group).await.is_empty(),
        "completing it deleted every pending schedule"
    );
}

#[tokio::test]
async fn the_embedded_scheduler_fires_a_schedule_once_and_then_it_is_gone() {
    let b = common::embedded();
    let s = EmbeddedScheduler::new(b.store.clone());
    let queue = common::RecordingQueue::default();
    let at = Utc.with_ymd_and_hms(2030, 1, 2, 9, 0, 0).unwrap();
    let nag = |n: u64, at| {
        TaskEnvelope::new(
            Task::Nag {
                sca: sev::domain::ScaId(n),
                step: NagStep::Due,
                at,
            },
            at,
        )
    };
    s.upsert("sca-1-due", at, &nag(1, at)).await.unwrap();
    let later = at + Duration::days(1);
    s.upsert("sca-2-due", later, &nag(2, later)).await.unwrap();

    assert_eq!(
        s.fire_due(at - Duration::seconds(1), &queue).await.unwrap(),
        0,
        "not due yet"
    );
    assert_eq!(s.fire_due(at, &queue).await.unwrap(), 1);
    assert_eq!(queue.keys(), [nag(1, at).key.to_string()]);
    assert_eq!(
        s.fire_due(at + Duration::hours(1), &queue).await.unwrap(),
        0,
        "fired once"
    );
    let pending: Vec<String> = s.pending().await.unwrap().into_iter().map(|(name, _)| name).collect();
    assert_eq!(pending, ["sca-2-due"], "the fired schedule is gone, the later one kept");
    // Upserting the fired name again is a new schedule, not a leftover.
    s.upsert("sca-1-due", later, &nag(1, later)).await.unwrap();
    assert_eq!(s.fire_due(later, &queue).await.unwrap(), 2);
    assert!(s.pending().await.unwrap().is_empty());
}
