use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::DomainError;

/// How bad a SEV is. SEV0 is the worst; the derived `Ord` sorts worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    #[serde(rename = "SEV0")]
    Sev0,
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Sev0, Level::Sev1, Level::Sev2, Level::Sev3];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Sev0 => "SEV0",
            Level::Sev1 => "SEV1",
            Level::Sev2 => "SEV2",
            Level::Sev3 => "SEV3",
        }
    }

    /// The criteria shown next to the level picker on every intake form.
    pub fn criteria(self) -> &'static str {
        match self {
            Level::Sev0 => "Critical: the whole product is down or data is being lost for many customers.",
            Level::Sev1 => "Major: a core feature is down or badly degraded for many customers.",
            Level::Sev2 => "Significant: a feature is degraded, or a core one for a few customers.",
            Level::Sev3 => "Minor: limited impact, a workaround exists, or an internal system only.",
        }
    }

    /// True when `self` is at least as bad as `other`.
    pub fn at_least(self, other: Level) -> bool {
        self <= other
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = DomainError;

    /// Accepts `SEV1`, `sev1` and `1`, since people type all three under stress.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("sev"))
            .map_or(t, |_| &t[3..]);
        match digits {
            "0" => Ok(Level::Sev0),
            "1" => Ok(Level::Sev1),
            "2" => Ok(Level::Sev2),
            "3" => Ok(Level::Sev3),
            _ => Err(DomainError::invalid(
                "level",
                format!("`{t}` is not a level; use one of SEV0, SEV1, SEV2, SEV3 (SEV0 is the worst)"),
            )),
        }
    }
}

/// Parsed leniently (see `from_str`), so API clients get the same forgiving input and clear error.
impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sev0_is_the_worst_and_sorts_first() {
        let mut levels = vec![Level::Sev3, Level::Sev0, Level::Sev2, Level::Sev1];
        levels.sort();
        assert_eq!(levels, Level::ALL);
        assert!(Level::Sev0.at_least(Level::Sev2));
        assert!(!Level::Sev3.at_least(Level::Sev2));
    }

    #[test]
    fn parses_the_spellings_people_type() {
        assert_eq!("SEV1".parse::<Level>(), Ok(Level::Sev1));
        assert_eq!("sev0".parse::<Level>(), Ok(Level::Sev0));
        assert_eq!(" 3 ".parse::<Level>(), Ok(Level::Sev3));
    }

    #[test]
    fn rejects_unknown_levels_with_the_valid_ones_listed() {
        let err = "SEV5".parse::<Level>().unwrap_err().to_string();
        assert!(err.contains("SEV0, SEV1, SEV2, SEV3"), "{err}");
        assert!("".parse::<Level>().is_err());
        assert!("sevx".parse::<Level>().is_err());
    }

    #[test]
    fn serialises_as_the_name_people_use() {
        assert_eq!(serde_json::to_string(&Level::Sev2).unwrap(), "\"SEV2\"");
    }
}
