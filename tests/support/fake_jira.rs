//! A fake Jira Cloud (REST API v3) on a free local port: creating an issue (`POST
//! /rest/api/3/issue`) and reading one (`GET /rest/api/3/issue/{key}`). It checks what Jira
//! checks (Basic auth, a JSON body, only fields on the create screen, a known project, the issue
//! type, a priority name, an ADF description, a `YYYY-MM-DD` due date, a one-line summary of at
//! most 255 characters), answers the way Jira
//! does (201 with `id`, `key`, `self`; 400 with `errorMessages`/`errors`), records every request,
//! and can be told to fail or to move an issue to the done status category.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Map, Value, json};

pub const EMAIL: &str = "sevtool-bot@example.com";
pub const API_TOKEN: &str = "jira-fake-token";
pub const ISSUE_TYPES: [&str; 2] = ["Task", "Bug"];
/// The fields on the projects' create screen; any other field is refused.
const CREATE_SCREEN: [&str; 8] = [
    "project",
    "issuetype",
    "summary",
    "priority",
    "description",
    "duedate",
    "labels",
    "assignee",
];

/// An issue the fake created, with the fields it was created with.
#[derive(Debug, Clone)]
pub struct Issue {
    pub key: String,
    pub project: String,
    pub issue_type: String,
    pub summary: String,
    pub priority: String,
    pub description: Value,
    pub duedate: Option<String>,
    pub done: bool,
}

/// One create request and the status the fake answered.
#[derive(Debug, Clone)]
pub struct Request {
    pub status: u16,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    projects: Vec<String>,
    priorities: Vec<String>,
    issues: Vec<Issue>,
    creates: Vec<Request>,
    reads: Vec<String>,
    /// Statuses to answer the next create requests with, before working again.
    create_failures: VecDeque<u16>,
    counters: HashMap<String, u64>,
}

#[derive(Clone, Default)]
pub struct FakeJira {
    inner: Arc<Mutex<Inner>>,
    pub base: String,
}

impl FakeJira {
    /// A site with these projects and Jira's default priority scheme.
    pub async fn start(projects: &[&str]) -> FakeJira {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake Jira");
        let addr = listener.local_addr().expect("fake Jira address");
        let fake = FakeJira {
            base: format!("http://{addr}"),
            ..FakeJira::default()
        };
        {
            let mut inner = fake.inner.lock().unwrap();
            inner.projects = projects.iter().map(|p| (*p).to_owned()).collect();
            inner.priorities = ["Highest", "High", "Medium", "Low", "Lowest"]
                .map(String::from)
                .to_vec();
        }
        let app = Router::new()
            .route("/rest/api/3/issue", post(create))
            .route("/rest/api/3/issue/{key}", get(read))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        fake
    }

    /// The next create requests get these statuses, then it works.
    pub fn fail_creates(&self, statuses: Vec<u16>) {
        self.inner.lock().unwrap().create_failures = statuses.into();
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.inner.lock().unwrap().issues.clone()
    }

    pub fn creates(&self) -> Vec<Request> {
        self.inner.lock().unwrap().creates.clone()
    }

    /// Keys of the issues read, in order.
    pub fn reads(&self) -> Vec<String> {
        self.inner.lock().unwrap().reads.clone()
    }

    /// Moves the issue to a status in the done category, as resolving it in Jira does.
    pub fn resolve(&self, key: &str) {
        let mut inner = self.inner.lock().unwrap();
        let issue = inner.issues.iter_mut().find(|i| i.key == key).expect("no such issue");
        issue.done = true;
    }

    /// The browse link of an issue, as sevtool should store it.
    pub fn browse(&self, key: &str) -> String {
        format!("{}/browse/{key}", self.base)
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{API_TOKEN}"));
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Basic {expected}"))
}

fn jira_error(status: StatusCode, messages: &[&str], errors: Map<String, Value>) -> Response {
    (
        status,
        axum::Json(json!({ "errorMessages": messages, "errors": errors })),
    )
        .into_response()
}

/// What is wrong with an ADF document, checked as far as the nodes sevtool uses go.
fn adf_problem(doc: &Value) -> Option<String> {
    if doc["type"] != "doc" || doc["version"] != 1 {
        return Some("the description must be an ADF document (type doc, version 1)".into());
    }
    let blocks = doc["content"].as_array()?;
    for block in blocks {
        if block["type"] != "paragraph" {
            return Some(format!("unexpected block node {}", block["type"]));
        }
        for inline in block["content"].as_array().into_iter().flatten() {
            let text = inline["text"].as_str().unwrap_or_default();
            if inline["type"] != "text" || text.is_empty() {
                return Some("text nodes must have non-empty text".into());
            }
            for mark in inline["marks"].as_array().into_iter().flatten() {
                if mark["type"] == "link" && !mark["attrs"]["href"].is_string() {
                    return Some("a link mark needs attrs.href".into());
                }
            }
        }
    }
    None
}

async fn create(State(fake): State<FakeJira>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut inner = fake.inner.lock().unwrap();
    let answer = |inner: &mut Inner, status: u16, body: &Value| {
        inner.creates.push(Request {
            status,
            body: body.clone(),
        });
    };
    if let Some(status) = inner.create_failures.pop_front() {
        answer(&mut inner, status, &body);
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return jira_error(code, &["Internal server error"], Map::new());
    }
    if !authorised(&headers) {
        answer(&mut inner, 401, &body);
        return jira_error(StatusCode::UNAUTHORIZED, &["You are not authenticated."], Map::new());
    }
    let json_body = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        answer(&mut inner, 415, &body);
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Unsupported Media Type").into_response();
    }
    let f = &body["fields"];
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut errors = Map::new();
    // Jira refuses a field that is not on the create screen rather than ignoring it.
    for name in f.as_object().into_iter().flat_map(|m| m.keys()) {
        if !CREATE_SCREEN.contains(&name.as_str()) {
            errors.insert(
                name.clone(),
                json!(format!(
                    "Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                )),
            );
        }
    }
    let (project, issue_type, summary, priority) = (
        s(&f["project"]["key"]),
        s(&f["issuetype"]["name"]),
        s(&f["summary"]),
        s(&f["priority"]["name"]),
    );
    let duedate = f.get("duedate").map(s);
    if !inner.projects.contains(&project) {
        errors.insert("project".into(), json!("Specify a valid project ID or key"));
    }
    if !ISSUE_TYPES.contains(&issue_type.as_str()) {
        errors.insert("issuetype".into(), json!("Specify a valid issue type"));
    }
    if summary.is_empty() || summary.chars().count() > 255 || summary.contains('\n') {
        errors.insert(
            "summary".into(),
            json!("Summary must be one line of at most 255 characters."),
        );
    }
    if !inner.priorities.contains(&priority) {
        errors.insert(
            "priority".into(),
            json!("Specify the Priority (name) in the string format"),
        );
    }
    if let Some(problem) = adf_problem(&f["description"]) {
        errors.insert("description".into(), json!(problem));
    }
    if let Some(d) = &duedate
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        errors.insert("duedate".into(), json!("Error parsing date string"));
    }
    if !errors.is_empty() {
        answer(&mut inner, 400, &body);
        return jira_error(StatusCode::BAD_REQUEST, &[], errors);
    }
    let n = {
        let counter = inner.counters.entry(project.clone()).or_default();
        *counter += 1;
        *counter
    };
    let key = format!("{project}-{n}");
    let id = 10_000 + inner.issues.len();
    inner.issues.push(Issue {
        key: key.clone(),
        project,
        issue_type,
        summary,
        priority,
        description: f["description"].clone(),
        duedate,
        done: false,
    });
    answer(&mut inner, 201, &body);
    let this = format!("{}/rest/api/3/issue/{id}", fake.base);
    (
        StatusCode::CREATED,
        axum::Json(json!({ "id": id.to_string(), "key": key, "self": this })),
    )
        .into_response()
}

async fn read(
    State(fake): State<FakeJira>,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if !authorised(&headers) {
        return jira_error(StatusCode::UNAUTHORIZED, &["You are not authenticated."], Map::new());
    }
    let mut inner = fake.inner.lock().unwrap();
    inner.reads.push(key.clone());
    let Some(issue) = inner.issues.iter().find(|i| i.key == key) else {
        return jira_error(
            StatusCode::NOT_FOUND,
            &["Issue does not exist or you do not have permission to see it."],
            Map::new(),
        );
    };
    let (name, category, cat_name) = if issue.done {
        ("Done", "done", "Done")
    } else {
        ("To Do", "new", "To Do")
    };
    let mut fields = json!({
        "status": { "name": name, "statusCategory": { "id": 2, "key": category, "name": cat_name } },
        "resolution": if issue.done { json!({ "name": "Done" }) } else { Value::Null },
    });
    // Jira returns only the fields asked for.
    if let Some(wanted) = q.get("fields") {
        let wanted: Vec<&str> = wanted.split(',').collect();
        if let Some(map) = fields.as_object_mut() {
            map.retain(|k, _| wanted.contains(&k.as_str()));
        }
    }
    axum::Json(json!({ "id": "10000", "key": key, "fields": fields })).into_response()
}
