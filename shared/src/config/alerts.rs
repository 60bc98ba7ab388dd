//! The alert webhooks: the token alert sources must send and the routing rules.

use std::path::PathBuf;

use super::{Secret, set};

pub(super) struct AlertSettings {
    pub webhook_token: Option<Secret>,
    pub rules: Option<PathBuf>,
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> AlertSettings {
    AlertSettings {
        // Taken as given (not trimmed): a token is compared byte for byte.
        webhook_token: set(get, "ALERT_WEBHOOK_TOKEN").map(Secret),
        rules: set(get, "SEVTOOL_ALERT_RULES").map(PathBuf::from),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::Secret;
    use crate::config::tests::config;

    #[test]
    fn the_alert_token_is_kept_but_never_printed() {
        let c = config(&[("ALERT_WEBHOOK_TOKEN", "s3cret"), ("SEVTOOL_ALERT_RULES", "rules.toml")]).unwrap();
        assert_eq!(c.alert_webhook_token.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(c.alert_rules, Some(PathBuf::from("rules.toml")));
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            config(&[("ALERT_WEBHOOK_TOKEN", " ")]).unwrap().alert_webhook_token,
            None
        );
    }
}
