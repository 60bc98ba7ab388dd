//! The stored SEV report: drafted from the template when someone owns it, edited by people in
//! Markdown, and marked complete for the weekly review. Pure.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use serde::{Deserialize, Serialize};

use super::{Actor, DomainError, Sev, SevId};

/// Well under DynamoDB's 400 KB item limit, and far more than any report needs.
pub const MAX_REPORT_BYTES: usize = 200_000;

/// What the template puts where people must write; a report is not complete while one is left.
pub const TO_BE_WRITTEN: &str = "> **TO BE WRITTEN**";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReportState {
    Draft,
    /// Ready for the weekly review.
    Complete {
        completed_at: DateTime<Utc>,
        completed_by: Actor,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub sev: SevId,
    pub markdown: String,
    /// Who owned the SEV's report when it was drafted; the SEV's `report_owner` is the current one.
    pub owner: Actor,
    #[serde(flatten)]
    pub state: ReportState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Actor,
}

fn checked(markdown: &str) -> Result<String, DomainError> {
    if markdown.trim().is_empty() {
        return Err(DomainError::invalid(
            "markdown",
            "is empty; a report needs text (start from the template)",
        ));
    }
    if markdown.len() > MAX_REPORT_BYTES {
        return Err(DomainError::invalid(
            "markdown",
            format!(
                "is {} bytes, more than the {MAX_REPORT_BYTES} a report may hold; link long logs instead",
                markdown.len()
            ),
        ));
    }
    // Browsers send CRLF from a textarea; one line ending keeps diffs and Slack posts clean.
    Ok(markdown.replace("\r\n", "\n"))
}

/// The headings of the sections that still carry the template's marker, in order.
pub fn unwritten_sections(markdown: &str) -> Vec<String> {
    let mut heading = String::from("(top)");
    let mut out: Vec<String> = Vec::new();
    for line in markdown.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            heading = h.trim().to_owned();
        } else if line.trim_start().starts_with(TO_BE_WRITTEN) && out.last() != Some(&heading) {
            out.push(heading.clone());
        }
    }
    out
}

impl Report {
    pub fn draft(
        sev: SevId,
        markdown: &str,
        owner: Actor,
        by: Actor,
        now: DateTime<Utc>,
    ) -> Result<Report, DomainError> {
        Ok(Report {
            sev,
            markdown: checked(markdown)?,
            owner,
            state: ReportState::Draft,
            created_at: now,
            updated_at: now,
            updated_by: by,
        })
    }

    pub fn is_complete(&self) -> bool {
        matches!(self.state, ReportState::Complete { .. })
    }

    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        match &self.state {
            ReportState::Complete { completed_at, .. } => Some(*completed_at),
            ReportState::Draft => None,
        }
    }

    /// Replaces the text. Returns whether it changed. A complete report stays complete: reviewers
    /// fix typos without sending it round again.
    pub fn edit(&mut self, markdown: &str, by: Actor, now: DateTime<Utc>) -> Result<bool, DomainError> {
        let markdown = checked(markdown)?;
        if markdown == self.markdown {
            return Ok(false);
        }
        self.markdown = markdown;
        self.updated_at = now;
        self.updated_by = by;
        Ok(true)
    }

    /// Marks it ready for review, once every section is written. Returns false when it already was.
    pub fn complete(&mut self, by: Actor, now: DateTime<Utc>) -> Result<bool, DomainError> {
        if self.is_complete() {
            return Ok(false);
        }
        let unwritten = unwritten_sections(&self.markdown);
        if !unwritten.is_empty() {
            return Err(DomainError::invalid(
                "report",
                format!(
                    "{} still marked TO BE WRITTEN ({}); write them, or remove the marker where there is nothing to say",
                    match unwritten.len() {
                        1 => "one section is".to_owned(),
                        n => format!("{n} sections are"),
                    },
                    unwritten.join(", ")
                ),
            ));
        }
        self.state = ReportState::Complete {
            completed_at: now,
            completed_by: by,
        };
        Ok(true)
    }
}

/// A reminder about a SEV's report. Each repeats until what it asks for is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportNagStep {
    /// Mitigated (or resolved) a while ago and nobody owns the report: the response channel and
    /// the coordinator, daily.
    Owner,
    /// Past due and not complete: the report owner and the response channel, weekly.
    Overdue,
}

impl ReportNagStep {
    pub const ALL: [ReportNagStep; 2] = [ReportNagStep::Owner, ReportNagStep::Overdue];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportNagStep::Owner => "owner",
            ReportNagStep::Overdue => "overdue",
        }
    }

    fn every(self) -> Duration {
        match self {
            ReportNagStep::Owner => Duration::days(1),
            ReportNagStep::Overdue => Duration::days(7),
        }
    }
}

/// `first`, or the first repeat of it every `every` after `now`; `None` past chrono's range
/// (stored times are not bounded the way input is).
fn next_after(first: DateTime<Utc>, every: Duration, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if first > now {
        return Some(first);
    }
    let periods = (now - first).num_seconds() / every.num_seconds().max(1) + 1;
    first.checked_add_signed(every.checked_mul(i32::try_from(periods).ok()?)?)
}

/// The process timeline for reports (see the README's "Corrective actions and nags").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPolicy {
    /// A mitigated SEV should have a report owner within this long.
    pub owner_within: Duration,
    /// The report is due this many business days (Monday to Friday) after resolution.
    pub due_business_days: u32,
}

impl Default for ReportPolicy {
    fn default() -> Self {
        ReportPolicy {
            owner_within: Duration::hours(24),
            due_business_days: 5,
        }
    }
}

impl ReportPolicy {
    /// When the report of a SEV resolved at `resolved` is due: the same time of day, the given
    /// number of weekdays later (a Saturday resolution counts from Monday).
    pub fn due(&self, resolved: DateTime<Utc>) -> DateTime<Utc> {
        let mut at = resolved;
        let mut left = self.due_business_days;
        while left > 0 {
            let Some(next) = at.checked_add_signed(Duration::days(1)) else {
                return at;
            };
            at = next;
            if !matches!(at.weekday(), Weekday::Sat | Weekday::Sun) {
                left -= 1;
            }
        }
        at
    }

    /// The report nags still owed for `sev` after `now` (before quiet hours are applied).
    /// Drills and open SEVs owe none; a complete report owes none.
    pub fn nags(&self, sev: &Sev, report_complete: bool, now: DateTime<Utc>) -> Vec<(ReportNagStep, DateTime<Utc>)> {
        if sev.drill || (sev.status.is_active() && sev.mitigated_at.is_none()) || report_complete {
            return Vec::new();
        }
        let mut out = Vec::new();
        if sev.report_owner.is_none()
            && let Some(over) = sev.mitigated_at.or(sev.resolved_at)
        {
            let step = ReportNagStep::Owner;
            let first = over.checked_add_signed(self.owner_within);
            out.extend(
                first
                    .and_then(|f| next_after(f, step.every(), now))
                    .map(|at| (step, at)),
            );
        }
        if let Some(resolved) = sev.resolved_at.filter(|_| !sev.status.is_active()) {
            let step = ReportNagStep::Overdue;
            out.extend(next_after(self.due(resolved), step.every(), now).map(|at| (step, at)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        // November 2026: the 20th is a Friday.
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    fn report(markdown: &str) -> Report {
        Report::draft(SevId(1), markdown, "U1".into(), "U1".into(), at(2, 9)).unwrap()
    }

    #[test]
    fn a_report_cannot_be_empty_or_huge_and_keeps_one_line_ending() {
        assert!(Report::draft(SevId(1), " \n", "U1".into(), "U1".into(), at(2, 9)).is_err());
        let huge = "x".repeat(MAX_REPORT_BYTES + 1);
        let err = report("ok").edit(&huge, "U2".into(), at(3, 9)).unwrap_err();
        assert!(err.to_string().contains("200000"), "{err}");
        assert_eq!(report("a\r\nb").markdown, "a\nb");
    }

    #[test]
    fn editing_records_who_and_when_only_when_the_text_changes() {
        let mut r = report("# one");
        assert!(!r.edit("# one", "U2".into(), at(3, 9)).unwrap());
        assert_eq!(r.updated_by, "U1");
        assert!(r.edit("# two", "U2".into(), at(3, 9)).unwrap());
        assert_eq!((r.updated_by.as_str(), r.updated_at), ("U2", at(3, 9)));
    }

    #[test]
    fn completion_waits_for_every_section_and_happens_once() {
        let text = "# SEV-1\n## Summary\n> **TO BE WRITTEN** by the owner\n> more\n## Impact\n> **TO BE WRITTEN**: who\n\
                    ## Timeline\n- x\n---\n**TO BE WRITTEN** are for people.";
        let mut r = report(text);
        let err = r.complete("U2".into(), at(4, 9)).unwrap_err().to_string();
        assert!(
            err.contains("2 sections are still marked TO BE WRITTEN (Summary, Impact)"),
            "{err}"
        );
        assert!(!r.is_complete());
        r.edit(
            &text
                .replace("> **TO BE WRITTEN** by the owner", "Disk full.")
                .replace("> **TO BE WRITTEN**: who", "All."),
            "U1".into(),
            at(4, 8),
        )
        .unwrap();
        assert!(r.complete("U2".into(), at(4, 9)).unwrap());
        assert_eq!(r.completed_at(), Some(at(4, 9)));
        assert!(!r.complete("U3".into(), at(5, 9)).unwrap());
        assert_eq!(r.completed_at(), Some(at(4, 9)));
    }

    #[test]
    fn reports_are_due_in_business_days() {
        let p = ReportPolicy::default();
        // Monday + 5 weekdays = next Monday; Friday + 5 = next Friday; Saturday + 5 = next Friday.
        assert_eq!(p.due(at(16, 10)), at(23, 10));
        assert_eq!(p.due(at(20, 10)), at(27, 10));
        assert_eq!(p.due(at(21, 10)), at(27, 10));
        let one = ReportPolicy {
            due_business_days: 1,
            ..p
        };
        assert_eq!(one.due(at(20, 10)), at(23, 10));
    }

    #[test]
    fn report_nags_ask_for_an_owner_daily_then_for_the_report_weekly() {
        let p = ReportPolicy::default();
        let mut sev = crate::reports::testing::sev(1, "2026-11-16T09:00:00Z", 1, None, crate::domain::Level::Sev1);
        assert!(
            p.nags(&sev, false, at(16, 10)).is_empty(),
            "an open SEV owes nothing yet"
        );
        sev.status = crate::domain::Status::Mitigated;
        sev.mitigated_at = Some(at(16, 10));
        assert_eq!(p.nags(&sev, false, at(16, 11)), [(ReportNagStep::Owner, at(17, 10))]);
        assert_eq!(
            p.nags(&sev, false, at(17, 11)),
            [(ReportNagStep::Owner, at(18, 10))],
            "daily"
        );
        sev.status = crate::domain::Status::Resolved;
        sev.resolved_at = Some(at(17, 12));
        sev.report_owner = Some("U9".into());
        // Resolved Tuesday 17th 12:00: due Tuesday 24th 12:00, then weekly.
        assert_eq!(p.nags(&sev, false, at(18, 9)), [(ReportNagStep::Overdue, at(24, 12))]);
        assert_eq!(
            p.nags(&sev, false, at(24, 13)),
            [(
                ReportNagStep::Overdue,
                Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
            )]
        );
        assert!(
            p.nags(&sev, true, at(18, 9)).is_empty(),
            "a complete report owes nothing"
        );
        sev.drill = true;
        assert!(p.nags(&sev, false, at(18, 9)).is_empty(), "drills owe no report");
    }
}
