//! Mayday: a catalog of 200 teams, a PagerDuty that takes 50 ms per event, and one
//! `POST /api/sevs/{id}/mayday` to `sevtool`: how long until every team's page was accepted, and
//! until the SEV shows every page as paged.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::Env;
use crate::fakes::FakePager;
use crate::sevtool::Sevtool;
use crate::table::{Row, fig};

const TEAMS: usize = 200;
const PAGER_LATENCY: Duration = Duration::from_millis(50);

fn write_catalog(path: &Path) -> anyhow::Result<()> {
    let mut toml = String::new();
    for i in 0..TEAMS {
        toml.push_str(&format!("[[team]]\nname = \"team-{i:03}\"\nslack = \"@team-{i:03}\"\n"));
        if i == 0 {
            toml.push_str("rotation = \"coordinator\"\n");
        }
        toml.push_str(&format!(
            "[team.pagerduty]\nrouting_key = \"R{i:031}\"\nschedule = \"P{i:06}\"\n\n"
        ));
    }
    std::fs::write(path, toml)?;
    Ok(())
}

fn paged(sev: &Value) -> usize {
    sev["pages"]
        .as_array()
        .map_or(0, |pages| pages.iter().filter(|p| p["state"] == "paged").count())
}

pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let catalog = env.work.join("teams-200.toml");
    write_catalog(&catalog)?;
    let (pager, pager_url) = FakePager::start(PAGER_LATENCY).await?;
    let server = Sevtool::start(
        &env.bin("sevtool"),
        &env.work.join("mayday"),
        &[
            ("SEVTOOL_TEAMS", catalog.display().to_string()),
            ("PAGERDUTY_EVENTS_URL", pager_url),
            ("SEVTOOL_AUTOPAGE_LEVEL", "off".to_owned()),
        ],
        &env.work.join("mayday.log"),
    )
    .await?;
    let client = reqwest::Client::new();
    let sev: Value = client
        .post(server.url("/api/sevs"))
        .json(&json!({ "title": "Everything is down", "level": "SEV0" }))
        .send()
        .await?
        .json()
        .await?;
    let id = sev["id"].as_str().context("the SEV's id")?.to_owned();
    let sev_url = server.url(&format!("/api/sevs/{id}"));

    let started = Instant::now();
    let response = client
        .post(format!("{sev_url}/mayday"))
        .json(&json!({ "confirm": true, "author": "bench" }))
        .send()
        .await?;
    let acked = started.elapsed().as_secs_f64() * 1000.0;
    if response.status().as_u16() != 202 {
        bail!("mayday answered {}: {}", response.status(), response.text().await?);
    }
    if !pager.wait_for(TEAMS, Duration::from_secs(120)).await {
        bail!(
            "only {} of {TEAMS} pages reached the pager in 2 minutes",
            pager.accepted()
        );
    }
    let accepted = started.elapsed().as_secs_f64();
    let first_page = pager
        .first_request()
        .map_or(f64::NAN, |t| (t - started).as_secs_f64() * 1000.0);
    let recorded = loop {
        let sev: Value = client.get(&sev_url).send().await?.json().await?;
        if paged(&sev) >= TEAMS {
            break started.elapsed().as_secs_f64();
        }
        if started.elapsed() > Duration::from_secs(120) {
            bail!("only {} of {TEAMS} pages recorded as paged", paged(&sev));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    server.stop().await;
    let floor = TEAMS as f64 * PAGER_LATENCY.as_secs_f64() / 16.0;
    Ok(vec![
        Row::new("mayday", format!("{TEAMS} teams, pager answers in 50 ms"))
            .with("all accepted", fig(accepted, "s"))
            .with("all shown paged", fig(recorded, "s"))
            .with("first page sent", fig(first_page, "ms"))
            .with("API answer", fig(acked, "ms"))
            .note(format!("16 pages in flight: the floor is {floor:.2} s")),
    ])
}
