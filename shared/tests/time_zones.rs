//! Owners' time zones from Slack (`users.info`) against a small fake Slack that counts calls:
//! known people get their offset, it is cached, and an outage falls back to what was known.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::response::IntoResponse;
use axum::routing::post;
use chrono::{Duration, FixedOffset, TimeZone, Utc};
use serde_json::json;
use sev::app::TimeZones;
use sev::clock::{Clock, ManualClock};
use sev::slack::{BotToken, SlackClient, SlackTimeZones};
use sev::store::{SevRepo, SqliteStore};

#[derive(Default)]
struct FakeSlack {
    calls: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
    /// How many calls to answer with 429 and `Retry-After: 1` first.
    limited: AtomicUsize,
}

async fn serve(fake: Arc<FakeSlack>) -> String {
    let app = axum::Router::new().route(
        "/users.info",
        post(move |body: String| {
            let fake = fake.clone();
            let args: std::collections::HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
            async move {
                fake.calls.fetch_add(1, Ordering::SeqCst);
                if fake.down.load(Ordering::SeqCst) {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let limited = fake
                    .limited
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
                if limited.is_ok() {
                    return (axum::http::StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")]).into_response();
                }
                let body = match args.get("user").map(String::as_str) {
                    Some("U0TOKYO") => json!({"ok": true, "user": {"id": "U0TOKYO", "tz_offset": 32400}}),
                    _ => json!({"ok": false, "error": "user_not_found"}),
                };
                axum::Json(body).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/")
}

#[tokio::test]
async fn owners_zones_come_from_slack_are_cached_and_survive_an_outage() {
    let fake = Arc::new(FakeSlack::default());
    let url = serve(fake.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = SevRepo::new(Arc::new(SqliteStore::open(&dir.path().join("z.db")).unwrap()));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()));
    let zones = SlackTimeZones::new(SlackClient::new(&url, BotToken::new("xoxb-test")), repo, clock.clone());
    let tokyo = FixedOffset::east_opt(9 * 3600);

    assert_eq!(zones.offset_of(&"U0TOKYO".into()).await, tokyo);
    assert_eq!(zones.offset_of(&"U0TOKYO".into()).await, tokyo);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 1, "the second lookup is cached");
    assert_eq!(zones.offset_of(&"U0NOBODY".into()).await, None);
    assert_eq!(
        zones.offset_of(&"web:alice".into()).await,
        None,
        "not a Slack user: not asked"
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2);

    // A week on the zone is asked for again; Slack being down keeps the last known one.
    fake.down.store(true, Ordering::SeqCst);
    clock.set(clock.now() + Duration::days(8));
    assert_eq!(zones.offset_of(&"U0TOKYO".into()).await, tokyo);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
}

/// A lookup Slack rate-limits waits the `Retry-After` it was given and asks again, as every
/// other Slack call does, instead of failing at once.
#[tokio::test]
async fn a_rate_limited_lookup_waits_as_slack_asks_and_then_succeeds() {
    let fake = Arc::new(FakeSlack::default());
    fake.limited.store(1, Ordering::SeqCst);
    let url = serve(fake.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let repo = SevRepo::new(Arc::new(SqliteStore::open(&dir.path().join("z.db")).unwrap()));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()));
    let zones = SlackTimeZones::new(SlackClient::new(&url, BotToken::new("xoxb-test")), repo, clock);
    let asked = std::time::Instant::now();
    assert_eq!(
        zones.offset_of(&"U0TOKYO".into()).await,
        FixedOffset::east_opt(9 * 3600)
    );
    assert_eq!(fake.calls.load(Ordering::SeqCst), 2, "asked again after the 429");
    assert!(
        asked.elapsed() >= std::time::Duration::from_secs(1),
        "waited the Retry-After"
    );
}
