//! The defects an outside tester found, each against the real `sevtool`: a due date that
//! crash-looped the task consumer, Slack commands and buttons that leaked or acted on private
//! SEVs, and sign-in names that claimed membership; and the web's hardening (redirect targets,
//! security headers, cookies).

use blackbox::fake_slack::{BOT_TOKEN, FakeSlack};
use blackbox::{Sevtool, set_cookie};
use serde_json::{Value, json};

const TOKEN: &str = "hardening-shared-token";
const SECRET: &str = "hardening-signing-secret";
const MEMBER: &str = "U0MEMBER";
const STRANGER: &str = "U0STRANGER";
const SECURITY: &str = "U0SECURITY";
const SECRET_TEXT: &str = "Rotate the leaked signing key";
const SECRET_TITLE: &str = "Customer data exposed by export bug";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts the `/signin` form as a browser does: with the CSRF cookie and token the page set.
async fn post_signin(app: &Sevtool, fields: &[(&str, &str)]) -> reqwest::Response {
    let http = no_redirects();
    let page = http.get(app.url("/signin")).send().await.unwrap();
    let csrf_cookie = set_cookie(&page, "sevtool_csrf").unwrap();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_owned();
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    http.post(app.url("/signin"))
        .header("cookie", &csrf_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(&all).unwrap())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn due_dates_that_once_crash_looped_the_consumer_are_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    let r = app
        .post_json("/api/sevs", json!({"title": "db down", "level": "SEV2"}))
        .await;
    assert_eq!(r.status(), 201);
    for due in [
        "+262142-12-31T23:59:59Z",
        "2201-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ] {
        let r = app
            .post_json(
                "/api/sevs/SEV-1/scas",
                json!({"text": "fix", "priority": "must", "due": due}),
            )
            .await;
        assert_eq!(r.status(), 400, "{due}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"].as_str().unwrap().starts_with("due: "), "{due}: {e}");
    }
    let r = app
        .post_json("/api/sevs/SEV-1/scas", json!({"text": "fix", "priority": "must"}))
        .await;
    assert_eq!(r.status(), 201);
    for due in [
        "-262143-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "2020-01-01T00:00:00Z",
    ] {
        let r = app
            .http
            .patch(app.url("/api/scas/SCA-1"))
            .json(&json!({ "due": due }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "PATCH refuses what POST refuses: {due}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"].as_str().unwrap().starts_with("due: "), "{due}: {e}");
    }
    // The latest due date allowed plans its nags without trouble, and the process stays up.
    let r = app
        .http
        .patch(app.url("/api/scas/SCA-1"))
        .json(&json!({ "due": "2200-12-31T23:59:59Z" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.settled().await;
    let (status, sca) = app.get_json("/api/scas/SCA-1").await;
    assert_eq!((status, sca["due"].as_str()), (200, Some("2200-12-31T23:59:59Z")));
}

#[tokio::test]
async fn list_ranges_are_bounded_and_far_dates_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    for (query, field) in [
        ("since=1970-01-01", "since"),
        ("since=0001-01-01", "since"),
        ("until=9999-12-31", "until"),
        ("since=2026-07-02&until=2026-07-01", "since"),
    ] {
        let (status, body) = app.get_json(&format!("/api/sevs?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["error"].as_str().unwrap().starts_with(field), "{query}: {body}");
    }
    let (status, _) = app.get_json("/api/sevs?since=2020-01-01&until=2029-12-31").await;
    assert_eq!(status, 200, "ten years is fine");
    let r = app
        .post_json(
            "/api/sevs",
            json!({"title": "old", "level": "SEV3", "started_at": "-262143-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), 400);
}

struct Slack {
    app: Sevtool,
    slack: FakeSlack,
    _dir: tempfile::TempDir,
}

async fn slack_with_a_private_sev() -> Slack {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let api = slack.api_url();
    let env = [
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SECRET),
        ("SLACK_API_URL", api.as_str()),
        ("SEVTOOL_SECURITY_GROUP", SECURITY),
    ];
    let app = Sevtool::start(dir.path(), &env).await;
    let r = app
        .post_json(
            "/api/sevs",
            json!({"title": SECRET_TITLE, "level": "SEV1", "private": true, "reporter": MEMBER}),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Due an hour ago: overdue at once.
    let due = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let r = app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": SECRET_TEXT, "priority": "must", "owner": MEMBER, "due": due}),
        )
        .await;
    assert_eq!(r.status(), 201);
    slack
        .wait_for("the private response channel", 20, |f| {
            !f.ok_calls("conversations.invite").is_empty()
        })
        .await;
    Slack { app, slack, _dir: dir }
}

async fn signed(s: &Slack, path: &str, content_type: &str, body: String) -> u16 {
    s.app
        .post_signed(SECRET, path, content_type, body, &[])
        .await
        .status()
        .as_u16()
}

/// Runs `/sev <text>` as `user` in `channel` and returns what sevtool answered them.
async fn command(s: &Slack, user: &str, channel: &str, text: &str, trigger: &str) -> String {
    let form = serde_urlencoded::to_string([
        ("command", "/sev"),
        ("text", text),
        ("channel_id", channel),
        ("user_id", user),
        ("trigger_id", trigger),
        ("response_url", &s.slack.response_url(trigger)),
    ])
    .unwrap();
    assert_eq!(
        signed(s, "/slack/commands", "application/x-www-form-urlencoded", form).await,
        200
    );
    let path = format!("respond/{trigger}");
    s.slack
        .wait_for("the command's reply", 20, |f| !f.calls(&path).is_empty())
        .await;
    s.slack.calls(&path)[0].args["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn click(s: &Slack, user: &str, trigger: &str, action: &str, selected: Option<&str>) {
    let mut act = json!({ "action_id": action, "block_id": "SCA-1", "type": "button", "value": "SCA-1" });
    if let Some(u) = selected {
        act = json!({ "action_id": action, "block_id": "SCA-1", "type": "users_select", "selected_user": u });
    }
    let payload = json!({ "type": "block_actions", "trigger_id": trigger, "user": { "id": user }, "actions": [act] });
    let form = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    assert_eq!(
        signed(s, "/slack/interactions", "application/x-www-form-urlencoded", form).await,
        200
    );
}

fn leaks(text: &str) -> bool {
    text.contains("SCA-1") || text.contains("SEV-1") || text.contains(SECRET_TEXT) || text.contains(SECRET_TITLE)
}

#[tokio::test]
async fn slack_commands_show_a_private_sevs_scas_only_to_its_members_and_the_security_group() {
    let s = slack_with_a_private_sev().await;
    let stranger = command(&s, STRANGER, "C0ANYWHERE", "scas overdue", "t-stranger").await;
    assert!(!leaks(&stranger), "a stranger sees nothing of it: {stranger}");
    let member = command(&s, MEMBER, "C0ANYWHERE", "scas overdue", "t-member").await;
    assert!(member.contains("SCA-1") && member.contains(SECRET_TEXT), "{member}");
    let security = command(&s, SECURITY, "C0ANYWHERE", "scas overdue", "t-security").await;
    assert!(security.contains("SCA-1"), "{security}");

    let channel = s.slack.ok_calls("conversations.invite")[0].args["channel"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = command(&s, STRANGER, &channel, "status", "t-status").await;
    assert!(!leaks(&shown), "{shown}");
    let updated = command(&s, STRANGER, &channel, "update we are in", "t-update").await;
    assert!(!leaks(&updated), "{updated}");
    let (_, sev) = s.app.get_json("/api/sevs/SEV-1").await;
    assert!(
        sev["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["author"] != STRANGER),
        "the stranger's update was not recorded: {sev}"
    );
    let shown = command(&s, MEMBER, &channel, "status", "t-member-status").await;
    assert!(shown.contains(SECRET_TITLE), "{shown}");
}

#[tokio::test]
async fn sca_buttons_act_only_for_people_who_may_see_the_sca() {
    let s = slack_with_a_private_sev().await;
    click(&s, STRANGER, "t-done", "sca_done", None).await;
    click(&s, STRANGER, "t-snooze", "sca_snooze_1w", None).await;
    click(&s, STRANGER, "t-reassign", "sca_reassign", Some(STRANGER)).await;
    s.slack
        .wait_for("three replies to the stranger", 20, |f| {
            f.ok_calls("chat.postMessage")
                .iter()
                .filter(|c| c.args["channel"] == STRANGER)
                .count()
                == 3
        })
        .await;
    for c in s.slack.ok_calls("chat.postMessage") {
        if c.args["channel"] == STRANGER {
            let text = c.args["text"].as_str().unwrap_or_default();
            assert!(!text.contains(SECRET_TEXT) && !text.contains("SEV-1"), "{text}");
        }
    }
    let (_, sca) = s.app.get_json("/api/scas/SCA-1").await;
    assert_eq!(
        (sca["state"].as_str(), sca["owner"].as_str()),
        (Some("open"), Some(MEMBER)),
        "nothing changed: {sca}"
    );
    click(&s, MEMBER, "t-member-done", "sca_done", None).await;
    s.app
        .poll_json("/api/scas/SCA-1", "the member's done", 20, |sca| sca["state"] == "done")
        .await;
}

#[tokio::test]
async fn a_typed_sign_in_name_can_never_be_a_system_actor_or_a_slack_user() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", TOKEN)]).await;
    let r = app
        .http
        .post(app.url("/api/sevs"))
        .bearer_auth(TOKEN)
        .json(&json!({"title": SECRET_TITLE, "level": "SEV1", "private": true, "reporter": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    for name in [
        "sevtool",
        "SevTool",
        "jira",
        "web",
        "api",
        "alert:prom",
        "web:alice",
        "U0MEMBER",
        "\u{200b}\u{200b}",
    ] {
        let r = post_signin(&app, &[("name", name), ("token", TOKEN)]).await;
        assert_eq!(r.status(), 400, "{name:?}");
        assert!(set_cookie(&r, "sevtool_session").is_none(), "{name:?}");
    }
    // A name that is a member's as typed still makes nobody a member: the reporter "alice" was
    // named by a script, while a person typing "alice" is recorded as `web:alice`.
    let cookie = app.session(TOKEN, "alice").await;
    app.act_as(&cookie);
    let (status, _) = app.get_json("/api/sevs/SEV-1").await;
    assert_eq!(status, 404);
    let (_, list) = app.get_json("/api/sevs").await;
    assert_eq!(list["sevs"], json!([]));
    let r = app
        .post_json("/api/sevs", json!({"title": "mine", "level": "SEV3"}))
        .await;
    let sev: Value = r.json().await.unwrap();
    assert_eq!(sev["reporter"], "web:alice");
}

#[tokio::test]
async fn credentials_are_read_as_rfc_9110_says_and_a_wrong_one_is_always_a_401() {
    let dir = tempfile::tempdir().unwrap();
    let padded = format!("  {TOKEN}\n");
    let app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", padded.as_str())]).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = app
            .http
            .get(app.url("/api/sevs"))
            .header("authorization", format!("{scheme}  {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let cookie = app.session(TOKEN, "bob").await;
    for header in ["bearer nope", "Basic Ym9iOnBhc3M=", "Bearer"] {
        let r = no_redirects()
            .get(app.url("/api/sevs"))
            .header("authorization", header)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{header}: never the cookie instead");
    }
    // A wrong token on the sign-in form, with a valid CSRF token, is a 401 and no session.
    let r = post_signin(&app, &[("name", "carol"), ("token", "guess")]).await;
    assert_eq!(r.status(), 401);
    assert!(set_cookie(&r, "sevtool_session").is_none());
}

#[tokio::test]
async fn every_page_refuses_framing_and_sniffing_and_https_sites_get_secure_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SEVTOOL_ACCESS_TOKEN", TOKEN),
        ("SEVTOOL_PUBLIC_URL", "https://sev.example.com"),
    ];
    let app = Sevtool::start(dir.path(), &env).await;
    let http = no_redirects();
    for path in ["/signin", "/", "/api/sevs", "/no-such-page", "/healthz"] {
        let r = http.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
    }
    let page = http.get(app.url("/signin")).send().await.unwrap();
    let csrf = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("sevtool_csrf="))
        .unwrap();
    assert!(csrf.contains("; Secure"), "{csrf}");
}

#[tokio::test]
async fn sign_in_returns_only_to_this_site_and_never_answers_500() {
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[("SEVTOOL_ACCESS_TOKEN", TOKEN)]).await;
    let http = no_redirects();
    for next in [
        "//evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/\t/evil.example",
        "https://evil.example",
        "/caf\u{e9}",
        "/\r\nSet-Cookie: x=1",
    ] {
        let r = post_signin(&app, &[("name", "dana"), ("token", TOKEN), ("next", next)]).await;
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(r.headers()["location"], "/", "{next:?}");
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        let r = http.get(app.url(&format!("/signin?{query}"))).send().await.unwrap();
        assert!(r.status().is_success(), "{next:?}: {}", r.status());
    }
}

/// A team catalog whose pagers lead nowhere: page tasks fail and are retried, as in an outage.
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

async fn start_with_slack(dir: &std::path::Path, slack: &FakeSlack) -> Sevtool {
    let teams = dir.join("teams.toml");
    std::fs::write(&teams, CATALOG).unwrap();
    let (api, teams) = (slack.api_url(), teams.display().to_string());
    let env = [
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SECRET),
        ("SLACK_API_URL", api.as_str()),
        ("SEVTOOL_TEAMS", teams.as_str()),
        ("SEVTOOL_AUTOPAGE_LEVEL", "off"),
        ("PAGERDUTY_EVENTS_URL", "http://127.0.0.1:9"),
        ("PAGERDUTY_API_URL", "http://127.0.0.1:9"),
    ];
    Sevtool::start(&dir.join("data"), &env).await
}

/// The worst values the types allow, and worse ones written straight into the store (as a
/// version without the bounds stored them), with every kind of task run over them: the process
/// and its task consumer must survive all of it.
#[tokio::test]
async fn the_worst_stored_values_and_every_task_kind_never_stop_the_consumer() {
    use blackbox::task_queue::deliver;
    use chrono::{DateTime, NaiveDate, Utc};
    use sev::domain::{EntryId, NagStep, ReportNagStep, ScaId, SevId};
    use sev::queue::{Task, TaskEnvelope};
    use sev::reports::IsoWeek;
    use sev::slack::Inbound;

    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = start_with_slack(dir.path(), &slack).await;
    let r = app
        .post_json(
            "/api/sevs",
            json!({"title": "oldest", "level": "SEV1", "product_track": "checkout", "reporter": MEMBER,
                   "started_at": "1970-01-01T00:00:00Z", "detected_at": "1970-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = app
        .post_json(
            "/api/sevs/SEV-1/scas",
            json!({"text": "latest", "priority": "must", "owner": MEMBER, "due": "2200-12-31T23:59:59Z"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    for status in ["mitigated", "resolved"] {
        let r = app
            .post_json("/api/sevs/SEV-1/status", json!({ "status": status }))
            .await;
        assert_eq!(r.status(), 200, "{status}");
    }
    app.kill_hard().await;

    let data = dir.path().join("data");
    let db = rusqlite::Connection::open(data.join("sevtool.db")).unwrap();
    let far = "+262142-12-31T23:59:59Z";
    let poisoned = db
        .execute(
            "UPDATE items SET data = json_set(data, '$.due', ?1) WHERE pk = 'SEV#1' AND sk LIKE 'SCA#%'",
            [far],
        )
        .unwrap()
        + db.execute(
            "UPDATE items SET data = json_set(data, '$.resolved_at', ?1, '$.mitigated_at', ?1) \
             WHERE pk = 'SEV#1' AND sk = 'SEV'",
            [far],
        )
        .unwrap();
    assert_eq!(poisoned, 2);
    drop(db);

    let now = Utc::now();
    let entry = EntryId::new(now, 7);
    let (sev, sca) = (SevId(1), ScaId(1));
    let command = |trigger: &str, text: &str| Task::Slack {
        inbound: Inbound::Command {
            trigger_id: trigger.into(),
            channel: "C0ANY".into(),
            user: MEMBER.into(),
            text: text.into(),
            response_url: slack.response_url(trigger),
        },
    };
    let mut tasks = vec![
        Task::SevFiled { sev },
        Task::TimelineEntryAdded {
            sev,
            entry: entry.clone(),
        },
        Task::ScheduleNags {
            sca,
            change: entry.clone(),
        },
        Task::ScheduleReportNags {
            sev,
            change: entry.clone(),
        },
        Task::DraftReport {
            sev,
            entry: entry.clone(),
        },
        Task::AutoPage { sev },
        Task::Page {
            sev,
            team: "payments".into(),
        },
        Task::Mayday { sev },
        Task::ResolvePages {
            sev,
            entry: entry.clone(),
        },
        Task::Sweep { day: NaiveDate::MIN },
        Task::Sweep { day: NaiveDate::MAX },
        Task::JiraIssueChanged {
            issue: "OPS-1".into(),
            delivery: "d-1".into(),
        },
        command("t-overdue", "scas overdue"),
        command("t-mine", "scas"),
        Task::Slack {
            inbound: Inbound::Action {
                trigger_id: "t-snooze".into(),
                action_id: "sca_snooze_1w".into(),
                value: "SCA-1".into(),
                user: MEMBER.into(),
                channel: String::new(),
                response_url: String::new(),
                selected_user: None,
            },
        },
    ];
    for at in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        tasks.extend(NagStep::ALL.map(|step| Task::Nag { sca, step, at }));
        tasks.extend(ReportNagStep::ALL.map(|step| Task::ReportNag { sev, step, at }));
    }
    for (year, week) in [(1969, 1), (2201, 1)] {
        let week = IsoWeek::new(year, week).expect("the widest week allowed");
        tasks.push(Task::PostDigest {
            week,
            request: format!("edge-{year}"),
        });
    }
    for task in tasks {
        deliver(&data, &TaskEnvelope::new(task, now));
    }

    let app = start_with_slack(dir.path(), &slack).await;
    // The read side over the poisoned data answers, and never with a 5xx.
    for path in [
        "/api/sevs/SEV-1",
        "/api/scas/SCA-1",
        "/api/scas?overdue=true",
        "/api/sevs",
        "/api/reports/monthly?since=1970-01&until=1979-12",
        "/sevs/SEV-1",
        "/scas",
        "/reports",
        "/weekly",
    ] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
    }
    // Every poisoned task handled (failed for good or done), and the consumer still takes work.
    app.settled().await;
    let r = app
        .post_json("/api/sevs", json!({"title": "after the poison", "level": "SEV3"}))
        .await;
    assert_eq!(r.status(), 201);
    slack
        .wait_for("the channels of a SEV filed after every task ran", 30, |f| {
            f.ok_calls("conversations.create")
                .iter()
                .any(|c| c.args["name"].as_str().is_some_and(|n| n.starts_with("sev-2-")))
        })
        .await;
    assert_eq!(app.get_text("/healthz").await, "ok");
}

/// Who asks, in the matrix below: how their requests are made, and whether they may see the
/// private SEV.
struct Viewer {
    who: &'static str,
    auth: (&'static str, String),
    sees: bool,
}

/// Every surface that reads SEVs, for every kind of caller: a member, a stranger, the security
/// group and an operator. A stranger must meet no trace of the private SEV (title, SCA text,
/// ids), and the others must see it, so the walk cannot pass by showing nothing to anyone.
#[tokio::test]
async fn a_private_sev_leaks_to_no_stranger_on_any_surface() {
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let api = slack.api_url();
    let env = [
        ("SEVTOOL_ACCESS_TOKEN", TOKEN),
        ("SEVTOOL_SECURITY_GROUP", "sam,U0SAM"),
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SECRET),
        ("SLACK_API_URL", api.as_str()),
    ];
    let app = Sevtool::start(dir.path(), &env).await;
    let carol = app.session(TOKEN, "carol").await;
    let http = no_redirects();
    let r = http
        .post(app.url("/api/sevs"))
        .header("cookie", &carol)
        .json(&json!({"title": SECRET_TITLE, "level": "SEV1", "private": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let due = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let r = http
        .post(app.url("/api/sevs/SEV-1/scas"))
        .header("cookie", &carol)
        .json(&json!({"text": SECRET_TEXT, "priority": "must", "owner": "U0CAROL", "due": due}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .post(app.url("/api/sevs"))
        .bearer_auth(TOKEN)
        .json(&json!({"title": "Search is slow", "level": "SEV3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let viewers = [
        Viewer {
            who: "member",
            auth: ("cookie", carol.clone()),
            sees: true,
        },
        Viewer {
            who: "stranger",
            auth: ("cookie", app.session(TOKEN, "dave").await),
            sees: false,
        },
        Viewer {
            who: "security group",
            auth: ("cookie", app.session(TOKEN, "sam").await),
            sees: true,
        },
        Viewer {
            who: "operator",
            auth: ("authorization", format!("Bearer {TOKEN}")),
            sees: true,
        },
    ];
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    // Lists: a stranger must not even meet the ids.
    let lists = [
        "/api/sevs".to_owned(),
        "/api/scas?overdue=true".to_owned(),
        "/api/status".to_owned(),
        format!("/api/export?format=csv&since={month}&until={month}"),
        "/".to_owned(),
        "/scas".to_owned(),
        "/status".to_owned(),
        "/weekly".to_owned(),
    ];
    // The SEV's own addresses: a stranger gets what a missing SEV gets.
    let own = [
        "/api/sevs/SEV-1",
        "/api/scas/SCA-1",
        "/api/sevs/SEV-1/report",
        "/sevs/SEV-1",
        "/sevs/SEV-1/report",
    ];
    for v in &viewers {
        let get = |path: String| {
            let req = http.get(app.url(&path)).header(v.auth.0, &v.auth.1);
            async move {
                let r = req.send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        for path in &lists {
            let (status, body) = get(path.clone()).await;
            assert_eq!(status, 200, "{} {path}", v.who);
            let seen = body.contains(SECRET_TITLE) || body.contains(SECRET_TEXT) || body.contains("SCA-1");
            if !v.sees {
                assert!(!seen && !body.contains("SEV-1"), "{} {path}: {body}", v.who);
            }
        }
        for path in own {
            let (status, body) = get(path.to_owned()).await;
            if v.sees {
                assert_eq!(status, 200, "{} {path}: {body}", v.who);
            } else {
                assert_eq!(status, 404, "{} {path}: {body}", v.who);
                assert!(
                    !body.contains(SECRET_TITLE) && !body.contains(SECRET_TEXT),
                    "{} {path}",
                    v.who
                );
            }
        }
        let (_, sev) = get("/api/sevs/SEV-1".into()).await;
        assert_eq!(sev.contains(SECRET_TITLE), v.sees, "{}", v.who);
        let (_, list) = get("/api/sevs".into()).await;
        assert!(
            list.contains("Search is slow"),
            "{}: the public SEV shows to all",
            v.who
        );
        assert_eq!(list.contains(SECRET_TITLE), v.sees, "{}", v.who);
        let (_, months) = get(format!("/api/reports/monthly?since={month}&until={month}")).await;
        let months: Value = serde_json::from_str(&months).unwrap();
        let counted = months["months"][0]["total"].as_u64();
        assert_eq!(
            counted,
            Some(if v.sees && v.who != "member" { 2 } else { 1 }),
            "{}: {months}",
            v.who
        );
        // Acting: a stranger's change is refused like one to a missing SEV.
        let r = http
            .post(app.url("/api/sevs/SEV-1/updates"))
            .header(v.auth.0, &v.auth.1)
            .json(&json!({"text": "peeking"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), if v.sees { 201 } else { 404 }, "{}", v.who);
    }

    // Slack: a member (the SCA's owner), a stranger and the security group, from anywhere.
    let s = Slack { app, slack, _dir: dir };
    for (user, sees) in [("U0CAROL", true), ("U0DAVE", false), ("U0SAM", true)] {
        let listed = command(&s, user, "C0ANYWHERE", "scas overdue", &format!("t-{user}")).await;
        assert_eq!(listed.contains(SECRET_TEXT), sees, "{user}: {listed}");
        if !sees {
            assert!(!leaks(&listed), "{user}: {listed}");
        }
    }
}
