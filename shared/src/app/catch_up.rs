//! What someone joining a SEV mid-way needs first, from stored facts only: how long it has been
//! open, its pages and who acknowledged them, who joined, the last few status updates and the
//! open SCAs. Slack sends it to whoever joins the response channel; the web SEV page shows it at
//! the top. Each renders it its own way; what goes in is decided here, once.

use chrono::{DateTime, Duration, Utc};

use super::SevDetail;
use crate::domain::{Actor, EntryKind, Page, PageState, Sca};

/// Status updates shown, newest last.
const LAST_UPDATES: usize = 5;

pub struct CatchUp<'a> {
    /// From declaration until it was resolved, or until now.
    pub open_for: Duration,
    pub resolved: bool,
    pub pages: &'a [Page],
    pub joined: &'a [String],
    /// The last [`LAST_UPDATES`] status updates: when, who, what.
    pub updates: Vec<(DateTime<Utc>, &'a Actor, &'a str)>,
    pub update_count: usize,
    pub open_scas: Vec<&'a Sca>,
}

impl<'a> CatchUp<'a> {
    pub fn of(detail: &'a SevDetail, now: DateTime<Utc>) -> CatchUp<'a> {
        let all: Vec<(DateTime<Utc>, &Actor, &str)> = detail
            .timeline
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Update { text } | EntryKind::PublicUpdate { text, .. } => {
                    Some((e.at, &e.author, text.as_str()))
                }
                _ => None,
            })
            .collect();
        let update_count = all.len();
        let end = detail.sev.resolved_at.unwrap_or(now);
        CatchUp {
            open_for: end - detail.sev.declared_at,
            resolved: detail.sev.resolved_at.is_some(),
            pages: &detail.pages,
            joined: &detail.muster.joined,
            updates: all
                .into_iter()
                .skip(update_count.saturating_sub(LAST_UPDATES))
                .collect(),
            update_count,
            open_scas: detail.scas.iter().filter(|s| s.is_open()).collect(),
        }
    }

    /// How long the SEV has been open: `open 2h 14m`, `resolved after 3d 4h`.
    pub fn age(&self) -> String {
        let minutes = self.open_for.num_minutes().max(0);
        let span = match (minutes / 1440, (minutes % 1440) / 60, minutes % 60) {
            (0, 0, m) => format!("{m}m"),
            (0, h, m) => format!("{h}h {m}m"),
            (d, h, _) => format!("{d}d {h}h"),
        };
        if self.resolved {
            format!("resolved after {span}")
        } else {
            format!("open {span}")
        }
    }
}

/// A page's state as people read it: `paged`, `acknowledged by Alice Ops`, `failed`.
pub fn page_state(page: &Page) -> String {
    match (&page.state, &page.acknowledged_by) {
        (PageState::Acknowledged, Some(by)) => format!("acknowledged by {by}"),
        (state, _) => format!("{state:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_two_units() {
        for (minutes, shown) in [
            (-5, "open 0m"),
            (0, "open 0m"),
            (59, "open 59m"),
            (60, "open 1h 0m"),
            (134, "open 2h 14m"),
            (1439, "open 23h 59m"),
            (1440, "open 1d 0h"),
            (4 * 1440 + 185, "open 4d 3h"),
        ] {
            let mut c = CatchUp {
                open_for: Duration::minutes(minutes),
                resolved: false,
                pages: &[],
                joined: &[],
                updates: Vec::new(),
                update_count: 0,
                open_scas: Vec::new(),
            };
            assert_eq!(c.age(), shown, "{minutes}");
            c.resolved = true;
            assert_eq!(c.age(), shown.replace("open", "resolved after"));
        }
    }
}
