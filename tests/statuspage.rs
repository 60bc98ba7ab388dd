//! Public updates reach the company's status page: the real `sevtool`, its queue and worker,
//! against a fake Statuspage that checks each request as Statuspage documents it.

use blackbox::Sevtool;
use blackbox::fake_statuspage::{FakeStatuspage, STATUSPAGE_KEY, STATUSPAGE_PAGE};
use serde_json::{Value, json};

#[tokio::test]
async fn public_updates_open_then_update_one_incident_linked_on_the_sev() {
    let page = FakeStatuspage::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(
        dir.path(),
        &[
            ("STATUSPAGE_API_URL", page.base.as_str()),
            ("STATUSPAGE_PAGE_ID", STATUSPAGE_PAGE),
            ("STATUSPAGE_API_KEY", STATUSPAGE_KEY),
        ],
    )
    .await;
    app.file_sev_id(json!({"title": "ledger primary OOM", "level": "SEV1", "product_track": "checkout"}))
        .await;
    let r = app
        .http
        .patch(app.url("/api/sevs/SEV-1"))
        .json(&json!({"comms_lead": "U0CAT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let publish = |text: &str, author: &str| {
        app.post_json(
            "/api/sevs/SEV-1/updates",
            json!({"text": text, "public": true, "author": author}),
        )
    };
    assert_eq!(publish("Nothing to see", "U0BOB").await.status(), 403);
    assert_eq!(
        publish("Card payments are failing for some customers", "U0CAT")
            .await
            .status(),
        201
    );
    let sev = app
        .poll_json("/api/sevs/SEV-1", "the status page incident", 30, |v: &Value| {
            v["status_page"]["id"].is_string()
        })
        .await;
    assert_eq!(sev["status_page"]["url"], "https://stspg.io/inc00000001");
    let calls = page.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].action, "create");
    assert_eq!(
        calls[0].incident["name"], "Problems with checkout",
        "never the SEV's title"
    );
    assert_eq!(calls[0].incident["status"], "investigating");
    assert_eq!(calls[0].incident["impact_override"], "major");
    assert_eq!(
        calls[0].incident["body"],
        "Card payments are failing for some customers"
    );

    let r = app
        .post_json("/api/sevs/SEV-1/status", json!({"status": "mitigated"}))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(publish("A fix is in place", "U0CAT").await.status(), 201);
    app.poll_json("/api/sevs/SEV-1", "the second update sent", 30, |_| {
        page.calls().len() == 2
    })
    .await;
    let calls = page.calls();
    assert_eq!(calls[1].action, "update");
    assert_eq!(calls[1].incident["status"], "monitoring");
    assert_eq!(calls[1].incident["body"], "A fix is in place");
    let html = app.get_text("/sevs/SEV-1").await;
    // The page escapes the URL's slashes, as minijinja does every `/` in HTML.
    assert!(
        html.contains("stspg.io") && html.contains("incident inc00000001"),
        "the page links the incident"
    );
}
