//! Application services: the one way every entry point (web, Slack, alerts) acts on SEVs.

mod access;
mod alerts;
mod error;
mod integrations;
mod nags;
mod paging;
mod report_nags;
mod reports;
mod retry;
mod scas;
mod sev_reports;
mod sevs;
mod transfer;

pub use access::{Access, SecurityGroup};
pub use alerts::{AlertAction, AlertOutcome, AlertService};
pub use error::{AppError, ErrorKind};
pub use integrations::Integrations;
pub use nags::{NagPlanner, TimeZones, schedule_name};
pub use paging::{Paging, PagingError, PagingService, SEVTOOL};
pub use report_nags::report_schedule_name;
pub use reports::{ReportService, ScaReport};
pub use scas::{NewSca, ScaService};
pub use sev_reports::ReportDrafter;
pub use sevs::{FileRequest, ListFilter, SevDetail, SevService};
pub use transfer::{ExportError, LakeExport};
