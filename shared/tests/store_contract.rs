//! One contract, two backends: every test here runs unchanged on the embedded store (SQLite) and
//! on DynamoDB (through the AWS SDK against a moto server).

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{Backend, RecordingQueue};
use sev::alerts::{AlertGroup, GenericPayload, Notification, Rules, Source, group_id, planned};
use sev::app::{AppError, FileRequest, ListFilter, NewSca, ScaService, SevService};
use sev::clock::SystemClock;
use sev::domain::{
    DuePolicy, EntryKind, Level, NewSev, Priority, ScaId, ScaPatch, ScaSource, ScaState, ScaStateName, SevId, Status,
    Timestamp,
};
use sev::queue::{Relay, Task, TaskEnvelope};
use sev::store::{Claim, Condition, Index, Item, Key, Query, RepoError, SevRepo, SortKey, StoreError, Write};

fn item(pk: &str, sk: &str, data: &str) -> Item {
    Item::new(Key::new(pk, sk), data.to_owned())
}

fn service(backend: &Backend) -> (SevService, SevRepo, Arc<RecordingQueue>) {
    let repo = SevRepo::new(backend.store.clone());
    let queue = Arc::new(RecordingQueue::default());
    let relay = Relay::new(repo.clone(), queue.clone());
    (SevService::new(repo.clone(), relay, Arc::new(SystemClock)), repo, queue)
}

fn file_req(title: &str, key: Option<&str>) -> FileRequest {
    FileRequest {
        new: NewSev {
            title: title.into(),
            level: Some(Level::Sev1),
            ..NewSev::default()
        },
        reporter: "U1".into(),
        idempotency_key: key.map(str::to_owned),
    }
}

async fn put_get_round_trips_every_attribute(b: Backend) {
    let s = &b.store;
    let mut it = item("P", "S", r#"{"x":"ünïcode ✓"}"#);
    it.gsi1 = Some(Key::new("G1", "a"));
    it.gsi2 = Some(Key::new("G2", "b"));
    it.version = 7;
    it.expires_at = Some(Utc::now().timestamp() + 3600);
    s.put(it.clone(), Condition::Always).await.unwrap();
    assert_eq!(s.get(&it.key).await.unwrap(), Some(it));
    assert_eq!(s.get(&Key::new("P", "other")).await.unwrap(), None);
}

async fn conditions_guard_puts_and_deletes(b: Backend) {
    let s = &b.store;
    let it = item("P", "S", "1");
    s.put(it.clone(), Condition::NotExists).await.unwrap();
    assert!(matches!(
        s.put(it.clone(), Condition::NotExists).await,
        Err(StoreError::ConditionFailed)
    ));
    assert!(matches!(
        s.put(it.clone(), Condition::Version(2)).await,
        Err(StoreError::ConditionFailed)
    ));
    let mut v2 = item("P", "S", "2");
    v2.version = 2;
    s.put(v2.clone(), Condition::Version(1)).await.unwrap();
    assert_eq!(s.get(&it.key).await.unwrap().unwrap().data, "2");
    assert!(matches!(
        s.delete(&it.key, Condition::Version(1)).await,
        Err(StoreError::ConditionFailed)
    ));
    s.delete(&it.key, Condition::Version(2)).await.unwrap();
    assert_eq!(s.get(&it.key).await.unwrap(), None);
    assert!(
        matches!(s.put(v2, Condition::Version(2)).await, Err(StoreError::ConditionFailed)),
        "a missing item has no version"
    );
}

async fn expired_items_count_as_absent(b: Backend) {
    let s = &b.store;
    let mut old = item("P", "S", "old");
    old.expires_at = Some(Utc::now().timestamp() - 10);
    old.gsi1 = Some(Key::new("G", "x"));
    s.put(old.clone(), Condition::Always).await.unwrap();
    assert_eq!(s.get(&old.key).await.unwrap(), None);
    assert!(
        s.query(&Query::new(Index::Primary, "P", SortKey::Any))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.query(&Query::new(Index::Gsi1, "G", SortKey::Any))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.put(old.clone(), Condition::Version(1)).await,
        Err(StoreError::ConditionFailed)
    ));
    s.put(item("P", "S", "new"), Condition::NotExists).await.unwrap();
    assert_eq!(s.get(&old.key).await.unwrap().unwrap().data, "new");
}

async fn transactions_are_all_or_nothing(b: Backend) {
    let s = &b.store;
    s.put(item("T", "taken", "x"), Condition::Always).await.unwrap();
    let writes = vec![
        Write::Put(item("T", "a", "a"), Condition::NotExists),
        Write::Put(item("T", "taken", "y"), Condition::NotExists),
        Write::Delete(Key::new("T", "missing"), Condition::Version(1)),
    ];
    match s.transact(writes).await {
        Err(StoreError::TransactionCancelled { failed }) => assert_eq!(failed, [1, 2]),
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(
        s.get(&Key::new("T", "a")).await.unwrap(),
        None,
        "nothing of a cancelled transaction is written"
    );
    assert_eq!(s.get(&Key::new("T", "taken")).await.unwrap().unwrap().data, "x");
    s.transact(vec![
        Write::Put(item("T", "a", "a"), Condition::NotExists),
        Write::Delete(Key::new("T", "taken"), Condition::Version(1)),
    ])
    .await
    .unwrap();
    assert!(s.get(&Key::new("T", "a")).await.unwrap().is_some());
    assert!(s.get(&Key::new("T", "taken")).await.unwrap().is_none());
}

async fn queries_select_order_and_limit_by_sort_key(b: Backend) {
    let s = &b.store;
    for sk in ["A#1", "A#2", "A#3", "B#1", "AB"] {
        let mut it = item("Q", sk, sk);
        if sk != "AB" {
            it.gsi2 = Some(Key::new("IDX", format!("2026-0{}", &sk[2..])));
        }
        s.put(it, Condition::Always).await.unwrap();
    }
    s.put(item("Q2", "A#9", "other partition"), Condition::Always)
        .await
        .unwrap();
    let sks = |items: Vec<Item>| items.into_iter().map(|i| i.key.sk).collect::<Vec<_>>();
    let q = |sk| Query::new(Index::Primary, "Q", sk);
    assert_eq!(
        sks(s.query(&q(SortKey::Prefix("A#".into()))).await.unwrap()),
        ["A#1", "A#2", "A#3"]
    );
    assert_eq!(
        sks(s.query(&q(SortKey::Between("A#2".into(), "AB".into()))).await.unwrap()),
        ["A#2", "A#3", "AB"]
    );
    let mut desc = q(SortKey::Any);
    desc.descending = true;
    desc.limit = Some(2);
    assert_eq!(sks(s.query(&desc).await.unwrap()), ["B#1", "AB"]);
    let by_index = s
        .query(&Query::new(Index::Gsi2, "IDX", SortKey::Prefix("2026-01".into())))
        .await
        .unwrap();
    assert_eq!(sks(by_index), ["A#1", "B#1"], "sparse index: AB is not in it");
}

async fn concurrent_updates_to_one_sev_all_land(b: Backend) {
    let (svc, _, _) = service(&b);
    let (sev, _) = svc.file(file_req("Checkout 5xx", None)).await.unwrap();
    let tasks = (0..20).map(|i| {
        let svc = svc.clone();
        tokio::spawn(async move {
            svc.post_update(sev.id, &format!("update {i}"), format!("U{i}").into())
                .await
        })
    });
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let detail = svc.get(sev.id).await.unwrap();
    let texts: BTreeSet<String> = detail
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Update { text } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, (0..20).map(|i| format!("update {i}")).collect::<BTreeSet<_>>());
    assert_eq!(detail.timeline.len(), 21, "filed + 20 updates");
}

async fn concurrent_changes_of_different_fields_are_not_lost(b: Backend) {
    let (svc, repo, _) = service(&b);
    let (sev, _) = svc.file(file_req("Ledger lag", None)).await.unwrap();
    let level = {
        let svc = svc.clone();
        tokio::spawn(async move { svc.change_level(sev.id, Level::Sev0, "U2".into()).await })
    };
    let status = {
        let svc = svc.clone();
        tokio::spawn(async move { svc.set_status(sev.id, Status::Mitigated, None, "U3".into()).await })
    };
    level.await.unwrap().unwrap();
    status.await.unwrap().unwrap();
    let stored = repo.load(sev.id).await.unwrap();
    assert_eq!((stored.sev.level, stored.sev.status), (Level::Sev0, Status::Mitigated));
    assert_eq!(stored.version, 3);
}

async fn one_idempotency_key_files_one_sev(b: Backend) {
    let (svc, _, queue) = service(&b);
    let runs = (0..2).map(|_| {
        let svc = svc.clone();
        tokio::spawn(async move { svc.file(file_req("DNS down", Some("key-1"))).await })
    });
    let mut results = Vec::new();
    for r in runs {
        results.push(r.await.unwrap().unwrap());
    }
    assert_eq!(results[0].0.id, results[1].0.id);
    assert_eq!(
        results.iter().filter(|(_, new)| *new).count(),
        1,
        "exactly one call created it"
    );
    assert_eq!(svc.list(&ListFilter::default()).await.unwrap().len(), 1);
    assert_eq!(queue.keys().iter().filter(|k| k.starts_with("sev-filed")).count(), 1);
    let err = svc.file(file_req("Something else", Some("key-1"))).await.unwrap_err();
    assert!(matches!(err, AppError::IdempotencyMismatch), "{err:?}");
}

async fn numbers_are_sequential_without_gaps(b: Backend) {
    let (svc, _, _) = service(&b);
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let svc = svc.clone();
            tokio::spawn(async move { svc.file(file_req(&format!("sev {i}"), None)).await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for r in runs {
        ids.insert(r.await.unwrap().unwrap().0.id.0);
    }
    assert_eq!(ids, (1..=8).collect());
}

async fn illegal_moves_change_nothing(b: Backend) {
    let (svc, repo, _) = service(&b);
    let (sev, _) = svc.file(file_req("x", None)).await.unwrap();
    let err = svc
        .set_status(sev.id, Status::Closed, None, "U1".into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("resolve it first"), "{err}");
    assert_eq!(repo.load(sev.id).await.unwrap().version, 1);
    assert!(matches!(
        svc.post_update(SevId(999), "x", "U1".into()).await,
        Err(AppError::NotFound(SevId(999)))
    ));
}

async fn lists_come_from_the_active_and_month_indexes(b: Backend) {
    let (svc, _, _) = service(&b);
    let mut july = file_req("July outage", None);
    july.new.started_at = Some(ts(Utc.with_ymd_and_hms(2026, 7, 14, 9, 0, 0).unwrap()));
    let (old, _) = svc.file(july).await.unwrap();
    let (recent, _) = svc.file(file_req("recent", None)).await.unwrap();
    svc.set_status(recent.id, Status::Resolved, Some("false alarm".into()), "U1".into())
        .await
        .unwrap();

    let all = svc.list(&ListFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        [old.id, recent.id],
        "active first, then recent"
    );
    let open = svc
        .list(&ListFilter {
            statuses: vec![Status::Open],
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(open.iter().map(|s| s.id).collect::<Vec<_>>(), [old.id]);
    let in_july = ListFilter {
        since: Some(ts(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap())),
        until: Some(ts(Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap())),
        ..ListFilter::default()
    };
    assert_eq!(
        svc.list(&in_july)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        [old.id]
    );
    let before = ListFilter {
        until: Some(ts(Utc.with_ymd_and_hms(2026, 7, 14, 9, 0, 0).unwrap())),
        ..ListFilter::default()
    };
    assert!(svc.list(&before).await.unwrap().is_empty(), "until is exclusive");
}

async fn changes_and_their_tasks_are_written_together(b: Backend) {
    let (svc, repo, queue) = service(&b);
    let (sev, _) = svc.file(file_req("x", None)).await.unwrap();
    svc.post_update(sev.id, "rolled back", "U1".into()).await.unwrap();
    assert!(
        repo.outbox(10).await.unwrap().is_empty(),
        "the relay emptied the outbox"
    );
    let keys = queue.keys();
    assert_eq!(keys.len(), 3, "{keys:?}");
    let (filing, change) = keys.split_at(2);
    let filing: BTreeSet<&str> = filing.iter().map(String::as_str).collect();
    let expected = [format!("sev-filed:{}", sev.id), format!("auto-page:{}", sev.id)];
    assert_eq!(
        filing,
        expected.iter().map(String::as_str).collect(),
        "filing queues Slack's and the pager's tasks"
    );
    assert!(change[0].starts_with(&format!("entry:{}:", sev.id)));
}

async fn task_claims_make_handling_exactly_once(b: Backend) {
    let repo = SevRepo::new(b.store.clone());
    let lease = Duration::minutes(2);
    let key = |n| TaskEnvelope::new(Task::SevFiled { sev: SevId(n) }, Utc::now()).key;
    let (t1, t2) = (key(1), key(2));
    assert_eq!(repo.claim_task(&t1, lease).await.unwrap(), Claim::Claimed);
    assert_eq!(repo.claim_task(&t1, lease).await.unwrap(), Claim::Busy);
    repo.release_task(&t1).await.unwrap();
    assert_eq!(repo.claim_task(&t1, lease).await.unwrap(), Claim::Claimed);
    repo.finish_task(&t1).await.unwrap();
    assert_eq!(repo.claim_task(&t1, lease).await.unwrap(), Claim::AlreadyDone);
    assert_eq!(
        repo.claim_task(&t1, Duration::seconds(-1)).await.unwrap(),
        Claim::AlreadyDone
    );
    assert_eq!(
        repo.claim_task(&t2, Duration::seconds(-1)).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        repo.claim_task(&t2, lease).await.unwrap(),
        Claim::Claimed,
        "a lapsed claim can be taken over"
    );
}

fn sca_service(backend: &Backend) -> (SevService, ScaService) {
    let repo = SevRepo::new(backend.store.clone());
    let relay = Relay::new(repo.clone(), Arc::new(RecordingQueue::default()));
    let sevs = SevService::new(repo.clone(), relay.clone(), Arc::new(SystemClock));
    (
        sevs,
        ScaService::new(repo, relay, Arc::new(SystemClock), DuePolicy::default()),
    )
}

fn new_sca(text: &str, priority: Priority, owner: &str, due_in_days: Option<i64>) -> NewSca {
    NewSca {
        text: text.into(),
        priority,
        owner: Some(owner.into()),
        due: due_in_days.map(|d| ts(Utc::now() + Duration::days(d))),
        ticket: None,
        source: ScaSource::Api,
    }
}

async fn scas_are_numbered_listed_by_owner_and_found_when_overdue(b: Backend) {
    let (sevs, scas) = sca_service(&b);
    let (sev, _) = sevs.file(file_req("x", None)).await.unwrap();
    let runs: Vec<_> = (0..6)
        .map(|i| {
            let scas = scas.clone();
            tokio::spawn(async move {
                scas.create(
                    sev.id,
                    new_sca(&format!("fix {i}"), Priority::Should, "U1", Some(i + 1)),
                    "U9".into(),
                )
                .await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for r in runs {
        ids.insert(r.await.unwrap().unwrap().id.0);
    }
    assert_eq!(ids, (1..=6).collect(), "gapless numbers under concurrency");

    let undated = scas
        .create(sev.id, new_sca("someday", Priority::Could, "U1", None), "U9".into())
        .await
        .unwrap();
    assert_eq!(undated.due, None, "Could Do has no deadline by default");
    let must = scas
        .create(sev.id, new_sca("now", Priority::Must, "U2", None), "U9".into())
        .await
        .unwrap();
    assert!(must.due.is_some(), "Must Do gets the policy's deadline");

    let mine = scas.open_for("U1").await.unwrap();
    assert_eq!(mine.len(), 7);
    assert_eq!(mine.last().unwrap().id, undated.id, "undated SCAs come last");
    assert!(
        mine.windows(2).take(5).all(|w| w[0].due <= w[1].due),
        "soonest due first"
    );

    let first = mine[0].id;
    scas.update(
        first,
        ScaPatch {
            state: Some((ScaStateName::Done, None)),
            ..ScaPatch::default()
        },
        "U1".into(),
    )
    .await
    .unwrap();
    assert_eq!(
        scas.open_for("U1").await.unwrap().len(),
        6,
        "done SCAs leave the owner's open list"
    );
    assert!(scas.get(first).await.unwrap().state != ScaState::Open);

    let late = scas
        .create(sev.id, new_sca("late", Priority::Must, "U3", Some(1)), "U9".into())
        .await
        .unwrap();
    // Make it overdue: move its due date into the past through the service.
    scas.update(
        late.id,
        ScaPatch {
            due: Some(Some(ts(Utc::now() - Duration::hours(1)))),
            ..ScaPatch::default()
        },
        "U9".into(),
    )
    .await
    .unwrap();
    let overdue: Vec<_> = scas.overdue().await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(overdue, [late.id]);
    let detail = sevs.get(sev.id).await.unwrap();
    assert_eq!(detail.scas.len(), 9);
    assert!(
        detail
            .timeline
            .iter()
            .any(|e| matches!(&e.kind, EntryKind::Sca { sca, .. } if *sca == late.id))
    );
    assert!(matches!(
        scas.get(ScaId(999)).await,
        Err(AppError::NoSuchSca(ScaId(999)))
    ));
}

fn alert_group(now: chrono::DateTime<Utc>) -> (AlertGroup, Notification) {
    let payload = serde_json::json!({"fingerprint": "disk-db-1", "title": "Disk full",
        "labels": {"severity": "critical", "service": "ledger"}});
    let n = serde_json::from_value::<GenericPayload>(payload)
        .unwrap()
        .into_notification()
        .unwrap();
    (AlertGroup::new(&n, now), n)
}

async fn alert_groups_are_written_conditionally(b: Backend) {
    let repo = SevRepo::new(b.store.clone());
    let now = Utc::now();
    let (mut g, n) = alert_group(now);
    let id = group_id(Source::Generic, &n.group_key);
    assert!(repo.alert_group(Source::Generic, &id).await.unwrap().is_none());
    g.record(&n, now);
    assert_eq!(repo.save_alert_group(&id, &g, None).await.unwrap(), 1);
    assert!(
        matches!(repo.save_alert_group(&id, &g, None).await, Err(RepoError::Conflict)),
        "only one delivery creates a group"
    );
    let stored = repo.alert_group(Source::Generic, &id).await.unwrap().unwrap();
    assert_eq!((stored.group.clone(), stored.version), (g.clone(), 1));
    g.record(&n, now);
    assert_eq!(repo.save_alert_group(&id, &g, Some(1)).await.unwrap(), 2);
    assert!(
        matches!(repo.save_alert_group(&id, &g, Some(1)).await, Err(RepoError::Conflict)),
        "a stale writer loses"
    );
    assert_eq!(
        repo.alert_group(Source::Generic, &id)
            .await
            .unwrap()
            .unwrap()
            .group
            .deliveries,
        2
    );
    assert!(
        repo.alert_group(Source::Alertmanager, &id).await.unwrap().is_none(),
        "sources never share groups"
    );
}

async fn record_only_groups_expire_and_linked_ones_do_not(b: Backend) {
    let repo = SevRepo::new(b.store.clone());
    let long_ago = Utc::now() - Duration::days(31);
    let (mut g, n) = alert_group(long_ago);
    g.record(&n, long_ago);
    repo.save_alert_group("noise", &g, None).await.unwrap();
    assert!(repo.alert_group(Source::Generic, "noise").await.unwrap().is_none());
    g.sev = Some(SevId(4));
    repo.save_alert_group("linked", &g, None).await.unwrap();
    assert!(repo.alert_group(Source::Generic, "linked").await.unwrap().is_some());
}

async fn linking_writes_the_group_and_the_sev_origin_together(b: Backend) {
    let repo = SevRepo::new(b.store.clone());
    let now = Utc::now();
    let (mut g, n) = alert_group(now);
    let plan = Rules::defaults().decide(n.firing()).unwrap();
    g.claim(&n, &plan, planned(&n, &plan, now), now);
    let v = repo.save_alert_group("g1", &g, None).await.unwrap();
    let origin = g.origin("g1").unwrap();
    g.link(SevId(7));
    assert!(
        matches!(
            repo.link_alert_group("g1", &g, v + 5, SevId(7), &origin).await,
            Err(RepoError::Conflict)
        ),
        "a stale link writes nothing"
    );
    assert_eq!(repo.alert_origin(SevId(7)).await.unwrap(), None);
    assert_eq!(
        repo.link_alert_group("g1", &g, v, SevId(7), &origin).await.unwrap(),
        v + 1
    );
    let stored = repo.alert_group(Source::Generic, "g1").await.unwrap().unwrap();
    assert_eq!(
        (stored.group.sev, stored.group.pending.is_none()),
        (Some(SevId(7)), true)
    );
    let got = repo.alert_origin(SevId(7)).await.unwrap().unwrap();
    assert_eq!((got.group.as_str(), got.team.as_deref()), ("g1", Some("ledger")));
    assert_eq!(repo.alert_origin(SevId(8)).await.unwrap(), None);
    assert_eq!(
        repo.timeline(SevId(7)).await.unwrap(),
        [],
        "the origin is not a timeline entry"
    );
}

async fn pages_are_created_once_and_updated_optimistically(b: Backend) {
    use sev::domain::{Page, PageReason, PageState};
    use sev::queue::{Task, TaskEnvelope};
    let (sevs, repo, _) = service(&b);
    let (sev, _) = sevs.file(file_req("paged", None)).await.unwrap();
    let now = Utc::now();
    let page = |team: &str| {
        Page::new(
            sev.id,
            team,
            sev::domain::PagerKind::PagerDuty,
            PageReason::Manual,
            &"U1".into(),
            now,
        )
    };
    let task = |team: &str| {
        TaskEnvelope::new(
            Task::Page {
                sev: sev.id,
                team: team.into(),
            },
            now,
        )
    };
    assert!(
        repo.create_pages(sev.id, &[page("a"), page("b")], &[], &[task("a"), task("b")])
            .await
            .unwrap()
    );
    assert!(
        !repo
            .create_pages(sev.id, &[page("c"), page("a")], &[], &[task("c")])
            .await
            .unwrap(),
        "a team paged twice is refused, and the whole write with it"
    );
    assert!(repo.page(sev.id, "c").await.unwrap().is_none());
    let outbox: Vec<String> = repo
        .outbox(100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, t)| t.key.to_string())
        .collect();
    assert!(
        outbox.contains(&task("a").key.to_string()) && !outbox.contains(&task("c").key.to_string()),
        "{outbox:?}"
    );

    let (mut a, version) = repo.page(sev.id, "a").await.unwrap().unwrap();
    a.paged(Vec::new(), now);
    repo.save_page(sev.id, &a, version, &[], &[]).await.unwrap();
    assert!(
        matches!(
            repo.save_page(sev.id, &a, version, &[], &[]).await,
            Err(sev::store::RepoError::Conflict)
        ),
        "a stale version is a conflict"
    );
    let pages = repo.pages(sev.id).await.unwrap();
    let states: Vec<(String, PageState)> = pages.iter().map(|(p, _)| (p.team.clone(), p.state)).collect();
    assert_eq!(
        states,
        [("a".into(), PageState::Paged), ("b".into(), PageState::Queued)]
    );
    let detail = sevs.get(sev.id).await.unwrap();
    assert_eq!(detail.pages.len(), 2, "pages show on the SEV");
    assert!(
        detail
            .timeline
            .iter()
            .all(|e| !matches!(e.kind, EntryKind::Paged { .. }))
    );
}

async fn imports_store_each_row_once(b: Backend) {
    let repo = SevRepo::new(b.store.clone());
    let (svc, _, _) = service(&b);
    svc.file(file_req("live one", None)).await.unwrap();
    let at = Utc.with_ymd_and_hms(2024, 3, 5, 10, 0, 0).unwrap();
    let mut old = svc.list(&ListFilter::default()).await.unwrap().remove(0);
    old.started_at = at;
    old.detected_at = at;
    old.declared_at = at;
    old.id = SevId(900);
    let stored = repo.import(&old, "SEV-900@2024-03-05", &[]).await.unwrap();
    assert_eq!(stored, (SevId(2), true), "imported SEVs take the next number here");
    let again = repo.import(&old, "SEV-900@2024-03-05", &[]).await.unwrap();
    assert_eq!(again, (SevId(2), false), "the same key stores nothing twice");
    let mut expected = old.clone();
    expected.id = SevId(2);
    assert_eq!(repo.load(SevId(2)).await.unwrap().sev, expected);
    let march = repo
        .started_between(at - Duration::days(1), at + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(march, [expected], "imported SEVs are in the month index");
    let (third, new) = repo.import(&old, "another key", &[]).await.unwrap();
    assert_eq!((third, new), (SevId(3), true));
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
    put_get_round_trips_every_attribute,
    conditions_guard_puts_and_deletes,
    expired_items_count_as_absent,
    transactions_are_all_or_nothing,
    queries_select_order_and_limit_by_sort_key,
    concurrent_updates_to_one_sev_all_land,
    concurrent_changes_of_different_fields_are_not_lost,
    one_idempotency_key_files_one_sev,
    numbers_are_sequential_without_gaps,
    illegal_moves_change_nothing,
    lists_come_from_the_active_and_month_indexes,
    changes_and_their_tasks_are_written_together,
    task_claims_make_handling_exactly_once,
    scas_are_numbered_listed_by_owner_and_found_when_overdue,
    alert_groups_are_written_conditionally,
    record_only_groups_expire_and_linked_ones_do_not,
    linking_writes_the_group_and_the_sev_origin_together,
    pages_are_created_once_and_updated_optimistically,
    imports_store_each_row_once,
);

fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new("time", t).expect("a time in range")
}
