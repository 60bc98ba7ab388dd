//! The one results table: printed for people, written as JSON for tools and for the README.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

/// One figure with its unit, e.g. `0.92 ms` or `1540 req/s`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Figure {
    pub value: f64,
    pub unit: &'static str,
}

pub fn fig(value: f64, unit: &'static str) -> Figure {
    Figure { value, unit }
}

impl std::fmt::Display for Figure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.value;
        // Enough digits to compare runs, no false precision.
        let digits = if (v == v.trunc() && v.abs() >= 10.0) || v.abs() >= 100.0 {
            0
        } else if v.abs() >= 10.0 {
            1
        } else {
            2
        };
        if self.unit.is_empty() {
            write!(f, "{v:.digits$}")
        } else {
            write!(f, "{v:.digits$} {}", self.unit)
        }
    }
}

/// One line of the table: what was measured, its median and p99 where a distribution exists,
/// and any other figures (throughput, counts, memory).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub area: &'static str,
    pub case: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<Figure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<Figure>,
    /// Named figures, in the order shown; an object in the JSON.
    #[serde(serialize_with = "as_object")]
    pub other: Vec<(String, Figure)>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Row {
    pub fn new(area: &'static str, case: impl Into<String>) -> Row {
        Row {
            area,
            case: case.into(),
            median: None,
            p99: None,
            other: Vec::new(),
            note: String::new(),
        }
    }

    /// Median and p99 of samples in milliseconds.
    pub fn latency_ms(mut self, samples: &[f64]) -> Row {
        self.median = Some(fig(percentile(samples, 50.0), "ms"));
        self.p99 = Some(fig(percentile(samples, 99.0), "ms"));
        self
    }

    pub fn median(mut self, f: Figure) -> Row {
        self.median = Some(f);
        self
    }

    pub fn p99(mut self, f: Figure) -> Row {
        self.p99 = Some(f);
        self
    }

    pub fn with(mut self, name: &str, f: Figure) -> Row {
        self.other.push((name.to_owned(), f));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Row {
        self.note = note.into();
        self
    }
}

fn as_object<S: serde::Serializer>(other: &[(String, Figure)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(other.len()))?;
    for (name, figure) in other {
        map.serialize_entry(name, figure)?;
    }
    map.end()
}

/// Nearest-rank percentile; `NaN` for no samples, so a broken section shows rather than hides.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The table as Markdown: padded into columns for the terminal, or compact for the README.
pub fn render(rows: &[Row], padded: bool) -> String {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let opt = |f: &Option<Figure>| f.map(|f| f.to_string()).unwrap_or_default();
            let other = r
                .other
                .iter()
                .map(|(k, f)| format!("{k} {f}"))
                .collect::<Vec<_>>()
                .join(", ");
            [
                r.area.to_owned(),
                r.case.clone(),
                opt(&r.median),
                opt(&r.p99),
                other,
                r.note.clone(),
            ]
        })
        .collect();
    let header = ["area", "case", "median", "p99", "other", "note"];
    let mut widths = header.map(|_| 1);
    if padded {
        for row in std::iter::once(&header.map(str::to_owned)).chain(&cells) {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[String]| {
        let cols: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "| {} |", cols.join(" | "));
    };
    line(&mut out, &header.map(str::to_owned));
    let _ = writeln!(out, "|{}|", widths.map(|w| "-".repeat(w + 2)).join("|"));
    for row in &cells {
        line(&mut out, row);
    }
    out
}

#[derive(Serialize)]
struct Results<'a> {
    generated_at: String,
    machine: Machine,
    /// The cargo profile of the measured binaries (`release` is what ships).
    profile: &'a str,
    total_seconds: f64,
    rows: &'a [Row],
}

#[derive(Serialize)]
struct Machine {
    cpus: usize,
    kernel: String,
}

pub fn write_json(path: &Path, profile: &str, rows: &[Row], total_seconds: f64) -> anyhow::Result<()> {
    let machine = Machine {
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned(),
    };
    let results = Results {
        generated_at: chrono::Utc::now().to_rfc3339(),
        machine,
        profile,
        total_seconds,
        rows,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(&results)? + "\n")?;
    Ok(())
}
