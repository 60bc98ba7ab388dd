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

use chrono::{DateTime, Utc};

pub use middleware::require_sign_in;
pub use routes::routes;
pub use session::{SESSION_TTL, Session, Signer};
pub use slack_oidc::SlackSignIn;

use super::{Caller, Person};
use crate::app::SecurityGroup;
use crate::clock::{Clock, SystemClock};
use crate::config::Secret;
use crate::domain::Actor;

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
    /// When sessions and sign-ins expire.
    clock: Arc<dyn Clock>,
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
    pub clock: Arc<dyn Clock>,
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
            clock: settings.clock,
        }))
    }

    /// From the config; `when_unconfigured` says whether no sign-in means open (local loopback)
    /// or refused (Lambda).
    pub fn from_config(config: &crate::config::Config, when_unconfigured: WhenUnconfigured) -> Auth {
        let slack = config
            .slack_sign_in
            .clone()
            .map(|s| SlackSignIn::new(s, crate::outbound::client()));
        let settings = AuthSettings {
            access_token: config.access_token.clone(),
            slack,
            session_key: config.session_key.clone(),
            security_group: config.security_group.clone(),
            secure_cookies: config.public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
            clock: Arc::new(SystemClock),
        };
        Auth::new(settings, when_unconfigured)
    }

    /// Sign-in off: every caller is [`Caller::Local`]. For tests and the open local server.
    pub fn open() -> Auth {
        Auth::without_sign_in(WhenUnconfigured::Open)
    }

    /// No way to sign in configured: open or refused, as `when` says.
    pub fn without_sign_in(when: WhenUnconfigured) -> Auth {
        let settings = AuthSettings {
            access_token: None,
            slack: None,
            session_key: None,
            security_group: SecurityGroup::default(),
            secure_cookies: false,
            clock: Arc::new(SystemClock),
        };
        Auth::new(settings, when)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
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

    fn new_session(&self, id: Actor, name: String, now: DateTime<Utc>) -> Session {
        Session {
            id,
            name,
            expires: now + SESSION_TTL,
        }
    }
}
