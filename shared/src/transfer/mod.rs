//! Export and import of SEVs: stable CSV columns and JSON lines for the data lake, and the
//! row-by-row validation that loads historical SEVs back. Pure: readers and writers are given.

mod columns;
mod lake;
mod s3;

pub use columns::{COLUMNS, from_record, import_key, to_record};
pub use lake::{Lake, LakeError, object_name};
pub use s3::S3Lake;

use std::io::Write;

use crate::domain::Sev;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl std::str::FromStr for Format {
    type Err = crate::domain::DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "csv" => Ok(Format::Csv),
            "jsonl" => Ok(Format::Jsonl),
            other => Err(crate::domain::DomainError::invalid(
                "format",
                format!("`{other}` is not a format; use csv or jsonl"),
            )),
        }
    }
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/x-ndjson",
        }
    }
}

/// Writes `sevs` in `format`: CSV with a header row of [`COLUMNS`], or one SEV's JSON per line.
pub fn write(sevs: &[Sev], format: Format, out: impl Write) -> std::io::Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(COLUMNS)?;
            for sev in sevs {
                w.write_record(to_record(sev))?;
            }
            w.flush()
        }
        Format::Jsonl => {
            let mut out = out;
            for sev in sevs {
                serde_json::to_writer(&mut out, sev)?;
                out.write_all(b"\n")?;
            }
            out.flush()
        }
    }
}
