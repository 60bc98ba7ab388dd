use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::DomainError;

/// Where a SEV is in its life: `open -> mitigated -> resolved -> closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Mitigated,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Open, Status::Mitigated, Status::Resolved, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Mitigated => "mitigated",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// Active SEVs still need people: they are listed first and kept in the active index.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::Mitigated)
    }

    /// The legal moves. Mitigation may be skipped; a SEV is closed only once resolved, so a false
    /// alarm is resolved with a reason first. A mitigation that did not hold, or a resolved SEV
    /// that comes back, may be reopened; closed is final.
    pub fn check_move(self, to: Status) -> Result<(), DomainError> {
        use Status::*;
        let hint = match (self, to) {
            (a, b) if a == b => return Err(DomainError::AlreadyAtStatus(a)),
            (Open, Mitigated) | (Open, Resolved) | (Mitigated, Resolved) | (Resolved, Closed) => {
                return Ok(());
            }
            (Mitigated, Open) | (Resolved, Open) => return Ok(()),
            (Open | Mitigated, Closed) => "resolve it first (give a reason such as \"false alarm\" if it was one)",
            (Resolved, Mitigated) => "reopen it first if the problem is back",
            (Closed, _) => "a closed SEV is final; file a new SEV if the problem is back",
            _ => "that move is not allowed",
        };
        Err(DomainError::IllegalMove { from: self, to, hint })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "`{}` is not a status; use one of open, mitigated, resolved, closed",
                        s.trim()
                    ),
                )
            })
    }
}

/// Parsed leniently (see `from_str`), so API clients get the same forgiving input and clear error.
impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;
    use super::*;

    #[test]
    fn forward_moves_are_legal_and_mitigation_may_be_skipped() {
        assert!(Open.check_move(Mitigated).is_ok());
        assert!(Mitigated.check_move(Resolved).is_ok());
        assert!(Open.check_move(Resolved).is_ok());
        assert!(Resolved.check_move(Closed).is_ok());
    }

    #[test]
    fn closing_requires_resolving_first() {
        for from in [Open, Mitigated] {
            let err = from.check_move(Closed).unwrap_err();
            assert!(err.to_string().contains("resolve it first"), "{err}");
        }
    }

    #[test]
    fn closed_is_final() {
        for to in [Open, Mitigated, Resolved] {
            assert!(matches!(Closed.check_move(to), Err(DomainError::IllegalMove { .. })));
        }
    }

    #[test]
    fn reopening_is_allowed_until_closed() {
        assert!(Mitigated.check_move(Open).is_ok());
        assert!(Resolved.check_move(Open).is_ok());
        assert!(Resolved.check_move(Mitigated).is_err());
    }

    #[test]
    fn moving_to_the_same_status_is_reported_not_silently_accepted() {
        assert_eq!(Open.check_move(Open), Err(DomainError::AlreadyAtStatus(Open)));
    }

    #[test]
    fn only_open_and_mitigated_are_active() {
        assert_eq!(Status::ALL.map(Status::is_active), [true, true, false, false]);
    }

    #[test]
    fn parses_case_insensitively() {
        assert_eq!("Mitigated".parse::<Status>(), Ok(Mitigated));
        assert!(
            "done"
                .parse::<Status>()
                .unwrap_err()
                .to_string()
                .contains("open, mitigated")
        );
    }
}
