//! Lower-case hex, as the signatures we check (Slack's, Jira's, PagerDuty's) and our own stable
//! ids write it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The hex HMAC-SHA256 of `body` under `key`: what Jira's and PagerDuty's webhooks sign.
pub(crate) fn hmac_sha256(key: &[u8], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|e| unreachable!("HMAC accepts any key length: {e}"));
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_lower_case_digits_per_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(super::hex(&[]), "");
    }
}
