//! Paging, end to end: the real `sevtool` with a team catalog, paging a fake PagerDuty.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use blackbox::Sevtool;
use blackbox::fake_pager::{API_TOKEN, FakePager};
use serde_json::{Value, json};

struct Setup {
    app: Sevtool,
    pager: FakePager,
    _dir: tempfile::TempDir,
}

fn routing_key(team: &str) -> String {
    format!("rk-{team}")
}

fn team(name: &str, extra: &str) -> String {
    format!(
        "[[team]]\nname = \"{name}\"\n{extra}\n[team.pagerduty]\nrouting_key = \"{}\"\nschedule = \"{}\"\n\n",
        routing_key(name),
        name.to_uppercase()
    )
}

/// A catalog of `atc` (the coordinator rotation), `payments` (alias `pay`) and `others` more teams.
fn catalog(others: usize) -> String {
    let mut text = team("atc", "rotation = \"coordinator\"") + &team("payments", "aliases = [\"pay\", \"billing\"]");
    for i in 0..others {
        let _ = write!(text, "{}", team(&format!("team-{i:03}"), ""));
    }
    text
}

async fn setup(catalog: &str, env: &[(&str, &str)]) -> Setup {
    let pager = FakePager::start().await;
    let dir = tempfile::tempdir().unwrap();
    let teams = dir.path().join("teams.toml");
    std::fs::write(&teams, catalog).unwrap();
    let data = dir.path().join("data");
    let teams = teams.display().to_string();
    let mut all = vec![
        ("SEVTOOL_TEAMS", teams.as_str()),
        ("PAGERDUTY_EVENTS_URL", pager.base.as_str()),
        ("PAGERDUTY_API_URL", pager.base.as_str()),
        ("PAGERDUTY_API_TOKEN", API_TOKEN),
    ];
    all.extend_from_slice(env);
    let app = Sevtool::start(&data, &all).await;
    Setup { app, pager, _dir: dir }
}

/// Polls the SEV until `check` holds of it; fails after a generous deadline.
async fn wait_for(app: &Sevtool, id: &str, what: &str, secs: u64, check: impl Fn(&Value) -> bool) -> Value {
    app.poll_json(&format!("/api/sevs/{id}"), what, secs, check).await
}

fn page<'a>(sev: &'a Value, team: &str) -> Option<&'a Value> {
    sev["pages"].as_array()?.iter().find(|p| p["team"] == team)
}

fn state_of(sev: &Value, team: &str) -> String {
    page(sev, team).map_or_else(String::new, |p| p["state"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_page_retried_three_times_reaches_the_pager_once_with_one_dedup_key() {
    let s = setup(&catalog(0), &[("SEVTOOL_AUTOPAGE_LEVEL", "off")]).await;
    s.pager.fail(&routing_key("payments"), vec![500, 503, 429]);
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV1"}))
        .await;

    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/pages"), json!({"team": "Pay"}))
        .await;
    assert_eq!(r.status(), 202, "an alias finds the team");
    let queued: Value = r.json().await.unwrap();
    assert_eq!(
        (queued["team"].as_str(), queued["state"].as_str()),
        (Some("payments"), Some("queued"))
    );

    // The page record and its timeline entry are separate items: wait for both.
    let sev = wait_for(&s.app, &id, "the page to go out", 90, |v| {
        state_of(v, "payments") == "paged"
            && v["timeline"]
                .as_array()
                .is_some_and(|t| t.iter().any(|e| e["kind"] == "paged"))
    })
    .await;
    let events: Vec<_> = s
        .pager
        .events()
        .into_iter()
        .filter(|e| e.routing_key == routing_key("payments"))
        .collect();
    assert_eq!(
        events.iter().map(|e| e.status).collect::<Vec<_>>(),
        [500, 503, 429, 202],
        "three failures, then the page"
    );
    let key = &events[0].dedup_key;
    assert!(events.iter().all(|e| &e.dedup_key == key), "one dedup key: {events:?}");
    assert_eq!(s.pager.pages().len(), 1, "paged exactly once");
    let p = page(&sev, "payments").unwrap();
    assert_eq!(p["dedup_key"], key.as_str());
    assert_eq!(p["on_call"][0]["email"], "payments@example.com");
    assert!(
        sev["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "paged" && e["team"] == "payments"),
        "the outcome is on the timeline"
    );

    let again = s
        .app
        .post_json(&format!("/api/sevs/{id}/pages"), json!({"team": "payments"}))
        .await;
    assert_eq!(again.status(), 200, "paging a team again returns its page");
    s.app.settled().await;
    assert_eq!(s.pager.pages().len(), 1, "and does not page twice");
}

#[tokio::test]
async fn unknown_teams_get_close_matches_and_mayday_needs_confirming() {
    let s = setup(&catalog(0), &[("SEVTOOL_AUTOPAGE_LEVEL", "off")]).await;
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV2"}))
        .await;
    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/pages"), json!({"team": "paymnts"}))
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("did you mean payments"),
        "{body}"
    );
    let r = s.app.post_json(&format!("/api/sevs/{id}/mayday"), json!({})).await;
    assert_eq!(r.status(), 400);
    let r = s.app.post_json("/api/sevs/SEV-99/pages", json!({"team": "atc"})).await;
    assert_eq!(r.status(), 404);
    s.app.settled().await;
    assert!(s.pager.events().is_empty(), "nothing was paged");
}

#[tokio::test]
async fn the_sev_page_pages_a_team_and_a_confirmed_mayday() {
    let s = setup(&catalog(2), &[("SEVTOOL_AUTOPAGE_LEVEL", "off")]).await;
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV2"}))
        .await;
    let html = s.app.get_text(&format!("/sevs/{id}")).await;
    assert!(
        html.contains("Nobody has been paged") && html.contains("<option>team-001</option>"),
        "{html}"
    );

    let r = s.app.post_form(&format!("/sevs/{id}/pages"), &[("team", "pay")]).await;
    assert_eq!(r.status(), 303);
    wait_for(&s.app, &id, "the payments page", 20, |v| {
        state_of(v, "payments") == "paged"
    })
    .await;
    let html = s.app.get_text(&format!("/sevs/{id}")).await;
    assert!(html.contains("<td>payments</td><td>paged"), "{html}");

    let unconfirmed = s.app.post_form(&format!("/sevs/{id}/mayday"), &[]).await;
    assert_eq!(unconfirmed.status(), 400, "a mayday needs its confirm box");
    let r = s
        .app
        .post_form(&format!("/sevs/{id}/mayday"), &[("confirm", "yes")])
        .await;
    assert_eq!(r.status(), 303);
    let all = ["atc", "payments", "team-000", "team-001"];
    wait_for(&s.app, &id, "every team paged", 20, |v| {
        all.iter().all(|t| state_of(v, t) == "paged")
    })
    .await;
    assert_eq!(s.pager.events().len(), 4, "payments once, despite the mayday");
}

#[tokio::test]
async fn filing_pages_the_coordinator_and_resolving_resolves_the_page() {
    let s = setup(&catalog(0), &[]).await;
    let low = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV3"}))
        .await;
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV1"}))
        .await;
    let sev = wait_for(&s.app, &id, "the coordinator page", 60, |v| {
        state_of(v, "atc") == "paged"
    })
    .await;
    assert_eq!(page(&sev, "atc").unwrap()["reason"], "auto");
    assert_eq!(sev["muster"]["missing"], json!(["atc@example.com"]));
    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/status"), json!({"status": "resolved"}))
        .await;
    assert_eq!(r.status(), 200);
    wait_for(&s.app, &id, "the page to be resolved", 60, |v| {
        state_of(v, "atc") == "resolved"
    })
    .await;
    let resolves: Vec<_> = s.pager.events().into_iter().filter(|e| e.action == "resolve").collect();
    assert_eq!(resolves.len(), 1);
    assert_eq!(
        resolves[0].dedup_key,
        page(&sev, "atc").unwrap()["dedup_key"].as_str().unwrap()
    );
    let (_, low) = s.app.get_json(&format!("/api/sevs/{low}")).await;
    assert_eq!(low["pages"], json!([]), "a SEV3 pages nobody by default");
}

#[tokio::test]
async fn a_pager_outage_never_blocks_filing_a_sev() {
    let s = setup(&catalog(0), &[]).await;
    s.pager.down(Some(503));
    for _ in 0..3 {
        let started = Instant::now();
        let id = s
            .app
            .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV0"}))
            .await;
        assert!(started.elapsed() < Duration::from_secs(5), "filing waited on the pager");
        let r = s
            .app
            .post_json(&format!("/api/sevs/{id}/updates"), json!({"text": "still on it"}))
            .await;
        assert_eq!(r.status(), 201);
    }
    let sev = wait_for(&s.app, "SEV-1", "the failed attempt to show", 60, |v| {
        page(v, "atc").is_some_and(|p| p["error"].as_str().is_some_and(|e| e.contains("503")))
    })
    .await;
    assert_eq!(state_of(&sev, "atc"), "queued", "still being retried");
    s.pager.down(None);
    wait_for(&s.app, "SEV-1", "the page once the pager is back", 90, |v| {
        state_of(v, "atc") == "paged"
    })
    .await;
}

fn paged_entries(sev: &Value) -> usize {
    sev["timeline"]
        .as_array()
        .map_or(0, |t| t.iter().filter(|e| e["kind"] == "paged").count())
}

#[tokio::test]
async fn a_mayday_over_200_teams_pages_each_team_exactly_once() {
    let s = setup(&catalog(198), &[("SEVTOOL_AUTOPAGE_LEVEL", "off")]).await;
    s.pager.latency(Duration::from_millis(50));
    for i in (0..198).step_by(10) {
        s.pager.fail(&routing_key(&format!("team-{i:03}")), vec![500, 502]);
    }
    for i in (5..198).step_by(25) {
        s.pager
            .slow(&routing_key(&format!("team-{i:03}")), Duration::from_secs(2));
    }
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV0"}))
        .await;
    let started = Instant::now();
    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/mayday"), json!({"confirm": true}))
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["teams"], 200);
    // A page and its timeline entry are written at once, but a SEV's pages and its timeline are
    // read one after the other: wait for both (a lost entry still fails here, by timing out).
    let sev = wait_for(&s.app, &id, "every team paged, on the timeline too", 240, |v| {
        v["pages"]
            .as_array()
            .is_some_and(|p| p.len() == 200 && p.iter().all(|p| p["state"] == "paged"))
            && paged_entries(v) == 200
    })
    .await;
    eprintln!(
        "mayday fan-out: 200 teams paged in {:.1} s (pager latency 50 ms, 20 teams failing twice, 8 answering in 2 s)",
        started.elapsed().as_secs_f64()
    );
    let pages = s.pager.pages();
    assert_eq!(pages.len(), 200, "exactly 200 pages");
    let mut keys: Vec<&str> = pages.iter().map(|e| e.dedup_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 200, "each team paged once");
    assert_eq!(paged_entries(&sev), 200);
    assert_eq!(sev["muster"]["paged"].as_array().unwrap().len(), 200);

    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/mayday"), json!({"confirm": true}))
        .await;
    assert_eq!(r.status(), 202);
    s.app.settled().await;
    assert_eq!(s.pager.pages().len(), 200, "a second mayday pages nobody twice");
}

mod slack {
    //! Paging from Slack: `/sev page`, the mayday confirm button, on-call invited into the
    //! response channel and made coordinator, and joins recorded as the muster.

    use super::*;
    use blackbox::fake_slack::{BOT_TOKEN, FakeSlack};
    use sev::slack::SigningSecret;

    const SECRET: &str = "test-signing-secret";

    async fn signed(app: &Sevtool, path: &str, content_type: &str, body: String) -> u16 {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            .to_string();
        let sig = SigningSecret::new(SECRET).sign(&ts, body.as_bytes());
        app.http
            .post(app.url(path))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", ts)
            .header("x-slack-signature", sig)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    async fn command(app: &Sevtool, slack: &FakeSlack, text: &str, channel: &str, trigger: &str) {
        let form = serde_urlencoded::to_string([
            ("command", "/sev"),
            ("text", text),
            ("channel_id", channel),
            ("user_id", "U0REPORTER"),
            ("trigger_id", trigger),
            ("response_url", &slack.response_url(trigger)),
        ])
        .unwrap();
        assert_eq!(
            signed(app, "/slack/commands", "application/x-www-form-urlencoded", form).await,
            200
        );
    }

    async fn joined(app: &Sevtool, channel: &str, user: &str, n: u32) {
        let body = json!({
            "type": "event_callback", "event_id": format!("EvJoin{n}"), "team_id": "T1",
            "event": { "type": "member_joined_channel", "user": user, "channel": channel, "event_ts": "1700000000.000100" },
        });
        assert_eq!(
            signed(app, "/slack/events", "application/json", body.to_string()).await,
            200
        );
    }

    fn responded(slack: &FakeSlack, trigger: &str) -> Vec<Value> {
        slack
            .calls(&format!("respond/{trigger}"))
            .into_iter()
            .map(|c| c.args)
            .collect()
    }

    #[tokio::test]
    async fn slack_pages_teams_invites_the_on_call_and_records_the_muster() {
        let fake_slack = FakeSlack::start().await;
        let api = fake_slack.api_url();
        let catalog = catalog(0) + &team("search", "") + &team("comms", "rotation = \"comms\"");
        let s = setup(
            &catalog,
            &[
                ("SLACK_BOT_TOKEN", BOT_TOKEN),
                ("SLACK_SIGNING_SECRET", SECRET),
                ("SLACK_API_URL", api.as_str()),
                ("SLACK_ANNOUNCE_CHANNEL", "C0SEVS"),
            ],
        )
        .await;
        let id = s
            .app
            .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV1"}))
            .await;
        fake_slack
            .wait_for("the response channel", 30, |f| !f.ok_calls("pins.add").is_empty())
            .await;
        let channel = fake_slack.ok_calls("pins.add")[0].args["channel"]
            .as_str()
            .unwrap()
            .to_owned();

        let invited = |f: &FakeSlack, user: &str| {
            f.ok_calls("conversations.invite")
                .iter()
                .any(|c| c.args["channel"] == channel.as_str() && c.args["users"].as_str().unwrap_or("").contains(user))
        };
        fake_slack
            .wait_for("the coordinator's on-call invited", 60, |f| invited(f, "UATC"))
            .await;
        let sev = wait_for(&s.app, &id, "the on-call made coordinator", 30, |v| {
            v["coordinator"] == "UATC"
        })
        .await;
        assert_eq!(page(&sev, "atc").unwrap()["on_call"][0]["slack_user"], "UATC");
        // A SEV1 pages the comms rotation too, and its on-call becomes the comms lead.
        wait_for(&s.app, &id, "the comms on-call made comms lead", 60, |v| {
            v["comms_lead"] == "UCOMMS"
        })
        .await;

        command(&s.app, &fake_slack, "page Pay", &channel, "trig-page").await;
        fake_slack
            .wait_for("payments invited", 60, |f| invited(f, "UPAYMENTS"))
            .await;
        let replies = responded(&fake_slack, "trig-page");
        assert!(
            replies[0]["text"].as_str().unwrap().contains("Paging payments"),
            "{replies:?}"
        );

        command(&s.app, &fake_slack, "page nosuchteam", &channel, "trig-unknown").await;
        fake_slack
            .wait_for("the unknown-team reply", 30, |f| {
                !responded(f, "trig-unknown").is_empty()
            })
            .await;
        let reply = responded(&fake_slack, "trig-unknown")[0]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(reply.contains("no team `nosuchteam`"), "{reply}");

        command(&s.app, &fake_slack, "mayday", &channel, "trig-mayday").await;
        fake_slack
            .wait_for("the mayday confirm button", 30, |f| {
                !responded(f, "trig-mayday").is_empty()
            })
            .await;
        let prompt = &responded(&fake_slack, "trig-mayday")[0];
        let button = &prompt["blocks"][1]["elements"][0];
        assert_eq!(button["action_id"], "mayday_confirm");
        let (_, before) = s.app.get_json(&format!("/api/sevs/{id}")).await;
        assert_eq!(
            before["pages"].as_array().unwrap().len(),
            3,
            "the prompt alone pages nobody"
        );

        let payload = json!({
            "type": "block_actions", "trigger_id": "trig-confirm",
            "user": { "id": "U0REPORTER" }, "channel": { "id": channel },
            "response_url": fake_slack.response_url("trig-confirm"),
            "actions": [{ "action_id": "mayday_confirm", "value": button["value"] }],
        });
        let form = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        assert_eq!(
            signed(&s.app, "/slack/interactions", "application/x-www-form-urlencoded", form).await,
            200
        );
        // A join counts once the page knows its on-call's Slack user, which a later task stores
        // (after the invite): wait for that, not only for the page.
        let on_call = [
            ("atc", "UATC"),
            ("comms", "UCOMMS"),
            ("payments", "UPAYMENTS"),
            ("search", "USEARCH"),
        ];
        wait_for(&s.app, &id, "search paged, every on-call's Slack user known", 60, |v| {
            state_of(v, "search") == "paged"
                && on_call
                    .iter()
                    .all(|(team, user)| page(v, team).is_some_and(|p| p["on_call"][0]["slack_user"] == *user))
        })
        .await;
        fake_slack
            .wait_for("the roll-call", 30, |f| {
                f.ok_calls("chat.postMessage")
                    .iter()
                    .any(|c| c.args["text"].as_str().unwrap_or("").contains("Mayday roll-call"))
            })
            .await;
        let roll_call = fake_slack
            .ok_calls("chat.postMessage")
            .into_iter()
            .map(|c| c.args["text"].as_str().unwrap_or("").to_owned())
            .find(|t| t.contains("Mayday roll-call"))
            .unwrap_or_default();
        assert!(
            roll_call.contains("*Coordinator:* <@UATC> · *Comms lead:* <@UCOMMS>"),
            "{roll_call}"
        );

        for (n, user) in ["UATC", "UCOMMS", "UPAYMENTS", "USEARCH"].into_iter().enumerate() {
            joined(&s.app, &channel, user, n as u32).await;
        }
        let sev = wait_for(&s.app, &id, "everyone mustered", 60, |v| {
            v["muster"]["missing"] == json!([]) && v["muster"]["time_to_muster_minutes"].is_number()
        })
        .await;
        assert_eq!(sev["muster"]["joined"].as_array().unwrap().len(), 4);
        // The SEV records it too, for the monthly time to muster.
        let sev = wait_for(&s.app, &id, "the muster on the SEV", 10, |v| {
            v["mustered_at"].is_string()
        })
        .await;
        let (_, months) = s.app.get_json("/api/reports/monthly").await;
        let this = months["months"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(this["mustered"], 1, "{this}");
        assert!(
            this["mttm_minutes"].as_f64().is_some_and(|m| m >= 0.0),
            "{this} {}",
            sev["mustered_at"]
        );
        fake_slack
            .wait_for("the roll-call updated", 30, |f| {
                f.ok_calls("chat.update")
                    .iter()
                    .any(|c| c.args["text"].as_str().unwrap_or("").contains("*Still missing* (0)"))
            })
            .await;
    }
}

/// A catalog where payments owns the checkout track and the ledger service.
fn owned_catalog() -> String {
    team("atc", "rotation = \"coordinator\"")
        + &team("payments", "product_tracks = [\"checkout\"]\nservices = [\"ledger\"]")
}

#[tokio::test]
async fn the_teams_that_own_a_filed_sev_are_offered_one_click_pages_on_the_web_and_in_slack() {
    const SECRET: &str = "paging-signing-secret";
    let slack = blackbox::fake_slack::FakeSlack::start().await;
    let api = slack.api_url();
    let s = setup(
        &owned_catalog(),
        &[
            ("SEVTOOL_AUTOPAGE_LEVEL", "off"),
            ("SLACK_BOT_TOKEN", blackbox::fake_slack::BOT_TOKEN),
            ("SLACK_SIGNING_SECRET", SECRET),
            ("SLACK_API_URL", api.as_str()),
        ],
    )
    .await;
    let id = s
        .app
        .file_sev_id(
            json!({"title": "Checkout slow", "level": "SEV3", "product_track": "checkout", "reporter": "U0ALICE"}),
        )
        .await;
    s.app.settled().await;
    let (_, sev) = s.app.get_json(&format!("/api/sevs/{id}")).await;
    assert_eq!(sev["pages"], json!([]), "offered, never paged by itself");

    // The web page offers it as one button.
    let html = s.app.get_text(&format!("/sevs/{id}")).await;
    assert!(
        html.contains(r#"<input type="hidden" name="team" value="payments">"#)
            && html.contains("Page payments</button>"),
        "{html}"
    );

    // So does the SEV's announcement in Slack; pressing it pages payments once.
    let offer = slack
        .ok_calls("chat.postMessage")
        .into_iter()
        .find(|c| c.args["blocks"][1]["elements"][0]["action_id"] == "page_team")
        .expect("an announcement with a page button");
    let button = &offer.args["blocks"][1]["elements"][0];
    assert_eq!(button["value"], format!("{id} payments"));
    assert_eq!(button["text"]["text"], "Page payments");
    let press = |trigger: &str| {
        let payload = json!({
            "type": "block_actions",
            "trigger_id": trigger,
            "user": { "id": "U0ALICE" },
            "channel": { "id": offer.args["channel"] },
            "response_url": slack.response_url(trigger),
            "actions": [button],
        });
        serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap()
    };
    for trigger in ["t-press-1", "t-press-2"] {
        let r = s
            .app
            .post_signed(
                SECRET,
                "/slack/interactions",
                "application/x-www-form-urlencoded",
                press(trigger),
                &[],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let sev = wait_for(&s.app, &id, "the pressed page", 20, |v| {
        state_of(v, "payments") == "paged"
    })
    .await;
    assert_eq!(page(&sev, "payments").unwrap()["requested_by"], "U0ALICE");
    s.app.settled().await;
    assert_eq!(s.pager.pages().len(), 1, "two presses, one page");
    let mut replies: Vec<String> = ["t-press-1", "t-press-2"]
        .iter()
        .flat_map(|t| slack.calls(&format!("respond/{t}")))
        .map(|c| c.args["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    replies.sort();
    assert_eq!(
        replies,
        [
            format!("Paging payments for {id}."),
            format!("payments is already paged for {id}.")
        ],
        "whichever press came first pages"
    );
    let html = s.app.get_text(&format!("/sevs/{id}")).await;
    assert!(!html.contains("Page payments</button>"), "no longer offered once paged");
}

/// Posts a pager's webhook delivery, with its one authenticating header if given; the status
/// and the JSON answer.
async fn webhook(app: &Sevtool, path: &str, header: Option<(&str, String)>, body: String) -> (u16, Value) {
    let mut r = app
        .http
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some((name, value)) = header {
        r = r.header(name, value);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json::<Value>().await.unwrap_or(Value::Null))
}

/// A V3 webhook delivery about `incident`.
fn delivery(event_id: &str, event_type: &str, incident: &str, agent: &str) -> String {
    json!({ "event": {
        "id": event_id,
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": "2026-01-02T10:05:00.000Z",
        "agent": { "id": "PLH1HKV", "summary": agent, "type": "user_reference" },
        "client": { "name": "PagerDuty" },
        "data": { "id": incident, "type": "incident", "number": 2, "status": "acknowledged", "title": "SEV-1" },
    }})
    .to_string()
}

#[tokio::test]
async fn pagerduty_webhooks_record_who_acknowledged_a_page_once_and_refuse_what_is_not_signed() {
    const SECRET: &str = "pd-webhook-secret";
    let s = setup(&catalog(0), &[("PAGERDUTY_WEBHOOK_SECRET", SECRET)]).await;
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV2"}))
        .await;
    wait_for(&s.app, &id, "the coordinator paged", 20, |v| {
        state_of(v, "atc") == "paged"
    })
    .await;
    let incident = s.pager.incident_of("sevtool-1-atc").expect("the page's incident");
    let secret = sev::paging::Secret::new(SECRET);
    let post = |body: String, signature: Option<String>| {
        let header = signature.map(|sig| ("x-pagerduty-signature", sig));
        webhook(&s.app, "/pagerduty/webhook", header, body)
    };
    let sign = |body: &str| sev::paging::pagerduty_webhook_signature(&secret, body.as_bytes());

    let ack = delivery(
        "5ac64822-4adc-4fda-ade0-410becf0de4f",
        "incident.acknowledged",
        &incident,
        "Alice Ops",
    );
    assert_eq!(post(ack.clone(), None).await.0, 401, "unsigned");
    let wrong = sev::paging::pagerduty_webhook_signature(&sev::paging::Secret::new("other"), ack.as_bytes());
    assert_eq!(
        post(ack.clone(), Some(wrong.clone())).await.0,
        401,
        "signed with another secret"
    );
    let tampered = ack.replace("Alice Ops", "Mallory");
    assert_eq!(
        post(tampered, Some(sign(&ack))).await.0,
        401,
        "a body changed after signing"
    );
    let (status, body) = post("{\"event\": {}}".into(), Some(sign("{\"event\": {}}"))).await;
    assert_eq!(status, 400, "{body}");
    let annotated = delivery("e-2", "incident.annotated", &incident, "Alice Ops");
    let (status, body) = post(annotated.clone(), Some(sign(&annotated))).await;
    assert_eq!((status, body), (200, json!({"ignored": "incident.annotated"})));

    // Signed (the second of two signatures, as during a secret rotation), and delivered twice.
    for _ in 0..2 {
        let (status, body) = post(ack.clone(), Some(format!("{wrong},{}", sign(&ack)))).await;
        assert_eq!(status, 202, "{body}");
    }
    let sev = wait_for(&s.app, &id, "the acknowledgement", 20, |v| {
        state_of(v, "atc") == "acknowledged"
    })
    .await;
    let page = page(&sev, "atc").unwrap();
    assert_eq!(page["acknowledged_by"], "Alice Ops");
    assert_eq!(page["acknowledged_at"], "2026-01-02T10:05:00Z");
    s.app.settled().await;
    let (_, sev) = s.app.get_json(&format!("/api/sevs/{id}")).await;
    let acks: Vec<&Value> = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "page_acknowledged")
        .collect();
    assert_eq!(acks.len(), 1, "a redelivered event acts once: {acks:?}");
    assert_eq!(
        sev["time_to_acknowledge_minutes"], 0.0,
        "an ack stamped before the declaration counts as at once"
    );
    assert!(sev["acknowledged_at"].is_string(), "{sev}");
    assert_eq!(
        (acks[0]["team"].as_str(), acks[0]["by"].as_str()),
        (Some("atc"), Some("Alice Ops"))
    );
    assert_eq!(acks[0]["author"], "pagerduty");
    let html = s.app.get_text(&format!("/sevs/{id}")).await;
    assert!(html.contains("acknowledged by Alice Ops"), "{html}");

    // Someone else's incident on the same account changes nothing.
    let foreign = delivery("e-3", "incident.acknowledged", "QNOTOURS", "Bob");
    assert_eq!(post(foreign.clone(), Some(sign(&foreign))).await.0, 202);
    let escalated = delivery("e-4", "incident.escalated", &incident, "Escalation Policy");
    assert_eq!(post(escalated.clone(), Some(sign(&escalated))).await.0, 202);
    s.app.settled().await;
    let (_, sev) = s.app.get_json(&format!("/api/sevs/{id}")).await;
    let kinds: Vec<&str> = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .filter(|k| k.starts_with("page"))
        .collect();
    assert_eq!(kinds, ["paged", "page_acknowledged", "page_escalated"], "{sev}");
}

#[tokio::test]
async fn the_pagerduty_webhook_says_what_to_set_when_it_is_off() {
    let s = setup(&catalog(0), &[]).await;
    let r = s
        .app
        .http
        .post(s.app.url("/pagerduty/webhook"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("PAGERDUTY_WEBHOOK_SECRET"));
}

/// A catalog whose coordinator rotation is paged through Opsgenie (or JSM Ops: `pager`).
fn genie_catalog(pager: &str, schedule_field: &str) -> String {
    format!(
        "[[team]]\nname = \"atc\"\nrotation = \"coordinator\"\n[team.{pager}]\n{schedule_field}api_key_env = \"GENIE_KEY_ATC\"\n"
    )
}

/// Opsgenie's alert action data for an action on the alert with `alias`, `nanos` its `updatedAt`.
fn alert_action(action: &str, alias: &str, username: &str, nanos: i64) -> String {
    json!({
        "source": { "name": "", "type": "web" },
        "alert": {
            "updatedAt": nanos, "tags": ["sevtool", "SEV2"], "message": "SEV-1 SEV2: Checkout returns 5xx",
            "username": username, "alertId": "052652ac-5d1c-464a-812a-7dd18bbfba8c", "source": "sevtool",
            "alias": alias, "tinyId": "23", "createdAt": 1_767_348_000_000_i64, "userId": "daed1180", "entity": "SEV-1",
        },
        "action": action,
        "integrationId": "37c8f316-17c6-49d7-899b-9c7e540c048d",
        "integrationName": "sevtool",
    })
    .to_string()
}

#[tokio::test]
async fn opsgenie_webhooks_record_acknowledge_reassign_and_close_once_and_refuse_a_wrong_secret() {
    use blackbox::fake_genie::{FakeGenie, GENIE_KEY};
    const SECRET: &str = "og-webhook-secret";
    let genie = FakeGenie::start().await;
    let catalog = genie_catalog("opsgenie", "team = \"ATC Ops\"\nschedule = \"ATC\"\n");
    let s = setup(
        &catalog,
        &[
            ("OPSGENIE_API_URL", genie.base.as_str()),
            ("GENIE_KEY_ATC", GENIE_KEY),
            ("OPSGENIE_WEBHOOK_SECRET", SECRET),
        ],
    )
    .await;
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV2"}))
        .await;
    let sev = wait_for(&s.app, &id, "the coordinator paged", 20, |v| {
        state_of(v, "atc") == "paged"
    })
    .await;
    assert_eq!(
        page(&sev, "atc").unwrap()["on_call"][0]["email"],
        "atc@example.com",
        "{sev}"
    );
    let pages = genie.pages();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!(
        (pages[0].api, pages[0].alias.as_str(), pages[0].team.as_deref()),
        ("opsgenie", "sevtool-1-atc", Some("ATC Ops"))
    );
    let post = |body: String, auth: Option<&'static str>| {
        webhook(
            &s.app,
            "/opsgenie/webhook",
            auth.map(|a| ("authorization", a.to_owned())),
            body,
        )
    };
    const BEARER: Option<&str> = Some("Bearer og-webhook-secret");
    // 2026-01-02T10:05:00Z, in nanoseconds.
    let t = 1_767_348_300_000_000_000_i64;
    let ack = alert_action("Acknowledge", "sevtool-1-atc", "alice@example.com", t);
    assert_eq!(post(ack.clone(), None).await.0, 401, "no secret");
    assert_eq!(post(ack.clone(), Some("Bearer guess")).await.0, 401, "a wrong secret");
    let (status, body) = post(alert_action("AddNote", "sevtool-1-atc", "bob", t), BEARER).await;
    assert_eq!((status, body), (200, json!({"ignored": "AddNote"})));
    for _ in 0..2 {
        let (status, body) = post(ack.clone(), BEARER).await;
        assert_eq!(status, 202, "{body}");
    }
    let sev = wait_for(&s.app, &id, "the acknowledgement", 20, |v| {
        state_of(v, "atc") == "acknowledged"
    })
    .await;
    let atc = page(&sev, "atc").unwrap();
    assert_eq!(atc["acknowledged_by"], "alice@example.com");
    assert_eq!(atc["acknowledged_at"], "2026-01-02T10:05:00Z");
    let reassigned = alert_action("AssignOwnership", "sevtool-1-atc", "alice@example.com", t + 1_000);
    assert_eq!(post(reassigned, BEARER).await.0, 202);
    // The pager queue works in parallel: a close taken first would leave nothing to reassign.
    wait_for(&s.app, &id, "the reassignment", 20, |v| {
        v["timeline"]
            .as_array()
            .is_some_and(|t| t.iter().any(|e| e["kind"] == "page_escalated"))
    })
    .await;
    let closed = alert_action("Close", "sevtool-1-atc", "alice@example.com", t + 2_000);
    for _ in 0..2 {
        assert_eq!(post(closed.clone(), BEARER).await.0, 202);
    }
    wait_for(&s.app, &id, "the close", 20, |v| state_of(v, "atc") == "resolved").await;
    s.app.settled().await;
    let (_, sev) = s.app.get_json(&format!("/api/sevs/{id}")).await;
    let pages: Vec<&Value> = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"].as_str().is_some_and(|k| k.starts_with("page")))
        .collect();
    let kinds: Vec<&str> = pages.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        ["paged", "page_acknowledged", "page_escalated", "page_resolved"],
        "each delivered action acts once: {sev}"
    );
    assert_eq!(
        (pages[1]["author"].as_str(), pages[1]["by"].as_str()),
        (Some("opsgenie"), Some("alice@example.com"))
    );
    assert_eq!(pages[2]["how"], "reassigned");
}

#[tokio::test]
async fn a_jsm_ops_team_is_paged_looked_up_acknowledged_and_closed_through_atlassian_apis() {
    use blackbox::fake_genie::{CLOUD_ID, FakeGenie, GENIE_KEY, JSM_EMAIL, JSM_TOKEN};
    const SCHEDULE: &str = "5f0c3d1e-aaaa-4bbb-8ccc-000000000001";
    let genie = FakeGenie::start().await;
    let catalog = genie_catalog("jsm", &format!("team = \"ATC Ops\"\nschedule = \"{SCHEDULE}\"\n"));
    let s = setup(
        &catalog,
        &[
            ("JSM_OPS_API_URL", genie.base.as_str()),
            ("JSM_SITE_URL", genie.base.as_str()),
            ("JSM_CLOUD_ID", CLOUD_ID),
            ("JSM_EMAIL", JSM_EMAIL),
            ("JSM_API_TOKEN", JSM_TOKEN),
            ("GENIE_KEY_ATC", GENIE_KEY),
            ("OPSGENIE_WEBHOOK_SECRET", "jsm-webhook-secret"),
        ],
    )
    .await;
    let id = s
        .app
        .file_sev_id(json!({"title": "Checkout returns 5xx", "level": "SEV2"}))
        .await;
    let sev = wait_for(&s.app, &id, "the coordinator paged", 20, |v| {
        state_of(v, "atc") == "paged"
    })
    .await;
    let atc = page(&sev, "atc").unwrap();
    assert_eq!(atc["pager"], "jsm");
    let on_call = &atc["on_call"][0];
    assert_eq!(
        (on_call["email"].as_str(), on_call["name"].as_str()),
        (Some(format!("{SCHEDULE}@example.com").as_str()), Some(SCHEDULE)),
        "the schedule's account id, turned into a person by the Jira site: {sev}"
    );
    let pages = genie.pages();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert_eq!((pages[0].api, pages[0].team.as_deref()), ("jsm", Some("ATC Ops")));

    // JSM's webhook integration sends Opsgenie's alert action data to the same route.
    let ack = alert_action("Acknowledge", "sevtool-1-atc", "Alice Ops", 1_767_348_300_000_000_000);
    let auth = Some(("authorization", "Bearer jsm-webhook-secret".to_owned()));
    assert_eq!(webhook(&s.app, "/opsgenie/webhook", auth, ack).await.0, 202);
    wait_for(&s.app, &id, "the acknowledgement", 20, |v| {
        state_of(v, "atc") == "acknowledged"
    })
    .await;
    s.app
        .post_json(&format!("/api/sevs/{id}/status"), json!({"status": "resolved"}))
        .await;
    wait_for(&s.app, &id, "the page resolved", 30, |v| {
        state_of(v, "atc") == "resolved"
    })
    .await;
    s.app.settled().await;
    let closes: Vec<_> = genie.alerts().into_iter().filter(|a| a.action == "close").collect();
    assert_eq!(closes.len(), 1, "{closes:?}");
    assert_eq!((closes[0].api, closes[0].alias.as_str()), ("jsm", "sevtool-1-atc"));
    let (_, sev) = s.app.get_json(&format!("/api/sevs/{id}")).await;
    let ack = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "page_acknowledged")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (ack["author"].as_str(), ack["by"].as_str()),
        (Some("jsm"), Some("Alice Ops"))
    );
}
