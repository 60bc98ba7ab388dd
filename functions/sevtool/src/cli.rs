//! `sevtool export --format csv|jsonl`, `sevtool import FILE.csv` and `sevtool rebuild-tallies`,
//! on the embedded store. The local operator holds the database file, so the CLI sees private
//! SEVs.

use std::io::Write;

use sev::app::{TransferService, TrendService};
use sev::reports::{MAX_MONTHS, Month, MonthRange, Viewer};
use sev::transfer::{self, Format};

pub const USAGE: &str = "usage: sevtool                     serve everything (what `make run` does)
       sevtool export --format csv|jsonl [--since YYYY-MM] [--until YYYY-MM]
       sevtool import FILE.csv
       sevtool rebuild-tallies            count the reports' month tallies again from the SEVs";

type Error = Box<dyn std::error::Error>;

fn flag<'a>(args: &'a [String], name: &str) -> Result<Option<&'a str>, Error> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .map(|v| Some(v.as_str()))
            .ok_or_else(|| format!("{name} needs a value\n{USAGE}").into()),
    }
}

pub async fn export(transfer: &TransferService, args: &[String]) -> Result<(), Error> {
    let format: Format = flag(args, "--format")?
        .ok_or(format!("--format is required\n{USAGE}"))?
        .parse()?;
    let until = flag(args, "--until")?.map(str::parse::<Month>).transpose()?;
    let until = until.unwrap_or_else(|| Month::of(transfer.now()));
    let since = match flag(args, "--since")? {
        Some(s) => s.parse()?,
        None => until.last(MAX_MONTHS).first,
    };
    let sevs = transfer
        .export(MonthRange::new(since, until)?, Viewer::OPERATOR)
        .await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    transfer::write(&sevs, format, &mut out)?;
    out.flush()?;
    eprintln!("exported {} SEVs ({since} to {until})", sevs.len());
    Ok(())
}

/// Loads every valid row; a bad row is reported with its line number and skipped. Exits non-zero
/// when any row was bad, after loading the rest.
pub async fn import(transfer: &TransferService, args: &[String]) -> Result<bool, Error> {
    let path = args.first().ok_or(format!("import needs a file\n{USAGE}"))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let header = reader.headers()?.clone();
    let rows: Vec<_> = reader.records().collect();
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    if rows.len() < 1000 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let (mut stored, mut known, mut bad) = (0, 0, 0);
    for (i, row) in rows.into_iter().enumerate() {
        bar.inc(1);
        // Line 1 is the header; a quoted field may span lines, so prefer the reader's position.
        let line = row
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let parsed = row
            .map_err(|e| e.to_string())
            .and_then(|r| transfer::from_record(&header, &r));
        match parsed {
            Ok(sev) => match transfer.import(&sev).await? {
                (_, true) => stored += 1,
                (_, false) => known += 1,
            },
            Err(reason) => {
                bad += 1;
                bar.suspend(|| eprintln!("{path}:{line}: skipped: {reason}"));
            }
        }
    }
    bar.finish_and_clear();
    eprintln!("imported {stored} SEVs, {known} already imported, {bad} bad rows skipped");
    Ok(bad == 0)
}

/// Counts every month's tally again from the SEVs and says what it corrected.
pub async fn rebuild_tallies(trends: &TrendService, args: &[String]) -> Result<(), Error> {
    if let Some(extra) = args.first() {
        return Err(format!("rebuild-tallies takes no arguments, not `{extra}`\n{USAGE}").into());
    }
    let done = trends.rebuild_tallies().await?;
    println!(
        "counted {} SEVs in {} months; {} month tallies corrected",
        done.sevs, done.months, done.corrected
    );
    Ok(())
}
