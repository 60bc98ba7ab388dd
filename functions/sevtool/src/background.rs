//! The loops that stand in for AWS locally: the outbox relay (a scheduled sweep on AWS) and the
//! task consumer (the SQS event source mapping on AWS). Both stop when `stop` turns true.

use std::time::Duration;

use sev::app::Integrations;
use sev::queue::{EmbeddedQueue, Relay, process_batch};
use sev::schedule::EmbeddedScheduler;
use sev::store::SevRepo;
use tokio::sync::watch;

/// The relay also runs right after every change; this only catches what a crash left behind.
const RELAY_EVERY: Duration = Duration::from_secs(2);
/// Nags are due to the minute at best; a second's delay is invisible.
const SCHEDULE_EVERY: Duration = Duration::from_secs(1);
const POLL_EVERY: Duration = Duration::from_millis(200);
const BATCH: usize = 10;

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

pub async fn consume_loop(
    queue: EmbeddedQueue,
    repo: SevRepo,
    integrations: Integrations,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let busy = match queue.receive(BATCH).await {
            Ok(messages) if messages.is_empty() => false,
            Ok(messages) => {
                let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
                let retry = process_batch(&integrations, &repo, messages).await;
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
