//! Outbound HTTP to third parties (Slack, PagerDuty, Opsgenie, Jira), and the one answer to
//! "is this HTTP status worth another try?" that those adapters and the S3 lake share.
//!
//! Every integration runs from a queue task, so the two things that matter are that a call never
//! hangs a consumer and that an outage is retried while a refusal is not. Both are decided here
//! so that a vendor adapter cannot drift from the others by accident.

use std::time::Duration;

/// Long enough for a slow vendor answer, short enough that a hung connection gives the task back
/// to the queue (with its backoff) well inside a Lambda invocation.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The client every vendor adapter calls through. Build it once per adapter and clone it: a
/// `reqwest::Client` is a handle to one connection pool.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        // Building only fails when the TLS backend cannot start; the default client then fails
        // the same way on first use, where the task's error handling reports it.
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Whether an HTTP answer says "not now" rather than "no", so the same request may succeed
/// later:
///
/// - `408 Request Timeout`: the server gave up waiting for us, nothing was wrong with the request;
/// - `429 Too Many Requests`: rate-limited, every vendor we call says to back off and retry;
/// - any `5xx`: the vendor (or a proxy in front of it) is failing.
///
/// Every other status is the vendor's considered answer (bad request, bad credentials, missing
/// permission, not found) and repeating the request will get the same answer. Success statuses are
/// not transient either: callers ask only about failures.
pub fn is_transient(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

#[cfg(test)]
mod tests {
    use super::is_transient;

    #[test]
    fn timeouts_rate_limits_and_server_errors_are_transient() {
        for status in [408, 429, 500, 501, 502, 503, 504, 599] {
            assert!(is_transient(status), "{status}");
        }
    }

    #[test]
    fn refusals_and_everything_else_are_not() {
        for status in [
            200, 201, 204, 301, 304, 400, 401, 403, 404, 405, 409, 410, 413, 422, 428, 431, 499,
        ] {
            assert!(!is_transient(status), "{status}");
        }
    }
}
