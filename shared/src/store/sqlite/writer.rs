//! Group commit: one thread owns the connection that writes. Writes that arrive while a commit
//! is on its way to disk wait, then share the next transaction and its one fsync. Each write
//! runs in its own savepoint, so one that fails rolls back alone, and no write is answered
//! before the transaction that holds it is committed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::StoreError;

/// Writes sharing one transaction at most: enough to carry a burst of Slack acks in one fsync,
/// few enough that the first in the batch is not kept waiting by the rest.
const MAX_BATCH: usize = 256;

/// Whether a write's own statements are kept, and how to tell its caller once the batch's
/// commit is known.
struct Ran {
    keep: bool,
    answer: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

type Job = Box<dyn FnOnce(&Connection) -> Ran + Send>;

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writing thread on `conn`. It ends when the last handle to the store is dropped.
    pub(super) fn start(conn: Connection) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let commits = Arc::new(AtomicU64::new(0));
        let counted = commits.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    commit(&conn, batch, &counted);
                }
            })
            .map_err(|e| StoreError::Backend(format!("could not start the sqlite writer: {e}")))?;
        Ok(Writer { jobs, commits })
    }

    /// Runs `f` inside the next shared transaction and answers once it is on disk. When `f`
    /// returns an error, its statements are rolled back and the others in the batch still commit.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| match f(conn) {
            Ok(value) => Ran {
                keep: true,
                answer: Box::new(move |committed| {
                    let _ = tx.send(committed.map(|()| value));
                }),
            },
            Err(e) => Ran {
                keep: false,
                answer: Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            },
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Backend("the sqlite writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the sqlite transaction failed before this write ran".into()))?
    }

    /// Transactions committed since start: one fsync of the write-ahead log each.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

/// Runs a batch in one transaction and answers every write in it, counting the commit in
/// `commits` before anyone hears of it.
fn commit(conn: &Connection, batch: Vec<Job>, commits: &AtomicU64) {
    let mut answers = Vec::with_capacity(batch.len());
    let outcome = (|| -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for job in batch {
            conn.execute_batch("SAVEPOINT write")?;
            let ran = job(conn);
            if !ran.keep {
                conn.execute_batch("ROLLBACK TO write")?;
            }
            conn.execute_batch("RELEASE write")?;
            answers.push(ran.answer);
        }
        conn.execute_batch("COMMIT")
    })();
    match outcome {
        Ok(()) => {
            commits.fetch_add(1, Ordering::Relaxed);
            for answer in answers {
                answer(Ok(()));
            }
        }
        Err(e) => {
            // Nothing of the batch is on disk; each write that ran is told so (one that had
            // failed on its own still reports its own error). Those that never ran see their
            // answer dropped, which `write` reports as a failure too.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            let message = format!("sqlite: {e}");
            for answer in answers {
                answer(Err(StoreError::Backend(message.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc as std_mpsc;
    use std::time::Duration;

    use rusqlite::params;

    use crate::store::{Condition, Item, Key, SqliteStore, Store, StoreError};

    fn item(pk: &str) -> Item {
        Item {
            key: Key::new(pk, "A"),
            gsi1: None,
            gsi2: None,
            version: 1,
            expires_at: None,
            data: format!("{{\"pk\":\"{pk}\"}}"),
        }
    }

    /// Holds the writer inside a first write until released, so that the writes sent meanwhile
    /// all wait for the same next transaction. Returns once the writer is inside it.
    async fn hold(store: &SqliteStore) -> (std_mpsc::Sender<()>, tokio::task::JoinHandle<Result<(), StoreError>>) {
        let (release, held) = std_mpsc::channel::<()>();
        let (entered, inside) = std_mpsc::channel::<()>();
        let store = store.clone();
        let first = tokio::spawn(async move {
            store
                .write(move |_| {
                    let _ = entered.send(());
                    let _ = held.recv_timeout(Duration::from_secs(10));
                    Ok(())
                })
                .await
        });
        tokio::task::spawn_blocking(move || inside.recv_timeout(Duration::from_secs(10)))
            .await
            .unwrap()
            .expect("the writer took the first write");
        (release, first)
    }

    #[tokio::test]
    async fn writes_sent_during_a_commit_share_the_next_one_and_each_gets_its_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("g.db")).unwrap();
        store.put(item("TAKEN"), Condition::Always).await.unwrap();
        let before = store.commits();

        let (release, first) = hold(&store).await;
        let mut writes = Vec::new();
        for n in 0..20 {
            let store = store.clone();
            writes.push(tokio::spawn(async move {
                store.put(item(&format!("P{n}")), Condition::NotExists).await
            }));
        }
        let clash = {
            let store = store.clone();
            tokio::spawn(async move { store.put(item("TAKEN"), Condition::NotExists).await })
        };
        let failing = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .write(|c| {
                        c.execute(
                            "INSERT INTO items (pk, sk, version, data) VALUES (?1, 'A', 1, '{}')",
                            params!["ROLLED-BACK"],
                        )?;
                        Err::<(), _>(StoreError::Backend("this write changes its mind".into()))
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Nothing sent after the first write is visible yet: none of it is committed.
        assert_eq!(store.get(&Key::new("P0", "A")).await.unwrap(), None);
        release.send(()).unwrap();

        first.await.unwrap().unwrap();
        for w in writes {
            w.await.unwrap().unwrap();
        }
        assert!(matches!(clash.await.unwrap(), Err(StoreError::ConditionFailed)));
        assert!(matches!(failing.await.unwrap(), Err(StoreError::Backend(m)) if m.contains("changes its mind")));
        assert_eq!(
            store.commits() - before,
            2,
            "the held write, then the 22 sent meanwhile in one"
        );
        for n in 0..20 {
            assert!(store.get(&Key::new(format!("P{n}"), "A")).await.unwrap().is_some());
        }
        assert_eq!(store.get(&Key::new("ROLLED-BACK", "A")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn conditions_in_one_batch_see_the_writes_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("g.db")).unwrap();
        let (release, first) = hold(&store).await;
        let mut racers = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            racers.push(tokio::spawn(async move {
                store.put(item("ONE"), Condition::NotExists).await
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        let mut won = 0;
        for r in racers {
            match r.await.unwrap() {
                Ok(()) => won += 1,
                Err(StoreError::ConditionFailed) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(won, 1, "exactly one create of the same key wins, batched or not");
    }
}
