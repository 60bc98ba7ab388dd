//! The Slack app's settings: present when the bot token is set together with a way to hear
//! Slack, the signing secret (HTTP), the app-level token (Socket Mode), or both.

use crate::slack::socket_mode::AppToken;
use crate::slack::{BotToken, Reactions, SigningSecret, SlackSettings};

use super::{ConfigError, checked_as_given, hidden, missing, set, set_or};

/// `web_url` is left unset: `from_lookup` fills it in from `SEVTOOL_PUBLIC_URL`.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Option<SlackSettings>, ConfigError> {
    let app_token = set(get, "SLACK_APP_TOKEN")
        .map(|raw| AppToken::parse(&raw).map_err(|reason| hidden("SLACK_APP_TOKEN", reason)))
        .transpose()?;
    let signing_secret = set(get, "SLACK_SIGNING_SECRET").map(SigningSecret::new);
    let Some(token) = set(get, "SLACK_BOT_TOKEN") else {
        return match app_token {
            Some(_) => Err(missing(
                "SLACK_BOT_TOKEN",
                "Socket Mode (SLACK_APP_TOKEN) also needs the bot token (xoxb-...) to post to Slack",
            )),
            None => Ok(None),
        };
    };
    if signing_secret.is_none() && app_token.is_none() {
        return Ok(None);
    }
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
        signing_secret,
        app_token,
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
    fn slack_needs_the_bot_token_and_a_way_to_hear_slack() {
        assert!(!config(&[("SLACK_BOT_TOKEN", "xoxb-1")]).unwrap().integrations.slack);
        let c = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_SIGNING_SECRET", "s")]).unwrap();
        assert_eq!(c.integrations.describe()[0], "slack: on (HTTP)");
        let socket = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_APP_TOKEN", "xapp-1-A-1-z")]).unwrap();
        let slack = socket.slack.as_ref().unwrap();
        assert!(slack.signing_secret.is_none() && slack.app_token.is_some());
        assert_eq!(socket.integrations.describe()[0], "slack: on (Socket Mode)");
        let both = config(&[
            ("SLACK_BOT_TOKEN", "xoxb-1"),
            ("SLACK_APP_TOKEN", "xapp-1-A-1-z"),
            ("SLACK_SIGNING_SECRET", "s"),
        ])
        .unwrap();
        assert_eq!(both.integrations.describe()[0], "slack: on (Socket Mode and HTTP)");
    }

    #[test]
    fn a_wrong_app_token_is_refused_without_showing_it() {
        let e = config(&[("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_APP_TOKEN", "xoxb-secret-2")]).unwrap_err();
        let said = e.to_string();
        assert!(said.contains("SLACK_APP_TOKEN") && said.contains("xapp-"), "{said}");
        assert!(!said.contains("secret-2"), "{said}");
        let alone = config(&[("SLACK_APP_TOKEN", "xapp-1-A-1-z")]).unwrap_err();
        assert!(alone.to_string().contains("SLACK_BOT_TOKEN"), "{alone}");
        assert!(!alone.to_string().contains("xapp-1-A-1-z"), "{alone}");
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
