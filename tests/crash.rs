//! Durability: `sevtool` killed with SIGKILL right after answering 201 loses neither the SEV nor
//! the integration tasks it queued, and handles those tasks once it is back.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blackbox::Sevtool;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::json;
use tokio::sync::Notify;

fn db(dir: &Path) -> Connection {
    Connection::open_with_flags(dir.join("sevtool.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the store read-only")
}

/// Where the task with `key` is: still in the outbox, in the queue, or handled.
fn task_place(conn: &Connection, key: &str) -> Option<&'static str> {
    let like = format!("%\"key\":\"{key}\"%");
    let in_outbox: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE pk = 'OUTBOX' AND data LIKE ?1",
            [&like],
            |r| r.get(0),
        )
        .unwrap();
    let in_queue: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM queue_messages WHERE dead = 0 AND body LIKE ?1",
            [&like],
            |r| r.get(0),
        )
        .unwrap_or(0);
    let handled: Option<String> = conn
        .query_row("SELECT data FROM items WHERE pk = ?1", [format!("TASK#{key}")], |r| {
            r.get(0)
        })
        .optional()
        .unwrap();
    if handled.as_deref() == Some(r#"{"done":true}"#) {
        Some("handled")
    } else if in_queue > 0 {
        Some("queue")
    } else if in_outbox > 0 {
        Some("outbox")
    } else {
        None
    }
}

#[tokio::test]
async fn sigkill_right_after_201_loses_neither_the_sev_nor_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    for round in 1..=3u32 {
        let app = Sevtool::start(dir.path(), &[]).await;
        let r = app
            .post_json("/api/sevs", json!({"title": format!("crash {round}"), "level": "SEV1"}))
            .await;
        assert_eq!(r.status(), 201);
        app.kill_hard().await;

        let conn = db(dir.path());
        let sev: Option<String> = conn
            .query_row(
                "SELECT data FROM items WHERE pk = ?1 AND sk = 'SEV'",
                [format!("SEV#{round}")],
                |r| r.get(0),
            )
            .optional()
            .unwrap();
        assert!(
            sev.is_some_and(|s| s.contains(&format!("crash {round}"))),
            "SEV-{round} survived the kill"
        );
        let place = task_place(&conn, &format!("sev-filed:SEV-{round}"));
        assert!(place.is_some(), "the filed task of SEV-{round} survived the kill");
    }

    let app = Sevtool::start(dir.path(), &[]).await;
    let (status, list) = app.get_json("/api/sevs").await;
    assert_eq!(status, 200);
    assert_eq!(list["sevs"].as_array().unwrap().len(), 3);
    // A task claimed when the process died waits for its 30 s claim to lapse, then for the
    // queue's next delivery after that (backoff), so allow a minute and a half.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let conn = db(dir.path());
        let places: Vec<_> = (1..=3)
            .map(|n| task_place(&conn, &format!("sev-filed:SEV-{n}")))
            .collect();
        if places.iter().all(|p| *p == Some("handled")) {
            break;
        }
        assert!(Instant::now() < deadline, "tasks not handled after restart: {places:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writers that keep filing SEVs and posting updates at once, so that acknowledged writes share
/// commits (the embedded store's group commit), until `sevtool` is killed. Returns what was
/// answered 2xx: the titles filed and the update texts posted. `answering` is told when the
/// first SEV is filed.
async fn write_until_killed(base: String, writers: usize, answering: Arc<Notify>) -> (Vec<String>, Vec<String>) {
    let mut loops = Vec::new();
    for w in 0..writers {
        let base = base.clone();
        let answering = answering.clone();
        loops.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let (mut filed, mut updates) = (Vec::new(), Vec::new());
            for n in 0.. {
                let title = format!("load w{w} n{n}");
                let Ok(r) = http
                    .post(format!("{base}/api/sevs"))
                    .json(&json!({"title": title, "level": "SEV2"}))
                    .send()
                    .await
                else {
                    break;
                };
                if r.status() != 201 {
                    panic!("filing answered {}: {}", r.status(), r.text().await.unwrap_or_default());
                }
                let Ok(sev) = r.json::<serde_json::Value>().await else {
                    break;
                };
                filed.push(title);
                answering.notify_one();
                let id = sev["id"].as_str().unwrap_or_default().to_owned();
                let text = format!("update w{w} n{n}");
                let Ok(r) = http
                    .post(format!("{base}/api/sevs/{id}/updates"))
                    .json(&json!({"text": text}))
                    .send()
                    .await
                else {
                    break;
                };
                if !r.status().is_success() {
                    panic!(
                        "the update answered {}: {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
                updates.push(text);
            }
            (filed, updates)
        }));
    }
    let (mut filed, mut updates) = (Vec::new(), Vec::new());
    for l in loops {
        let (f, u) = l.await.expect("writer loop");
        filed.extend(f);
        updates.extend(u);
    }
    (filed, updates)
}

#[tokio::test]
async fn sigkill_during_concurrent_writes_loses_nothing_that_was_answered() {
    let dir = tempfile::tempdir().unwrap();
    // Kill at a different moment each round; the delays are printed so a failure can be re-run.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    for round in 0..3u32 {
        let delay = Duration::from_millis(50 + u64::from((seed >> (round * 8)) % 700));
        eprintln!("round {round}: SIGKILL {delay:?} after the first answer");
        let app = Sevtool::start(dir.path(), &[]).await;
        let answering = Arc::new(Notify::new());
        let writers = tokio::spawn(write_until_killed(app.base.clone(), 16, answering.clone()));
        // The delay counts from the first answer, so a slow start on a busy machine still
        // leaves writes in flight to kill.
        tokio::time::timeout(Duration::from_secs(30), answering.notified())
            .await
            .expect("a first SEV filed within 30 s");
        tokio::time::sleep(delay).await;
        app.kill_hard().await;
        let (filed, updates) = writers.await.unwrap();
        assert!(!filed.is_empty(), "round {round}: nothing was filed before the kill");

        let conn = db(dir.path());
        let stored: Vec<String> = conn
            .prepare("SELECT data FROM items WHERE pk LIKE 'SEV#%'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let all = stored.join("\n");
        for title in &filed {
            assert!(
                all.contains(&format!("\"{title}\"")),
                "round {round}: {title:?} was answered 201 and lost"
            );
        }
        for text in &updates {
            assert!(
                all.contains(&format!("\"{text}\"")),
                "round {round}: {text:?} was answered and lost"
            );
        }
        eprintln!(
            "round {round}: {} SEVs and {} updates answered, all on disk",
            filed.len(),
            updates.len()
        );
    }
}
