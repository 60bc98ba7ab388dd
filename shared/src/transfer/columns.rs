//! The export's columns, a public contract: new columns are only ever appended.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::domain::{Actor, Level, Sev, SevId, Status, Tag, Timestamp};

pub const COLUMNS: [&str; 23] = [
    "id",
    "title",
    "level",
    "status",
    "product_track",
    "tags",
    "private",
    "drill",
    "reporter",
    "coordinator",
    "report_owner",
    "started_at",
    "detected_at",
    "declared_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
    "resolution",
    "description",
    "time_to_detect_minutes",
    "time_to_resolve_minutes",
    "comms_lead",
    "deputies",
];

/// Deputies share one cell, a name per line: a name may hold spaces and commas, never a line break.
const DEPUTY_SEPARATOR: char = '\n';

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn opt_time(t: Option<DateTime<Utc>>) -> String {
    t.map(time).unwrap_or_default()
}

/// What a spreadsheet reads as a formula when a cell starts with it (OWASP's CSV injection list).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell a spreadsheet will show as text: one that would start a formula gets a leading `'`,
/// which spreadsheets hide and [`from_record`] removes again on import.
fn neutralise(cell: String) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The cell as it was before [`neutralise`].
fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// One SEV as a CSV row. Tags are separated by spaces (a tag never holds one). Text people wrote
/// is neutralised so that opening the export in a spreadsheet runs nothing.
pub fn to_record(sev: &Sev) -> Vec<String> {
    cells(sev).into_iter().map(neutralise).collect()
}

fn cells(sev: &Sev) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        sev.id.to_string(),
        sev.title.clone(),
        sev.level.to_string(),
        sev.status.to_string(),
        opt(&sev.product_track),
        sev.tags.iter().map(Tag::as_str).collect::<Vec<_>>().join(" "),
        sev.private.to_string(),
        sev.drill.to_string(),
        sev.reporter.to_string(),
        sev.coordinator.as_ref().map_or_else(String::new, Actor::to_string),
        sev.report_owner.as_ref().map_or_else(String::new, Actor::to_string),
        time(sev.started_at),
        time(sev.detected_at),
        time(sev.declared_at),
        opt_time(sev.mitigated_at),
        opt_time(sev.resolved_at),
        opt_time(sev.closed_at),
        opt(&sev.resolution),
        opt(&sev.description),
        sev.time_to_detect().num_minutes().to_string(),
        sev.time_to_resolve()
            .map(|d| d.num_minutes().to_string())
            .unwrap_or_default(),
        sev.comms_lead.as_ref().map_or_else(String::new, Actor::to_string),
        sev.deputies
            .iter()
            .map(Actor::as_str)
            .collect::<Vec<_>>()
            .join(&DEPUTY_SEPARATOR.to_string()),
    ]
}

/// The key that makes importing a row idempotent: the source's SEV id and start, so re-running an
/// import (or a file with a repeated row) stores each SEV once.
pub fn import_key(source_id: SevId, started_at: DateTime<Utc>) -> String {
    format!("{source_id}@{}", time(started_at))
}

/// Reads one row, given the header. Only `title`, `level`, `started_at` are required; derived
/// columns (`time_to_*`) are ignored. Returns the SEV (its id is the source's) or what is wrong.
pub fn from_record(header: &csv::StringRecord, row: &csv::StringRecord) -> Result<Sev, String> {
    let get = |name: &str| -> Option<&str> {
        header
            .iter()
            .position(|h| h.trim() == name)
            .and_then(|i| row.get(i))
            .map(|v| restore(v.trim()))
            .filter(|v| !v.is_empty())
    };
    let text = |name: &str| get(name).map(str::to_owned);
    let when = |name: &'static str| -> Result<Option<DateTime<Utc>>, String> {
        get(name)
            .map(|v| {
                let t = DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| format!("{name}: `{v}` is not an RFC 3339 time ({e})"))?;
                Timestamp::new(name, t).map(Timestamp::get).map_err(|e| e.to_string())
            })
            .transpose()
    };
    let flag = |name: &'static str| -> Result<bool, String> {
        match get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(format!("{name}: `{v}` is not true or false")),
        }
    };
    let id: SevId = get("id")
        .ok_or("id: is required")?
        .parse()
        .map_err(|e| format!("{e}"))?;
    let title = get("title").ok_or("title: is required")?.to_owned();
    if title.chars().count() > crate::domain::MAX_TITLE {
        return Err(format!("title: is longer than {} characters", crate::domain::MAX_TITLE));
    }
    let level: Level = get("level")
        .ok_or("level: is required")?
        .parse()
        .map_err(|e| format!("{e}"))?;
    let status: Status = get("status").unwrap_or("closed").parse().map_err(|e| format!("{e}"))?;
    let started_at = when("started_at")?.ok_or("started_at: is required")?;
    let detected_at = when("detected_at")?.unwrap_or(started_at);
    let declared_at = when("declared_at")?.unwrap_or(detected_at);
    if !(started_at <= detected_at && detected_at <= declared_at) {
        return Err("started_at, detected_at, declared_at: must be in that order".into());
    }
    let tags = get("tags")
        .unwrap_or("")
        .split_whitespace()
        .map(|t| t.parse::<Tag>().map_err(|e| e.to_string()))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let resolved_at = when("resolved_at")?;
    let closed_at = when("closed_at")?;
    if matches!(status, Status::Resolved | Status::Closed) && resolved_at.is_none() {
        return Err(format!("resolved_at: is required for a {status} SEV"));
    }
    if status == Status::Closed && closed_at.is_none() {
        return Err("closed_at: is required for a closed SEV".into());
    }
    Ok(Sev {
        id,
        title,
        description: text("description"),
        level,
        status,
        reporter: text("reporter").map_or(Actor::IMPORT, Actor::from),
        coordinator: text("coordinator").map(Actor::from),
        report_owner: text("report_owner").map(Actor::from),
        comms_lead: text("comms_lead").map(Actor::from),
        deputies: get("deputies")
            .unwrap_or("")
            .split(DEPUTY_SEPARATOR)
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| Actor::from(d.to_owned()))
            .collect(),
        product_track: text("product_track"),
        tags,
        private: flag("private")?,
        drill: flag("drill")?,
        started_at,
        detected_at,
        declared_at,
        mitigated_at: when("mitigated_at")?,
        resolved_at,
        closed_at,
        // Exports carry no pages, so no muster: history counts in the other numbers only.
        mustered_at: None,
        acknowledged_at: None,
        resolution: text("resolution"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::testing::sev;

    fn header() -> csv::StringRecord {
        csv::StringRecord::from(COLUMNS.to_vec())
    }

    #[test]
    fn a_row_reads_back_as_the_same_sev() {
        let mut s = sev(7, "2026-07-14T09:00:00Z", 12, Some(210), Level::Sev1);
        s.status = Status::Closed;
        s.closed_at = s.resolved_at;
        s.tags = ["system/payments", "root-cause/deploy"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        s.description = Some("line one,\n\"quoted\" line two".into());
        s.product_track = Some("payments".into());
        s.private = true;
        s.comms_lead = Some("U9".into());
        s.deputies = ["U3".into(), "web:ann, ops".into()].into();
        let row = csv::StringRecord::from(to_record(&s));
        assert_eq!(from_record(&header(), &row), Ok(s));
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_read_back_as_written() {
        let mut s = sev(7, "2026-07-14T09:00:00Z", 12, Some(210), Level::Sev1);
        s.title = "=HYPERLINK(\"http://evil.example\",\"click\")".into();
        s.description = Some("+1 from ops".into());
        s.product_track = Some("@payments".into());
        s.resolution = Some("-rollback".into());
        s.coordinator = Some("\tbob".into());
        let row = to_record(&s);
        for cell in &row {
            assert!(!cell.starts_with(FORMULA_STARTS), "{cell:?}");
        }
        assert_eq!(row[1], "'=HYPERLINK(\"http://evil.example\",\"click\")");
        let back = from_record(&header(), &csv::StringRecord::from(row)).unwrap();
        assert_eq!(
            (back.title, back.description, back.product_track),
            (s.title, s.description, s.product_track)
        );
        assert_eq!(back.resolution, s.resolution);
        assert_eq!(restore("'hello"), "'hello", "a quote before ordinary text is the text");
    }

    #[test]
    fn bad_rows_say_which_field_is_wrong() {
        let good = to_record(&sev(1, "2026-07-14T09:00:00Z", 1, None, Level::Sev2));
        let with = |col: &str, v: &str| {
            let mut r = good.clone();
            r[COLUMNS.iter().position(|c| *c == col).unwrap()] = v.to_owned();
            from_record(&header(), &csv::StringRecord::from(r)).unwrap_err()
        };
        assert!(with("level", "SEV7").contains("level"));
        assert!(with("started_at", "yesterday").starts_with("started_at"));
        assert!(with("title", " ").starts_with("title"));
        assert!(with("tags", "a//b").contains("tags"));
        assert!(with("status", "resolved").starts_with("resolved_at"));
        assert!(with("private", "yes").starts_with("private"));
        assert!(with("detected_at", "2026-07-14T08:00:00Z").contains("order"));
    }
}
