//! The SEV report of one fully-populated SEV, compared line for line with the expected document.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use sev::domain::{Entry, EntryId, EntryKind, Level, Priority, Sca, ScaId, ScaSource, ScaState, Sev, SevId, Status};
use sev::reports::{Template, sev_report};

fn t(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 7, 14, h, m, 0).unwrap()
}

fn entry(n: u64, at: DateTime<Utc>, author: &str, kind: EntryKind) -> Entry {
    Entry {
        id: EntryId::new(at, n),
        at,
        author: author.into(),
        kind,
    }
}

fn populated() -> (Sev, Vec<Entry>, Vec<Sca>) {
    let tags: BTreeSet<_> = ["system/payments/ledger", "root-cause/deploy/config"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let sev = Sev {
        id: SevId(42),
        title: "Checkout returns 5xx".into(),
        description: Some("Card payments failed with 502 for EU customers.".into()),
        level: Level::Sev1,
        status: Status::Closed,
        reporter: "alice".into(),
        coordinator: Some("bob".into()),
        report_owner: Some("carol".into()),
        comms_lead: Some("dan".into()),
        deputies: ["erin".into(), "web:frank | ops".into()].into(),
        product_track: Some("payments".into()),
        tags,
        private: false,
        drill: false,
        started_at: t(9, 0),
        detected_at: t(9, 12),
        declared_at: t(9, 15),
        mitigated_at: Some(t(10, 5)),
        resolved_at: Some(t(12, 30)),
        closed_at: Some(t(13, 0)),
        mustered_at: None,
        acknowledged_at: None,
        resolution: Some("config rolled back".into()),
    };
    let timeline = vec![
        entry(1, t(9, 15), "alice", EntryKind::Filed { level: Level::Sev2 }),
        entry(
            2,
            t(9, 20),
            "bob",
            EntryKind::LevelChanged {
                from: Level::Sev2,
                to: Level::Sev1,
            },
        ),
        entry(
            3,
            t(9, 40),
            "bob",
            EntryKind::Update {
                text: "Deploy 4812 changed the ledger pool size.\nRolling back.".into(),
            },
        ),
        entry(
            5,
            t(9, 50),
            "dan",
            EntryKind::PublicUpdate {
                text: "Some card payments are failing.\nWe are rolling back a change.".into(),
                status: None,
            },
        ),
        entry(
            4,
            t(10, 5),
            "bob",
            EntryKind::StatusChanged {
                from: Status::Open,
                to: Status::Mitigated,
                reason: None,
            },
        ),
        entry(
            5,
            t(12, 30),
            "bob",
            EntryKind::StatusChanged {
                from: Status::Mitigated,
                to: Status::Resolved,
                reason: Some("config rolled back".into()),
            },
        ),
    ];
    let sca =
        |n: u64, text: &str, priority, owner: &str, due: Option<DateTime<Utc>>, state, ticket: Option<&str>| Sca {
            id: ScaId(n),
            sev: SevId(42),
            text: text.into(),
            priority,
            owner: owner.into(),
            due,
            state,
            source: ScaSource::Api,
            ticket: ticket.map(str::to_owned),
            created_by: "carol".into(),
            created_at: t(13, 0),
        };
    let scas = vec![
        sca(
            7,
            "Validate pool size | in CI",
            Priority::Must,
            "dave",
            Some(Utc.with_ymd_and_hms(2026, 7, 28, 13, 0, 0).unwrap()),
            ScaState::Open,
            Some("PAY-1"),
        ),
        sca(
            8,
            "Alert on ledger 5xx",
            Priority::Should,
            "erin",
            None,
            ScaState::Done { at: t(15, 0) },
            None,
        ),
    ];
    (sev, timeline, scas)
}

const EXPECTED: &str = include_str!("golden/sev-report.md");

#[test]
fn a_fully_populated_sev_fills_every_known_fact_and_marks_what_people_write() {
    let (sev, timeline, scas) = populated();
    let now = Utc.with_ymd_and_hms(2026, 7, 20, 8, 0, 0).unwrap();
    let report = sev_report(&Template::shipped(), &sev, &timeline, &scas, now);
    if report != EXPECTED {
        for (i, (got, want)) in report.lines().zip(EXPECTED.lines()).enumerate() {
            assert_eq!(got, want, "line {}", i + 1);
        }
        assert_eq!(report.lines().count(), EXPECTED.lines().count(), "{report}");
    }
    assert!(!report.contains("{{"), "every placeholder is filled");
    assert_eq!(report.matches("**TO BE WRITTEN**").count(), 6);
}

#[test]
fn an_overriding_template_is_used_as_given() {
    let (sev, timeline, scas) = populated();
    let custom = Template::parse("{{id}} ({{level}}) took {{time_to_resolve}} to resolve").unwrap();
    let report = sev_report(&custom, &sev, &timeline, &scas, t(14, 0));
    assert_eq!(report, "SEV-42 (SEV1) took 3 h 30 min to resolve");
}
