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
    async fn put(&self, key: &str, content_type: &str, body: Vec<u8>) -> Result<(), LakeError>;
}

/// `{prefix}sevs/format=csv/dt=2026-12-01/sevs.csv`; `prefix` is empty or ends with `/`.
pub fn object_key(prefix: &str, format: Format, day: NaiveDate) -> String {
    let f = format.as_str();
    format!("{prefix}sevs/format={f}/dt={day}/sevs.{f}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_per_format_and_day_under_the_prefix() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            object_key("lake/sevtool/", Format::Csv, day),
            "lake/sevtool/sevs/format=csv/dt=2026-12-01/sevs.csv"
        );
        assert_eq!(
            object_key("", Format::Jsonl, day),
            "sevs/format=jsonl/dt=2026-12-01/sevs.jsonl"
        );
    }
}
