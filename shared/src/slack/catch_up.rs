//! The catch-up for someone who joins a SEV's response channel mid-way: an ephemeral message,
//! seen only by them, built from stored facts (level, status, how long it has been open, who
//! coordinates and owns the report, who was paged and who joined, the last five updates, the
//! open SCAs, the SEV page). At most one per person per SEV per hour, and only for people who
//! may see the SEV, so a private SEV's facts never reach anyone else.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::handler::SlackIntegration;
use super::messages::{escape, person};
use crate::app::SevDetail;
use crate::domain::{EntryKind, PageState, SevId};
use crate::queue::TaskError;
use crate::store::keys;

/// Someone who leaves and rejoins within this long is not caught up twice.
const ONCE_PER: Duration = Duration::hours(1);
const LAST_UPDATES: usize = 5;
/// Open SCAs and people listed before "and N more".
const LISTED: usize = 10;

#[derive(Serialize, Deserialize)]
struct CaughtUp {
    at: DateTime<Utc>,
}

/// `2h 14m`, `3d 4h`, `12m`.
fn age(d: Duration) -> String {
    let minutes = d.num_minutes().max(0);
    match (minutes / 1440, (minutes % 1440) / 60, minutes % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

fn listed(items: Vec<String>) -> String {
    let more = items.len().saturating_sub(LISTED);
    let shown: Vec<String> = items.into_iter().take(LISTED).collect();
    match more {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The catch-up text.
pub(super) fn catch_up(detail: &SevDetail, now: DateTime<Utc>, web_url: Option<&str>) -> String {
    let sev = &detail.sev;
    let nobody = || "nobody yet".to_owned();
    let mut text = format!(
        ":wave: *Catching up on {}* · {} · {} · open {}\n>{}\nCoordinator: {} · Report owner: {}",
        sev.id,
        sev.level,
        sev.status,
        age(now - sev.declared_at),
        escape(&sev.title),
        sev.coordinator.as_ref().map_or_else(nobody, person),
        sev.report_owner.as_ref().map_or_else(nobody, person),
    );
    let pages: Vec<String> = detail
        .pages
        .iter()
        .map(|p| {
            let state = match (&p.state, &p.acknowledged_by) {
                (PageState::Acknowledged, Some(by)) => format!("acknowledged by {}", escape(by)),
                (state, _) => format!("{state:?}").to_lowercase(),
            };
            format!("{} ({state})", escape(&p.team))
        })
        .collect();
    if !pages.is_empty() {
        text.push_str(&format!("\n*Paged:* {}", listed(pages)));
    }
    if !detail.muster.joined.is_empty() {
        let joined = detail.muster.joined.iter().map(|j| escape(j)).collect();
        text.push_str(&format!("\n*Joined:* {}", listed(joined)));
    }
    let updates: Vec<String> = detail
        .timeline
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Update { text } => Some(format!(
                "• {} {}: {}",
                e.at.format("%H:%M UTC"),
                person(&e.author),
                escape(text)
            )),
            _ => None,
        })
        .collect();
    let skip = updates.len().saturating_sub(LAST_UPDATES);
    match updates.len() {
        0 => text.push_str("\n*No status updates yet.*"),
        n => {
            text.push_str(&format!("\n*Last {} of {n} updates:*\n", n - skip));
            text.push_str(&updates[skip..].join("\n"));
        }
    }
    let open: Vec<String> = detail
        .scas
        .iter()
        .filter(|s| s.is_open())
        .map(|s| format!("{} ({}, {})", escape(&s.text), s.priority, person(&s.owner)))
        .collect();
    if !open.is_empty() {
        text.push_str(&format!("\n*Open SCAs ({}):* {}", open.len(), listed(open)));
    }
    if let Some(url) = web_url {
        text.push_str(&format!("\n<{url}/sevs/{}|Open the SEV page>", sev.id));
    }
    text
}

impl SlackIntegration {
    /// Someone joined a SEV's response channel: catch them up, unless they were caught up on
    /// this SEV in the last hour or may not see it.
    pub(super) async fn catch_up_joiner(&self, id: SevId, channel: &str, user: &str) -> Result<(), TaskError> {
        if !self.may_act(user, id).await? {
            return Ok(());
        }
        let key = keys::catch_up(id, user);
        let now = self.sevs.now();
        let last: Option<CaughtUp> = self.repo.record(&key).await.map_err(TaskError::from)?;
        if last.is_some_and(|l| now - l.at < ONCE_PER) {
            return Ok(());
        }
        let detail = self
            .sevs
            .get(id)
            .await
            .map_err(|e| TaskError::Retryable(e.to_string()))?;
        let text = catch_up(&detail, now, self.settings.web_url.as_deref());
        self.client.post_ephemeral(channel, user, &text).await?;
        // Recorded after sending: a crash in between sends a second catch-up, never none.
        self.repo
            .put_record(key, &CaughtUp { at: now })
            .await
            .map_err(TaskError::from)?;
        tracing::info!(sev = %id, "caught up someone who joined");
        Ok(())
    }
}

/// What a `member_joined_channel` event names: the channel and the person.
pub(super) fn joined(event: &Value) -> Option<(&str, &str)> {
    Some((event["channel"].as_str()?, event["user"].as_str()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_two_units() {
        for (minutes, shown) in [
            (-5, "0m"),
            (0, "0m"),
            (59, "59m"),
            (60, "1h 0m"),
            (134, "2h 14m"),
            (1439, "23h 59m"),
            (1440, "1d 0h"),
            (4 * 1440 + 185, "4d 3h"),
        ] {
            assert_eq!(age(Duration::minutes(minutes)), shown, "{minutes}");
        }
    }
}
