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

async fn file(app: &Sevtool, level: &str) -> String {
    let r = app
        .post_json("/api/sevs", json!({"title": "Checkout returns 5xx", "level": level}))
        .await;
    assert_eq!(r.status(), 201);
    let sev: Value = r.json().await.unwrap();
    sev["id"].as_str().unwrap().to_owned()
}

/// Polls the SEV until `check` holds of it; fails after a generous deadline.
async fn wait_for(app: &Sevtool, id: &str, what: &str, secs: u64, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (status, sev) = app.get_json(&format!("/api/sevs/{id}")).await;
        assert_eq!(status, 200);
        if check(&sev) {
            return sev;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the SEV: {sev:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    let id = file(&s.app, "SEV1").await;

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

    let sev = wait_for(&s.app, &id, "the page to go out", 90, |v| {
        state_of(v, "payments") == "paged"
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.pager.pages().len(), 1, "and does not page twice");
}

#[tokio::test]
async fn unknown_teams_get_close_matches_and_mayday_needs_confirming() {
    let s = setup(&catalog(0), &[("SEVTOOL_AUTOPAGE_LEVEL", "off")]).await;
    let id = file(&s.app, "SEV2").await;
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(s.pager.events().is_empty(), "nothing was paged");
}

#[tokio::test]
async fn filing_pages_the_coordinator_and_resolving_resolves_the_page() {
    let s = setup(&catalog(0), &[]).await;
    let low = file(&s.app, "SEV3").await;
    let id = file(&s.app, "SEV1").await;
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
        let id = file(&s.app, "SEV0").await;
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
    let id = file(&s.app, "SEV0").await;
    let started = Instant::now();
    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/mayday"), json!({"confirm": true}))
        .await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap()["teams"], 200);
    let sev = wait_for(&s.app, &id, "every team paged", 240, |v| {
        v["pages"]
            .as_array()
            .is_some_and(|p| p.len() == 200 && p.iter().all(|p| p["state"] == "paged"))
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
    let paged_entries = sev["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "paged")
        .count();
    assert_eq!(paged_entries, 200);
    assert_eq!(sev["muster"]["paged"].as_array().unwrap().len(), 200);

    let r = s
        .app
        .post_json(&format!("/api/sevs/{id}/mayday"), json!({"confirm": true}))
        .await;
    assert_eq!(r.status(), 202);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.pager.pages().len(), 200, "a second mayday pages nobody twice");
}
