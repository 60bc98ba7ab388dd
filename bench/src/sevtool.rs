//! The local server under test: the optimised `sevtool` on its own data directory and a free port.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Sevtool {
    child: Child,
    pub base: String,
}

impl Sevtool {
    /// Starts `sevtool` with only `env` set (plus the port and data directory), logs to `log`.
    pub async fn start(bin: &Path, data_dir: &Path, env: &[(&str, String)], log: &Path) -> anyhow::Result<Sevtool> {
        let mut child = base_command(bin, data_dir, env, log)?
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("sevtool's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("sevtool listening on ") {
                    return Ok(url.trim().to_owned());
                }
            }
            bail!("sevtool exited before listening; see {}", log.display())
        };
        let base = tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .context("sevtool did not listen within 30 s")??;
        Ok(Sevtool { child, base })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    pub fn peak_rss_mib(&self) -> Option<f64> {
        self.child.id().and_then(peak_rss_mib)
    }

    pub fn rss_mib(&self) -> Option<f64> {
        self.child.id().and_then(|pid| status_field(pid, "VmRSS:"))
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `sevtool` with a clean environment: nothing from the caller's shell leaks into a measurement.
pub fn base_command(bin: &Path, data_dir: &Path, env: &[(&str, String)], log: &Path) -> anyhow::Result<Command> {
    let mut command = Command::new(bin);
    command
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SEVTOOL_DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stderr(std::fs::File::options().create(true).append(true).open(log)?);
    Ok(command)
}

/// Peak resident set size of a live process (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_field(pid, "VmHWM:")
}

fn status_field(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
