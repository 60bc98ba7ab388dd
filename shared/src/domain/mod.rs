//! The SEV domain: pure rules, no I/O. Everything here is unit-tested rule by rule.

pub mod actor;
mod error;
mod level;
mod nag;
mod page;
mod public;
mod report;
mod sca;
mod sev;
mod status;
mod tag;
pub mod text;
mod time;
mod timeline;

pub use actor::Actor;
pub use error::DomainError;
pub use level::Level;
pub use nag::{NagPolicy, NagStep};
pub use page::{Muster, OnCallPerson, Page, PageReason, PageState, PagerKind, dedup_key, muster, parse_dedup_key};
pub use public::{PublicImpact, PublicIncident, PublicStatus, StatusPageLink, draft as public_draft, incident_name};
pub use report::{
    MAX_REPORT_BYTES, Report, ReportNagStep, ReportPolicy, ReportState, TO_BE_WRITTEN, unwritten_sections,
};
pub use sca::{DuePolicy, MAX_SCA_TEXT, Priority, Sca, ScaId, ScaPatch, ScaSource, ScaState, ScaStateName};
pub use sev::{LeadRole, MAX_DEPUTIES, MAX_TEXT, MAX_TITLE, NewSev, Sev, SevId, SevPatch};
pub use status::Status;
pub use tag::Tag;
pub use time::{FIRST_YEAR, LAST_YEAR, Timestamp};
pub use timeline::{Entry, EntryId, EntryKind, ReportChange, SevField};
