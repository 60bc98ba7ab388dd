//! Conditional GETs for what people keep open: the SEV page, the list and their JSON twins are
//! answered with a strong `ETag` over the body, and `304 Not Modified` when the caller already
//! has that body. The live pages poll this way (see `assets/live.js`), so an unchanged page costs
//! a render on the server and nothing on the wire. The caller's access is checked before the
//! body exists, so a `304` never tells anyone about a SEV they may not see.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Far above any page sevtool renders; a body past it is answered as it is, without a tag.
const MAX_BODY: usize = 16 * 1024 * 1024;

fn tag_of(body: &[u8]) -> String {
    format!("\"{}\"", crate::hex::hex(&Sha256::digest(body)[..16]))
}

/// Whether `If-None-Match` names `tag` (or is `*`), as RFC 9110 compares them for GET.
fn matches(request: &HeaderMap, tag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

/// `response` with its `ETag`, or `304` with the same tag when the caller has it. Only a `200`
/// is tagged: errors and redirects pass through as they are.
pub(crate) async fn conditional(request: &HeaderMap, response: Response) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "a response body could not be read to tag it");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page failed to render; the error is logged",
            )
                .into_response();
        }
    };
    let tag = tag_of(&bytes);
    let Ok(value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.insert(header::ETAG, value);
    if matches(request, &tag) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(tag: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(tag).unwrap());
        h
    }

    #[tokio::test]
    async fn an_unchanged_body_is_not_sent_again_and_a_changed_one_is() {
        let page = || (StatusCode::OK, "<p>SEV-1</p>").into_response();
        let first = conditional(&HeaderMap::new(), page()).await;
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        let again = conditional(&asking(&tag), page()).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], tag.as_str());
        let listed = conditional(&asking(&format!("\"other\", W/{tag}")), page()).await;
        assert_eq!(
            listed.status(),
            StatusCode::NOT_MODIFIED,
            "a tag among several, weak or not"
        );
        let changed = conditional(&asking(&tag), (StatusCode::OK, "<p>SEV-2</p>").into_response()).await;
        assert_eq!(changed.status(), StatusCode::OK);
        assert_ne!(changed.headers()[header::ETAG], tag.as_str());
    }

    #[tokio::test]
    async fn errors_are_never_tagged() {
        let missing = conditional(
            &asking("*"),
            (StatusCode::NOT_FOUND, "SEV-9 does not exist").into_response(),
        )
        .await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(missing.headers().get(header::ETAG).is_none());
    }
}
