//! Starts the real `sevtool` binary on a free port with a fresh data directory, as a user would,
//! and talks to it over HTTP.

pub mod fake_pager;
pub mod fake_slack;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `make test` builds the binary first; it sits beside the directory of the test executables.
pub fn sevtool_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join("sevtool");
    assert!(
        bin.exists(),
        "{} is missing: run `make test`, which builds it first",
        bin.display()
    );
    bin
}

pub struct Sevtool {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
}

impl Sevtool {
    /// Starts `sevtool` on its own data under `data_dir`, with extra environment `env`.
    pub async fn start(data_dir: &Path, env: &[(&str, &str)]) -> Sevtool {
        let mut cmd = Command::new(sevtool_binary());
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("SEVTOOL_DATA_DIR", data_dir)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("start sevtool");
        let stdout = child.stdout.take().expect("sevtool stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("sevtool did not say where it listens within 30 s")
            .expect("read sevtool stdout")
            .expect("sevtool exited before listening");
        let base = line
            .strip_prefix("sevtool listening on ")
            .expect("listening line")
            .to_owned();
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Sevtool {
            child,
            base,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process with SIGKILL: no shutdown hooks, no flushing, as in a crash.
    pub async fn kill_hard(mut self) {
        self.child.start_kill().expect("SIGKILL sevtool");
        self.child.wait().await.expect("reap sevtool");
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&body).send().await.expect("POST")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }
}
