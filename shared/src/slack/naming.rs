//! Channel names for a SEV: `sev-<n>-<slug>` and `sev-<n>-<slug>-announce` by default.

use crate::domain::Sev;

/// Slack's limit for a channel name.
const MAX_NAME: usize = 80;
const ANNOUNCE_SUFFIX: &str = "-announce";

/// Lower-case ASCII words joined by `-`: Slack channel names allow only `a-z0-9-_`.
pub fn slug(title: &str, max: usize) -> String {
    let mut out = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_ascii_lowercase();
        let extra = usize::from(!out.is_empty()) + word.len();
        if out.len() + extra > max {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&word);
    }
    out
}

/// Room kept for a `-N` suffix should the name be taken.
const SUFFIX_ROOM: usize = 3;

/// Expands a pattern such as `sev-{n}-{slug}`, keeping room for the `-announce` suffix.
pub fn response_channel(pattern: &str, sev: &Sev) -> String {
    let numbered = pattern.replace("{n}", &sev.id.0.to_string());
    let fixed = numbered.replace("{slug}", "").len();
    let room = MAX_NAME.saturating_sub(fixed + ANNOUNCE_SUFFIX.len() + SUFFIX_ROOM);
    let name = numbered.replace("{slug}", &slug(&sev.title, room));
    name.trim_end_matches('-').to_owned()
}

pub fn announce_channel(response: &str) -> String {
    format!("{response}{ANNOUNCE_SUFFIX}")
}

/// The name to try after `name_taken`: `-2`, `-3`, … appended.
pub fn with_suffix(name: &str, attempt: u32) -> String {
    if attempt == 0 {
        name.to_owned()
    } else {
        format!("{name}-{}", attempt + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NewSev, SevId};

    fn sev(n: u64, title: &str) -> Sev {
        Sev::file(
            SevId(n),
            NewSev {
                title: title.into(),
                ..NewSev::default()
            },
            "U1".into(),
            chrono::Utc::now(),
        )
        .unwrap()
        .0
    }

    #[test]
    fn names_follow_the_documented_example() {
        let s = sev(42, "Checkout 5xx");
        let r = response_channel("sev-{n}-{slug}", &s);
        assert_eq!(r, "sev-42-checkout-5xx");
        assert_eq!(announce_channel(&r), "sev-42-checkout-5xx-announce");
    }

    #[test]
    fn names_are_valid_slack_names_whatever_the_title() {
        let s = sev(
            7,
            "Zahlungen schlagen fehl: «ÜBERWEISUNG» / 50% der Anfragen ~~ "
                .repeat(3)
                .as_str(),
        );
        let r = announce_channel(&response_channel("sev-{n}-{slug}", &s));
        assert!(r.len() <= MAX_NAME, "{r}");
        assert!(
            r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{r}"
        );
        assert!(r.starts_with("sev-7-zahlungen-schlagen-fehl"), "{r}");
        assert_eq!(response_channel("sev-{n}-{slug}", &sev(8, "日本語")), "sev-8");
    }

    #[test]
    fn taken_names_get_a_numbered_suffix() {
        assert_eq!(with_suffix("sev-1-x", 0), "sev-1-x");
        assert_eq!(with_suffix("sev-1-x", 1), "sev-1-x-2");
    }
}
