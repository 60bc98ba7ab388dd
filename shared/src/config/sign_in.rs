//! Who may use sevtool: the shared access token, Sign in with Slack, sessions and the security group.

use crate::app::SecurityGroup;

use super::server::ServerSettings;
use super::{ConfigError, Secret, checked_as_given, checked_secret, missing, set, set_or, trimmed};

/// Sign in with Slack (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`): the auth module's settings.
#[derive(Debug, Clone)]
pub struct SlackSignInSettings {
    pub client_id: String,
    pub client_secret: Secret,
    /// `SLACK_TEAM_ID`: only members of this workspace may sign in.
    pub team_id: Option<String>,
    /// `SLACK_AUTHORIZE_URL`.
    pub authorize_url: String,
    /// `SLACK_API_URL`: where `openid.connect.token` lives.
    pub api_url: String,
    /// `SEVTOOL_PUBLIC_URL` + `/auth/slack/callback`, as registered in the Slack app.
    pub redirect_uri: String,
}

pub(super) struct SignInSettings {
    pub public_url: Option<String>,
    pub slack: Option<SlackSignInSettings>,
    pub access_token: Option<Secret>,
    pub session_key: Option<Secret>,
    pub security_group: SecurityGroup,
}

/// `server` is checked here too: it may serve beyond loopback only when people must sign in.
pub(super) fn read(
    get: &impl Fn(&str) -> Option<String>,
    server: &ServerSettings,
) -> Result<SignInSettings, ConfigError> {
    let public_url = trimmed(get, "SEVTOOL_PUBLIC_URL")
        .map(|u| {
            checked_as_given("SEVTOOL_PUBLIC_URL", u.trim_end_matches('/'), |url| {
                if url.starts_with("https://") || url.starts_with("http://") {
                    Ok(url.to_owned())
                } else {
                    Err("must start with https:// (or http:// on a laptop)".into())
                }
            })
        })
        .transpose()?;
    let slack = slack_sign_in(get, public_url.as_deref())?;
    // Trimmed: a secret pasted from a file often ends in a newline no script would send.
    let access_token = trimmed(get, "SEVTOOL_ACCESS_TOKEN").map(Secret);
    server.check_exposure(access_token.is_some() || slack.is_some())?;
    let session_key = set(get, "SEVTOOL_SESSION_KEY")
        .map(|key| {
            checked_secret("SEVTOOL_SESSION_KEY", key, |key| {
                if key.len() < 32 {
                    Err("is shorter than 32 characters; use a long random value, e.g. `openssl rand -hex 32`".into())
                } else {
                    Ok(())
                }
            })
        })
        .transpose()?;
    let security_group = SecurityGroup::new(
        set(get, "SEVTOOL_SECURITY_GROUP")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
    );
    Ok(SignInSettings {
        public_url,
        slack,
        access_token,
        session_key,
        security_group,
    })
}

/// Sign in with Slack, when both its credentials are set; it needs the public address too.
fn slack_sign_in(
    get: &impl Fn(&str) -> Option<String>,
    public_url: Option<&str>,
) -> Result<Option<SlackSignInSettings>, ConfigError> {
    match (trimmed(get, "SLACK_CLIENT_ID"), set(get, "SLACK_CLIENT_SECRET")) {
        (None, None) => Ok(None),
        (Some(client_id), Some(secret)) => {
            let public = public_url.ok_or_else(|| {
                missing(
                    "SEVTOOL_PUBLIC_URL",
                    "Sign in with Slack needs it, to tell Slack where to send people back",
                )
            })?;
            Ok(Some(SlackSignInSettings {
                client_id,
                client_secret: Secret(secret),
                team_id: trimmed(get, "SLACK_TEAM_ID"),
                authorize_url: set_or(get, "SLACK_AUTHORIZE_URL", "https://slack.com/openid/connect/authorize"),
                api_url: set_or(get, "SLACK_API_URL", "https://slack.com/api/"),
                redirect_uri: format!("{public}/auth/slack/callback"),
            }))
        }
        (id, _) => Err(missing(
            if id.is_some() {
                "SLACK_CLIENT_SECRET"
            } else {
                "SLACK_CLIENT_ID"
            },
            "Sign in with Slack needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::app::SecurityGroup;
    use crate::config::Secret;
    use crate::config::tests::config;

    #[test]
    fn only_loopback_may_be_served_without_sign_in() {
        let err = config(&[("SEVTOOL_HOST", "0.0.0.0")]).unwrap_err().to_string();
        assert!(err.contains("SEVTOOL_ACCESS_TOKEN"), "{err}");
        let c = config(&[("SEVTOOL_HOST", "0.0.0.0"), ("SEVTOOL_ACCESS_TOKEN", "t0ken")]).unwrap();
        assert_eq!(c.access_token.as_ref().map(Secret::expose), Some("t0ken"));
        let padded = config(&[("SEVTOOL_ACCESS_TOKEN", " t0ken\n")]).unwrap();
        assert_eq!(
            padded.access_token.as_ref().map(Secret::expose),
            Some("t0ken"),
            "trimmed"
        );
        assert!(!format!("{c:?}").contains("t0ken"));
        assert!(config(&[("SEVTOOL_HOST", "::1")]).is_ok());
    }

    #[test]
    fn slack_sign_in_needs_both_credentials_and_the_public_address() {
        let both = [("SLACK_CLIENT_ID", "1.2"), ("SLACK_CLIENT_SECRET", "cs")];
        let err = config(&both).unwrap_err().to_string();
        assert!(err.contains("SEVTOOL_PUBLIC_URL"), "{err}");
        let c = config(&[both[0], both[1], ("SEVTOOL_PUBLIC_URL", "https://sev.example.com/")]).unwrap();
        let s = c.slack_sign_in.unwrap();
        assert_eq!(s.redirect_uri, "https://sev.example.com/auth/slack/callback");
        assert_eq!(s.authorize_url, "https://slack.com/openid/connect/authorize");
        assert!(
            config(&[both[0]])
                .unwrap_err()
                .to_string()
                .contains("SLACK_CLIENT_SECRET")
        );
        assert!(config(&[("SEVTOOL_PUBLIC_URL", "sev.example.com")]).is_err());
    }

    #[test]
    fn session_keys_are_long_and_the_security_group_is_a_list() {
        assert!(config(&[("SEVTOOL_SESSION_KEY", "short")]).is_err());
        let c = config(&[
            ("SEVTOOL_SESSION_KEY", "0123456789abcdef0123456789abcdef"),
            ("SEVTOOL_SECURITY_GROUP", "U1, U2,,"),
        ])
        .unwrap();
        assert_eq!(c.security_group, SecurityGroup::new(["U1".to_owned(), "U2".to_owned()]));
    }
}
