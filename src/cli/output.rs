//! Where a report goes and how it looks there: stdout or `--output FILE`;
//! wrapped and coloured on a terminal, plain bytes everywhere else.
//!
//! Environment: `NO_COLOR` (any value) turns colour off; `CLICOLOR_FORCE`
//! (not `0`) turns it on off a terminal; `VERSKEW_FORCE_TTY_WIDTH=N` treats
//! stdout as a terminal N columns wide (how the tests see terminal output).

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use verskew::report::{escape, for_terminal, Headings, Terminal};

/// The report's destination.
pub struct Output {
    sink: Box<dyn Write>,
    /// Width to wrap to, when the destination is a terminal.
    width: Option<usize>,
    colour: bool,
}

impl Output {
    /// stdout, or `file` (never one of `images`).
    pub fn open(file: Option<&Path>, images: &[&Path]) -> Result<Output, String> {
        let no_colour = std::env::var_os("NO_COLOR").is_some();
        let forced = std::env::var("CLICOLOR_FORCE").is_ok_and(|v| !v.is_empty() && v != "0");
        if let Some(file) = file {
            refuse_evidence(file, images)?;
            let f = File::create(file).map_err(|e| format!("{}: {e}", file.display()))?;
            return Ok(Output {
                sink: Box::new(BufWriter::new(f)),
                width: None,
                colour: false,
            });
        }
        let forced_width = std::env::var("VERSKEW_FORCE_TTY_WIDTH")
            .ok()
            .and_then(|w| w.parse::<usize>().ok());
        let tty = io::stdout().is_terminal();
        let width = forced_width.or_else(|| {
            tty.then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
                .flatten()
        });
        let colour = !no_colour && (tty || forced_width.is_some() || forced);
        Ok(Output {
            sink: Box::new(io::stdout()),
            width,
            colour,
        })
    }

    /// Text for people: wrapped and coloured on a terminal.
    pub fn text(&mut self, plain: &str, headings: Headings) {
        self.styled(plain, headings, self.width);
    }

    /// A table: coloured on a terminal, never wrapped (a wrapped row would
    /// no longer line up).
    pub fn table(&mut self, plain: &str) {
        self.styled(plain, Headings::FirstLine, None);
    }

    fn styled(&mut self, plain: &str, headings: Headings, width: Option<usize>) {
        let shown = match (width, self.colour) {
            (None, false) => plain.to_string(),
            (width, colour) => for_terminal(
                plain,
                Terminal {
                    width,
                    colour,
                    headings,
                },
            ),
        };
        self.raw(&shown);
    }

    /// Bytes as they are (JSON, CSV, TSV, tables).
    pub fn raw(&mut self, s: &str) {
        let _ = self.sink.write_all(s.as_bytes());
    }

    /// Flushes a file; the error is the user's to see (disk full).
    pub fn finish(mut self) -> Result<(), String> {
        self.sink
            .flush()
            .map_err(|e| format!("cannot write the report: {e}"))
    }
}

/// A one-line message on stderr, escaped: it may quote names from an image.
pub fn note(msg: &str) {
    eprintln!("verskew: {}", escape(msg));
}

/// `--output` must not name an image being read (nor its other name
/// through a link): the report would destroy the evidence.
fn refuse_evidence(out: &Path, images: &[&Path]) -> Result<(), String> {
    let target = resolved(out);
    for img in images {
        let same = match (std::fs::metadata(out), std::fs::metadata(img)) {
            (Ok(a), Ok(b)) => same_file(&a, &b),
            _ => false,
        };
        if same || (target.is_some() && target == resolved(img)) {
            return Err(format!(
                "--output {} is an image being read; refusing to overwrite evidence",
                out.display()
            ));
        }
        // A triage collection is a folder: nothing is written inside it.
        let inside = img.is_dir()
            && match (&target, img.canonicalize()) {
                (Some(t), Ok(dir)) => t.starts_with(dir),
                _ => false,
            };
        if inside {
            return Err(format!(
                "--output {} is inside the triage collection {} being read; refusing to write into evidence",
                out.display(),
                img.display()
            ));
        }
    }
    Ok(())
}

/// The absolute path `p` names (its folder resolved, so a file not yet
/// made compares too).
fn resolved(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?,
    };
    Some(parent.join(p.file_name()?))
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}
