//! The fakes refuse what the real services refuse, so a test that passes against them says the
//! request would pass against the real one. Here each fake is asked directly.

use blackbox::fake_jira::{self, FakeJira};
use blackbox::fake_pager::FakePager;
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

#[tokio::test]
async fn the_fake_pager_refuses_what_pagerduty_refuses() {
    let pager = FakePager::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v2/enqueue", pager.base);
    let trigger = json!({
        "routing_key": "rk-atc",
        "event_action": "trigger",
        "dedup_key": "sevtool-1-atc",
        "payload": {"summary": "SEV-1 SEV0: checkout down", "source": "sevtool", "severity": "critical"},
    });
    let send = |body: Value| {
        let (http, url) = (http.clone(), url.clone());
        async move { http.post(url).json(&body).send().await.unwrap() }
    };
    assert_eq!(send(trigger.clone()).await.status(), 202);

    let with = |path: &[&str], value: Value| {
        let mut v = trigger.clone();
        let (last, parents) = path.split_last().unwrap();
        let mut at = &mut v;
        for p in parents {
            at = &mut at[*p];
        }
        at[*last] = value;
        v
    };
    for (what, body) in [
        ("no routing key", with(&["routing_key"], json!(""))),
        (
            "a routing key over 32 characters",
            with(&["routing_key"], json!("r".repeat(33))),
        ),
        ("an unknown action", with(&["event_action"], json!("page"))),
        ("no dedup key", with(&["dedup_key"], Value::Null)),
        (
            "a dedup key over 255 characters",
            with(&["dedup_key"], json!("d".repeat(256))),
        ),
        ("no summary", with(&["payload", "summary"], Value::Null)),
        (
            "a summary over 1024 characters",
            with(&["payload", "summary"], json!("s".repeat(1025))),
        ),
        ("no source", with(&["payload", "source"], Value::Null)),
        ("an unknown severity", with(&["payload", "severity"], json!("sev0"))),
        ("no severity", with(&["payload", "severity"], Value::Null)),
    ] {
        let r = send(body).await;
        assert_eq!(r.status(), 400, "{what}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["status"], "invalid event", "{what}: {answer}");
    }
    let resolve = json!({"routing_key": "rk-atc", "event_action": "resolve", "dedup_key": "sevtool-1-atc"});
    assert_eq!(send(resolve).await.status(), 202, "a resolve needs no payload");
    let form = http.post(&url).body(trigger.to_string()).send().await.unwrap();
    assert_eq!(form.status(), 400, "a body that is not declared JSON");

    let oncalls = format!("{}/oncalls?schedule_ids[]=PATC", pager.base);
    assert_eq!(http.get(&oncalls).send().await.unwrap().status(), 401);
    let wrong = http
        .get(&oncalls)
        .header("authorization", "Token token=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn the_fake_jira_refuses_what_jira_refuses() {
    let jira = FakeJira::start(&["PAY"]).await;
    let http = reqwest::Client::new();
    let url = format!("{}/rest/api/3/issue", jira.base);
    let description = json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "From SEV-1"}]}
    ]});
    let fields = json!({
        "project": {"key": "PAY"},
        "issuetype": {"name": "Task"},
        "summary": "Alert on ledger lag",
        "priority": {"name": "High"},
        "description": description,
        "duedate": "2026-12-24",
    });
    let create = |fields: Value| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.post(url)
                .basic_auth(fake_jira::EMAIL, Some(fake_jira::API_TOKEN))
                .json(&json!({"fields": fields}))
                .send()
                .await
                .unwrap()
        }
    };
    let ok = create(fields.clone()).await;
    assert_eq!(ok.status(), 201);
    let key = ok.json::<Value>().await.unwrap()["key"].as_str().unwrap().to_owned();
    assert_eq!(key, "PAY-1");

    let with = |name: &str, value: Value| {
        let mut f = fields.clone();
        f[name] = value;
        f
    };
    for (field, body) in [
        ("project", with("project", json!({"key": "NOPE"}))),
        ("issuetype", with("issuetype", json!({"name": "Epic"}))),
        ("summary", with("summary", json!("two\nlines"))),
        ("summary", with("summary", json!("s".repeat(256)))),
        ("priority", with("priority", json!({"name": "Must"}))),
        ("description", with("description", json!("plain text"))),
        ("duedate", with("duedate", json!("24/12/2026"))),
        ("customfield_10020", with("customfield_10020", json!(3))),
    ] {
        let r = create(body).await;
        assert_eq!(r.status(), 400, "{field}");
        let answer: Value = r.json().await.unwrap();
        assert!(answer["errors"][field].is_string(), "{field}: {answer}");
    }

    let anonymous = http.post(&url).json(&json!({"fields": fields})).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let text = http
        .post(&url)
        .basic_auth(fake_jira::EMAIL, Some(fake_jira::API_TOKEN))
        .body(json!({"fields": fields}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 415, "a body that is not declared JSON");
    let read = format!("{url}/{key}");
    assert_eq!(http.get(&read).send().await.unwrap().status(), 401);
    let missing = http
        .get(format!("{url}/PAY-99"))
        .basic_auth(fake_jira::EMAIL, Some(fake_jira::API_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(jira.issues().len(), 1, "only the valid request made an issue");
}

#[tokio::test]
async fn the_fake_genie_refuses_what_opsgenie_and_jsm_ops_refuse() {
    use blackbox::fake_genie::{CLOUD_ID, FakeGenie, GENIE_KEY, JSM_EMAIL, JSM_TOKEN};
    let genie = FakeGenie::start().await;
    let http = reqwest::Client::new();
    let good = json!({"message": "SEV-1 SEV2: db", "alias": "sevtool-1-atc", "priority": "P3",
                      "responders": [{"type": "team", "name": "ATC"}]});
    let create = |path: &'static str, key: &'static str, body: Value| {
        let r = http
            .post(format!("{}{path}", genie.base))
            .header("authorization", format!("GenieKey {key}"))
            .json(&body);
        async move { r.send().await.unwrap().status().as_u16() }
    };
    for path in ["/v2/alerts", "/jsm/ops/integration/v2/alerts"] {
        assert_eq!(create(path, GENIE_KEY, good.clone()).await, 202);
        assert_eq!(create(path, "wrong", good.clone()).await, 401);
        let mut long = good.clone();
        long["message"] = json!("x".repeat(131));
        assert_eq!(create(path, GENIE_KEY, long).await, 422, "a message over 130");
        let mut no_alias = good.clone();
        no_alias["alias"] = Value::Null;
        assert_eq!(create(path, GENIE_KEY, no_alias).await, 422, "no alias");
        let mut priority = good.clone();
        priority["priority"] = json!("P0");
        assert_eq!(create(path, GENIE_KEY, priority).await, 422);
        let not_json = http
            .post(format!("{}{path}", genie.base))
            .header("authorization", format!("GenieKey {GENIE_KEY}"))
            .body(good.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(not_json.status(), 400, "no JSON content type");
        let close = |query: &'static str| {
            let r = http
                .post(format!("{}{path}/sevtool-1-atc/close{query}", genie.base))
                .header("authorization", format!("GenieKey {GENIE_KEY}"))
                .json(&json!({"source": "sevtool"}));
            async move { r.send().await.unwrap().status().as_u16() }
        };
        assert_eq!(close("?identifierType=alias").await, 202);
        assert_eq!(close("").await, 404, "an alias read as an alert id");
    }
    assert_eq!(genie.pages().len(), 2);
    let on_calls = format!(
        "{}/jsm/ops/api/{CLOUD_ID}/v1/schedules/s1/on-calls?flat=true",
        genie.base
    );
    let r = http
        .get(&on_calls)
        .basic_auth(JSM_EMAIL, Some(JSM_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"onCallUsers": ["acc-s1"]}));
    let r = http
        .get(&on_calls)
        .basic_auth(JSM_EMAIL, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let other_site = on_calls.replace(CLOUD_ID, "c0ffee00-0000-4000-8000-000000000002");
    let r = http
        .get(other_site)
        .basic_auth(JSM_EMAIL, Some(JSM_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = http
        .get(format!("{}/v2/schedules/ATC/on-calls?flat=true", genie.base))
        .header("authorization", format!("GenieKey {GENIE_KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        404,
        "an Opsgenie schedule name needs scheduleIdentifierType=name"
    );
}
