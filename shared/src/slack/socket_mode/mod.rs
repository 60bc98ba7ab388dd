//! Socket Mode: Slack over websockets, for a `sevtool` that has no public HTTPS address (a
//! laptop, an internal VM). A second transport into the same [`Ingress`] as the HTTP routes.
//!
//! The link keeps [`CONNECTIONS`] connections open, so that when Slack retires one
//! (`disconnect` with `warning` or `refresh_requested`) the replacement is opened before the
//! old one closes and no envelope finds no connection. A connection that fails to open is
//! retried with capped, jittered backoff; `link_disabled` (or a refused app-level token) stops
//! the link and says why in the log and on the status page. The Lambda functions keep HTTP: a
//! websocket cannot live in a Lambda.

mod connection;
pub mod frame;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use self::connection::{Dial, Report};
use super::ingress::Ingress;
use crate::app::{LinkState, SlackLink};

/// Two, so that one is always open while Slack replaces the other (Slack allows ten per app).
pub const CONNECTIONS: usize = 2;
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// A connection that closes sooner than this after `hello` counts as a failure, so a Slack that
/// accepts and drops at once is not redialled in a tight loop.
const HEALTHY_AFTER: Duration = Duration::from_secs(10);

/// An app-level token (`xapp-…`, scope `connections:write`): `SLACK_APP_TOKEN`. Never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct AppToken(String);

impl AppToken {
    const MAX_LEN: usize = 512;

    /// A value that cannot be an app-level token is refused when sevtool starts, rather than
    /// when Slack says `not_allowed_token_type`.
    pub fn parse(raw: &str) -> Result<AppToken, String> {
        let raw = raw.trim();
        if !raw.starts_with("xapp-") {
            return Err("must be an app-level token, which starts with xapp- (not the bot token, xoxb-)".into());
        }
        if raw.len() > Self::MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("is not a Slack token: printable characters only, at most 512".into());
        }
        Ok(AppToken(raw.to_owned()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppToken(…)")
    }
}

/// The link: built once, run until `stop` turns true.
pub struct SocketMode {
    pub token: AppToken,
    /// `SLACK_API_URL`: where `apps.connections.open` is called.
    pub api_url: String,
    pub ingress: Ingress,
    pub link: SlackLink,
}

/// How long to wait before the next attempt after `failures` failed ones in a row: doubling from
/// [`BACKOFF_FIRST`] up to [`BACKOFF_CAP`], then a random half taken off so that many sevtools
/// restarted together do not call Slack in step.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    let doubled = BACKOFF_FIRST.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(BACKOFF_CAP).mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
}

/// TLS for `wss://`: the machine's trusted roots, and the crypto provider the AWS SDK builds,
/// named so that no other provider linked in later makes the choice ambiguous.
fn tls() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if added == 0 {
        tracing::warn!("no trusted root certificates found on this machine: wss:// connections to Slack will fail");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS cannot start: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl SocketMode {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let api_url = crate::slack::client::api_root(&self.api_url);
        let tls = match tls() {
            Ok(tls) => tls,
            Err(reason) => return self.stop(reason),
        };
        let dial = Arc::new(Dial {
            http: crate::outbound::client(),
            api_url,
            token: self.token.clone(),
            tls,
            ingress: self.ingress.clone(),
        });
        let (reports_tx, mut reports) = mpsc::unbounded_channel();
        let (close_tx, close) = watch::channel(false);
        let mut counted: HashSet<u64> = HashSet::new();
        let mut ready: HashMap<u64, Instant> = HashMap::new();
        let mut retiring: HashSet<u64> = HashSet::new();
        let mut next_id = 0u64;
        let mut failures = 0u32;
        let mut retry_at: Option<Instant> = None;
        let mut last_error: Option<String> = None;
        self.link.set(LinkState::Connecting);
        loop {
            while counted.len() < CONNECTIONS && retry_at.is_none() {
                next_id += 1;
                counted.insert(next_id);
                tokio::spawn(connection::run(
                    next_id,
                    dial.clone(),
                    reports_tx.clone(),
                    close.clone(),
                ));
            }
            let report = tokio::select! {
                report = reports.recv() => report,
                () = sleep_until(retry_at) => {
                    retry_at = None;
                    continue;
                }
                _ = stop.changed() => break,
            };
            let Some(report) = report else { break };
            match report {
                Report::Ready(id) => {
                    ready.insert(id, Instant::now());
                    last_error = None;
                    tracing::info!(connection = id, open = ready.len(), "Socket Mode connected to Slack");
                }
                Report::Retiring(id) => {
                    // No longer counted: the replacement opens now, while this one still works.
                    counted.remove(&id);
                    retiring.insert(id);
                    // Retired right after `hello` is no healthy connection: back off, so a
                    // server that asks for a refresh at once is not redialled in a loop.
                    if ready.get(&id).is_none_or(|since| since.elapsed() < HEALTHY_AFTER) {
                        let wait = failed(&mut failures, retry_at.is_some());
                        retry_at = Some(later(retry_at, Instant::now() + wait));
                    }
                }
                Report::Closed { id, was_ready, error } => {
                    counted.remove(&id);
                    let lived = ready.remove(&id).map(|since| since.elapsed());
                    // A retired connection was replaced already; any other that failed, or
                    // closed soon after `hello`, is redialled after a backoff.
                    let healthy = was_ready && lived.is_some_and(|l| l >= HEALTHY_AFTER);
                    // The backoff starts over only once a connection has proved healthy.
                    if healthy || ready.values().any(|since| since.elapsed() >= HEALTHY_AFTER) {
                        failures = 0;
                    }
                    let wait = (!retiring.remove(&id) && !healthy).then(|| failed(&mut failures, retry_at.is_some()));
                    if let Some(wait) = wait {
                        retry_at = Some(later(retry_at, Instant::now() + wait));
                    }
                    let retry_in_ms = wait.map(|w| w.as_millis());
                    match (&error, was_ready) {
                        (Some(e), false) => {
                            tracing::warn!(connection = id, error = %e, retry_in_ms, "could not open a Socket Mode connection")
                        }
                        (Some(e), true) => {
                            tracing::warn!(connection = id, error = %e, retry_in_ms, "a Socket Mode connection failed")
                        }
                        (None, _) => tracing::info!(connection = id, retry_in_ms, "a Socket Mode connection closed"),
                    }
                    last_error = error.or(last_error);
                }
                Report::Stop(reason) => {
                    let _ = close_tx.send(true);
                    return self.stop(reason);
                }
            }
            self.link.set(if ready.is_empty() {
                match &last_error {
                    Some(error) => LinkState::Reconnecting { error: error.clone() },
                    None => LinkState::Connecting,
                }
            } else {
                LinkState::Connected {
                    connections: ready.len(),
                }
            });
        }
        let _ = close_tx.send(true);
    }
}

impl SocketMode {
    fn stop(&self, reason: String) {
        tracing::error!(
            reason,
            "Socket Mode stopped; Slack over HTTP (if configured) and the web UI keep working"
        );
        self.link.set(LinkState::Stopped { reason });
    }
}

/// One more failed round: connections failing together while a retry is already due count once,
/// so two connections do not double the backoff twice. Answers how long to wait.
fn failed(failures: &mut u32, retry_due: bool) -> Duration {
    if !retry_due {
        *failures = failures.saturating_add(1);
    }
    backoff((*failures).max(1), rand::rng().random::<f64>())
}

fn later(current: Option<Instant>, at: Instant) -> Instant {
    current.map_or(at, |r| r.max(at))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_jitter_only_shortens_it() {
        assert_eq!(backoff(1, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(4, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(30, 0.0), BACKOFF_CAP);
        assert_eq!(backoff(u32::MAX, 0.0), BACKOFF_CAP);
        assert_eq!(backoff(30, 1.0), BACKOFF_CAP / 2);
        assert_eq!(backoff(30, 7.0), BACKOFF_CAP / 2, "jitter is clamped");
    }

    #[test]
    fn connections_failing_together_count_as_one_round() {
        let mut failures = 0;
        let first = failed(&mut failures, false);
        let _ = failed(&mut failures, true);
        assert_eq!(failures, 1, "the second failure of the round waits for the same retry");
        assert!(first <= BACKOFF_FIRST);
        let _ = failed(&mut failures, false);
        assert_eq!(failures, 2);
    }

    #[test]
    fn only_app_level_tokens_are_taken_and_none_is_shown() {
        assert!(AppToken::parse("xapp-1-A1-2-abc").is_ok());
        assert!(AppToken::parse("  xapp-1-A1-2-abc\n").is_ok(), "pasted with whitespace");
        assert!(AppToken::parse("xoxb-123").unwrap_err().contains("xapp-"));
        assert!(AppToken::parse("xapp-a b").is_err());
        assert!(AppToken::parse(&format!("xapp-{}", "a".repeat(600))).is_err());
        assert_eq!(format!("{:?}", AppToken::parse("xapp-secret").unwrap()), "AppToken(…)");
    }
}
