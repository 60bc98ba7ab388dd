//! The fakes refuse what the real services refuse, so a test that passes against them says the
//! request would pass against the real one. Here the fake Slack is asked directly.

use blackbox::fake_slack::{BOT_TOKEN, FakeSlack, MAX_TEXT_CHARS};
use serde_json::{Value, json};

async fn call(slack: &FakeSlack, method: &str, token: Option<&str>, args: Value) -> Value {
    let mut r = reqwest::Client::new()
        .post(format!("{}{method}", slack.api_url()))
        .json(&args);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap().json().await.unwrap()
}

async fn error(slack: &FakeSlack, method: &str, args: Value) -> String {
    let answer = call(slack, method, Some(BOT_TOKEN), args).await;
    assert_eq!(answer["ok"], false, "{method}: {answer}");
    answer["error"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_fake_slack_refuses_what_slack_refuses() {
    let slack = FakeSlack::start().await;
    let hello = json!({"channel": "C1", "text": "hello"});
    assert_eq!(error(&slack, "chat.postMesage", hello.clone()).await, "unknown_method");
    let anonymous = call(&slack, "chat.postMessage", None, hello.clone()).await;
    assert_eq!(anonymous["error"], "invalid_auth");
    let wrong = call(&slack, "chat.postMessage", Some("xoxb-someone-else"), hello.clone()).await;
    assert_eq!(wrong["error"], "invalid_auth");
    assert_eq!(
        call(&slack, "chat.postMessage", Some(BOT_TOKEN), hello).await["ok"],
        true
    );

    assert_eq!(
        error(&slack, "chat.postMessage", json!({"text": "hi"})).await,
        "channel_not_found"
    );
    assert_eq!(
        error(&slack, "chat.postMessage", json!({"channel": "C1"})).await,
        "no_text"
    );
    assert_eq!(
        error(&slack, "chat.update", json!({"channel": "C1", "text": "edited"})).await,
        "message_not_found"
    );
    let longest = "x".repeat(MAX_TEXT_CHARS);
    let ok = call(
        &slack,
        "chat.postMessage",
        Some(BOT_TOKEN),
        json!({"channel": "C1", "text": longest}),
    )
    .await;
    assert_eq!(ok["ok"], true);
    let over = format!("{longest}x");
    assert_eq!(
        error(&slack, "chat.postMessage", json!({"channel": "C1", "text": over})).await,
        "msg_too_long"
    );
    assert_eq!(
        error(&slack, "pins.add", json!({"channel": "C1", "ts": "1.2"})).await,
        "no_item_specified"
    );
    assert_eq!(
        error(&slack, "conversations.invite", json!({"channel": "C1"})).await,
        "no_user"
    );
    assert_eq!(
        error(&slack, "conversations.create", json!({"name": "SEV 1"})).await,
        "invalid_name_specials"
    );
    assert_eq!(
        error(&slack, "conversations.create", json!({"name": "a".repeat(81)})).await,
        "invalid_name_maxlength"
    );
    assert_eq!(
        error(&slack, "views.open", json!({"trigger_id": "t"})).await,
        "invalid_arguments"
    );

    let respond = |body: reqwest::RequestBuilder| async move { body.send().await.unwrap().status().as_u16() };
    let http = reqwest::Client::new();
    let url = slack.response_url("t1");
    assert_eq!(respond(http.post(&url).json(&json!({"text": "done"}))).await, 200);
    assert_eq!(respond(http.post(&url).json(&json!({"replace": true}))).await, 400);
    assert_eq!(respond(http.post(&url).body("text=done")).await, 400);
}
