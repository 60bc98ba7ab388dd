//! Application services: the one way every entry point (web, Slack, alerts) acts on SEVs.

mod access;
mod alerts;
mod catch_up;
mod error;
mod integrations;
mod jobs;
mod nags;
mod paging;
mod report_nags;
mod retry;
mod scas;
mod sev_reports;
mod sevs;
mod slack_link;
mod transfer;
mod trends;

pub use access::{Access, SecurityGroup};
pub use alerts::{AlertAction, AlertOutcome, AlertService};
pub use catch_up::{CatchUp, page_state};
pub use error::{AppError, ErrorKind};
pub use integrations::Integrations;
pub use jobs::Jobs;
pub use nags::{NagPlanner, TimeZones, schedule_name};
pub use paging::{Paging, PagingError, PagingService};
pub use report_nags::report_schedule_name;
pub use scas::{NewSca, ScaService};
pub use sev_reports::{ReportDrafter, SevReportService};
pub use sevs::{FileRequest, ListFilter, SevDetail, SevService};
pub use slack_link::{LinkState, SlackLink};
pub use transfer::{ExportError, LakeExport, TransferService};
pub use trends::{ScaReport, TrendService};
