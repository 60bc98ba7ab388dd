//! Where the server listens and which local files it keeps and reads.

use std::net::IpAddr;
use std::path::PathBuf;

use super::{ConfigError, checked_as_given, set, set_or};

pub(super) struct ServerSettings {
    pub host: IpAddr,
    /// `SEVTOOL_HOST` as set, for the refusal to serve beyond loopback without sign-in.
    host_as_set: String,
    pub port: u16,
    pub data_dir: PathBuf,
    pub report_template: Option<PathBuf>,
}

pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<ServerSettings, ConfigError> {
    let host_as_set = set_or(get, "SEVTOOL_HOST", "127.0.0.1");
    let host = checked_as_given("SEVTOOL_HOST", &host_as_set, |v| {
        v.parse::<IpAddr>().map_err(|e| e.to_string())
    })?;
    let port = checked_as_given("PORT", &set_or(get, "PORT", "3000"), |v| {
        v.parse::<u16>()
            .map_err(|e| format!("{e}; use a port number such as 3000, or 0 for any free port"))
    })?;
    Ok(ServerSettings {
        host,
        host_as_set,
        port,
        data_dir: PathBuf::from(set_or(get, "SEVTOOL_DATA_DIR", ".sevtool")),
        report_template: set(get, "SEVTOOL_REPORT_TEMPLATE").map(PathBuf::from),
    })
}

impl ServerSettings {
    /// Serving beyond loopback is refused unless people must sign in: the local server is open.
    pub(super) fn check_exposure(&self, signed_in: bool) -> Result<(), ConfigError> {
        checked_as_given("SEVTOOL_HOST", &self.host_as_set, |_| {
            if signed_in || self.host.is_loopback() {
                Ok(())
            } else {
                Err(
                    "serving beyond this machine needs sign-in: set SEVTOOL_ACCESS_TOKEN (or Sign in with Slack)"
                        .into(),
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::config;

    #[test]
    fn bad_values_name_the_variable() {
        let err = config(&[("PORT", "eighty")]).unwrap_err().to_string();
        assert!(err.starts_with("PORT=\"eighty\""), "{err}");
        assert!(config(&[("SEVTOOL_HOST", "localhost:1")]).is_err());
    }
}
