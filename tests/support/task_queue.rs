//! `sevtool`'s own task queue, a table in its data file: tests put tasks on it as the scheduler
//! (EventBridge Scheduler on AWS) or a redelivery would, and wait for it to drain.

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

/// Whether the queue has handled every task it was given (none waiting, none in flight).
fn queue_idle(data: &Path) -> bool {
    let waiting: i64 = open(data, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .query_row("SELECT COUNT(*) FROM queue_messages WHERE dead = 0", [], |r| r.get(0))
        .expect("count queued tasks");
    waiting == 0
}

/// Waits until the queue has drained, or fails the test after 30 s.
pub async fn wait_idle(data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !queue_idle(data) {
        assert!(Instant::now() < deadline, "the task queue did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
