//! Who is calling: the extractor every handler takes, which the sign-in gate
//! ([`super::auth::require_sign_in`]) puts on each request, and what the visibility policy lets
//! them see.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::ApiError;
use crate::app::Access;
use crate::domain::{Actor, actor, text};
use crate::reports::Viewer;

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
    pub id: Actor,
    pub name: String,
    /// In `SEVTOOL_SECURITY_GROUP`: sees every private SEV.
    pub security: bool,
}

impl Caller {
    /// The name a change is recorded under. People are who they signed in as; scripts and the
    /// open local server may name someone (`author`), else `default` says where it came from.
    pub fn actor(&self, given: Option<String>, default: Actor) -> Result<Actor, ApiError> {
        match self {
            Caller::Person(p) => Ok(p.id.clone()),
            Caller::Local | Caller::Service => named(given, default),
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

/// Who is acting, when the caller may name someone (a script, or the open local server); the
/// default says where the change came from. A name may not take the shape of a system actor
/// (sevtool's own, an alert source, a signed-in person): the timeline and the visibility
/// policy tell them apart by that shape. Slack user ids are fine: the token is an operator's.
fn named(given: Option<String>, default: Actor) -> Result<Actor, ApiError> {
    let Some(name) = given.map(|a| text::trim(&a).to_owned()).filter(|a| !a.is_empty()) else {
        return Ok(default);
    };
    if actor::is_system(&name) {
        return Err(ApiError::bad_request(format!(
            "author: `{}` is kept for sevtool's own actors, alert sources and signed-in people; name yourself another way",
            name.chars().take(40).collect::<String>()
        )));
    }
    if name.chars().count() > 100 {
        return Err(ApiError::bad_request("author: is longer than 100 characters"));
    }
    Ok(Actor::from(name))
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
        assert_eq!(person("U3", false).actor(Some("U1".into()), Actor::API).unwrap(), "U3");
        assert_eq!(
            Caller::Service.actor(Some("ops-bot".into()), Actor::API).unwrap(),
            "ops-bot"
        );
        assert_eq!(Caller::Local.actor(None, Actor::WEB).unwrap(), "web");
        assert_eq!(
            Caller::Service.actor(Some("U024BE7LH".into()), Actor::API).unwrap(),
            "U024BE7LH"
        );
        for reserved in ["alert:x", "sevtool", "web:alice", "JIRA"] {
            assert!(
                Caller::Service.actor(Some(reserved.into()), Actor::API).is_err(),
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
