//! The sign-in pages: `/signin` (the shared token, or a button to Sign in with Slack),
//! `/signout`, and Slack's round trip through `/auth/slack` and `/auth/slack/callback`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{Auth, Mode, SESSION_COOKIE};
use crate::domain::{Actor, actor, text};
use crate::http::AppState;
use crate::http::csrf;
use crate::http::extract::cookie;
use crate::http::render::{error_page, render};

/// The cookie that carries a Slack sign-in between leaving for Slack and coming back.
const SIGN_IN_COOKIE: &str = "sevtool_signin";
const SIGN_IN_PURPOSE: &str = "sign-in";
/// Long enough to find the right Slack workspace, short enough that a stolen link goes stale.
const SIGN_IN_TTL: Duration = Duration::minutes(10);
const MAX_NAME: usize = 80;

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/signin", get(page).post(sign_in_with_token))
        .route("/signout", post(sign_out))
        .route("/auth/slack", get(to_slack))
        .route("/auth/slack/callback", get(from_slack))
}

/// Where to go after signing in: only a path on this site, so the page cannot bounce people to
/// another one. Anything else, or anything a browser might read differently from us, is `/`.
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) && percent_decoded(p).is_none_or(|d| is_local_path(&d)) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// One leading `/` and then no second one, no backslash (browsers read `/\\x` as `//x`) and only
/// visible ASCII: no tab, newline or other control character a browser strips before reading
/// the address, and nothing that cannot go in a `Location` header as is.
fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !matches!(p.as_bytes().get(1), Some(b'/' | b'\\'))
        && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

/// `p` with `%XX` escapes decoded once, if it has any, so `/%2F%2Fevil` is checked as `///evil`.
fn percent_decoded(p: &str) -> Option<String> {
    if !p.contains('%') {
        return None;
    }
    let bytes = p.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[derive(Deserialize, Default)]
struct NextParam {
    #[serde(default)]
    next: Option<String>,
}

fn sign_in_page(auth: &Auth, headers: &HeaderMap, status: StatusCode, next: &str, error: Option<&str>) -> Response {
    let (token, set_cookie) = csrf::token(headers, auth.secure_cookies());
    let slack_href = format!(
        "/auth/slack?{}",
        serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
    );
    let mut page = render(
        status,
        "signin.html",
        minijinja::context! {
            csrf => token,
            next,
            slack_href,
            error,
            token_sign_in => auth.token().is_some(),
            slack_sign_in => auth.slack().is_some(),
        },
    );
    if let Some(c) = set_cookie {
        page.headers_mut().append(header::SET_COOKIE, c);
    }
    page
}

async fn page(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<NextParam>) -> Response {
    let next = local_path(q.next.as_deref());
    match &state.auth.0.mode {
        Mode::Open => Redirect::to(&next).into_response(),
        Mode::Unconfigured => error_page(StatusCode::SERVICE_UNAVAILABLE, super::middleware::UNCONFIGURED),
        Mode::SignIn { .. } => sign_in_page(&state.auth, &headers, StatusCode::OK, &next, None),
    }
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    next: Option<String>,
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn sign_in_with_token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let auth = &state.auth;
    let Some(expected) = auth.token() else {
        return error_page(
            StatusCode::NOT_FOUND,
            "signing in with a token is off here; use the page's other way in",
        );
    };
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "send the sign-in form from /signin");
    };
    let next = local_path(form.next.as_deref());
    if !csrf::valid(&headers, &form.csrf) {
        let expired = "this form has expired or came from another site; try again";
        return sign_in_page(auth, &headers, StatusCode::FORBIDDEN, &next, Some(expired));
    }
    let name = text::squash(&form.name);
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        let why = "give your name (up to 80 characters): it goes on the timeline next to what you do";
        return sign_in_page(auth, &headers, StatusCode::BAD_REQUEST, &next, Some(why));
    }
    if actor::is_reserved(&name) {
        let why = "that name is kept for sevtool itself, alert sources or Slack users; give your own name";
        return sign_in_page(auth, &headers, StatusCode::BAD_REQUEST, &next, Some(why));
    }
    if !bool::from(expected.expose().as_bytes().ct_eq(form.token.trim().as_bytes())) {
        tracing::info!("a web sign-in gave a wrong token");
        let why = "that is not the access token; ask whoever runs sevtool";
        return sign_in_page(auth, &headers, StatusCode::UNAUTHORIZED, &next, Some(why));
    }
    // The id is `web:<name>`: it can never equal a Slack user id or a system actor, so a typed
    // name never makes anyone a member of a private SEV someone else is in.
    let session = auth.new_session(Actor::web_person(&name), name, auth.now());
    with_cookie(Redirect::to(&next).into_response(), &auth.session_cookie(&session))
}

async fn sign_out() -> Response {
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    with_cookie(Redirect::to("/signin").into_response(), &clear)
}

/// A Slack sign-in in flight: what must come back, and where to go afterwards.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    next: String,
    expires: DateTime<Utc>,
}

async fn to_slack(State(state): State<AppState>, Query(q): Query<NextParam>) -> Response {
    let auth = &state.auth;
    let Some(slack) = auth.slack() else {
        return error_page(StatusCode::NOT_FOUND, "Sign in with Slack is off here");
    };
    let pending = Pending {
        state: format!("{:032x}", rand::random::<u128>()),
        nonce: format!("{:032x}", rand::random::<u128>()),
        next: local_path(q.next.as_deref()),
        expires: auth.now() + SIGN_IN_TTL,
    };
    let secure = if auth.0.secure_cookies { "; Secure" } else { "" };
    // Lax, not Strict: the browser must send it back on the top-level redirect from Slack.
    let cookie = format!(
        "{SIGN_IN_COOKIE}={}; Path=/auth/slack; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        auth.signer().sign(SIGN_IN_PURPOSE, &pending),
        SIGN_IN_TTL.num_seconds()
    );
    let to = slack.authorize_url(&pending.state, &pending.nonce);
    with_cookie(Redirect::to(&to).into_response(), &cookie)
}

#[derive(Deserialize)]
struct Callback {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

async fn from_slack(State(state): State<AppState>, headers: HeaderMap, Query(cb): Query<Callback>) -> Response {
    let auth = &state.auth;
    let Some(slack) = auth.slack() else {
        return error_page(StatusCode::NOT_FOUND, "Sign in with Slack is off here");
    };
    let now = auth.now();
    let start_again = "this sign-in has expired or was started elsewhere; sign in again from /signin";
    let Some(pending) = cookie(&headers, SIGN_IN_COOKIE)
        .and_then(|v| auth.signer().open::<Pending>(SIGN_IN_PURPOSE, v))
        .filter(|p| p.expires > now)
    else {
        return error_page(StatusCode::BAD_REQUEST, start_again);
    };
    let state_matches = cb
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    if !state_matches {
        return error_page(StatusCode::BAD_REQUEST, start_again);
    }
    if let Some(error) = cb.error {
        tracing::info!(%error, "Slack sign-in was not completed");
        return error_page(
            StatusCode::UNAUTHORIZED,
            "Slack did not sign you in (it was cancelled or refused); sign in again from /signin",
        );
    }
    let Some(code) = cb.code.filter(|c| !c.is_empty()) else {
        return error_page(StatusCode::BAD_REQUEST, start_again);
    };
    match slack.exchange(&code, &pending.nonce, now).await {
        Ok(user) => {
            let session = auth.new_session(Actor::from(user.id), user.name, now);
            let done = format!("{SIGN_IN_COOKIE}=; Path=/auth/slack; HttpOnly; SameSite=Lax; Max-Age=0");
            let response = with_cookie(
                Redirect::to(&pending.next).into_response(),
                &auth.session_cookie(&session),
            );
            with_cookie(response, &done)
        }
        Err(e @ super::slack_oidc::SignInError::Unavailable(_)) => {
            tracing::warn!(error = %e, "Slack sign-in failed");
            error_page(StatusCode::BAD_GATEWAY, &e.to_string())
        }
        Err(e) => error_page(StatusCode::FORBIDDEN, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_only_ever_returns_to_this_site() {
        assert_eq!(local_path(Some("/sevs/4?x=1")), "/sevs/4?x=1");
        assert_eq!(local_path(Some("/sevs?tag=a%2Fb")), "/sevs?tag=a%2Fb");
        for bad in [
            "https://evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "",
            "/\t/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/\r\nSet-Cookie:x=1",
            "/caf\u{e9}",
            "\u{0}/x",
        ] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
