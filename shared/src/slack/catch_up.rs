//! The catch-up for someone who joins a SEV's response channel mid-way (see `app::CatchUp`): an
//! ephemeral message, seen only by them, with the SEV's level, status, coordinator and report
//! owner and a link to its page. At most one per person per SEV per hour, and only for people
//! who may see the SEV, so a private SEV's facts never reach anyone else.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::handler::SlackIntegration;
use super::messages::{escape, person};
use crate::app::{CatchUp, SevDetail, page_state};
use crate::domain::SevId;
use crate::queue::TaskError;
use crate::store::keys;

/// Someone who leaves and rejoins within this long is not caught up twice.
const ONCE_PER: Duration = Duration::hours(1);
/// Open SCAs and people listed before "and N more".
const LISTED: usize = 10;

#[derive(Serialize, Deserialize)]
struct CaughtUp {
    at: DateTime<Utc>,
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
    let c = CatchUp::of(detail, now);
    let nobody = || "nobody yet".to_owned();
    let mut text = format!(
        ":wave: *Catching up on {}* · {} · {} · {}\n>{}\nCoordinator: {} · Report owner: {}",
        sev.id,
        sev.level,
        sev.status,
        c.age(),
        escape(&sev.title),
        sev.coordinator.as_ref().map_or_else(nobody, person),
        sev.report_owner.as_ref().map_or_else(nobody, person),
    );
    if let Some(comms) = &sev.comms_lead {
        text.push_str(&format!(" · Comms lead: {}", person(comms)));
    }
    if !sev.deputies.is_empty() {
        let deputies = sev.deputies.iter().map(person).collect();
        text.push_str(&format!(" · Deputies: {}", listed(deputies)));
    }
    let pages: Vec<String> = c
        .pages
        .iter()
        .map(|p| format!("{} ({})", escape(&p.team), escape(&page_state(p))))
        .collect();
    if !pages.is_empty() {
        text.push_str(&format!("\n*Paged:* {}", listed(pages)));
    }
    if !c.joined.is_empty() {
        let joined = c.joined.iter().map(|j| escape(j)).collect();
        text.push_str(&format!("\n*Joined:* {}", listed(joined)));
    }
    if c.updates.is_empty() {
        text.push_str("\n*No status updates yet.*");
    } else {
        text.push_str(&format!("\n*Last {} of {} updates:*", c.updates.len(), c.update_count));
        for (at, author, update) in &c.updates {
            text.push_str(&format!(
                "\n• {} {}: {}",
                at.format("%H:%M UTC"),
                person(author),
                escape(update)
            ));
        }
    }
    let open: Vec<String> = c
        .open_scas
        .iter()
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
