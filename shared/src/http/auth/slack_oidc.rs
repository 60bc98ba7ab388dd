//! Sign in with Slack: OpenID Connect's authorization-code flow against the company's workspace.
//!
//! The ID token comes straight from Slack's token endpoint over TLS, so, as OpenID Connect Core
//! (3.1.3.7) allows, TLS vouches for its issuer and its signature is not checked again here; its
//! audience, nonce, expiry and workspace are.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::config::SlackSignInSettings;

#[derive(Clone)]
pub struct SlackSignIn {
    settings: SlackSignInSettings,
    http: reqwest::Client,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignInError {
    /// Slack or the network failed; trying again may work.
    #[error("Slack did not answer the sign-in ({0}); try again")]
    Unavailable(String),
    /// What Slack said does not let this person in.
    #[error("{0}")]
    Refused(String),
}

/// The claims sevtool reads from Slack's ID token.
#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    exp: i64,
    #[serde(default)]
    nonce: Option<String>,
    sub: String,
    #[serde(rename = "https://slack.com/user_id", default)]
    user_id: Option<String>,
    #[serde(rename = "https://slack.com/team_id", default)]
    team_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    ok: bool,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Who Slack says signed in: the Slack user id, and a name to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackUser {
    pub id: String,
    pub name: String,
}

impl SlackSignIn {
    pub fn new(mut settings: SlackSignInSettings, http: reqwest::Client) -> Self {
        if !settings.api_url.ends_with('/') {
            settings.api_url.push('/');
        }
        SlackSignIn { settings, http }
    }

    /// Where to send the browser to start signing in.
    pub fn authorize_url(&self, state: &str, nonce: &str) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("client_id", self.settings.client_id.as_str()),
            ("state", state),
            ("nonce", nonce),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
        ])
        .unwrap_or_else(|e| unreachable!("string pairs always encode: {e}"));
        format!("{}?{query}", self.settings.authorize_url)
    }

    /// Trades the code Slack sent back for the person it names.
    pub async fn exchange(&self, code: &str, nonce: &str, now: DateTime<Utc>) -> Result<SlackUser, SignInError> {
        let url = format!("{}openid.connect.token", self.settings.api_url);
        let form = serde_urlencoded::to_string([
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.expose()),
            ("code", code),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
        ])
        .unwrap_or_else(|e| unreachable!("string pairs always encode: {e}"));
        // The URL and the error's source are left out: neither helps, and the body held a secret.
        let answer: TokenAnswer = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| SignInError::Unavailable(transport(&e)))?
            .json()
            .await
            .map_err(|e| SignInError::Unavailable(transport(&e)))?;
        if !answer.ok {
            let error = answer.error.unwrap_or_else(|| "unknown_error".into());
            return Err(SignInError::Refused(format!(
                "Slack refused the sign-in ({error}); start again"
            )));
        }
        let token = answer
            .id_token
            .ok_or_else(|| SignInError::Refused("Slack sent no ID token; start again".into()))?;
        self.check(&token, nonce, now)
    }

    fn check(&self, id_token: &str, nonce: &str, now: DateTime<Utc>) -> Result<SlackUser, SignInError> {
        let refused = |why: &str| SignInError::Refused(format!("Slack's answer is not usable: {why}; start again"));
        let payload = id_token
            .split('.')
            .nth(1)
            .ok_or_else(|| refused("malformed ID token"))?;
        let bytes = B64.decode(payload).map_err(|_| refused("malformed ID token"))?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| refused("ID token without its claims"))?;
        if claims.iss != "https://slack.com" {
            return Err(refused("another issuer"));
        }
        if claims.aud != self.settings.client_id {
            return Err(refused("issued to another app"));
        }
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(refused("it belongs to another sign-in"));
        }
        if claims.exp <= now.timestamp() {
            return Err(refused("expired"));
        }
        if let Some(team) = &self.settings.team_id
            && claims.team_id.as_deref() != Some(team.as_str())
        {
            return Err(SignInError::Refused(
                "that Slack workspace may not use this sevtool; sign in with the company's workspace".into(),
            ));
        }
        let id = claims.user_id.unwrap_or(claims.sub);
        let name = claims
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| id.clone());
        Ok(SlackUser { id, name })
    }
}

fn transport(e: &reqwest::Error) -> String {
    match e.status() {
        Some(status) => format!("HTTP {status}"),
        None if e.is_timeout() => "timed out".into(),
        None => "connection failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use serde_json::json;

    fn sign_in(team: Option<&str>) -> SlackSignIn {
        SlackSignIn::new(
            SlackSignInSettings {
                client_id: "123.456".into(),
                client_secret: Secret::new("s"),
                team_id: team.map(Into::into),
                authorize_url: "https://slack.com/openid/connect/authorize".into(),
                api_url: "https://slack.com/api/".into(),
                redirect_uri: "https://sev.example.com/auth/slack/callback".into(),
            },
            reqwest::Client::new(),
        )
    }

    fn token(claims: serde_json::Value) -> String {
        format!("e30.{}.sig", B64.encode(claims.to_string()))
    }

    fn claims(now: DateTime<Utc>) -> serde_json::Value {
        json!({"iss": "https://slack.com", "aud": "123.456", "exp": now.timestamp() + 60, "nonce": "n1",
               "sub": "U1", "https://slack.com/user_id": "U1", "https://slack.com/team_id": "T1", "name": "Ada"})
    }

    #[test]
    fn the_authorize_url_carries_state_nonce_and_the_registered_redirect() {
        let url = sign_in(None).authorize_url("st", "n1");
        assert!(url.starts_with("https://slack.com/openid/connect/authorize?response_type=code"));
        assert!(url.contains("scope=openid+profile") && url.contains("state=st") && url.contains("nonce=n1"));
        assert!(url.contains("redirect_uri=https%3A%2F%2Fsev.example.com%2Fauth%2Fslack%2Fcallback"));
    }

    #[test]
    fn an_id_token_is_checked_for_audience_nonce_expiry_and_workspace() {
        let now = Utc::now();
        let s = sign_in(Some("T1"));
        let ok = s.check(&token(claims(now)), "n1", now).unwrap();
        assert_eq!(
            ok,
            SlackUser {
                id: "U1".into(),
                name: "Ada".into()
            }
        );
        assert!(s.check(&token(claims(now)), "n2", now).is_err(), "nonce");
        let mut other = claims(now);
        other["aud"] = json!("999");
        assert!(s.check(&token(other), "n1", now).is_err(), "audience");
        let mut old = claims(now);
        old["exp"] = json!(now.timestamp() - 1);
        assert!(s.check(&token(old), "n1", now).is_err(), "expiry");
        let mut elsewhere = claims(now);
        elsewhere["https://slack.com/team_id"] = json!("T2");
        let err = s.check(&token(elsewhere.clone()), "n1", now).unwrap_err();
        assert!(err.to_string().contains("workspace"), "{err}");
        assert!(
            sign_in(None).check(&token(elsewhere), "n1", now).is_ok(),
            "any workspace unless set"
        );
        assert!(s.check("garbage", "n1", now).is_err());
    }
}
