//! Export and import through the reports service: export reads the month index; import stores
//! each row once, whatever number of times the file is loaded.

use super::{AppError, ReportService};
use crate::domain::{Entry, EntryId, EntryKind, Sev, SevId};
use crate::reports::{MonthRange, Viewer};
use crate::transfer::import_key;

impl ReportService {
    /// SEVs that started in the range and the viewer may see, drills included, by number.
    pub async fn export(&self, range: MonthRange, viewer: Viewer) -> Result<Vec<Sev>, AppError> {
        let mut sevs = self.started_in(range).await?;
        sevs.retain(|s| viewer.may_see(s));
        sevs.sort_by_key(|s| s.id);
        Ok(sevs)
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
