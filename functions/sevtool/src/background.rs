//! The loops that stand in for AWS locally: the outbox relay (a scheduled sweep on AWS), the task
//! consumers (the SQS event source mappings on AWS) and the recurring jobs (the `reports`
//! Lambda's schedules on AWS). All stop when `stop` turns true.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use sev::app::{Integrations, Jobs};
use sev::clock::SystemClock;
use sev::queue::{Consumer, EmbeddedQueue, Relay};
use sev::reports::IsoWeek;
use sev::schedule::EmbeddedScheduler;
use sev::store::SevRepo;
use tokio::sync::watch;

/// The relay also runs right after every change; this only catches what a crash left behind.
const RELAY_EVERY: Duration = Duration::from_secs(2);
/// Nags are due to the minute at best; a second's delay is invisible.
const SCHEDULE_EVERY: Duration = Duration::from_secs(1);
const POLL_EVERY: Duration = Duration::from_millis(200);
/// The recurring jobs are due once a day or a week; a minute late is on time.
const JOBS_EVERY: Duration = Duration::from_secs(60);
/// The weekly digest goes out on Monday from this hour (UTC), as the AWS schedule does.
const DIGEST_HOUR: u32 = 8;
const BATCH: usize = 10;
/// Pages in flight at once on the pager consumer: enough that a mayday over hundreds of teams
/// goes out in seconds, few enough not to trip the pagers' rate limits.
pub const PAGER_CONCURRENCY: usize = 16;

async fn pause(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stop.changed() => true,
        () = tokio::time::sleep(d) => *stop.borrow(),
    }
}

pub async fn relay_loop(relay: Relay, mut stop: watch::Receiver<bool>) {
    loop {
        match relay.run().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(tasks = n, "relayed tasks left in the outbox"),
            Err(e) => tracing::warn!(error = %e, "relay failed; will try again"),
        }
        if pause(&mut stop, RELAY_EVERY).await {
            return;
        }
    }
}

/// Fires due schedules into the task queue, as EventBridge Scheduler does on AWS.
pub async fn schedule_loop(scheduler: EmbeddedScheduler, queue: EmbeddedQueue, mut stop: watch::Receiver<bool>) {
    loop {
        match scheduler.fire_due(chrono::Utc::now(), &queue).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(schedules = n, "fired due schedules"),
            Err(e) => tracing::warn!(error = %e, "could not fire due schedules; will try again"),
        }
        if pause(&mut stop, SCHEDULE_EVERY).await {
            return;
        }
    }
}

/// The recurring jobs owed at `now`, given the last ones this process started: the sweep once
/// per UTC day, and from Monday `DIGEST_HOUR` (UTC) the digest of the week before, once.
#[derive(Debug, PartialEq, Eq)]
struct Owed {
    sweep: bool,
    digest: Option<IsoWeek>,
}

fn owed(now: DateTime<Utc>, swept: Option<NaiveDate>, posted: Option<IsoWeek>) -> Owed {
    let last_week = IsoWeek::of(now).prev();
    let monday_morning = now.weekday() == Weekday::Mon && now.hour() >= DIGEST_HOUR;
    Owed {
        sweep: swept != Some(now.date_naive()),
        digest: (monday_morning && posted != Some(last_week)).then_some(last_week),
    }
}

/// The daily sweep (at start and whenever the UTC day turns) and the Monday digest. Each is
/// keyed by its day or week, so a restart that asks again acts once.
pub async fn jobs_loop(jobs: Jobs, mut stop: watch::Receiver<bool>) {
    let mut swept = None;
    let mut posted = None;
    loop {
        let due = owed(jobs.now(), swept, posted);
        if due.sweep {
            match jobs.start_sweep().await {
                Ok(day) => swept = Some(day),
                Err(e) => tracing::warn!(error = %e, "could not start the daily sweep; will try again"),
            }
        }
        if let Some(last_week) = due.digest {
            match jobs.post_digest(last_week, "scheduled").await {
                Ok(()) => posted = Some(last_week),
                Err(e) => tracing::warn!(error = %e, "could not queue the weekly digest; will try again"),
            }
        }
        if pause(&mut stop, JOBS_EVERY).await {
            return;
        }
    }
}

pub async fn consume_loop(
    queue: EmbeddedQueue,
    repo: SevRepo,
    integrations: Integrations,
    concurrency: usize,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let busy = match queue.receive(BATCH.max(concurrency)).await {
            Ok(messages) if messages.is_empty() => false,
            Ok(messages) => {
                let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
                let consumer = Consumer {
                    handler: &integrations,
                    repo: &repo,
                    clock: &SystemClock,
                };
                let retry = consumer.process(messages, concurrency).await;
                let done = ids.into_iter().filter(|id| !retry.contains(id)).collect();
                if let Err(e) = queue.ack(done).await {
                    tracing::warn!(error = %e, "could not acknowledge tasks; they will be delivered again and deduplicated");
                }
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the task queue");
                false
            }
        };
        if *stop.borrow() || (!busy && pause(&mut stop, POLL_EVERY).await) {
            return;
        }
    }
}

/// The pager queue's consumer: keeps up to `concurrency` pages in flight all the time, rather
/// than batch by batch, so that a pager slow for one team never holds up the next teams.
pub async fn pager_loop(
    queue: EmbeddedQueue,
    repo: SevRepo,
    integrations: Integrations,
    concurrency: usize,
    mut stop: watch::Receiver<bool>,
) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    loop {
        let free = slots.available_permits();
        let received = if free == 0 {
            Ok(Vec::new())
        } else {
            queue.receive(free).await
        };
        let busy = match received {
            Ok(messages) => {
                let busy = !messages.is_empty();
                for m in messages {
                    let Ok(permit) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let (queue, repo, integrations) = (queue.clone(), repo.clone(), integrations.clone());
                    tokio::spawn(async move {
                        let id = m.id.clone();
                        let consumer = Consumer {
                            handler: &integrations,
                            repo: &repo,
                            clock: &SystemClock,
                        };
                        let retry = consumer.process(vec![m], 1).await;
                        if retry.is_empty()
                            && let Err(e) = queue.ack(vec![id]).await
                        {
                            tracing::warn!(error = %e, "could not acknowledge a page task; it will be deduplicated");
                        }
                        drop(permit);
                    });
                }
                busy || free == 0
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the pager queue");
                false
            }
        };
        let pause_for = if busy { Duration::from_millis(20) } else { POLL_EVERY };
        if *stop.borrow() || pause(&mut stop, pause_for).await {
            // Let the pages in flight finish before the process exits.
            let _ = slots.acquire_many(concurrency.max(1) as u32).await;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        // November 2026: the 16th and the 23rd are Mondays.
        Utc.with_ymd_and_hms(2026, 11, day, hour, minute, 0).unwrap()
    }

    #[test]
    fn the_sweep_is_owed_once_per_utc_day() {
        let monday = at(16, 0, 5);
        assert!(owed(monday, None, None).sweep, "at start");
        assert!(!owed(at(16, 23, 59), Some(monday.date_naive()), None).sweep);
        assert!(
            owed(at(17, 0, 0), Some(monday.date_naive()), None).sweep,
            "the day turned"
        );
    }

    #[test]
    fn the_digest_of_last_week_is_owed_from_monday_eight_utc_once() {
        let last_week: IsoWeek = "2026-W47".parse().unwrap();
        assert_eq!(owed(at(23, 7, 59), None, None).digest, None, "not before eight");
        assert_eq!(owed(at(23, 8, 0), None, None).digest, Some(last_week));
        assert_eq!(
            owed(at(23, 15, 0), None, Some(last_week)).digest,
            None,
            "posted already"
        );
        assert_eq!(owed(at(24, 8, 0), None, None).digest, None, "Tuesday");
        assert_eq!(
            owed(at(30, 9, 0), None, Some(last_week)).digest,
            Some(last_week.next()),
            "the Monday after, the week after"
        );
    }
}
