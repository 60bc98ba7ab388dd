//! What `sevtool` logs, at the level it runs at in production (`info`), never carries a secret
//! (the shared access token, the Slack bot token and signing secret, the alert token, the
//! session key) nor what people wrote (titles, descriptions, updates, Slack command text, alert
//! text, a mistyped token). One run drives every surface with known values; then its whole log
//! is searched for them.

use blackbox::fake_slack::{BOT_TOKEN, FakeSlack};
use blackbox::{Sevtool, set_cookie};
use serde_json::json;

const ACCESS_TOKEN: &str = "access-canary-0d9c1e";
const SIGNING_SECRET: &str = "signing-canary-6a2b77";
const ALERT_TOKEN: &str = "alert-canary-51fe0a";
const SESSION_KEY: &str = "session-key-canary-3c8d2f90a1b4e7f6a5b4c3d2";

/// What people wrote; none of it may reach an info-level log line.
const WRITTEN: [&str; 7] = [
    "Canary title 7f3a",
    "canary description 91c2",
    "canary update 5d1e",
    "Canary slack title 3b7c",
    "canary alert title 8e8e",
    "canary alert text 44b0",
    "canary-wrong-token-4d4d",
];

#[tokio::test]
async fn no_secret_and_nothing_people_wrote_reaches_the_log() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sevtool.log");
    let api = slack.api_url();
    let env = [
        ("RUST_LOG", "info"),
        ("SEVTOOL_ACCESS_TOKEN", ACCESS_TOKEN),
        ("SEVTOOL_SESSION_KEY", SESSION_KEY),
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_ANNOUNCE_CHANNEL", "C0SEVS"),
        ("ALERT_WEBHOOK_TOKEN", ALERT_TOKEN),
    ];
    let app = Sevtool::start_logging_to(&dir.path().join("data"), &env, &log).await;
    let http = reqwest::Client::new();

    let filed = http
        .post(app.url("/api/sevs"))
        .bearer_auth(ACCESS_TOKEN)
        .json(&json!({"title": WRITTEN[0], "level": "SEV2", "description": WRITTEN[1]}))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status(), 201);
    let update = http
        .post(app.url("/api/sevs/SEV-1/updates"))
        .bearer_auth(ACCESS_TOKEN)
        .json(&json!({"text": WRITTEN[2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(update.status(), 201);
    let wrong = http
        .get(app.url("/api/sevs"))
        .bearer_auth(WRITTEN[6])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let command = serde_urlencoded::to_string([
        ("command", "/sev"),
        ("text", &format!("new SEV3 {}", WRITTEN[3])),
        ("channel_id", "C0GENERAL"),
        ("user_id", "U0REPORTER"),
        ("trigger_id", "trig-logs"),
        ("response_url", &slack.response_url("trig-logs")),
    ])
    .unwrap();
    let r = app
        .post_signed(
            SIGNING_SECRET,
            "/slack/commands",
            "application/x-www-form-urlencoded",
            command,
            &[],
        )
        .await;
    assert_eq!(r.status(), 200);

    let alert = http
        .post(app.url("/alerts/generic"))
        .bearer_auth(ALERT_TOKEN)
        .json(&json!({"fingerprint": "fp-logs", "title": WRITTEN[4], "description": WRITTEN[5], "labels": {"severity": "critical"}}))
        .send()
        .await
        .unwrap();
    assert!(alert.status().is_success(), "{}", alert.status());

    let refused = app.sign_in(WRITTEN[6], "Ada").await;
    assert_eq!(refused.status(), 401);
    let session = app.session(ACCESS_TOKEN, "Ada").await;
    assert!(set_cookie(&refused, "sevtool_session").is_none() && !session.is_empty());

    slack
        .wait_for("the Slack-filed SEV's announcement", 20, |f| {
            f.ok_calls("chat.postMessage").len() >= 2
        })
        .await;
    app.settled().await;
    drop(app);

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("SEV filed") && logged.contains("INFO"),
        "the log was captured at info level:\n{logged}"
    );
    for secret in [ACCESS_TOKEN, BOT_TOKEN, SIGNING_SECRET, ALERT_TOKEN, SESSION_KEY] {
        assert!(!logged.contains(secret), "a secret reached the log:\n{logged}");
    }
    for text in WRITTEN {
        assert!(
            !logged.to_lowercase().contains(&text.to_lowercase()),
            "{text:?} reached the log:\n{logged}"
        );
    }
}
