//! The gate in front of the web UI and the JSON API: it works out the [`Caller`] and puts it in
//! the request's extensions, or answers in the form the client understands (a redirect to the
//! sign-in page for a browser, a JSON 401 for a script).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::{Auth, Caller, Mode, SESSION_COOKIE};
use crate::http::ApiError;
use crate::http::extract::cookie;

pub(super) const UNCONFIGURED: &str = "sign-in is not configured: set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET \
    (Sign in with Slack) or SEVTOOL_ACCESS_TOKEN, then redeploy";

pub async fn require_sign_in(State(auth): State<Auth>, mut req: Request, next: Next) -> Response {
    match identify(&auth, &req) {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(refusal) => refusal.respond(&req),
    }
}

enum Refusal {
    Unconfigured,
    BadToken,
    SignedOut,
}

fn identify(auth: &Auth, req: &Request) -> Result<Caller, Refusal> {
    match &auth.0.mode {
        Mode::Open => return Ok(Caller::Local),
        Mode::Unconfigured => return Err(Refusal::Unconfigured),
        Mode::SignIn { .. } => {}
    }
    let headers = req.headers();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        // Whoever sends credentials means them: anything but the right bearer token is refused
        // outright, never retried as the cookie, so a script learns its token is wrong.
        return match (auth.token(), value.to_str().ok().and_then(bearer)) {
            (Some(t), Some(given)) if bool::from(t.expose().as_bytes().ct_eq(given.as_bytes())) => Ok(Caller::Service),
            _ => Err(Refusal::BadToken),
        };
    }
    cookie(headers, SESSION_COOKIE)
        .and_then(|value| auth.signer().session(value, auth.now()))
        .map(|session| auth.person(session))
        .ok_or(Refusal::SignedOut)
}

/// The credentials of an `Authorization: Bearer <token>` header (RFC 9110 section 11.4 and RFC
/// 6750): the scheme in any case, then one or more spaces.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl Refusal {
    fn respond(self, req: &Request) -> Response {
        let path = req.uri().path();
        let api = path.starts_with("/api/");
        let (status, message) = match self {
            Refusal::Unconfigured => (StatusCode::SERVICE_UNAVAILABLE, UNCONFIGURED),
            Refusal::BadToken => (
                StatusCode::UNAUTHORIZED,
                "that bearer token is not valid here; send SEVTOOL_ACCESS_TOKEN's value",
            ),
            Refusal::SignedOut if api => (
                StatusCode::UNAUTHORIZED,
                "sign in first: send Authorization: Bearer <SEVTOOL_ACCESS_TOKEN>, or a session cookie from /signin",
            ),
            Refusal::SignedOut => {
                if req.method() == Method::GET || req.method() == Method::HEAD {
                    let next = req.uri().path_and_query().map_or("/", |p| p.as_str());
                    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                    return Redirect::to(&format!("/signin?{query}")).into_response();
                }
                (
                    StatusCode::UNAUTHORIZED,
                    "your sign-in has expired, so this was not saved; sign in again on /signin and resend it",
                )
            }
        };
        let mut response = if api {
            ApiError::new(status, message).into_response()
        } else {
            crate::http::render::error_page(status, message)
        };
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sevtool\""),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;
    use crate::http::auth::WhenUnconfigured;

    /// The `intake` Lambda is reachable from the internet: with no way to sign in configured, it
    /// answers 503 to everything, whatever credentials come along, rather than run open.
    #[test]
    fn without_sign_in_the_lambda_refuses_every_request_and_the_local_server_is_open() {
        let refuse = Auth::without_sign_in(WhenUnconfigured::Refuse);
        for (path, authorization) in [
            ("/api/sevs", None),
            ("/api/sevs", Some("Bearer anything")),
            ("/sevs/new", None),
            ("/", None),
        ] {
            let mut req = Request::builder().uri(path);
            if let Some(a) = authorization {
                req = req.header(header::AUTHORIZATION, a);
            }
            let req = req.body(Body::empty()).unwrap();
            let refusal = identify(&refuse, &req).expect_err("refused");
            assert_eq!(
                refusal.respond(&req).status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{path}"
            );
        }
        let req = Request::builder().uri("/api/sevs").body(Body::empty()).unwrap();
        let open = identify(&Auth::open(), &req);
        assert!(matches!(open, Ok(Caller::Local)));
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_with_any_spacing() {
        for v in ["Bearer t0ken", "bearer t0ken", "BEARER   t0ken", " Bearer t0ken "] {
            assert_eq!(bearer(v), Some("t0ken"), "{v:?}");
        }
        for v in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearert0ken",
            "Token t0ken",
            "",
        ] {
            assert_eq!(bearer(v), None, "{v:?}");
        }
    }
}
