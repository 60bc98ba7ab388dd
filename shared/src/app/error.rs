use crate::domain::{DomainError, ScaId, SevId};
use crate::queue::TaskError;
use crate::store::{RepoError, StoreError};

/// What an error means to whoever hit it, decided once for every error of the application:
/// the JSON API's status, the web page's status and whether a task is retried all follow from
/// it (`http::status_of`, `TaskError::from`), so they cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is wrong (a field, a value); sent again as is, it fails again.
    Invalid,
    /// What it names does not exist, or does not exist for this caller.
    NotFound,
    /// It clashes with the current state (a status move that is not allowed, a stale report, a
    /// reused idempotency key); it fails again until someone changes the state.
    Conflict,
    /// The caller may see it but not do this (publish without a role that may).
    Forbidden,
    /// It lacks something it must carry (the version of the report it edits).
    PreconditionRequired,
    /// Others changed the same thing at once, and it gave up; nothing changed, and the same
    /// request may well succeed a moment later.
    Contention,
    /// Storage is down; nothing changed, try again later.
    Unavailable,
}

impl ErrorKind {
    /// Whether the same request may succeed if sent again later, unchanged.
    pub fn is_transient(self) -> bool {
        match self {
            ErrorKind::Contention | ErrorKind::Unavailable => true,
            ErrorKind::Invalid
            | ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::Forbidden
            | ErrorKind::PreconditionRequired => false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0} does not exist")]
    NotFound(SevId),
    #[error("{0} does not exist")]
    NoSuchSca(ScaId),
    #[error("{0} has no report yet; assign a report owner, or save one from the template")]
    NoReport(SevId),
    /// The report was saved by someone else after the caller read it.
    #[error(
        "the report of {sev} was saved by someone else since you loaded it (it is now version {current}); \
         reload it and apply your changes again"
    )]
    StaleReport { sev: SevId, current: u64 },
    #[error("send the `version` of the report you edited (from GET /api/sevs/{0}/report), so nobody's edit is lost")]
    ReportVersionRequired(SevId),
    /// Too many people changed the SEV at once; the request changed nothing and can be retried.
    #[error("the SEV kept changing while this request tried to update it; nothing was changed, try again")]
    Conflict,
    #[error("this Idempotency-Key was already used for a different request; use a new key for a new SEV")]
    IdempotencyMismatch,
    #[error("storage is unavailable: {0}")]
    Store(#[source] StoreError),
}

impl AppError {
    /// The one classification of this error; no wildcard, so a new variant must be decided.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::Domain(DomainError::Invalid { .. }) => ErrorKind::Invalid,
            AppError::Domain(
                DomainError::IllegalMove { .. }
                | DomainError::AlreadyAtStatus(_)
                | DomainError::AlreadyAtLevel(_)
                | DomainError::Closed
                | DomainError::PrivateNotPublished,
            ) => ErrorKind::Conflict,
            AppError::Domain(DomainError::NotPublisher(_) | DomainError::NotAppointer(_)) => ErrorKind::Forbidden,
            AppError::NotFound(_) | AppError::NoSuchSca(_) | AppError::NoReport(_) => ErrorKind::NotFound,
            AppError::StaleReport { .. } | AppError::IdempotencyMismatch => ErrorKind::Conflict,
            AppError::ReportVersionRequired(_) => ErrorKind::PreconditionRequired,
            AppError::Conflict => ErrorKind::Contention,
            AppError::Store(_) => ErrorKind::Unavailable,
        }
    }
}

/// A task that hit an application error is retried only if the same task may succeed later.
impl From<AppError> for TaskError {
    fn from(e: AppError) -> Self {
        if e.kind().is_transient() {
            TaskError::Retryable(e.to_string())
        } else {
            TaskError::Permanent(e.to_string())
        }
    }
}

impl From<RepoError> for TaskError {
    fn from(e: RepoError) -> Self {
        AppError::from(e).into()
    }
}

impl From<RepoError> for AppError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound(id) => AppError::NotFound(id),
            RepoError::Conflict => AppError::Conflict,
            RepoError::IdempotencyMismatch => AppError::IdempotencyMismatch,
            RepoError::Store(s) => AppError::Store(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Level, Status};

    #[test]
    fn every_error_has_one_kind_and_only_contention_and_outages_are_transient() {
        let cases = [
            (
                AppError::Domain(DomainError::invalid("title", "is required")),
                ErrorKind::Invalid,
            ),
            (AppError::Domain(DomainError::Closed), ErrorKind::Conflict),
            (
                AppError::Domain(DomainError::NotPublisher("U1".into())),
                ErrorKind::Forbidden,
            ),
            (AppError::Domain(DomainError::PrivateNotPublished), ErrorKind::Conflict),
            (
                AppError::Domain(DomainError::NotAppointer("U1".into())),
                ErrorKind::Forbidden,
            ),
            (
                AppError::Domain(DomainError::AlreadyAtStatus(Status::Open)),
                ErrorKind::Conflict,
            ),
            (
                AppError::Domain(DomainError::AlreadyAtLevel(Level::Sev1)),
                ErrorKind::Conflict,
            ),
            (AppError::NotFound(SevId(1)), ErrorKind::NotFound),
            (AppError::NoSuchSca(ScaId(1)), ErrorKind::NotFound),
            (AppError::NoReport(SevId(1)), ErrorKind::NotFound),
            (
                AppError::StaleReport {
                    sev: SevId(1),
                    current: 2,
                },
                ErrorKind::Conflict,
            ),
            (AppError::IdempotencyMismatch, ErrorKind::Conflict),
            (
                AppError::ReportVersionRequired(SevId(1)),
                ErrorKind::PreconditionRequired,
            ),
            (AppError::Conflict, ErrorKind::Contention),
            (
                AppError::Store(StoreError::Backend("down".into())),
                ErrorKind::Unavailable,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e}");
            assert_eq!(
                kind.is_transient(),
                matches!(kind, ErrorKind::Contention | ErrorKind::Unavailable),
                "{e}"
            );
            let shown = e.to_string();
            let retried = matches!(TaskError::from(e), TaskError::Retryable(_));
            assert_eq!(
                retried,
                kind.is_transient(),
                "a task retries exactly the transient: {shown}"
            );
        }
    }
}
