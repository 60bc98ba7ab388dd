//! The web UI: server-rendered pages over the same application services as Slack and the API,
//! so the tool works fully when Slack is down. Plain forms, no JavaScript needed.

mod actions;
pub(crate) mod csrf;
mod headers;
mod pages;
mod report;
mod weekly;

use std::sync::OnceLock;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

pub use headers::security_headers;

use crate::api::ApiState;

// Who acts from the web when nobody signed in (the open local server); shown on the timeline.
use crate::domain::actor::WEB as WEB_ACTOR;

/// The name a web action is recorded under: the signed-in person, else [`WEB_ACTOR`].
fn web_actor(caller: &crate::auth::Caller) -> String {
    caller.actor(None, WEB_ACTOR).unwrap_or_else(|_| WEB_ACTOR.to_owned())
}

pub fn routes() -> axum::Router<ApiState> {
    pages::routes()
        .merge(actions::routes())
        .merge(report::routes())
        .merge(weekly::routes())
}

/// Templates are parsed once per process. Names end in `.html`, so every value is escaped.
fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("list.html", include_str!("templates/list.html")),
            ("new.html", include_str!("templates/new.html")),
            ("sev.html", include_str!("templates/sev.html")),
            ("signin.html", include_str!("templates/signin.html")),
            ("status.html", include_str!("templates/status.html")),
            ("scas.html", include_str!("templates/scas.html")),
            ("report.html", include_str!("templates/report.html")),
            ("weekly.html", include_str!("templates/weekly.html")),
        ] {
            if let Err(e) = env.add_template(name, source) {
                unreachable!("shipped template {name} is invalid: {e}");
            }
        }
        env
    })
}

/// Renders `name` with `context`; a template error is a bug, shown as a plain 500.
pub(crate) fn render(status: StatusCode, name: &str, context: impl Serialize) -> Response {
    match templates().get_template(name).and_then(|t| t.render(context)) {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page failed to render; the error is logged",
            )
                .into_response()
        }
    }
}

/// A page that says what went wrong, with the status to match.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    #[derive(Serialize)]
    struct Ctx<'a> {
        error: &'a str,
    }
    render(status, "base.html", Ctx { error: message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_escapes_what_people_wrote() {
        for name in [
            "base.html",
            "list.html",
            "new.html",
            "sev.html",
            "signin.html",
            "status.html",
        ] {
            assert!(templates().get_template(name).is_ok(), "{name}");
        }
        let html = templates()
            .get_template("base.html")
            .and_then(|t| t.render(minijinja::context! { error => "<script>alert(1)</script>" }))
            .unwrap();
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{html}");
        assert!(!html.contains("<script>alert"));
    }
}
