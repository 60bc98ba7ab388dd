//! Slack, end to end: signed requests to the real `sevtool`, which talks to a fake Slack Web API
//! that records and checks every call.

use blackbox::Sevtool;
use blackbox::fake_slack::{BOT_TOKEN, FakeSlack, Scripted};
use serde_json::{Value, json};
use sev::slack::SigningSecret;

const SECRET: &str = "test-signing-secret";
const SEVS_CHANNEL: &str = "C0SEVS";

struct Setup {
    app: Sevtool,
    slack: FakeSlack,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    setup_with(&[]).await
}

async fn setup_with(extra: &[(&str, &str)]) -> Setup {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let api = slack.api_url();
    let mut env = vec![
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SECRET),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_ANNOUNCE_CHANNEL", SEVS_CHANNEL),
    ];
    env.extend_from_slice(extra);
    let app = Sevtool::start(dir.path(), &env).await;
    Setup { app, slack, _dir: dir }
}

fn now() -> String {
    unix_now().to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Posts `body` to `path` signed as Slack signs it.
async fn signed(s: &Setup, path: &str, content_type: &str, body: String, extra: &[(&str, &str)]) -> reqwest::Response {
    s.app.post_signed(SECRET, path, content_type, body, extra).await
}

async fn command(s: &Setup, text: &str, channel: &str, trigger: &str) -> Value {
    let form = serde_urlencoded::to_string([
        ("command", "/sev"),
        ("text", text),
        ("channel_id", channel),
        ("user_id", "U0REPORTER"),
        ("trigger_id", trigger),
        ("response_url", &s.slack.response_url(trigger)),
    ])
    .unwrap();
    let r = signed(s, "/slack/commands", "application/x-www-form-urlencoded", form, &[]).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap_or(Value::Null)
}

async fn event(s: &Setup, event_id: &str, event: Value, retry: Option<&str>) -> u16 {
    let body = json!({ "type": "event_callback", "event_id": event_id, "team_id": "T1", "event": event }).to_string();
    let extra: Vec<(&str, &str)> = retry
        .map(|n| vec![("x-slack-retry-num", n), ("x-slack-retry-reason", "http_timeout")])
        .unwrap_or_default();
    signed(s, "/slack/events", "application/json", body, &extra)
        .await
        .status()
        .as_u16()
}

/// Files a SEV through the API and waits until its channels exist; returns the response channel.
async fn filed_sev(s: &Setup) -> String {
    let r = s
        .app
        .post_json(
            "/api/sevs",
            json!({"title": "Checkout 5xx", "level": "SEV1", "reporter": "U0REPORTER"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    s.slack
        .wait_for("the announcement", 20, |f| !f.texts_to(SEVS_CHANNEL).is_empty())
        .await;
    s.slack.ok_calls("conversations.create")[0].args["name"]
        .as_str()
        .map(|_| ())
        .unwrap();
    let created = s.slack.ok_calls("conversations.create");
    let response = created
        .iter()
        .find(|c| !c.args["name"].as_str().unwrap().ends_with("-announce"))
        .unwrap();
    // The response channel is the one people are invited to.
    let invite = &s.slack.ok_calls("conversations.invite")[0];
    assert!(response.args["name"].as_str().unwrap().starts_with("sev-1-"));
    invite.args["channel"].as_str().unwrap().to_owned()
}

async fn status_of(s: &Setup, id: &str) -> Value {
    s.app.get_json(&format!("/api/sevs/{id}")).await.1
}

#[tokio::test]
async fn a_sev_filed_from_the_modal_gets_two_channels_one_announcement_and_invites() {
    let s = setup().await;
    let opened = command(&s, "", "C0RANDOM", "trig-modal").await;
    assert_eq!(opened, Value::Null, "opening the modal answers with an empty 200");
    let views = s.slack.ok_calls("views.open");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].args["trigger_id"], "trig-modal");
    assert_eq!(views[0].args["view"]["callback_id"], "sev_intake");

    let payload = json!({
        "type": "view_submission",
        "user": { "id": "U0REPORTER" },
        "view": { "id": "V123", "callback_id": "sev_intake", "state": { "values": {
            "title": { "title": { "type": "plain_text_input", "value": "Checkout 5xx" } },
            "level": { "level": { "type": "static_select", "selected_option": { "value": "SEV1" } } },
            "description": { "description": { "type": "plain_text_input", "value": "errors since 09:10" } },
            "private": { "private": { "type": "checkboxes", "selected_options": [] } }
        } } }
    });
    let form = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let r = signed(
        &s,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        form.clone(),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    // A double click submits the same view twice; it files one SEV.
    signed(
        &s,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        form,
        &[],
    )
    .await;

    s.slack
        .wait_for("announcement and DM", 20, |f| {
            !f.texts_to(SEVS_CHANNEL).is_empty() && !f.texts_to("U0REPORTER").is_empty()
        })
        .await;
    s.app.settled().await;
    let names: Vec<String> = s
        .slack
        .ok_calls("conversations.create")
        .iter()
        .map(|c| c.args["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["sev-1-checkout-5xx", "sev-1-checkout-5xx-announce"]);
    let announcements = s.slack.texts_to(SEVS_CHANNEL);
    assert_eq!(announcements.len(), 1, "{announcements:?}");
    assert!(
        announcements[0].contains("SEV-1") && announcements[0].contains("SEV1"),
        "{}",
        announcements[0]
    );
    let invites = s.slack.ok_calls("conversations.invite");
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0].args["users"], "U0REPORTER");
    assert_eq!(s.slack.ok_calls("pins.add").len(), 1);
    let dm = s.slack.texts_to("U0REPORTER");
    assert_eq!(dm.len(), 1);
    assert!(dm[0].contains("Filed SEV-1"), "{}", dm[0]);
    let (_, list) = s.app.get_json("/api/sevs").await;
    assert_eq!(list["sevs"].as_array().unwrap().len(), 1);
    assert_eq!(list["sevs"][0]["description"], "errors since 09:10");
}

#[tokio::test]
async fn an_event_delivered_three_times_acts_once() {
    let s = setup().await;
    let channel = filed_sev(&s).await;
    s.slack
        .add_message(&channel, "1700000001.000100", "U0AUTHOR", "rolled back the deploy");
    let reaction = json!({ "type": "reaction_added", "user": "U0ATC", "reaction": "sev-mitigated",
                           "item": { "type": "message", "channel": channel, "ts": "1700000001.000100" } });
    assert_eq!(event(&s, "Ev1", reaction.clone(), None).await, 200);
    assert_eq!(event(&s, "Ev1", reaction.clone(), Some("1")).await, 200);
    assert_eq!(event(&s, "Ev1", reaction, Some("2")).await, 200);

    s.slack
        .wait_for("the confirmation", 20, |f| f.replies_to("1700000001.000100") > 0)
        .await;
    s.app.settled().await;
    let sev = status_of(&s, "SEV-1").await;
    assert_eq!(sev["status"], "mitigated");
    let moves = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status_changed")
        .count();
    assert_eq!(moves, 1);
    assert_eq!(s.slack.replies_to("1700000001.000100"), 1);
}

#[tokio::test]
async fn emoji_reactions_drive_the_sev_and_removing_one_undoes_it() {
    let s = setup().await;
    let channel = filed_sev(&s).await;
    s.slack
        .add_message(&channel, "1700000002.000200", "U0AUTHOR", "Root cause: config push");
    let react = |kind: &str, emoji: &str| json!({ "type": kind, "user": "U0ATC", "reaction": emoji, "item": { "type": "message", "channel": channel, "ts": "1700000002.000200" } });
    event(&s, "Ev10", react("reaction_added", "sev-update"), None).await;
    event(&s, "Ev11", react("reaction_added", "sev-report-owner"), None).await;
    event(&s, "Ev12", react("reaction_added", "sev-timeline"), None).await;
    event(&s, "Ev13", react("reaction_added", "thumbsup"), None).await;
    // The report owner's draft adds a `report` entry in the background, so wait for the kinds
    // themselves rather than for a count; the owner is read apart from the timeline, so wait for it too.
    let has = |sev: &Value, kind: &str| {
        sev["timeline"]
            .as_array()
            .is_some_and(|t| t.iter().any(|e| e["kind"] == kind))
    };
    let sev = sev_until(&s, "the update, the note, the owner", |sev| {
        ["update", "note", "field_changed"].iter().all(|k| has(sev, k)) && sev["report_owner"] == "U0AUTHOR"
    })
    .await;
    let update = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "update")
        .unwrap();
    assert_eq!(
        (update["text"].as_str(), update["author"].as_str()),
        (Some("Root cause: config push"), Some("U0ATC"))
    );

    event(&s, "Ev14", react("reaction_removed", "sev-report-owner"), None).await;
    sev_until(&s, "removing the reaction soon after undid it", |sev| {
        sev["report_owner"] == Value::Null
    })
    .await;
    s.slack
        .wait_for("status update cross-posted", 20, |f| {
            f.ok_calls("chat.postMessage").iter().any(|c| {
                c.args["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Root cause: config push")
                    && c.args["thread_ts"] != Value::Null
                    && c.args["channel"] == SEVS_CHANNEL
            })
        })
        .await;
    assert!(
        s.slack
            .ok_calls("chat.update")
            .iter()
            .any(|c| c.args["channel"] == SEVS_CHANNEL),
        "the announcement is edited in place"
    );
}

#[tokio::test]
async fn slack_answering_429_then_500_then_200_still_posts_every_message_once() {
    let s = setup().await;
    s.slack.script(
        "chat.postMessage",
        vec![Scripted::RateLimited { retry_after_secs: 1 }, Scripted::Status(500)],
    );
    let r = s
        .app
        .post_json(
            "/api/sevs",
            json!({"title": "Ledger lag", "level": "SEV2", "reporter": "U0REPORTER"}),
        )
        .await;
    assert_eq!(r.status(), 201, "a Slack outage never blocks filing");
    s.slack
        .wait_for("the announcement after retries", 30, |f| {
            !f.texts_to(SEVS_CHANNEL).is_empty()
        })
        .await;
    s.app.settled().await;
    let calls = s.slack.calls("chat.postMessage");
    assert_eq!(
        calls.iter().filter(|c| !c.ok).count(),
        2,
        "the 429 and the 500 were seen"
    );
    assert!(
        calls[1].at - calls[0].at >= std::time::Duration::from_secs(1),
        "the next call waited out Retry-After: 1 ({:?} later)",
        calls[1].at - calls[0].at
    );
    assert_eq!(
        s.slack.ok_calls("conversations.create").len(),
        2,
        "the retried task did not create channels again"
    );
    let mut posted: Vec<(String, String)> = s
        .slack
        .ok_calls("chat.postMessage")
        .iter()
        .map(|c| {
            (
                c.args["channel"].as_str().unwrap().to_owned(),
                c.args["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let total = posted.len();
    posted.sort();
    posted.dedup();
    assert_eq!(posted.len(), total, "no message was posted twice");
    assert_eq!(
        total, 3,
        "summary, announcements-channel intro, #sevs announcement: {posted:#?}"
    );
}

#[tokio::test]
async fn slash_commands_act_in_sev_channels_and_explain_mistakes() {
    let s = setup().await;
    let channel = filed_sev(&s).await;
    let ack = command(&s, "update rolled back deploy 4812", &channel, "trig-1").await;
    assert_eq!(ack["response_type"], "ephemeral");
    // The same command delivered twice (a redelivered task) acts once.
    command(&s, "update rolled back deploy 4812", &channel, "trig-1").await;
    command(&s, "level sev0", &channel, "trig-2").await;
    command(&s, "update elsewhere", "C0NOTSEV", "trig-3").await;
    s.slack
        .wait_for("replies", 20, |f| {
            ["trig-1", "trig-2", "trig-3"]
                .iter()
                .all(|t| !f.calls(&format!("respond/{t}")).is_empty())
        })
        .await;
    s.app.settled().await;
    let sev = status_of(&s, "SEV-1").await;
    assert_eq!(sev["level"], "SEV0");
    let updates = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "update")
        .count();
    assert_eq!(updates, 1);
    assert_eq!(s.slack.calls("respond/trig-1").len(), 1);
    assert!(
        s.slack.calls("respond/trig-3")[0].args["text"]
            .as_str()
            .unwrap()
            .contains("not a SEV channel")
    );

    let usage = command(&s, "frobnicate", &channel, "trig-4").await;
    assert!(usage["text"].as_str().unwrap().contains("/sev new SEV1"), "{usage}");
    let filed = command(&s, "new SEV3 disk filling up", "C0RANDOM", "trig-5").await;
    assert!(filed["text"].as_str().unwrap().contains("Filing a SEV3"), "{filed}");
    s.slack
        .wait_for("the filing reply", 20, |f| !f.calls("respond/trig-5").is_empty())
        .await;
    assert!(
        s.slack.calls("respond/trig-5")[0].args["text"]
            .as_str()
            .unwrap()
            .contains("Filed SEV-2")
    );

    // A command whose response_url is no URL is refused at once, not retried in the queue.
    let form = serde_urlencoded::to_string([
        ("command", "/sev"),
        ("text", "update from nowhere"),
        ("channel_id", channel.as_str()),
        ("user_id", "U0REPORTER"),
        ("trigger_id", "trig-6"),
        ("response_url", "not a url"),
    ])
    .unwrap();
    let r = signed(&s, "/slack/commands", "application/x-www-form-urlencoded", form, &[]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("response_url"));

    // A press that came without a response_url (a button in a modal) is answered by DM.
    let payload = json!({
        "type": "block_actions",
        "trigger_id": "trig-7",
        "user": { "id": "U0REPORTER" },
        "actions": [{ "action_id": "not_ours", "type": "button", "value": "x" }],
    });
    assert_eq!(interact(&s, &payload).await, 200);
    s.app.settled().await;
    let dm: Vec<String> = s.slack.texts_to("U0REPORTER");
    assert_eq!(dm, ["That button is not sevtool's."], "one DM, and the task done");
}

#[tokio::test]
async fn unsigned_stale_or_tampered_requests_get_401_and_challenges_are_answered() {
    let s = setup().await;
    let body = json!({ "type": "url_verification", "challenge": "abc123" }).to_string();
    let r = signed(&s, "/slack/events", "application/json", body.clone(), &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["challenge"], "abc123");

    let unsigned = s
        .app
        .http
        .post(s.app.url("/slack/events"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let old = (unix_now() - 301).to_string();
    let stale = s
        .app
        .http
        .post(s.app.url("/slack/events"))
        .header("x-slack-request-timestamp", &old)
        .header(
            "x-slack-signature",
            SigningSecret::new(SECRET).sign(&old, body.as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
    assert!(stale.text().await.unwrap().contains("5 minutes"));
    let ts = now();
    let tampered = s
        .app
        .http
        .post(s.app.url("/slack/commands"))
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", SigningSecret::new(SECRET).sign(&ts, b"text=help"))
        .body("text=mayday")
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
}

#[tokio::test]
async fn corrective_actions_come_from_reactions_and_commands() {
    let s = setup().await;
    let channel = filed_sev(&s).await;
    s.slack.add_message(
        &channel,
        "1700000003.000300",
        "U0AUTHOR",
        "Add a canary for config pushes",
    );
    let reaction = json!({ "type": "reaction_added", "user": "U0ATC", "reaction": "sca-must",
                           "item": { "type": "message", "channel": channel, "ts": "1700000003.000300" } });
    event(&s, "Ev20", reaction, None).await;
    command(&s, "sca could write a runbook", &channel, "trig-sca").await;
    s.slack
        .wait_for("both SCAs confirmed", 20, |f| {
            !f.calls("respond/trig-sca").is_empty()
                && f.ok_calls("chat.postMessage")
                    .iter()
                    .any(|c| c.args["thread_ts"] == "1700000003.000300")
        })
        .await;
    let sev = status_of(&s, "SEV-1").await;
    let scas = sev["scas"].as_array().unwrap();
    assert_eq!(scas.len(), 2, "{scas:?}");
    assert_eq!(
        (scas[0]["text"].as_str(), scas[0]["owner"].as_str()),
        (Some("Add a canary for config pushes"), Some("U0ATC"))
    );
    assert_eq!(scas[0]["source"]["ts"], "1700000003.000300");
    assert_eq!(
        (scas[1]["priority"].as_str(), scas[1]["owner"].as_str()),
        (Some("could"), Some("U0REPORTER"))
    );

    command(&s, "scas", "C0ANYWHERE", "trig-list").await;
    s.slack
        .wait_for("the list", 20, |f| !f.calls("respond/trig-list").is_empty())
        .await;
    let listed = s.slack.calls("respond/trig-list")[0].args["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        listed.contains("SCA-2") && !listed.contains("SCA-1"),
        "only the typing person's SCAs: {listed}"
    );
}

async fn click(s: &Setup, trigger: &str, action: &str, sca: &str, selected_user: Option<&str>) -> u16 {
    let mut act = json!({ "action_id": action, "block_id": sca, "type": "button", "value": sca });
    if let Some(u) = selected_user {
        act = json!({ "action_id": action, "block_id": sca, "type": "users_select", "selected_user": u });
    }
    let payload =
        json!({ "type": "block_actions", "trigger_id": trigger, "user": { "id": "U0OWNER" }, "actions": [act] });
    interact(s, &payload).await
}

/// Posts an interaction `payload` (a button press, a shortcut) signed as Slack does; returns the status.
async fn interact(s: &Setup, payload: &Value) -> u16 {
    let form = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    signed(s, "/slack/interactions", "application/x-www-form-urlencoded", form, &[])
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn nag_buttons_snooze_reassign_and_complete_an_sca() {
    let s = setup().await;
    filed_sev(&s).await;
    let r = s
        .app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "Add a canary", "priority": "must", "owner": "U0OWNER"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let due_before = s.app.get_json("/api/scas/SCA-1").await.1["due"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(click(&s, "t-snooze", "sca_snooze_1w", "SCA-1", None).await, 200);
    s.slack
        .wait_for("the snooze reply", 20, |f| {
            f.texts_to("U0OWNER").iter().any(|t| t.contains("snoozed"))
        })
        .await;
    let due_after = s.app.get_json("/api/scas/SCA-1").await.1["due"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(due_after > due_before, "{due_before} -> {due_after}");

    assert_eq!(
        click(&s, "t-reassign", "sca_reassign", "SCA-1", Some("U0OTHER")).await,
        200
    );
    assert_eq!(click(&s, "t-done", "sca_done", "SCA-1", None).await, 200);
    // The same click delivered twice acts once.
    assert_eq!(click(&s, "t-done", "sca_done", "SCA-1", None).await, 200);
    s.slack
        .wait_for("the done reply", 20, |f| {
            f.texts_to("U0OWNER").iter().any(|t| t.contains("marked done"))
        })
        .await;
    let sca = s.app.get_json("/api/scas/SCA-1").await.1;
    assert_eq!(
        (sca["state"].as_str(), sca["owner"].as_str()),
        (Some("done"), Some("U0OTHER"))
    );
    assert_eq!(
        s.slack
            .texts_to("U0OWNER")
            .iter()
            .filter(|t| t.contains("marked done"))
            .count(),
        1
    );
}

/// Polls the SEV until `check` holds of its JSON, or fails after 20 s.
async fn sev_until(s: &Setup, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    s.app.poll_json("/api/sevs/SEV-1", what, 20, check).await
}

#[tokio::test]
async fn a_failed_slack_step_shows_on_the_sev_and_a_retry_sends_it_again() {
    let s = setup().await;
    // Slack refuses for good, twice: the SEV's channel and then its retry.
    s.slack.script(
        "conversations.create",
        vec![Scripted::Error("missing_scope"), Scripted::Error("missing_scope")],
    );
    let r = s
        .app
        .post_json(
            "/api/sevs",
            json!({"title": "Checkout 5xx", "level": "SEV1", "reporter": "U0REPORTER"}),
        )
        .await;
    assert_eq!(r.status(), 201, "a Slack failure never blocks a SEV");
    let failed = |v: &Value| v["failed_tasks"].as_array().map_or(0, Vec::len);
    sev_until(&s, "the failed step", |v| failed(v) == 1).await;

    let page = s.app.get_text("/sevs/SEV-1").await;
    assert!(
        page.contains("1 integration step failed") && page.contains("missing_scope"),
        "{page}"
    );
    assert!(page.contains("Retry failed steps"));
    let (_, status) = s.app.get_json("/api/status").await;
    assert_eq!(status["sevs"][0]["failed_steps"], 1, "{status}");
    let html = s.app.get_text("/status").await;
    assert!(html.contains("1 failed"), "{html}");

    // The API twin of the page's retry button; Slack refuses once more.
    let r = s
        .app
        .http
        .post(s.app.url("/api/sevs/SEV-1/retry"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["retried"], 1);
    s.slack
        .wait_for("the retried create", 20, |f| f.calls("conversations.create").len() >= 2)
        .await;
    sev_until(&s, "the failure again", |v| failed(v) == 1).await;

    // The page's button: a CSRF-checked form post; this time Slack accepts.
    let r = s.app.post_form("/sevs/SEV-1/retry", &[]).await;
    assert_eq!(r.status(), 303);
    sev_until(&s, "the step to succeed", |v| failed(v) == 0).await;
    s.slack
        .wait_for("the announcement", 20, |f| !f.texts_to(SEVS_CHANNEL).is_empty())
        .await;
    assert_eq!(
        s.slack.ok_calls("conversations.create").len(),
        2,
        "both channels, once each"
    );
}

/// Runs `/sev <text>` in `channel` and returns what sevtool answered: at once for what needs no
/// queue hop, else the reply posted to the command's response URL.
async fn answer(s: &Setup, text: &str, channel: &str, trigger: &str) -> String {
    let ack = command(s, text, channel, trigger).await;
    let working = ack["text"].as_str().unwrap_or_default();
    if working != "On it…" && !working.starts_with("Filing") {
        return working.to_owned();
    }
    let path = format!("respond/{trigger}");
    s.slack
        .wait_for(&format!("the reply to /sev {text}"), 20, |f| !f.calls(&path).is_empty())
        .await;
    s.slack.calls(&path)[0].args["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn every_sev_subcommand_acts_on_the_sev_of_its_channel() {
    let s = setup().await;
    let channel = filed_sev(&s).await;

    let help = answer(&s, "help", &channel, "t-help").await;
    assert!(
        help.contains("/sev new SEV1") && help.contains("/sev scas overdue"),
        "{help}"
    );
    let status = answer(&s, "status", &channel, "t-status").await;
    assert!(status.contains("SEV-1") && status.contains("Checkout 5xx"), "{status}");

    answer(&s, "owner <@U0ALICE>", &channel, "t-owner").await;
    answer(&s, "coordinator <@U0BOB|bob>", &channel, "t-coord").await;
    answer(&s, "tag system/payments/ledger", &channel, "t-tag").await;
    let refused = answer(&s, "public We are investigating", &channel, "t-public-refused").await;
    assert!(
        refused.contains("only the comms lead, the coordinator or a deputy may publish"),
        "{refused}"
    );
    // With a coordinator in place, only they (or the comms lead) appoint.
    let self_appointed = answer(&s, "deputy <@U0REPORTER>", &channel, "t-deputy-self").await;
    assert!(
        self_appointed.contains("only the coordinator or the comms lead may appoint"),
        "{self_appointed}"
    );
    answer(&s, "coordinator <@U0REPORTER>", &channel, "t-handover").await;
    let published = answer(&s, "public We are investigating", &channel, "t-public").await;
    assert_eq!(published, "SEV-1 public update published.");
    let comms = answer(&s, "comms <@U0CAT>", &channel, "t-comms").await;
    assert_eq!(comms, "SEV-1 comms lead is <@U0CAT>.");
    answer(&s, "deputy <@U0DAN>", &channel, "t-deputy").await;
    answer(&s, "deputy <@U0EVE>", &channel, "t-deputy-2").await;
    let removed = answer(&s, "deputy remove <@U0DAN>", &channel, "t-undeputy").await;
    assert_eq!(removed, "SEV-1 no longer has <@U0DAN> as a deputy.");
    let sev = status_of(&s, "SEV-1").await;
    assert_eq!(sev["report_owner"], "U0ALICE", "{sev}");
    assert_eq!(sev["coordinator"], "U0REPORTER", "{sev}");
    assert_eq!(sev["comms_lead"], "U0CAT", "{sev}");
    assert_eq!(sev["deputies"], json!(["U0EVE"]), "{sev}");
    assert_eq!(sev["public_updates"][0]["text"], "We are investigating", "{sev}");
    assert_eq!(sev["public_updates"][0]["author"], "U0REPORTER", "{sev}");
    assert_eq!(sev["public_updates"].as_array().map(Vec::len), Some(1), "{sev}");
    assert!(
        sev["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "system/payments/ledger"),
        "{sev}"
    );

    let mut statuses = Vec::new();
    let mut replies = Vec::new();
    for (i, text) in [
        "mitigated",
        "resolved it came back",
        "reopen",
        "resolved rolled back the deploy",
        "close",
        "reopen",
    ]
    .into_iter()
    .enumerate()
    {
        replies.push(answer(&s, text, &channel, &format!("t-status-{i}")).await);
        let now = status_of(&s, "SEV-1").await;
        statuses.push(now["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        statuses,
        ["mitigated", "resolved", "open", "resolved", "closed", "closed"],
        "{replies:#?}"
    );
    assert!(
        replies[5].contains("closed"),
        "closed is final, and the reply says so: {}",
        replies[5]
    );
    let sev = status_of(&s, "SEV-1").await;
    assert_eq!(sev["resolution"], "rolled back the deploy", "{sev}");

    // My SCAs, and every overdue one.
    answer(&s, "sca must alert on ledger lag", &channel, "t-sca").await;
    let due = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    let r = s
        .app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "rotate the leaked key", "priority": "must", "owner": "U0CAROL", "due": due}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let mine = answer(&s, "scas", "C0ANYWHERE", "t-mine").await;
    assert!(
        mine.contains("alert on ledger lag") && !mine.contains("rotate the leaked key"),
        "{mine}"
    );
    let overdue = answer(&s, "scas overdue", "C0ANYWHERE", "t-overdue").await;
    assert!(
        overdue.contains("rotate the leaked key") && !overdue.contains("alert on ledger lag"),
        "{overdue}"
    );

    // Outside a SEV channel, a SEV command says where it works.
    let elsewhere = answer(&s, "update all good", "C0ANYWHERE", "t-elsewhere").await;
    assert!(elsewhere.contains("not a SEV channel"), "{elsewhere}");
}

#[tokio::test]
async fn the_public_reaction_publishes_only_for_the_comms_lead_coordinator_or_a_deputy() {
    let s = setup_with(&[("SLACK_REACTIONS", "public=mega")]).await;
    let channel = filed_sev(&s).await;
    s.slack.add_message(
        &channel,
        "1700000004.000100",
        "U0AUTHOR",
        "Card payments are failing for some customers",
    );
    let reaction = json!({ "type": "reaction_added", "user": "U0ATC", "reaction": "mega", "item": { "type": "message", "channel": channel, "ts": "1700000004.000100" } });
    event(&s, "Ev30", reaction.clone(), None).await;
    s.slack
        .wait_for("the refusal in the thread", 20, |f| {
            f.replies_to("1700000004.000100") > 0
        })
        .await;
    let refusal = s
        .slack
        .ok_calls("chat.postMessage")
        .into_iter()
        .find(|c| c.args["thread_ts"] == "1700000004.000100")
        .map(|c| c.args["text"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    assert!(refusal.contains("may publish a public update"), "{refusal}");
    let r = s
        .app
        .http
        .patch(s.app.url("/api/sevs/SEV-1"))
        .json(&json!({"coordinator": "U0ATC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    event(&s, "Ev31", reaction, None).await;
    let sev = sev_until(&s, "the public update", |sev| {
        sev["public_updates"].as_array().is_some_and(|p| !p.is_empty())
    })
    .await;
    assert_eq!(
        sev["public_updates"][0]["text"],
        "Card payments are failing for some customers"
    );
    assert_eq!(sev["public_updates"][0]["author"], "U0ATC");
}

#[tokio::test]
async fn renamed_reactions_act_under_their_new_names_only() {
    let s = setup_with(&[("SLACK_REACTIONS", "mitigated=fire_out,update=loudspeaker")]).await;
    let channel = filed_sev(&s).await;
    s.slack
        .add_message(&channel, "1700000003.000100", "U0AUTHOR", "Rolled back 4812");
    let react = |emoji: &str| json!({ "type": "reaction_added", "user": "U0ATC", "reaction": emoji, "item": { "type": "message", "channel": channel, "ts": "1700000003.000100" } });
    // The old names first: renamed, they are ordinary emoji now.
    event(&s, "Ev20", react("sev-mitigated"), None).await;
    event(&s, "Ev21", react("sev-update"), None).await;
    s.app.settled().await;
    let sev = status_of(&s, "SEV-1").await;
    assert_eq!(sev["status"], "open");
    assert!(
        !sev["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "update"),
        "{sev}"
    );

    event(&s, "Ev22", react("fire_out"), None).await;
    event(&s, "Ev23", react("loudspeaker"), None).await;
    let sev = sev_until(&s, "the renamed reactions to act", |sev| {
        sev["status"] == "mitigated"
            && sev["timeline"].as_array().is_some_and(|t| {
                t.iter()
                    .any(|e| e["kind"] == "update" && e["text"] == "Rolled back 4812")
            })
    })
    .await;
    assert_eq!(sev["status"], "mitigated");
    // The pinned legend names the emoji people must use.
    let legend = s
        .slack
        .ok_calls("chat.postMessage")
        .iter()
        .any(|c| c.args["channel"] == channel.as_str() && c.args.to_string().contains(":fire_out:"));
    assert!(legend, "the emoji legend shows the renamed reaction");
}

#[tokio::test]
async fn the_message_shortcut_opens_the_intake_form_with_the_message() {
    let s = setup().await;
    let payload = json!({
        "type": "message_action",
        "callback_id": "file_sev_from_message",
        "trigger_id": "trig-shortcut",
        "user": { "id": "U0REPORTER" },
        "channel": { "id": "C0RANDOM" },
        "message": { "type": "message", "user": "U0OTHER", "ts": "1700000004.000100", "text": "checkout p99 is 9 s since 10:02" },
        "response_url": s.slack.response_url("trig-shortcut"),
    });
    assert_eq!(interact(&s, &payload).await, 200);
    let opened = s.slack.ok_calls("views.open");
    assert_eq!(
        opened.len(),
        1,
        "the form opens within the 3-second trigger, before the ack"
    );
    assert_eq!(opened[0].args["trigger_id"], "trig-shortcut");
    let view = &opened[0].args["view"];
    assert_eq!(view["callback_id"], "sev_intake");
    assert!(
        view.to_string().contains("checkout p99 is 9 s since 10:02"),
        "the message prefills the form: {view}"
    );
    s.app.settled().await;
    assert_eq!(
        s.app.get_json("/api/sevs").await.1["sevs"],
        json!([]),
        "nothing filed until submitted"
    );
}

async fn join(s: &Setup, n: u32, channel: &str, user: &str) {
    let joined =
        json!({ "type": "member_joined_channel", "user": user, "channel": channel, "event_ts": "1700000000.000100" });
    assert_eq!(event(s, &format!("EvCatchUp{n}"), joined, None).await, 200);
}

fn catch_ups(slack: &FakeSlack) -> Vec<Value> {
    slack
        .ok_calls("chat.postEphemeral")
        .into_iter()
        .map(|c| c.args)
        .collect()
}

#[tokio::test]
async fn whoever_joins_a_response_channel_is_caught_up_once_an_hour_and_never_on_a_private_sev_they_may_not_see() {
    let s = setup_with(&[("SEVTOOL_PUBLIC_URL", "http://sevtool.example")]).await;
    let response = filed_sev(&s).await;
    for text in [
        "u1 rolled back",
        "u2 <!channel> still 5xx",
        "u3",
        "u4",
        "u5",
        "u6 error rate falling",
    ] {
        let r = s
            .app
            .post_json("/api/sevs/SEV-1/updates", json!({"text": text, "author": "alice"}))
            .await;
        assert_eq!(r.status(), 201);
    }
    let r = s
        .app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "Alert on replication lag", "priority": "must", "owner": "U0ALICE"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    s.app.settled().await;

    join(&s, 1, &response, "U0BOB").await;
    s.slack.wait_for("a catch-up", 20, |f| !catch_ups(f).is_empty()).await;
    let sent = catch_ups(&s.slack);
    assert_eq!(
        (sent[0]["channel"].as_str(), sent[0]["user"].as_str()),
        (Some(response.as_str()), Some("U0BOB"))
    );
    let text = sent[0]["text"].as_str().unwrap();
    for expected in [
        "Catching up on SEV-1",
        "SEV1",
        "Checkout 5xx",
        "Coordinator: nobody yet",
        "Last 5 of 6 updates",
        "u6 error rate falling",
        "&lt;!channel&gt;",
        "Alert on replication lag (must, <@U0ALICE>)",
        "<http://sevtool.example/sevs/SEV-1|Open the SEV page>",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    assert!(!text.contains("u1 rolled back"), "only the last five updates: {text}");

    // A retried delivery, and the same person joining again within the hour: nothing more.
    let joined = json!({ "type": "member_joined_channel", "user": "U0BOB", "channel": response, "event_ts": "1700000000.000100" });
    assert_eq!(event(&s, "EvCatchUp1", joined, Some("1")).await, 200);
    join(&s, 2, &response, "U0BOB").await;
    join(&s, 3, &response, "U0CAROL").await;
    s.app.settled().await;
    let users: Vec<String> = catch_ups(&s.slack)
        .iter()
        .map(|c| c["user"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(users, ["U0BOB", "U0CAROL"], "once per person per hour");

    // A private SEV: a stranger who gets into its channel learns nothing; its reporter does.
    let r = s
        .app
        .post_json(
            "/api/sevs",
            json!({"title": "Secret breach", "level": "SEV1", "reporter": "U0REPORTER", "private": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    s.app.settled().await;
    let private = s
        .slack
        .ok_calls("conversations.create")
        .into_iter()
        .find(|c| {
            c.args["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("sev-2-") && !n.ends_with("-announce"))
        })
        .map(|c| c.args["name"].as_str().unwrap().to_owned())
        .unwrap();
    let channel = s
        .slack
        .channels()
        .into_iter()
        .find(|c| c.0 == private)
        .map(|c| c.1.id)
        .unwrap();
    join(&s, 4, &channel, "U0MALLORY").await;
    join(&s, 5, &channel, "U0REPORTER").await;
    s.app.settled().await;
    let to: Vec<(String, String)> = catch_ups(&s.slack)
        .iter()
        .filter(|c| c["channel"] == channel.as_str())
        .map(|c| {
            (
                c["user"].as_str().unwrap_or_default().to_owned(),
                c["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(to.len(), 1, "{to:?}");
    assert_eq!(to[0].0, "U0REPORTER");
    assert!(to[0].1.contains("Secret breach"));
    assert!(
        !catch_ups(&s.slack).iter().any(|c| c["user"] == "U0MALLORY"),
        "a stranger is not caught up on a private SEV"
    );
}
