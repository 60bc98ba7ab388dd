//! The JSON API, driven over HTTP against the real `sevtool` binary.

use blackbox::Sevtool;
use serde_json::{Value, json};

async fn fresh() -> (Sevtool, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Sevtool::start(dir.path(), &[]).await, dir)
}

async fn error_of(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("error body for {status} is not JSON: {e}"));
    let msg = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field in {body}"))
        .to_owned();
    (status, msg)
}

#[tokio::test]
async fn health_check_answers() {
    let (app, _dir) = fresh().await;
    let r = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_sev_is_filed_updated_mitigated_resolved_and_closed() {
    let (app, _dir) = fresh().await;
    let r = app
        .post_json(
            "/api/sevs",
            json!({"title": "Checkout returns 5xx", "level": "SEV1", "product_track": "payments",
                   "tags": ["system/payments/ledger"], "started_at": "2026-07-14T09:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["location"], "/api/sevs/SEV-1");
    let sev: Value = r.json().await.unwrap();
    assert_eq!(
        (sev["id"].as_str(), sev["level"].as_str(), sev["status"].as_str()),
        (Some("SEV-1"), Some("SEV1"), Some("open"))
    );
    assert_eq!(sev["tags"], json!(["system/payments/ledger"]));

    let r = app
        .post_json(
            "/api/sevs/SEV-1/updates",
            json!({"text": "Rolled back deploy 4812", "author": "alice"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    for status in ["mitigated", "resolved"] {
        let r = app.post_json("/api/sevs/SEV-1/status", json!({"status": status})).await;
        assert_eq!(r.status(), 200, "{status}");
    }
    let r = app
        .http
        .patch(app.url("/api/sevs/sev-1"))
        .json(&json!({"level": "SEV0", "add_tags": ["root-cause/deploy"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app.post_json("/api/sevs/1/status", json!({"status": "closed"})).await;
    assert_eq!(r.status(), 200);

    let (status, detail) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(status, 200);
    assert_eq!(detail["status"], "closed");
    assert_eq!(detail["level"], "SEV0");
    assert!(detail["time_to_resolve_minutes"].as_f64().unwrap() > 0.0);
    let kinds: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "filed",
            "update",
            "status_changed",
            "status_changed",
            "field_changed",
            "level_changed",
            "status_changed"
        ]
    );
    assert_eq!(detail["timeline"][1]["author"], "alice");
    assert_eq!(detail["timeline"][1]["text"], "Rolled back deploy 4812");
}

#[tokio::test]
async fn only_the_comms_lead_coordinator_or_a_deputy_publish_and_never_for_a_private_sev() {
    let (app, _dir) = fresh().await;
    app.file_sev_id(json!({"title": "Checkout 5xx", "level": "SEV1"})).await;
    let publish = |author: &str| {
        app.post_json(
            "/api/sevs/SEV-1/updates",
            json!({"text": "Card payments are failing for some customers", "public": true, "author": author}),
        )
    };
    let (status, error) = error_of(publish("U0BOB").await).await;
    assert_eq!(status, 403);
    assert!(error.contains("`U0BOB` is none of them"), "{error}");
    let patch = |body: Value| app.http.patch(app.url("/api/sevs/SEV-1")).json(&body).send();
    assert_eq!(patch(json!({"comms_lead": "U0CAT"})).await.unwrap().status(), 200);
    let (status, error) = error_of(
        patch(json!({"add_deputies": ["U0BOB"], "author": "U0BOB"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "nobody appoints themselves past the comms lead");
    assert!(error.contains("may appoint the comms lead and deputies"), "{error}");
    assert_eq!(publish("U0CAT").await.status(), 201);
    let internal = app
        .post_json(
            "/api/sevs/SEV-1/updates",
            json!({"text": "rolled back 4812", "author": "U0BOB"}),
        )
        .await;
    assert_eq!(internal.status(), 201, "anyone may post an internal update");
    let (_, detail) = app.get_json("/api/sevs/SEV-1").await;
    let public = detail["public_updates"].as_array().unwrap();
    assert_eq!(public.len(), 1, "{detail}");
    assert_eq!(public[0]["author"], "U0CAT");
    assert_eq!(public[0]["text"], "Card payments are failing for some customers");
    assert!(
        detail["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "public_update")
    );

    assert_eq!(patch(json!({"private": true})).await.unwrap().status(), 200);
    let (status, error) = error_of(publish("U0CAT").await).await;
    assert_eq!(status, 409);
    assert!(error.contains("a private SEV is never published"), "{error}");
}

#[tokio::test]
async fn the_comms_lead_and_deputies_are_set_and_cleared_through_the_api() {
    let (app, _dir) = fresh().await;
    app.file_sev_id(json!({"title": "Checkout 5xx", "level": "SEV1"})).await;
    let patch = |body: Value| app.http.patch(app.url("/api/sevs/SEV-1")).json(&body).send();
    let r = patch(json!({"comms_lead": "web:cat", "add_deputies": ["U0DAN", "U0EVE", "U0DAN"]}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sev: Value = r.json().await.unwrap();
    assert_eq!(sev["comms_lead"], "web:cat");
    assert_eq!(sev["deputies"], json!(["U0DAN", "U0EVE"]));
    let r = patch(json!({"comms_lead": null, "remove_deputies": ["U0DAN"]}))
        .await
        .unwrap();
    let sev: Value = r.json().await.unwrap();
    assert!(sev.get("comms_lead").is_none(), "{sev}");
    assert_eq!(sev["deputies"], json!(["U0EVE"]));
    let (_, detail) = app.get_json("/api/sevs/SEV-1").await;
    let changes: Vec<(String, String)> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "field_changed")
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("comms_lead".into(), "web:cat".into()),
            ("deputies".into(), "U0DAN, U0EVE".into()),
            ("comms_lead".into(), String::new()),
            ("deputies".into(), "U0EVE".into()),
        ]
    );
    let r = patch(json!({"deputies": null})).await.unwrap();
    let sev: Value = r.json().await.unwrap();
    assert!(sev.get("deputies").is_none(), "null clears the deputies: {sev}");
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retried_post_return_the_same_sev() {
    let (app, _dir) = fresh().await;
    let post = |key: &'static str, title: &'static str| {
        app.http
            .post(app.url("/api/sevs"))
            .header("Idempotency-Key", key)
            .json(&json!({"title": title, "level": "SEV2"}))
            .send()
    };
    let (a, b) = tokio::join!(post("k-1", "DNS"), post("k-1", "DNS"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    let replayed = [&a, &b]
        .iter()
        .filter(|r| r.headers().contains_key("idempotent-replayed"))
        .count();
    assert_eq!(replayed, 1);
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["id"], b["id"]);
    let (_, list) = app.get_json("/api/sevs").await;
    assert_eq!(list["sevs"].as_array().unwrap().len(), 1);
    let (status, msg) = error_of(post("k-1", "Not DNS").await.unwrap()).await;
    assert_eq!(status, 409);
    assert!(msg.contains("Idempotency-Key"), "{msg}");
}

#[tokio::test]
async fn twenty_concurrent_updates_all_land() {
    let (app, _dir) = fresh().await;
    app.file_sev(json!({"title": "Ledger lag", "level": "SEV2"})).await;
    let mut posts = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (http, url) = (app.http.clone(), app.url("/api/sevs/SEV-1/updates"));
        posts.spawn(async move { http.post(url).json(&json!({"text": format!("u{i}")})).send().await });
    }
    while let Some(r) = posts.join_next().await {
        assert_eq!(r.unwrap().unwrap().status(), 201);
    }
    let (_, detail) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(detail["timeline"].as_array().unwrap().len(), 21);
}

#[tokio::test]
async fn lists_filter_by_status_level_and_time() {
    let (app, _dir) = fresh().await;
    app.file_sev(json!({"title": "a", "level": "SEV1"})).await;
    app.file_sev(json!({"title": "b", "level": "SEV3"})).await;
    app.post_json(
        "/api/sevs/SEV-2/status",
        json!({"status": "resolved", "reason": "false alarm"}),
    )
    .await;
    let ids = |v: Value| {
        v["sevs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(app.get_json("/api/sevs").await.1), ["SEV-1", "SEV-2"]);
    assert_eq!(ids(app.get_json("/api/sevs?status=resolved").await.1), ["SEV-2"]);
    assert_eq!(ids(app.get_json("/api/sevs?level=SEV1,SEV2").await.1), ["SEV-1"]);
    assert!(ids(app.get_json("/api/sevs?since=2020-01-01&until=2020-02-01").await.1).is_empty());
}

#[tokio::test]
async fn the_list_shows_active_sevs_worst_first_then_the_last_90_days_last_declared_first() {
    let (app, _dir) = fresh().await;
    let ago = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    // (title, level, started days ago, resolved)
    let sevs = [
        ("sev2 open today", "SEV2", 0, false),
        ("sev0 open for 200 days", "SEV0", 200, false),
        ("sev3 resolved 100 days ago", "SEV3", 100, true),
        ("sev1 resolved 10 days ago", "SEV1", 10, true),
        ("sev1 open since yesterday", "SEV1", 1, false),
        ("sev3 resolved 89 days ago", "SEV3", 89, true),
    ];
    for (title, level, days, resolved) in sevs {
        let id = app
            .file_sev_id(json!({"title": title, "level": level, "started_at": ago(days), "detected_at": ago(days)}))
            .await;
        if resolved {
            let r = app
                .post_json(
                    &format!("/api/sevs/{id}/status"),
                    json!({"status": "resolved", "reason": "fixed"}),
                )
                .await;
            assert_eq!(r.status(), 200);
        }
    }
    let titles = |v: Value| {
        v["sevs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        titles(app.get_json("/api/sevs").await.1),
        [
            "sev0 open for 200 days",
            "sev1 open since yesterday",
            "sev2 open today",
            "sev3 resolved 89 days ago",
            "sev1 resolved 10 days ago",
        ],
        "active first, worst first; then those started in the last 90 days, the last declared first; \
         older resolved ones left out"
    );
    let since = (chrono::Utc::now() - chrono::Duration::days(120))
        .format("%Y-%m-%d")
        .to_string();
    let all = titles(app.get_json(&format!("/api/sevs?since={since}")).await.1);
    assert!(all.contains(&"sev3 resolved 100 days ago".to_owned()), "{all:?}");
    assert!(
        !all.contains(&"sev0 open for 200 days".to_owned()),
        "an explicit range is by started_at, active or not: {all:?}"
    );
}

#[tokio::test]
async fn bad_input_gets_a_precise_4xx_on_every_route() {
    let (app, _dir) = fresh().await;
    app.file_sev(json!({"title": "exists", "level": "SEV2"})).await;
    let raw = |method: reqwest::Method, path: &str, ct: &str, body: &str| {
        app.http
            .request(method, app.url(path))
            .header("content-type", ct)
            .body(body.to_owned())
            .send()
    };
    use reqwest::Method as M;
    let cases: Vec<(M, &str, &str, String, u16, &str)> = vec![
        (
            M::POST,
            "/api/sevs",
            "application/json",
            "{".into(),
            400,
            "not valid JSON",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"level":"SEV1"}"#.into(),
            400,
            "title",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"x"}"#.into(),
            400,
            "level",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"x","level":"SEV9"}"#.into(),
            400,
            "level: `SEV9` is not a level",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"  ","level":"SEV1"}"#.into(),
            400,
            "title: is required",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"x","level":"SEV1","colour":"red"}"#.into(),
            400,
            "colour",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"x","level":"SEV1","tags":["ok","a//b"]}"#.into(),
            400,
            "tags[1]",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"x","level":"SEV1","started_at":"yesterday"}"#.into(),
            400,
            "started_at",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            r#"{"title":"x","level":"SEV1","detected_at":"2999-01-01T00:00:00Z"}"#.into(),
            400,
            "detected_at",
        ),
        (M::POST, "/api/sevs", "application/json", r#"[1]"#.into(), 400, "body"),
        (
            M::POST,
            "/api/sevs",
            "text/plain",
            r#"{"title":"x","level":"SEV1"}"#.into(),
            415,
            "Content-Type: application/json",
        ),
        (
            M::POST,
            "/api/sevs",
            "application/json",
            format!(
                r#"{{"title":"x","level":"SEV1","description":"{}"}}"#,
                "a".repeat(70_000)
            ),
            413,
            "64 KiB",
        ),
        (
            M::GET,
            "/api/sevs/SEV-99",
            "application/json",
            String::new(),
            404,
            "SEV-99 does not exist",
        ),
        (
            M::GET,
            "/api/sevs/banana",
            "application/json",
            String::new(),
            400,
            "SEV-42",
        ),
        (
            M::GET,
            "/api/sevs?status=done",
            "application/json",
            String::new(),
            400,
            "status",
        ),
        (
            M::GET,
            "/api/sevs?colour=red",
            "application/json",
            String::new(),
            400,
            "colour",
        ),
        (
            M::GET,
            "/api/sevs?since=2026-13-01",
            "application/json",
            String::new(),
            400,
            "since",
        ),
        (
            M::GET,
            "/api/sevs?since=2026-02-01&until=2026-01-01",
            "application/json",
            String::new(),
            400,
            "before until",
        ),
        (
            M::POST,
            "/api/sevs/SEV-1/updates",
            "application/json",
            r#"{"text":""}"#.into(),
            400,
            "text",
        ),
        (
            M::POST,
            "/api/sevs/SEV-99/updates",
            "application/json",
            r#"{"text":"x"}"#.into(),
            404,
            "SEV-99",
        ),
        (
            M::POST,
            "/api/sevs/SEV-1/status",
            "application/json",
            r#"{"status":"closed"}"#.into(),
            409,
            "resolve it first",
        ),
        (
            M::POST,
            "/api/sevs/SEV-1/status",
            "application/json",
            r#"{"status":"open"}"#.into(),
            409,
            "already open",
        ),
        (
            M::POST,
            "/api/sevs/SEV-1/status",
            "application/json",
            r#"{"status":"gone"}"#.into(),
            400,
            "status",
        ),
        (
            M::PATCH,
            "/api/sevs/SEV-1",
            "application/json",
            "{}".into(),
            400,
            "nothing to change",
        ),
        (
            M::PATCH,
            "/api/sevs/SEV-1",
            "application/json",
            r#"{"id":"SEV-2"}"#.into(),
            400,
            "id",
        ),
        (
            M::PATCH,
            "/api/sevs/SEV-1",
            "application/json",
            r#"{"title":7}"#.into(),
            400,
            "title",
        ),
        (
            M::PATCH,
            "/api/sevs/SEV-1",
            "application/json",
            json!({ "deputies": (0..11).map(|i| format!("U{i}")).collect::<Vec<_>>() }).to_string(),
            400,
            "deputies: has more than 10 people",
        ),
        (
            M::PATCH,
            "/api/sevs/SEV-1",
            "application/json",
            r#"{"add_deputies":"U1"}"#.into(),
            400,
            "add_deputies",
        ),
        (
            M::POST,
            "/api/sevs/SEV-1/updates",
            "application/json",
            r#"{"text":"x","author":"alert:fake"}"#.into(),
            400,
            "alert:",
        ),
        (
            M::DELETE,
            "/api/sevs/SEV-1",
            "application/json",
            String::new(),
            405,
            "method",
        ),
        (M::GET, "/nope", "application/json", String::new(), 404, "no such route"),
    ];
    for (method, path, ct, body, want_status, want_text) in cases {
        let label = format!("{method} {path} {}", &body.chars().take(60).collect::<String>());
        let (status, msg) = error_of(raw(method, path, ct, &body).await.unwrap()).await;
        assert_eq!(status, want_status, "{label}: {msg}");
        assert!(msg.contains(want_text), "{label}: {msg:?} should mention {want_text:?}");
    }
    let (status, msg) = error_of(
        app.http
            .post(app.url("/api/sevs"))
            .header("Idempotency-Key", "")
            .json(&json!({"title": "x", "level": "SEV1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, msg.contains("Idempotency-Key")), (400, true), "{msg}");
    let (_, detail) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(
        detail["timeline"].as_array().unwrap().len(),
        1,
        "no rejected request changed anything"
    );
}

#[tokio::test]
async fn corrective_actions_are_added_tracked_and_closed_with_a_reason() {
    let (app, _dir) = fresh().await;
    app.file_sev(json!({"title": "Ledger lag", "level": "SEV1"})).await;
    let r = app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "Alert on replication lag", "priority": "must", "owner": "alice"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let sca: Value = r.json().await.unwrap();
    assert_eq!(
        (sca["id"].as_str(), sca["state"].as_str(), sca["priority"].as_str()),
        (Some("SCA-1"), Some("open"), Some("must"))
    );
    assert!(
        sca["due"].as_str().is_some(),
        "Must Do on a SEV1 gets the policy's deadline"
    );
    let r = app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "Runbook for failover", "priority": "could"}),
        )
        .await;
    assert_eq!(r.status(), 201);

    let (_, mine) = app.get_json("/api/scas?owner=alice").await;
    assert_eq!(mine["scas"].as_array().unwrap().len(), 1);
    let patch = |id: &str, body: Value| app.http.patch(app.url(&format!("/api/scas/{id}"))).json(&body).send();
    let (status, msg) = error_of(patch("SCA-1", json!({"state": "wont_do"})).await.unwrap()).await;
    assert_eq!((status, msg.contains("reason")), (400, true), "{msg}");
    let r = patch("SCA-1", json!({"state": "wont_do", "reason": "covered by SCA-2"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = patch("SCA-2", json!({"state": "done", "author": "bob"})).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "done");

    let (_, detail) = app.get_json("/api/sevs/SEV-1").await;
    let states: Vec<&str> = detail["scas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["wont_do", "done"]);
    let sca_entries = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "sca")
        .count();
    assert_eq!(sca_entries, 4, "two added, one dropped, one done");
    let (_, mine) = app.get_json("/api/scas?owner=alice").await;
    assert!(mine["scas"].as_array().unwrap().is_empty());

    for (method, path, body, want, text) in [
        (
            "POST",
            "/api/sevs/SEV-1/scas",
            json!({"text": "x", "priority": "urgent"}),
            400,
            "priority",
        ),
        ("POST", "/api/sevs/SEV-1/scas", json!({"priority": "must"}), 400, "text"),
        (
            "POST",
            "/api/sevs/SEV-9/scas",
            json!({"text": "x", "priority": "must"}),
            404,
            "SEV-9",
        ),
        ("PATCH", "/api/scas/SCA-99", json!({"state": "done"}), 404, "SCA-99"),
        ("PATCH", "/api/scas/SCA-1", json!({}), 400, "nothing to change"),
        ("PATCH", "/api/scas/bogus", json!({"state": "done"}), 400, "SCA-7"),
    ] {
        let m = if method == "POST" {
            reqwest::Method::POST
        } else {
            reqwest::Method::PATCH
        };
        let (status, msg) = error_of(app.http.request(m, app.url(path)).json(&body).send().await.unwrap()).await;
        assert_eq!(status, want, "{method} {path}: {msg}");
        assert!(msg.contains(text), "{method} {path}: {msg}");
    }
    let (status, msg) = error_of(app.http.get(app.url("/api/scas")).send().await.unwrap()).await;
    assert_eq!((status, msg.contains("owner")), (400, true));
}
