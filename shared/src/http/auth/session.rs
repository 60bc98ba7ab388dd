//! Signed cookies: who signed in (the session) and the state of a sign-in in flight. The value
//! is `payload.mac`, both base64url; the MAC (HMAC-SHA256 under the session key, with a purpose
//! label so one kind of cookie can never pass for another) is checked in constant time, and the
//! payload carries its own expiry.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secret;
use crate::domain::Actor;

/// How long a sign-in lasts: a long incident shift, not a week.
pub const SESSION_TTL: Duration = Duration::hours(12);

/// A signed-in person, as the session cookie carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The name actions are recorded under: a Slack user id after Sign in with Slack, else
    /// `web:<the name given at sign-in>`.
    pub id: Actor,
    /// What pages show.
    pub name: String,
    pub expires: DateTime<Utc>,
}

/// Signs and checks cookie values with one key.
#[derive(Clone)]
pub struct Signer {
    key: Secret,
}

impl Signer {
    pub fn new(key: Secret) -> Self {
        Signer { key }
    }

    fn mac(&self, purpose: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose().as_bytes())
            .unwrap_or_else(|e| unreachable!("HMAC accepts any key length: {e}"));
        mac.update(purpose.as_bytes());
        mac.update(b"\n");
        mac.update(payload.as_bytes());
        mac
    }

    pub fn sign<T: Serialize>(&self, purpose: &str, value: &T) -> String {
        let json = serde_json::to_vec(value).unwrap_or_else(|e| unreachable!("cookie payloads serialise: {e}"));
        let payload = B64.encode(json);
        let tag = B64.encode(self.mac(purpose, &payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The value, if `signed` was made by [`Signer::sign`] with this key and purpose.
    pub fn open<T: DeserializeOwned>(&self, purpose: &str, signed: &str) -> Option<T> {
        let (payload, tag) = signed.split_once('.')?;
        let tag = B64.decode(tag).ok()?;
        self.mac(purpose, payload).verify_slice(&tag).ok()?;
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    /// The session in a cookie value, if it is genuine and not expired at `now`.
    pub fn session(&self, signed: &str, now: DateTime<Utc>) -> Option<Session> {
        self.open::<Session>(SESSION_PURPOSE, signed)
            .filter(|s| s.expires > now)
    }

    pub fn session_cookie_value(&self, session: &Session) -> String {
        self.sign(SESSION_PURPOSE, session)
    }
}

/// Versioned: sessions made before token sign-ins became `web:<name>` carried the bare typed
/// name as their id, which could equal a Slack user id or a system actor; they no longer open.
const SESSION_PURPOSE: &str = "session-v2";

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(key: &str) -> Signer {
        Signer::new(Secret::new(key))
    }

    fn session(expires: DateTime<Utc>) -> Session {
        Session {
            id: "U123".into(),
            name: "Ada".into(),
            expires,
        }
    }

    #[test]
    fn a_session_opens_only_with_its_key_unchanged_and_unexpired() {
        let now = Utc::now();
        let s = signer("k1");
        let value = s.session_cookie_value(&session(now + Duration::hours(1)));
        assert_eq!(s.session(&value, now).map(|x| x.id), Some("U123".into()));
        assert_eq!(signer("k2").session(&value, now), None, "another key");
        assert_eq!(s.session(&value, now + Duration::hours(2)), None, "expired");
        assert_eq!(
            s.session(&value, now + Duration::hours(1)),
            None,
            "a session ends at its expiry, not a moment later"
        );
        let (payload, tag) = value.split_once('.').unwrap();
        let forged = B64.encode(
            serde_json::to_vec(&Session {
                id: "U999".into(),
                ..session(now + Duration::hours(1))
            })
            .unwrap(),
        );
        assert_eq!(s.session(&format!("{forged}.{tag}"), now), None, "changed payload");
        assert_eq!(s.session(payload, now), None, "no MAC");
        assert_eq!(s.session("", now), None);
    }

    #[test]
    fn a_cookie_of_one_purpose_never_passes_for_another() {
        let s = signer("k");
        let now = Utc::now();
        let other = s.sign("sign-in", &session(now + Duration::hours(1)));
        assert_eq!(s.session(&other, now), None);
    }
}
