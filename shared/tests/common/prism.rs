//! The Prism mock server (npm `@stoplight/prism-cli`, installed by `make test`) over a vendor's
//! OpenAPI spec: it answers requests that match the spec with 2xx and others with 4xx and the
//! violations in an `sl-violations` header. Started per test on a free port, killed on drop.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};

pub struct Prism {
    _child: Child,
    pub base: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// `make test` says where it installed Prism; a plain `cargo test` looks in the same place.
fn binary() -> PathBuf {
    let path = std::env::var_os("SEVTOOL_PRISM").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/node_modules/.bin/prism")),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "Prism is not installed at {}: run `make test`, which installs it with npm (tests/node_modules)",
        path.display()
    );
    path
}

/// A vendor spec from the shared folder beside the repository (`../shared/vendor/...`).
pub fn vendor_spec(relative: &str) -> Value {
    let path = format!("{}/../../shared/vendor/{relative}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Two things Prism needs said explicitly that the vendors leave implicit, neither of which
/// changes what a valid request is: the base path of the spec's server URL (Prism matches paths
/// without it; PagerDuty's Events API lives under `/v2`), and, for Swagger 2 specs that declare
/// no media type (Opsgenie's), that bodies are JSON (without it Prism rejects every body).
fn prepare(mut spec: Value) -> Value {
    let base_path = spec["servers"][0]["url"]
        .as_str()
        .and_then(|u| u.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].trim_end_matches('/').to_owned()))
        .unwrap_or_default();
    if !base_path.is_empty()
        && let Some(paths) = spec["paths"].as_object().cloned()
    {
        spec["paths"] = Value::Object(paths.into_iter().map(|(p, v)| (format!("{base_path}{p}"), v)).collect());
    }
    if spec["swagger"].is_string() {
        for key in ["consumes", "produces"] {
            if spec[key].is_null() {
                spec[key] = serde_json::json!(["application/json"]);
            }
        }
    }
    spec
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Prism {
    pub async fn start(spec: Value) -> Prism {
        let dir = tempfile::tempdir().expect("temporary directory");
        let spec_path = dir.path().join("spec.json");
        std::fs::write(&spec_path, serde_json::to_vec(&prepare(spec)).unwrap()).expect("write spec");
        let log = dir.path().join("prism.log");
        let port = free_port();
        let child = Command::new(binary())
            .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
            .arg(&spec_path)
            .stdout(std::fs::File::create(&log).expect("prism log"))
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start Prism");
        let prism = Prism {
            _child: child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        prism.wait_ready().await;
        prism
    }

    /// Prism parses the spec before listening; big specs take several seconds on a busy machine.
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let http = reqwest::Client::new();
        loop {
            if http.get(format!("{}/", self.base)).send().await.is_ok() && self.log().contains("listening") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Prism did not start within 120 s; its log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What Prism logged, including each request's violations.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
