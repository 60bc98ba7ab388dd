//! The nag ladder as people receive it: each rung's task put on the real `sevtool`'s queue, as
//! its schedule sends it when it fires, and what the fake Slack is then asked to post, to whom.
//! When the rungs fire (quiet hours, snoozes, completion) is tested with a controllable clock in
//! `shared/tests/nags.rs`; this is who hears about it.

use std::path::PathBuf;

use blackbox::Sevtool;
use blackbox::fake_slack::{BOT_TOKEN, FakeSlack};
use blackbox::task_queue::{deliver, wait_idle};
use chrono::Utc;
use serde_json::{Value, json};
use sev::domain::{NagStep, ScaId};
use sev::queue::{Task, TaskEnvelope};

const OWNER: &str = "U0OWNER";
const COORDINATOR: &str = "U0ATC";
const TEAM_CHANNEL: &str = "C0PAYTEAM";

/// The payments team owns the `checkout` track and has its own channel; paging goes nowhere
/// (auto-paging is off and the pager addresses lead nowhere).
const CATALOG: &str = r#"
[[team]]
name = "atc"
rotation = "coordinator"
[team.pagerduty]
routing_key = "rk-atc"
schedule = "PATC"

[[team]]
name = "payments"
product_tracks = ["checkout"]
channel = "C0PAYTEAM"
[team.pagerduty]
routing_key = "rk-payments"
schedule = "PPAY"
"#;

struct Setup {
    app: Sevtool,
    slack: FakeSlack,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let teams = dir.path().join("teams.toml");
    std::fs::write(&teams, CATALOG).unwrap();
    let data = dir.path().join("data");
    let (api, teams) = (slack.api_url(), teams.display().to_string());
    let env = [
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", "test-signing-secret"),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_ANNOUNCE_CHANNEL", "C0SEVS"),
        ("SEVTOOL_TEAMS", teams.as_str()),
        ("SEVTOOL_AUTOPAGE_LEVEL", "off"),
        ("PAGERDUTY_EVENTS_URL", "http://127.0.0.1:9"),
        ("PAGERDUTY_API_URL", "http://127.0.0.1:9"),
    ];
    let app = Sevtool::start(&data, &env).await;
    Setup {
        app,
        slack,
        data,
        _dir: dir,
    }
}

/// The texts posted to `channel` (a channel id, or a user id for a DM) that are about SCA-1.
fn nags_to(slack: &FakeSlack, channel: &str) -> Vec<String> {
    slack
        .ok_calls("chat.postMessage")
        .into_iter()
        .filter(|c| c.args["channel"] == channel)
        .filter_map(|c| c.args["text"].as_str().map(str::to_owned))
        .filter(|t| t.contains("SCA-1 is"))
        .collect()
}

/// Files a SEV on the checkout track with a coordinator and one SCA owned by `OWNER`, waits
/// for its channels, and returns the response channel.
async fn sev_with_an_sca(s: &Setup, private: bool) -> String {
    let r = s
        .app
        .post_json(
            "/api/sevs",
            json!({"title": "Checkout 5xx", "level": "SEV1", "reporter": "U0REPORTER", "private": private}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = s
        .app
        .http
        .patch(s.app.url("/api/sevs/SEV-1"))
        .json(&json!({"coordinator": COORDINATOR, "product_track": "checkout"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = s
        .app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "Add a canary", "priority": "must", "owner": OWNER}),
        )
        .await;
    assert_eq!(r.status(), 201);
    s.slack
        .wait_for("the response channel", 20, |f| {
            !f.ok_calls("conversations.invite").is_empty()
        })
        .await;
    s.slack.ok_calls("conversations.invite")[0].args["channel"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The task a rung's schedule sends: named by its SCA, rung and time, so a schedule that fires
/// twice sends the same task twice.
fn nag(step: NagStep, at: chrono::DateTime<Utc>) -> TaskEnvelope {
    TaskEnvelope::new(
        Task::Nag {
            sca: ScaId(1),
            step,
            at,
        },
        at,
    )
}

/// How many SCA-1 nags the owner, the response channel, the coordinator and the team channel
/// have had.
fn reached(s: &Setup, response: &str) -> [usize; 4] {
    [OWNER, response, COORDINATOR, TEAM_CHANNEL].map(|c| nags_to(&s.slack, c).len())
}

#[tokio::test]
async fn each_rung_reaches_further_and_a_rung_fired_twice_posts_once() {
    let s = setup().await;
    let response = sev_with_an_sca(&s, false).await;
    assert_eq!(reached(&s, &response), [0, 0, 0, 0], "no nag before a schedule fires");

    let fired = Utc::now();
    let escalation = nag(NagStep::Escalate, fired);
    for (task, expected) in [
        (nag(NagStep::Before, fired), [1, 0, 0, 0]),
        (nag(NagStep::Due, fired), [2, 0, 0, 0]),
        (nag(NagStep::Overdue, fired), [3, 1, 0, 0]),
        (escalation.clone(), [4, 2, 1, 1]),
    ] {
        let step = match &task.task {
            Task::Nag { step, .. } => *step,
            other => unreachable!("{other:?}"),
        };
        deliver(&s.data, &task);
        s.slack
            .wait_for(&format!("the {step:?} nag"), 20, |_| reached(&s, &response) == expected)
            .await;
    }

    let owner = s
        .slack
        .ok_calls("chat.postMessage")
        .into_iter()
        .rfind(|c| c.args["channel"] == OWNER)
        .unwrap();
    let blocks: Value = match &owner.args["blocks"] {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    };
    let actions: Vec<&str> = blocks[1]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action_id"].as_str())
        .collect();
    assert_eq!(actions, ["sca_done", "sca_snooze_1d", "sca_snooze_1w", "sca_reassign"]);
    let escalated = &nags_to(&s.slack, TEAM_CHANNEL)[0];
    assert!(
        escalated.contains("well past its due date") && escalated.contains("Add a canary"),
        "{escalated}"
    );

    // The escalation's schedule fires twice more (or SQS redelivers it): nobody hears again.
    deliver(&s.data, &escalation);
    deliver(&s.data, &escalation);
    wait_idle(&s.data).await;
    assert_eq!(reached(&s, &response), [4, 2, 1, 1], "one task, one message per person");
}

#[tokio::test]
async fn a_private_sev_never_escalates_into_a_team_channel() {
    let s = setup().await;
    let response = sev_with_an_sca(&s, true).await;
    deliver(&s.data, &nag(NagStep::Escalate, Utc::now()));
    s.slack
        .wait_for("the escalation", 20, |_| reached(&s, &response)[..3] == [1, 1, 1])
        .await;
    wait_idle(&s.data).await;
    assert_eq!(nags_to(&s.slack, TEAM_CHANNEL).len(), 0);
}

#[tokio::test]
async fn a_nag_policy_that_does_not_parse_stops_the_start_naming_the_key() {
    let stderr = blackbox::refused_start(&[("SEVTOOL_NAG_POLICY", "grace=7d,quiet=22-25")]).await;
    assert!(
        stderr.starts_with("sevtool: SEVTOOL_NAG_POLICY=\"grace=7d,quiet=22-25\" is not valid: quiet:"),
        "{stderr}"
    );
}
