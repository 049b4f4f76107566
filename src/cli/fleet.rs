//! `verskew fleet`: many images' reports compared; output and exit status.

use std::path::PathBuf;

use clap::ValueEnum;
use verskew::commands::fleet::fleet;
use verskew::report::{self, Headings};

use super::output::{note, Output};
use super::Exit;

/// `fleet` formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    Text,
    Json,
    Html,
}

/// Most stderr lines naming skipped report lines (the report lists all).
const NOTES: usize = 20;

/// Exit status: 2 a report file could not be read or no report was in
/// them; 1 some file's versions disagree within a group; 3 lines were
/// skipped or images had not been analysed; 0 otherwise.
pub fn run_fleet(reports: &[PathBuf], format: FleetFormat, out: &mut Output) -> i32 {
    let f = fleet(reports);
    for s in f.skipped.iter().take(NOTES) {
        match s.line {
            0 => note(&format!("{}: {}", s.report, s.reason)),
            n => note(&format!("{}:{n}: skipped: {}", s.report, s.reason)),
        }
    }
    if f.skipped.len() > NOTES {
        note(&format!(
            "{} more line(s) skipped (the report lists them all)",
            f.skipped.len() - NOTES
        ));
    }
    match format {
        FleetFormat::Text => out.text(&report::fleet_text(&f), Headings::Unindented),
        FleetFormat::Json => out.raw(&format!("{}\n", report::fleet_json(&f))),
        FleetFormat::Html => out.raw(&report::fleet_html(&f)),
    }
    let status = if f.unreadable_reports > 0 || (f.images == 0 && f.failed.is_empty()) {
        if f.unreadable_reports == 0 {
            note(
                "no diagnose report was read (give the output of `verskew diagnose --format json`)",
            );
        }
        Exit::Failed
    } else if f.disagrees() {
        Exit::Findings
    } else if f.incomplete() {
        Exit::Uncovered
    } else {
        Exit::Clean
    };
    status as i32
}
