//! The alert webhooks, driven over HTTP against the real `sevtool` binary with the recorded
//! Alertmanager payloads.

use blackbox::Sevtool;
use serde_json::{Value, json};

const TOKEN: &str = "alert-token-for-tests";

fn recorded(name: &str) -> Value {
    let path = format!("{}/../../shared/vendor/alertmanager/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

async fn with_token(extra: &[(&str, &str)]) -> (Sevtool, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![("ALERT_WEBHOOK_TOKEN", TOKEN)];
    env.extend_from_slice(extra);
    (Sevtool::start(dir.path(), &env).await, dir)
}

async fn deliver(app: &Sevtool, path: &str, body: &Value) -> (u16, Value) {
    let r = app
        .http
        .post(app.url(path))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

async fn sev_count(app: &Sevtool) -> usize {
    app.get_json("/api/sevs").await.1["sevs"].as_array().unwrap().len()
}

fn updates(detail: &Value) -> Vec<String> {
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "update")
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn without_a_token_configured_every_alert_route_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    for path in ["/alerts/alertmanager", "/alerts/grafana", "/alerts/generic"] {
        let r = app
            .http
            .post(app.url(path))
            .bearer_auth("anything")
            .json(&recorded("alertmanager-firing.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("ALERT_WEBHOOK_TOKEN"),
            "{body}"
        );
    }
    assert_eq!(sev_count(&app).await, 0);
}

#[tokio::test]
async fn the_token_is_required_as_bearer_or_basic_auth_password() {
    let (app, _dir) = with_token(&[]).await;
    let body = recorded("alertmanager-firing.json");
    let post = || app.http.post(app.url("/alerts/alertmanager")).json(&body);
    for (label, req) in [
        ("none", post()),
        ("wrong bearer", post().bearer_auth("nope")),
        ("token prefix", post().bearer_auth(&TOKEN[..TOKEN.len() - 1])),
        ("wrong basic", post().basic_auth("alertmanager", Some("nope"))),
        ("token as basic user", post().basic_auth(TOKEN, None::<&str>)),
        ("other scheme", post().header("authorization", format!("Token {TOKEN}"))),
    ] {
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{label}");
        assert!(
            r.headers()["www-authenticate"].to_str().unwrap().contains("Bearer"),
            "{label}"
        );
        let err: Value = r.json().await.unwrap();
        assert!(err["error"].is_string(), "{label}: {err}");
    }
    assert_eq!(sev_count(&app).await, 0, "nothing refused opened a SEV");
    let r = post().basic_auth("alertmanager", Some(TOKEN)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = post().bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sev_count(&app).await, 1);
}

#[tokio::test]
async fn recorded_payloads_open_one_sev_collapse_repeats_and_resolve() {
    let (app, _dir) = with_token(&[]).await;
    let firing = recorded("alertmanager-firing.json");
    let (status, first) = deliver(&app, "/alerts/alertmanager", &firing).await;
    assert_eq!(
        (status, first["action"].as_str(), first["sev"].as_str()),
        (200, Some("opened"), Some("SEV-1"))
    );
    for _ in 0..14 {
        let (status, again) = deliver(&app, "/alerts/alertmanager", &firing).await;
        assert_eq!(
            (status, again["action"].as_str(), again["sev"].as_str()),
            (200, Some("counted"), Some("SEV-1"))
        );
    }
    assert_eq!(sev_count(&app).await, 1);

    let (_, sev) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(
        (sev["level"].as_str(), sev["status"].as_str()),
        (Some("SEV2"), Some("open"))
    );
    assert_eq!(sev["title"], "HighErrorRate: 5xx rate above 5%");
    assert_eq!(sev["reporter"], "alert:alertmanager");
    assert!(
        sev["description"]
            .as_str()
            .unwrap()
            .contains("Runbook: https://runbooks.example.com/checkout")
    );
    assert_eq!(sev["tags"], json!(["system/checkout", "team/checkout"]));
    let notes = updates(&sev);
    assert_eq!(notes.len(), 1, "repeats are counted, not written: {notes:?}");
    assert!(notes[0].contains("Runbook: https://runbooks.example.com/checkout"));

    let (status, origin) = app.get_json("/api/sevs/SEV-1/alerts").await;
    assert_eq!(status, 200);
    assert_eq!(origin["origin"]["runbook_url"], "https://runbooks.example.com/checkout");
    assert_eq!(origin["origin"]["team"], "checkout");
    assert_eq!(origin["group"]["deliveries"], 15);
    assert_eq!(origin["group"]["unreported_deliveries"], 14);

    let resolved = recorded("alertmanager-resolved.json");
    let (status, r) = deliver(&app, "/alerts/alertmanager", &resolved).await;
    assert_eq!((status, r["action"].as_str()), (200, Some("resolved")));
    let (_, sev) = app.get_json("/api/sevs/SEV-1").await;
    let last = updates(&sev).pop().unwrap();
    assert!(
        last.starts_with("All alerts resolved at 2026-11-21 09:09:49 UTC"),
        "{last}"
    );
    assert_eq!(sev["status"], "open", "the default rules only post an update");
    let (_, again) = deliver(&app, "/alerts/alertmanager", &resolved).await;
    assert_eq!(again["action"], "counted", "a retried resolve changes nothing");

    let (status, missing) = app.get_json("/api/sevs/SEV-9/alerts").await;
    assert_eq!((status, missing["error"].is_string()), (404, true));
}

#[tokio::test]
async fn concurrent_deliveries_of_one_group_open_one_sev() {
    let (app, _dir) = with_token(&[]).await;
    let firing = recorded("alertmanager-firing.json");
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (http, url, body) = (app.http.clone(), app.url("/alerts/alertmanager"), firing.clone());
        posts.spawn(async move { http.post(url).bearer_auth(TOKEN).json(&body).send().await });
    }
    while let Some(r) = posts.join_next().await {
        assert_eq!(r.unwrap().unwrap().status(), 200);
    }
    assert_eq!(sev_count(&app).await, 1);
    let (_, origin) = app.get_json("/api/sevs/SEV-1/alerts").await;
    assert_eq!(origin["group"]["deliveries"], 20);
    let (_, sev) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(updates(&sev).len(), 1, "one opening note");
}

#[tokio::test]
async fn bad_payloads_get_a_precise_4xx_and_change_nothing() {
    let (app, _dir) = with_token(&[]).await;
    let mut wrong_version = recorded("alertmanager-firing.json");
    wrong_version["version"] = "3".into();
    let mut no_group = recorded("alertmanager-firing.json");
    no_group.as_object_mut().unwrap().remove("groupKey");
    let mut bad_status = recorded("alertmanager-firing.json");
    bad_status["alerts"][0]["status"] = "burning".into();
    let mut huge = recorded("alertmanager-firing.json");
    huge["commonAnnotations"]["description"] = "x".repeat(1_100_000).into();
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "/alerts/alertmanager",
            "application/json",
            "{".into(),
            400,
            "not valid JSON",
        ),
        (
            "/alerts/alertmanager",
            "application/json",
            wrong_version.to_string(),
            400,
            "version: `3`",
        ),
        (
            "/alerts/alertmanager",
            "application/json",
            no_group.to_string(),
            400,
            "groupKey",
        ),
        (
            "/alerts/alertmanager",
            "application/json",
            bad_status.to_string(),
            400,
            "alerts[0].status",
        ),
        (
            "/alerts/alertmanager",
            "application/json",
            json!({"version": "4"}).to_string(),
            400,
            "groupKey",
        ),
        (
            "/alerts/alertmanager",
            "text/plain",
            recorded("alertmanager-firing.json").to_string(),
            415,
            "application/json",
        ),
        (
            "/alerts/alertmanager",
            "application/json",
            huge.to_string(),
            413,
            "1024 KiB",
        ),
        (
            "/alerts/grafana",
            "application/json",
            recorded("alertmanager-firing.json").to_string(),
            400,
            "version: `4`",
        ),
        (
            "/alerts/generic",
            "application/json",
            json!({"title": "x"}).to_string(),
            400,
            "fingerprint",
        ),
        (
            "/alerts/generic",
            "application/json",
            json!({"fingerprint": "x", "title": "x", "sevrity": "1"}).to_string(),
            400,
            "sevrity",
        ),
    ];
    for (path, ct, body, want, text) in cases {
        let r = app
            .http
            .post(app.url(path))
            .bearer_auth(TOKEN)
            .header("content-type", ct)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let err: Value = r.json().await.unwrap();
        let msg = err["error"].as_str().unwrap_or_default();
        assert_eq!(
            status,
            want,
            "{path} {}: {msg}",
            &body.chars().take(40).collect::<String>()
        );
        assert!(msg.contains(text), "{path}: {msg:?} should mention {text:?}");
    }
    assert_eq!(sev_count(&app).await, 0);
}

#[tokio::test]
async fn grafana_and_generic_alerts_follow_the_rules_file() {
    let rules_dir = tempfile::tempdir().unwrap();
    let rules = rules_dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        r#"
        [[rule]]
        name = "disk"
        match = ['alertname=~"Disk.*"']
        level = "SEV3"
        product_track = "{{product}}"
        tags = ["system/{{service}}"]
        team = "storage"

        [[rule]]
        match = ['severity="critical"']
        level = "SEV1"
        mitigate_on_resolve = true
        "#,
    )
    .unwrap();
    let (app, _dir) = with_token(&[("SEVTOOL_ALERT_RULES", rules.to_str().unwrap())]).await;
    let grafana = json!({
        "receiver": "sev", "status": "firing", "orgId": 1, "version": "1", "state": "alerting",
        "groupKey": "{}/{}:{alertname=\"DiskFull\"}", "title": "[FIRING:1] DiskFull", "message": "m",
        "groupLabels": {"alertname": "DiskFull"}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "https://grafana.example.com/", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "service": "ledger", "product": "payments"},
            "annotations": {"summary": "disk 97% full", "runbook_url": "https://rb/disk"},
            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example.com/alerting/x/view", "fingerprint": "f1",
            "silenceURL": "", "dashboardURL": "", "panelURL": "", "valueString": "[ var='A' value=97 ]"}]
    });
    let (status, o) = deliver(&app, "/alerts/grafana", &grafana).await;
    assert_eq!((status, o["action"].as_str()), (200, Some("opened")), "{o}");
    let (_, sev) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(
        (sev["level"].as_str(), sev["product_track"].as_str()),
        (Some("SEV3"), Some("payments"))
    );
    assert_eq!(sev["tags"], json!(["system/ledger", "team/storage"]));
    assert_eq!(sev["started_at"], "2026-01-01T00:00:00Z");

    let generic = json!({"fingerprint": "ledger-lag", "title": "Ledger lag over 5 minutes",
        "labels": {"severity": "critical"}, "runbook_url": "https://rb/lag"});
    let (_, o) = deliver(&app, "/alerts/generic", &generic).await;
    assert_eq!(
        (o["action"].as_str(), o["sev"].as_str()),
        (Some("opened"), Some("SEV-2"))
    );
    let mut resolved = generic.clone();
    resolved["status"] = "resolved".into();
    let (_, o) = deliver(&app, "/alerts/generic", &resolved).await;
    assert_eq!(
        (o["action"].as_str(), o["mitigated"].as_bool()),
        (Some("resolved"), Some(true))
    );
    let (_, sev) = app.get_json("/api/sevs/SEV-2").await;
    assert_eq!(sev["status"], "mitigated");

    let (_, o) = deliver(
        &app,
        "/alerts/generic",
        &json!({"fingerprint": "noise", "title": "CPU warm"}),
    )
    .await;
    assert_eq!((o["action"].as_str(), o["sev"].is_null()), (Some("recorded"), true));
    assert_eq!(sev_count(&app).await, 2);
}

#[tokio::test]
async fn grafana_organisations_stay_apart_and_their_links_reach_the_sev() {
    let (app, _dir) = with_token(&[]).await;
    let payload = |org: u64| {
        json!({
            "receiver": "sev", "status": "firing", "orgId": org, "version": "1", "state": "alerting",
            "groupKey": "{}/{}:{alertname=\"LedgerLag\"}", "title": "[FIRING:1] LedgerLag", "message": "m",
            "groupLabels": {"alertname": "LedgerLag"}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "https://grafana.example.com/", "truncatedAlerts": 0,
            "alerts": [{"status": "firing", "labels": {"alertname": "LedgerLag", "severity": "page"},
                "annotations": {"summary": "ledger 6 min behind"},
                "startsAt": "2026-11-30T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": format!("https://grafana.example.com/alerting/grafana/lag/view?orgId={org}"),
                "fingerprint": "lag1",
                "silenceURL": format!("https://grafana.example.com/alerting/silence/new?orgId={org}"),
                "dashboardURL": format!("https://grafana.example.com/d/ledger?orgId={org}"),
                "panelURL": format!("https://grafana.example.com/d/ledger?orgId={org}&viewPanel=4"),
                "valueString": "[ var='A' value=361 ]"}]
        })
    };
    let (_, first) = deliver(&app, "/alerts/grafana", &payload(1)).await;
    let (_, other) = deliver(&app, "/alerts/grafana", &payload(2)).await;
    let (_, again) = deliver(&app, "/alerts/grafana", &payload(1)).await;
    assert_eq!(first["action"], "opened", "{first}");
    assert_eq!(
        other["action"], "opened",
        "the same group in another organisation is its own: {other}"
    );
    assert_ne!(first["sev"], other["sev"]);
    assert_eq!(
        again["sev"], first["sev"],
        "a repeat in organisation 1 joins its SEV: {again}"
    );
    assert_eq!(sev_count(&app).await, 2);

    let (_, sev) = app
        .get_json(&format!("/api/sevs/{}", first["sev"].as_str().unwrap()))
        .await;
    let description = sev["description"].as_str().unwrap();
    for link in [
        "https://grafana.example.com/d/ledger?orgId=1",
        "https://grafana.example.com/d/ledger?orgId=1&viewPanel=4",
        "https://grafana.example.com/alerting/silence/new?orgId=1",
        "https://grafana.example.com/alerting/grafana/lag/view?orgId=1",
    ] {
        assert!(description.contains(link), "{link} in {description}");
    }
    assert!(!description.contains("orgId=2"), "{description}");
    for (answer, org) in [(&first, "org1:"), (&other, "org2:")] {
        let (_, origin) = app
            .get_json(&format!("/api/sevs/{}/alerts", answer["sev"].as_str().unwrap()))
            .await;
        let key = origin["origin"]["group_key"].as_str().unwrap_or_default();
        assert!(key.starts_with(org), "{origin}");
    }
}
