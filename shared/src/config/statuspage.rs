//! Atlassian Statuspage, switched on by `STATUSPAGE_PAGE_ID`, which then needs `STATUSPAGE_API_KEY`.
//! The page id is the switch, as `SEVTOOL_JIRA_URL` is Jira's: on AWS the key sits in the secret
//! every function reads, and only the worker, which publishes, is given the page id.

use crate::statuspage::{DEFAULT_API_URL, StatuspageSettings, valid_id};

use super::{ConfigError, Secret, checked_as_given, missing, set, trimmed};

/// The settings when `STATUSPAGE_PAGE_ID` is set; it then needs the key.
pub(super) fn read(get: &impl Fn(&str) -> Option<String>) -> Result<Option<StatuspageSettings>, ConfigError> {
    let Some(page_id) = trimmed(get, "STATUSPAGE_PAGE_ID") else {
        return Ok(None);
    };
    // Taken as given (not trimmed), as every key is.
    let api_key = set(get, "STATUSPAGE_API_KEY").map(Secret::new).ok_or_else(|| {
        missing(
            "STATUSPAGE_API_KEY",
            "STATUSPAGE_PAGE_ID turns Statuspage on, which needs an API key (Statuspage, your avatar, API info)",
        )
    })?;
    let page_id = checked_as_given("STATUSPAGE_PAGE_ID", &page_id, |p| {
        if valid_id(p) {
            Ok(p.to_owned())
        } else {
            Err("is not a Statuspage page id: letters and digits, as in the page's API info".into())
        }
    })?;
    let api_url = trimmed(get, "STATUSPAGE_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_owned());
    // The key travels with every request, so plain HTTP is only for a fake on this machine.
    let api_url = checked_as_given("STATUSPAGE_API_URL", api_url.trim_end_matches('/'), |url| {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|l| {
                url.strip_prefix(l)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
            });
        if url.starts_with("https://") || loopback {
            Ok(url.to_owned())
        } else {
            Err(format!(
                "must be an https URL, as {DEFAULT_API_URL} (http only on this machine, for a fake)"
            ))
        }
    })?;
    Ok(Some(StatuspageSettings {
        api_url,
        page_id,
        api_key,
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::tests::config;

    #[test]
    fn statuspage_is_off_by_default_and_the_page_id_needs_the_key() {
        assert!(config(&[]).unwrap().statuspage.is_none());
        let on = [
            ("STATUSPAGE_API_KEY", "sp-s3cret"),
            ("STATUSPAGE_PAGE_ID", "gytm4qzbx9t6"),
        ];
        let c = config(&on).unwrap();
        assert!(c.integrations.describe().contains(&"statuspage: on".to_owned()));
        let s = c.statuspage.unwrap();
        assert_eq!(s.api_url, "https://api.statuspage.io/v1");
        assert_eq!(s.page_id, "gytm4qzbx9t6");
        assert!(
            config(&on[..1]).unwrap().statuspage.is_none(),
            "the key alone is not the switch"
        );
        let err = config(&on[1..]).unwrap_err().to_string();
        assert!(err.contains("STATUSPAGE_API_KEY"), "{err}");
    }

    #[test]
    fn a_bad_page_id_or_url_is_refused_and_the_key_never_shown() {
        let bad_page = [("STATUSPAGE_API_KEY", "sp-s3cret"), ("STATUSPAGE_PAGE_ID", "../pages")];
        let err = config(&bad_page).unwrap_err().to_string();
        assert!(
            err.contains("STATUSPAGE_PAGE_ID") && !err.contains("sp-s3cret"),
            "{err}"
        );
        let bad_url = [
            ("STATUSPAGE_API_KEY", "sp-s3cret"),
            ("STATUSPAGE_PAGE_ID", "gytm4qzbx9t6"),
            ("STATUSPAGE_API_URL", "ftp://x"),
        ];
        let err = config(&bad_url).unwrap_err().to_string();
        assert!(
            err.contains("STATUSPAGE_API_URL") && !err.contains("sp-s3cret"),
            "{err}"
        );
        for (url, ok) in [
            ("http://status.example.com", false),
            ("http://localhost.example.com", false),
            ("http://127.0.0.1:4010", true),
            ("https://status.example.com/v1", true),
        ] {
            let env = [
                ("STATUSPAGE_API_KEY", "sp-s3cret"),
                ("STATUSPAGE_PAGE_ID", "gytm4qzbx9t6"),
                ("STATUSPAGE_API_URL", url),
            ];
            assert_eq!(config(&env).is_ok(), ok, "{url}: the key is never sent in the clear");
        }
        let good = [("STATUSPAGE_API_KEY", "sp-s3cret"), ("STATUSPAGE_PAGE_ID", "abc")];
        let debug = format!("{:?}", config(&good).unwrap().statuspage);
        assert!(!debug.contains("sp-s3cret"), "{debug}");
    }
}
