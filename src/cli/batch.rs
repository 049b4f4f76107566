//! Many images on one `diagnose` line: the expanded arguments, how many
//! run at once, and the one summary line on stderr at the end.

use std::time::Instant;

use verskew::analysis::{Severity, Status};
use verskew::commands::batch::{self, Expanded};
use verskew::commands::diagnose::Diagnosis;
use verskew::commands::CommandError;

use super::output::note;

/// The images of one `diagnose` run and how many are analysed at once.
pub struct Batch {
    pub expanded: Expanded,
    pub jobs: usize,
}

impl Batch {
    pub fn new(expanded: Expanded, jobs: Option<u16>) -> Batch {
        Batch {
            expanded,
            jobs: jobs.map_or_else(batch::default_jobs, usize::from),
        }
    }

    /// Several images (named, or found in folders and patterns): the run
    /// ends with a summary line. One image keeps the output it always had
    /// (a folder or pattern that gives nothing says so on its one line).
    fn summarised(&self) -> bool {
        self.expanded.targets.len() > 1
    }
}

/// What the summary line counts.
pub struct Tally {
    started: Instant,
    images: usize,
    errors: usize,
    warnings: usize,
    uncovered: usize,
    unreadable: usize,
}

impl Tally {
    pub fn start() -> Tally {
        Tally {
            started: Instant::now(),
            images: 0,
            errors: 0,
            warnings: 0,
            uncovered: 0,
            unreadable: 0,
        }
    }

    pub fn add(&mut self, result: &Result<Diagnosis, CommandError>) {
        self.images += 1;
        match result {
            Ok(d) => {
                match d.worst() {
                    Some(Severity::Error) => self.errors += 1,
                    Some(Severity::Warning) => self.warnings += 1,
                    _ => {}
                }
                if d.status() != Status::Evaluated {
                    self.uncovered += 1;
                }
            }
            Err(_) => self.unreadable += 1,
        }
    }

    /// The summary line on stderr (stdout keeps only reports):
    /// `verskew: 12 images: 3 with errors, 2 with warnings, 1 not covered,
    /// 1 unreadable (4.2 s)`.
    pub fn finish(&self, batch: &Batch) {
        if !batch.summarised() {
            return;
        }
        note(&format!(
            "{} image{}: {} with errors, {} with warnings, {} not covered, {} unreadable ({:.1} s)",
            self.images,
            if self.images == 1 { "" } else { "s" },
            self.errors,
            self.warnings,
            self.uncovered,
            self.unreadable,
            self.started.elapsed().as_secs_f64()
        ));
    }
}
