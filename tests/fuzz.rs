//! The standing HTTP fuzz test: the real `sevtool` with sign-in, Slack (against the fake) and
//! alert webhooks on, seeded with a few SEVs, then several thousand generated and mutated
//! requests from a fixed-seed RNG (`SEVTOOL_FUZZ_SEED` overrides the seed; it is printed on
//! failure).
//!
//! What must hold, whatever the request:
//! - no 5xx, except the documented `503`s: `POST /api/sevs/{id}/pages` and `/mayday` (and their
//!   web twins) while paging is off, which it is here (no `SEVTOOL_TEAMS`); README, "JSON API".
//!   Storage-unavailable `503`s cannot happen on the embedded store in a healthy temp dir, so
//!   they count as failures;
//! - the process never dies (checked with `/healthz` every few hundred requests and at the end,
//!   and a few seconds after a burst of extreme SCA due dates, for the task consumers);
//! - every `4xx` under `/api/` is JSON with an `"error"` string;
//! - a redirect after sign-in stays on this site, whatever `next=` said;
//! - the "canary" SEVs, which no mutating request targets, are unchanged at the end.
//!
//! Every failure is collected (status, method, path, body snippet) and all are printed together;
//! the summary line `fuzz: N requests, ...` is always printed on stderr.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blackbox::Sevtool;
use blackbox::fake_slack::{BOT_TOKEN, FakeSlack};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sev::slack::SigningSecret;

const ACCESS_TOKEN: &str = "fuzz-access-token";
const ALERT_TOKEN: &str = "fuzz-alert-token";
const SIGNING_SECRET: &str = "fuzz-signing-secret";
const DEFAULT_SEED: u64 = 0x5e70_0f00_2026;
const WORKERS: u64 = 8;
const PER_WORKER: usize = 500;
const BURST: usize = 80;
/// How long the queued tasks may take to be handled after the burst and after the run: Slack's
/// pacing (about a message a second per channel, every SEV announced in one channel) makes the
/// run's hundreds of SEVs take a minute or more (about 70 s measured on two cores).
const SETTLE: Duration = Duration::from_secs(240);

/// One request, as generated.
#[derive(Debug, Clone)]
struct Req {
    method: reqwest::Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    /// `next=` requests: the answer's `Location` must stay on this site.
    check_redirect: bool,
    /// Over the body limit: the server may answer 413 and close before reading it all, which
    /// the client can see as a reset while still sending; that alone is not a crash.
    oversized: bool,
}

impl Req {
    fn new(method: reqwest::Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            check_redirect: false,
            oversized: false,
        }
    }

    fn header(mut self, k: &str, v: impl Into<String>) -> Req {
        self.headers.push((k.to_owned(), v.into()));
        self
    }

    fn json(self, body: &Value) -> Req {
        self.header("content-type", "application/json")
            .raw(body.to_string().into_bytes())
    }

    fn raw(mut self, body: Vec<u8>) -> Req {
        self.body = Some(body);
        self
    }

    fn describe(&self) -> String {
        let body = self
            .body
            .as_deref()
            .map(|b| snippet(&String::from_utf8_lossy(b)))
            .unwrap_or_default();
        let slack: Vec<String> = self
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-slack") || k == "authorization")
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        format!("{} {} [{}] {body}", self.method, self.path, slack.join(", "))
    }
}

fn snippet(s: &str) -> String {
    let mut out: String = s.chars().take(300).collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// What the run saw, shared by the workers.
#[derive(Default)]
struct Tally {
    requests: usize,
    ok: usize,
    redirects: usize,
    client_errors: usize,
    server_errors: usize,
    crashes: usize,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, what: String) {
        // Keep the report readable: the same failure on the same route once is enough detail.
        if self.failures.len() < 400 {
            self.failures.push(what);
        }
    }
}

/// What the generator may aim at.
#[derive(Clone)]
struct Targets {
    /// SEVs mutating requests may change.
    sevs: Vec<String>,
    scas: Vec<String>,
    /// Session cookie and its CSRF cookie and token, for the web forms.
    session: String,
    csrf_cookie: String,
    csrf: String,
    /// Where the fake Slack takes command replies: a signed request carries Slack's own.
    response_url: String,
}

// ---------------------------------------------------------------------------------------------
// Extreme values
// ---------------------------------------------------------------------------------------------

const EXTREME_DATES: &[&str] = &[
    "+262142-12-31T23:59:59Z",
    "-262143-01-01T00:00:00Z",
    "+262143-01-01T00:00:00Z",
    "+100000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31",
    "0001-01-01T00:00:00Z",
    "0000-01-01",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59-23:59",
    "2026-02-30",
    "2026-13-01",
    "2026-07-01T25:00:00Z",
    "2099-01-01T00:00:00Z",
    "2026-07-01T09:30:00.999999999+14:00",
    "",
    "now",
    "2026-W99",
];

const EXTREME_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{200b}\u{200b}",
    "\u{feff}",
    "\u{202e}evil\u{202c}",
    "\t\r\n",
    "\0",
    "sevtool",
    "alert:x",
    "alert:alertmanager",
    "U0123ABC",
    "web",
    "api",
    "SEV-1",
    "<script>alert(1)</script>",
    "'; DROP TABLE sevs; --",
    "{{title}}",
    "../../etc/passwd",
    "%00",
    "é",
    "🔥",
    "-9223372036854775808",
    "18446744073709551616",
];

fn extreme_value(rng: &mut StdRng) -> Value {
    match rng.random_range(0..14) {
        0 | 1 => json!(EXTREME_DATES.choose(rng).copied().unwrap_or_default()),
        2 | 3 => json!(EXTREME_STRINGS.choose(rng).copied().unwrap_or_default()),
        4 => json!("x".repeat(*[201, 2001, 20_001, 70_000].choose(rng).unwrap_or(&201))),
        5 => json!(i64::MIN),
        6 => json!(u64::MAX),
        7 => json!(-1),
        8 => json!(1e308),
        9 => Value::Null,
        10 => json!(true),
        11 => json!([1, "a", null]),
        12 => json!({"a": {"b": []}}),
        _ => json!(format!("{}/{}", "a".repeat(rng.random_range(1..300)), "b")),
    }
}

/// Replaces one field of `body` (or adds one) with an extreme value, most of the time.
fn mutate(rng: &mut StdRng, mut body: Value, extra_fields: &[&str]) -> Value {
    if rng.random_bool(0.1) {
        return body;
    }
    let mut fields: Vec<String> = body
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    fields.extend(extra_fields.iter().map(|s| (*s).to_owned()));
    fields.push("unknown_field".into());
    if let (Some(field), Some(obj)) = (fields.choose(rng).cloned(), body.as_object_mut()) {
        let v = extreme_value(rng);
        if rng.random_bool(0.1) {
            obj.remove(&field);
        } else {
            obj.insert(field, v);
        }
    }
    body
}

fn one<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from.choose(rng).copied().unwrap_or_default()
}

const LONG_LABEL: &str = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";

fn any_id(rng: &mut StdRng, real: &[String], prefix: &str) -> String {
    if rng.random_bool(0.75)
        && let Some(id) = real.choose(rng)
    {
        return id.clone();
    }
    let weird = [
        "0".to_owned(),
        format!("{prefix}-0"),
        format!("{prefix}-99999"),
        "18446744073709551615".into(),
        "18446744073709551616".into(),
        format!("{prefix}--1"),
        "%20".into(),
        "%00".into(),
        "..".into(),
        format!("{prefix}-1a"),
        "%E2%80%8B".into(),
        "x".repeat(300),
    ];
    weird.choose(rng).cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

fn api_request(rng: &mut StdRng, t: &Targets) -> Req {
    use reqwest::Method as M;
    let sev = any_id(rng, &t.sevs, "SEV");
    let sca = any_id(rng, &t.scas, "SCA");
    let date = || json!("2026-01-01T00:00:00Z");
    let (method, path, body, extra): (M, String, Value, &[&str]) = match rng.random_range(0..13) {
        0 => (
            M::POST,
            "/api/sevs".into(),
            json!({"title": "fuzz", "level": "SEV3", "tags": ["fuzz/run"], "started_at": date(), "detected_at": date(), "drill": true}),
            &["description", "product_track", "private", "reporter"],
        ),
        1 => (
            M::POST,
            format!("/api/sevs/{sev}/updates"),
            json!({"text": "fuzz update"}),
            &["author", "public"],
        ),
        2 => (
            M::POST,
            format!("/api/sevs/{sev}/status"),
            json!({"status": one(rng, &["mitigated", "resolved", "open", "closed"]), "reason": "fuzz"}),
            &["author"],
        ),
        3 => (
            M::PATCH,
            format!("/api/sevs/{sev}"),
            json!({"title": "fuzzed title"}),
            &[
                "level",
                "description",
                "product_track",
                "coordinator",
                "report_owner",
                "comms_lead",
                "deputies",
                "add_deputies",
                "remove_deputies",
                "tags",
                "add_tags",
                "remove_tags",
                "private",
                "started_at",
                "detected_at",
                "author",
            ],
        ),
        4 => (
            M::POST,
            format!("/api/sevs/{sev}/scas"),
            json!({"text": "fuzz sca", "priority": "must", "due": EXTREME_DATES.choose(rng).copied().unwrap_or_default()}),
            &["owner", "ticket", "author"],
        ),
        5 => (
            M::PATCH,
            format!("/api/scas/{sca}"),
            json!({"due": EXTREME_DATES.choose(rng).copied().unwrap_or_default()}),
            &["text", "priority", "owner", "ticket", "state", "reason", "author"],
        ),
        6 => (
            M::POST,
            format!("/api/sevs/{sev}/pages"),
            json!({"team": "payments"}),
            &["author"],
        ),
        7 => (
            M::POST,
            format!("/api/sevs/{sev}/mayday"),
            json!({"confirm": true}),
            &["author"],
        ),
        8 => (M::POST, format!("/api/sevs/{sev}/retry"), json!({}), &[]),
        9 => (
            M::PUT,
            format!("/api/sevs/{sev}/report"),
            json!({"markdown": "# fuzz", "version": 0}),
            &["author"],
        ),
        10 => (
            M::POST,
            format!("/api/sevs/{sev}/report/complete"),
            json!({}),
            &["author"],
        ),
        11 => (
            M::POST,
            "/api/reports/weekly/post".into(),
            json!({"week": one(rng, &["2026-W01", "9999-W52", "0000-W00", "2026-W53", "+262142-W01"])}),
            &[],
        ),
        _ => (
            M::POST,
            "/api/sevs".into(),
            json!({"title": EXTREME_STRINGS.choose(rng).copied().unwrap_or("x"), "level": "SEV3", "drill": true}),
            &["started_at", "detected_at", "tags"],
        ),
    };
    let body = mutate(rng, body, extra);
    let mut req = Req::new(method, path).header("authorization", format!("Bearer {ACCESS_TOKEN}"));
    match rng.random_range(0..20) {
        // Broken JSON.
        0 => {
            let text = body.to_string();
            let cut = rng.random_range(0..text.len().max(1));
            req = req
                .header("content-type", "application/json")
                .raw(text.as_bytes()[..cut].to_vec());
        }
        // Wrong content types.
        1 => {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .raw(b"title=x&level=SEV1".to_vec())
        }
        2 => {
            req = req
                .header("content-type", "text/plain")
                .raw(body.to_string().into_bytes())
        }
        3 => req = req.raw(body.to_string().into_bytes()),
        // Over the body limit.
        4 => {
            let big = json!({"title": "x", "level": "SEV3", "description": "d".repeat(700 * 1024)});
            req = req.json(&big);
            req.oversized = true;
        }
        // Not UTF-8, or a JSON that is not an object.
        5 => {
            req = req
                .header("content-type", "application/json")
                .raw(vec![0xff, 0xfe, b'{', 0x00])
        }
        6 => req = req.json(&extreme_value(rng)),
        _ => req = req.json(&body),
    }
    if rng.random_bool(0.2) {
        let keys = ["", " ", "k", "\u{7f}", &"k".repeat(256), "same-key", "ü"];
        if let Some(k) = keys.choose(rng)
            && reqwest::header::HeaderValue::from_str(k).is_ok()
        {
            req = req.header("idempotency-key", *k);
        }
    }
    req
}

fn query_request(rng: &mut StdRng, t: &Targets) -> Req {
    let when = |rng: &mut StdRng| urlencode(one(rng, EXTREME_DATES));
    let month = |rng: &mut StdRng| {
        let m = [
            "2026-07",
            "0000-01",
            "9999-12",
            "1970-01",
            "2026-13",
            "+262142-01",
            "-0001-01",
            "2026-7",
            "",
            "1969-12",
        ];
        m.choose(rng).copied().unwrap_or_default().replace('+', "%2B")
    };
    let sev = any_id(rng, &t.sevs, "SEV");
    let path = match rng.random_range(0..14) {
        0 => format!("/api/sevs?since={}&until={}", when(rng), when(rng)),
        1 => format!("/api/sevs?since={}", when(rng)),
        2 => format!(
            "/api/sevs?status={}&level={}",
            urlencode(EXTREME_STRINGS.choose(rng).copied().unwrap_or_default()),
            ["SEV0,SEV9", "sev1", "", ",,,", "SEV1,SEV1"]
                .choose(rng)
                .copied()
                .unwrap_or_default()
        ),
        3 => format!("/api/reports/monthly?since={}&until={}", month(rng), month(rng)),
        4 => format!(
            "/api/reports/top?dimension={}&since={}&until={}&limit={}",
            ["product_track", "tag", "system", "team", "x", ""]
                .choose(rng)
                .copied()
                .unwrap_or_default(),
            month(rng),
            month(rng),
            ["10", "0", "-1", "18446744073709551616", "99999999", "x"]
                .choose(rng)
                .copied()
                .unwrap_or("1")
        ),
        5 => format!(
            "/api/reports/trend?level={}&months={}",
            ["SEV1", "SEV9", ""].choose(rng).copied().unwrap_or_default(),
            ["2", "120", "121", "0", "-5", "4294967296", "x"]
                .choose(rng)
                .copied()
                .unwrap_or("3")
        ),
        6 => format!("/api/reports/scas?since={}&until={}", month(rng), month(rng)),
        7 => format!(
            "/api/reports/weekly?week={}",
            [
                "2026-W01",
                "9999-W52",
                "0000-W00",
                "2026-W53",
                "%2B262142-W01",
                "1970-W01",
                "2026-W1"
            ]
            .choose(rng)
            .copied()
            .unwrap_or_default()
        ),
        8 => format!(
            "/api/export?format={}&since={}&until={}",
            ["csv", "jsonl", "xml", ""].choose(rng).copied().unwrap_or_default(),
            month(rng),
            month(rng)
        ),
        9 => format!(
            "/api/scas?owner={}&overdue={}",
            urlencode(EXTREME_STRINGS.choose(rng).copied().unwrap_or_default()),
            ["true", "false", "1", "x"].choose(rng).copied().unwrap_or_default()
        ),
        10 => format!("/api/sevs/{sev}"),
        11 => format!("/api/sevs/{sev}/alerts"),
        12 => format!("/api/sevs/{sev}/report"),
        _ => [
            "/api/status",
            "/api/sevs?unknown=1",
            "/api/nothing-here",
            "/reports?since=0000-01",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("/api/status")
        .to_owned(),
    };
    let mut req = Req::new(reqwest::Method::GET, path);
    match rng.random_range(0..10) {
        // Unauthenticated, or a wrong token: a JSON 401.
        0 => {}
        1 => req = req.header("authorization", "Bearer wrong"),
        2 => req = req.header("authorization", "Basic Zm9vOmJhcg=="),
        _ => req = req.header("authorization", format!("Bearer {ACCESS_TOKEN}")),
    }
    if rng.random_bool(0.2) {
        req = req.header("accept", "application/json");
    }
    req
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .unwrap_or_default()
        .trim_start_matches("v=")
        .to_owned()
}

fn form_request(rng: &mut StdRng, t: &Targets) -> Req {
    let sev = any_id(rng, &t.sevs, "SEV");
    let sca = any_id(rng, &t.scas, "SCA");
    let pick = |rng: &mut StdRng| -> String {
        if rng.random_bool(0.5) {
            EXTREME_STRINGS.choose(rng).copied().unwrap_or_default().to_owned()
        } else {
            EXTREME_DATES.choose(rng).copied().unwrap_or_default().to_owned()
        }
    };
    let (path, mut fields): (String, Vec<(String, String)>) = match rng.random_range(0..10) {
        0 => (
            "/sevs".into(),
            vec![
                ("submission".into(), format!("fuzz-{}", rng.random::<u32>())),
                ("title".into(), "fuzz form".into()),
                ("level".into(), "SEV3".into()),
            ],
        ),
        1 => (format!("/sevs/{sev}/updates"), vec![("text".into(), "fuzz".into())]),
        2 => (
            format!("/sevs/{sev}/status"),
            vec![("status".into(), "mitigated".into()), ("reason".into(), "fuzz".into())],
        ),
        3 => (
            format!("/sevs/{sev}/fields"),
            vec![(
                [
                    "level",
                    "coordinator",
                    "report_owner",
                    "product_track",
                    "add_tag",
                    "remove_tag",
                    "started_at",
                    "detected_at",
                ]
                .choose(rng)
                .copied()
                .unwrap_or("level")
                .to_owned(),
                pick(rng),
            )],
        ),
        4 => (
            format!("/sevs/{sev}/scas"),
            vec![("text".into(), "fuzz".into()), ("priority".into(), "should".into())],
        ),
        5 => (format!("/scas/{sca}/done"), vec![]),
        6 => (format!("/scas/{sca}/owner"), vec![("owner".into(), pick(rng))]),
        7 => (format!("/sevs/{sev}/mayday"), vec![("confirm".into(), "on".into())]),
        8 => (
            format!("/sevs/{sev}/report"),
            vec![("markdown".into(), pick(rng)), ("version".into(), pick(rng))],
        ),
        _ => ("/weekly/post".into(), vec![("week".into(), pick(rng))]),
    };
    if let Some(f) = fields.first_mut()
        && rng.random_bool(0.5)
    {
        f.1 = pick(rng);
    }
    let mut cookies = Vec::new();
    let with_session = rng.random_bool(0.8);
    if with_session {
        cookies.push(t.session.clone());
    }
    match rng.random_range(0..4) {
        // A valid CSRF cookie and token.
        0 | 1 => {
            cookies.push(t.csrf_cookie.clone());
            fields.insert(0, ("csrf".into(), t.csrf.clone()));
        }
        2 => {
            cookies.push(t.csrf_cookie.clone());
            fields.insert(0, ("csrf".into(), "forged".into()));
        }
        _ => {}
    }
    let body = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let mut req = Req::new(reqwest::Method::POST, path)
        .header("content-type", "application/x-www-form-urlencoded")
        .raw(body.into_bytes());
    if !cookies.is_empty() {
        req = req.header("cookie", cookies.join("; "));
    }
    req
}

const NEXT_TARGETS: &[&str] = &[
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\u{1}",
    "/\u{7f}",
    "/ok\u{0}",
    "https://evil.example",
    "javascript:alert(1)",
    "/%0d%0aSet-Cookie:x=1",
    "/\u{200b}/evil.example",
    "/ /evil.example",
    "/sevs/SEV-1",
    "",
];

fn next_request(rng: &mut StdRng, t: &Targets) -> Req {
    let next = NEXT_TARGETS.choose(rng).copied().unwrap_or_default();
    let mut req = if rng.random_bool(0.5) {
        Req::new(reqwest::Method::GET, format!("/signin?next={}", urlencode(next)))
    } else {
        let body = serde_urlencoded::to_string([
            ("csrf", t.csrf.as_str()),
            ("name", "fuzzer"),
            ("token", ACCESS_TOKEN),
            ("next", next),
        ])
        .unwrap_or_default();
        Req::new(reqwest::Method::POST, "/signin")
            .header("cookie", t.csrf_cookie.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .raw(body.into_bytes())
    };
    if rng.random_bool(0.3) {
        // A page without a session redirects to /signin?next=<its own path>.
        req = Req::new(reqwest::Method::GET, format!("/sevs/{}", urlencode(next)));
    }
    req.check_redirect = true;
    req
}

/// Unix seconds, as Slack stamps a request.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn slack_request(rng: &mut StdRng, t: &Targets, canary_channels: &[String]) -> Req {
    let channel = loop {
        let c = format!("C0FUZZ{}", rng.random_range(0..5));
        if !canary_channels.contains(&c) {
            break c;
        }
    };
    let trigger = format!("trig-{}", rng.random::<u64>());
    let (path, ct, body) = match rng.random_range(0..3) {
        0 => {
            let texts = [
                "",
                "help",
                "new SEV3 fuzz",
                "new SEV9 x",
                "update fuzz",
                "level SEV0",
                "mitigated",
                "resolved because",
                "sca must fix it",
                "scas",
                "scas overdue",
                "owner <@U0123ABC>",
                "owner <@>",
                "tag a//b",
                "page payments",
                "mayday",
                "\u{200b}\u{200b}",
                "new SEV1 \u{200b}\u{200b}",
            ];
            let mut form = vec![
                ("command", "/sev".to_owned()),
                ("text", texts.choose(rng).copied().unwrap_or_default().to_owned()),
                ("channel_id", channel.clone()),
                ("user_id", "U0FUZZ".to_owned()),
                ("trigger_id", trigger.clone()),
                ("response_url", t.response_url.clone()),
            ];
            if rng.random_bool(0.2) {
                form.remove(rng.random_range(0..form.len()));
            }
            (
                "/slack/commands",
                "application/x-www-form-urlencoded",
                serde_urlencoded::to_string(&form).unwrap_or_default().into_bytes(),
            )
        }
        1 => {
            let event = match rng.random_range(0..4) {
                0 => json!({"type": "url_verification", "challenge": "c"}),
                1 => json!({"type": "event_callback", "event_id": format!("Ev{}", rng.random::<u32>()),
                            "event": {"type": "reaction_added", "user": "U0FUZZ", "reaction": "sev-mitigated",
                                      "item": {"type": "message", "channel": channel, "ts": "1.2"}}}),
                2 => json!({"type": "event_callback", "event": {}}),
                _ => extreme_value(rng),
            };
            ("/slack/events", "application/json", event.to_string().into_bytes())
        }
        _ => {
            let payload = match rng.random_range(0..4) {
                0 => json!({"type": "view_submission", "user": {"id": "U0FUZZ"},
                            "view": {"id": format!("V{}", rng.random::<u32>()), "callback_id": "sev_intake",
                                     "state": {"values": {"title": {"title": {"value": EXTREME_STRINGS.choose(rng).copied().unwrap_or("t")}},
                                                           "level": {"level": {"selected_option": {"value": "SEV3"}}}}}}}),
                1 => json!({"type": "block_actions", "trigger_id": trigger, "user": {"id": "U0FUZZ"},
                            "actions": [{"action_id": one(rng, &["sca_done", "sca_snooze_1d", "sca_snooze_1w", "sca_reassign", "x"]),
                                         "value": one(rng, &["SCA-99999", "x", ""])}]}),
                2 => json!({"type": "block_actions", "actions": []}),
                _ => extreme_value(rng),
            };
            let form = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap_or_default();
            (
                "/slack/interactions",
                "application/x-www-form-urlencoded",
                form.into_bytes(),
            )
        }
    };
    let now = unix_now();
    let (ts, sig) = match rng.random_range(0..10) {
        // Signed for an extreme or stale timestamp.
        0 => {
            let ts = ["-9223372036854775808", "9223372036854775807", "-1", "0"]
                .choose(rng)
                .copied()
                .unwrap_or("0")
                .to_owned();
            let sig = SigningSecret::new(SIGNING_SECRET).sign(&ts, &body);
            (Some(ts), Some(sig))
        }
        1 => {
            let ts = (now - 301).to_string();
            let sig = SigningSecret::new(SIGNING_SECRET).sign(&ts, &body);
            (Some(ts), Some(sig))
        }
        2 => (Some(now.to_string()), Some("v0=deadbeef".to_owned())),
        3 => (None, None),
        4 => (Some("soon".to_owned()), Some("v0=".to_owned())),
        _ => {
            let ts = now.to_string();
            let sig = SigningSecret::new(SIGNING_SECRET).sign(&ts, &body);
            (Some(ts), Some(sig))
        }
    };
    let mut req = Req::new(reqwest::Method::POST, path)
        .header("content-type", ct)
        .raw(body);
    if let Some(ts) = ts {
        req = req.header("x-slack-request-timestamp", ts);
    }
    if let Some(sig) = sig {
        req = req.header("x-slack-signature", sig);
    }
    req
}

fn alert_request(rng: &mut StdRng) -> Req {
    let (d1, d2) = (one(rng, EXTREME_DATES), one(rng, EXTREME_DATES));
    let key = format!("fuzz-{}", rng.random_range(0..20));
    let labels = json!({"severity": one(rng, &["page", "critical", "info"]),
                        "service": one(rng, &["ledger", "\u{200b}", "a/b", LONG_LABEL]),
                        "alertname": "FuzzAlert"});
    let status = ["firing", "resolved"].choose(rng).copied().unwrap_or("firing");
    let (path, body, extra): (&str, Value, &[&str]) = match rng.random_range(0..3) {
        0 => (
            "/alerts/alertmanager",
            json!({"version": "4", "groupKey": key, "status": status, "receiver": "sevtool",
                   "alerts": [{"status": status, "labels": labels, "annotations": {"summary": "fuzz"}, "startsAt": d1, "endsAt": d2, "fingerprint": key}],
                   "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "truncatedAlerts": 0}),
            &[],
        ),
        1 => (
            "/alerts/grafana",
            json!({"version": "1", "groupKey": key, "status": status, "orgId": 1,
                   "alerts": [{"status": status, "labels": labels, "annotations": {}, "startsAt": d1, "endsAt": d2, "valueString": "[x]"}],
                   "groupLabels": {}, "commonAnnotations": {}, "truncatedAlerts": 0}),
            &[],
        ),
        _ => (
            "/alerts/generic",
            json!({"fingerprint": key, "title": "fuzz alert", "status": status, "labels": labels, "starts_at": d1}),
            &["description", "runbook_url", "source_url"],
        ),
    };
    let mut body = mutate(rng, body, extra);
    if rng.random_bool(0.3)
        && let Some(a) = body
            .get_mut("alerts")
            .and_then(|a| a.get_mut(0))
            .and_then(Value::as_object_mut)
    {
        let field = ["startsAt", "endsAt", "labels", "status", "fingerprint"]
            .choose(rng)
            .copied()
            .unwrap_or("startsAt");
        a.insert(field.into(), extreme_value(rng));
    }
    let mut req = Req::new(reqwest::Method::POST, path);
    req = match rng.random_range(0..10) {
        0 => req,
        1 => req.header("authorization", "Bearer wrong"),
        2 => req.header("authorization", format!("Basic {}", b64(&format!("am:{ALERT_TOKEN}")))),
        3 => req.header("authorization", "Basic !!!"),
        _ => req.header("authorization", format!("Bearer {ALERT_TOKEN}")),
    };
    match rng.random_range(0..12) {
        0 => req
            .header("content-type", "text/plain")
            .raw(body.to_string().into_bytes()),
        1 => req
            .header("content-type", "application/json")
            .raw(b"{\"version\":".to_vec()),
        2 => {
            let mut req = req.json(&json!({"pad": "p".repeat(1100 * 1024)}));
            req.oversized = true;
            req
        }
        _ => req.json(&body),
    }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn generate(rng: &mut StdRng, t: &Targets, canary_channels: &[String]) -> Req {
    match rng.random_range(0..100) {
        0..30 => api_request(rng, t),
        30..48 => query_request(rng, t),
        48..62 => form_request(rng, t),
        62..70 => next_request(rng, t),
        70..85 => slack_request(rng, t, canary_channels),
        _ => alert_request(rng),
    }
}

// ---------------------------------------------------------------------------------------------
// Sending and judging
// ---------------------------------------------------------------------------------------------

/// Whether `path` may answer `503` by the README: paging is off in this run.
fn documented_503(path: &str) -> bool {
    let p = path.split('?').next().unwrap_or(path);
    p.ends_with("/pages") || p.ends_with("/mayday")
}

/// A `Location` that leaves the site, or that a browser would read as another site once it
/// drops tabs and newlines (WHATWG URL parsing) and turns `\` into `/`.
fn leaves_site(location: &str) -> bool {
    let cleaned: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    let trimmed = cleaned.trim_start_matches(|c: char| c <= ' ');
    !trimmed.starts_with('/') || trimmed.starts_with("//")
}

async fn send(http: &reqwest::Client, base: &str, req: &Req, seed: u64, tally: &Mutex<Tally>) {
    let mut builder = http
        .request(req.method.clone(), format!("{base}{}", req.path))
        .timeout(Duration::from_secs(20));
    for (k, v) in &req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    if let Some(b) = &req.body {
        builder = builder.body(b.clone());
    }
    let result = builder.send().await;
    let r = match result {
        Ok(r) => r,
        Err(e) if req.oversized => {
            let mut t = tally.lock().expect("tally lock");
            t.requests += 1;
            t.client_errors += 1;
            drop(e);
            return;
        }
        Err(e) => {
            let mut t = tally.lock().expect("tally lock");
            t.requests += 1;
            t.crashes += 1;
            let mut chain = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                chain.push_str(": ");
                chain.push_str(&s.to_string());
                source = s.source();
            }
            let what = format!("seed {seed}: no answer ({chain}): {}", req.describe());
            t.fail(what);
            return;
        }
    };
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(reqwest::header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let ct = r
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut t = tally.lock().expect("tally lock");
    t.requests += 1;
    match status {
        200..=299 => t.ok += 1,
        300..=399 => t.redirects += 1,
        400..=499 => t.client_errors += 1,
        _ => t.server_errors += 1,
    }
    if status >= 500 && !(status == 503 && documented_503(&req.path)) {
        let what = format!("seed {seed}: {status} for {}: {}", req.describe(), snippet(&text));
        t.fail(what);
    }
    if (400..500).contains(&status) && req.path.starts_with("/api/") {
        let error = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned));
        if error.is_none() {
            let what = format!(
                "seed {seed}: {status} without a JSON error (content-type {ct:?}) for {}: {}",
                req.describe(),
                snippet(&text)
            );
            t.fail(what);
        }
    }
    if req.check_redirect
        && let Some(loc) = location
        && leaves_site(&loc)
    {
        let what = format!(
            "seed {seed}: {status} redirects off the site to {loc:?} for {}",
            req.describe()
        );
        t.fail(what);
    }
}

async fn healthy(http: &reqwest::Client, base: &str) -> bool {
    match http
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(r) => r.status() == 200,
        Err(_) => false,
    }
}

/// The fields of a SEV that no request of this run may change on a canary.
fn fingerprint(detail: &Value) -> Value {
    let scas: Vec<Value> = detail["scas"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| json!([s["id"], s["text"], s["owner"], s["due"], s["state"], s["priority"]]))
                .collect()
        })
        .unwrap_or_default();
    let timeline_len = detail["timeline"].as_array().map_or(0, Vec::len);
    json!({
        "title": detail["title"], "level": detail["level"], "status": detail["status"],
        "private": detail["private"], "tags": detail["tags"], "description": detail["description"],
        "started_at": detail["started_at"], "detected_at": detail["detected_at"],
        "coordinator": detail["coordinator"], "report_owner": detail["report_owner"],
        "scas": scas, "timeline_len": timeline_len,
    })
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

struct Seeded {
    canaries: Vec<String>,
    targets: Targets,
}

async fn seed_data(app: &Sevtool, api: &reqwest::Client, slack: &FakeSlack) -> Seeded {
    let post = |path: String, body: Value| {
        let url = app.url(&path);
        let api = api.clone();
        async move {
            let r = api.post(url).json(&body).send().await.expect("seed request");
            let status = r.status().as_u16();
            let v: Value = r.json().await.expect("seed answer is JSON");
            assert!(status < 300, "seeding {path}: {status} {v}");
            v
        }
    };
    let mut canaries = Vec::new();
    let mut sevs = Vec::new();
    let mut scas = Vec::new();
    for i in 0..6 {
        let private = i % 3 == 1;
        let sev = post(
            "/api/sevs".into(),
            json!({"title": format!("seeded {i}"), "level": format!("SEV{}", i % 4), "private": private,
                   "tags": ["system/payments"], "product_track": "payments", "reporter": "U0SEED",
                   "started_at": "2026-01-05T10:00:00Z", "detected_at": "2026-01-05T10:05:00Z"}),
        )
        .await;
        let id = sev["id"].as_str().expect("SEV id").to_owned();
        post(format!("/api/sevs/{id}/updates"), json!({"text": "seed update"})).await;
        let sca = post(
            format!("/api/sevs/{id}/scas"),
            json!({"text": "seed sca", "priority": "should", "owner": "U0SEED"}),
        )
        .await;
        let sca_id = sca["id"].as_str().expect("SCA id").to_owned();
        if i < 3 {
            canaries.push(id);
        } else {
            sevs.push(id);
            scas.push(sca_id);
        }
    }
    let session = app.session(ACCESS_TOKEN, "fuzzer").await;
    let page = reqwest::Client::new()
        .get(app.url("/sevs/new"))
        .header("cookie", &session)
        .send()
        .await
        .expect("GET /sevs/new");
    let csrf_cookie = blackbox::set_cookie(&page, "sevtool_csrf").expect("a CSRF cookie");
    let csrf = csrf_cookie
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    Seeded {
        canaries,
        targets: Targets {
            sevs,
            scas,
            session,
            csrf_cookie,
            csrf,
            response_url: slack.response_url("fuzz"),
        },
    }
}

async fn snapshot(app: &Sevtool, api: &reqwest::Client, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let r = api
            .get(app.url(&format!("/api/sevs/{id}")))
            .send()
            .await
            .expect("GET canary");
        let v: Value = r.json().await.unwrap_or(Value::Null);
        out.push(fingerprint(&v));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thousands_of_hostile_requests_never_break_sevtool() {
    let seed: u64 = std::env::var("SEVTOOL_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let started = Instant::now();
    let slack = FakeSlack::start().await;
    let dir = tempfile::tempdir().expect("data directory");
    let api_url = slack.api_url();
    let env = [
        ("SEVTOOL_ACCESS_TOKEN", ACCESS_TOKEN),
        ("SLACK_BOT_TOKEN", BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ("SLACK_API_URL", api_url.as_str()),
        ("ALERT_WEBHOOK_TOKEN", ALERT_TOKEN),
        // Panics are logged at error; the warnings of thousands of refused requests are noise.
        ("RUST_LOG", "error"),
    ];
    let app = Sevtool::start(dir.path(), &env).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {ACCESS_TOKEN}")).expect("header"),
    );
    let api = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client");
    let Seeded { canaries, targets } = seed_data(&app, &api, &slack).await;
    // The Slack side of the seeding done, so the canaries' channels exist before the run.
    app.settled().await;
    let canary_channels: Vec<String> = slack
        .ok_calls("conversations.create")
        .iter()
        .filter_map(|c| c.args["name"].as_str().map(str::to_owned))
        .collect();
    let before = snapshot(&app, &api, &canaries).await;

    let tally = Arc::new(Mutex::new(Tally::default()));
    // A fresh connection per request: a connection the server dropped after one request's
    // panic must not make the next request on it look like a crash too.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");

    // The burst of extreme SCA due dates first, then the task consumers get time to choke.
    let mut rng = StdRng::seed_from_u64(seed);
    for i in 0..BURST {
        let sev = &targets.sevs[i % targets.sevs.len()];
        let due = EXTREME_DATES[i % EXTREME_DATES.len()];
        let req = if i % 2 == 0 {
            Req::new(reqwest::Method::POST, format!("/api/sevs/{sev}/scas"))
                .header("authorization", format!("Bearer {ACCESS_TOKEN}"))
                .json(&json!({"text": "burst", "priority": "must", "due": due, "owner": "U0BURST"}))
        } else {
            let sca = targets.scas.choose(&mut rng).cloned().unwrap_or_default();
            Req::new(reqwest::Method::PATCH, format!("/api/scas/{sca}"))
                .header("authorization", format!("Bearer {ACCESS_TOKEN}"))
                .json(&json!({"due": due}))
        };
        send(&raw, &app.base, &req, seed, &tally).await;
    }
    let burst_sent = started.elapsed();
    let drained = app.idle_within(SETTLE).await;
    let burst_drained = started.elapsed();
    if !drained {
        tally.lock().expect("tally lock").fail(format!(
            "seed {seed}: the tasks queued by the burst of extreme SCA due dates did not finish within {SETTLE:?}: {:#?}",
            app.pending()
        ));
    }
    if !healthy(&raw, &app.base).await {
        let mut t = tally.lock().expect("tally lock");
        t.crashes += 1;
        t.fail(format!(
            "seed {seed}: /healthz stopped answering a few seconds after the burst of extreme SCA due dates"
        ));
    }

    // The main run: workers, each with its own stream from the seed.
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let (raw, base, tally, targets, channels) = (
            raw.clone(),
            app.base.clone(),
            tally.clone(),
            targets.clone(),
            canary_channels.clone(),
        );
        workers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(w + 1));
            for i in 0..PER_WORKER {
                let req = generate(&mut rng, &targets, &channels);
                send(&raw, &base, &req, seed, &tally).await;
                if i % 100 == 99 && !healthy(&raw, &base).await {
                    let mut t = tally.lock().expect("tally lock");
                    t.crashes += 1;
                    t.fail(format!(
                        "seed {seed}: /healthz stopped answering (worker {w}, request {i})"
                    ));
                    return;
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        if let Err(e) = done {
            tally
                .lock()
                .expect("tally lock")
                .fail(format!("seed {seed}: a worker panicked: {e}"));
        }
    }

    let run_sent = started.elapsed();
    // Every task the run queued handled, then the process and the canaries are checked.
    let run_drained = app.idle_within(SETTLE).await;
    eprintln!(
        "fuzz: burst sent at {:.1} s, drained at {:.1} s; run sent at {:.1} s, drained at {:.1} s",
        burst_sent.as_secs_f64(),
        burst_drained.as_secs_f64(),
        run_sent.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if !run_drained {
        tally.lock().expect("tally lock").fail(format!(
            "seed {seed}: the tasks queued by the run did not finish within {SETTLE:?}: {:#?}",
            app.pending()
        ));
    }
    let alive = healthy(&raw, &app.base).await;
    let after = if alive {
        snapshot(&app, &api, &canaries).await
    } else {
        Vec::new()
    };
    // A task that panics ends its consumer without ending the process (in this debug build):
    // a SEV filed now must still get its Slack channels.
    let consumers_alive = alive && {
        let before = slack.ok_calls("conversations.create").len();
        let filed = api
            .post(app.url("/api/sevs"))
            .json(&json!({"title": "after the fuzz run", "level": "SEV3"}))
            .send()
            .await
            .is_ok_and(|r| r.status() == 201);
        let deadline = Instant::now() + Duration::from_secs(20);
        while filed && slack.ok_calls("conversations.create").len() == before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        filed && slack.ok_calls("conversations.create").len() > before
    };
    let mut t = tally.lock().expect("tally lock");
    if alive && !consumers_alive {
        t.crashes += 1;
        t.fail(format!(
            "seed {seed}: the task consumer stopped: a SEV filed after the run got no Slack channels"
        ));
    }
    if !alive {
        t.crashes += 1;
        t.fail(format!("seed {seed}: /healthz does not answer at the end of the run"));
    } else {
        for ((id, b), a) in canaries.iter().zip(&before).zip(&after) {
            if a != b {
                t.fail(format!("seed {seed}: canary {id} changed:\n  before {b}\n  after  {a}"));
            }
        }
    }
    eprintln!(
        "fuzz: {} requests, {} 2xx, {} 4xx, {} 5xx, crashes {} ({} 3xx; seed {seed}, {:.1} s)",
        t.requests,
        t.ok,
        t.client_errors,
        t.server_errors,
        t.crashes,
        t.redirects,
        started.elapsed().as_secs_f64()
    );
    if !t.failures.is_empty() {
        panic!(
            "{} failures (seed {seed}; rerun with SEVTOOL_FUZZ_SEED={seed}):\n{}",
            t.failures.len(),
            t.failures.join("\n")
        );
    }
}
