//! The SEV report and the weekly digest as Slack messages. The report goes in a `markdown`
//! block, which Slack renders from standard Markdown (headings, tables, lists) as written.

use serde_json::{Value, json};

use super::messages::{escape, person};
use crate::domain::{Level, Report, ReportNagStep, Sev};
use crate::reports::Weekly;

/// Slack refuses a `markdown` block over 12,000 characters; the rest of the message needs room.
const MAX_BLOCK_CHARS: usize = 11_000;

/// Why the report is posted: drafted (to its SEV's channel) or complete (for review).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportPost {
    Drafted,
    Complete,
}

fn report_link(web_url: Option<&str>, sev: &Sev) -> Option<String> {
    web_url.map(|u| format!("{u}/sevs/{}/report", sev.id))
}

/// The fallback text (notifications, screen readers) and the blocks with the report itself.
pub fn report_message(sev: &Sev, report: &Report, web_url: Option<&str>, why: ReportPost) -> (String, Value) {
    let link = report_link(web_url, sev);
    let text = match why {
        ReportPost::Drafted => format!(
            ":memo: The report of *{}* is drafted for {}: write the sections marked TO BE WRITTEN{}",
            sev.id,
            person(&report.owner),
            link.as_deref()
                .map_or_else(String::new, |l| format!(" at <{l}|the report page>"))
        ),
        ReportPost::Complete => format!(
            ":white_check_mark: The report of *{}* ({}, {}) is complete and ready for review{}",
            sev.id,
            sev.level,
            escape(&sev.title),
            link.as_deref().map_or_else(String::new, |l| format!(": <{l}|open it>"))
        ),
    };
    let mut body: String = report.markdown.chars().take(MAX_BLOCK_CHARS).collect();
    if body.len() < report.markdown.len() {
        body.push_str("\n\n… (cut short for Slack");
        if let Some(l) = &link {
            body.push_str(&format!("; the whole report is at {l}"));
        }
        body.push(')');
    }
    let blocks = json!([
        { "type": "section", "text": { "type": "mrkdwn", "text": text } },
        { "type": "markdown", "text": body },
    ]);
    (text, blocks)
}

/// The weekly review digest: the week's SEVs by level, reports ready for review, what is overdue.
pub fn digest_message(d: &Weekly, web_url: Option<&str>) -> String {
    let sev_link = |id: &crate::domain::SevId| match web_url {
        Some(u) => format!("<{u}/sevs/{id}|{id}>"),
        None => id.to_string(),
    };
    let mut out = vec![format!(":bar_chart: *SEV review for {}*", d.week)];
    let total: usize = d.by_level.values().map(Vec::len).sum();
    out.push(format!(
        "{total} SEV{} this week{}",
        if total == 1 { "" } else { "s" },
        if d.drills.is_empty() {
            String::new()
        } else {
            format!(
                " (and {} drill{})",
                d.drills.len(),
                if d.drills.len() == 1 { "" } else { "s" }
            )
        }
    ));
    for level in Level::ALL {
        for s in d.by_level.get(&level).into_iter().flatten() {
            out.push(format!(
                "• {} {} · {} · {}",
                level,
                sev_link(&s.id),
                s.status,
                escape(&s.title)
            ));
        }
    }
    let section = |out: &mut Vec<String>, title: &str, lines: Vec<String>| {
        out.push(format!("*{title}*"));
        if lines.is_empty() {
            out.push("• none".to_owned());
        }
        out.extend(lines);
    };
    section(
        &mut out,
        "Reports ready for review",
        d.reports_completed
            .iter()
            .map(|r| format!("• {} · {} · {}", sev_link(&r.sev), escape(&r.title), person(&r.owner)))
            .collect(),
    );
    section(
        &mut out,
        "Reports overdue",
        d.reports_overdue
            .iter()
            .map(|r| {
                let owner = r.owner.as_ref().map_or_else(|| "no owner".to_owned(), person);
                format!("• {} · due {} · {owner}", sev_link(&r.sev), r.due.format("%Y-%m-%d"))
            })
            .collect(),
    );
    section(
        &mut out,
        "SCAs overdue",
        d.overdue_scas
            .iter()
            .map(|s| {
                let due = s
                    .due
                    .map_or_else(String::new, |t| format!(" · due {}", t.format("%Y-%m-%d")));
                format!(
                    "• {} ({}) · {}{due} · {}",
                    s.id,
                    sev_link(&s.sev),
                    escape(&s.text),
                    person(&s.owner)
                )
            })
            .collect(),
    );
    if let Some(u) = web_url {
        out.push(format!("<{u}/weekly?week={}|The digest on the web>", d.week));
    }
    out.join("\n")
}

/// A reminder that a SEV's report has no owner, or is overdue.
pub fn report_nag(sev: &Sev, step: ReportNagStep, due: chrono::DateTime<chrono::Utc>, web_url: Option<&str>) -> String {
    let link = report_link(web_url, sev).map_or_else(String::new, |l| format!(" (<{l}|the report>)"));
    match step {
        ReportNagStep::Owner => format!(
            ":memo: *{}* ({}) is {} and nobody owns its report yet. React with the report-owner emoji on \
             a message of the person who should write it, or run `/sev owner @someone`{link}.",
            sev.id,
            escape(&sev.title),
            sev.status
        ),
        ReportNagStep::Overdue => format!(
            ":hourglass: The report of *{}* ({}) was due on {} and is not complete{link}. Write the sections \
             marked TO BE WRITTEN, then mark it complete.",
            sev.id,
            escape(&sev.title),
            due.format("%Y-%m-%d")
        ),
    }
}
