//! Export and import of SEV records: export reads the month index; import stores
//! each row once, whatever number of times the file is loaded; the lake export writes one
//! object a day.

use std::sync::Arc;

use serde::Serialize;

use super::AppError;
use crate::clock::Clock;
use crate::domain::{Entry, EntryId, EntryKind, Sev, SevId};
use crate::reports::{MonthRange, Viewer};
use crate::store::SevRepo;
use crate::transfer::{self, Format, Lake, LakeError, import_key, object_name};

/// What one lake export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LakeExport {
    pub key: String,
    pub format: &'static str,
    pub sevs: usize,
    pub bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("the export could not be written: {0}")]
    Write(#[from] std::io::Error),
}

/// Moves SEV records in and out: CSV/JSONL export and import, and the daily lake export.
#[derive(Clone)]
pub struct TransferService {
    repo: SevRepo,
    clock: Arc<dyn Clock>,
}

impl TransferService {
    pub fn new(repo: SevRepo, clock: Arc<dyn Clock>) -> Self {
        TransferService { repo, clock }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// SEVs that started in the range and the viewer may see, drills included, by number.
    pub async fn export(&self, range: MonthRange, viewer: Viewer) -> Result<Vec<Sev>, AppError> {
        let (from, until) = range.bounds();
        let mut sevs = self.repo.started_between(from, until).await?;
        sevs.retain(|s| viewer.may_see(s));
        sevs.sort_by_key(|s| s.id);
        Ok(sevs)
    }

    /// Writes the SEVs that started in `range` to today's object of `format` in the lake.
    /// Private SEVs stay out: the lake's readers are not the security group.
    pub async fn export_to_lake(
        &self,
        lake: &dyn Lake,
        format: Format,
        range: MonthRange,
    ) -> Result<LakeExport, ExportError> {
        let sevs = self.export(range, Viewer::ANONYMOUS).await?;
        let mut body = Vec::new();
        transfer::write(&sevs, format, &mut body)?;
        let bytes = body.len();
        let name = object_name(format, self.now().date_naive());
        let key = lake.put(&name, format.content_type(), body).await?;
        Ok(LakeExport {
            key,
            format: format.as_str(),
            sevs: sevs.len(),
            bytes,
        })
    }

    /// Stores one imported SEV (its `id` is the source's) under the next number here. Returns the
    /// number and whether this call stored it (false: an earlier import did).
    pub async fn import(&self, sev: &Sev) -> Result<(SevId, bool), AppError> {
        let key = import_key(sev.id, sev.started_at);
        let note = Entry {
            id: EntryId::new(sev.declared_at, rand::random()),
            at: sev.declared_at,
            author: "import".into(),
            kind: EntryKind::Note {
                text: format!("Imported from an export ({})", sev.id),
            },
        };
        Ok(self.repo.import(sev, &key, &[note]).await?)
    }
}
