//! SEV values for the reports' unit tests.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{Level, Sev, SevId, Status};

/// A SEV that started at `started`, was detected `detect` minutes later and declared then, and
/// resolved `resolve` minutes after it started, if given.
pub fn sev(id: u64, started: &str, detect: i64, resolve: Option<i64>, level: Level) -> Sev {
    let started_at: DateTime<Utc> = started.parse().expect("test time");
    let detected_at = started_at + Duration::minutes(detect);
    let resolved_at = resolve.map(|m| started_at + Duration::minutes(m));
    Sev {
        id: SevId(id),
        title: format!("SEV {id}"),
        description: None,
        level,
        status: if resolved_at.is_some() {
            Status::Resolved
        } else {
            Status::Open
        },
        reporter: "U1".into(),
        coordinator: None,
        report_owner: None,
        comms_lead: None,
        deputies: Default::default(),
        product_track: None,
        tags: Default::default(),
        private: false,
        drill: false,
        started_at,
        detected_at,
        declared_at: detected_at,
        mitigated_at: None,
        resolved_at,
        closed_at: None,
        mustered_at: None,
        acknowledged_at: None,
        resolution: None,
    }
}
