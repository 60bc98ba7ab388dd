//! The web UI over HTTP against the real `sevtool`: forms, CSRF, escaping, double submits.

use blackbox::Sevtool;
use serde_json::Value;

/// A browser in miniature: keeps the CSRF cookie and reads hidden fields out of pages.
struct Browser {
    app: Sevtool,
    http: reqwest::Client,
    cookie: String,
    _dir: tempfile::TempDir,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in the page"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

impl Browser {
    async fn open() -> Browser {
        let dir = tempfile::tempdir().unwrap();
        let app = Sevtool::start(dir.path(), &[]).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            app,
            http,
            cookie: String::new(),
            _dir: dir,
        }
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(self.app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        if let Some(c) = r.headers().get("set-cookie") {
            self.cookie = c.to_str().unwrap().split(';').next().unwrap().to_owned();
        }
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.http
            .post(self.app.url(path))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn sev(&self, id: &str) -> Value {
        self.app.get_json(&format!("/api/sevs/{id}")).await.1
    }
}

#[tokio::test]
async fn a_sev_is_filed_updated_and_resolved_through_the_forms() {
    let mut b = Browser::open().await;
    let (status, page) = b.get("/sevs/new").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Critical: the whole product is down"),
        "level criteria are shown"
    );
    let csrf = hidden(&page, "csrf");
    let submission = hidden(&page, "submission");
    let r = b
        .post(
            "/sevs",
            &[
                ("csrf", &csrf),
                ("submission", &submission),
                ("title", "Checkout 5xx"),
                ("level", "SEV1"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/sevs/SEV-1");

    let (_, page) = b.get("/sevs/SEV-1").await;
    let csrf = hidden(&page, "csrf");
    assert_eq!(
        b.post(
            "/sevs/SEV-1/updates",
            &[("csrf", &csrf), ("text", "Rolled back deploy 4812")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        b.post(
            "/sevs/SEV-1/scas",
            &[
                ("csrf", &csrf),
                ("text", "Canary config pushes"),
                ("priority", "must"),
                ("owner", "alice")
            ]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        b.post(
            "/sevs/SEV-1/fields",
            &[
                ("csrf", &csrf),
                ("level", "SEV0"),
                ("coordinator", "bob"),
                ("report_owner", ""),
                ("product_track", "payments"),
                ("add_tag", "system/payments")
            ]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        b.post(
            "/sevs/SEV-1/status",
            &[("csrf", &csrf), ("status", "mitigated"), ("reason", "")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        b.post(
            "/sevs/SEV-1/status",
            &[("csrf", &csrf), ("status", "resolved"), ("reason", "")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(b.post("/scas/SCA-1/done", &[("csrf", &csrf)]).await.status(), 303);

    let sev = b.sev("SEV-1").await;
    assert_eq!(
        (
            sev["status"].as_str(),
            sev["level"].as_str(),
            sev["coordinator"].as_str()
        ),
        (Some("resolved"), Some("SEV0"), Some("bob"))
    );
    assert_eq!(sev["scas"][0]["state"], "done");
    let (_, page) = b.get("/sevs/SEV-1").await;
    for shown in [
        "Rolled back deploy 4812",
        "Canary config pushes",
        "Status changed from mitigated to resolved",
        "system&#x2f;payments",
    ] {
        assert!(page.contains(shown), "the page shows {shown}");
    }
    let (_, list) = b.get("/?status=resolved").await;
    assert!(list.contains("SEV-1") && list.contains("Checkout 5xx"));
    let (_, none) = b.get("/?level=SEV3").await;
    assert!(!none.contains("Checkout 5xx"));
}

#[tokio::test]
async fn titles_are_shown_as_text_never_run_as_script() {
    let mut b = Browser::open().await;
    let (_, page) = b.get("/sevs/new").await;
    let (csrf, submission) = (hidden(&page, "csrf"), hidden(&page, "submission"));
    b.post(
        "/sevs",
        &[
            ("csrf", &csrf),
            ("submission", &submission),
            ("title", "<script>alert(1)</script>"),
            ("level", "SEV2"),
            ("description", ""),
        ],
    )
    .await;
    for path in ["/", "/sevs/SEV-1"] {
        let (_, html) = b.get(path).await;
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{path} escapes the title"
        );
        assert!(!html.contains("<script>alert(1)"), "{path} never emits it raw");
    }
}

#[tokio::test]
async fn a_double_submitted_form_files_one_sev_and_a_refused_one_keeps_what_was_typed() {
    let mut b = Browser::open().await;
    let (_, page) = b.get("/sevs/new").await;
    let (csrf, submission) = (hidden(&page, "csrf"), hidden(&page, "submission"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("submission", submission.as_str()),
        ("title", "DNS down"),
        ("level", "SEV1"),
        ("description", ""),
    ];
    let (a, b2) = tokio::join!(b.post("/sevs", &fields), b.post("/sevs", &fields));
    assert_eq!((a.status().as_u16(), b2.status().as_u16()), (303, 303));
    assert_eq!(a.headers()["location"], b2.headers()["location"]);
    let list = b.app.get_json("/api/sevs").await.1;
    assert_eq!(list["sevs"].as_array().unwrap().len(), 1);

    let (_, page) = b.get("/sevs/new").await;
    let submission = hidden(&page, "submission");
    let r = b
        .post(
            "/sevs",
            &[
                ("csrf", &csrf),
                ("submission", &submission),
                ("title", "   "),
                ("level", "SEV1"),
                ("description", "lots of careful notes"),
            ],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("title: is required"), "the reason is shown");
    assert!(html.contains("lots of careful notes"), "what was typed is kept");
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let mut b = Browser::open().await;
    b.get("/sevs/new").await;
    let r = b
        .post(
            "/sevs",
            &[
                ("csrf", "0123456789abcdef0123456789abcdef"),
                ("submission", "x"),
                ("title", "forged"),
                ("level", "SEV0"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    let stranger = Browser::open().await;
    let r = stranger
        .post(
            "/sevs",
            &[
                ("csrf", ""),
                ("submission", "x"),
                ("title", "forged"),
                ("level", "SEV0"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    assert!(
        b.app.get_json("/api/sevs").await.1["sevs"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (status, _) = b.get("/sevs/SEV-404").await;
    assert_eq!(status, 404);
}

/// One step of the story, as a web form and as its JSON API twin.
struct Step {
    form: (&'static str, &'static [(&'static str, &'static str)]),
    api: (&'static str, &'static str, fn() -> Value),
    /// A timeline kind that a background task adds after this step (the report draft). Both
    /// servers wait for it, so the timelines are compared in an order that does not race.
    settles_with: Option<&'static str>,
}

/// The same story told through the forms on one server and through the API on another ends in
/// the same SEV: same status, fields, SCAs and timeline kinds.
#[tokio::test]
async fn every_web_action_has_an_api_twin_that_ends_the_same() {
    use serde_json::json;
    let steps: Vec<Step> = vec![
        Step {
            form: ("/sevs/1/updates", &[("text", "Rolled back")]),
            api: ("POST", "/api/sevs/1/updates", || json!({"text": "Rolled back"})),
            settles_with: None,
        },
        Step {
            form: (
                "/sevs/1/fields",
                &[
                    ("level", "SEV1"),
                    ("coordinator", "ana"),
                    ("report_owner", "bo"),
                    ("comms_lead", "cy"),
                    ("deputies", "dee, ed , "),
                    ("product_track", "payments"),
                    ("add_tag", "root-cause/deploy"),
                ],
            ),
            api: (
                "PATCH",
                "/api/sevs/1",
                || json!({"level": "SEV1", "coordinator": "ana", "report_owner": "bo", "comms_lead": "cy", "deputies": ["dee", "ed"], "product_track": "payments", "add_tags": ["root-cause/deploy"]}),
            ),
            settles_with: Some("report"),
        },
        Step {
            form: (
                "/sevs/1/scas",
                &[("text", "Canary deploys"), ("priority", "must"), ("owner", "dana")],
            ),
            api: (
                "POST",
                "/api/sevs/1/scas",
                || json!({"text": "Canary deploys", "priority": "must", "owner": "dana"}),
            ),
            settles_with: None,
        },
        Step {
            form: ("/scas/1/owner", &[("owner", "erin")]),
            api: ("PATCH", "/api/scas/1", || json!({"owner": "erin"})),
            settles_with: None,
        },
        Step {
            form: (
                "/sevs/1/fields",
                &[
                    ("started_at", "2026-07-01T09:30"),
                    ("detected_at", "2026-07-01T09:45"),
                    ("remove_tag", "root-cause/deploy"),
                ],
            ),
            api: (
                "PATCH",
                "/api/sevs/1",
                || json!({"started_at": "2026-07-01T09:30:00Z", "detected_at": "2026-07-01T09:45:00Z", "remove_tags": ["root-cause/deploy"]}),
            ),
            settles_with: None,
        },
        Step {
            form: ("/scas/1/done", &[]),
            api: ("PATCH", "/api/scas/1", || json!({"state": "done"})),
            settles_with: None,
        },
        Step {
            form: ("/sevs/1/status", &[("status", "mitigated")]),
            api: ("POST", "/api/sevs/1/status", || json!({"status": "mitigated"})),
            settles_with: None,
        },
        Step {
            form: ("/sevs/1/status", &[("status", "resolved"), ("reason", "fixed")]),
            api: (
                "POST",
                "/api/sevs/1/status",
                || json!({"status": "resolved", "reason": "fixed"}),
            ),
            settles_with: None,
        },
    ];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let web = Sevtool::start(a.path(), &[]).await;
    let api = Sevtool::start(b.path(), &[]).await;
    let filed = web
        .post_form(
            "/sevs",
            &[("submission", "s1"), ("title", "Checkout 5xx"), ("level", "SEV2")],
        )
        .await;
    assert_eq!(filed.status(), 303);
    let r = api
        .post_json("/api/sevs", json!({"title": "Checkout 5xx", "level": "SEV2"}))
        .await;
    assert_eq!(r.status(), 201);
    for step in &steps {
        let r = web.post_form(step.form.0, step.form.1).await;
        assert_eq!(r.status(), 303, "{}", step.form.0);
        let method = reqwest::Method::from_bytes(step.api.0.as_bytes()).unwrap();
        let r = api
            .http
            .request(method, api.url(step.api.1))
            .json(&(step.api.2)())
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "{} {}: {}",
            step.api.0,
            step.api.1,
            r.text().await.unwrap()
        );
        if let Some(kind) = step.settles_with {
            for app in [&web, &api] {
                app.poll_json("/api/sevs/1", kind, 20, |v| {
                    v["timeline"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|e| e["kind"] == kind))
                })
                .await;
            }
        }
    }
    let shape = |v: &Value| {
        json!({
            "status": v["status"], "level": v["level"], "coordinator": v["coordinator"],
            "report_owner": v["report_owner"], "comms_lead": v["comms_lead"], "deputies": v["deputies"],
            "product_track": v["product_track"], "tags": v["tags"],
            "resolution": v["resolution"], "started_at": v["started_at"], "detected_at": v["detected_at"],
            "scas": v["scas"].as_array().unwrap().iter().map(|s| json!([s["text"], s["priority"], s["owner"], s["state"]])).collect::<Vec<_>>(),
            "timeline": v["timeline"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect::<Vec<_>>(),
        })
    };
    let (_, from_web) = web.get_json("/api/sevs/1").await;
    let (_, from_api) = api.get_json("/api/sevs/1").await;
    assert_eq!(shape(&from_web), shape(&from_api));
    assert_eq!(from_web["deputies"], json!(["dee", "ed"]));
    let page = web.get_text("/sevs/1").await;
    assert!(
        page.contains("comms lead cy") && page.contains("deputies dee, ed"),
        "the page names the comms lead and deputies"
    );
    assert_eq!(from_web["status"], "resolved");
    assert_eq!(from_web["time_to_detect_minutes"], 15.0);
    assert_eq!(from_web["scas"][0]["owner"], "erin");
    assert_eq!(from_web["scas"][0]["state"], "done");
    assert_eq!(from_web["timeline"][0]["author"], "web");
    assert_eq!(from_api["timeline"][0]["author"], "api");
}

/// The SCA forms refuse what they cannot take, with the reason, and change nothing.
#[tokio::test]
async fn sca_forms_refuse_a_blank_owner_and_unknown_scas() {
    use serde_json::json;
    let mut b = Browser::open().await;
    let r = b
        .app
        .post_json("/api/sevs", json!({"title": "Checkout 5xx", "level": "SEV2"}))
        .await;
    assert_eq!(r.status(), 201);
    let r = b
        .app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "Canary deploys", "priority": "must", "owner": "dana"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let (_, page) = b.get("/sevs/SEV-1").await;
    let csrf = hidden(&page, "csrf");

    let r = b.post("/scas/SCA-1/owner", &[("csrf", &csrf), ("owner", "  ")]).await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("owner: say who takes this corrective action over")
    );
    for (path, fields) in [
        ("/scas/SCA-9/done", vec![("csrf", csrf.as_str())]),
        ("/scas/bogus/done", vec![("csrf", csrf.as_str())]),
        ("/scas/SCA-9/owner", vec![("csrf", csrf.as_str()), ("owner", "erin")]),
    ] {
        assert_eq!(b.post(path, &fields).await.status(), 404, "{path}");
    }

    let sca = &b.sev("SEV-1").await["scas"][0];
    assert_eq!(
        (sca["owner"].as_str(), sca["state"].as_str()),
        (Some("dana"), Some("open"))
    );
}

#[tokio::test]
async fn the_sev_page_opens_with_the_catch_up_a_joiner_gets_in_slack() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    let id = app
        .file_sev_id(serde_json::json!({"title": "Checkout 5xx", "level": "SEV1"}))
        .await;
    let card = |html: &str| {
        let start = html.find("id=\"catch-up\"").expect("the catch-up card");
        html[start..].split("</div>").next().unwrap_or_default().to_owned()
    };
    let empty = card(&app.get_text(&format!("/sevs/{id}")).await);
    assert!(
        empty.contains("No status updates yet") && empty.contains("nobody paged"),
        "{empty}"
    );
    assert!(empty.contains("0 open SCAs"), "{empty}");
    for text in ["u1 first", "u2", "u3", "u4", "u5", "u6 <b>latest</b>"] {
        let r = app
            .post_json(
                &format!("/api/sevs/{id}/updates"),
                serde_json::json!({"text": text, "author": "alice"}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let r = app
        .post_json(
            &format!("/api/sevs/{id}/scas"),
            serde_json::json!({"text": "Alert on lag", "priority": "must", "owner": "alice"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let card = card(&app.get_text(&format!("/sevs/{id}")).await);
    assert!(card.contains("Last 5 of 6 updates"), "{card}");
    assert!(card.contains("u6 &lt;b&gt;latest&lt;&#x2f;b&gt;"), "escaped: {card}");
    assert!(!card.contains("u1 first"), "only the last five: {card}");
    assert!(card.contains("1 open SCA</p>"), "{card}");
    assert!(card.contains("open 0m") || card.contains("open 1m"), "{card}");
    let r = app
        .post_json(
            &format!("/api/sevs/{id}/status"),
            serde_json::json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let resolved = app.get_text(&format!("/sevs/{id}")).await;
    let start = resolved.find("id=\"catch-up\"").unwrap();
    assert!(
        resolved[start..].contains("resolved after 0m"),
        "a resolved SEV is no longer open"
    );
}

/// The SEV page drafts a customer update from the SEV's public facts; only the comms lead, the
/// coordinator or a deputy may publish it, and a private SEV offers no draft at all.
#[tokio::test]
async fn the_page_drafts_a_customer_update_and_only_a_publisher_publishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let web = Sevtool::start(dir.path(), &[]).await;
    let filed = web
        .post_form(
            "/sevs",
            &[("submission", "s1"), ("title", "ledger primary OOM"), ("level", "SEV1")],
        )
        .await;
    assert_eq!(filed.status(), 303);
    let html = web.get_text("/sevs/1").await;
    assert!(html.contains("Customer updates"), "the card is there");
    assert!(
        html.contains("some customers may be affected by problems with some of our services. We are investigating"),
        "the draft is built from the public facts"
    );
    let publish = [
        ("text", "Card payments are failing for some customers"),
        ("public", "yes"),
    ];
    let refused = web.post_form("/sevs/1/updates", &publish).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("may publish a public update"));
    // On the open local server the web UI acts as `web`, so `web` must hold the role.
    assert_eq!(
        web.post_form("/sevs/1/fields", &[("comms_lead", "web")]).await.status(),
        303
    );
    assert_eq!(web.post_form("/sevs/1/updates", &publish).await.status(), 303);
    let (_, sev) = web.get_json("/api/sevs/1").await;
    assert_eq!(
        sev["public_updates"][0]["text"],
        "Card payments are failing for some customers"
    );
    assert!(
        web.get_text("/sevs/1")
            .await
            .contains("Card payments are failing for some customers")
    );

    let r = web
        .http
        .patch(web.url("/api/sevs/1"))
        .json(&serde_json::json!({"private": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = web.get_text("/sevs/1").await;
    assert!(html.contains("A private SEV is never published") && !html.contains("public-draft"));
    assert_eq!(web.post_form("/sevs/1/updates", &publish).await.status(), 409);
}

/// The live pages poll with `If-None-Match`: the SEV page, the list and their JSON twins answer
/// `304` until something changed, then the new page with a new tag.
#[tokio::test]
async fn pages_answer_not_modified_until_the_sev_changes() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    app.file_sev_id(serde_json::json!({"title": "Checkout 5xx", "level": "SEV2"}))
        .await;
    // A page visited without the CSRF cookie sets a new one, so poll as a browser does: with it.
    let first = app.http.get(app.url("/sevs/1")).send().await.unwrap();
    let cookie = blackbox::set_cookie(&first, "sevtool_csrf").expect("the page sets its CSRF cookie");
    let get = |path: &str, tag: Option<&str>| {
        let mut r = app.http.get(app.url(path)).header("cookie", &cookie);
        if let Some(t) = tag {
            r = r.header("if-none-match", t);
        }
        r.send()
    };
    let mut tags = Vec::new();
    for path in ["/sevs/1", "/", "/api/sevs/1", "/api/sevs"] {
        let r = get(path, None).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let tag = r.headers()["etag"].to_str().unwrap().to_owned();
        let again = get(path, Some(&tag)).await.unwrap();
        assert_eq!(again.status(), 304, "{path}");
        assert_eq!(again.headers()["etag"], tag.as_str());
        assert!(again.bytes().await.unwrap().is_empty(), "{path}: a 304 has no body");
        tags.push((path, tag));
    }
    let r = app
        .post_json("/api/sevs/1/updates", serde_json::json!({"text": "rolled back"}))
        .await;
    assert_eq!(r.status(), 201);
    for (path, tag) in &tags {
        let r = get(path, Some(tag)).await.unwrap();
        if path.starts_with("/api/sevs/") || *path == "/sevs/1" {
            assert_eq!(r.status(), 200, "{path} changed with the update");
            assert_ne!(r.headers()["etag"], tag.as_str());
        }
    }
    let html = app.get_text("/sevs/1").await;
    assert!(
        html.contains("/assets/live.js") && html.contains("refresh</a> to see what changed"),
        "the script keeps it live, and without it the page says to refresh"
    );
    let page = app.http.get(app.url("/sevs/1")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        policy.contains("script-src 'self';") && policy.contains("connect-src 'self';"),
        "only sevtool's own script file runs, and it talks only to sevtool: {policy}"
    );
    let script = app.http.get(app.url("/assets/live.js")).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.unwrap().contains("If-None-Match"));
}

/// A form drawn before someone else's change does not undo it: the fields the person left as
/// the page showed them change nothing, the ones they edited do.
#[tokio::test]
async fn a_stale_fields_form_changes_only_what_was_edited() {
    let dir = tempfile::tempdir().unwrap();
    let web = Sevtool::start(dir.path(), &[]).await;
    web.file_sev_id(serde_json::json!({"title": "Checkout 5xx", "level": "SEV2"}))
        .await;
    // Meanwhile, from Slack or the API:
    let r = web
        .http
        .patch(web.url("/api/sevs/1"))
        .json(&serde_json::json!({"level": "SEV1", "coordinator": "ana", "comms_lead": "cy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The form as the page showed it before: blank roles, SEV2; the person sets the track only.
    let stale = [
        ("level", "SEV2"),
        ("level_was", "SEV2"),
        ("coordinator", ""),
        ("coordinator_was", ""),
        ("comms_lead", ""),
        ("comms_lead_was", ""),
        ("deputies", ""),
        ("deputies_was", ""),
        ("product_track", "payments"),
        ("product_track_was", ""),
    ];
    assert_eq!(web.post_form("/sevs/1/fields", &stale).await.status(), 303);
    let (_, sev) = web.get_json("/api/sevs/1").await;
    assert_eq!(
        (
            &sev["level"],
            &sev["coordinator"],
            &sev["comms_lead"],
            &sev["product_track"]
        ),
        (
            &Value::from("SEV1"),
            &Value::from("ana"),
            &Value::from("cy"),
            &Value::from("payments")
        )
    );
}
