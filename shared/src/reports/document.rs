//! The SEV report: the standard template filled in with what the SEV's record knows. Sections only
//! people can write stay in the template, marked **TO BE WRITTEN**.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::template::Template;
use crate::domain::{Actor, Entry, EntryKind, Sca, ScaState, Sev};

const NOT_SET: &str = "_not set_";
const NOT_YET: &str = "_not yet_";

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn maybe_when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| NOT_YET.to_owned(), when)
}

/// `45 min`, `3 h 05 min`, `2 d 4 h`: what people read in a review.
pub fn human(d: Duration) -> String {
    let mins = d.num_minutes().max(0);
    match mins {
        m if m < 60 => format!("{m} min"),
        m if m < 24 * 60 => format!("{} h {:02} min", m / 60, m % 60),
        m => format!("{} d {} h", m / (24 * 60), (m / 60) % 24),
    }
}

fn maybe_human(d: Option<Duration>) -> String {
    d.map_or_else(|| NOT_YET.to_owned(), human)
}

/// Text from people inside a Markdown table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn timeline(entries: &[Entry]) -> String {
    if entries.is_empty() {
        return "_The timeline is empty._".to_owned();
    }
    entries
        .iter()
        .map(|e| {
            // Continuation lines are indented so a multi-line update stays one list item.
            let text = e.summary().replace('\n', "\n  ");
            format!("- **{}** {}: {text}", when(e.at), e.author)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What customers were told, apart from the timeline's internal record.
fn public_updates(entries: &[Entry]) -> String {
    let published: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::PublicUpdate { text, .. } => Some(format!(
                "- **{}** {}: {}",
                when(e.at),
                e.author,
                text.replace('\n', "\n  ")
            )),
            _ => None,
        })
        .collect();
    if published.is_empty() {
        return "_No public updates were published._".to_owned();
    }
    published.join("\n")
}

fn scas(scas: &[Sca]) -> String {
    if scas.is_empty() {
        return "> **TO BE WRITTEN**: no corrective actions yet. Add them with `/sev sca must|should|could <text>` \
                or `POST /api/sevs/{id}/scas`."
            .to_owned();
    }
    let mut out =
        String::from("| SCA | priority | action | owner | due | state | ticket |\n|---|---|---|---|---|---|---|\n");
    for s in scas {
        let state = match &s.state {
            ScaState::Open => "open".to_owned(),
            ScaState::Done { at } => format!("done {}", at.format("%Y-%m-%d")),
            ScaState::WontDo { reason, .. } => format!("won't do: {}", cell(reason)),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            s.id,
            s.priority,
            cell(&s.text),
            cell(s.owner.as_str()),
            s.due
                .map_or_else(|| "none".to_owned(), |d| d.format("%Y-%m-%d").to_string()),
            state,
            s.ticket.as_deref().map_or_else(String::new, cell),
        ));
    }
    out.truncate(out.trim_end().len());
    out
}

/// Renders the report of `sev` with its timeline (oldest first) and SCAs.
pub fn sev_report(template: &Template, sev: &Sev, entries: &[Entry], sca_list: &[Sca], now: DateTime<Utc>) -> String {
    let opt = |v: Option<&str>| v.map_or_else(|| NOT_SET.to_owned(), cell);
    let tags = if sev.tags.is_empty() {
        NOT_SET.to_owned()
    } else {
        sev.tags.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
    };
    let deputies = if sev.deputies.is_empty() {
        NOT_SET.to_owned()
    } else {
        sev.deputies
            .iter()
            .map(|d| cell(d.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let values: BTreeMap<&'static str, String> = BTreeMap::from([
        ("id", sev.id.to_string()),
        ("title", sev.title.clone()),
        ("level", sev.level.to_string()),
        ("status", sev.status.to_string()),
        ("product_track", opt(sev.product_track.as_deref())),
        ("tags", tags),
        ("reporter", cell(sev.reporter.as_str())),
        ("coordinator", opt(sev.coordinator.as_ref().map(Actor::as_str))),
        ("report_owner", opt(sev.report_owner.as_ref().map(Actor::as_str))),
        ("comms_lead", opt(sev.comms_lead.as_ref().map(Actor::as_str))),
        ("deputies", deputies),
        (
            "description",
            sev.description
                .clone()
                .unwrap_or_else(|| "_No description was given when the SEV was filed._".to_owned()),
        ),
        ("started_at", when(sev.started_at)),
        ("detected_at", when(sev.detected_at)),
        ("declared_at", when(sev.declared_at)),
        ("mitigated_at", maybe_when(sev.mitigated_at)),
        ("resolved_at", maybe_when(sev.resolved_at)),
        ("time_to_detect", human(sev.time_to_detect())),
        ("time_to_mitigate", maybe_human(sev.time_to_mitigate())),
        ("time_to_resolve", maybe_human(sev.time_to_resolve())),
        (
            "resolution",
            sev.resolution.clone().unwrap_or_else(|| NOT_SET.to_owned()),
        ),
        ("timeline", timeline(entries)),
        ("public_updates", public_updates(entries)),
        ("scas", scas(sca_list)),
        ("generated_at", format!("{} UTC", when(now))),
    ]);
    template.render(&values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(human(Duration::minutes(45)), "45 min");
        assert_eq!(human(Duration::minutes(185)), "3 h 05 min");
        assert_eq!(human(Duration::minutes(2 * 1440 + 250)), "2 d 4 h");
    }

    #[test]
    fn table_cells_stay_on_one_line_with_pipes_escaped() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
    }
}
