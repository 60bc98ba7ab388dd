//! Export and import through the real `sevtool` binary: the API export, and the CLI round trip.

use std::path::Path;
use std::process::Output;

use blackbox::{Sevtool, sevtool_binary};
use serde_json::{Value, json};

fn cli(data: &Path, args: &[&str]) -> Output {
    std::process::Command::new(sevtool_binary())
        .args(args)
        .env_clear()
        .env("SEVTOOL_DATA_DIR", data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run sevtool")
}

fn jsonl(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[tokio::test]
async fn export_then_import_into_a_fresh_store_gives_the_same_sevs_once() {
    let a = tempfile::tempdir().unwrap();
    let app = Sevtool::start(a.path(), &[]).await;
    for (i, level) in ["SEV1", "SEV2", "SEV3"].iter().enumerate() {
        let r = app
            .post_json(
                "/api/sevs",
                json!({"title": format!("SEV, \"number\" {i}"), "level": level, "product_track": "payments",
                       "tags": ["system/payments/ledger"], "description": "two\nlines", "private": i == 2,
                       "started_at": "2026-07-14T09:00:00Z", "detected_at": "2026-07-14T09:12:00Z"}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    app.post_json(
        "/api/sevs/SEV-1/status",
        json!({"status": "resolved", "reason": "rolled back"}),
    )
    .await;
    // The open local server's caller is the operator: the private SEV is exported too.
    let r = app.http.get(app.url("/api/export?format=csv")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("id,title,level,status,product_track,tags,private,drill,"),
        "{csv}"
    );
    let (status, err) = app.get_json("/api/export?format=xml").await;
    assert_eq!(
        (status, err["error"].as_str().map(|e| e.contains("csv or jsonl"))),
        (400, Some(true))
    );
    let r = app.http.get(app.url("/api/export?format=jsonl")).send().await.unwrap();
    assert_eq!(jsonl(&r.bytes().await.unwrap()).len(), 3);
    app.kill_hard().await;

    let exported = cli(a.path(), &["export", "--format", "csv"]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let file = a.path().join("sevs.csv");
    std::fs::write(&file, &exported.stdout).unwrap();

    let b = tempfile::tempdir().unwrap();
    let first = cli(b.path(), &["import", file.to_str().unwrap()]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let before = jsonl(&cli(a.path(), &["export", "--format", "jsonl"]).stdout);
    let after = jsonl(&cli(b.path(), &["export", "--format", "jsonl"]).stdout);
    assert_eq!(before.len(), 3);
    assert_eq!(after, before, "the same SEVs, numbers included");

    let again = cli(b.path(), &["import", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("imported 0 SEVs, 3 already imported"), "{said}");
    assert_eq!(jsonl(&cli(b.path(), &["export", "--format", "jsonl"]).stdout).len(), 3);
}

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_the_rest_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.csv");
    std::fs::write(
        &file,
        "id,title,level,status,started_at,resolved_at,closed_at,tags\n\
         1,Ledger down,SEV1,closed,2024-01-02T03:00:00Z,2024-01-02T05:00:00Z,2024-01-03T00:00:00Z,system/ledger\n\
         2,Bad level,SEV9,closed,2024-01-02T03:00:00Z,2024-01-02T05:00:00Z,2024-01-03T00:00:00Z,\n\
         3,No start,SEV2,open,,,,\n\
         4,Search slow,SEV3,open,2024-02-02T03:00:00Z,,,\n",
    )
    .unwrap();
    let out = cli(dir.path(), &["import", file.to_str().unwrap()]);
    assert!(!out.status.success(), "bad rows make the exit status non-zero");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("history.csv:3: skipped: level"), "{said}");
    assert!(
        said.contains("history.csv:4: skipped: started_at: is required"),
        "{said}"
    );
    assert!(
        said.contains("imported 2 SEVs, 0 already imported, 2 bad rows skipped"),
        "{said}"
    );
    let sevs = jsonl(&cli(dir.path(), &["export", "--format", "jsonl", "--since", "2023-01"]).stdout);
    let titles: Vec<&str> = sevs.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Ledger down", "Search slow"]);
}
