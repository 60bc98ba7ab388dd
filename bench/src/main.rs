//! `make bench`: the figures that matter for a serverless incident tool, measured on the optimised
//! binaries from the outside, printed as one table and written as JSON.
//!
//! Usage: sevbench --bin-dir target/PROFILE [--fn-bin-dir target/PROFILE] --profile PROFILE
//!        --out target/bench/results.json [SECTION...]
//! (the table also goes to results.md beside the JSON, compact, for the README)
//! Sections: slack, peers, socket, coldstart, alerts, mayday, reports, store (default: all, in
//! that order).

mod alerts;
mod aws;
mod coldstart;
mod fakes;
mod lambda;
mod mayday;
mod peers;
mod reports;
mod sevtool;
mod slack_ack;
mod socket_ack;
mod store;
mod table;
mod units;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};

use table::Row;

/// Where things are, shared by every section.
pub struct Env {
    /// The repository root (for `tests/moto_server.py` and `bench/wrk/`).
    pub repo: PathBuf,
    /// The binaries under test (`target/<profile>`).
    pub bin_dir: PathBuf,
    /// The Lambda functions under test: `bin_dir` unless `--fn-bin-dir` names another build
    /// (what ships builds them with `lambda-release`, `sevtool` with `release`).
    pub fn_bin_dir: PathBuf,
    /// Scratch space for data directories, logs and request files; emptied at the start.
    pub work: PathBuf,
    /// The virtualenv holding moto.
    pub venv: PathBuf,
}

impl Env {
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// A Lambda function's binary.
    pub fn function(&self, name: &str) -> PathBuf {
        self.fn_bin_dir.join(name)
    }
}

const SECTIONS: [&str; 8] = [
    "slack",
    "peers",
    "socket",
    "coldstart",
    "alerts",
    "mayday",
    "reports",
    "store",
];

struct Args {
    env: Env,
    /// The cargo profile the binaries were built with, named in the results.
    profile: String,
    out: PathBuf,
    sections: Vec<String>,
}

fn args() -> anyhow::Result<Args> {
    let repo = std::env::current_dir()?;
    let mut bin_dir = None;
    let mut fn_bin_dir = None;
    let mut profile = "release".to_owned();
    let mut out = repo.join("target/bench/results.json");
    let mut venv = repo.join(std::env::var("SEVTOOL_VENV").unwrap_or_else(|_| ".venv".into()));
    let mut sections = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--bin-dir" => bin_dir = Some(value()?.into()),
            "--fn-bin-dir" => fn_bin_dir = Some(value()?.into()),
            "--profile" => profile = value()?,
            "--out" => out = value()?.into(),
            "--venv" => venv = value()?.into(),
            s if SECTIONS.contains(&s) => sections.push(s.to_owned()),
            other => bail!("unknown argument {other}; sections are {SECTIONS:?}"),
        }
    }
    if sections.is_empty() {
        sections = SECTIONS.map(str::to_owned).to_vec();
    }
    let bin_dir: PathBuf = bin_dir.unwrap_or_else(|| repo.join("target").join(&profile));
    let fn_bin_dir = fn_bin_dir.unwrap_or_else(|| bin_dir.clone());
    let work = out
        .parent()
        .map_or_else(|| repo.join("target/bench"), PathBuf::from)
        .join("work");
    Ok(Args {
        env: Env {
            repo,
            bin_dir,
            fn_bin_dir,
            work,
            venv,
        },
        profile,
        out,
        sections,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let Args {
        env,
        profile,
        out,
        sections,
    } = args()?;
    if env.work.exists() {
        std::fs::remove_dir_all(&env.work)?;
    }
    std::fs::create_dir_all(&env.work)?;
    let mut rows: Vec<Row> = Vec::new();
    for section in &sections {
        let t = Instant::now();
        eprintln!("bench: {section}…");
        let result = match section.as_str() {
            "slack" => slack_ack::run(&env).await,
            "peers" => peers::run(&env).await,
            "socket" => socket_ack::run(&env).await,
            "coldstart" => coldstart::run(&env).await,
            "alerts" => alerts::run(&env).await,
            "mayday" => mayday::run(&env).await,
            "reports" => reports::run(&env).await,
            "store" => store::run(&env).await,
            _ => unreachable!("checked in args()"),
        };
        let section_rows =
            result.with_context(|| format!("section {section} failed (logs in {})", env.work.display()))?;
        eprintln!("bench: {section} took {:.0} s", t.elapsed().as_secs_f64());
        rows.extend(section_rows);
    }
    let total = started.elapsed().as_secs_f64();
    let functions = if env.fn_bin_dir == env.bin_dir {
        String::new()
    } else {
        format!(", the Lambda functions taken from `{}`", env.fn_bin_dir.display())
    };
    let built_with = format!("Binaries built with the `{profile}` cargo profile{functions}.\n\n");
    println!("{built_with}{}", table::render(&rows, true));
    table::write_json(&out, &profile, &rows, total)?;
    let markdown = out.with_extension("md");
    std::fs::write(&markdown, built_with + &table::render(&rows, false))?;
    eprintln!(
        "bench: {} rows in {total:.0} s, written to {} and {}",
        rows.len(),
        out.display(),
        markdown.display()
    );
    Ok(())
}
