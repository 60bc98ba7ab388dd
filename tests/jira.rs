//! The Jira integration, end to end: the real `sevtool` filing corrective actions (SCAs) as issues
//! in a fake Jira Cloud, linking them, and marking them done when their issue is.
//!
//! Tasks the scheduler would send (a redelivery, the daily sweep) are put on `sevtool`'s own
//! task queue, a table in its data file, which is how EventBridge Scheduler reaches it on AWS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use blackbox::Sevtool;
use blackbox::fake_jira::{API_TOKEN, EMAIL, FakeJira};
use blackbox::task_queue::{deliver, wait_idle};
use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use sev::domain::{EntryId, ScaId};
use sev::queue::{Task, TaskEnvelope};

struct Setup {
    app: Sevtool,
    jira: FakeJira,
    data: PathBuf,
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

const CATALOG: &str = r#"
[[team]]
name = "atc"
rotation = "coordinator"
[team.pagerduty]
routing_key = "rk-atc"
schedule = "PATC"

[[team]]
name = "payments"
product_tracks = ["checkout"]
jira_project = "PAY"
[team.pagerduty]
routing_key = "rk-payments"
schedule = "PPAY"
"#;

/// `sevtool` with the catalog above (paging never reaches anything: auto-paging is off and the
/// pager addresses go nowhere), Jira on, OPS as the default project, plus `extra`.
async fn setup(extra: &[(&str, &str)]) -> Setup {
    let jira = FakeJira::start(&["PAY", "OPS"]).await;
    let dir = tempfile::tempdir().unwrap();
    let teams = dir.path().join("teams.toml");
    std::fs::write(&teams, CATALOG).unwrap();
    let data = dir.path().join("data");
    let mut env: Vec<(String, String)> = [
        ("SEVTOOL_TEAMS", teams.display().to_string()),
        ("SEVTOOL_AUTOPAGE_LEVEL", "off".into()),
        ("PAGERDUTY_EVENTS_URL", "http://127.0.0.1:9".into()),
        ("PAGERDUTY_API_URL", "http://127.0.0.1:9".into()),
        ("SEVTOOL_JIRA_URL", format!("{}/", jira.base)),
        ("SEVTOOL_JIRA_EMAIL", EMAIL.into()),
        ("SEVTOOL_JIRA_API_TOKEN", API_TOKEN.into()),
        ("SEVTOOL_JIRA_PROJECT", "OPS".into()),
        ("SEVTOOL_PUBLIC_URL", "https://sev.example.com".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let app = start(&data, &env).await;
    Setup {
        app,
        jira,
        data,
        env,
        _dir: dir,
    }
}

async fn start(data: &Path, env: &[(String, String)]) -> Sevtool {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Sevtool::start(data, &pairs).await
}

async fn add_sca(app: &Sevtool, sev: &str, body: Value) -> Value {
    let r = app.post_json(&format!("/api/sevs/{sev}/scas"), body).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// Polls the SCA until `check` holds of it; fails after a generous deadline.
async fn wait_for(app: &Sevtool, id: &str, what: &str, secs: u64, check: impl Fn(&Value) -> bool) -> Value {
    app.poll_json(&format!("/api/scas/{id}"), what, secs, check).await
}

/// Reasons of the tasks that failed for good, as stored.
fn failures(data: &Path) -> Vec<String> {
    let conn = Connection::open_with_flags(data.join("sevtool.db"), OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut stmt = conn.prepare("SELECT data FROM items WHERE sk LIKE 'FAILED#%'").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| {
            serde_json::from_str::<Value>(&d.unwrap()).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

/// The task an SCA's creation sent, rebuilt from its timeline entry (same key, so a redelivery).
async fn creation_task(app: &Sevtool, sev: &str, sca: &str) -> TaskEnvelope {
    let (_, detail) = app.get_json(&format!("/api/sevs/{sev}")).await;
    let entry = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["sca"] == sca && e["change"].as_str().is_some_and(|c| c.starts_with("added")))
        .expect("the SCA's creation entry");
    let change: EntryId = serde_json::from_value(entry["id"].clone()).unwrap();
    let sca: ScaId = sca.parse().unwrap();
    TaskEnvelope::new(Task::ScheduleNags { sca, change }, Utc::now())
}

fn texts(doc: &Value) -> String {
    doc["content"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["content"].as_array().unwrap().iter())
        .map(|t| t["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_sca_becomes_one_issue_in_its_team_s_project_linked_from_the_sca() {
    let mut s = setup(&[]).await;
    let sev = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV1", "product_track": "checkout"}))
        .await;
    let sca = add_sca(
        &s.app,
        &sev,
        json!({"text": "Alert on the checkout 5xx rate\nwith a runbook", "priority": "must", "owner": "U123"}),
    )
    .await;
    let id = sca["id"].as_str().unwrap().to_owned();
    let linked = wait_for(&s.app, &id, "the Jira link", 30, |v| v["ticket"].is_string()).await;
    assert_eq!(linked["ticket"], s.jira.browse("PAY-1"), "the owning team's project");
    assert_eq!(linked["state"], "open");

    let issues = s.jira.issues();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    let issue = &issues[0];
    assert_eq!(
        (
            issue.project.as_str(),
            issue.issue_type.as_str(),
            issue.priority.as_str()
        ),
        ("PAY", "Task", "Highest")
    );
    assert_eq!(issue.summary, format!("{id}: Alert on the checkout 5xx rate"));
    let due = linked["due"].as_str().unwrap();
    assert_eq!(issue.duedate.as_deref(), Some(&due[..10]), "the SCA's due date");
    let words = texts(&issue.description);
    for part in [
        "Alert on the checkout 5xx rate",
        "with a runbook",
        &format!("Corrective action {id} from {sev} (SEV1): Checkout returns 5xx"),
        "Must Do, owner U123",
    ] {
        assert!(words.contains(part), "`{part}` in {words}");
    }
    assert!(
        issue
            .description
            .to_string()
            .contains(&format!("https://sev.example.com/sevs/{sev}")),
        "links back to the SEV"
    );
    let (_, detail) = s.app.get_json(&format!("/api/sevs/{sev}")).await;
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["author"] == "jira" && e["change"].as_str().is_some_and(|c| c.contains("PAY-1"))),
        "the link is on the timeline, by jira"
    );

    // No owning team: the default project; Could Do has no deadline, so no due date.
    let other = s
        .app
        .file_sev_id(json!({"title": "Search is slow", "level": "SEV3"}))
        .await;
    let could = add_sca(&s.app, &other, json!({"text": "Cache the facets", "priority": "could"})).await;
    let could_id = could["id"].as_str().unwrap().to_owned();
    let linked = wait_for(&s.app, &could_id, "the second link", 30, |v| v["ticket"].is_string()).await;
    assert_eq!(linked["ticket"], s.jira.browse("OPS-1"));
    let issue = s.jira.issues().into_iter().find(|i| i.key == "OPS-1").unwrap();
    assert_eq!((issue.priority.as_str(), issue.duedate), ("Medium", None));

    // An SCA that already has a ticket is left alone.
    let own = add_sca(
        &s.app,
        &other,
        json!({"text": "Shard the index", "priority": "should", "ticket": "https://tracker.example.com/T-9"}),
    )
    .await;

    // The creation task delivered again, and then a restart: nothing is filed twice.
    let again = creation_task(&s.app, &sev, &id).await;
    deliver(&s.data, &again);
    wait_idle(&s.data).await;
    s.app.kill_hard().await;
    s.app = start(&s.data, &s.env).await;
    // What the restart redelivers or relays (the outbox, a claim the kill left behind) is on the
    // queue or the outbox until handled, so waiting for both to empty covers it.
    wait_idle(&s.data).await;
    assert_eq!(s.jira.issues().len(), 2, "{:#?}", s.jira.issues());
    assert_eq!(s.jira.creates().len(), 2);
    let (_, own) = s
        .app
        .get_json(&format!("/api/scas/{}", own["id"].as_str().unwrap()))
        .await;
    assert_eq!(own["ticket"], "https://tracker.example.com/T-9");
    assert!(failures(&s.data).is_empty(), "{:?}", failures(&s.data));
}

#[tokio::test]
async fn a_failed_create_is_retried_and_still_files_one_issue() {
    let s = setup(&[]).await;
    s.jira.fail_creates(vec![500, 429]);
    let sev = s.app.file_sev_id(json!({"title": "Ledger lag", "level": "SEV2"})).await;
    let sca = add_sca(&s.app, &sev, json!({"text": "Page on lag", "priority": "should"})).await;
    let id = sca["id"].as_str().unwrap();
    let linked = wait_for(&s.app, id, "the link after retries", 60, |v| v["ticket"].is_string()).await;
    assert_eq!(linked["ticket"], s.jira.browse("OPS-1"));
    let statuses: Vec<u16> = s.jira.creates().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 429, 201], "two failures, then the issue");
    assert_eq!(s.jira.issues().len(), 1);
    assert_eq!(s.jira.issues()[0].priority, "High");
}

#[tokio::test]
async fn a_refused_create_fails_for_good_with_jira_s_reason_and_the_sca_stays() {
    let s = setup(&[("SEVTOOL_JIRA_PRIORITIES", "must=Blocker")]).await;
    let sev = s.app.file_sev_id(json!({"title": "Ledger lag", "level": "SEV2"})).await;
    let sca = add_sca(&s.app, &sev, json!({"text": "Page on lag", "priority": "must"})).await;
    let id = sca["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while failures(&s.data).is_empty() {
        assert!(Instant::now() < deadline, "the refusal was not recorded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reasons = failures(&s.data);
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("jira") && reasons[0].contains("HTTP 400"),
        "{}",
        reasons[0]
    );
    assert!(reasons[0].contains("priority:"), "Jira's own reason: {}", reasons[0]);
    assert!(!reasons[0].contains(API_TOKEN));
    assert_eq!(s.jira.creates().len(), 1, "a refusal is not retried");
    let (status, sca) = s.app.get_json(&format!("/api/scas/{id}")).await;
    assert_eq!(
        (status, sca["state"].as_str(), &sca["ticket"]),
        (200, Some("open"), &Value::Null)
    );
}

#[tokio::test]
async fn the_sweep_marks_done_the_scas_whose_issue_is_done() {
    let s = setup(&[]).await;
    let sev = s.app.file_sev_id(json!({"title": "Ledger lag", "level": "SEV2"})).await;
    let mut ids = Vec::new();
    for text in ["Page on lag", "Add a lag dashboard"] {
        let sca = add_sca(&s.app, &sev, json!({"text": text, "priority": "should"})).await;
        let id = sca["id"].as_str().unwrap().to_owned();
        wait_for(&s.app, &id, "the link", 30, |v| v["ticket"].is_string()).await;
        ids.push(id);
    }
    // Linked by hand to another tracker: never polled.
    add_sca(
        &s.app,
        &sev,
        json!({"text": "Elsewhere", "priority": "could", "ticket": "https://tracker.example.com/T-1"}),
    )
    .await;
    wait_idle(&s.data).await;
    s.jira.resolve("OPS-1");

    let day = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    deliver(&s.data, &TaskEnvelope::new(Task::Sweep { day }, Utc::now()));
    let done = wait_for(&s.app, &ids[0], "the SCA to be done", 30, |v| v["state"] == "done").await;
    assert!(done["at"].is_string());
    wait_idle(&s.data).await;
    let (_, open) = s.app.get_json(&format!("/api/scas/{}", ids[1])).await;
    assert_eq!(open["state"], "open", "its issue is not done");
    let mut reads = s.jira.reads();
    reads.sort();
    assert_eq!(reads, ["OPS-1", "OPS-2"], "only this Jira's issues are read");
    let (_, detail) = s.app.get_json(&format!("/api/sevs/{sev}")).await;
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["author"] == "jira" && e["sca"] == ids[0].as_str() && e["change"] == "done"),
        "done by jira, on the timeline"
    );

    // The next day's sweep no longer asks about the done one.
    let next = day.succ_opt().unwrap();
    deliver(&s.data, &TaskEnvelope::new(Task::Sweep { day: next }, Utc::now()));
    wait_idle(&s.data).await;
    let reads = s.jira.reads();
    assert_eq!(reads.iter().filter(|k| *k == "OPS-1").count(), 1, "{reads:?}");
    assert_eq!(reads.iter().filter(|k| *k == "OPS-2").count(), 2, "{reads:?}");
    assert!(failures(&s.data).is_empty(), "{:?}", failures(&s.data));
}

const WEBHOOK_SECRET: &str = "jira-webhook-secret";

/// Posts `body` to the webhook as Jira does, signed with `secret` (none: unsigned).
async fn webhook(app: &Sevtool, body: &Value, secret: Option<&str>, delivery: &str) -> (u16, Value) {
    let body = body.to_string();
    let mut req = app
        .http
        .post(app.url("/jira/webhook"))
        .header("content-type", "application/json")
        .header("x-atlassian-webhook-identifier", delivery);
    if let Some(secret) = secret {
        let signature = sev::jira::webhook_signature(&sev::config::Secret::new(secret), body.as_bytes());
        req = req.header("x-hub-signature", signature);
    }
    let r = req.body(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn issue_updated(key: &str) -> Value {
    json!({"timestamp": 1764590000000_u64, "webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "key": key, "fields": {"status": {"name": "Done"}}}})
}

#[tokio::test]
async fn a_signed_webhook_marks_the_sca_done_at_once_and_a_redelivery_reads_once() {
    let s = setup(&[("SEVTOOL_JIRA_WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    let sev = s.app.file_sev_id(json!({"title": "Ledger lag", "level": "SEV2"})).await;
    let sca = add_sca(&s.app, &sev, json!({"text": "Page on lag", "priority": "should"})).await;
    let id = sca["id"].as_str().unwrap().to_owned();
    wait_for(&s.app, &id, "the link", 30, |v| v["ticket"].is_string()).await;

    // A webhook says the issue is done while it is not: the issue is read back, nothing changes.
    assert_eq!(
        webhook(&s.app, &issue_updated("OPS-1"), Some(WEBHOOK_SECRET), "d-1")
            .await
            .0,
        202
    );
    wait_idle(&s.data).await;
    assert_eq!(s.jira.reads(), ["OPS-1"]);
    assert_eq!(s.app.get_json(&format!("/api/scas/{id}")).await.1["state"], "open");

    s.jira.resolve("OPS-1");
    for _ in 0..2 {
        // Jira retries a delivery with the same identifier.
        let (status, body) = webhook(&s.app, &issue_updated("OPS-1"), Some(WEBHOOK_SECRET), "d-2").await;
        assert_eq!((status, &body["queued"]), (202, &json!("OPS-1")));
    }
    wait_for(&s.app, &id, "the SCA to be done", 30, |v| v["state"] == "done").await;
    wait_idle(&s.data).await;
    assert_eq!(s.jira.reads(), ["OPS-1", "OPS-1"], "one read per delivery");

    // An issue no SCA is linked to is read by nobody.
    assert_eq!(
        webhook(&s.app, &issue_updated("OPS-99"), Some(WEBHOOK_SECRET), "d-3")
            .await
            .0,
        202
    );
    wait_idle(&s.data).await;
    assert_eq!(s.jira.reads().len(), 2);
    assert!(failures(&s.data).is_empty(), "{:?}", failures(&s.data));
}

#[tokio::test]
async fn the_webhook_refuses_what_jira_did_not_sign_or_did_not_send() {
    let s = setup(&[("SEVTOOL_JIRA_WEBHOOK_SECRET", WEBHOOK_SECRET)]).await;
    let event = issue_updated("OPS-1");
    let (status, body) = webhook(&s.app, &event, None, "x-1").await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().unwrap().contains("X-Hub-Signature"), "{body}");
    assert_eq!(webhook(&s.app, &event, Some("another secret"), "x-2").await.0, 401);
    for (bad, hint) in [
        (json!({"issue": {"key": "OPS-1"}}), "webhookEvent"),
        (json!({"webhookEvent": "jira:issue_updated"}), "issue.key"),
        (
            json!({"webhookEvent": "jira:issue_updated", "issue": {"key": "not a key"}}),
            "issue.key",
        ),
    ] {
        let (status, body) = webhook(&s.app, &bad, Some(WEBHOOK_SECRET), "x-3").await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].as_str().unwrap().contains(hint), "{bad}: {body}");
    }
    let (status, body) = webhook(
        &s.app,
        &json!({"webhookEvent": "comment_created", "comment": {"id": "1"}}),
        Some(WEBHOOK_SECRET),
        "x-4",
    )
    .await;
    assert_eq!((status, &body["ignored"]), (200, &json!("comment_created")));
    wait_idle(&s.data).await;
    assert!(s.jira.reads().is_empty(), "nothing refused or ignored is acted on");

    // Without the secret configured, the webhook says what to set.
    let off = setup(&[]).await;
    let (status, body) = webhook(&off.app, &event, Some(WEBHOOK_SECRET), "x-5").await;
    assert_eq!(status, 503);
    assert!(
        body["error"].as_str().unwrap().contains("SEVTOOL_JIRA_WEBHOOK_SECRET"),
        "{body}"
    );
}
