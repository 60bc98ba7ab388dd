//! The Slack app's settings, present when both its bot token and signing secret are set.

use crate::slack::{BotToken, Reactions, SigningSecret, SlackSettings};

use super::{ConfigError, checked_as_given, set, set_or};

/// `web_url` is left unset: `from_lookup` fills it in from `SEVTOOL_PUBLIC_URL`.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Option<SlackSettings>, ConfigError> {
    let (Some(token), Some(secret)) = (set(get, "SLACK_BOT_TOKEN"), set(get, "SLACK_SIGNING_SECRET")) else {
        return Ok(None);
    };
    let pattern = set_or(get, "SLACK_CHANNEL_PATTERN", "sev-{n}-{slug}");
    let channel_pattern = checked_as_given("SLACK_CHANNEL_PATTERN", &pattern, |p| {
        if p.contains("{n}") {
            Ok(p.to_owned())
        } else {
            Err("must contain {n}, the SEV number, so every SEV gets its own channel".into())
        }
    })?;
    let reactions = checked_as_given("SLACK_REACTIONS", &set_or(get, "SLACK_REACTIONS", ""), |spec| {
        Reactions::default().with_overrides(spec)
    })?;
    Ok(Some(SlackSettings {
        bot_token: BotToken::new(token),
        signing_secret: SigningSecret::new(secret),
        api_url: set_or(get, "SLACK_API_URL", "https://slack.com/api/"),
        announce_channel: set_or(get, "SLACK_ANNOUNCE_CHANNEL", "sevs"),
        channel_pattern,
        reactions,
        reports_channel: set_or(get, "SLACK_REPORTS_CHANNEL", "sev-reports"),
        digest_channel: set_or(get, "SLACK_DIGEST_CHANNEL", "sev-review"),
        web_url: None,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::tests::config;

    #[test]
    fn slack_needs_both_secrets() {
        assert!(!config(&[("SLACK_BOT_TOKEN", "xoxb-1")]).unwrap().integrations.slack);
        let c = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]).unwrap();
        assert_eq!(c.integrations.describe()[0], "slack: on");
    }

    #[test]
    fn slack_settings_have_documented_defaults_and_are_checked() {
        let both = [("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")];
        let slack = config(&both).unwrap().slack.unwrap();
        assert_eq!(
            (slack.api_url.as_str(), slack.announce_channel.as_str()),
            ("https://slack.com/api/", "sevs")
        );
        assert_eq!(slack.channel_pattern, "sev-{n}-{slug}");
        assert!(
            !format!("{slack:?}").contains("xoxb-1"),
            "secrets never reach Debug output"
        );
        let bad = config(&[both[0], both[1], ("SLACK_CHANNEL_PATTERN", "incident-{slug}")]).unwrap_err();
        assert!(bad.to_string().contains("{n}"), "{bad}");
        assert!(config(&[both[0], both[1], ("SLACK_REACTIONS", "nope")]).is_err());
    }
}
