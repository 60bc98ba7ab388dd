//! The alert service on both backends: one SEV per group however deliveries race, repeats
//! collapsed into a counter, resolving, taking over, and a new SEV once the old one ends.

use crate::common;

use std::sync::Arc;

use common::{Backend, CountingStore, RecordingQueue};
use serde_json::Value;
use sev::alerts::AlertPage;
use sev::alerts::{AlertmanagerPayload, Notification, Rules};
use sev::app::{AlertAction, AlertService, PagingService, SevService};
use sev::clock::SystemClock;
use sev::domain::PageReason;
use sev::domain::{EntryKind, Level, SevId, SevPatch, Status};
use sev::paging::Catalog;
use sev::queue::Relay;
use sev::store::SevRepo;

struct Fixture {
    alerts: AlertService,
    sevs: SevService,
    paging: Option<PagingService>,
    counting: Arc<CountingStore>,
    _backend: Backend,
}

fn fixture(backend: Backend, rules: Rules) -> Fixture {
    fixture_with(backend, rules, None)
}

/// With a team catalog: opening a SEV from a paging rule pages its owner.
fn fixture_with(backend: Backend, rules: Rules, catalog: Option<&str>) -> Fixture {
    let counting = CountingStore::wrap(backend.store.clone());
    let repo = SevRepo::new(counting.clone());
    let relay = Relay::new(repo.clone(), Arc::new(RecordingQueue::default()));
    let sevs = SevService::new(repo.clone(), relay.clone(), Arc::new(SystemClock));
    let paging = catalog.map(|text| {
        let catalog = Arc::new(Catalog::parse(text).unwrap());
        PagingService::new(repo.clone(), relay, Arc::new(SystemClock), catalog, None)
    });
    let alerts = AlertService::new(
        sevs.clone(),
        repo,
        Arc::new(rules),
        Arc::new(SystemClock),
        paging.clone(),
    );
    Fixture {
        alerts,
        sevs,
        paging,
        counting,
        _backend: backend,
    }
}

fn recorded(name: &str) -> Value {
    let path = format!("{}/../../shared/vendor/alertmanager/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn notification(v: Value) -> Notification {
    serde_json::from_value::<AlertmanagerPayload>(v)
        .unwrap()
        .into_notification()
        .unwrap()
}

fn firing() -> Notification {
    notification(recorded("alertmanager-firing.json"))
}

fn resolved() -> Notification {
    notification(recorded("alertmanager-resolved.json"))
}

fn mitigating_rules() -> Rules {
    Rules::parse("[[rule]]\nmatch = ['severity=\"critical\"']\nlevel = \"SEV2\"\nmitigate_on_resolve = true\n").unwrap()
}

async fn updates(f: &Fixture, id: SevId) -> Vec<String> {
    f.sevs
        .get(id)
        .await
        .unwrap()
        .timeline
        .into_iter()
        .filter_map(|e| match e.kind {
            EntryKind::Update { text } => Some(text),
            _ => None,
        })
        .collect()
}

async fn concurrent_deliveries_open_one_sev(b: Backend) {
    let f = fixture(b, Rules::defaults());
    let n = firing();
    let runs: Vec<_> = (0..10)
        .map(|_| {
            let (alerts, n) = (f.alerts.clone(), n.clone());
            tokio::spawn(async move { alerts.receive(&n).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for r in runs {
        outcomes.push(r.await.unwrap().unwrap());
    }
    let sevs: std::collections::BTreeSet<_> = outcomes.iter().map(|o| o.sev).collect();
    assert_eq!(sevs.len(), 1, "{outcomes:?}");
    let id = outcomes[0].sev.unwrap();
    let opened = outcomes.iter().filter(|o| o.action == AlertAction::Opened).count();
    assert!(opened >= 1, "{outcomes:?}");
    let all = f.sevs.list(&Default::default()).await.unwrap();
    assert_eq!(all.len(), 1);
    let sev = &all[0];
    assert_eq!((sev.level, sev.reporter.as_str()), (Level::Sev2, "alert:alertmanager"));
    assert_eq!(sev.title, "HighErrorRate: 5xx rate above 5%");
    assert!(sev.tags.iter().any(|t| t.as_str() == "team/checkout"), "{:?}", sev.tags);
    let notes = updates(&f, id).await;
    assert_eq!(notes.len(), 1, "one opening note however many raced: {notes:?}");
    assert!(notes[0].contains("Runbook: https://runbooks.example.com/checkout"));
    let (origin, group) = f.alerts.origin(id).await.unwrap().unwrap();
    assert_eq!(
        origin.runbook_url.as_deref(),
        Some("https://runbooks.example.com/checkout")
    );
    assert_eq!(group.unwrap().deliveries, 10, "every delivery is counted once");
}

async fn a_duplicate_costs_one_store_write(b: Backend) {
    let f = fixture(b, Rules::defaults());
    let n = firing();
    f.alerts.receive(&n).await.unwrap();
    let before = f.counting.writes();
    const REPEATS: u32 = 50;
    for _ in 0..REPEATS {
        let o = f.alerts.receive(&n).await.unwrap();
        assert_eq!(o.action, AlertAction::Counted);
    }
    let per_duplicate = f64::from(f.counting.writes() - before) / f64::from(REPEATS);
    println!("store writes per duplicate alert delivery: {per_duplicate}");
    assert_eq!(per_duplicate, 1.0);
    let id = f.alerts.receive(&n).await.unwrap().sev.unwrap();
    assert_eq!(
        updates(&f, id).await.len(),
        1,
        "repeats never reach the timeline on their own"
    );
}

async fn new_alerts_in_the_group_are_listed(b: Backend) {
    let f = fixture(b, Rules::defaults());
    let id = f.alerts.receive(&firing()).await.unwrap().sev.unwrap();
    f.alerts.receive(&firing()).await.unwrap();
    let mut v = recorded("alertmanager-firing.json");
    let mut second = v["alerts"][0].clone();
    second["fingerprint"] = "second".into();
    second["labels"]["instance"] = "web-2".into();
    v["alerts"].as_array_mut().unwrap().push(second);
    let o = f.alerts.receive(&notification(v)).await.unwrap();
    assert_eq!(o.action, AlertAction::Updated);
    let notes = updates(&f, id).await;
    assert!(notes[1].starts_with("1 new alert in the group:"), "{notes:?}");
    assert!(notes[1].contains("instance=\"web-2\""), "{notes:?}");
    assert!(notes[1].contains("Still firing: 1 more time"), "{notes:?}");
}

async fn resolving_posts_an_update_and_mitigates_when_configured(b: Backend) {
    let f = fixture(b, mitigating_rules());
    let id = f.alerts.receive(&firing()).await.unwrap().sev.unwrap();
    let o = f.alerts.receive(&resolved()).await.unwrap();
    assert_eq!((o.action, o.mitigated), (AlertAction::Resolved, true));
    let detail = f.sevs.get(id).await.unwrap();
    assert_eq!(detail.sev.status, Status::Mitigated);
    let notes = updates(&f, id).await;
    assert!(
        notes
            .last()
            .unwrap()
            .starts_with("All alerts resolved at 2026-11-21 09:09:49 UTC"),
        "{notes:?}"
    );
    let again = f.alerts.receive(&resolved()).await.unwrap();
    assert_eq!(again.action, AlertAction::Counted, "a re-sent resolve adds nothing");
    // Firing again reopens a SEV that only the alerts mitigated.
    f.alerts.receive(&firing()).await.unwrap();
    assert_eq!(f.sevs.get(id).await.unwrap().sev.status, Status::Open);
}

async fn a_sev_a_person_took_over_is_not_mitigated_and_says_why(b: Backend) {
    let f = fixture(b, mitigating_rules());
    let id = f.alerts.receive(&firing()).await.unwrap().sev.unwrap();
    f.sevs
        .patch(
            id,
            SevPatch {
                level: Some(Level::Sev1),
                ..SevPatch::default()
            },
            "alice".into(),
        )
        .await
        .unwrap();
    let o = f.alerts.receive(&resolved()).await.unwrap();
    assert_eq!((o.action, o.mitigated), (AlertAction::Resolved, false));
    assert_eq!(f.sevs.get(id).await.unwrap().sev.status, Status::Open);
    let notes = updates(&f, id).await;
    assert!(
        notes
            .last()
            .unwrap()
            .contains("Not marking the SEV mitigated: alice set the level to SEV1."),
        "{notes:?}"
    );
}

async fn after_the_sev_ends_the_group_opens_a_new_one(b: Backend) {
    let f = fixture(b, Rules::defaults());
    let first = f.alerts.receive(&firing()).await.unwrap().sev.unwrap();
    f.sevs
        .set_status(first, Status::Resolved, Some("fixed".into()), "alice".into())
        .await
        .unwrap();
    let o = f.alerts.receive(&firing()).await.unwrap();
    assert_eq!(o.action, AlertAction::Opened);
    let second = o.sev.unwrap();
    assert_ne!(first, second);
    assert_eq!(f.alerts.receive(&firing()).await.unwrap().sev, Some(second));
    let (origin, group) = f.alerts.origin(first).await.unwrap().unwrap();
    assert_eq!(origin.generation, 1);
    assert!(group.is_none(), "the group's counters now belong to {second}");
}

async fn alerts_no_rule_opens_are_recorded_only(b: Backend) {
    let f = fixture(b, Rules::defaults());
    let mut v = recorded("alertmanager-firing.json");
    v["alerts"][0]["labels"]["severity"] = "warning".into();
    let o = f.alerts.receive(&notification(v.clone())).await.unwrap();
    assert_eq!((o.action, o.sev), (AlertAction::Recorded, None));
    let o = f.alerts.receive(&resolved()).await.unwrap();
    assert_eq!(
        (o.action, o.sev),
        (AlertAction::Recorded, None),
        "resolving never opens"
    );
    assert!(f.sevs.list(&Default::default()).await.unwrap().is_empty());
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::common::embedded()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::common::dynamodb().await).await;
                }
            )*
        }
    };
}

contract!(
    concurrent_deliveries_open_one_sev,
    a_duplicate_costs_one_store_write,
    new_alerts_in_the_group_are_listed,
    resolving_posts_an_update_and_mitigates_when_configured,
    a_sev_a_person_took_over_is_not_mitigated_and_says_why,
    after_the_sev_ends_the_group_opens_a_new_one,
    alerts_no_rule_opens_are_recorded_only,
);

const CATALOG: &str = r#"
[[team]]
name = "atc"
rotation = "coordinator"
[team.pagerduty]
routing_key = "R-ATC"
schedule = "PATC"

[[team]]
name = "payments"
aliases = ["pay"]
services = ["checkout", "ledger"]
[team.pagerduty]
routing_key = "R-PAY"
schedule = "PPAY"
"#;

/// The recorded firing payload, with these labels changed on its alert.
fn firing_with(labels: &[(&str, &str)]) -> Notification {
    let mut v = recorded("alertmanager-firing.json");
    for (k, value) in labels {
        v["alerts"][0]["labels"][*k] = (*value).into();
    }
    // Each label set is its own group.
    v["groupKey"] = format!("{{}}:{labels:?}").into();
    notification(v)
}

async fn paged(f: &Fixture, sev: SevId) -> Vec<(String, PageReason)> {
    let pages = f.paging.as_ref().unwrap().pages(sev).await.unwrap();
    pages.into_iter().map(|p| (p.team, p.reason)).collect()
}

#[tokio::test]
async fn a_paging_alert_pages_the_team_that_owns_it_once() {
    let f = fixture_with(common::embedded(), Rules::defaults(), Some(CATALOG));
    // The built-in rule pages `severity="page"`; the service label names the owner.
    let n = firing_with(&[("severity", "page"), ("service", "ledger")]);
    let opened = f.alerts.receive(&n).await.unwrap();
    assert_eq!(opened.action, AlertAction::Opened);
    let sev = opened.sev.unwrap();
    assert_eq!(paged(&f, sev).await, [("payments".to_owned(), PageReason::Alert)]);
    for _ in 0..3 {
        assert_eq!(f.alerts.receive(&n).await.unwrap().action, AlertAction::Counted);
    }
    assert_eq!(paged(&f, sev).await.len(), 1, "repeats never page again");
    let (origin, _) = f.alerts.origin(sev).await.unwrap().unwrap();
    assert_eq!(
        origin.page,
        Some(AlertPage::Paged {
            team: "payments".into()
        })
    );

    // A team label (an alias here) wins over the service.
    let n = firing_with(&[
        ("severity", "page"),
        ("team", "pay"),
        ("service", "nosuch"),
        ("alertname", "Other"),
    ]);
    let sev = f.alerts.receive(&n).await.unwrap().sev.unwrap();
    assert_eq!(paged(&f, sev).await, [("payments".to_owned(), PageReason::Alert)]);
}

#[tokio::test]
async fn an_owner_the_catalog_does_not_know_is_named_on_the_origin_and_nobody_is_paged() {
    let f = fixture_with(common::embedded(), Rules::defaults(), Some(CATALOG));
    for (labels, why) in [
        (vec![("severity", "page"), ("service", "billing")], "service `billing`"),
        (
            vec![("severity", "page"), ("team", "paymnts"), ("alertname", "B")],
            "team `paymnts`",
        ),
        (
            vec![("severity", "page"), ("service", ""), ("alertname", "C")],
            "names no owner",
        ),
    ] {
        let sev = f.alerts.receive(&firing_with(&labels)).await.unwrap().sev.unwrap();
        assert!(paged(&f, sev).await.is_empty());
        let (origin, _) = f.alerts.origin(sev).await.unwrap().unwrap();
        match origin.page {
            Some(AlertPage::NotPaged { reason }) => assert!(reason.contains(why), "{reason}"),
            other => panic!("expected NotPaged naming {why}, got {other:?}"),
        }
    }
    // A rule that does not page leaves the origin without a page at all.
    let sev = f.alerts.receive(&firing()).await.unwrap().sev.unwrap();
    assert!(paged(&f, sev).await.is_empty());
    assert_eq!(f.alerts.origin(sev).await.unwrap().unwrap().0.page, None);

    // Without a catalog, the origin says so.
    let f = fixture(common::embedded(), Rules::defaults());
    let sev = f
        .alerts
        .receive(&firing_with(&[("severity", "page")]))
        .await
        .unwrap()
        .sev
        .unwrap();
    let page = f.alerts.origin(sev).await.unwrap().unwrap().0.page;
    assert!(
        matches!(&page, Some(AlertPage::NotPaged { reason }) if reason.contains("SEVTOOL_TEAMS")),
        "{page:?}"
    );
}
