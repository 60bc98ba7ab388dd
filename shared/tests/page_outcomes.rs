//! How a page ends when the pager does not take it, and who filing pages, with a clock the test
//! moves: a pager that keeps failing is given up on after 3 minutes, one that refuses (4xx) at
//! once, each with its `page_failed` entry; SEV0 and SEV1 also page the call-leader and comms
//! rotations;
//! the teams that own a SEV are offered, not paged.

use crate::common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Duration;
use sev::app::{FileRequest, PagingService, SevService};
use sev::clock::{Clock, ManualClock};
use sev::domain::{EntryKind, Level, NewSev, PageState, SevId, Status};
use sev::paging::{Catalog, Incidents, OnCall, PageRequest, Pager, PagerError, PagerTarget, PagingIntegration};
use sev::queue::{Task, TaskEnvelope, TaskHandler};

const CATALOG: &str = r#"
[[team]]
name = "atc"
rotation = "coordinator"
[team.pagerduty]
routing_key = "R-ATC"
schedule = "PATC"

[[team]]
name = "leaders"
rotation = "call-leader"
services = ["search"]
[team.pagerduty]
routing_key = "R-LEAD"
schedule = "PLEAD"

[[team]]
name = "comms"
rotation = "comms"
[team.pagerduty]
routing_key = "R-COMMS"
schedule = "PCOMMS"

[[team]]
name = "payments"
product_tracks = ["checkout"]
services = ["ledger"]
[team.pagerduty]
routing_key = "R-PAY"
schedule = "PPAY"
"#;

/// A pager that answers each trigger with the next scripted result (then accepts), and
/// counts the triggers it was sent.
#[derive(Default)]
struct ScriptedPager {
    answers: Mutex<VecDeque<PagerError>>,
    triggers: Mutex<Vec<String>>,
}

#[async_trait]
impl Pager for ScriptedPager {
    async fn trigger(&self, _: &PagerTarget, page: &PageRequest) -> Result<(), PagerError> {
        self.triggers.lock().unwrap().push(page.team.clone());
        match self.answers.lock().unwrap().pop_front() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn resolve(&self, _: &PagerTarget, _: &str) -> Result<(), PagerError> {
        Ok(())
    }

    async fn on_call(&self, _: &PagerTarget) -> Result<Vec<OnCall>, PagerError> {
        Ok(Vec::new())
    }
}

#[async_trait]
impl Incidents for ScriptedPager {
    async fn dedup_key(&self, _: &str) -> Result<Option<String>, PagerError> {
        Ok(None)
    }
}

fn unavailable() -> PagerError {
    PagerError::from_status("PagerDuty", 503)
}

struct World {
    clock: Arc<ManualClock>,
    sevs: SevService,
    paging: PagingService,
    pager: Arc<ScriptedPager>,
    handler: PagingIntegration,
    _world: common::EmbeddedWorld,
}

async fn world() -> World {
    let world = common::embedded_world().await;
    let (repo, relay, sevs, clock) = (
        world.repo.clone(),
        world.relay.clone(),
        world.sevs.clone(),
        world.clock.clone(),
    );
    let catalog = Arc::new(Catalog::parse(CATALOG).unwrap());
    let paging = PagingService::new(repo.clone(), relay, clock.clone(), catalog, Some(Level::Sev2));
    let pager = Arc::new(ScriptedPager::default());
    let handler = PagingIntegration::new(paging.clone(), sevs.clone(), repo, pager.clone(), pager.clone());
    World {
        clock,
        sevs,
        paging,
        pager,
        handler,
        _world: world,
    }
}

impl World {
    async fn file(&self, level: Level) -> SevId {
        let new = NewSev {
            title: "Checkout returns 5xx".into(),
            level: Some(level),
            ..NewSev::default()
        };
        let req = FileRequest {
            new,
            reporter: "U1".into(),
            idempotency_key: None,
        };
        self.sevs.file(req).await.unwrap().0.id
    }

    /// Runs the filing's auto-page task, as the pager queue's consumer would.
    async fn auto_page(&self, sev: SevId) -> Vec<String> {
        let task = TaskEnvelope::new(Task::AutoPage { sev }, self.clock.now());
        self.handler.handle(&task).await.unwrap();
        let mut teams: Vec<String> = self
            .paging
            .pages(sev)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.team)
            .collect();
        teams.sort();
        teams
    }

    async fn state(&self, sev: SevId, team: &str) -> (PageState, Option<String>) {
        let page = self.paging.page_of(sev, team).await.unwrap().expect("a page");
        (page.state, page.error)
    }

    async fn failures(&self, sev: SevId) -> Vec<(String, String)> {
        let detail = self.sevs.get(sev).await.unwrap();
        detail
            .timeline
            .into_iter()
            .filter_map(|e| match e.kind {
                EntryKind::PageFailed { team, reason } => Some((team, reason)),
                _ => None,
            })
            .collect()
    }
}

#[tokio::test]
async fn filing_pages_the_coordinator_and_sev0_or_sev1_the_call_leaders_and_comms_too() {
    let w = world().await;
    for (level, expected) in [
        (Level::Sev0, vec!["atc", "comms", "leaders"]),
        (Level::Sev1, vec!["atc", "comms", "leaders"]),
        (Level::Sev2, vec!["atc"]),
        (Level::Sev3, vec![]),
    ] {
        let sev = w.file(level).await;
        assert_eq!(w.auto_page(sev).await, expected, "{level:?}");
    }
    // A private SEV is never published, so its comms on-call is not paged into it.
    let new = NewSev {
        title: "customer data exposed".into(),
        level: Some(Level::Sev1),
        private: true,
        ..NewSev::default()
    };
    let req = FileRequest {
        new,
        reporter: "U1".into(),
        idempotency_key: None,
    };
    let private = w.sevs.file(req).await.unwrap().0.id;
    assert_eq!(w.auto_page(private).await, ["atc", "leaders"]);
}

#[tokio::test]
async fn a_failing_pager_is_retried_for_three_minutes_then_the_page_is_recorded_failed() {
    let w = world().await;
    let sev = w.file(Level::Sev2).await;
    w.auto_page(sev).await;
    w.pager.answers.lock().unwrap().extend((0..10).map(|_| unavailable()));
    let task = TaskEnvelope::new(
        Task::Page {
            sev,
            team: "atc".into(),
        },
        w.clock.now(),
    );

    for after in [0, 60, 179] {
        w.clock.set(task.created_at + Duration::seconds(after));
        let retried = w.handler.handle(&task).await;
        assert!(retried.is_err(), "after {after} s the page goes back to the queue");
        let (state, error) = w.state(sev, "atc").await;
        assert_eq!(state, PageState::Queued, "after {after} s");
        assert!(error.is_some_and(|e| e.contains("503")), "the latest error shows");
    }
    assert!(w.failures(sev).await.is_empty(), "no page_failed while it is retried");

    w.clock.set(task.created_at + Duration::seconds(181));
    w.handler.handle(&task).await.expect("given up: the task is done");
    let (state, error) = w.state(sev, "atc").await;
    assert_eq!(state, PageState::Failed);
    assert!(error.is_some_and(|e| e.contains("503")));
    let failures = w.failures(sev).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].0, "atc");
    assert!(
        failures[0].1.contains("503"),
        "the entry names the reason: {failures:?}"
    );

    // Redelivered after it was given up on: nobody is paged and nothing is recorded twice.
    let sent = w.pager.triggers.lock().unwrap().len();
    w.handler.handle(&task).await.unwrap();
    assert_eq!(w.pager.triggers.lock().unwrap().len(), sent);
    assert_eq!(w.failures(sev).await.len(), 1);
}

#[tokio::test]
async fn a_refusal_fails_the_page_at_once() {
    let w = world().await;
    let sev = w.file(Level::Sev1).await;
    w.auto_page(sev).await;
    w.pager
        .answers
        .lock()
        .unwrap()
        .push_back(PagerError::from_status("PagerDuty", 400));
    let task = TaskEnvelope::new(
        Task::Page {
            sev,
            team: "leaders".into(),
        },
        w.clock.now(),
    );
    w.handler.handle(&task).await.expect("a refusal is not retried");
    assert_eq!(w.state(sev, "leaders").await.0, PageState::Failed);
    let failures = w.failures(sev).await;
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].1.contains("HTTP 400"), "{failures:?}");
    assert_eq!(w.pager.triggers.lock().unwrap().len(), 1, "tried once");

    // The other page of the same SEV is unaffected.
    let atc = TaskEnvelope::new(
        Task::Page {
            sev,
            team: "atc".into(),
        },
        w.clock.now(),
    );
    w.handler.handle(&atc).await.unwrap();
    assert_eq!(w.state(sev, "atc").await.0, PageState::Paged);
}

#[tokio::test]
async fn the_coordinator_and_comms_rotations_say_which_role_their_on_call_takes() {
    let w = world().await;
    let sev = w.file(Level::Sev1).await;
    w.auto_page(sev).await;
    for team in ["atc", "comms", "leaders"] {
        let task = TaskEnvelope::new(Task::Page { sev, team: team.into() }, w.clock.now());
        w.handler.handle(&task).await.unwrap();
    }
    let mut roles: Vec<(String, bool, bool)> = w
        .sevs
        .get(sev)
        .await
        .unwrap()
        .timeline
        .into_iter()
        .filter_map(|e| match e.kind {
            EntryKind::Paged {
                team,
                coordinator,
                comms_lead,
                ..
            } => Some((team, coordinator, comms_lead)),
            _ => None,
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [
            ("atc".into(), true, false),
            ("comms".into(), false, true),
            ("leaders".into(), false, false)
        ]
    );
}

#[tokio::test]
async fn the_teams_that_own_a_sev_are_offered_until_paged_and_only_while_it_is_active() {
    let w = world().await;
    let new = NewSev {
        title: "Checkout slow".into(),
        level: Some(Level::Sev3),
        product_track: Some("Checkout".into()),
        tags: vec![
            "system/ledger/db".parse().unwrap(),
            "system/search".parse().unwrap(),
            "customer/acme".parse().unwrap(),
        ],
        ..NewSev::default()
    };
    let req = FileRequest {
        new,
        reporter: "U1".into(),
        idempotency_key: None,
    };
    let sev = w.sevs.file(req).await.unwrap().0.id;
    let offered = |w: &World| {
        let (sevs, paging) = (w.sevs.clone(), w.paging.clone());
        async move {
            let detail = sevs.get(sev).await.unwrap();
            paging.suggested(&detail.sev, &detail.pages)
        }
    };
    assert_eq!(
        offered(&w).await,
        ["payments", "leaders"],
        "track, then systems; each once"
    );
    assert!(w.paging.pages(sev).await.unwrap().is_empty(), "offered, not paged");

    w.paging.page(sev, "payments", &"U1".into()).await.unwrap();
    assert_eq!(offered(&w).await, ["leaders"], "a paged team is not offered again");
    w.sevs
        .set_status(sev, Status::Resolved, Some("fixed".into()), "U1".into())
        .await
        .unwrap();
    assert!(offered(&w).await.is_empty(), "nothing is offered once it is over");
}
