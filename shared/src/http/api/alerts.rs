//! Alert webhooks: `POST /alerts/alertmanager`, `/alerts/grafana`, `/alerts/generic`, and
//! `GET /api/sevs/{id}/alerts` (where an alert-opened SEV came from and how often it fired).
//!
//! Alertmanager retries a delivery on 5xx and drops it on 4xx, so statuses follow that: bad
//! input is a precise 4xx, and only conditions worth retrying (storage down, contention, the
//! token not configured yet) are 503.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::alerts::{AlertmanagerPayload, GenericPayload, GrafanaPayload, Notification, PayloadError};
use crate::app::{AlertService, AppError};
use crate::config::Secret;
use crate::http::extract::{VisibleSev, json_body, parse_json};
use crate::http::{ApiError, AppState};

/// Alertmanager sends every alert of a group in one body: allow far more than the API's 64 KiB.
pub const MAX_ALERT_BODY_BYTES: usize = 1024 * 1024;

/// What the alert routes need: the service, and the token senders must present.
#[derive(Clone)]
pub struct AlertWebhooks {
    pub service: AlertService,
    pub token: Option<Secret>,
}

/// The webhooks, which check the alert token themselves.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/alerts/alertmanager", post(alertmanager))
        .route("/alerts/grafana", post(grafana))
        .route("/alerts/generic", post(generic))
}

/// What people read about a SEV's alerts, behind sign-in.
pub fn read_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/api/sevs/{id}/alerts", get(origin))
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message)
}

/// The credential a request presents: a bearer token, or the password of basic auth.
fn presented(headers: &HeaderMap) -> Result<Vec<u8>, ApiError> {
    let missing = "send the alert webhook token as `Authorization: Bearer <token>` (or as the basic-auth password)";
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized(missing))?
        .trim();
    let (scheme, rest) = value.split_once(' ').ok_or_else(|| unauthorized(missing))?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(rest.trim().as_bytes().to_vec());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .map_err(|_| unauthorized("the basic-auth credentials are not valid base64"))?;
        let colon = decoded
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| unauthorized("basic auth needs `user:password`; the password is the token"))?;
        return Ok(decoded[colon + 1..].to_vec());
    }
    Err(unauthorized(missing))
}

/// Checks the token in constant time. Both sides are hashed first so that the comparison takes
/// the same time whatever the lengths.
fn authorize(token: Option<&Secret>, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = token else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "alert webhooks are off: set ALERT_WEBHOOK_TOKEN on sevtool and send it as a bearer token",
        ));
    };
    let given = presented(headers)?;
    let ok = Sha256::digest(&given).ct_eq(&Sha256::digest(token.expose().as_bytes()));
    if bool::from(ok) {
        Ok(())
    } else {
        Err(unauthorized("the alert webhook token is wrong"))
    }
}

fn with_challenge(mut response: Response) -> Response {
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sevtool alerts\", Basic realm=\"sevtool alerts\""),
        );
    }
    response
}

fn app_error(e: AppError) -> ApiError {
    match e {
        // Contention on one group outlasted the retries: the sender should try again.
        AppError::Conflict => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this alert group is being updated by many deliveries at once; nothing was lost, retry",
        ),
        other => other.into(),
    }
}

async fn receive<P: DeserializeOwned>(
    state: AppState,
    req: Request,
    convert: fn(P) -> Result<Notification, PayloadError>,
) -> Response {
    let result = async {
        authorize(state.alerts.token.as_ref(), req.headers())?;
        let body = json_body(req, MAX_ALERT_BODY_BYTES).await?;
        let payload: P = parse_json(&body)?;
        let notification = convert(payload).map_err(|e| ApiError::bad_request(e.0))?;
        let outcome = state.alerts.service.receive(&notification).await.map_err(app_error)?;
        tracing::debug!(
            source = %notification.source,
            group = %outcome.group,
            alerts = notification.alerts.len(),
            action = ?outcome.action,
            "alert notification handled"
        );
        Ok::<_, ApiError>(Json(json!(outcome)))
    }
    .await;
    with_challenge(result.into_response())
}

async fn alertmanager(State(state): State<AppState>, req: Request) -> Response {
    receive(state, req, AlertmanagerPayload::into_notification).await
}

async fn grafana(State(state): State<AppState>, req: Request) -> Response {
    receive(state, req, GrafanaPayload::into_notification).await
}

async fn generic(State(state): State<AppState>, req: Request) -> Response {
    receive(state, req, GenericPayload::into_notification).await
}

async fn origin(
    State(state): State<AppState>,
    VisibleSev { id, .. }: VisibleSev,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some((origin, group)) = state.alerts.service.origin(id).await? else {
        return Err(ApiError::not_found(format!("{id} was not opened by an alert")));
    };
    let mut body = json!({ "sev": id, "origin": origin });
    if let Some(g) = group {
        body["group"] = json!({
            "deliveries": g.deliveries,
            "firing_deliveries": g.firing_deliveries,
            "unreported_deliveries": g.unreported,
            "alerts_seen": g.known.len(),
            "firing": g.firing,
            "first_seen": g.first_seen,
            "last_seen": g.last_seen,
            "resolved_at": g.resolved_at,
        });
    }
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn basic(credentials: &str) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        )
    }

    #[test]
    fn only_the_token_as_bearer_or_basic_password_gets_in() {
        let token = Secret::new("am-token");
        let status = |headers: &HeaderMap| match authorize(Some(&token), headers) {
            Ok(()) => StatusCode::OK,
            Err(e) => e.status,
        };
        for ok in [
            "Bearer am-token",
            "bearer  am-token ",
            &basic("alertmanager:am-token"),
            &basic(":am-token"),
        ] {
            assert_eq!(status(&with_authorization(ok)), StatusCode::OK, "{ok}");
        }
        for refused in [
            "Bearer am-toke",
            "Bearer am-token2",
            "Bearer",
            "am-token",
            "Token am-token",
            &basic("am-token"),
            &basic("am-token:"),
            &basic("user:am-tokenx"),
            "Basic not-base64!",
        ] {
            assert_eq!(
                status(&with_authorization(refused)),
                StatusCode::UNAUTHORIZED,
                "{refused}"
            );
        }
        assert_eq!(status(&HeaderMap::new()), StatusCode::UNAUTHORIZED);
        let off = authorize(None, &with_authorization("Bearer am-token")).unwrap_err();
        assert_eq!(
            off.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "no token configured: nobody gets in"
        );
    }
}
