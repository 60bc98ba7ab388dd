//! Times that come from outside (API bodies, web forms, Slack, CSV imports, alert payloads),
//! bounded once at the edge so that no later arithmetic can overflow.
//!
//! chrono's own range (about ±262,000 years) is far wider than any incident: a due date in the
//! year 262142 was once accepted, and planning its nags overflowed and aborted the process. The
//! bounds are 1970 (nothing a company runs predates the Unix epoch) to the end of 2200 (a
//! deadline or date any SRE would still call sane, with centuries of head-room before chrono's
//! limits for every span the policies add: the longest is 3650 days).

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::DomainError;

pub const FIRST_YEAR: i32 = 1970;
pub const LAST_YEAR: i32 = 2200;

/// A moment within `FIRST_YEAR..=LAST_YEAR` (UTC). The only way in is [`Timestamp::new`] (or
/// parsing, which calls it), so every holder knows its value is in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The earliest moment accepted: 1970-01-01T00:00:00Z.
    pub fn earliest() -> Timestamp {
        Timestamp(DateTime::<Utc>::UNIX_EPOCH)
    }

    /// The latest moment accepted: the last second of 2200.
    pub fn latest() -> Timestamp {
        Timestamp(
            Utc.with_ymd_and_hms(LAST_YEAR, 12, 31, 23, 59, 59)
                .single()
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// `field` names the input in the refusal.
    pub fn new(field: &'static str, t: DateTime<Utc>) -> Result<Timestamp, DomainError> {
        if t < Self::earliest().0 || t > Self::latest().0 {
            return Err(DomainError::invalid(field, out_of_range(&t.to_rfc3339())));
        }
        Ok(Timestamp(t))
    }

    /// An RFC 3339 time (`2026-07-01T09:30:00Z`, any offset) or a date (`2026-07-01`, midnight
    /// UTC).
    pub fn parse(field: &'static str, raw: &str) -> Result<Timestamp, DomainError> {
        let raw = raw.trim();
        // chrono's `FromStr` also reads years beyond four digits (`+262142-12-31T…`), which is
        // what JSON decoding accepted before: read them, to refuse them as out of range.
        let t = raw
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| t.and_utc())
            })
            .ok_or_else(|| {
                DomainError::invalid(
                    field,
                    format!(
                        "`{}` is not a time; use 2026-07-01 or 2026-07-01T09:30:00Z",
                        shorten(raw)
                    ),
                )
            })?;
        Timestamp::new(field, t)
    }

    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

fn out_of_range(shown: &str) -> String {
    format!(
        "`{}` is out of range; times must fall in the years {FIRST_YEAR} to {LAST_YEAR}",
        shorten(shown)
    )
}

/// Echoes at most 40 characters of what was sent: enough to recognise, never a wall of text.
fn shorten(raw: &str) -> String {
    let mut s: String = raw.chars().take(40).collect();
    if raw.chars().count() > 40 {
        s.push('…');
    }
    s
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// JSON fields name themselves through the path (`due: ...`), so the message leaves the field
/// out.
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        match Timestamp::parse("time", &raw) {
            Ok(t) => Ok(t),
            Err(DomainError::Invalid { reason, .. }) => Err(serde::de::Error::custom(reason)),
            Err(e) => Err(serde::de::Error::custom(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_outside_1970_to_2200_are_refused_with_the_field_named() {
        for raw in [
            "+262142-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2201-01-01T00:00:00Z",
            "0001-01-01",
        ] {
            let e = Timestamp::parse("due", raw).unwrap_err().to_string();
            assert!(e.starts_with("due: "), "{raw}: {e}");
            assert!(e.contains("out of range") || e.contains("not a time"), "{raw}: {e}");
        }
    }

    #[test]
    fn the_bounds_themselves_and_any_offset_are_accepted() {
        assert_eq!(Timestamp::parse("t", "1970-01-01").unwrap(), Timestamp::earliest());
        assert_eq!(
            Timestamp::parse("t", "2200-12-31T23:59:59Z").unwrap(),
            Timestamp::latest()
        );
        let t = Timestamp::parse("t", "2026-07-01T11:30:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2026-07-01T09:30:00+00:00");
    }

    #[test]
    fn json_refusals_say_what_is_wrong_without_repeating_the_field() {
        let e = serde_json::from_str::<Timestamp>("\"+262142-12-31T23:59:59Z\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("out of range") && !e.starts_with("time:"), "{e}");
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }

    #[test]
    fn long_garbage_is_echoed_short() {
        let e = Timestamp::parse("due", &"x".repeat(10_000)).unwrap_err().to_string();
        assert!(e.len() < 200, "{e}");
    }
}
