//! What the Lambda functions use on AWS: the table, the queues, the scheduler and the export bucket.

use super::{set, set_or, trimmed};

pub(super) struct AwsSettings {
    pub table: String,
    pub task_queue_url: Option<String>,
    pub pager_queue_url: Option<String>,
    pub schedule_group: String,
    pub schedule_target_arn: Option<String>,
    pub scheduler_role_arn: Option<String>,
    pub export_bucket: Option<String>,
    pub export_prefix: String,
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> AwsSettings {
    AwsSettings {
        table: set_or(get, "SEVTOOL_TABLE", "sevtool"),
        task_queue_url: set(get, "SEVTOOL_TASK_QUEUE_URL"),
        pager_queue_url: set(get, "SEVTOOL_PAGER_QUEUE_URL"),
        schedule_group: set_or(get, "SEVTOOL_SCHEDULE_GROUP", "sevtool"),
        schedule_target_arn: set(get, "SEVTOOL_SCHEDULE_TARGET_ARN"),
        scheduler_role_arn: set(get, "SEVTOOL_SCHEDULER_ROLE_ARN"),
        export_bucket: trimmed(get, "SEVTOOL_EXPORT_BUCKET"),
        export_prefix: key_prefix(&set_or(get, "SEVTOOL_EXPORT_PREFIX", "sevtool/")),
    }
}

/// An S3 key prefix as a folder: no leading `/`, one trailing `/`; `/` alone is the bucket's root.
fn key_prefix(raw: &str) -> String {
    let folder = raw.trim().trim_matches('/');
    if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::config;

    #[test]
    fn the_export_prefix_is_a_folder() {
        let c = config(&[]).unwrap();
        assert_eq!((c.export_bucket, c.export_prefix.as_str()), (None, "sevtool/"));
        let c = config(&[("SEVTOOL_EXPORT_BUCKET", "lake"), ("SEVTOOL_EXPORT_PREFIX", "/raw/sev")]).unwrap();
        assert_eq!(
            (c.export_bucket.as_deref(), c.export_prefix.as_str()),
            (Some("lake"), "raw/sev/")
        );
        assert_eq!(config(&[("SEVTOOL_EXPORT_PREFIX", "/")]).unwrap().export_prefix, "");
    }
}
