//! Records written before sevtool's core values were typed (actors, changed fields, pager kinds,
//! task keys) still read, and write back as the same JSON (same fields, same values).
//!
//! `golden/records-before-typed-values.jsonl` is every item of a store that the `sevtool` of
//! commit 8ebdfcd wrote through its own API: a SEV filed by a Slack user with a coordinator, a
//! report owner and two SCAs set by a script, pages to three teams, its report drafted by
//! sevtool, and a SEV opened by Alertmanager (the recorded payload). Only TTLs were dropped, so
//! the items never expire under the test.

use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sev::alerts::{AlertGroup, Source};
use sev::domain::actor::ActorKind;
use sev::domain::{Actor, Entry, EntryKind, Page, PagerKind, Report, Sca, Sev, SevField, SevId};
use sev::queue::TaskEnvelope;
use sev::store::{Condition, Item, Key, SevRepo, SqliteStore, Store};

const RECORDS: &str = include_str!("golden/records-before-typed-values.jsonl");

#[derive(serde::Deserialize)]
struct Stored {
    pk: String,
    sk: String,
    gsi1: Option<(String, String)>,
    gsi2: Option<(String, String)>,
    version: u64,
    data: String,
}

fn records() -> Vec<Stored> {
    RECORDS
        .lines()
        .map(|line| serde_json::from_str(line).expect("a fixture line"))
        .collect()
}

async fn loaded() -> (SevRepo, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("old.db")).unwrap();
    for r in records() {
        let mut item = Item::new(Key::new(r.pk, r.sk), r.data);
        item.gsi1 = r.gsi1.map(|(pk, sk)| Key::new(pk, sk));
        item.gsi2 = r.gsi2.map(|(pk, sk)| Key::new(pk, sk));
        item.version = r.version;
        store.put(item, Condition::Always).await.unwrap();
    }
    (SevRepo::new(Arc::new(store)), dir)
}

/// Decodes `data` as `T` and encodes it again: the JSON must be the stored JSON.
fn same_again<T: DeserializeOwned + Serialize>(r: &Stored) -> usize {
    let value: T = serde_json::from_str(&r.data).unwrap_or_else(|e| panic!("{} {}: {e}", r.pk, r.sk));
    let stored: Value = serde_json::from_str(&r.data).unwrap();
    assert_eq!(serde_json::to_value(&value).unwrap(), stored, "{} {}", r.pk, r.sk);
    1
}

#[test]
fn every_stored_domain_value_writes_back_exactly_as_it_was() {
    let mut checked = 0;
    for r in records() {
        checked += match (r.pk.split('#').next(), r.sk.split('#').next()) {
            (Some("SEV"), Some("SEV")) => same_again::<Sev>(&r),
            (Some("SEV"), Some("TL")) => same_again::<Entry>(&r),
            (Some("SEV"), Some("SCA")) => same_again::<Sca>(&r),
            (Some("SEV"), Some("PAGE")) => same_again::<Page>(&r),
            (Some("SEV"), Some("REPORT")) => same_again::<Report>(&r),
            (Some("SCHEDULE"), _) => same_again::<TaskEnvelope>(&r),
            (Some("ALERTGROUP"), _) => same_again::<AlertGroup>(&r),
            _ => 0,
        };
    }
    // 2 SEVs, 11 timeline entries, 2 SCAs, 4 pages, 1 report, 4 scheduled nags, 1 alert group.
    assert_eq!(checked, 25);
}

#[tokio::test]
async fn old_records_read_into_the_typed_values() {
    let (repo, _dir) = loaded().await;
    let filed = repo.load(SevId(1)).await.unwrap().sev;
    assert_eq!(filed.reporter.kind(), ActorKind::Slack("U024BE7LH"));
    assert_eq!(filed.coordinator.as_ref().and_then(Actor::slack_user), Some("U0COORD"));
    assert_eq!(
        filed.report_owner.as_ref().map(Actor::kind),
        Some(ActorKind::Named("alice"))
    );

    let changed: Vec<(SevField, Actor)> = repo
        .timeline(SevId(1))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EntryKind::FieldChanged { field, .. } => Some((field, e.author)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changed,
        [
            (SevField::Description, Actor::from("ops-bot")),
            (SevField::Coordinator, Actor::from("ops-bot")),
            (SevField::ReportOwner, Actor::from("ops-bot")),
        ]
    );

    let pages = repo.pages(SevId(1)).await.unwrap();
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().all(|(p, _)| p.pager == PagerKind::PagerDuty));
    let by: Vec<&Actor> = pages.iter().map(|(p, _)| &p.requested_by).collect();
    assert!(by.contains(&&Actor::SEVTOOL) && by.contains(&&Actor::API), "{by:?}");

    let report = repo.report(SevId(1)).await.unwrap().expect("the drafted report");
    assert_eq!(report.report.owner, "alice");
    assert_eq!(
        repo.scas_of(SevId(1)).await.unwrap()[0].owner.slack_user(),
        Some("U0OWNER")
    );

    let opened = repo.load(SevId(2)).await.unwrap().sev;
    assert!(opened.reporter.is_alert());
    assert_eq!(opened.reporter, Source::Alertmanager.actor());
    let alert_entries = repo.timeline(SevId(2)).await.unwrap();
    assert!(alert_entries.iter().all(|e| e.author.is_alert()));
}

#[test]
fn task_keys_read_back_from_old_schedules_match_the_keys_made_today() {
    for r in records().iter().filter(|r| r.pk == "SCHEDULE") {
        let old: TaskEnvelope = serde_json::from_str(&r.data).unwrap();
        let today = TaskEnvelope::new(old.task.clone(), old.created_at);
        assert_eq!(today.key, old.key, "a redelivered task must find its claim");
    }
}
