//! The Jira handler on the embedded backend against a small fake Jira: the cases a black-box test
//! cannot stage (a crash between filing the issue and storing its link, a link removed on
//! purpose) and the sweep over links people pasted. The full path is in tests/jira.rs.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use serde_json::json;
use sev::app::{FileRequest, NewSca, ScaService, SevService};
use sev::clock::SystemClock;
use sev::config::Secret;
use sev::domain::{EntryId, Level, NewSev, Priority, Sca, ScaId, ScaPatch, ScaSource};
use sev::jira::{JiraIntegration, JiraSettings, Priorities};
use sev::queue::{EmbeddedQueue, Relay, Steps, Task, TaskEnvelope, TaskHandler};
use sev::store::{SevRepo, SqliteStore};

/// Files issues `OPS-1`, `OPS-2`, ...; answers reads of the issues it knows, done or not.
#[derive(Clone, Default)]
struct Fake {
    created: Arc<Mutex<u32>>,
    known: Arc<Mutex<HashSet<String>>>,
    done: Arc<Mutex<HashSet<String>>>,
    reads: Arc<Mutex<Vec<String>>>,
}

async fn create(State(f): State<Fake>) -> Response {
    let n = {
        let mut c = f.created.lock().unwrap();
        *c += 1;
        *c
    };
    let key = format!("OPS-{n}");
    f.known.lock().unwrap().insert(key.clone());
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": n.to_string(), "key": key, "self": "x"})),
    )
        .into_response()
}

async fn read(State(f): State<Fake>, Path(key): Path<String>) -> Response {
    f.reads.lock().unwrap().push(key.clone());
    if !f.known.lock().unwrap().contains(&key) {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"errorMessages": ["Issue does not exist"]})),
        )
            .into_response();
    }
    let category = if f.done.lock().unwrap().contains(&key) {
        "done"
    } else {
        "new"
    };
    axum::Json(json!({"key": key, "fields": {"status": {"statusCategory": {"key": category}}}})).into_response()
}

struct World {
    fake: Fake,
    base: String,
    sevs: SevService,
    scas: ScaService,
    repo: SevRepo,
    jira: JiraIntegration,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let fake = Fake::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/rest/api/3/issue", post(create))
        .route("/rest/api/3/issue/{key}", get(read))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });

    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("j.db")).unwrap();
    let clock = Arc::new(SystemClock);
    let queue = EmbeddedQueue::open(sqlite.clone(), std::time::Duration::from_secs(1), 5, clock.clone())
        .await
        .unwrap();
    let repo = SevRepo::new(Arc::new(sqlite));
    let relay = Relay::new(repo.clone(), Arc::new(queue));
    let sevs = SevService::new(repo.clone(), relay.clone(), clock.clone());
    let scas = ScaService::new(repo.clone(), relay, clock, sev::domain::DuePolicy::default());
    let settings = JiraSettings {
        url: base.clone(),
        email: "bot@example.com".into(),
        api_token: Secret::new("t"),
        default_project: Some("OPS".into()),
        issue_type: "Task".into(),
        priorities: Priorities::default(),
        webhook_secret: None,
    };
    let jira = JiraIntegration::new(Arc::new(settings), scas.clone(), repo.clone(), None, None);
    World {
        fake,
        base,
        sevs,
        scas,
        repo,
        jira,
        _dir: dir,
    }
}

impl World {
    async fn sca(&self, ticket: Option<String>) -> Sca {
        let new = NewSev {
            title: "Ledger lag".into(),
            level: Some(Level::Sev2),
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
        let new = NewSca {
            text: "Alert on lag".into(),
            priority: Priority::Should,
            owner: None,
            due: None,
            ticket,
            source: ScaSource::Api,
        };
        self.scas.create(sev.id, new, "U1".into()).await.unwrap()
    }

    /// A change of the SCA reaches the handler (a fresh task each time, as each change sends).
    async fn changed(&self, sca: ScaId) {
        let change = EntryId::new(Utc::now(), rand_nonce());
        let task = TaskEnvelope::new(Task::ScheduleNags { sca, change }, Utc::now());
        self.jira.handle(&task).await.unwrap();
    }

    async fn sweep(&self, day: u32) {
        let day = NaiveDate::from_ymd_opt(2026, 1, day).unwrap();
        self.jira
            .handle(&TaskEnvelope::new(Task::Sweep { day }, Utc::now()))
            .await
            .unwrap();
    }

    fn created(&self) -> u32 {
        *self.fake.created.lock().unwrap()
    }

    fn reads(&self) -> Vec<String> {
        self.fake.reads.lock().unwrap().clone()
    }

    async fn ticket(&self, id: ScaId) -> Option<String> {
        self.scas.get(id).await.unwrap().ticket
    }
}

fn rand_nonce() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

#[tokio::test]
async fn a_crash_after_filing_and_before_linking_files_nothing_again() {
    let w = world().await;
    let sca = w.sca(None).await;
    // What a crash leaves behind: the issue filed and recorded, the link not yet stored.
    w.fake.known.lock().unwrap().insert("OPS-41".into());
    Steps::new(&w.repo, &format!("jira:{}", sca.id), "jira")
        .once("create-issue", || async { Ok("OPS-41".to_owned()) })
        .await
        .unwrap();

    w.changed(sca.id).await;
    assert_eq!(w.created(), 0, "nothing filed again");
    assert_eq!(w.ticket(sca.id).await, Some(format!("{}/browse/OPS-41", w.base)));
    w.changed(sca.id).await;
    assert_eq!(w.created(), 0);
}

#[tokio::test]
async fn a_link_removed_on_purpose_stays_removed_and_nothing_is_filed_again() {
    let w = world().await;
    let sca = w.sca(None).await;
    w.changed(sca.id).await;
    w.changed(sca.id).await;
    assert_eq!(w.created(), 1, "one issue however often the SCA changes");
    assert_eq!(w.ticket(sca.id).await, Some(format!("{}/browse/OPS-1", w.base)));

    let unlink = ScaPatch {
        ticket: Some(None),
        ..ScaPatch::default()
    };
    w.scas.update(sca.id, unlink, "U1".into()).await.unwrap();
    w.changed(sca.id).await;
    assert_eq!((w.created(), w.ticket(sca.id).await), (1, None));
    w.sweep(1).await;
    assert!(w.reads().is_empty(), "an unlinked SCA is not polled: {:?}", w.reads());
}

#[tokio::test]
async fn links_people_paste_are_polled_and_issues_that_vanished_are_dropped() {
    let w = world().await;
    w.fake.known.lock().unwrap().insert("OPS-42".into());
    w.fake.done.lock().unwrap().insert("OPS-42".into());
    let pasted = w.sca(Some(format!("{}/browse/OPS-42", w.base))).await;
    let gone = w.sca(Some(format!("{}/browse/OPS-404", w.base))).await;
    w.changed(pasted.id).await;
    w.changed(gone.id).await;
    assert_eq!(w.created(), 0, "SCAs with a ticket get no new issue");

    w.sweep(1).await;
    assert!(!w.scas.get(pasted.id).await.unwrap().is_open(), "its issue is done");
    assert!(w.scas.get(gone.id).await.unwrap().is_open());
    w.sweep(2).await;
    let mut reads = w.reads();
    reads.sort();
    assert_eq!(
        reads,
        ["OPS-404", "OPS-42"],
        "each read once: done and missing ones leave the sweep"
    );
}
