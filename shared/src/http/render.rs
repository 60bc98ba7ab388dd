//! Every page, rendered through the template engine (minijinja with autoescape): the web UI's
//! pages, the sign-in pages and the error pages the gate answers browsers with.

use std::sync::OnceLock;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

/// Templates are parsed once per process. Names end in `.html`, so every value is escaped.
fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("web/templates/base.html")),
            ("list.html", include_str!("web/templates/list.html")),
            ("new.html", include_str!("web/templates/new.html")),
            ("sev.html", include_str!("web/templates/sev.html")),
            ("signin.html", include_str!("web/templates/signin.html")),
            ("status.html", include_str!("web/templates/status.html")),
            ("scas.html", include_str!("web/templates/scas.html")),
            ("report.html", include_str!("web/templates/report.html")),
            ("weekly.html", include_str!("web/templates/weekly.html")),
            ("reports.html", include_str!("web/templates/reports.html")),
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
            "scas.html",
            "report.html",
            "weekly.html",
            "reports.html",
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
