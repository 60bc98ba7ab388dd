//! `sevtool`'s own task queue, a table in its data file: tests put tasks on it as the scheduler
//! (EventBridge Scheduler on AWS) or a redelivery would, and wait until every task is handled.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use sev::queue::TaskEnvelope;

fn open(data: &Path, flags: OpenFlags) -> Connection {
    let conn = Connection::open_with_flags(data.join("sevtool.db"), flags).expect("open sevtool.db");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    conn
}

/// Puts `task` on the queue of the `sevtool` whose data directory is `data`.
pub fn deliver(data: &Path, task: &TaskEnvelope) {
    open(data, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .execute(
            "INSERT INTO queue_messages (body, visible_at_ms, queue) VALUES (?1, 0, 'tasks')",
            [task.to_json()],
        )
        .expect("queue the task");
}

/// Whether every task is handled: none in the outbox on its way to a queue, none waiting or in
/// flight on either queue, and no handler holding a claim. Only then can nothing more happen
/// until something new is asked (or a schedule fires).
fn idle(data: &Path) -> bool {
    let conn = open(data, OpenFlags::SQLITE_OPEN_READ_ONLY);
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    count("SELECT COUNT(*) FROM items WHERE pk = 'OUTBOX'") == 0
        && count("SELECT COUNT(*) FROM queue_messages WHERE dead = 0") == 0
        && count("SELECT COUNT(*) FROM items WHERE pk LIKE 'TASK#%' AND json_extract(data, '$.done') = 0") == 0
}

/// Waits until every task is handled (twice in a row, 100 ms apart, so a task between a claim
/// released for retry and its redelivery is not missed), or fails the test after 45 s: longer
/// than the 30 s lease a claim left by a killed process holds its task for.
pub async fn wait_idle(data: &Path) {
    assert!(
        idle_within(data, Duration::from_secs(45)).await,
        "the tasks did not finish within 45 s: {:#?}",
        pending(data)
    );
}

/// What keeps the queue from being idle, for a failure message: the outbox's keys, the queued
/// messages' bodies and the claimed tasks not done, each as stored.
pub fn pending(data: &Path) -> Vec<String> {
    let conn = open(data, OpenFlags::SQLITE_OPEN_READ_ONLY);
    let mut rows = Vec::new();
    for sql in [
        "SELECT 'outbox ' || sk FROM items WHERE pk = 'OUTBOX'",
        "SELECT 'queued ' || body FROM queue_messages WHERE dead = 0",
        "SELECT 'claimed ' || pk || ' ' || data FROM items WHERE pk LIKE 'TASK#%' AND json_extract(data, '$.done') = 0",
    ] {
        let mut stmt = conn.prepare(sql).expect(sql);
        let found = stmt.query_map([], |r| r.get::<_, String>(0)).expect(sql);
        rows.extend(
            found
                .map(|r| r.expect(sql))
                .map(|r| r.chars().take(300).collect::<String>()),
        );
    }
    rows
}

/// Whether every task was handled within `limit` (see [`wait_idle`]), for a test that reports
/// a queue that never drains in its own words.
pub async fn idle_within(data: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut quiet = 0;
    while quiet < 2 {
        if Instant::now() >= deadline {
            return false;
        }
        quiet = if idle(data) { quiet + 1 } else { 0 };
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

/// Waits until the task with key `key` is recorded as done, or fails the test after 30 s.
pub async fn wait_done(data: &Path, key: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let sql = "SELECT COUNT(*) FROM items WHERE pk = ?1 AND json_extract(data, '$.done') = 1";
    while open(data, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .query_row(sql, [format!("TASK#{key}")], |r| r.get::<_, i64>(0))
        .expect("read the task's claim")
        == 0
    {
        assert!(Instant::now() < deadline, "task {key} was not done within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
