//! Durability: `sevtool` killed with SIGKILL right after answering 201 loses neither the SEV nor
//! the integration tasks it queued, and handles those tasks once it is back.

use std::path::Path;
use std::time::{Duration, Instant};

use blackbox::Sevtool;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::json;

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
