//! The events the `reports` function answers. An EventBridge schedule (or anyone) invokes it with
//! a small JSON event:
//! - `{"action": "weekly"}` or `{"action": "weekly", "week": "2026-W47"}` answers the digest;
//!   with `"post": true` it also queues the digest's post to Slack (the Monday schedule does
//!   this). Scheduled digests are read by people who may not see private SEVs: left out.
//! - `{"action": "sweep"}`, daily, queues the day's sweep (nags re-planned, Jira polled), and
//!   counts the month tallies from the SEVs if that was never done (a table from before tallies).
//! - `{"action": "rebuild_tallies"}` counts every month's tally again from the SEVs and answers
//!   `{"sevs", "months", "corrected"}`: after an upgrade, or to check them.
//! - `{"action": "export", "format"?: "csv" | "jsonl", "since"?, "until"?}`, daily, writes the
//!   SEVs to the data lake (`SEVTOOL_EXPORT_BUCKET`), one object per format and day; private
//!   SEVs are left out there too.

use std::sync::Arc;

use lambda_runtime::Diagnostic;
use serde::Deserialize;
use serde_json::Value;
use sev::app::{AppError, ErrorKind, ExportError, Jobs, TransferService, TrendService};
use sev::domain::DomainError;
use sev::reports::{IsoWeek, MAX_MONTHS, Month, MonthRange, Viewer};
use sev::transfer::{Format, Lake};

#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum Event {
    /// The digest of `week`, by default the last complete week.
    Weekly {
        week: Option<String>,
        #[serde(default)]
        post: bool,
    },
    /// Queue today's sweep.
    Sweep,
    /// Count the month tallies again from the SEVs.
    RebuildTallies,
    /// Write the SEVs that started from `since` to `until` (by default the longest range a
    /// report allows, up to this month) to the lake.
    Export {
        format: Option<String>,
        since: Option<String>,
        until: Option<String>,
    },
}

/// What the function works with, built once per cold start.
pub struct Deps {
    pub trends: TrendService,
    pub transfer: TransferService,
    pub jobs: Jobs,
    /// The data lake; none: exports are off.
    pub lake: Option<Arc<dyn Lake>>,
}

/// Why an event failed, named so that CloudWatch can filter on it (`errorType`): a mistake in
/// the event, exports switched off, or the application's own error by its kind.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The event cannot be acted on as sent (its shape, a month, a week, a format).
    #[error("{0}")]
    BadEvent(String),
    #[error("exports are off: set SEVTOOL_EXPORT_BUCKET to the data lake's S3 bucket")]
    ExportsOff,
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Export(#[from] ExportError),
}

impl EventError {
    /// `errorType` in the Lambda's error report. The application's errors go by their kind, so
    /// an alarm can tell an outage (worth a retry) from a refusal.
    pub fn error_type(&self) -> &'static str {
        let kind = |k: ErrorKind| match k {
            ErrorKind::Invalid => "Invalid",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::PreconditionRequired => "PreconditionRequired",
            ErrorKind::Contention => "Contention",
            ErrorKind::Unavailable => "Unavailable",
        };
        match self {
            EventError::BadEvent(_) => "BadEvent",
            EventError::ExportsOff => "ExportsOff",
            EventError::App(e) | EventError::Export(ExportError::App(e)) => kind(e.kind()),
            EventError::Export(ExportError::Lake(_)) => "LakeFailed",
            EventError::Export(ExportError::Write(_)) => "ExportFailed",
        }
    }
}

impl From<EventError> for Diagnostic {
    fn from(e: EventError) -> Diagnostic {
        Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        }
    }
}

impl From<DomainError> for EventError {
    fn from(e: DomainError) -> Self {
        EventError::BadEvent(e.to_string())
    }
}

fn encoded(v: impl serde::Serialize) -> Result<Value, EventError> {
    // Only maps with non-string keys fail to encode, and none of these answers has one.
    serde_json::to_value(v).map_err(|e| EventError::BadEvent(format!("the answer could not be encoded: {e}")))
}

const USAGE: &str = r#"send {"action": "weekly", "week"?: "2026-W47", "post"?: true}, {"action": "sweep"}, {"action": "rebuild_tallies"} or {"action": "export", "format"?: "csv" | "jsonl", "since"?: "2026-01", "until"?: "2026-12"}"#;

pub async fn handle(deps: &Deps, event: Value) -> Result<Value, EventError> {
    let event: Event =
        serde_json::from_value(event).map_err(|e| EventError::BadEvent(format!("bad event ({e}); {USAGE}")))?;
    match event {
        Event::Export { format, since, until } => {
            let Some(lake) = &deps.lake else {
                return Err(EventError::ExportsOff);
            };
            let format: Format = format.as_deref().unwrap_or("jsonl").parse()?;
            // Month's own refusal says what a month looks like; this names the field it was in.
            let month = |field: &str, raw: &str| {
                raw.parse::<Month>().map_err(|e| match e {
                    DomainError::Invalid { reason, .. } => EventError::BadEvent(format!("{field}: {reason}")),
                    e => EventError::BadEvent(format!("{field}: {e}")),
                })
            };
            let until = match until.as_deref() {
                Some(u) => month("until", u)?,
                None => Month::of(deps.transfer.now()),
            };
            let since = match since.as_deref() {
                Some(s) => month("since", s)?,
                None => until.last(MAX_MONTHS).first,
            };
            let range = MonthRange::new(since, until)?;
            let export = deps.transfer.export_to_lake(lake.as_ref(), format, range).await?;
            tracing::info!(
                format = export.format,
                sevs = export.sevs,
                bytes = export.bytes,
                "exported to the lake"
            );
            encoded(&export)
        }
        Event::Sweep => {
            // The day's sweep is queued first: counting an old table's tallies can take long, or
            // fail, and must not hold back the nags.
            let day = deps.jobs.start_sweep().await?;
            if let Some(rebuilt) = deps.trends.ensure_tallies().await? {
                tracing::info!(sevs = rebuilt.sevs, months = rebuilt.months, "month tallies counted");
            }
            Ok(serde_json::json!({ "sweep": day }))
        }
        Event::RebuildTallies => {
            let rebuilt = deps.trends.rebuild_tallies().await?;
            tracing::info!(
                sevs = rebuilt.sevs,
                months = rebuilt.months,
                corrected = rebuilt.corrected,
                "month tallies rebuilt"
            );
            encoded(rebuilt)
        }
        Event::Weekly { week, post } => {
            let week = match week {
                Some(w) => w.parse::<IsoWeek>()?,
                None => IsoWeek::of(deps.trends.now()).prev(),
            };
            let digest = deps.trends.weekly(week, Viewer::ANONYMOUS).await?;
            let sevs: usize = digest.by_level.values().map(Vec::len).sum();
            tracing::info!(week = %week, sevs, overdue_scas = digest.overdue_scas.len(), "weekly digest built");
            if post {
                // One post per week however often the schedule's invocation is retried.
                deps.jobs.post_digest(week, "scheduled").await?;
            }
            encoded(&digest)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use sev::clock::ManualClock;
    use sev::domain::ReportPolicy;
    use sev::queue::{Queue, QueueError, Relay, TaskEnvelope};
    use sev::store::{SevRepo, SqliteStore};
    use sev::transfer::LakeError;

    use super::*;

    /// Keeps what it is given under `lake/`, by key, as a bucket does.
    #[derive(Default)]
    struct FakeLake(Mutex<Vec<(String, String, String)>>);

    #[async_trait]
    impl Lake for FakeLake {
        async fn put(&self, name: &str, content_type: &str, body: Vec<u8>) -> Result<String, LakeError> {
            let key = format!("lake/{name}");
            let mut objects = self.0.lock().unwrap();
            objects.retain(|(k, _, _)| *k != key);
            let body = String::from_utf8(body).map_err(|e| LakeError::Refused(e.to_string()))?;
            objects.push((key.clone(), content_type.into(), body));
            Ok(key)
        }
    }

    /// A queue that is down, so what the jobs queue stays in the outbox for the tests to read.
    struct NoQueue;

    #[async_trait]
    impl Queue for NoQueue {
        async fn send_batch(&self, _: &[TaskEnvelope]) -> Result<(), QueueError> {
            Err(QueueError::Backend("down for the test".into()))
        }
    }

    /// Imports the SEVs of an export's CSV, as `sevtool import` does.
    async fn import(deps: &Deps, csv: &str) {
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let header = rows.headers().unwrap().clone();
        for row in rows.records() {
            let sev = sev::transfer::from_record(&header, &row.unwrap()).unwrap();
            deps.transfer.import(&sev).await.unwrap();
        }
    }

    fn deps_with(lake: Option<Arc<FakeLake>>) -> (Deps, SevRepo, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 7, 22, 8, 0, 0).unwrap()));
        let repo = SevRepo::new(Arc::new(store));
        let relay = Relay::new(repo.clone(), Arc::new(NoQueue));
        let deps = Deps {
            trends: TrendService::new(repo.clone(), clock.clone(), ReportPolicy::default()),
            transfer: TransferService::new(repo.clone(), clock.clone()),
            jobs: Jobs::new(repo.clone(), relay, clock),
            lake: lake.map(|l| l as Arc<dyn Lake>),
        };
        (deps, repo, dir)
    }

    fn exports_off() -> (Deps, tempfile::TempDir) {
        let (deps, _, dir) = deps_with(None);
        (deps, dir)
    }

    #[tokio::test]
    async fn a_scheduled_post_queues_one_slack_post_however_often_it_runs() {
        let (svc, repo, _dir) = deps_with(None);
        handle(&svc, json!({"action": "weekly"})).await.unwrap();
        assert!(repo.outbox(10).await.unwrap().is_empty());
        for _ in 0..2 {
            handle(&svc, json!({"action": "weekly", "post": true})).await.unwrap();
        }
        let queued = async || -> std::collections::BTreeSet<String> {
            let outbox = repo.outbox(10).await.unwrap();
            outbox.into_iter().map(|(_, t)| t.key.to_string()).collect()
        };
        assert_eq!(
            queued().await.into_iter().collect::<Vec<_>>(),
            ["digest:2026-W29:scheduled"]
        );
        let out = handle(&svc, json!({"action": "sweep"})).await.unwrap();
        assert_eq!(out["sweep"], "2026-07-22");
        let keys = queued().await;
        assert!(keys.contains("sweep:2026-07-22"), "{keys:?}");
    }

    #[tokio::test]
    async fn the_rebuild_event_counts_the_month_tallies_again_from_the_sevs() {
        let (deps, _, dir) = deps_with(None);
        let csv = "id,title,level,status,started_at,private\n\
                   7,Checkout 5xx,SEV1,open,2026-07-01T10:00:00Z,false\n\
                   8,Leaked keys,SEV0,open,2026-07-02T10:00:00Z,true\n";
        import(&deps, csv).await;
        let july = MonthRange::new("2026-07".parse().unwrap(), "2026-07".parse().unwrap()).unwrap();
        let total = async || deps.trends.monthly(july, Viewer::OPERATOR).await.unwrap()[0].total;
        assert_eq!(total().await, 2, "an import counts in its month's tally");
        // A tally that lost its counts, as one from before tallies existed would be.
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let lost = sev::store::Item::new(sev::store::Key::new("TALLY", "2026-07"), "{}".into());
        sev::store::Store::put(&store, lost, sev::store::Condition::Always)
            .await
            .unwrap();
        assert_eq!(total().await, 0);
        let out = handle(&deps, json!({"action": "rebuild_tallies"})).await.unwrap();
        assert_eq!(out, json!({"sevs": 2, "months": 1, "corrected": 1}));
        assert_eq!(total().await, 2);
        let again = handle(&deps, json!({"action": "rebuild_tallies"})).await.unwrap();
        assert_eq!(again["corrected"], 0, "nothing left to correct");
    }

    #[tokio::test]
    async fn the_weekly_event_answers_last_weeks_digest_by_default() {
        let (svc, _dir) = exports_off();
        let out = handle(&svc, json!({"action": "weekly"})).await.unwrap();
        assert_eq!(out["week"], "2026-W29");
        assert_eq!(out["by_level"]["SEV1"], json!([]));
        let out = handle(&svc, json!({"action": "weekly", "week": "2026-W02"}))
            .await
            .unwrap();
        assert_eq!(out["week"], "2026-W02");
    }

    #[tokio::test]
    async fn bad_events_say_what_to_send() {
        let (svc, _dir) = exports_off();
        let err = handle(&svc, json!({"action": "monthly"})).await.unwrap_err();
        assert_eq!(err.error_type(), "BadEvent");
        assert!(err.to_string().contains("\"action\": \"weekly\""), "{err}");
        let err = handle(&svc, json!({"action": "weekly", "week": "W5"}))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("ISO week"), "{err}");
        assert_eq!(Diagnostic::from(err).error_type, "BadEvent");
    }

    #[tokio::test]
    async fn the_export_writes_todays_object_without_private_sevs_once_per_day() {
        let lake = Arc::new(FakeLake::default());
        let (deps, _, _dir) = deps_with(Some(lake.clone()));
        let csv = "id,title,level,status,started_at,private\n\
                   7,Checkout 5xx,SEV1,open,2026-07-01T10:00:00Z,false\n\
                   8,Leaked keys,SEV0,open,2026-07-02T10:00:00Z,true\n\
                   9,Search slow,SEV3,open,2016-03-02T10:00:00Z,false\n";
        import(&deps, csv).await;
        let out = handle(&deps, json!({"action": "export", "format": "csv"}))
            .await
            .unwrap();
        assert_eq!(out["key"], "lake/sevs/format=csv/dt=2026-07-22/sevs.csv");
        assert_eq!(
            out["sevs"], 1,
            "the private SEV and the one older than ten years stay out"
        );
        let objects = lake.0.lock().unwrap().clone();
        assert_eq!(objects.len(), 1);
        let (_, content_type, body) = &objects[0];
        assert_eq!(content_type, "text/csv; charset=utf-8");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 2, "{body}");
        assert!(lines[0].starts_with("id,title,level,status"), "{body}");
        assert!(
            lines[1].contains("Checkout 5xx") && !body.contains("Leaked keys"),
            "{body}"
        );

        let out = handle(
            &deps,
            json!({"action": "export", "since": "2016-03", "until": "2026-02"}),
        )
        .await
        .unwrap();
        assert_eq!((out["format"].as_str(), out["sevs"].as_u64()), (Some("jsonl"), Some(1)));
        handle(
            &deps,
            json!({"action": "export", "since": "2016-03", "until": "2026-02"}),
        )
        .await
        .unwrap();
        let keys: Vec<String> = lake.0.lock().unwrap().iter().map(|(k, _, _)| k.clone()).collect();
        assert_eq!(
            keys,
            [
                "lake/sevs/format=csv/dt=2026-07-22/sevs.csv",
                "lake/sevs/format=jsonl/dt=2026-07-22/sevs.jsonl"
            ],
            "a second run the same day replaces its object"
        );
    }

    #[tokio::test]
    async fn exports_say_what_is_wrong_and_write_nothing() {
        let lake = Arc::new(FakeLake::default());
        let (deps, _, _dir) = deps_with(Some(lake.clone()));
        for (event, hint) in [
            (json!({"action": "export", "format": "xlsx"}), "csv or jsonl"),
            (
                json!({"action": "export", "since": "July"}),
                "since: `July` is not a month; write months like 2026-07",
            ),
            (
                json!({"action": "export", "since": "2026-08", "until": "2026-07"}),
                "before since",
            ),
            (json!({"action": "export", "bucket": "other"}), "unknown field"),
        ] {
            let err = handle(&deps, event.clone()).await.unwrap_err();
            assert_eq!(err.error_type(), "BadEvent", "{event}");
            assert!(err.to_string().contains(hint), "{event}: {err}");
        }
        assert!(lake.0.lock().unwrap().is_empty());
        let (off, _dir) = exports_off();
        let err = handle(&off, json!({"action": "export"})).await.unwrap_err();
        assert_eq!(err.error_type(), "ExportsOff");
        assert!(err.to_string().contains("SEVTOOL_EXPORT_BUCKET"), "{err}");
    }
}
