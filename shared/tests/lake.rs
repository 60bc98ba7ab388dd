//! The data lake export against the AWS wire protocol (moto's S3): the object written is the
//! export byte for byte, a day's rerun replaces it, and S3's refusals and outages are told apart.

use crate::common;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use sev::app::{ExportError, TransferService};
use sev::clock::ManualClock;
use sev::reports::{Month, MonthRange, Viewer};
use sev::store::{SevRepo, SqliteStore};
use sev::transfer::{self, Format, LakeError, S3Lake};

async fn s3() -> aws_sdk_s3::Client {
    // moto serves buckets by path, not as host names.
    let config = aws_sdk_s3::config::Builder::from(&common::sdk_config().await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Three SEVs of July 2026, one of them private.
async fn reports(dir: &std::path::Path) -> TransferService {
    let repo = SevRepo::new(Arc::new(SqliteStore::open(&dir.join("l.db")).unwrap()));
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 7, 22, 8, 0, 0).unwrap()));
    let reports = TransferService::new(repo, clock);
    let csv = "id,title,level,status,started_at,private,tags\n\
               1,Checkout 5xx,SEV1,open,2026-07-01T10:00:00Z,false,system/payments-api\n\
               2,\"Search slow, again\",SEV3,open,2026-07-03T10:00:00Z,false,\n\
               3,Leaked keys,SEV0,open,2026-07-02T10:00:00Z,true,\n";
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    for row in rows.records() {
        let sev = transfer::from_record(&header, &row.unwrap()).unwrap();
        reports.import(&sev).await.unwrap();
    }
    reports
}

fn july() -> MonthRange {
    let m = Month::new(2026, 7).unwrap();
    MonthRange::new(m, m).unwrap()
}

#[tokio::test]
async fn the_object_is_the_export_and_a_rerun_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let reports = reports(dir.path()).await;
    let client = s3().await;
    let bucket = common::unique("lake");
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let lake = S3Lake::new(client.clone(), &bucket, "raw/");

    for format in [Format::Csv, Format::Jsonl] {
        let first = reports.export_to_lake(&lake, format, july()).await.unwrap();
        let again = reports.export_to_lake(&lake, format, july()).await.unwrap();
        assert_eq!(first, again);
        assert_eq!(first.sevs, 2, "the private SEV stays out of the lake");
        let object = client
            .get_object()
            .bucket(&bucket)
            .key(&first.key)
            .send()
            .await
            .unwrap();
        assert_eq!(object.content_type(), Some(format.content_type()));
        let body = object.body.collect().await.unwrap().into_bytes();
        let mut expected = Vec::new();
        let visible = reports.export(july(), Viewer::ANONYMOUS).await.unwrap();
        transfer::write(&visible, format, &mut expected).unwrap();
        assert_eq!(body.as_ref(), expected.as_slice(), "{format:?}");
        assert_eq!(body.len(), first.bytes);
    }
    let listed = client.list_objects_v2().bucket(&bucket).send().await.unwrap();
    let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "raw/sevs/format=csv/dt=2026-07-22/sevs.csv",
            "raw/sevs/format=jsonl/dt=2026-07-22/sevs.jsonl"
        ],
        "one object per format and day, however often it runs"
    );
}

#[tokio::test]
async fn a_missing_bucket_is_refused_and_an_unreachable_lake_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let reports = reports(dir.path()).await;
    let missing = S3Lake::new(s3().await, common::unique("nobucket"), "");
    match reports.export_to_lake(&missing, Format::Csv, july()).await {
        Err(ExportError::Lake(LakeError::Refused(why))) => assert!(why.contains("PutObject"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let nowhere = aws_sdk_s3::config::Builder::from(&common::sdk_config().await)
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .build();
    let down = S3Lake::new(aws_sdk_s3::Client::from_conf(nowhere), "lake", "");
    match reports.export_to_lake(&down, Format::Csv, july()).await {
        Err(ExportError::Lake(LakeError::Unavailable(_))) => {}
        other => panic!("expected the lake to be unavailable, got {other:?}"),
    }
}
