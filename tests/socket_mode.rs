//! Slack over Socket Mode, end to end: the real `sevtool` with an app-level token (and no signing
//! secret) connects to a fake Socket Mode server over real websockets, takes slash commands,
//! interactions and events from it, and acknowledges each envelope, which the fake checks.

use std::time::Duration;

use blackbox::Sevtool;
use blackbox::fake_slack::{BOT_TOKEN, FakeSlack, Scripted};
use blackbox::fake_socket::{APP_TOKEN, FakeSocketMode};
use serde_json::{Value, json};

const SEVS_CHANNEL: &str = "C0SEVS";

struct Setup {
    app: Sevtool,
    slack: FakeSlack,
    socket: FakeSocketMode,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    setup_with(&[], |_| {}).await
}

/// `before` scripts the fake Slack before sevtool first dials it.
async fn setup_with(extra: &[(&str, &str)], before: impl FnOnce(&FakeSlack)) -> Setup {
    let slack = FakeSlack::start().await;
    let socket = slack.socket_mode().await;
    before(&slack);
    let dir = tempfile::tempdir().unwrap();
    let api = slack.api_url();
    let mut env = vec![
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_APP_TOKEN", APP_TOKEN),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_ANNOUNCE_CHANNEL", SEVS_CHANNEL),
        ("RUST_LOG", "debug"),
    ];
    env.extend_from_slice(extra);
    let log = dir.path().join("sevtool.log");
    let app = Sevtool::start_logging_to(dir.path(), &env, &log).await;
    Setup {
        app,
        slack,
        socket,
        dir,
    }
}

impl Setup {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sevtool.log")).unwrap_or_default()
    }

    /// Nothing the fake checked was wrong, and no secret reached the log.
    fn assert_clean(&self) {
        assert_eq!(self.socket.problems(), Vec::<String>::new());
        let log = self.log();
        assert!(!log.contains(APP_TOKEN), "the app-level token was logged");
        assert!(
            !log.contains("ticket="),
            "a websocket URL (its one-time ticket) was logged"
        );
    }
}

fn command(text: &str, trigger: &str, slack: &FakeSlack) -> Value {
    json!({
        "token": "unused", "team_id": "T1", "team_domain": "fake", "channel_id": "C0RANDOM",
        "channel_name": "random", "user_id": "U0REPORTER", "user_name": "reporter",
        "command": "/sev", "text": text, "api_app_id": "A0FAKE", "is_enterprise_install": "false",
        "response_url": slack.response_url(trigger), "trigger_id": trigger,
    })
}

fn submission(view_id: &str, title: &str) -> Value {
    json!({
        "type": "view_submission",
        "user": { "id": "U0REPORTER" },
        "view": { "id": view_id, "callback_id": "sev_intake", "state": { "values": {
            "title": { "title": { "type": "plain_text_input", "value": title } },
            "level": { "level": { "type": "static_select", "selected_option": { "value": "SEV1" } } },
            "description": { "description": { "type": "plain_text_input", "value": "errors since 09:10" } },
            "private": { "private": { "type": "checkboxes", "selected_options": [] } }
        } } }
    })
}

fn event(event_id: &str, event: Value) -> Value {
    json!({ "type": "event_callback", "event_id": event_id, "team_id": "T1", "api_app_id": "A0FAKE", "event": event })
}

fn reaction(channel: &str, emoji: &str, ts: &str) -> Value {
    json!({ "type": "reaction_added", "user": "U0ATC", "reaction": emoji,
            "item": { "type": "message", "channel": channel, "ts": ts } })
}

fn response_channel(slack: &FakeSlack) -> String {
    slack.ok_calls("conversations.invite")[0].args["channel"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn sev(s: &Setup, id: &str) -> Value {
    s.app.get_json(&format!("/api/sevs/{id}")).await.1
}

async fn link_state(s: &Setup) -> Value {
    s.app.get_json("/api/status").await.1["slack_socket_mode"].clone()
}

async fn wait_link(s: &Setup, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let state = link_state(s).await;
        if check(&state) {
            return state;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waiting for {what}; the link is {state}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_sev_filed_over_socket_mode_gets_its_channels_and_an_emoji_sca_sent_three_ways_acts_once() {
    let s = setup().await;
    let [a, b] = s.socket.wait_open(2, 20).await[..] else {
        panic!("two connections")
    };
    let state = wait_link(&s, "two connections", |l| l["connections"] == 2).await;
    assert_eq!(state, json!({ "state": "connected", "connections": 2 }));

    // `/sev` alone opens the intake modal from the ack path, as over HTTP.
    let open = s
        .socket
        .send(a, "slash_commands", command("", "trig-modal", &s.slack), 0);
    let ack = s.socket.wait_ack(&open, 5).await;
    assert_eq!(ack.payload, None, "opening the modal acknowledges with nothing to show");
    let views = s.slack.ok_calls("views.open");
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].args["trigger_id"], "trig-modal");

    // A double click submits the same view twice, here on both connections: one SEV.
    let first = s.socket.send(a, "interactive", submission("V123", "Checkout 5xx"), 0);
    let second = s.socket.send(b, "interactive", submission("V123", "Checkout 5xx"), 0);
    for id in [&first, &second] {
        assert_eq!(s.socket.wait_ack(id, 5).await.payload, None, "the modal closes");
    }
    s.slack
        .wait_for("the announcement", 20, |f| {
            !f.texts_to(SEVS_CHANNEL).is_empty() && !f.ok_calls("conversations.invite").is_empty()
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
    assert_eq!(s.slack.texts_to(SEVS_CHANNEL).len(), 1);
    let (_, list) = s.app.get_json("/api/sevs").await;
    assert_eq!(list["sevs"].as_array().unwrap().len(), 1);

    // The same reaction on both connections, then redelivered after a "lost" ack: one SCA.
    let channel = response_channel(&s.slack);
    s.slack.add_message(
        &channel,
        "1700000003.000300",
        "U0AUTHOR",
        "Add a canary for config pushes",
    );
    let react = event("Ev20", reaction(&channel, "sca-must", "1700000003.000300"));
    let sends = [
        s.socket.send(a, "events_api", react.clone(), 0),
        s.socket.send(b, "events_api", react.clone(), 0),
        s.socket.send(a, "events_api", react, 1),
    ];
    for id in &sends {
        assert_eq!(s.socket.wait_ack(id, 5).await.payload, None);
    }
    s.slack
        .wait_for("the SCA's confirmation", 20, |f| f.replies_to("1700000003.000300") > 0)
        .await;
    s.app.settled().await;
    let scas = sev(&s, "SEV-1").await["scas"].clone();
    assert_eq!(scas.as_array().unwrap().len(), 1, "{scas}");
    assert_eq!(scas[0]["text"], "Add a canary for config pushes");
    assert_eq!(s.slack.replies_to("1700000003.000300"), 1);

    // Whoever joins the response channel is caught up over this transport too, once.
    let joined = json!({ "type": "member_joined_channel", "user": "U0LATE", "channel": channel, "event_ts": "1700000000.000100" });
    s.socket.send(b, "events_api", event("EvJoin", joined.clone()), 0);
    s.socket.send(a, "events_api", event("EvJoin", joined), 1);
    s.slack
        .wait_for("the catch-up", 20, |f| !f.ok_calls("chat.postEphemeral").is_empty())
        .await;
    s.app.settled().await;
    let catch_ups = s.slack.ok_calls("chat.postEphemeral");
    assert_eq!(catch_ups.len(), 1, "{catch_ups:?}");
    assert_eq!(catch_ups[0].args["user"], "U0LATE");

    // Without a signing secret the HTTP routes say how Slack reaches this sevtool.
    let r = s.app.post_form("/slack/commands", &[("text", "help")]).await;
    assert_eq!(r.status(), 503);
    let said: Value = r.json().await.unwrap();
    assert!(said["error"].as_str().unwrap().contains("Socket Mode"), "{said}");
    s.assert_clean();
}

#[tokio::test]
async fn replies_and_field_errors_come_back_in_the_ack_payload() {
    let s = setup().await;
    let [a, _] = s.socket.wait_open(2, 20).await[..] else {
        panic!("two connections")
    };
    let help = s
        .socket
        .send(a, "slash_commands", command("help", "trig-help", &s.slack), 0);
    let ack = s.socket.wait_ack(&help, 5).await;
    let payload = ack.payload.expect("the usage, in the ack");
    assert_eq!(payload["response_type"], "ephemeral");
    assert!(payload["text"].as_str().unwrap().contains("/sev new"), "{payload}");

    let file = s.socket.send(
        a,
        "slash_commands",
        command("new SEV2 search is slow", "trig-new", &s.slack),
        0,
    );
    let payload = s.socket.wait_ack(&file, 5).await.payload.unwrap();
    assert!(
        payload["text"].as_str().unwrap().contains("Filing a SEV2 SEV"),
        "{payload}"
    );
    s.slack
        .wait_for("the filing reply", 20, |f| !f.calls("respond/trig-new").is_empty())
        .await;

    let empty = s.socket.send(a, "interactive", submission("V9", "   "), 0);
    let payload = s.socket.wait_ack(&empty, 5).await.payload.unwrap();
    assert_eq!(payload["response_action"], "errors");
    assert!(payload["errors"]["title"].as_str().is_some(), "{payload}");

    // What cannot be acted on is acknowledged (a redelivery would be the same) and ignored.
    let broken = s.socket.send(a, "slash_commands", json!({ "text": "help" }), 0);
    assert_eq!(s.socket.wait_ack(&broken, 5).await.payload, None);
    let unknown = s.socket.send(a, "some_future_type", json!({}), 0);
    assert_eq!(s.socket.wait_ack(&unknown, 5).await.payload, None);
    s.app.settled().await;
    let (_, list) = s.app.get_json("/api/sevs").await;
    assert_eq!(list["sevs"].as_array().unwrap().len(), 1, "only the /sev new filed one");
    s.assert_clean();
}

#[tokio::test]
async fn a_retired_connection_is_replaced_before_it_closes_and_a_dropped_one_loses_nothing() {
    let s = setup().await;
    let [a, b] = s.socket.wait_open(2, 20).await[..] else {
        panic!("two connections")
    };
    // Slack warns, then closes three seconds later: the replacement is open before that.
    s.socket.disconnect(a, "warning", Some(Duration::from_secs(3)));
    let three = s.socket.wait_open(3, 5).await;
    assert!(three.contains(&a) && three.contains(&b), "{three:?}");
    let c = *three.last().unwrap();
    s.socket.wait_exactly(&[b, c], 10).await;

    s.socket
        .disconnect(c, "refresh_requested", Some(Duration::from_secs(3)));
    let after_refresh = s.socket.wait_open(3, 5).await;
    let d = *after_refresh.last().unwrap();
    s.socket.wait_exactly(&[b, d], 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.socket.open(), [b, d], "no other connection was opened");

    // A SEV to act on, filed through the API.
    let r = s
        .app
        .post_json(
            "/api/sevs",
            json!({"title": "Search slow", "level": "SEV2", "reporter": "U0REPORTER"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    s.slack
        .wait_for("the channels", 20, |f| !f.ok_calls("conversations.invite").is_empty())
        .await;
    let channel = response_channel(&s.slack);

    // The connection drops right after an envelope reaches it; Slack delivers it again on
    // another connection, and it acts once.
    let mitigated = event("Ev30", reaction(&channel, "sev-mitigated", "1700000001.000100"));
    s.slack
        .add_message(&channel, "1700000001.000100", "U0AUTHOR", "rolled back the deploy");
    s.socket.send(b, "events_api", mitigated.clone(), 0);
    s.socket.drop_connection(b);
    let redelivered = s.socket.send(d, "events_api", mitigated, 1);
    s.socket.wait_ack(&redelivered, 5).await;
    let replaced = s.socket.wait_open(2, 10).await;
    assert!(!replaced.contains(&b), "{replaced:?}");
    s.slack
        .wait_for("the confirmation", 20, |f| f.replies_to("1700000001.000100") > 0)
        .await;
    s.app.settled().await;
    let detail = sev(&s, "SEV-1").await;
    assert_eq!(detail["status"], "mitigated");
    let moves = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status_changed")
        .count();
    assert_eq!(moves, 1, "{detail}");
    assert_eq!(
        wait_link(&s, "two again", |l| l["connections"] == 2).await["state"],
        "connected"
    );
    s.assert_clean();
}

#[tokio::test]
async fn link_disabled_stops_reconnecting_and_says_why_while_the_rest_keeps_working() {
    let s = setup().await;
    let [a, _] = s.socket.wait_open(2, 20).await[..] else {
        panic!("two connections")
    };
    s.socket.disconnect(a, "link_disabled", None);
    let state = wait_link(&s, "the link to stop", |l| l["state"] == "stopped").await;
    assert!(state["reason"].as_str().unwrap().contains("link_disabled"), "{state}");
    let opened = s.socket.opened();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.socket.opened(), opened, "no connection is opened after link_disabled");
    assert!(s.socket.open().is_empty(), "and the open ones are closed");
    let page = s.app.get_text("/status").await;
    assert!(
        page.contains("Slack Socket Mode") && page.contains("link_disabled"),
        "{page}"
    );
    let r = s
        .app
        .post_json("/api/sevs", json!({"title": "Still filing", "level": "SEV3"}))
        .await;
    assert_eq!(r.status(), 201, "the API works without Slack");
    assert!(s.log().contains("link_disabled"), "the log says why");
    s.assert_clean();
}

#[tokio::test]
async fn slack_failing_to_open_connections_is_retried_and_a_refused_token_stops_the_link() {
    let flaky = setup_with(&[], |slack| {
        slack.script(
            "apps.connections.open",
            vec![Scripted::Status(500), Scripted::Error("internal_error")],
        );
    })
    .await;
    flaky.socket.wait_open(2, 20).await;
    let calls = flaky.slack.calls("apps.connections.open");
    assert!(calls.len() >= 4, "two failures, then two connections: {}", calls.len());
    flaky.assert_clean();

    let refused = setup_with(&[], |slack| {
        slack.script("apps.connections.open", vec![Scripted::Error("invalid_auth")]);
    })
    .await;
    let state = wait_link(&refused, "the link to stop", |l| l["state"] == "stopped").await;
    assert!(state["reason"].as_str().unwrap().contains("SLACK_APP_TOKEN"), "{state}");
    refused.assert_clean();
}
