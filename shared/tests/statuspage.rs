//! Public updates on the company's status page: the client's requests checked against
//! Statuspage's own OpenAPI document by Prism, and the integration's once-only rules (one
//! incident per SEV, each update sent once through retries, a lost answer found again, a refusal
//! reported) against a local fake that records what it receives.

use crate::common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use common::prism::{Prism, vendor_spec};
use serde_json::{Value, json};
use sev::app::{FileRequest, SevService};
use sev::clock::{Clock, ManualClock};
use sev::config::Secret;
use sev::domain::{EntryKind, Level, NewSev, PublicImpact, PublicStatus, SevId, SevPatch};
use sev::paging::Catalog;
use sev::queue::{Task, TaskEnvelope, TaskError, TaskHandler};
use sev::statuspage::{IncidentChange, StatuspageClient, StatuspageIntegration};

const KEY: &str = "sp-test-key";
const PAGE: &str = "gytm4qzbx9t6";

fn change(sev: u64) -> IncidentChange {
    IncidentChange {
        sev: SevId(sev),
        name: "Problems with checkout".into(),
        status: PublicStatus::Investigating,
        impact: PublicImpact::Major,
        body: "Card payments are failing for some customers — ünïcode survives".into(),
        components: vec!["8kbf7d35c070".into()],
    }
}

#[tokio::test]
async fn the_client_s_requests_match_statuspage_s_openapi_document() {
    let prism = Prism::start(vendor_spec("statuspage/openapi.json")).await;
    let base = format!("{}/v1", prism.base);
    let client = StatuspageClient::new(&base, PAGE, Secret::new(KEY));
    let created = client
        .create_incident(&change(42))
        .await
        .unwrap_or_else(|e| panic!("create: {e}\n{}", prism.log()));
    assert!(!created.id.is_empty());
    client
        .update_incident(&created.id, &change(42))
        .await
        .unwrap_or_else(|e| panic!("update: {e}\n{}", prism.log()));
    client
        .find_incident(SevId(42))
        .await
        .unwrap_or_else(|e| panic!("unresolved incidents: {e}\n{}", prism.log()));
    // The mock validates at all: a create without a name is refused with the violation.
    let r = reqwest::Client::new()
        .post(format!("{base}/pages/{PAGE}/incidents"))
        .header("authorization", format!("OAuth {KEY}"))
        .json(&json!({"incident": {"status": "on-fire"}}))
        .send()
        .await
        .expect("Prism answers");
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(r.headers().contains_key("sl-violations"));
}

/// What the fake answers next: an error status, or "create it but lose the answer".
#[derive(Clone, Copy)]
enum Script {
    Fail(u16),
    CreateThenFail(u16),
}

#[derive(Default)]
struct Fake {
    requests: Mutex<Vec<(String, String, Value)>>,
    incidents: Mutex<Vec<Value>>,
    /// Per request method, in order.
    script: Mutex<VecDeque<(&'static str, Script)>>,
}

impl Fake {
    fn calls(&self, method: &str) -> Vec<Value> {
        let requests = self.requests.lock().unwrap();
        requests
            .iter()
            .filter(|(m, _, _)| m == method)
            .map(|(_, _, b)| b.clone())
            .collect()
    }

    /// The scripted answer to this request, if the next one is for its method.
    fn next(&self, method: &str) -> Option<Script> {
        let mut script = self.script.lock().unwrap();
        match script.front() {
            Some((m, _)) if *m == method => script.pop_front().map(|(_, s)| s),
            _ => None,
        }
    }

    fn then(&self, method: &'static str, answer: Script) {
        self.script.lock().unwrap().push_back((method, answer));
    }
}

type Answer = (StatusCode, Json<Value>);

fn record(fake: &Fake, method: &str, headers: &HeaderMap, path: String, body: Value) -> Result<(), Answer> {
    fake.requests.lock().unwrap().push((method.into(), path, body));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("OAuth {KEY}")) {
        return Err((StatusCode::UNAUTHORIZED, Json(json!({"error": "unauthorized"}))));
    }
    Ok(())
}

fn refused(status: u16) -> Answer {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"error": "scripted"})))
}

async fn create(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    Path(page): Path<String>,
    Json(body): Json<Value>,
) -> Answer {
    if let Err(a) = record(
        &fake,
        "POST",
        &headers,
        format!("/pages/{page}/incidents"),
        body.clone(),
    ) {
        return a;
    }
    let script = fake.next("POST");
    if let Some(Script::Fail(s)) = script {
        return refused(s);
    }
    let n = fake.incidents.lock().unwrap().len() + 1;
    let incident = json!({
        "id": format!("inc{n}"),
        "shortlink": format!("https://stspg.io/inc{n}"),
        "status": body["incident"]["status"],
        "metadata": body["incident"]["metadata"],
    });
    fake.incidents.lock().unwrap().push(incident.clone());
    match script {
        Some(Script::CreateThenFail(s)) => refused(s),
        _ => (StatusCode::CREATED, Json(incident)),
    }
}

async fn unresolved(State(fake): State<Arc<Fake>>, headers: HeaderMap, Path(page): Path<String>) -> Answer {
    if let Err(a) = record(
        &fake,
        "GET",
        &headers,
        format!("/pages/{page}/incidents/unresolved"),
        Value::Null,
    ) {
        return a;
    }
    if let Some(Script::Fail(s)) = fake.next("GET") {
        return refused(s);
    }
    let open: Vec<Value> = fake.incidents.lock().unwrap().clone();
    (StatusCode::OK, Json(Value::Array(open)))
}

async fn update(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    Path((page, id)): Path<(String, String)>,
    Json(body): Json<Value>,
) -> Answer {
    if let Err(a) = record(
        &fake,
        "PATCH",
        &headers,
        format!("/pages/{page}/incidents/{id}"),
        body.clone(),
    ) {
        return a;
    }
    if let Some(Script::Fail(s)) = fake.next("PATCH") {
        return refused(s);
    }
    (
        StatusCode::OK,
        Json(json!({"id": id, "status": body["incident"]["status"]})),
    )
}

async fn fake() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let app = Router::new()
        .route("/pages/{page}/incidents", post(create))
        .route("/pages/{page}/incidents/unresolved", get(unresolved))
        .route("/pages/{page}/incidents/{id}", patch(update))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (fake, base)
}

const CATALOG: &str = r#"
[[team]]
name = "atc"
rotation = "coordinator"
[team.pagerduty]
routing_key = "R-ATC"
schedule = "PATC"

[[team]]
name = "payments"
services = ["payments-api"]
[team.statuspage_components]
payments-api = ["cmp1"]
[team.pagerduty]
routing_key = "R-PAY"
schedule = "PPAY"
"#;

struct World {
    sevs: SevService,
    integration: StatuspageIntegration,
    fake: Arc<Fake>,
    clock: Arc<ManualClock>,
    _world: common::EmbeddedWorld,
}

async fn world() -> World {
    let world = common::embedded_world().await;
    let (repo, sevs, clock) = (world.repo.clone(), world.sevs.clone(), world.clock.clone());
    let (fake, base) = fake().await;
    let client = StatuspageClient::new(&base, PAGE, Secret::new(KEY));
    let catalog = Arc::new(Catalog::parse(CATALOG).unwrap());
    let integration = StatuspageIntegration::new(client, repo, Some(catalog), clock.clone());
    World {
        sevs,
        integration,
        fake,
        clock,
        _world: world,
    }
}

impl World {
    /// A SEV1 on payments-api whose comms lead is `U0CAT`.
    async fn sev(&self) -> SevId {
        let new = NewSev {
            title: "ledger primary OOM".into(),
            level: Some(Level::Sev1),
            tags: vec!["system/payments-api".parse().unwrap()],
            ..NewSev::default()
        };
        let request = FileRequest {
            new,
            reporter: "U1".into(),
            idempotency_key: None,
        };
        let id = self.sevs.file(request).await.unwrap().0.id;
        let patch = SevPatch {
            comms_lead: Some(Some("U0CAT".into())),
            ..SevPatch::default()
        };
        self.sevs.patch(id, patch, "U1".into()).await.unwrap();
        id
    }

    /// Publishes `text` a minute after whatever came before (so it is the SEV's latest entry);
    /// returns the task the worker would get for it.
    async fn publish(&self, id: SevId, text: &str) -> TaskEnvelope {
        self.clock.advance(chrono::Duration::minutes(1));
        self.sevs.post_public_update(id, text, "U0CAT".into()).await.unwrap();
        let detail = self.sevs.get(id).await.unwrap();
        let entry = detail
            .timeline
            .iter()
            .rev()
            .find(|e| matches!(e.kind, EntryKind::PublicUpdate { .. }))
            .expect("the public update");
        TaskEnvelope::new(
            Task::TimelineEntryAdded {
                sev: id,
                entry: entry.id.clone(),
            },
            self.clock.now(),
        )
    }

    async fn handle(&self, task: &TaskEnvelope) -> Result<(), TaskError> {
        self.integration.handle(task).await
    }
}

#[tokio::test]
async fn the_first_public_update_opens_the_incident_and_later_ones_update_it_once_each() {
    let w = world().await;
    let id = w.sev().await;
    let filed = TaskEnvelope::new(
        Task::TimelineEntryAdded {
            sev: id,
            entry: w.sevs.get(id).await.unwrap().timeline[0].id.clone(),
        },
        w.clock.now(),
    );
    w.handle(&filed).await.unwrap();
    assert!(
        w.fake.requests.lock().unwrap().is_empty(),
        "internal entries are not published"
    );

    let first = w.publish(id, "Card payments are failing for some customers").await;
    w.handle(&first).await.unwrap();
    w.handle(&first).await.unwrap();
    let created = w.fake.calls("POST");
    assert_eq!(created.len(), 1, "a redelivery creates nothing more");
    let incident = &created[0]["incident"];
    assert_eq!(incident["name"], "Problems with payments-api", "never the SEV's title");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["impact_override"], "major");
    assert_eq!(incident["body"], "Card payments are failing for some customers");
    assert_eq!(incident["components"], json!({"cmp1": "partial_outage"}));
    assert_eq!(incident["metadata"]["sevtool"]["sev"], id.to_string());
    let detail = w.sevs.get(id).await.unwrap();
    let link = detail.status_page.expect("the incident is linked on the SEV");
    assert_eq!(
        (link.id.as_str(), link.url.as_deref()),
        ("inc1", Some("https://stspg.io/inc1"))
    );

    w.sevs
        .set_status(id, sev::domain::Status::Mitigated, None, "U1".into())
        .await
        .unwrap();
    let second = w.publish(id, "A fix is in place").await;
    w.fake.then("PATCH", Script::Fail(503));
    assert!(
        matches!(w.handle(&second).await, Err(TaskError::Retryable(_))),
        "an outage is retried"
    );
    w.handle(&second).await.unwrap();
    w.handle(&second).await.unwrap();
    let updated = w.fake.calls("PATCH");
    assert_eq!(
        updated.len(),
        2,
        "one failed try, then one update; the redelivery sends nothing"
    );
    assert_eq!(updated[1]["incident"]["status"], "monitoring");
    assert_eq!(updated[1]["incident"]["body"], "A fix is in place");
    assert_eq!(w.fake.calls("POST").len(), 1, "one incident per SEV");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_again_not_repeated() {
    let w = world().await;
    let id = w.sev().await;
    let task = w.publish(id, "Card payments are failing").await;
    w.fake.then("POST", Script::CreateThenFail(502));
    assert!(matches!(w.handle(&task).await, Err(TaskError::Retryable(_))));
    w.handle(&task).await.unwrap();
    assert_eq!(w.fake.calls("POST").len(), 1, "found among the unresolved incidents");
    assert_eq!(
        w.sevs.get(id).await.unwrap().status_page.map(|l| l.id),
        Some("inc1".into())
    );
}

#[tokio::test]
async fn a_later_update_waits_for_the_first_to_open_the_incident() {
    let w = world().await;
    let id = w.sev().await;
    let first = w.publish(id, "We are investigating").await;
    let second = w.publish(id, "Still investigating").await;
    w.fake.then("GET", Script::Fail(503));
    assert!(
        w.handle(&first).await.is_err(),
        "the first claims the incident, then hits an outage"
    );
    let waited = w.handle(&second).await;
    assert!(
        matches!(&waited, Err(TaskError::Retryable(m)) if m.contains("waiting for the first public update")),
        "{waited:?}"
    );
    w.handle(&first).await.unwrap();
    w.handle(&second).await.unwrap();
    assert_eq!(w.fake.calls("POST").len(), 1);
    assert_eq!(w.fake.calls("PATCH").len(), 1);
}

#[tokio::test]
async fn a_refusal_fails_for_good_with_its_reason_and_frees_the_next_update_to_open() {
    let w = world().await;
    let id = w.sev().await;
    let first = w.publish(id, "We are investigating").await;
    w.fake.then("GET", Script::Fail(404));
    let refused = w.handle(&first).await;
    assert!(
        matches!(&refused, Err(TaskError::Permanent(m)) if m.contains("HTTP 404") && m.contains("STATUSPAGE_PAGE_ID")),
        "{refused:?}"
    );
    let second = w.publish(id, "Still investigating").await;
    w.handle(&second).await.unwrap();
    assert_eq!(w.fake.calls("POST").len(), 1, "the second update opened the incident");
}

#[tokio::test]
async fn an_update_stuck_opening_the_incident_is_taken_over_after_its_lease() {
    let w = world().await;
    let id = w.sev().await;
    let stuck = w.publish(id, "We are investigating").await;
    w.fake.then("GET", Script::Fail(503));
    assert!(
        w.handle(&stuck).await.is_err(),
        "the first claims the incident, then hits an outage"
    );
    let later = w.publish(id, "Still investigating").await;
    assert!(w.handle(&later).await.is_err(), "within the lease, the later one waits");
    w.clock.advance(chrono::Duration::minutes(16));
    w.handle(&later).await.unwrap();
    assert_eq!(w.fake.calls("POST").len(), 1, "the later update opened the incident");
    w.handle(&stuck).await.unwrap();
    assert_eq!(w.fake.calls("PATCH").len(), 1, "the first, retried, updates it");
    assert_eq!(w.fake.calls("POST").len(), 1);
}

#[tokio::test]
async fn an_update_sent_late_says_where_the_sev_stood_when_it_was_published() {
    let w = world().await;
    let id = w.sev().await;
    let task = w.publish(id, "We are investigating").await;
    w.sevs
        .set_status(id, sev::domain::Status::Resolved, Some("fixed".into()), "U1".into())
        .await
        .unwrap();
    w.handle(&task).await.unwrap();
    assert_eq!(w.fake.calls("POST")[0]["incident"]["status"], "investigating");
}

#[tokio::test]
async fn a_drill_rehearses_the_comms_call_but_never_reaches_the_status_page() {
    let w = world().await;
    let new = NewSev {
        title: "ledger failover drill".into(),
        level: Some(Level::Sev1),
        drill: true,
        ..NewSev::default()
    };
    let request = FileRequest {
        new,
        reporter: "U0CAT".into(),
        idempotency_key: None,
    };
    let id = w.sevs.file(request).await.unwrap().0.id;
    let patch = SevPatch {
        comms_lead: Some(Some("U0CAT".into())),
        ..SevPatch::default()
    };
    w.sevs.patch(id, patch, "U0CAT".into()).await.unwrap();
    let task = w.publish(id, "Practice: we are investigating").await;
    w.handle(&task).await.unwrap();
    assert!(w.fake.requests.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_sev_made_private_after_publishing_is_not_sent() {
    let w = world().await;
    let id = w.sev().await;
    let task = w.publish(id, "We are investigating").await;
    let patch = SevPatch {
        private: Some(true),
        ..SevPatch::default()
    };
    w.sevs.patch(id, patch, "U1".into()).await.unwrap();
    w.handle(&task).await.unwrap();
    assert!(w.fake.requests.lock().unwrap().is_empty());
}
