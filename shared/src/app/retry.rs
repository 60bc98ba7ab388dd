//! The one optimistic-concurrency retry loop of the application services. A writer reads an
//! aggregate with its version, changes it and saves it against that version; losing the race to
//! a concurrent writer (`RepoError::Conflict` on the save) means reading again and retrying, so
//! that concurrent changes all land, each judged against the aggregate as it then is.

use std::future::Future;

use super::AppError;

/// Lost races in a row before a writer gives up with [`AppError::Conflict`] (a retryable 409):
/// the README promises that only "a concurrent-update storm that outlasted 100 retries" is
/// answered so. Writers use this unless they have a reason of their own, said where they pass it.
pub(crate) const DEFAULT_ATTEMPTS: u32 = 100;

/// What one attempt came to.
pub(crate) enum Attempt<T> {
    /// Finished: saved, or nothing to save. Ends the retrying with this value.
    Done(T),
    /// Lost the race to a concurrent writer: back off, read again and retry.
    Lost,
}

/// Runs `attempt` until it is [`Attempt::Done`] or fails, at most `attempts` times, backing off
/// after each lost race. An error ends the retrying at once and is returned as is; `attempts`
/// lost races in a row are [`AppError::Conflict`].
pub(crate) async fn retry_optimistic<T, F, Fut>(attempts: u32, mut attempt: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, AppError>>,
{
    for n in 0..attempts {
        match attempt().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Lost => crate::store::backoff(n).await,
        }
    }
    Err(AppError::Conflict)
}
