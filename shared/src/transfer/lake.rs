//! The data lake's port: a place that keeps whole objects by key (S3 on AWS), and where each
//! export goes in it. One object per format and day, in Hive-style folders (`format=csv/
//! dt=2026-12-01/`) that lake engines such as Athena read as columns; a day's run that is
//! retried overwrites its own object, so it never leaves two.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::Format;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    /// The lake said no (no such bucket, access denied): trying again will not help.
    #[error("the lake refused the export: {0}")]
    Refused(String),
    /// The lake could not be reached or failed: trying again may.
    #[error("the lake is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Lake: Send + Sync {
    /// Stores `body` as `name` under the lake's own folder; returns the whole key it went to.
    async fn put(&self, name: &str, content_type: &str, body: Vec<u8>) -> Result<String, LakeError>;
}

/// `sevs/format=csv/dt=2026-12-01/sevs.csv`, inside the lake's folder.
pub fn object_name(format: Format, day: NaiveDate) -> String {
    let f = format.as_str();
    format!("sevs/format={f}/dt={day}/sevs.{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_per_format_and_day() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(object_name(Format::Csv, day), "sevs/format=csv/dt=2026-12-01/sevs.csv");
        assert_eq!(
            object_name(Format::Jsonl, day),
            "sevs/format=jsonl/dt=2026-12-01/sevs.jsonl"
        );
    }
}
