//! Starts the real `sevtool` binary on a free port with a fresh data directory, as a user would,
//! and talks to it over HTTP.

pub mod fake_genie;
pub mod fake_jira;
pub mod fake_pager;
pub mod fake_slack;
pub mod fake_socket;
pub mod fake_statuspage;
pub mod task_queue;

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

/// Runs `sevtool` with only `env` (and a fresh data directory) and expects it to refuse to
/// start; returns what it said on stderr.
pub async fn refused_start(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("data directory");
    let out = Command::new(sevtool_binary())
        .env_clear()
        .env("PORT", "0")
        .env("SEVTOOL_DATA_DIR", dir.path())
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run sevtool");
    assert!(!out.status.success(), "sevtool started with {env:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub struct Sevtool {
    child: Child,
    pub base: String,
    pub http: reqwest::Client,
    data: std::path::PathBuf,
}

/// `name=value` of the `Set-Cookie` header that sets `name`.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

impl Sevtool {
    /// Starts `sevtool` on its own data under `data_dir`, with extra environment `env`.
    pub async fn start(data_dir: &Path, env: &[(&str, &str)]) -> Sevtool {
        Sevtool::spawn(data_dir, env, Stdio::inherit()).await
    }

    /// Like [`Sevtool::start`], with everything `sevtool` logs written to `log`.
    pub async fn start_logging_to(data_dir: &Path, env: &[(&str, &str)], log: &Path) -> Sevtool {
        let file = std::fs::File::create(log).expect("create the log file");
        Sevtool::spawn(data_dir, env, Stdio::from(file)).await
    }

    async fn spawn(data_dir: &Path, env: &[(&str, &str)], stderr: Stdio) -> Sevtool {
        let mut cmd = Command::new(sevtool_binary());
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("SEVTOOL_DATA_DIR", data_dir)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
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
            data: data_dir.to_owned(),
        }
    }

    /// Waits until everything this `sevtool` was asked to do is done (see
    /// [`task_queue::wait_idle`]): what a test waits for before it says something happened once.
    pub async fn settled(&self) {
        task_queue::wait_idle(&self.data).await;
    }

    /// Whether every task was handled within `limit`, for a test that reports a queue that
    /// never drains in its own words.
    pub async fn idle_within(&self, limit: std::time::Duration) -> bool {
        task_queue::idle_within(&self.data, limit).await
    }

    /// What keeps the queue from being idle (see [`task_queue::pending`]).
    pub fn pending(&self) -> Vec<String> {
        task_queue::pending(&self.data)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Kills the process with SIGKILL: no shutdown hooks, no flushing, as in a crash.
    pub async fn kill_hard(mut self) {
        self.child.start_kill().expect("SIGKILL sevtool");
        self.child.wait().await.expect("reap sevtool");
    }

    /// Signs in through the `/signin` form with the shared token, as a browser does, and returns
    /// the session cookie (`name=value`).
    pub async fn session(&self, token: &str, name: &str) -> String {
        let r = self.sign_in(token, name).await;
        assert_eq!(r.status(), 303, "signing in as {name}");
        set_cookie(&r, "sevtool_session").expect("a session cookie")
    }

    /// Posts the `/signin` form as a browser does (its CSRF cookie and token from the page), so
    /// that only the token decides the answer.
    pub async fn sign_in(&self, token: &str, name: &str) -> reqwest::Response {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = http.get(self.url("/signin")).send().await.expect("GET /signin");
        assert_eq!(page.status(), 200, "the sign-in page");
        let csrf_cookie = set_cookie(&page, "sevtool_csrf").expect("the sign-in page sets a CSRF cookie");
        let csrf = csrf_cookie
            .split_once('=')
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default();
        let form =
            serde_urlencoded::to_string([("csrf", csrf.as_str()), ("name", name), ("token", token), ("next", "/")])
                .expect("form");
        http.post(self.url("/signin"))
            .header(reqwest::header::COOKIE, &csrf_cookie)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .expect("POST /signin")
    }

    /// From now on, this handle's requests carry `cookie`: it acts as whoever signed in.
    pub fn act_as(&mut self, cookie: &str) {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::COOKIE,
            reqwest::header::HeaderValue::from_str(cookie).expect("cookie header"),
        );
        self.http = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .expect("client");
    }

    /// Posts a web form as the page would: with the CSRF cookie a page set and its token.
    /// Redirects are not followed, so the `303` back to the page shows.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = self.http.get(self.url("/sevs/new")).send().await.expect("GET a page");
        let cookie = set_cookie(&page, "sevtool_csrf").expect("pages set a CSRF cookie");
        let token = cookie.split_once('=').map(|(_, v)| v.to_owned()).unwrap_or_default();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        http.post(self.url(path))
            .header(reqwest::header::COOKIE, &cookie)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&all).expect("form"))
            .send()
            .await
            .expect("POST form")
    }

    /// Files a SEV through the API (`body` as `POST /api/sevs` takes it), expecting `201`, and
    /// returns the SEV as the API shows it.
    pub async fn file_sev(&self, body: serde_json::Value) -> serde_json::Value {
        let r = self.post_json("/api/sevs", body).await;
        assert_eq!(r.status(), 201, "filing a SEV");
        r.json().await.expect("the filed SEV")
    }

    /// [`Sevtool::file_sev`], for the new SEV's id (`SEV-<n>`).
    pub async fn file_sev_id(&self, body: serde_json::Value) -> String {
        self.file_sev(body).await["id"]
            .as_str()
            .expect("the SEV's id")
            .to_owned()
    }

    /// Posts `body` to `path` signed with `secret` as Slack signs its requests, stamped now,
    /// with `extra` headers (a retry's, say).
    pub async fn post_signed(
        &self,
        secret: &str,
        path: &str,
        content_type: &str,
        body: String,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig = sev::slack::SigningSecret::new(secret).sign(&ts, body.as_bytes());
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", ts)
            .header("x-slack-signature", sig);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.body(body).send().await.expect("POST a signed Slack request")
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http.post(self.url(path)).json(&body).send().await.expect("POST")
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    /// A page's body, whatever its status.
    pub async fn get_text(&self, path: &str) -> String {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        r.text().await.expect("text body")
    }

    /// Polls `path` (a JSON resource answering 200) until `check` holds of it; fails after `secs`.
    pub async fn poll_json(
        &self,
        path: &str,
        what: &str,
        secs: u64,
        check: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let (status, value) = self.get_json(path).await;
            assert_eq!(status, 200, "{path}: {value}");
            if check(&value) {
                return value;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; {path}: {value:#}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}
