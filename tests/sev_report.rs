//! The stored SEV report, end to end: drafted when the SEV gets a report owner and posted in its
//! response channel, edited through the API and the web editor without lost updates, marked
//! complete and posted for review, then listed in the weekly digest and posted once to Slack.

use std::time::Duration;

use blackbox::Sevtool;
use blackbox::fake_slack::{BOT_TOKEN, FakeSlack};
use serde_json::{Value, json};

const REPORTS_CHANNEL: &str = "C0REPORTS";
const DIGEST_CHANNEL: &str = "C0REVIEW";

async fn start() -> (Sevtool, FakeSlack, tempfile::TempDir) {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let api = slack.api_url();
    let env = [
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", "secret"),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_ANNOUNCE_CHANNEL", "C0SEVS"),
        ("SLACK_REPORTS_CHANNEL", REPORTS_CHANNEL),
        ("SLACK_DIGEST_CHANNEL", DIGEST_CHANNEL),
    ];
    let app = Sevtool::start(dir.path(), &env).await;
    (app, slack, dir)
}

async fn report_json(app: &Sevtool, id: &str) -> (u16, Value) {
    let r = app
        .http
        .get(app.url(&format!("/api/sevs/{id}/report")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn put(app: &Sevtool, id: &str, body: Value) -> (u16, Value) {
    let r = app
        .http
        .put(app.url(&format!("/api/sevs/{id}/report")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Every section the template leaves to people, written.
fn written(markdown: &str) -> String {
    markdown
        .lines()
        .map(|l| {
            if l.starts_with("> **TO BE WRITTEN**") {
                "Written by the owner."
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn markdown_posts(slack: &FakeSlack, channel: Option<&str>) -> Vec<Value> {
    slack
        .ok_calls("chat.postMessage")
        .into_iter()
        .map(|c| c.args)
        .filter(|a| channel.is_none_or(|ch| a["channel"] == ch))
        .filter(|a| a["blocks"][1]["type"] == "markdown")
        .collect()
}

#[tokio::test]
async fn a_report_is_drafted_edited_without_lost_updates_completed_and_reviewed() {
    let (app, slack, _dir) = start().await;
    let id = app
        .file_sev_id(json!({"title": "Checkout returns 502", "level": "SEV2"}))
        .await;
    assert_eq!(report_json(&app, &id).await.0, 404, "no report before anyone owns it");

    let r = app
        .http
        .patch(app.url(&format!("/api/sevs/{id}")))
        .json(&json!({"report_owner": "U0ALICE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let draft = loop {
        let (status, body) = report_json(&app, &id).await;
        if status == 200 {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "the report was never drafted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (draft["state"].as_str(), draft["version"].as_u64()),
        (Some("draft"), Some(1))
    );
    assert_eq!(draft["owner"], "U0ALICE");
    let markdown = draft["markdown"].as_str().unwrap().to_owned();
    assert!(markdown.contains("Checkout returns 502") && markdown.contains("> **TO BE WRITTEN**"));

    // Posted in the SEV's response channel, as a markdown block.
    slack
        .wait_for("the draft in the response channel", 10, |s| {
            !markdown_posts(s, None).is_empty()
        })
        .await;
    let post = &markdown_posts(&slack, None)[0];
    assert_ne!(post["channel"], REPORTS_CHANNEL);
    assert!(post["text"].as_str().unwrap().contains("<@U0ALICE>"), "{post}");
    assert!(post["blocks"][1]["text"].as_str().unwrap().contains("## Root cause"));

    // Not complete while sections are unwritten.
    let r = app
        .post_json(&format!("/api/sevs/{id}/report/complete"), json!({}))
        .await;
    assert_eq!(r.status(), 400);
    let err = r.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(
        err.contains("still marked TO BE WRITTEN (Summary, Impact, Root cause"),
        "{err}"
    );

    // Two people edit version 1: the second save is refused, not silently lost.
    let mine = written(&markdown);
    let (status, saved) = put(&app, &id, json!({"markdown": mine, "version": 1})).await;
    assert_eq!((status, saved["version"].as_u64()), (200, Some(2)), "{saved}");
    let (status, body) = put(&app, &id, json!({"markdown": "# theirs", "version": 1})).await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap().contains("now version 2"), "{body}");
    let (status, body) = put(&app, &id, json!({"markdown": "# theirs"})).await;
    assert_eq!(status, 428, "{body}");
    let (status, body) = put(&app, &id, json!({"markdown": "  ", "version": 2})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(report_json(&app, &id).await.1["markdown"], mine.as_str());
    let md = app
        .http
        .get(app.url(&format!("/api/sevs/{id}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        md.text().await.unwrap(),
        mine,
        "the Markdown download is the stored report"
    );

    // Complete: posted once for review, however often it is marked.
    for _ in 0..2 {
        let r = app
            .post_json(&format!("/api/sevs/{id}/report/complete"), json!({}))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["state"], "complete");
    }
    slack
        .wait_for("the report in the reports channel", 10, |s| {
            !markdown_posts(s, Some(REPORTS_CHANNEL)).is_empty()
        })
        .await;
    app.settled().await;
    let review = markdown_posts(&slack, Some(REPORTS_CHANNEL));
    assert_eq!(review.len(), 1);
    assert!(
        review[0]["blocks"][1]["text"]
            .as_str()
            .unwrap()
            .contains("Written by the owner.")
    );

    // The week's digest lists it, and posting the digest twice with one key posts once.
    let (_, sev) = app.get_json(&format!("/api/sevs/{id}")).await;
    let started = chrono::DateTime::parse_from_rfc3339(sev["started_at"].as_str().unwrap()).unwrap();
    let week = sev::reports::IsoWeek::of(started.with_timezone(&chrono::Utc)).to_string();
    let (status, digest) = app.get_json(&format!("/api/reports/weekly?week={week}")).await;
    assert_eq!(status, 200);
    assert_eq!(digest["reports_completed"][0]["sev"], id.as_str(), "{digest}");
    for _ in 0..2 {
        let r = app
            .http
            .post(app.url("/api/reports/weekly/post"))
            .header("idempotency-key", "monday-review")
            .json(&json!({"week": week}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    slack
        .wait_for("the digest", 10, |s| {
            s.ok_calls("chat.postMessage")
                .iter()
                .any(|c| c.args["channel"] == DIGEST_CHANNEL)
        })
        .await;
    app.settled().await;
    let digests: Vec<Value> = slack
        .ok_calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.args["channel"] == DIGEST_CHANNEL)
        .map(|c| c.args)
        .collect();
    assert_eq!(digests.len(), 1);
    let text = digests[0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("SEV review for {week}")) && text.contains("*Reports ready for review*\n• "),
        "{text}"
    );
    assert!(text.contains(&id), "{text}");
}

#[tokio::test]
async fn the_web_editor_keeps_your_text_when_someone_else_saved_first() {
    let (app, _slack, _dir) = start().await;
    let id = app
        .file_sev_id(json!({"title": "Search is slow", "level": "SEV2"}))
        .await;

    let page = app
        .http
        .get(app.url(&format!("/sevs/{id}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Not saved yet") && html.contains("TO BE WRITTEN"),
        "the template is offered"
    );

    let r = app
        .post_form(
            &format!("/sevs/{id}/report"),
            &[("markdown", "# first\r\nline"), ("version", "0")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .post_form(
            &format!("/sevs/{id}/report"),
            &[("markdown", "# my <b>late</b> edit"), ("version", "0")],
        )
        .await;
    assert_eq!(r.status(), 409);
    let html = r.text().await.unwrap();
    assert!(html.contains("saved by someone else"), "{html}");
    assert!(
        html.contains("# my &lt;b&gt;late&lt;"),
        "the refused text is kept, escaped: {html}"
    );
    assert_eq!(report_json(&app, &id).await.1["markdown"], "# first\nline");

    let r = app.post_form(&format!("/sevs/{id}/report/complete"), &[]).await;
    assert_eq!(r.status(), 303);
    let sev_page = app.get_text(&format!("/sevs/{id}")).await;
    assert!(
        sev_page.contains("complete since"),
        "the SEV page shows the report's state"
    );
    let weekly = app.http.get(app.url("/weekly")).send().await.unwrap();
    assert_eq!(weekly.status(), 200);
    let bad = app.http.get(app.url("/weekly?week=2026-W99")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

/// Every message text and block the fake Slack was sent, with the channel it went to.
fn posts(slack: &FakeSlack) -> Vec<(String, String)> {
    ["chat.postMessage", "chat.update"]
        .into_iter()
        .flat_map(|m| slack.ok_calls(m))
        .map(|c| {
            (
                c.args["channel"].as_str().unwrap_or_default().to_owned(),
                c.args.to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_private_sev_lives_in_private_channels_and_its_report_stays_there() {
    const TITLE: &str = "Payroll export leaks salaries";
    let (app, slack, _dir) = start().await;
    let id = app
        .file_sev_id(json!({"title": TITLE, "level": "SEV1", "private": true, "reporter": "U0ALICE"}))
        .await;
    let r = app
        .http
        .patch(app.url(&format!("/api/sevs/{id}")))
        .json(&json!({"report_owner": "U0ALICE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.settled().await;

    let channels = slack.channels();
    assert_eq!(channels.len(), 2, "{channels:?}");
    for (name, channel) in &channels {
        assert!(channel.is_private, "{name} must be a private channel");
    }
    let response = channels
        .iter()
        .find(|(name, _)| !name.ends_with("-announce"))
        .map(|(_, c)| c.id.clone())
        .expect("a response channel");
    let ours: Vec<&str> = channels.values().map(|c| c.id.as_str()).collect();
    let elsewhere: Vec<(String, String)> = posts(&slack)
        .into_iter()
        .filter(|(channel, _)| !ours.contains(&channel.as_str()))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "nothing about a private SEV outside its own channels (no #sevs announcement): {elsewhere:?}"
    );
    assert!(
        posts(&slack).iter().any(|(_, text)| text.contains(TITLE)),
        "its own channels do hear about it"
    );

    let (_, draft) = report_json(&app, &id).await;
    let markdown = written(draft["markdown"].as_str().unwrap());
    assert_eq!(put(&app, &id, json!({"markdown": markdown, "version": 1})).await.0, 200);
    let r = app
        .post_json(&format!("/api/sevs/{id}/report/complete"), json!({}))
        .await;
    assert_eq!(r.status(), 200);
    app.settled().await;
    assert!(
        markdown_posts(&slack, Some(REPORTS_CHANNEL)).is_empty(),
        "never in the reports channel"
    );
    let kept = markdown_posts(&slack, Some(&response));
    assert!(
        kept.iter().any(|p| p["blocks"][1]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Written by the owner.")),
        "the completed report is posted in its own response channel: {kept:?}"
    );
}
