//! The single-table design: every access pattern the product needs, as keys in one table.
//!
//! | what                       | pk                        | sk                    | gsi1 (pk / sk)              | gsi2 (pk / sk)                     |
//! |----------------------------|---------------------------|-----------------------|-----------------------------|------------------------------------|
//! | SEV by number              | `SEV#<n>`                 | `SEV`                 | `ACTIVE` / `<declared>#<n>` while open or mitigated | `MONTH#<yyyy-mm>` / `<started>#<n>` |
//! | timeline of a SEV          | `SEV#<n>`                 | `TL#<entry id>`       |                             |                                    |
//! | SEV number counter         | `COUNTER`                 | `SEV`                 |                             |                                    |
//! | idempotency key (TTL 24 h) | `IDEM#<scope>#<key>`      | `IDEM`                |                             |                                    |
//! | task outbox                | `OUTBOX`                  | `<created>#<task key>`|                             |                                    |
//! | task handled/claimed (TTL) | `TASK#<task key>`         | `TASK`                |                             |                                    |
//! | task failed for good       | `SEV#<n>`                 | `FAILED#<task key>`   |                             |                                    |
//! | step a task completed (TTL)| `STEP#<task key>`         | `<step name>`         |                             |                                    |
//! | Slack state of a SEV       | `SEV#<n>`                 | `SLACK`               |                             |                                    |
//! | status page incident of a SEV | `SEV#<n>`              | `STATUSPAGE`          |                             |                                    |
//! | page of a SEV to a team    | `SEV#<n>`                 | `PAGE#<team>`         |                             |                                    |
//! | Slack channel -> SEV       | `CHANNEL#<channel id>`    | `CHANNEL`             |                             |                                    |
//! | Slack reaction that acted  | `REACTION#<ch>#<ts>#<emoji>#<user>` | `REACTION`  |                             |                                    |
//! | alert group -> open SEV    | `ALERTGROUP#<source>#<k>` | `ALERTGROUP`          |                             |                                    |
//! | alert origin of a SEV      | `SEV#<n>`                 | `ALERT`               |                             |                                    |
//! | SCA of a SEV               | `SEV#<n>`                 | `SCA#<id>`            | `OWNER#<owner>` / `<due>#<id>` while open | `SCADUE` / `<due>#<id>` while open with a due date |
//! | report of a SEV          | `SEV#<n>`                 | `REPORT`              |                             | `REPORTDONE` / `<completed>#<n>` once complete |
//! | a person's time zone (cache) | `TZ#<slack user>`     | `TZ`                  |                             |                                    |
//! | SCA id -> its SEV          | `SCA#<id>`                | `SCA`                 |                             |                                    |
//! | imported row -> its SEV   | `IMPORT#<key>`            | `IMPORT`              |                             |                                    |
//! | SCA number counter         | `COUNTER`                 | `SCA`                 |                             |                                    |
//! | SCA linked to a Jira issue, while open | `JIRALINK`    | `SCA#<id>`            |                             |                                    |
//! | month tally (reports)      | `TALLY`                   | `<yyyy-mm>`           |                             |                                    |
//! | tallies rebuilt from SEVs  | `TALLY`                   | `BUILT`               |                             |                                    |
//!
//! An alert group's `<k>` is `alerts::group_id`, a hash of the source's group key, so any key fits.
//!
//! Open SEVs come from the sparse `ACTIVE` index, trend reports from the month tallies (one item
//! per month), the SEVs of a week or an export from the month index, so no access pattern scans
//! the table. Times in sort keys are fixed-width UTC so they sort as text.

use chrono::{DateTime, Datelike, Utc};

use super::Key;
use crate::domain::{EntryId, ScaId, SevId};
use crate::reports::Month;

pub const SEV_SK: &str = "SEV";
pub const TIMELINE_PREFIX: &str = "TL#";
pub const FAILED_PREFIX: &str = "FAILED#";
pub const ACTIVE: &str = "ACTIVE";
pub const OUTBOX: &str = "OUTBOX";
pub const PAGE_PREFIX: &str = "PAGE#";

pub fn sortable_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// SEV numbers padded so that two SEVs declared in the same microsecond still sort by number.
fn padded(id: SevId) -> String {
    format!("{:012}", id.0)
}

pub fn sev_pk(id: SevId) -> String {
    format!("SEV#{}", id.0)
}

pub fn sev(id: SevId) -> Key {
    Key::new(sev_pk(id), SEV_SK)
}

pub fn active(declared_at: DateTime<Utc>, id: SevId) -> Key {
    Key::new(ACTIVE, format!("{}#{}", sortable_time(declared_at), padded(id)))
}

pub fn month_pk(year: i32, month: u32) -> String {
    format!("MONTH#{year:04}-{month:02}")
}

pub fn by_month(started_at: DateTime<Utc>, id: SevId) -> Key {
    Key::new(
        month_pk(started_at.year(), started_at.month()),
        format!("{}#{}", sortable_time(started_at), padded(id)),
    )
}

pub fn entry(id: SevId, entry: &EntryId) -> Key {
    Key::new(sev_pk(id), format!("{TIMELINE_PREFIX}{entry}"))
}

pub const TALLY: &str = "TALLY";

/// Months sort as text (`0001-01` < `2026-07`), and `BUILT` after every one of them.
pub fn tally(month: Month) -> Key {
    Key::new(TALLY, month.to_string())
}

pub fn tallies_built() -> Key {
    Key::new(TALLY, "BUILT")
}

pub fn counter() -> Key {
    Key::new("COUNTER", SEV_SK)
}

pub const SCA_PREFIX: &str = "SCA#";
pub const SCA_DUE: &str = "SCADUE";
/// Sorts after every date, so SCAs without a due date come last in an owner's list.
const NO_DUE: &str = "~";

pub fn sca_counter() -> Key {
    Key::new("COUNTER", "SCA")
}

pub fn sca(sev: SevId, id: ScaId) -> Key {
    Key::new(sev_pk(sev), format!("{SCA_PREFIX}{:012}", id.0))
}

pub fn sca_pointer(id: ScaId) -> Key {
    Key::new(format!("{SCA_PREFIX}{}", id.0), "SCA")
}

pub fn owner_pk(owner: &str) -> String {
    format!("OWNER#{owner}")
}

pub fn sca_by_owner(owner: &str, due: Option<DateTime<Utc>>, id: ScaId) -> Key {
    let due = due.map_or_else(|| NO_DUE.to_owned(), sortable_time);
    Key::new(owner_pk(owner), format!("{due}#{:012}", id.0))
}

pub fn sca_by_due(due: DateTime<Utc>, id: ScaId) -> Key {
    Key::new(SCA_DUE, format!("{}#{:012}", sortable_time(due), id.0))
}

pub fn time_zone(user: &str) -> Key {
    Key::new(format!("TZ#{user}"), "TZ")
}

pub const REPORT_DONE: &str = "REPORTDONE";

pub fn report(id: SevId) -> Key {
    Key::new(sev_pk(id), "REPORT")
}

pub fn report_by_completion(completed_at: DateTime<Utc>, id: SevId) -> Key {
    Key::new(REPORT_DONE, format!("{}#{}", sortable_time(completed_at), padded(id)))
}

/// The open SCAs whose ticket is a Jira issue, in one partition: the daily sweep reads them all
/// with one query, whether they have a due date or not.
pub const JIRA_LINKS: &str = "JIRALINK";

pub fn jira_link(id: ScaId) -> Key {
    Key::new(JIRA_LINKS, format!("{SCA_PREFIX}{:012}", id.0))
}

/// An imported row, by its import key: kept for good so re-running an import stores nothing twice.
pub fn import(key: &str) -> Key {
    Key::new(format!("IMPORT#{key}"), "IMPORT")
}

pub fn idempotency(scope: &str, key: &str) -> Key {
    Key::new(format!("IDEM#{scope}#{key}"), "IDEM")
}

pub fn outbox(created_at: DateTime<Utc>, task_key: &str) -> Key {
    Key::new(OUTBOX, format!("{}#{task_key}", sortable_time(created_at)))
}

pub fn task(task_key: &str) -> Key {
    Key::new(format!("TASK#{task_key}"), "TASK")
}

pub fn alert_group(source: &str, group_id: &str) -> Key {
    Key::new(format!("ALERTGROUP#{source}#{group_id}"), "ALERTGROUP")
}

pub fn alert_origin(id: SevId) -> Key {
    Key::new(sev_pk(id), "ALERT")
}

/// Failed tasks sit on their SEV so its page shows them; tasks of no SEV sit together.
pub fn failed_task(id: Option<SevId>, task_key: &str) -> Key {
    let pk = id.map_or_else(|| "FAILED".to_owned(), sev_pk);
    Key::new(pk, format!("{FAILED_PREFIX}{task_key}"))
}

pub fn step(task_key: &str, step: &str) -> Key {
    Key::new(format!("STEP#{task_key}"), step)
}

/// Pages sit on their SEV's partition: one query reads them all for its page.
pub fn page(id: SevId, team: &str) -> Key {
    Key::new(sev_pk(id), format!("{PAGE_PREFIX}{team}"))
}

pub fn slack_sev(id: SevId) -> Key {
    Key::new(sev_pk(id), "SLACK")
}

pub fn status_page(id: SevId) -> Key {
    Key::new(sev_pk(id), "STATUSPAGE")
}

pub fn reaction(key: &str) -> Key {
    Key::new(format!("REACTION#{key}"), "REACTION")
}

/// When `user` was last caught up on SEV `id` (see `slack/catch_up.rs`).
pub fn catch_up(id: SevId, user: &str) -> Key {
    Key::new(format!("CATCHUP#{}#{user}", id.0), "CATCHUP")
}

pub fn channel(channel_id: &str) -> Key {
    Key::new(format!("CHANNEL#{channel_id}"), "CHANNEL")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_keys_sort_as_text_in_time_order() {
        let a = Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap();
        let b = a + chrono::Duration::microseconds(1);
        let c = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
        assert!(sortable_time(a) < sortable_time(b) && sortable_time(b) < sortable_time(c));
    }

    #[test]
    fn same_instant_sorts_by_number() {
        let t = Utc::now();
        assert!(active(t, SevId(9)).sk < active(t, SevId(10)).sk);
        assert_eq!(
            by_month(Utc.with_ymd_and_hms(2026, 7, 4, 0, 0, 0).unwrap(), SevId(1)).pk,
            "MONTH#2026-07"
        );
    }
}
