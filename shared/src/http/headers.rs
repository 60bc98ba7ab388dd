//! Headers every response carries, so a page can be neither framed (clickjacking), nor sniffed
//! into another content type, nor made to run or load anything from elsewhere.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The pages' only script is sevtool's own file (`/assets/live.js`, never inline, so injected
/// markup cannot run any), which may fetch only from here; styles are the pages' own inline ones,
/// and forms post back here.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
