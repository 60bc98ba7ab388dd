//! The `reports` Lambda: an EventBridge schedule (or anyone) invokes it with a small JSON event,
//! `{"action": "weekly"}` or `{"action": "weekly", "week": "2026-W47"}`, and it answers the digest;
//! with `"post": true` it also queues the digest's post to Slack (the Monday schedule does this).
//! Scheduled digests are read by people who may not see private SEVs, so they are left out.
//! `{"action": "sweep"}`, daily, queues the day's sweep (nags re-planned, Jira polled).

use lambda_runtime::{LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::Value;
use sev::app::ReportService;
use sev::reports::{IsoWeek, Viewer};

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
}

async fn handle(reports: &ReportService, event: Value) -> Result<Value, String> {
    let event: Event = serde_json::from_value(event).map_err(|e| {
        format!("bad event ({e}); send {{\"action\": \"weekly\", \"week\"?: \"2026-W47\", \"post\"?: true}} or {{\"action\": \"sweep\"}}")
    })?;
    match event {
        Event::Sweep => {
            let day = reports.start_sweep().await.map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "sweep": day }))
        }
        Event::Weekly { week, post } => {
            let week = match week {
                Some(w) => w.parse::<IsoWeek>().map_err(|e| e.to_string())?,
                None => IsoWeek::of(reports.now()).prev(),
            };
            let digest = reports
                .weekly(week, Viewer::ANONYMOUS)
                .await
                .map_err(|e| e.to_string())?;
            let sevs: usize = digest.by_level.values().map(Vec::len).sum();
            tracing::info!(week = %week, sevs, overdue_scas = digest.overdue_scas.len(), "weekly digest built");
            if post {
                // One post per week however often the schedule's invocation is retried.
                reports
                    .post_digest(week, "scheduled")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            serde_json::to_value(&digest).map_err(|e| e.to_string())
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = sev::wiring::aws_config().await?;
    let services = sev::wiring::aws(&config).await?;
    let reports = &services.reports;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        handle(reports, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use sev::clock::ManualClock;
    use sev::reports::Template;
    use sev::store::{SevRepo, SqliteStore};

    use super::*;

    fn service() -> (ReportService, tempfile::TempDir) {
        let (svc, _, dir) = service_and_repo();
        (svc, dir)
    }

    fn service_and_repo() -> (ReportService, SevRepo, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 7, 22, 8, 0, 0).unwrap()));
        let repo = SevRepo::new(Arc::new(store));
        let svc = ReportService::new(repo.clone(), clock, Arc::new(Template::shipped()));
        (svc, repo, dir)
    }

    #[tokio::test]
    async fn a_scheduled_post_queues_one_slack_post_however_often_it_runs() {
        let (svc, repo, _dir) = service_and_repo();
        handle(&svc, json!({"action": "weekly"})).await.unwrap();
        assert!(repo.outbox(10).await.unwrap().is_empty());
        for _ in 0..2 {
            handle(&svc, json!({"action": "weekly", "post": true})).await.unwrap();
        }
        let keys: std::collections::BTreeSet<String> =
            repo.outbox(10).await.unwrap().into_iter().map(|(_, t)| t.key).collect();
        assert_eq!(keys.into_iter().collect::<Vec<_>>(), ["digest:2026-W29:scheduled"]);
        let out = handle(&svc, json!({"action": "sweep"})).await.unwrap();
        assert_eq!(out["sweep"], "2026-07-22");
        let keys: Vec<String> = repo.outbox(10).await.unwrap().into_iter().map(|(_, t)| t.key).collect();
        assert!(keys.contains(&"sweep:2026-07-22".to_owned()), "{keys:?}");
    }

    #[tokio::test]
    async fn the_weekly_event_answers_last_weeks_digest_by_default() {
        let (svc, _dir) = service();
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
        let (svc, _dir) = service();
        let err = handle(&svc, json!({"action": "monthly"})).await.unwrap_err();
        assert!(err.contains("\"action\": \"weekly\""), "{err}");
        assert!(
            handle(&svc, json!({"action": "weekly", "week": "W5"}))
                .await
                .unwrap_err()
                .contains("ISO week")
        );
    }
}
