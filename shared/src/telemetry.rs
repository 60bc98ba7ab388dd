//! Logging for the local server. Lambda functions use the runtime's own subscriber instead, which
//! follows the function's log format (JSON or text) and level settings.
//!
//! Never log secrets or what people wrote: log ids, levels, statuses and counts.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` picks what is logged (default `info`); `SEVTOOL_LOG_FORMAT=json` switches to JSON lines.
pub fn init_local() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let json = std::env::var("SEVTOOL_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
