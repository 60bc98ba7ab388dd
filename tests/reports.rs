//! Reports over HTTP against the real `sevtool` binary.

use blackbox::Sevtool;
use serde_json::{Value, json};

#[tokio::test]
async fn monthly_report_has_every_month_and_leaves_out_private_sevs_and_drills() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", "t")]).await;
    // Someone outside the security group, for whom private SEVs are not counted.
    let analyst = app.session("t", "analyst").await;
    app.act_as(&analyst);
    let july = |day: u32| format!("2026-07-{day:02}T09:00:00Z");
    app.file_sev(json!({"title": "a", "level": "SEV1", "product_track": "payments", "started_at": july(1), "detected_at": july(1)})).await;
    app.file_sev(
        json!({"title": "b", "level": "SEV2", "product_track": "payments", "started_at": july(2),
                      "detected_at": "2026-07-02T09:30:00Z", "tags": ["system/payments/ledger"]}),
    )
    .await;
    app.file_sev(
        json!({"title": "c", "level": "SEV1", "product_track": "search", "started_at": july(3), "private": true}),
    )
    .await;
    app.file_sev(
        json!({"title": "d", "level": "SEV1", "product_track": "search", "started_at": july(4), "drill": true}),
    )
    .await;

    let (status, body) = app.get_json("/api/reports/monthly?since=2026-06&until=2026-08").await;
    assert_eq!(status, 200, "{body}");
    let months = body["months"].as_array().unwrap();
    assert_eq!(months.len(), 3);
    assert_eq!(months[0]["month"], "2026-06");
    assert_eq!(months[0]["total"], 0);
    let jul = &months[1];
    assert_eq!(jul["total"], 2, "{jul}");
    assert_eq!(jul["by_level"], json!({"SEV0": 0, "SEV1": 1, "SEV2": 1, "SEV3": 0}));
    assert_eq!(jul["by_product_track"], json!({"payments": 2}));
    assert_eq!(jul["mttd_minutes"], 15.0);
    assert_eq!(jul["mttr_minutes"], Value::Null);
    assert_eq!(jul["drills"], 1);

    let (status, top) = app
        .get_json("/api/reports/top?dimension=product_track&since=2026-07&until=2026-07")
        .await;
    assert_eq!(status, 200, "{top}");
    assert_eq!(top["top"][0], json!({"key": "payments", "count": 2}));
    let (_, systems) = app
        .get_json("/api/reports/top?dimension=system&since=2026-07&until=2026-07")
        .await;
    assert_eq!(systems["top"][0], json!({"key": "payments", "count": 1}));

    let (status, trend) = app.get_json("/api/reports/trend?level=SEV1&months=3").await;
    assert_eq!(status, 200, "{trend}");
    assert_eq!(trend["months"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn bad_report_queries_are_precise_400s() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    for (path, needle) in [
        ("/api/reports/monthly?since=2026-13", "since"),
        ("/api/reports/monthly?since=2026-08&until=2026-07", "until"),
        ("/api/reports/monthly?since=2000-01&until=2026-07", "120 months"),
        ("/api/reports/monthly?from=2026-01", "from"),
        ("/api/reports/top?dimension=colour", "dimension"),
        ("/api/reports/top", "dimension"),
        ("/api/reports/trend?level=SEV9", "level"),
        ("/api/reports/trend?months=1", "months"),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let msg = body["error"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{path}: {msg}");
    }
}

#[tokio::test]
async fn a_sev_report_is_markdown_from_the_template_and_an_override_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    app.file_sev(json!({"title": "Checkout returns 5xx", "level": "SEV1", "product_track": "payments"}))
        .await;
    app.post_json(
        "/api/sevs/SEV-1/updates",
        json!({"text": "Rolled back deploy 4812", "author": "bob"}),
    )
    .await;
    app.post_json(
        "/api/sevs/SEV-1/scas",
        json!({"text": "Check pool size in CI", "priority": "must", "owner": "dave"}),
    )
    .await;
    let r = app.http.get(app.url("/api/sevs/SEV-1/report")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.unwrap();
    assert!(md.starts_with("# SEV-1: Checkout returns 5xx\n"), "{md}");
    assert!(md.contains("bob: Rolled back deploy 4812"), "{md}");
    assert!(md.contains("| must | Check pool size in CI | dave |"), "{md}");
    let (status, body) = app.get_json("/api/sevs/SEV-9/report").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("SEV-9 does not exist")));

    let custom = dir.path().join("custom.md");
    std::fs::write(&custom, "{{id}} is {{level}}").unwrap();
    let other = tempfile::tempdir().unwrap();
    let app2 = Sevtool::start(other.path(), &[("SEVTOOL_REPORT_TEMPLATE", custom.to_str().unwrap())]).await;
    app2.file_sev(json!({"title": "x", "level": "SEV3"})).await;
    let md = app2.get_text("/api/sevs/1/report").await;
    assert_eq!(md, "SEV-1 is SEV3");
}

#[tokio::test]
async fn the_reports_page_draws_charts_and_escapes_what_people_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    app.file_sev(json!({"title": "x", "level": "SEV1", "product_track": "<script>alert(1)</script>"}))
        .await;
    let r = app.http.get(app.url("/reports")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;: 1"), "{html}");
    assert_eq!(html.matches("<svg").count(), 2);
    let r = app.http.get(app.url("/reports?since=nope")).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_weekly_digest_lists_the_weeks_sevs_by_level() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    app.file_sev(json!({"title": "a", "level": "SEV1", "started_at": "2026-07-14T09:00:00Z"}))
        .await;
    app.file_sev(json!({"title": "b", "level": "SEV1", "started_at": "2026-07-21T09:00:00Z"}))
        .await;
    let (status, d) = app.get_json("/api/reports/weekly?week=2026-W29").await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["week"], "2026-W29");
    let sev1 = d["by_level"]["SEV1"].as_array().unwrap();
    assert_eq!(sev1.len(), 1);
    assert_eq!(sev1[0]["id"], "SEV-1");
    let (status, err) = app.get_json("/api/reports/weekly?week=2026-29").await;
    assert_eq!(status, 400, "{err}");
}

/// `GET /api/reports/scas`: completion and overdue counts of the SCAs of the range's SEVs. A
/// person outside the security group is not counted private SEVs' SCAs; the operator is.
#[tokio::test]
async fn sca_completion_counts_done_open_wont_do_and_overdue_of_the_sevs_one_may_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", "t")]).await;
    let analyst = app.session("t", "analyst").await;
    app.act_as(&analyst);
    let public = app.file_sev_id(json!({"title": "checkout 5xx", "level": "SEV2"})).await;
    let private = app
        .file_sev_id(json!({"title": "leaked keys", "level": "SEV1", "private": true}))
        .await;
    let overdue = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let add = async |sev: &str, body: Value| {
        let r = app.post_json(&format!("/api/sevs/{sev}/scas"), body).await;
        assert_eq!(r.status(), 201);
        r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    };
    let done = add(&public, json!({"text": "add a canary", "priority": "must"})).await;
    add(
        &public,
        json!({"text": "alert on 5xx", "priority": "should", "due": overdue}),
    )
    .await;
    let dropped = add(&public, json!({"text": "rewrite it in a weekend", "priority": "could"})).await;
    add(&private, json!({"text": "rotate the keys", "priority": "must"})).await;
    for (id, change) in [
        (done, json!({"state": "done"})),
        (dropped, json!({"state": "wont_do", "reason": "not worth it"})),
    ] {
        let r = app
            .http
            .patch(app.url(&format!("/api/scas/{id}")))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    let (status, counted) = app.get_json("/api/reports/scas").await;
    assert_eq!(status, 200, "{counted}");
    assert_eq!(
        counted["sevs"], 1,
        "the private SEV is not counted for the analyst: {counted}"
    );
    assert_eq!(
        (
            &counted["total"],
            &counted["done"],
            &counted["open"],
            &counted["wont_do"],
            &counted["overdue"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1), &json!(1)),
        "{counted}"
    );
    assert_eq!(counted["completion_rate"], 0.5, "won't do is neither done nor owed");

    let operator = reqwest::Client::new()
        .get(app.url("/api/reports/scas"))
        .bearer_auth("t")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        (&operator["sevs"], &operator["total"], &operator["open"]),
        (&json!(2), &json!(4), &json!(2))
    );
    let (status, bad) = app.get_json("/api/reports/scas?since=July").await;
    assert_eq!(status, 400, "{bad}");
}
