use super::{Level, Status};

/// A request the domain refuses. Each names what is wrong and how to fix it, because the
/// message is shown as-is to someone in the middle of an outage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("cannot move a SEV from {from} to {to}: {hint}")]
    IllegalMove {
        from: Status,
        to: Status,
        hint: &'static str,
    },
    #[error("the SEV is already {0}")]
    AlreadyAtStatus(Status),
    #[error("the SEV is already {0}")]
    AlreadyAtLevel(Level),
    #[error("a closed SEV cannot be changed this way; it is kept as the record of what happened")]
    Closed,
    #[error(
        "only the comms lead, the coordinator or a deputy may publish a public update, and `{0}` is none of them; \
         post it as an internal update, or ask the coordinator to make you comms lead or deputy"
    )]
    NotPublisher(String),
    #[error("a private SEV is never published: its updates stay internal")]
    PrivateNotPublished,
    #[error(
        "only the coordinator or the comms lead may appoint the comms lead and deputies, and `{0}` is neither; \
         ask the coordinator"
    )]
    NotAppointer(String),
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}
