//! People's time zones from their Slack profiles (`users.info`, `tz_offset`), so nags keep to
//! each owner's own quiet hours. Cached in the store for a week: planning an SCA's nags then
//! costs no Slack call, and a Slack outage falls back to what was last known.

use async_trait::async_trait;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::SlackClient;
use crate::app::TimeZones;
use crate::clock::Clock;
use crate::domain::Actor;
use crate::store::SevRepo;
use crate::store::keys;

/// People move, and daylight saving moves offsets: a week-old zone is asked for again.
const FRESH_FOR: Duration = Duration::days(7);

#[derive(Serialize, Deserialize)]
struct Cached {
    /// Seconds east of UTC.
    offset: i32,
    fetched_at: DateTime<Utc>,
}

pub struct SlackTimeZones {
    client: SlackClient,
    repo: SevRepo,
    clock: std::sync::Arc<dyn Clock>,
}

impl SlackTimeZones {
    pub fn new(client: SlackClient, repo: SevRepo, clock: std::sync::Arc<dyn Clock>) -> Self {
        SlackTimeZones { client, repo, clock }
    }
}

#[async_trait]
impl TimeZones for SlackTimeZones {
    async fn offset_of(&self, person: &Actor) -> Option<FixedOffset> {
        let person = person.slack_user()?;
        let key = keys::time_zone(person);
        let cached = self.repo.record::<Cached>(&key).await.ok().flatten();
        let now = self.clock.now();
        let offset = match cached {
            Some(c) if now - c.fetched_at < FRESH_FOR => Some(c.offset),
            stale => match self.client.user_tz_offset(person).await {
                Ok(Some(offset)) => {
                    let fresh = Cached {
                        offset,
                        fetched_at: now,
                    };
                    if let Err(e) = self.repo.put_record(key, &fresh).await {
                        tracing::warn!(error = %e, "could not cache a time zone");
                    }
                    Some(offset)
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "Slack did not say where the owner is; using what is known");
                    stale.map(|c| c.offset)
                }
            },
        };
        offset.and_then(FixedOffset::east_opt)
    }
}
