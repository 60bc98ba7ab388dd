//! The nag ladder end to end on the embedded backend, with a clock the test moves: planning,
//! firing, deduplication, completion and snoozing.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use sev::app::{FileRequest, Integrations, NagPlanner, NewSca, ScaService, SevService, TimeZones};
use sev::clock::{Clock, ManualClock};
use sev::domain::{
    Level, NagPolicy, NagStep, NewSev, Priority, ReportNagStep, ScaPatch, ScaSource, ScaStateName, SevPatch, Status,
    Timestamp,
};
use sev::queue::{Consumer, EmbeddedQueue, Relay, Task, TaskEnvelope, TaskError, TaskHandler};
use sev::schedule::EmbeddedScheduler;
use sev::store::{SevRepo, SqliteStore};

/// Stands in for Slack: records every nag it is asked to send.
#[derive(Default)]
struct Inbox(
    Mutex<Vec<(String, NagStep)>>,
    Mutex<Vec<(String, ReportNagStep, DateTime<Utc>)>>,
);

#[async_trait]
impl TaskHandler for Inbox {
    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        match &task.task {
            Task::Nag { sca, step, .. } => self.0.lock().unwrap().push((sca.to_string(), *step)),
            Task::ReportNag { sev, step, at } => self.1.lock().unwrap().push((sev.to_string(), *step, *at)),
            _ => {}
        }
        Ok(())
    }
}

struct World {
    clock: Arc<ManualClock>,
    scas: ScaService,
    sevs: SevService,
    repo: SevRepo,
    queue: EmbeddedQueue,
    scheduler: EmbeddedScheduler,
    handlers: Integrations,
    inbox: Arc<Inbox>,
    _dir: tempfile::TempDir,
}

/// Monday 2 November 2026, 09:00 UTC.
fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new("due", t).expect("a due date in range")
}

fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

async fn world() -> World {
    world_in(None).await
}

/// Owners sit where `zones` says (nobody knows: the planner's UTC default).
async fn world_in(zones: Option<Arc<dyn TimeZones>>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("n.db")).unwrap();
    let clock = Arc::new(ManualClock::new(monday()));
    let queue = EmbeddedQueue::open(sqlite.clone(), std::time::Duration::from_millis(1), 5, clock.clone())
        .await
        .unwrap();
    let store: Arc<dyn sev::store::Store> = Arc::new(sqlite);
    let scheduler = EmbeddedScheduler::new(store.clone());
    let repo = SevRepo::new(store);
    let relay = Relay::new(repo.clone(), Arc::new(queue.clone()));
    let sevs = SevService::new(repo.clone(), relay.clone(), clock.clone());
    let scas = ScaService::new(repo.clone(), relay, clock.clone(), sev::domain::DuePolicy::default());
    let mut planner = NagPlanner::new(
        scas.clone(),
        Arc::new(scheduler.clone()),
        NagPolicy::default(),
        FixedOffset::east_opt(0).unwrap(),
        clock.clone(),
    );
    if let Some(zones) = zones {
        planner = planner.with_zones(zones);
    }
    let planner = planner.with_reports(repo.clone(), sev::domain::ReportPolicy::default());
    let inbox = Arc::new(Inbox::default());
    let handlers = Integrations::default()
        .with("nags", Arc::new(planner))
        .with("inbox", inbox.clone());
    World {
        clock,
        scas,
        sevs,
        repo,
        queue,
        scheduler,
        handlers,
        inbox,
        _dir: dir,
    }
}

impl World {
    fn reports(&self) -> sev::app::SevReportService {
        let relay = Relay::new(self.repo.clone(), Arc::new(self.queue.clone()));
        sev::app::SevReportService::new(
            self.repo.clone(),
            relay,
            self.clock.clone(),
            Arc::new(sev::reports::Template::shipped()),
        )
    }

    /// Fires what is due and handles every queued task, as `sevtool`'s loops do.
    async fn run(&self) {
        self.scheduler.fire_due(self.clock.now(), &self.queue).await.unwrap();
        loop {
            let messages = self.queue.receive(10).await.unwrap();
            if messages.is_empty() {
                return;
            }
            let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
            let consumer = Consumer {
                handler: &self.handlers,
                repo: &self.repo,
                clock: self.clock.as_ref(),
            };
            let retry = consumer.process(messages, 1).await;
            assert!(retry.is_empty(), "no task should fail here");
            self.queue.ack(ids).await.unwrap();
        }
    }

    async fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
        self.run().await;
    }

    fn nags(&self) -> Vec<NagStep> {
        self.inbox.0.lock().unwrap().iter().map(|(_, s)| *s).collect()
    }

    async fn pending(&self) -> Vec<(String, DateTime<Utc>)> {
        self.scheduler.pending().await.unwrap()
    }

    async fn sca_due_in(&self, days: i64) -> sev::domain::Sca {
        let new = NewSev {
            title: "Ledger lag".into(),
            level: Some(Level::Sev1),
            ..NewSev::default()
        };
        let (sev, _) = self
            .sevs
            .file(FileRequest {
                new,
                reporter: "U1".into(),
                idempotency_key: None,
            })
            .await
            .unwrap();
        let sca = NewSca {
            text: "Alert on lag".into(),
            priority: Priority::Must,
            owner: Some("U2".into()),
            due: Some(ts(monday() + Duration::days(days))),
            ticket: None,
            source: ScaSource::Api,
        };
        let sca = self.scas.create(sev.id, sca, "U1".into()).await.unwrap();
        self.run().await;
        sca
    }
}

fn day(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

#[tokio::test]
async fn the_full_ladder_fires_in_order_and_keeps_escalating() {
    let w = world().await;
    w.sca_due_in(16).await; // due Wednesday 18 November, 09:00
    let pending = w.pending().await;
    assert_eq!(
        pending,
        [
            ("sca-1-before".to_owned(), day(16, 8)), // the 15th is a Sunday: Monday morning instead
            ("sca-1-due".to_owned(), day(18, 9)),
            ("sca-1-overdue".to_owned(), day(19, 9)),
            ("sca-1-escalate".to_owned(), day(25, 9)),
        ]
    );
    w.at(day(16, 7)).await;
    assert!(w.nags().is_empty(), "nothing before its time");
    for (t, expected) in [(day(16, 8), 1), (day(18, 9), 2), (day(19, 9), 3), (day(25, 9), 4)] {
        w.at(t).await;
        assert_eq!(w.nags().len(), expected, "at {t}");
    }
    assert_eq!(
        w.nags(),
        [NagStep::Before, NagStep::Due, NagStep::Overdue, NagStep::Escalate]
    );
    assert_eq!(
        w.pending().await,
        [(
            "sca-1-escalate".to_owned(),
            Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap()
        )],
        "escalation repeats weekly"
    );
    w.at(Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap()).await;
    assert_eq!(w.nags().last(), Some(&NagStep::Escalate));
    assert_eq!(w.nags().len(), 5);
}

#[tokio::test]
async fn a_schedule_fired_twice_sends_one_nag() {
    let w = world().await;
    let sca = w.sca_due_in(16).await;
    let nag = TaskEnvelope::new(
        Task::Nag {
            sca: sca.id,
            step: NagStep::Due,
            at: day(18, 9),
        },
        day(18, 9),
    );
    use sev::queue::Queue;
    w.queue.send_batch(std::slice::from_ref(&nag)).await.unwrap();
    w.run().await;
    w.queue.send_batch(&[nag]).await.unwrap();
    w.run().await;
    assert_eq!(w.nags(), [NagStep::Due]);
}

#[tokio::test]
async fn completing_an_sca_deletes_its_schedules_and_snoozing_moves_them() {
    let w = world().await;
    let sca = w.sca_due_in(16).await;
    assert_eq!(w.pending().await.len(), 4);

    let snooze = ScaPatch {
        due: Some(Some(ts(monday() + Duration::days(23)))),
        ..ScaPatch::default()
    };
    w.scas.update(sca.id, snooze, "U2".into()).await.unwrap();
    w.run().await;
    let due: Vec<_> = w
        .pending()
        .await
        .into_iter()
        .filter(|(n, _)| n == "sca-1-due")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(due, [day(25, 9)], "the due nag moved with the due date");
    assert_eq!(w.pending().await.len(), 4, "moved, not added");

    let done = ScaPatch {
        state: Some((ScaStateName::Done, None)),
        ..ScaPatch::default()
    };
    w.scas.update(sca.id, done, "U2".into()).await.unwrap();
    w.run().await;
    assert!(w.pending().await.is_empty(), "a done SCA has no pending nags");
    w.at(day(30, 12)).await;
    assert!(w.nags().is_empty());
}

#[tokio::test]
async fn quiet_hours_and_weekends_push_nags_to_the_morning() {
    let w = world().await;
    // Due Saturday 7 November, 10:00: the due nag waits for Monday 08:00.
    w.sca_due_in(5).await;
    let w2 = w.pending().await;
    let due = w2.iter().find(|(n, _)| n == "sca-1-due").unwrap().1;
    assert_eq!(due, day(9, 8));
    assert!(w2.iter().all(|(_, t)| {
        let h = t.format("%H").to_string().parse::<u32>().unwrap();
        (8..20).contains(&h)
    }));
}

#[tokio::test]
async fn the_daily_sweep_brings_back_lost_schedules_once_a_day() {
    let w = world().await;
    let sca = w.sca_due_in(16).await;
    let planned = w.pending().await;
    assert_eq!(planned.len(), 4);
    // Lost: deleted behind sevtool's back, as a missed or failed schedule call would leave it.
    for (name, _) in &planned {
        sev::schedule::Scheduler::delete(&w.scheduler, name).await.unwrap();
    }
    assert!(w.pending().await.is_empty());

    let sweep = |day| TaskEnvelope::new(Task::Sweep { day }, w.clock.now());
    let today = w.clock.now().date_naive();
    w.repo.enqueue(&[sweep(today)]).await.unwrap();
    Relay::new(w.repo.clone(), Arc::new(w.queue.clone()))
        .run()
        .await
        .unwrap();
    w.run().await;
    assert_eq!(w.pending().await, planned, "the sweep planned the same nags again");

    // A done SCA is not planned back by the next day's sweep.
    let done = ScaPatch {
        state: Some((ScaStateName::Done, None)),
        ..ScaPatch::default()
    };
    w.scas.update(sca.id, done, "U2".into()).await.unwrap();
    w.run().await;
    w.repo.enqueue(&[sweep(today + Duration::days(1))]).await.unwrap();
    Relay::new(w.repo.clone(), Arc::new(w.queue.clone()))
        .run()
        .await
        .unwrap();
    w.run().await;
    assert!(w.pending().await.is_empty());
}

/// U2 lives in Tokyo (UTC+9); everyone else is unknown.
struct Tokyo;

#[async_trait]
impl TimeZones for Tokyo {
    async fn offset_of(&self, person: &sev::domain::Actor) -> Option<FixedOffset> {
        (*person == "U2").then(|| FixedOffset::east_opt(9 * 3600).unwrap())
    }
}

#[tokio::test]
async fn quiet_hours_are_the_owners_own() {
    // Due Monday 16 November 14:00 UTC: the afternoon in UTC, 23:00 in Tokyo.
    let due_of =
        |pending: Vec<(String, DateTime<Utc>)>| pending.into_iter().find(|(n, _)| n == "sca-1-due").map(|(_, t)| t);
    let utc = world().await;
    let sca = utc.sca_due_in(14).await;
    let move_due = |w: &World| {
        let patch = ScaPatch {
            due: Some(Some(ts(day(16, 14)))),
            ..ScaPatch::default()
        };
        let scas = w.scas.clone();
        async move { scas.update(sca.id, patch, "U2".into()).await.unwrap() }
    };
    move_due(&utc).await;
    utc.run().await;
    assert_eq!(due_of(utc.pending().await), Some(day(16, 14)));

    let tokyo = world_in(Some(Arc::new(Tokyo))).await;
    tokyo.sca_due_in(14).await;
    move_due(&tokyo).await;
    tokyo.run().await;
    assert_eq!(
        due_of(tokyo.pending().await),
        Some(day(16, 23)),
        "08:00 the next morning in Tokyo is 23:00 UTC"
    );
}

#[tokio::test]
async fn a_report_is_asked_for_an_owner_daily_then_nagged_weekly_until_complete() {
    let w = world().await;
    w.sca_due_in(30).await;
    let sev = sev::domain::SevId(1);
    let reports = w.inbox.1.lock().unwrap().clone();
    assert!(reports.is_empty());
    // Mitigated Monday 2nd 09:00, nobody owns the report: asked for one Tuesday 09:00, then daily.
    w.sevs
        .set_status(sev, Status::Mitigated, None, "U1".into())
        .await
        .unwrap();
    w.run().await;
    w.at(day(3, 9)).await;
    w.at(day(4, 9)).await;
    let asked: Vec<_> = w.inbox.1.lock().unwrap().iter().map(|(_, s, at)| (*s, *at)).collect();
    assert_eq!(
        asked,
        [(ReportNagStep::Owner, day(3, 9)), (ReportNagStep::Owner, day(4, 9))]
    );

    // An owner stops those; resolving on Wednesday 4th makes it due Wednesday 11th.
    let owner = SevPatch {
        report_owner: Some(Some("U2".into())),
        ..SevPatch::default()
    };
    w.sevs.patch(sev, owner, "U1".into()).await.unwrap();
    w.clock.set(day(4, 10));
    w.sevs
        .set_status(sev, Status::Resolved, None, "U1".into())
        .await
        .unwrap();
    w.run().await;
    let names: Vec<String> = w
        .pending()
        .await
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("report-"))
        .collect();
    assert_eq!(names, ["report-1-overdue"]);
    w.at(day(11, 11)).await;
    w.at(day(18, 11)).await;
    let overdue: Vec<_> = w
        .inbox
        .1
        .lock()
        .unwrap()
        .iter()
        .skip(2)
        .map(|(_, s, at)| (*s, *at))
        .collect();
    assert_eq!(
        overdue,
        [
            (ReportNagStep::Overdue, day(11, 10)),
            (ReportNagStep::Overdue, day(18, 10))
        ]
    );

    // A complete report owes nothing: its schedule is deleted.
    let reports = w.reports();
    let draft = reports.draft(sev, "U2".into()).await.unwrap();
    let text: String = draft
        .report
        .markdown
        .lines()
        .filter(|l| !l.starts_with("> **TO BE WRITTEN**"))
        .collect::<Vec<_>>()
        .join("\n");
    reports
        .edit(sev, &text, Some(draft.version), "U2".into())
        .await
        .unwrap();
    reports.complete(sev, "U2".into()).await.unwrap();
    w.run().await;
    assert!(w.pending().await.iter().all(|(n, _)| !n.starts_with("report-")));
}

#[tokio::test]
async fn a_snooze_counts_from_the_due_date_or_from_now_if_that_has_passed() {
    let w = world().await;
    let sca = w.sca_due_in(10).await;
    let later = w.scas.snooze(sca.id, 7, "U2".into()).await.unwrap();
    assert_eq!(later.due, Some(monday() + Duration::days(17)), "from the due date");
    w.clock.set(monday() + Duration::days(30));
    let overdue = w.scas.snooze(sca.id, 1, "U2".into()).await.unwrap();
    assert_eq!(overdue.due, Some(monday() + Duration::days(31)), "from today");
    w.clock.set(Utc.with_ymd_and_hms(2200, 12, 31, 0, 0, 0).unwrap());
    let refused = w.scas.snooze(sca.id, 7, "U2".into()).await.unwrap_err().to_string();
    assert!(refused.starts_with("due: "), "past the last year allowed: {refused}");
}
