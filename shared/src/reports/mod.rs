//! Reports over SEVs and SCAs: pure functions over domain values, no I/O. The trend numbers are
//! computed from month tallies (`tally`), which the store keeps beside the SEVs; the application
//! service (`app::TrendService`) reads them and hands them here.
//!
//! Two rules hold for every trend number: drills are left out (and counted on their own), and a
//! private SEV counts only for a [`Viewer`] allowed to see private SEVs.

mod charts;
mod document;
mod month;
mod monthly;
mod scas;
mod stats;
mod tally;
mod template;
#[cfg(test)]
pub(crate) mod testing;
mod top;
mod trend;
mod weekly;

pub use charts::{counts_by_level, response_times};
pub use document::{human, sev_report};
pub use month::{MAX_MONTHS, Month, MonthRange};
pub use monthly::{LevelTimes, MonthRow, monthly};
pub use scas::{ScaSummary, sca_summary};
pub use stats::TimeStats;
pub use tally::{Counts, Durations, MonthTally, Tallies};
pub use template::{PLACEHOLDERS, Template};
pub use top::{Dimension, Ranked, TopAnswer, top};
pub use trend::{Trend, Verdict, trend};
pub use weekly::{IsoWeek, OverdueReport, OverdueSca, ReportLine, SevLine, Weekly, WeeklyInput, weekly};

use crate::domain::Sev;

/// What aggregate numbers may include, as the visibility policy (`app::Access::viewer`) decides
/// it: [`Viewer::OPERATOR`] for operators and the security group, who see every private SEV;
/// [`Viewer::ANONYMOUS`] for everyone else, whose numbers leave private SEVs (security,
/// customer data) out entirely, even those they are a member of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Viewer {
    pub sees_private: bool,
}

impl Viewer {
    pub const ANONYMOUS: Viewer = Viewer { sees_private: false };
    pub const OPERATOR: Viewer = Viewer { sees_private: true };

    pub fn may_see(self, sev: &Sev) -> bool {
        !sev.private || self.sees_private
    }
}

/// The SEVs a trend counts: visible to the viewer and not drills.
pub fn counted(sev: &Sev, viewer: Viewer) -> bool {
    viewer.may_see(sev) && !sev.drill
}
