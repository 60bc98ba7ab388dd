//! Property tests for every parser of outside input in the `sev` crate: arbitrary text, JSON,
//! TOML, header values and dates must give `Ok` or `Err`, never a panic; where a value has a
//! written form, writing it and parsing it back gives the same value.
//!
//! Parsers that are not public cannot be reached from here and are only exercised over HTTP by
//! `tests/fuzz.rs`: the API's `since`/`until` time parser (`api/sevs.rs` `parse_time`), the
//! reports' month range (`api/reports.rs` `range`) and the timeline policy parsers
//! (`config/policies.rs`, reached here through `Config::from_lookup`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use sev::alerts::{
    Alert, AlertStatus, AlertmanagerPayload, GenericPayload, GrafanaPayload, Labels, Matcher, Rules, Source,
};
use sev::config::Config;
use sev::domain::{
    DuePolicy, FIRST_YEAR, LAST_YEAR, Level, NagPolicy, NewSev, Priority, Sca, ScaId, ScaSource, Sev, SevId, SevPatch,
    Status, Tag, Timestamp,
};
use sev::paging::Catalog;
use sev::reports::{IsoWeek, Month, MonthRange};
use sev::slack::command;
use sev::slack::{Inbound, SigningSecret};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Strings people and attackers send: any Unicode, control and invisible characters, the
/// separators our grammars split on, and a few names with a meaning of their own.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[ -~]{0,40}",
        2 => "[a-zA-Z0-9/=,:!~\"\\-_. \t\n]{0,40}",
        1 => Just(String::new()),
        1 => Just("\u{200b}\u{200b}".to_owned()),
        1 => Just("\u{feff}\u{202e}\u{2066}".to_owned()),
        1 => Just("sevtool".to_owned()),
        1 => Just("alert:x".to_owned()),
        1 => Just("U0123ABC".to_owned()),
        1 => Just("-9223372036854775808".to_owned()),
        1 => Just("9223372036854775807".to_owned()),
        1 => Just("18446744073709551616".to_owned()),
        1 => Just("+262142-12-31T23:59:59Z".to_owned()),
        1 => Just("-262143-01-01T00:00:00Z".to_owned()),
        1 => Just("x".repeat(5000)),
        1 => Just("é".repeat(300)),
    ]
}

/// Any instant chrono can represent, weighted towards the two ends of its range and the epoch.
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    prop_oneof![
        3 => (min..=max, 0u32..1_000_000_000).prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap_or(DateTime::<Utc>::MIN_UTC)),
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
        1 => (0i64..86_400 * 30).prop_map(move |d| DateTime::<Utc>::MIN_UTC + Duration::seconds(d)),
        1 => (0i64..86_400 * 30).prop_map(move |d| DateTime::<Utc>::MAX_UTC - Duration::seconds(d)),
        2 => (1_500_000_000i64..2_500_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default()),
    ]
}

fn any_offset() -> impl Strategy<Value = FixedOffset> {
    (-86_399i32..=86_399).prop_map(|s| FixedOffset::east_opt(s).unwrap_or(FixedOffset::east_opt(0).expect("UTC")))
}

fn any_level() -> impl Strategy<Value = Level> {
    prop::sample::select(Level::ALL.to_vec())
}

fn any_priority() -> impl Strategy<Value = Priority> {
    prop::sample::select(vec![Priority::Must, Priority::Should, Priority::Could])
}

/// Arbitrary JSON, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(nasty_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON value of the kind that ends up in a date field.
fn date_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("+262142-12-31T23:59:59Z")),
        Just(json!("-262143-01-01T00:00:00Z")),
        Just(json!("+262143-01-01T00:00:00Z")),
        Just(json!("9999-12-31T23:59:59Z")),
        Just(json!("0001-01-01T00:00:00Z")),
        Just(json!("0001-01-01T00:00:00Z")),
        Just(json!("1970-01-01T00:00:00+23:59")),
        Just(json!("2026-02-30T00:00:00Z")),
        Just(json!(-1)),
        Just(json!(i64::MAX)),
        any_instant().prop_map(|t| json!(t.to_rfc3339())),
        any_json(),
    ]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        prop_oneof![
            Just("severity".to_owned()),
            Just("service".to_owned()),
            Just("alertname".to_owned()),
            Just("team".to_owned()),
            nasty_string()
        ],
        prop_oneof![Just("page".to_owned()), Just("critical".to_owned()), nasty_string()],
        0..5,
    )
}

fn wire_alert() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(json!("firing")), Just(json!("resolved")), any_json()],
        labels(),
        labels(),
        date_json(),
        date_json(),
        prop::option::of(nasty_string()),
        prop::option::of(nasty_string()),
    )
        .prop_map(|(status, labels, annotations, starts, ends, fp, url)| {
            let mut a = json!({
                "status": status,
                "labels": labels,
                "annotations": annotations,
                "startsAt": starts,
                "endsAt": ends,
            });
            if let Some(fp) = fp {
                a["fingerprint"] = json!(fp);
            }
            if let Some(url) = url {
                a["generatorURL"] = json!(url);
                a["dashboardURL"] = json!(url);
                a["valueString"] = json!(url);
            }
            a
        })
}

/// An Alertmanager (or Grafana) payload in the right shape with arbitrary field values, or with
/// one field replaced by arbitrary JSON.
fn alertmanager_json(version: &'static str) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(wire_alert(), 0..4),
        nasty_string(),
        prop_oneof![Just(json!("firing")), Just(json!("resolved")), any_json()],
        labels(),
        prop_oneof![Just(json!(0)), Just(json!(u64::MAX)), Just(json!(-1)), any_json()],
        prop::option::of((
            prop::sample::select(vec![
                "version",
                "groupKey",
                "status",
                "alerts",
                "groupLabels",
                "commonAnnotations",
                "truncatedAlerts",
                "orgId",
            ]),
            any_json(),
        )),
    )
        .prop_map(move |(alerts, key, status, group_labels, truncated, mutation)| {
            let mut p = json!({
                "version": version,
                "groupKey": key,
                "status": status,
                "alerts": alerts,
                "groupLabels": group_labels,
                "commonAnnotations": {},
                "truncatedAlerts": truncated,
                "orgId": 1,
            });
            if let Some((field, v)) = mutation {
                p[field] = v;
            }
            p
        })
}

fn generic_json() -> impl Strategy<Value = Value> {
    (
        nasty_string(),
        nasty_string(),
        prop_oneof![Just(json!("firing")), Just(json!("resolved")), any_json()],
        labels(),
        date_json(),
        prop::option::of((
            prop::sample::select(vec![
                "fingerprint",
                "title",
                "status",
                "labels",
                "description",
                "runbook_url",
                "source_url",
                "starts_at",
                "unknown",
            ]),
            any_json(),
        )),
    )
        .prop_map(|(fp, title, status, labels, starts, mutation)| {
            let mut p = json!({
                "fingerprint": fp,
                "title": title,
                "status": status,
                "labels": labels,
                "starts_at": starts,
            });
            if let Some((field, v)) = mutation {
                p[field] = v;
            }
            p
        })
}

fn alert() -> impl Strategy<Value = Alert> {
    (
        nasty_string(),
        any::<bool>(),
        labels(),
        labels(),
        prop::option::of(any_instant()),
    )
        .prop_map(|(fingerprint, firing, labels, annotations, starts_at)| Alert {
            fingerprint,
            status: if firing {
                AlertStatus::Firing
            } else {
                AlertStatus::Resolved
            },
            labels: labels.into_iter().collect::<Labels>(),
            annotations: annotations.into_iter().collect::<Labels>(),
            starts_at,
            ends_at: None,
            links: Vec::new(),
        })
}

// ---------------------------------------------------------------------------------------------
// The `/sev` command grammar
// ---------------------------------------------------------------------------------------------

const VERBS: &[&str] = &[
    "",
    "new",
    "update",
    "level",
    "mitigated",
    "mitigate",
    "resolved",
    "resolve",
    "close",
    "closed",
    "reopen",
    "page",
    "mayday",
    "sca",
    "scas",
    "owner",
    "coordinator",
    "tag",
    "status",
    "help",
    "NEW",
    "Sca",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_command_grammar_never_panics(text in nasty_string()) {
        let _ = command::parse(&text);
    }

    #[test]
    fn the_command_grammar_never_panics_on_each_verb(
        verb in prop::sample::select(VERBS.to_vec()),
        args in prop::collection::vec(nasty_string(), 0..4),
        sep in prop_oneof![Just(" "), Just("\t"), Just("\u{3000}"), Just("\n"), Just("  ")],
    ) {
        let text = std::iter::once(verb.to_owned()).chain(args).collect::<Vec<_>>().join(sep);
        if let Ok(cmd) = command::parse(&text) {
            let _ = cmd.needs_sev_channel();
        }
    }

    #[test]
    fn filing_at_once_round_trips(level in any_level(), title in "[a-zA-Z0-9][a-zA-Z0-9 ]{0,60}[a-zA-Z0-9]") {
        let got = command::parse(&format!("new {level} {title}"));
        prop_assert_eq!(got, Ok(command::Command::File { level, title: title.trim().to_owned() }));
    }

    #[test]
    fn a_mentioned_owner_round_trips(id in "U[A-Z0-9]{1,12}", name in "[a-z]{0,8}") {
        let mention = if name.is_empty() { format!("<@{id}>") } else { format!("<@{id}|{name}>") };
        prop_assert_eq!(command::parse(&format!("owner {mention}")), Ok(command::Command::ReportOwner(id)));
    }
}

// ---------------------------------------------------------------------------------------------
// Slack request signatures
// ---------------------------------------------------------------------------------------------

/// Timestamps at the edges of what an `i64` holds, and around them.
const EXTREME_TIMESTAMPS: &[&str] = &[
    "-9223372036854775808",
    "9223372036854775807",
    "-9223372036854775807",
    "9223372036854775808",
    "-1",
    "0",
    " 1 ",
    "+1",
    "1e9",
    "",
];

/// Slack's own clock is near ours; `now` here is whatever the caller's clock says, including
/// the edges of `i64` (a clock is outside input too, e.g. in tests with a fake one).
fn any_now() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => 1_500_000_000i64..2_500_000_000,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => any::<i64>(),
    ]
}

#[test]
fn verifying_extreme_timestamps_never_panics() {
    let secret = SigningSecret::new("s");
    let realistic_now = 1_780_000_000;
    let mut panics = Vec::new();
    for ts in EXTREME_TIMESTAMPS {
        for now in [realistic_now, 0, i64::MIN, i64::MAX] {
            let sig = secret.sign(ts, b"body");
            let got = std::panic::catch_unwind(|| secret.verify(Some(ts), Some(&sig), b"body", now));
            if got.is_err() {
                panics.push(format!("timestamp {ts:?} at now={now}"));
            }
        }
    }
    assert!(panics.is_empty(), "SigningSecret::verify panicked for: {panics:#?}");
}

#[test]
fn a_huge_body_signs_and_verifies() {
    let secret = SigningSecret::new("s");
    let body = vec![b'a'; 8 * 1024 * 1024];
    let sig = secret.sign("1780000000", &body);
    assert_eq!(
        secret.verify(Some("1780000000"), Some(&sig), &body, 1_780_000_000),
        Ok(())
    );
    let mut other = body.clone();
    other[4 * 1024 * 1024] = b'b';
    assert!(
        secret
            .verify(Some("1780000000"), Some(&sig), &other, 1_780_000_000)
            .is_err()
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn verify_never_panics(
        secret in nasty_string(),
        ts in prop_oneof![nasty_string(), any::<i64>().prop_map(|n| n.to_string()), prop::sample::select(EXTREME_TIMESTAMPS.to_vec()).prop_map(str::to_owned)],
        sig in prop_oneof![nasty_string(), "v0=[0-9a-f]{64}"],
        body in prop::collection::vec(any::<u8>(), 0..512),
        now in any_now(),
        missing in 0u8..4,
    ) {
        let s = SigningSecret::new(secret);
        let ts = (missing & 1 == 0).then_some(ts.as_str());
        let sig = (missing & 2 == 0).then_some(sig.as_str());
        let _ = s.verify(ts, sig, &body, now);
    }

    #[test]
    fn what_is_signed_verifies_within_five_minutes(
        secret in nasty_string(),
        ts in any::<i64>(),
        skew in -300i64..=300,
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let s = SigningSecret::new(secret);
        let stamp = ts.to_string();
        let sig = s.sign(&stamp, &body);
        // Only a `now` that exists on a clock: skip the overflowing corner.
        if let Some(now) = ts.checked_add(skew) {
            prop_assert_eq!(s.verify(Some(&stamp), Some(&sig), &body, now), Ok(()));
        }
    }

    #[test]
    fn a_changed_body_never_verifies(
        ts in 1_500_000_000i64..2_500_000_000,
        body in prop::collection::vec(any::<u8>(), 1..256),
        flip in any::<prop::sample::Index>(),
    ) {
        let s = SigningSecret::new("secret");
        let stamp = ts.to_string();
        let sig = s.sign(&stamp, &body);
        let mut changed = body.clone();
        let i = flip.index(changed.len());
        changed[i] ^= 0x01;
        prop_assert!(s.verify(Some(&stamp), Some(&sig), &changed, ts).is_err());
    }
}

// ---------------------------------------------------------------------------------------------
// Slack inbound payloads (the queued form of what the routes parse)
// ---------------------------------------------------------------------------------------------

fn any_inbound() -> impl Strategy<Value = Inbound> {
    prop_oneof![
        (
            nasty_string(),
            nasty_string(),
            nasty_string(),
            nasty_string(),
            nasty_string()
        )
            .prop_map(|(trigger_id, channel, user, text, response_url)| Inbound::Command {
                trigger_id,
                channel,
                user,
                text,
                response_url
            }),
        (nasty_string(), any_json()).prop_map(|(event_id, event)| Inbound::Event { event_id, event }),
        (
            nasty_string(),
            nasty_string(),
            nasty_string(),
            nasty_string(),
            nasty_string(),
            prop::option::of(nasty_string())
        )
            .prop_map(
                |(trigger_id, action_id, value, user, channel, selected_user)| Inbound::Action {
                    trigger_id,
                    action_id,
                    value,
                    user,
                    channel,
                    response_url: String::new(),
                    selected_user,
                }
            ),
        (
            nasty_string(),
            nasty_string(),
            nasty_string(),
            any_level(),
            prop::option::of(nasty_string()),
            any::<bool>()
        )
            .prop_map(
                |(view_id, user, title, level, description, private)| Inbound::Submission {
                    view_id,
                    user,
                    title,
                    level,
                    description,
                    private
                }
            ),
    ]
}

/// Floats in arbitrary JSON do not round-trip through text exactly; keep events float-free.
fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_float),
        Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_inbound_request_round_trips_through_the_queue(inbound in any_inbound()) {
        if let Inbound::Event { event, .. } = &inbound {
            prop_assume!(!has_float(event));
        }
        let text = serde_json::to_string(&inbound).expect("serialise");
        let back: Inbound = serde_json::from_str(&text).expect("deserialise");
        prop_assert_eq!(&back, &inbound);
        let _ = back.key();
    }

    #[test]
    fn arbitrary_json_as_an_inbound_request_never_panics(v in any_json(), kind in prop::sample::select(vec!["command", "event", "action", "submission", "other"])) {
        let mut v = v;
        if let Value::Object(o) = &mut v {
            o.insert("kind".into(), json!(kind));
        }
        let _ = serde_json::from_value::<Inbound>(v);
    }
}

// ---------------------------------------------------------------------------------------------
// Alert payloads, rules and matchers
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn alertmanager_payloads_never_panic(p in alertmanager_json("4")) {
        if let Ok(payload) = serde_json::from_value::<AlertmanagerPayload>(p)
            && let Ok(n) = payload.into_notification()
        {
            if let Some(plan) = Rules::defaults().decide(n.firing()) {
                let _ = sev::alerts::planned(&n, &plan, Utc::now());
            }
            let _ = n.runbook_url();
            let _ = sev::alerts::group_id(n.source, &n.group_key);
        }
    }

    #[test]
    fn grafana_payloads_never_panic(p in alertmanager_json("1")) {
        if let Ok(payload) = serde_json::from_value::<GrafanaPayload>(p)
            && let Ok(n) = payload.into_notification()
            && let Some(plan) = Rules::defaults().decide(n.firing())
        {
            let _ = sev::alerts::planned(&n, &plan, Utc::now());
        }
    }

    #[test]
    fn generic_alerts_never_panic(p in generic_json()) {
        if let Ok(payload) = serde_json::from_value::<GenericPayload>(p)
            && let Ok(n) = payload.into_notification()
            && let Some(plan) = Rules::defaults().decide(n.firing())
        {
            let _ = sev::alerts::planned(&n, &plan, Utc::now());
        }
    }

    #[test]
    fn arbitrary_json_as_an_alert_payload_never_panics(v in any_json()) {
        let _ = serde_json::from_value::<AlertmanagerPayload>(v.clone()).map(|p| p.into_notification());
        let _ = serde_json::from_value::<GrafanaPayload>(v.clone()).map(|p| p.into_notification());
        let _ = serde_json::from_value::<GenericPayload>(v).map(|p| p.into_notification());
    }

    #[test]
    fn arbitrary_bytes_as_an_alert_payload_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = serde_json::from_slice::<AlertmanagerPayload>(&bytes);
        let _ = serde_json::from_slice::<GenericPayload>(&bytes);
    }

    #[test]
    fn a_matcher_never_panics_and_round_trips(s in prop_oneof![
        nasty_string(),
        ("[a-z_]{1,8}", prop::sample::select(vec!["=", "!=", "=~", "!~", "==", "!"]), nasty_string())
            .prop_map(|(n, op, v)| format!("{n}{op}{v:?}")),
        ("[a-z_]{1,8}", prop::sample::select(vec!["=~", "!~"]), "[(\\[\\]{}|.*+?^$\\\\a-z0-9]{0,12}")
            .prop_map(|(n, op, v)| format!("{n}{op}\"{v}\"")),
    ], l in labels()) {
        if let Ok(m) = s.parse::<Matcher>() {
            let _ = m.matches(&l.into_iter().collect::<Labels>());
            let again: Matcher = m.to_string().parse().expect("a matcher's own text parses");
            prop_assert_eq!(again.to_string(), m.to_string());
        }
    }

    #[test]
    fn alert_rules_never_panic(text in nasty_string()) {
        let _ = Rules::parse(&text);
    }

    #[test]
    fn alert_rules_in_shape_never_panic(
        name in nasty_string(),
        matchers in prop::collection::vec(nasty_string(), 0..3),
        level in prop_oneof![Just("SEV1".to_owned()), nasty_string()],
        tags in prop::collection::vec(prop_oneof![Just("system/{{service}}".to_owned()), Just("{{".to_owned()), nasty_string()], 0..3),
        track in nasty_string(),
        alerts in prop::collection::vec(alert(), 0..4),
    ) {
        let toml_text = format!(
            "[[rule]]\nname = {}\nmatch = {}\nlevel = {}\ntags = {}\nproduct_track = {}\nmitigate_on_resolve = true\n",
            toml_str(&name),
            toml_list(&matchers),
            toml_str(&level),
            toml_list(&tags),
            toml_str(&track),
        );
        if let Ok(rules) = Rules::parse(&toml_text) {
            let _ = rules.decide(alerts.iter());
        }
    }

    #[test]
    fn the_default_rules_decide_any_alert(alerts in prop::collection::vec(alert(), 0..6)) {
        let _ = Rules::defaults().decide(alerts.iter());
    }
}

fn toml_str(s: &str) -> String {
    // A TOML basic string: JSON's escapes are a subset TOML accepts, except a few controls.
    serde_json::to_string(s).unwrap_or_default()
}

fn toml_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| toml_str(s)).collect::<Vec<_>>().join(", "))
}

// ---------------------------------------------------------------------------------------------
// Months, ISO weeks and the instants they bound
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_month_never_panics_and_round_trips(s in prop_oneof![nasty_string(), "[0-9+-]{1,6}-[0-9+-]{1,3}"]) {
        if let Ok(m) = s.parse::<Month>() {
            prop_assert_eq!(m.to_string().parse::<Month>().ok(), Some(m));
            let _ = m.start();
            let _ = m.next().start();
            let _ = m.prev().start();
        }
    }

    #[test]
    fn a_valid_month_round_trips(year in FIRST_YEAR..=LAST_YEAR, month in 1u32..=12) {
        let m = Month::new(year, month).expect("in range");
        prop_assert_eq!(m.to_string().parse::<Month>().ok(), Some(m));
        prop_assert_eq!(Month::of(m.start()), m);
    }

    #[test]
    fn month_ranges_never_panic(a in (FIRST_YEAR..=LAST_YEAR, 1u32..=12), b in (FIRST_YEAR..=LAST_YEAR, 1u32..=12), n in 0usize..200) {
        let (first, last) = (Month::new(a.0, a.1).expect("a"), Month::new(b.0, b.1).expect("b"));
        if let Ok(r) = MonthRange::new(first, last) {
            let _ = r.bounds();
            let _ = r.iter().count();
            let _ = r.to_string();
        }
        let _ = last.last(n).bounds();
    }

    /// `Month::of` takes any instant (a SEV's `started_at` can be any the API accepted); the
    /// month it gives must be usable.
    #[test]
    fn the_month_of_any_instant_has_bounds(t in any_instant()) {
        let m = Month::of(t);
        let _ = m.to_string();
        let _ = m.start();
        let _ = m.next().start();
        let _ = m.prev().start();
    }

    #[test]
    fn an_iso_week_never_panics_and_round_trips(s in prop_oneof![nasty_string(), "[0-9+-]{1,6}-W[0-9]{1,3}"]) {
        if let Ok(w) = s.parse::<IsoWeek>() {
            prop_assert_eq!(w.to_string().parse::<IsoWeek>().ok(), Some(w));
            let _ = w.bounds();
            let _ = w.next().bounds();
            let _ = w.prev().bounds();
        }
    }

    #[test]
    fn the_iso_week_of_any_instant_has_bounds(t in any_instant()) {
        let w = IsoWeek::of(t);
        let _ = w.to_string();
        let _ = w.bounds();
        let _ = w.next().bounds();
        let _ = w.prev().bounds();
    }
}

// ---------------------------------------------------------------------------------------------
// Tags, ids, levels, priorities, statuses
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_tag_never_panics_and_round_trips(s in prop_oneof![nasty_string(), "[a-zA-Z0-9/_.\\- ]{0,40}", "(/?[a-z]{1,3}){1,10}/?"]) {
        if let Ok(t) = s.parse::<Tag>() {
            prop_assert_eq!(t.to_string().parse::<Tag>().ok(), Some(t.clone()));
            prop_assert_eq!(t.prefixes().last(), Some(t.as_str()));
            for p in t.prefixes() {
                let parent: Tag = p.parse().expect("a prefix is a tag");
                prop_assert!(t.is_under(&parent));
            }
            let json = serde_json::to_string(&t).expect("serialise");
            prop_assert_eq!(serde_json::from_str::<Tag>(&json).ok(), Some(t));
        }
    }

    #[test]
    fn ids_never_panic_and_round_trip(s in prop_oneof![
        nasty_string(),
        "(SEV-|sev-|SCA-|sca-|Sev-)?[0-9]{0,22}",
        "(SEV-|SCA-)?[+-][0-9]{1,5}",
        "(SEV|SCA)(-é|é)[0-9]",
    ]) {
        if let Ok(id) = s.parse::<SevId>() {
            prop_assert_eq!(id.to_string().parse::<SevId>().ok(), Some(id));
            prop_assert!(id.0 > 0);
        }
        if let Ok(id) = s.parse::<ScaId>() {
            prop_assert_eq!(id.to_string().parse::<ScaId>().ok(), Some(id));
            prop_assert!(id.0 > 0);
        }
    }

    #[test]
    fn any_id_number_round_trips(n in 1u64..) {
        prop_assert_eq!(SevId(n).to_string().parse::<SevId>().ok(), Some(SevId(n)));
        prop_assert_eq!(ScaId(n).to_string().parse::<ScaId>().ok(), Some(ScaId(n)));
        prop_assert_eq!(n.to_string().parse::<SevId>().ok(), Some(SevId(n)));
    }

    #[test]
    fn levels_priorities_and_statuses_never_panic_and_round_trip(s in prop_oneof![
        nasty_string(),
        "(sev|SEV|Sev|)[0-9]{0,2}",
        "(must|should|could|open|mitigated|resolved|closed|MUST|Open)",
        "sév[0-9]",
    ]) {
        if let Ok(l) = s.parse::<Level>() {
            prop_assert_eq!(l.to_string().parse::<Level>().ok(), Some(l));
        }
        if let Ok(p) = s.parse::<Priority>() {
            prop_assert_eq!(p.to_string().parse::<Priority>().ok(), Some(p));
        }
        if let Ok(st) = s.parse::<Status>() {
            prop_assert_eq!(st.to_string().parse::<Status>().ok(), Some(st));
        }
        let _ = serde_json::from_value::<Level>(json!(s));
        let _ = serde_json::from_value::<Status>(json!(s));
        let _ = serde_json::from_value::<Priority>(json!(s));
    }
}

// ---------------------------------------------------------------------------------------------
// The team catalog
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_catalog_never_panics(text in nasty_string()) {
        let _ = Catalog::parse(&text);
    }

    #[test]
    fn a_catalog_in_shape_never_panics(
        names in prop::collection::vec(nasty_string(), 1..4),
        aliases in prop::collection::vec(nasty_string(), 0..3),
        tracks in prop::collection::vec(nasty_string(), 0..3),
        rotation in prop_oneof![Just("coordinator".to_owned()), Just("security".to_owned()), nasty_string()],
        key in nasty_string(),
        opsgenie in any::<bool>(),
        query in nasty_string(),
    ) {
        let mut text = String::new();
        for (i, name) in names.iter().enumerate() {
            text.push_str(&format!("[[team]]\nname = {}\naliases = {}\nproduct_tracks = {}\n", toml_str(name), toml_list(&aliases), toml_list(&tracks)));
            if i == 0 {
                text.push_str(&format!("rotation = {}\n", toml_str(&rotation)));
            }
            if opsgenie {
                text.push_str(&format!("[team.opsgenie]\nteam = {}\napi_key_env = {}\n", toml_str(name), toml_str(&key)));
            } else {
                text.push_str(&format!("[team.pagerduty]\nrouting_key = {}\n", toml_str(&key)));
            }
        }
        if let Ok(c) = Catalog::parse(&text) {
            let _ = c.find(&query);
            let _ = c.suggest(&query);
            let _ = c.owner_of(&query);
            let _ = c.key_envs();
            for t in c.teams() {
                prop_assert!(c.find(&t.name).is_some(), "a team is found by its own name");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// Every variable `Config::from_lookup` reads (README, "Configuration").
const VARIABLES: &[&str] = &[
    "PORT",
    "SEVTOOL_HOST",
    "SEVTOOL_ACCESS_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_TEAM_ID",
    "SLACK_AUTHORIZE_URL",
    "SEVTOOL_PUBLIC_URL",
    "SEVTOOL_SESSION_KEY",
    "SEVTOOL_SECURITY_GROUP",
    "SEVTOOL_DATA_DIR",
    "SEVTOOL_TABLE",
    "SEVTOOL_TASK_QUEUE_URL",
    "SEVTOOL_SCA_DUE_DAYS",
    "SEVTOOL_REPORT_DUE_DAYS",
    "SEVTOOL_NAG_POLICY",
    "SEVTOOL_REPORT_OWNER_HOURS",
    "SEVTOOL_NAG_UTC_OFFSET",
    "SEVTOOL_SCHEDULE_GROUP",
    "SEVTOOL_SCHEDULE_TARGET_ARN",
    "SEVTOOL_SCHEDULER_ROLE_ARN",
    "SEVTOOL_JIRA_URL",
    "SEVTOOL_JIRA_EMAIL",
    "SEVTOOL_JIRA_API_TOKEN",
    "SEVTOOL_JIRA_PROJECT",
    "SEVTOOL_JIRA_ISSUE_TYPE",
    "SEVTOOL_JIRA_WEBHOOK_SECRET",
    "SEVTOOL_JIRA_PRIORITIES",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "SLACK_ANNOUNCE_CHANNEL",
    "SLACK_REPORTS_CHANNEL",
    "SLACK_DIGEST_CHANNEL",
    "SLACK_CHANNEL_PATTERN",
    "SLACK_REACTIONS",
    "SEVTOOL_TEAMS",
    "SEVTOOL_AUTOPAGE_LEVEL",
    "PAGERDUTY_EVENTS_URL",
    "PAGERDUTY_API_URL",
    "PAGERDUTY_API_TOKEN",
    "OPSGENIE_API_URL",
    "SEVTOOL_PAGER_QUEUE_URL",
    "ALERT_WEBHOOK_TOKEN",
    "SEVTOOL_ALERT_RULES",
    "SEVTOOL_EXPORT_BUCKET",
    "SEVTOOL_EXPORT_PREFIX",
    "SEVTOOL_REPORT_TEMPLATE",
];

/// Values in the shape each variable expects, pushed to its limits, or anything at all.
fn config_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => nasty_string(),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => "(must_worst|must|should|could|x)=(-?[0-9]{1,20}|none|)(,(must|should|could)=[0-9]{1,5})?",
        1 => "(before|overdue|grace|repeat)=(-?[0-9]{1,20})(h|d|)(,(grace|repeat|before)=[0-9]{1,20}(h|d))?",
        1 => "quiet=([0-9]{1,3}|-)-([0-9]{1,3}|-),weekends=(skip|nag|x)",
        1 => "[+-][0-9]{2}:[0-9]{2}",
        1 => "(https?://|ftp://|)[a-z.]{0,12}/?",
        1 => "(mitigated|resolved|update|timeline|report-owner|sca-must|x)=[a-z_\\-]{0,10}(,update=[a-z]{0,5})?",
        1 => "(must|should|could|x)=[A-Za-z ]{0,10}",
        1 => "(SEV[0-9]|off|[0-9]|)",
        1 => "(sev-\\{n\\}-\\{slug\\}|\\{n\\}|\\{slug\\}|[a-z{}-]{0,12})",
        1 => "[A-Z][A-Z0-9_]{0,8}",
        1 => Just("::1".to_owned()),
        1 => Just("0.0.0.0".to_owned()),
        1 => Just("65536".to_owned()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_environment_gives_a_config_or_an_error(env in prop::collection::btree_map(prop::sample::select(VARIABLES.to_vec()), config_value(), 0..12)) {
        let _ = Config::from_lookup(|name| env.get(name).cloned());
    }

    #[test]
    fn each_variable_alone_gives_a_config_or_an_error(name in prop::sample::select(VARIABLES.to_vec()), value in config_value(), slack in any::<bool>(), jira in any::<bool>()) {
        let mut env: BTreeMap<&str, String> = BTreeMap::new();
        if slack {
            env.insert("SLACK_BOT_TOKEN", "xoxb-1".into());
            env.insert("SLACK_SIGNING_SECRET", "s".into());
        }
        if jira {
            env.insert("SEVTOOL_JIRA_URL", "https://acme.atlassian.net".into());
            env.insert("SEVTOOL_JIRA_EMAIL", "a@b.c".into());
            env.insert("SEVTOOL_JIRA_API_TOKEN", "t".into());
        }
        env.insert(name, value);
        let _ = Config::from_lookup(|n| env.get(n).cloned());
    }
}

// ---------------------------------------------------------------------------------------------
// Domain constructors fed extreme dates
// ---------------------------------------------------------------------------------------------

/// The due-day counts the configuration accepts (`SEVTOOL_SCA_DUE_DAYS`: 1 to 3650, or none).
fn any_due_policy() -> impl Strategy<Value = DuePolicy> {
    let days = || prop::option::of(1i64..=3650);
    (days(), days(), days(), days()).prop_map(|(a, b, c, d)| DuePolicy {
        must_worst_days: a,
        must_days: b,
        should_days: c,
        could_days: d,
    })
}

/// The spans the configuration accepts (`SEVTOOL_NAG_POLICY`: 1 h to 366 d).
fn any_nag_policy() -> impl Strategy<Value = NagPolicy> {
    let span = || (1i64..=366 * 24).prop_map(Duration::hours);
    (span(), span(), span(), span(), 0u32..24, 0u32..24, any::<bool>()).prop_map(
        |(before, overdue_after, grace, repeat, quiet_from, quiet_until, skip_weekends)| NagPolicy {
            before,
            overdue_after,
            grace: grace.max(overdue_after + Duration::hours(1)),
            repeat,
            quiet_from,
            quiet_until,
            skip_weekends,
        },
    )
}

fn sca_with(due: Option<DateTime<Utc>>, now: DateTime<Utc>, priority: Priority) -> Option<Sca> {
    Sca::new(
        ScaId(1),
        SevId(1),
        "fix the thing",
        priority,
        "U1".into(),
        due,
        ScaSource::Api,
        "U1".into(),
        now,
    )
    .ok()
}

/// The extreme instants, named, for tests that report which one panicked.
fn extremes() -> Vec<(&'static str, DateTime<Utc>)> {
    let year = |y: i32| {
        Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .expect("a representable year")
    };
    vec![
        ("MIN_UTC", DateTime::<Utc>::MIN_UTC),
        ("MAX_UTC", DateTime::<Utc>::MAX_UTC),
        ("year -262143", year(-262_143)),
        ("year -262142", year(-262_142)),
        ("year +262142", year(262_142)),
        (
            "+262142-12-31T23:59:59Z",
            DateTime::<Utc>::MAX_UTC - Duration::seconds(1),
        ),
        ("epoch", DateTime::<Utc>::UNIX_EPOCH),
        ("now", Utc::now()),
    ]
}

fn panics(f: impl FnOnce() + std::panic::UnwindSafe) -> bool {
    std::panic::catch_unwind(f).is_err()
}

#[test]
fn domain_constructors_take_extreme_dates_without_panicking() {
    let mut failures = Vec::new();
    let offsets = [
        FixedOffset::east_opt(0).expect("UTC"),
        FixedOffset::east_opt(86_399).expect("+23:59:59"),
        FixedOffset::west_opt(86_399).expect("-23:59:59"),
    ];
    for (due_name, due) in extremes() {
        for (now_name, now) in extremes() {
            if panics(|| {
                let _ = sca_with(Some(due), now, Priority::Must);
            }) {
                failures.push(format!("Sca::new(due = {due_name}, now = {now_name})"));
            }
            // A stored SCA's due date can be any the API took; the ladder is planned from it.
            let sca = std::panic::catch_unwind(|| sca_with(Some(due), due, Priority::Must))
                .ok()
                .flatten();
            if let Some(sca) = sca {
                for offset in offsets {
                    if panics(|| {
                        let _ = NagPolicy::default().ladder(&sca, now, offset);
                    }) {
                        failures.push(format!(
                            "NagPolicy::ladder(due = {due_name}, now = {now_name}, offset = {offset})"
                        ));
                    }
                }
            }
        }
        for level in Level::ALL {
            for priority in [Priority::Must, Priority::Should, Priority::Could] {
                let policy = DuePolicy {
                    must_worst_days: Some(3650),
                    must_days: Some(3650),
                    should_days: Some(3650),
                    could_days: Some(3650),
                };
                if panics(|| {
                    let _ = policy.due(priority, level, due);
                }) {
                    failures.push(format!("DuePolicy::due({priority}, {level}, from = {due_name})"));
                }
            }
        }
        if panics(|| {
            let _ = NagPolicy::default().next_waking(due, offsets[1]);
        }) {
            failures.push(format!("NagPolicy::next_waking({due_name}, +23:59:59)"));
        }
        if panics(|| {
            let _ = Month::of(due).next().start();
        }) {
            failures.push(format!("Month::of({due_name}).next().start()"));
        }
        if panics(|| {
            let _ = IsoWeek::of(due).next().bounds();
        }) {
            failures.push(format!("IsoWeek::of({due_name}).next().bounds()"));
        }
    }
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} calls panicked on extreme dates:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn an_sca_takes_any_dates(due in prop::option::of(any_instant()), now in any_instant(), priority in any_priority()) {
        let _ = sca_with(due, now, priority);
    }

    #[test]
    fn the_due_policy_takes_any_start(policy in any_due_policy(), priority in any_priority(), level in any_level(), from in any_instant()) {
        let _ = policy.due(priority, level, from);
    }

    #[test]
    fn the_nag_ladder_takes_any_dates(policy in any_nag_policy(), due in any_instant(), now in any_instant(), offset in any_offset()) {
        if let Some(sca) = sca_with(Some(due), due, Priority::Must) {
            let steps = policy.ladder(&sca, now, offset);
            for (_, at) in steps {
                prop_assert!(at > now);
            }
        }
    }

    #[test]
    fn a_timestamp_is_exactly_a_time_of_1970_to_2200(t in any_instant()) {
        let inside = (FIRST_YEAR..=LAST_YEAR).contains(&t.year());
        prop_assert_eq!(Timestamp::new("t", t).is_ok(), inside);
        let parsed = Timestamp::parse("t", &t.to_rfc3339());
        prop_assert_eq!(parsed.is_ok(), inside, "{}", t.to_rfc3339());
    }

    #[test]
    fn filing_takes_any_dates(
        title in nasty_string(),
        started in prop::option::of(any_instant()),
        detected in prop::option::of(any_instant()),
        now in any_instant(),
        level in prop::option::of(any_level()),
        track in prop::option::of(nasty_string()),
        description in prop::option::of(nasty_string()),
        new_title in prop::option::of(nasty_string()),
        new_started in prop::option::of(any_instant()),
    ) {
        let bounded = |t: Option<DateTime<Utc>>| t.and_then(|t| Timestamp::new("time", t).ok());
        let (started, detected) = (bounded(started), bounded(detected));
        let new = NewSev { title, level, description, product_track: track, started_at: started, detected_at: detected, ..NewSev::default() };
        if let Ok((mut sev, _)) = Sev::file(SevId(1), new, "U1".into(), now) {
            let _ = sev.time_to_detect();
            let _ = sev.time_to_mitigate();
            let _ = sev.time_to_resolve();
            let _ = Month::of(sev.started_at).next().start();
            let patch = SevPatch { title: new_title, started_at: bounded(new_started), ..SevPatch::default() };
            let _ = sev.apply(patch);
            let _ = sev.move_to(Status::Mitigated, None, now);
        }
    }
}

/// Keeps `Source` in use for the group ids above even when no payload parsed.
#[test]
fn group_ids_take_any_key() {
    for key in ["", "\u{200b}", &"k".repeat(10_000)] {
        for source in [Source::Alertmanager, Source::Grafana, Source::Generic] {
            let _ = sev::alerts::group_id(source, key);
        }
    }
}
