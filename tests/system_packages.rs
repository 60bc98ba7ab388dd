//! `tests/system-packages.sh`, which `make test` and `make bench` run before compiling: silent
//! when the programs are there, and without root or sudo it stops with the one install line
//! instead of trying. Each case runs it on a PATH of stub programs, so nothing is installed.

use std::path::Path;
use std::process::{Command, Output};

fn stub(dir: &Path, name: &str, script: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the script for `target` as a user who is not root, with only `programs` on PATH.
fn run(target: &str, programs: &[&str], sudo: Option<&str>) -> Output {
    let dir = tempfile::tempdir().unwrap();
    stub(dir.path(), "id", "echo 1000");
    for p in programs {
        stub(dir.path(), p, "exit 0");
    }
    if let Some(script) = sudo {
        stub(dir.path(), "sudo", script);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("system-packages.sh");
    Command::new("/bin/bash")
        .arg(script)
        .arg(target)
        .env_clear()
        .env("PATH", dir.path())
        // The browser binary is found by path, as the browser tests find it, not on PATH.
        .env("CHROMIUM_PATH", dir.path().join("chromium"))
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn nothing_is_said_or_done_when_every_program_is_there() {
    let out = run("test", &["amtool", "prometheus-alertmanager", "chromium", "npm"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stderr.is_empty() && out.stdout.is_empty(), "{}", stderr(&out));
    let out = run("test", &["amtool", "alertmanager", "chromium", "npm"], None);
    assert!(
        out.status.success(),
        "the upstream binary name counts too: {}",
        stderr(&out)
    );
}

#[test]
fn without_root_or_sudo_it_stops_with_the_install_line() {
    let out = run("test", &["npm"], None);
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    assert!(
        said.contains(
            "sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus-alertmanager chromium"
        ),
        "{said}"
    );
    // amtool alone is not Alertmanager: both are needed.
    let said = stderr(&run("test", &["npm", "amtool", "chromium"], None));
    assert!(
        said.contains("--no-install-recommends prometheus-alertmanager\n"),
        "{said}"
    );
}

#[test]
fn a_sudo_that_would_ask_for_a_password_is_not_used() {
    let out = run("test", &["npm", "chromium"], Some("exit 1"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("sudo apt-get install"), "{}", stderr(&out));
}

#[test]
fn npm_is_named_when_it_is_missing() {
    let out = run("test", &["amtool", "prometheus-alertmanager", "chromium"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("needs npm"), "{}", stderr(&out));
}

#[test]
fn the_bench_asks_for_wrk_and_perf() {
    let said = stderr(&run("bench", &[], None));
    assert!(said.contains("--no-install-recommends wrk linux-perf\n"), "{said}");
    // The package is linux-perf; the program the bench runs is perf.
    let said = stderr(&run("bench", &["wrk"], None));
    assert!(said.contains("--no-install-recommends linux-perf\n"), "{said}");
    assert!(run("bench", &["wrk", "perf"], None).status.success());
}
