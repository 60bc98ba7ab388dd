//! The trend reports: read the month tallies (one item per month, never a SEV each) and hand
//! them to the pure computations in `reports`. The weekly digest and the SCA report read the
//! SEVs they list through the month index.

use std::sync::Arc;

use serde::Serialize;

use super::AppError;
use crate::clock::Clock;
use crate::domain::{Level, ReportPolicy, Sev};
use crate::reports::{
    self, Dimension, Month, MonthRange, MonthRow, ScaSummary, Tallies, TopAnswer, Trend, Viewer, counted,
};
use crate::store::{Rebuilt, SevRepo};

#[derive(Debug, Clone, Serialize)]
pub struct ScaReport {
    pub since: Month,
    pub until: Month,
    /// Counted SEVs in the range whose SCAs these are.
    pub sevs: usize,
    #[serde(flatten)]
    pub summary: ScaSummary,
}

/// The trend reports over SEV metadata (per month, top product tracks and systems, a level's
/// trend, SCA completion) and the weekly review digest. Read-only.
#[derive(Clone)]
pub struct TrendService {
    repo: SevRepo,
    clock: Arc<dyn Clock>,
    policy: ReportPolicy,
}

/// How far back the digest looks for SEVs that still owe a report.
const REPORTS_OWED_WINDOW: chrono::Duration = chrono::Duration::days(180);

impl TrendService {
    pub fn new(repo: SevRepo, clock: Arc<dyn Clock>, policy: ReportPolicy) -> Self {
        TrendService { repo, clock, policy }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// SEVs that started in the range, read month by month from the month index.
    async fn started_in(&self, range: MonthRange) -> Result<Vec<Sev>, AppError> {
        let (from, until) = range.bounds();
        Ok(self.repo.started_between(from, until).await?)
    }

    /// The month tallies of the range: what every trend number is computed from.
    pub async fn tallies(&self, range: MonthRange) -> Result<Tallies, AppError> {
        Ok(self.repo.tallies(range).await?)
    }

    /// Counts the tallies again from the SEVs (`sevtool rebuild-tallies`, the `reports`
    /// function's `rebuild_tallies` event).
    pub async fn rebuild_tallies(&self) -> Result<Rebuilt, AppError> {
        Ok(self.repo.rebuild_tallies().await?)
    }

    /// Rebuilds the tallies unless that was done once already: a store written before tallies
    /// existed gets them counted before its first report. `None` when nothing had to be done.
    pub async fn ensure_tallies(&self) -> Result<Option<Rebuilt>, AppError> {
        if self.repo.tallies_built().await? || self.repo.mark_tallies_built_if_empty().await? {
            return Ok(None);
        }
        Ok(Some(self.repo.rebuild_tallies().await?))
    }

    pub async fn monthly(&self, range: MonthRange, viewer: Viewer) -> Result<Vec<MonthRow>, AppError> {
        Ok(reports::monthly(&self.tallies(range).await?, range, viewer))
    }

    pub async fn top(
        &self,
        dimension: Dimension,
        range: MonthRange,
        viewer: Viewer,
        limit: usize,
    ) -> Result<TopAnswer, AppError> {
        Ok(reports::top(
            &self.tallies(range).await?,
            dimension,
            range,
            viewer,
            limit,
        ))
    }

    /// The trend of `level` over the last `months` complete months: the current month is left out
    /// because a month that is not over would always look like a decline.
    pub async fn trend(&self, level: Level, months: usize, viewer: Viewer) -> Result<Trend, AppError> {
        let last = Month::of(self.clock.now()).prev();
        let range = last.last(months);
        let range = MonthRange::new(range.first, range.last)?;
        Ok(reports::trend(&self.tallies(range).await?, level, range, viewer))
    }

    /// The weekly review digest of `week`.
    pub async fn weekly(&self, week: reports::IsoWeek, viewer: Viewer) -> Result<reports::Weekly, AppError> {
        let now = self.clock.now();
        let (from, until) = week.bounds();
        let sevs = self.repo.started_between(from, until).await?;
        let mut overdue = Vec::new();
        for sca in self.repo.overdue_scas(now).await? {
            // Whether its SEV is private decides who may read the SCA.
            let private = self.repo.load(sca.sev).await?.sev.private;
            overdue.push((sca, private));
        }
        let mut completed = Vec::new();
        for report in self.repo.reports_completed_between(from, until).await? {
            let sev = self.repo.load(report.sev).await?.sev;
            completed.push((report, sev));
        }
        // Reports owed: SEVs of the last months that are over, with the report if there is one.
        let mut resolved = Vec::new();
        for sev in self.repo.started_between(now - REPORTS_OWED_WINDOW, now).await? {
            if sev.status.is_active() || sev.drill {
                continue;
            }
            let report = self.repo.report(sev.id).await?.map(|s| s.report);
            resolved.push((sev, report));
        }
        let input = reports::WeeklyInput {
            week,
            sevs: &sevs,
            overdue_scas: &overdue,
            completed: &completed,
            resolved: &resolved,
            policy: &self.policy,
            now,
        };
        Ok(reports::weekly(&input, viewer))
    }

    pub fn policy(&self) -> &ReportPolicy {
        &self.policy
    }

    /// Completion and overdue counts of the SCAs of SEVs started in the range. SCAs live with their
    /// SEV, so this reads one partition per counted SEV.
    pub async fn scas(&self, range: MonthRange, viewer: Viewer) -> Result<ScaReport, AppError> {
        let sevs = self.started_in(range).await?;
        let mut scas = Vec::new();
        let mut counted_sevs = 0;
        for sev in sevs.iter().filter(|s| counted(s, viewer)) {
            counted_sevs += 1;
            scas.extend(self.repo.scas_of(sev.id).await?);
        }
        Ok(ScaReport {
            since: range.first,
            until: range.last,
            sevs: counted_sevs,
            summary: reports::sca_summary(&scas, self.clock.now()),
        })
    }
}
