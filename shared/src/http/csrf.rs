//! Cross-site request forgery protection by double submit: every page sets a random token in a
//! `SameSite=Strict` cookie and in its forms; a form post must carry the same token in both.
//! Another site can make a browser post a form, but cannot read or set our cookie.

use axum::http::{HeaderMap, HeaderValue};
use subtle::ConstantTimeEq;

const COOKIE: &str = "sevtool_csrf";

/// The token from the request's cookie, if it carries a well-formed one.
pub fn from_cookie(headers: &HeaderMap) -> Option<String> {
    crate::http::extract::cookie(headers, COOKIE)
        .map(str::to_owned)
        .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The request's token, or a new one with the cookie that sets it (`Secure` when the site is
/// served over https, like the session cookie).
pub fn token(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    if let Some(t) = from_cookie(headers) {
        return (t, None);
    }
    let t = format!("{:032x}", rand::random::<u128>());
    let secure = if secure { "; Secure" } else { "" };
    let cookie = HeaderValue::from_str(&format!("{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict{secure}")).ok();
    (t, cookie)
}

/// Whether a posted form's token matches the cookie's.
pub fn valid(headers: &HeaderMap, posted: &str) -> bool {
    from_cookie(headers).is_some_and(|c| c.as_bytes().ct_eq(posted.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn a_form_must_carry_the_cookies_token() {
        let t = "0123456789abcdef0123456789abcdef";
        let h = with_cookie(&format!("theme=dark; sevtool_csrf={t}"));
        assert!(valid(&h, t));
        assert!(!valid(&h, "0123456789abcdef0123456789abcdee"));
        assert!(!valid(&HeaderMap::new(), t), "no cookie, no post");
        for malformed in [
            "short",
            "abcd",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "0123456789abcdef0123456789abcdef0",
        ] {
            assert!(
                !valid(&with_cookie(&format!("sevtool_csrf={malformed}")), malformed),
                "a token must be 32 hex digits: {malformed}"
            );
        }
    }

    #[test]
    fn pages_keep_an_existing_token_or_set_a_new_one() {
        let t = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            token(&with_cookie(&format!("sevtool_csrf={t}")), false),
            (t.to_owned(), None)
        );
        let (fresh, cookie) = token(&HeaderMap::new(), false);
        assert_eq!(fresh.len(), 32);
        let cookie = cookie.unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("SameSite=Strict") && cookie.contains("HttpOnly") && cookie.contains(&fresh));
        assert!(!cookie.contains("Secure"));
        let (_, secure) = token(&HeaderMap::new(), true);
        assert!(secure.unwrap().to_str().unwrap().ends_with("; Secure"), "https sites");
    }
}
