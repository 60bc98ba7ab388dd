use crate::domain::{DomainError, ScaId, SevId};
use crate::store::{RepoError, StoreError};

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
    Store(StoreError),
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
