//! The web UI in headless Chromium: starts the real `sevtool` and runs `tests/browser/web.mjs`
//! (playwright-core, installed by `make test` from tests/package-lock.json) against it.
//! Screenshots of the main pages are kept in `target/browser-screenshots/`.

use std::path::PathBuf;

use blackbox::Sevtool;

#[tokio::test]
async fn an_engineer_runs_a_sev_through_the_web_ui() {
    let tests = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/lib/chromium/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (`make test` does), or set CHROMIUM_PATH"
    );
    assert!(
        tests.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: run `make test`, which installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let app = Sevtool::start(dir.path(), &[]).await;
    let shots = tests.join("../target/browser-screenshots");
    let out = tokio::process::Command::new("node")
        .arg(tests.join("browser/web.mjs"))
        .arg(&app.base)
        .arg(&shots)
        .env("CHROMIUM_PATH", &chromium)
        .current_dir(&tests)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the browser run failed:\n{stdout}\n{stderr}");
    for page in ["new", "sev", "live", "list", "reports"] {
        assert!(shots.join(format!("{page}.png")).exists(), "no screenshot of {page}");
    }
}
