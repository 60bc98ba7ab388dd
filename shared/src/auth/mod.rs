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
//! Private SEVs are shown only to their members (reporter, coordinator, report owner, SCA owners
//! and whoever acted on them) and to `SEVTOOL_SECURITY_GROUP`; to anyone else they do not exist.

mod middleware;
mod routes;
mod session;
mod slack_oidc;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};

pub use middleware::require_sign_in;
pub use routes::routes;
pub use session::{SESSION_TTL, Session, Signer, cookie};
pub use slack_oidc::SlackSignIn;

use crate::api::ApiError;
use crate::app::{AppError, SevDetail, SevService};
use crate::config::Secret;
use crate::domain::SevId;
use crate::reports::Viewer;

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "sevtool_session";

/// How requests are authenticated, settled once at start-up.
#[derive(Clone)]
pub struct Auth(Arc<AuthInner>);

struct AuthInner {
    mode: Mode,
    signer: Signer,
    security_group: BTreeSet<String>,
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
    pub security_group: BTreeSet<String>,
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
            security_group: BTreeSet::new(),
            secure_cookies: false,
        };
        Auth::new(settings, WhenUnconfigured::Open)
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

    /// What aggregate numbers (reports, exports) may include.
    pub fn viewer(&self) -> Viewer {
        match self {
            Caller::Local | Caller::Service => Viewer::OPERATOR,
            Caller::Person(p) if p.security => Viewer::OPERATOR,
            Caller::Person(_) => Viewer::ANONYMOUS,
        }
    }

    /// Whether this SEV exists for the caller.
    pub fn may_see(&self, detail: &SevDetail) -> bool {
        if !detail.sev.private || self.viewer().sees_private {
            return true;
        }
        match self {
            Caller::Person(p) => is_member(detail, &p.id),
            Caller::Local | Caller::Service => true,
        }
    }

    /// What pages show in the header.
    pub fn display_name(&self) -> Option<&str> {
        match self {
            Caller::Person(p) => Some(&p.name),
            _ => None,
        }
    }
}

/// Fails with the same "does not exist" a missing SEV gets, unless the caller may see it.
pub async fn check_visible(sevs: &SevService, caller: &Caller, id: SevId) -> Result<(), AppError> {
    if caller.viewer().sees_private {
        return Ok(());
    }
    let detail = sevs.get(id).await?;
    if caller.may_see(&detail) {
        Ok(())
    } else {
        Err(AppError::NotFound(id))
    }
}

/// The items whose SEV the caller may see; `sev_of` says which SEV each belongs to.
pub async fn retain_visible<T>(
    sevs: &SevService,
    caller: &Caller,
    items: Vec<T>,
    sev_of: impl Fn(&T) -> SevId,
) -> Result<Vec<T>, AppError> {
    if caller.viewer().sees_private {
        return Ok(items);
    }
    let mut seen: std::collections::HashMap<SevId, bool> = std::collections::HashMap::new();
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        let id = sev_of(&item);
        let visible = match seen.get(&id) {
            Some(v) => *v,
            None => {
                let v = match check_visible(sevs, caller, id).await {
                    Ok(()) => true,
                    Err(AppError::NotFound(_)) => false,
                    Err(e) => return Err(e),
                };
                seen.insert(id, v);
                v
            }
        };
        if visible {
            kept.push(item);
        }
    }
    Ok(kept)
}

/// Whoever holds a role on the SEV or has acted on it.
fn is_member(detail: &SevDetail, id: &str) -> bool {
    let sev = &detail.sev;
    sev.reporter == id
        || sev.coordinator.as_deref() == Some(id)
        || sev.report_owner.as_deref() == Some(id)
        || detail.scas.iter().any(|s| s.owner == id)
        || detail.timeline.iter().any(|e| e.author == id)
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
    use crate::domain::{Level, NewSev, Sev};

    fn detail(private: bool) -> SevDetail {
        let now = Utc::now();
        let new = NewSev {
            title: "db down".into(),
            level: Some(Level::Sev1),
            private,
            ..NewSev::default()
        };
        let (mut sev, _) = Sev::file(SevId(7), new, "U1".into(), now).unwrap();
        sev.coordinator = Some("U2".into());
        SevDetail {
            muster: crate::domain::muster(sev.declared_at, &[]),
            sev,
            timeline: vec![],
            scas: vec![],
            failed_tasks: vec![],
            pages: vec![],
        }
    }

    fn person(id: &str, security: bool) -> Caller {
        Caller::Person(Person {
            id: id.into(),
            name: id.into(),
            security,
        })
    }

    #[test]
    fn private_sevs_exist_only_for_members_the_security_group_and_operators() {
        let private = detail(true);
        assert!(person("U1", false).may_see(&private), "reporter");
        assert!(person("U2", false).may_see(&private), "coordinator");
        assert!(!person("U3", false).may_see(&private), "a stranger");
        assert!(person("U3", true).may_see(&private), "security group");
        assert!(Caller::Service.may_see(&private) && Caller::Local.may_see(&private));
        assert!(person("U3", false).may_see(&detail(false)), "public SEVs are for all");
    }

    #[test]
    fn people_act_as_themselves_and_only_scripts_may_name_someone() {
        assert_eq!(person("U3", false).actor(Some("U1".into()), "api").unwrap(), "U3");
        assert_eq!(Caller::Service.actor(Some("ops-bot".into()), "api").unwrap(), "ops-bot");
        assert_eq!(Caller::Local.actor(None, "web").unwrap(), "web");
        assert!(Caller::Service.actor(Some("alert:x".into()), "api").is_err());
    }

    #[test]
    fn reports_count_private_sevs_only_for_those_who_see_them_all() {
        assert!(!person("U1", false).viewer().sees_private);
        assert!(person("U1", true).viewer().sees_private);
        assert!(Caller::Service.viewer().sees_private);
    }
}
