//! The SEV domain: pure rules, no I/O. Everything here is unit-tested rule by rule.

mod error;
mod level;
mod nag;
mod page;
mod report;
mod sca;
mod sev;
mod status;
mod tag;
mod timeline;

pub use error::DomainError;
pub use level::Level;
pub use nag::{NagPolicy, NagStep};
pub use page::{Muster, OnCallPerson, Page, PageReason, PageState, dedup_key, muster};
pub use report::{
    MAX_REPORT_BYTES, Report, ReportNagStep, ReportPolicy, ReportState, TO_BE_WRITTEN, unwritten_sections,
};
pub use sca::{DuePolicy, MAX_SCA_TEXT, Priority, Sca, ScaId, ScaPatch, ScaSource, ScaState, ScaStateName};
pub use sev::{MAX_TEXT, MAX_TITLE, NewSev, Sev, SevId, SevPatch};
pub use status::Status;
pub use tag::Tag;
pub use timeline::{Entry, EntryId, EntryKind, ReportChange};

/// Who did something: a Slack user id, a web user, an alert source. Kept as an opaque string so
/// every entry point can name its people its own way (`U024BE7LH`, `web:alice`, `alertmanager`).
pub type Actor = String;
