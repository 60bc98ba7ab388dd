use super::socket_mode::AppToken;
use super::{BotToken, SigningSecret};

/// What a reaction in a SEV's response channel does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reaction {
    Mitigated,
    Resolved,
    Update,
    /// Publish the message as a public update (comms lead, coordinator or deputy only).
    Public,
    Timeline,
    ReportOwner,
    ScaMust,
    ScaShould,
    ScaCould,
}

/// Emoji names per action. Defaults ship with the app manifest; `SLACK_REACTIONS` renames them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reactions(Vec<(Reaction, String)>);

impl Default for Reactions {
    fn default() -> Self {
        Reactions(
            [
                (Reaction::Mitigated, "sev-mitigated"),
                (Reaction::Resolved, "sev-resolved"),
                (Reaction::Update, "sev-update"),
                (Reaction::Public, "sev-public"),
                (Reaction::Timeline, "sev-timeline"),
                (Reaction::ReportOwner, "sev-report-owner"),
                (Reaction::ScaMust, "sca-must"),
                (Reaction::ScaShould, "sca-should"),
                (Reaction::ScaCould, "sca-could"),
            ]
            .into_iter()
            .map(|(r, n)| (r, n.to_owned()))
            .collect(),
        )
    }
}

impl Reactions {
    const KEYS: [(&'static str, Reaction); 9] = [
        ("mitigated", Reaction::Mitigated),
        ("resolved", Reaction::Resolved),
        ("update", Reaction::Update),
        ("public", Reaction::Public),
        ("timeline", Reaction::Timeline),
        ("report-owner", Reaction::ReportOwner),
        ("sca-must", Reaction::ScaMust),
        ("sca-should", Reaction::ScaShould),
        ("sca-could", Reaction::ScaCould),
    ];

    /// Applies overrides written as `mitigated=fire_out,update=loudspeaker`.
    pub fn with_overrides(mut self, spec: &str) -> Result<Self, String> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, emoji) = pair
                .split_once('=')
                .ok_or_else(|| format!("`{pair}` is not action=emoji"))?;
            let action = Self::KEYS
                .iter()
                .find(|(k, _)| *k == key.trim())
                .map(|(_, a)| *a)
                .ok_or_else(|| {
                    format!(
                        "`{key}` is not an action; use one of {}",
                        Self::KEYS.map(|k| k.0).join(", ")
                    )
                })?;
            let emoji = emoji.trim().trim_matches(':').to_owned();
            if let Some(slot) = self.0.iter_mut().find(|(a, _)| *a == action) {
                slot.1 = emoji;
            }
        }
        Ok(self)
    }

    pub fn action(&self, emoji: &str) -> Option<Reaction> {
        self.0.iter().find(|(_, n)| n == emoji).map(|(a, _)| *a)
    }

    pub fn name(&self, action: Reaction) -> &str {
        self.0
            .iter()
            .find(|(a, _)| *a == action)
            .map_or("", |(_, n)| n.as_str())
    }
}

/// Slack settings; present when the bot token and at least one of the signing secret and the
/// app-level token are configured.
#[derive(Debug, Clone)]
pub struct SlackSettings {
    pub bot_token: BotToken,
    /// `SLACK_SIGNING_SECRET`: turns on the HTTP routes (`/slack/...`).
    pub signing_secret: Option<SigningSecret>,
    /// `SLACK_APP_TOKEN`: turns on Socket Mode (the local server only).
    pub app_token: Option<AppToken>,
    /// `SLACK_API_URL`.
    pub api_url: String,
    /// `SLACK_ANNOUNCE_CHANNEL`: where every non-private SEV is announced (an id or a name).
    pub announce_channel: String,
    /// `SLACK_CHANNEL_PATTERN`: the response channel's name; `-announce` is appended for the other.
    pub channel_pattern: String,
    pub reactions: Reactions,
    /// `SLACK_REPORTS_CHANNEL`: where completed SEV reports are posted for review.
    pub reports_channel: String,
    /// `SLACK_DIGEST_CHANNEL`: where the weekly review digest is posted.
    pub digest_channel: String,
    /// `SEVTOOL_PUBLIC_URL`, for links from Slack to the web UI.
    pub web_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_map_both_ways() {
        let r = Reactions::default();
        assert_eq!(r.action("sev-mitigated"), Some(Reaction::Mitigated));
        assert_eq!(r.name(Reaction::ScaCould), "sca-could");
        assert_eq!(r.action("thumbsup"), None);
    }

    #[test]
    fn the_app_manifest_names_every_route_and_default_emoji() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../slack/manifest.yaml");
        let manifest = std::fs::read_to_string(path).unwrap();
        for route in [
            "/slack/commands",
            "/slack/events",
            "/slack/interactions",
            "command: /sev",
        ] {
            assert!(manifest.contains(route), "manifest lacks {route}");
        }
        for callback in [
            "callback_id: file_sev_from_message",
            "reaction_added",
            "reaction_removed",
        ] {
            assert!(manifest.contains(callback), "manifest lacks {callback}");
        }
        let r = Reactions::default();
        for (action, _) in &r.0 {
            assert!(
                manifest.contains(r.name(*action)),
                "manifest lacks the emoji {}",
                r.name(*action)
            );
        }
    }

    /// The Socket Mode manifest is the HTTP one without request URLs and with Socket Mode on:
    /// the same commands, shortcuts, events and scopes, whichever a team installs.
    #[test]
    fn the_socket_mode_manifest_differs_from_the_http_one_only_in_transport() {
        let read = |name: &str| {
            let path = format!("{}/../slack/{name}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            let body = text.split_once("display_information:").unwrap().1.to_owned();
            body.lines().map(str::to_owned).collect::<Vec<_>>()
        };
        let http = read("manifest.yaml");
        let socket = read("manifest.socket-mode.yaml");
        let expected: Vec<String> = http
            .iter()
            .filter(|l| !l.contains("https://sevtool.example.com/slack/"))
            .map(|l| l.replace("socket_mode_enabled: false", "socket_mode_enabled: true"))
            .collect();
        assert_eq!(socket, expected);
        assert!(socket.iter().any(|l| l.trim() == "socket_mode_enabled: true"));
        assert_eq!(
            http.len() - socket.len(),
            3,
            "three request URLs: commands, events, interactions"
        );
    }

    #[test]
    fn overrides_rename_and_bad_specs_are_explained() {
        let r = Reactions::default()
            .with_overrides("mitigated=:fire_out:, update=loudspeaker")
            .unwrap();
        assert_eq!(r.action("fire_out"), Some(Reaction::Mitigated));
        assert_eq!(r.action("sev-mitigated"), None);
        assert_eq!(r.action("loudspeaker"), Some(Reaction::Update));
        assert!(
            Reactions::default()
                .with_overrides("mitigated")
                .unwrap_err()
                .contains("action=emoji")
        );
        assert!(
            Reactions::default()
                .with_overrides("explode=boom")
                .unwrap_err()
                .contains("mitigated")
        );
    }
}
