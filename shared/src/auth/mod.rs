//! Who is calling the web UI and the JSON API, and what they may see.
//!
//! Three ways in, all ending in the same [`Caller`]:
//! - **open**: `sevtool` on loopback with no sign-in configured; the machine's user is trusted.
//! - **shared token** (`SEVTOOL_ACCESS_TOKEN`): scripts send it as a bearer token; people type it
//!   once with their name on `/signin` and get a signed session cookie.
//! - **Sign in with Slack** (`SLACK_CLIENT_ID`, `SLACK_CLIENT_SECRET`): OpenID Connect against the
//!   company's Slack workspace; the session carries the Slack user id, so web actions are recorded
//!   under the same name as Slack ones. This is the way in on AWS.
//!
//! What each caller may see is decided by the one visibility policy, [`crate::app::Access`].

mod middleware;
mod routes;
mod session;
mod slack_oidc;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

pub use middleware::require_sign_in;
pub use routes::routes;
pub use session::{SESSION_TTL, Session, Signer, cookie};
pub use slack_oidc::SlackSignIn;

use crate::api::ApiError;
use crate::app::{Access, SecurityGroup};
use crate::config::Secret;
use crate::reports::Viewer;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "sevtool_session";

/// How requests are authenticated, settled once at start-up.
#[derive(Clone)]
pub struct Auth(Arc<AuthInner>);

struct AuthInner {
    mode: Mode,
    signer: Signer,
    security_group: SecurityGroup,
    /// Session cookies get `Secure` when the public address is https.
    secure_cookies: bool,
}

enum Mode {
    Open,
    SignIn {
        token: Option<Secret>,
        slack: Option<SlackSignIn>,
    },
    /// On AWS with no way to sign in configured: refuse rather than run open on the internet.
    Unconfigured,
}

/// What the deployment allows when no sign-in is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnconfigured {
    /// `sevtool` on loopback (the config refuses other addresses without sign-in).
    Open,
    /// Lambda: reachable from the internet, so refuse.
    Refuse,
}

/// What an [`Auth`] is made of; the config builds it from the environment.
pub struct AuthSettings {
    pub access_token: Option<Secret>,
    pub slack: Option<SlackSignIn>,
    /// `SEVTOOL_SESSION_KEY`; without it a random key is made, so sessions end at restart.
    pub session_key: Option<Secret>,
    pub security_group: SecurityGroup,
    pub secure_cookies: bool,
}

impl Auth {
    pub fn new(settings: AuthSettings, when_unconfigured: WhenUnconfigured) -> Auth {
        let signer = Signer::new(settings.session_key.unwrap_or_else(|| {
            Secret::new(format!(
                "{:032x}{:032x}",
                rand::random::<u128>(),
                rand::random::<u128>()
            ))
        }));
        let mode = match (settings.access_token, settings.slack, when_unconfigured) {
            (None, None, WhenUnconfigured::Open) => Mode::Open,
            (None, None, WhenUnconfigured::Refuse) => Mode::Unconfigured,
            (token, slack, _) => Mode::SignIn { token, slack },
        };
        Auth(Arc::new(AuthInner {
            mode,
            signer,
            security_group: settings.security_group,
            secure_cookies: settings.secure_cookies,
        }))
    }

    /// From the config; `when_unconfigured` says whether no sign-in means open (local loopback)
    /// or refused (Lambda).
    pub fn from_config(config: &crate::config::Config, when_unconfigured: WhenUnconfigured) -> Auth {
        let slack = config
            .slack_sign_in
            .clone()
            .map(|s| SlackSignIn::new(s, crate::paging::http_client()));
        let settings = AuthSettings {
            access_token: config.access_token.clone(),
            slack,
            session_key: config.session_key.clone(),
            security_group: config.security_group.clone(),
            secure_cookies: config.public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
        };
        Auth::new(settings, when_unconfigured)
    }

    /// Sign-in off: every caller is [`Caller::Local`]. For tests and the open local server.
    pub fn open() -> Auth {
        let settings = AuthSettings {
            access_token: None,
            slack: None,
            session_key: None,
            security_group: SecurityGroup::default(),
            secure_cookies: false,
        };
        Auth::new(settings, WhenUnconfigured::Open)
    }

    /// Whether cookies get `Secure`: the public address is https.
    pub fn secure_cookies(&self) -> bool {
        self.0.secure_cookies
    }

    fn signer(&self) -> &Signer {
        &self.0.signer
    }

    fn token(&self) -> Option<&Secret> {
        match &self.0.mode {
            Mode::SignIn { token, .. } => token.as_ref(),
            _ => None,
        }
    }

    fn slack(&self) -> Option<&SlackSignIn> {
        match &self.0.mode {
            Mode::SignIn { slack, .. } => slack.as_ref(),
            _ => None,
        }
    }

    /// The caller a session makes, with their security-group membership as configured now.
    fn person(&self, session: Session) -> Caller {
        let security = self.0.security_group.contains(&session.id);
        Caller::Person(Person {
            id: session.id,
            name: session.name,
            security,
        })
    }

    fn session_cookie(&self, session: &Session) -> String {
        let secure = if self.0.secure_cookies { "; Secure" } else { "" };
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.signer().session_cookie_value(session),
            SESSION_TTL.num_seconds()
        )
    }

    fn new_session(&self, id: String, name: String, now: DateTime<Utc>) -> Session {
        Session {
            id,
            name,
            expires: now + SESSION_TTL,
        }
    }
}

/// Who made a request. Handlers take it as an extractor; the sign-in middleware puts it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The local server with sign-in off: whoever runs it owns the data anyway.
    Local,
    /// A script holding the shared token: an operator's credential, which sees everything.
    Service,
    Person(Person),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub name: String,
    /// In `SEVTOOL_SECURITY_GROUP`: sees every private SEV.
    pub security: bool,
}

impl Caller {
    /// The name a change is recorded under. People are who they signed in as; scripts and the
    /// open local server may name someone (`author`), else `default` says where it came from.
    pub fn actor(&self, given: Option<String>, default: &str) -> Result<String, ApiError> {
        match self {
            Caller::Person(p) => Ok(p.id.clone()),
            Caller::Local | Caller::Service => crate::api::actor(given, default),
        }
    }

    /// What the visibility policy lets them see and act on.
    pub fn access(&self) -> Access {
        match self {
            Caller::Local | Caller::Service => Access::Everything,
            Caller::Person(p) if p.security => Access::Everything,
            Caller::Person(p) => Access::Person(p.id.clone()),
        }
    }

    /// What aggregate numbers (reports, exports) may include.
    pub fn viewer(&self) -> Viewer {
        self.access().viewer()
    }

    /// What pages show in the header.
    pub fn display_name(&self) -> Option<&str> {
        match self {
            Caller::Person(p) => Some(&p.name),
            _ => None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    /// Routes outside the sign-in middleware (none that act on SEVs) see an anonymous person.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Caller>().cloned().unwrap_or_else(|| {
            Caller::Person(Person {
                id: "anonymous".into(),
                name: "anonymous".into(),
                security: false,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, security: bool) -> Caller {
        Caller::Person(Person {
            id: id.into(),
            name: id.into(),
            security,
        })
    }

    #[test]
    fn operators_and_the_security_group_see_everything_and_people_their_own() {
        assert_eq!(Caller::Service.access(), Access::Everything);
        assert_eq!(Caller::Local.access(), Access::Everything);
        assert_eq!(person("U3", true).access(), Access::Everything);
        assert_eq!(person("U3", false).access(), Access::Person("U3".into()));
    }

    #[test]
    fn people_act_as_themselves_and_only_scripts_may_name_someone() {
        assert_eq!(person("U3", false).actor(Some("U1".into()), "api").unwrap(), "U3");
        assert_eq!(Caller::Service.actor(Some("ops-bot".into()), "api").unwrap(), "ops-bot");
        assert_eq!(Caller::Local.actor(None, "web").unwrap(), "web");
        assert_eq!(
            Caller::Service.actor(Some("U024BE7LH".into()), "api").unwrap(),
            "U024BE7LH"
        );
        for reserved in ["alert:x", "sevtool", "web:alice", "JIRA"] {
            assert!(
                Caller::Service.actor(Some(reserved.into()), "api").is_err(),
                "{reserved}"
            );
        }
    }

    #[test]
    fn reports_count_private_sevs_only_for_those_who_see_them_all() {
        assert!(!person("U1", false).viewer().sees_private);
        assert!(person("U1", true).viewer().sees_private);
        assert!(Caller::Service.viewer().sees_private);
    }
}
