use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::DomainError;

/// A hierarchical tag such as `root-cause/deploy/config` or `system/payments/ledger`. Segments are
/// lower-case words so that the same tag typed twice is the same tag, and every prefix of a tag is
/// itself a meaningful group for trend reports.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

const MAX_LEN: usize = 200;
const MAX_DEPTH: usize = 8;

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// Every ancestor of the tag and the tag itself: `a`, `a/b`, `a/b/c`.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.0
            .match_indices('/')
            .map(|(i, _)| &self.0[..i])
            .chain(std::iter::once(self.0.as_str()))
    }

    /// True when this tag is `ancestor` or lies below it.
    pub fn is_under(&self, ancestor: &Tag) -> bool {
        self.0 == ancestor.0
            || (self.0.starts_with(&ancestor.0) && self.0.as_bytes().get(ancestor.0.len()) == Some(&b'/'))
    }
}

impl FromStr for Tag {
    type Err = DomainError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim().trim_matches('/').to_ascii_lowercase();
        let bad = |reason: &str| {
            Err(DomainError::invalid(
                "tags",
                format!("`{}` {reason}; write tags like `system/payments/ledger`", raw.trim()),
            ))
        };
        if s.is_empty() {
            return bad("is empty");
        }
        if s.len() > MAX_LEN {
            return bad("is longer than 200 characters");
        }
        if s.split('/').count() > MAX_DEPTH {
            return bad("is nested more than 8 levels deep");
        }
        let segment_ok = |seg: &str| {
            !seg.is_empty()
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !s.split('/').all(segment_ok) {
            return bad("may use only letters, digits, `-`, `_` and `.` between single slashes");
        }
        Ok(Tag(s))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> Tag {
        s.parse().unwrap()
    }

    #[test]
    fn normalises_case_and_outer_slashes() {
        assert_eq!(tag(" /System/Payments/Ledger/ ").as_str(), "system/payments/ledger");
    }

    #[test]
    fn lists_every_prefix_for_rollups() {
        let t = tag("root-cause/deploy/config");
        assert_eq!(
            t.prefixes().collect::<Vec<_>>(),
            ["root-cause", "root-cause/deploy", "root-cause/deploy/config"]
        );
        assert_eq!(t.segments().count(), 3);
    }

    #[test]
    fn knows_its_ancestors_by_whole_segment() {
        let t = tag("system/payments/ledger");
        assert!(t.is_under(&tag("system")));
        assert!(t.is_under(&tag("system/payments")));
        assert!(t.is_under(&t));
        assert!(!t.is_under(&tag("system/pay")));
    }

    #[test]
    fn rejects_malformed_tags_with_an_example() {
        for bad in ["", "a//b", "a b", "x/<script>", &"a/".repeat(9)] {
            let err = bad.parse::<Tag>().unwrap_err().to_string();
            assert!(err.contains("system/payments/ledger"), "{bad}: {err}");
        }
        assert!("a".repeat(201).parse::<Tag>().is_err());
    }
}
