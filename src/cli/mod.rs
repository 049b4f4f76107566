//! The command line (binary only): parses arguments, runs a command, picks
//! the output format, draws progress on a terminal and maps results to exit
//! statuses (see [`Exit`]). The library never links clap or indicatif.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use verskew::analysis::{Knowledge, Severity, Status};
use verskew::commands::diagnose::Diagnosis;
use verskew::commands::{self, census, diagnose::diagnose, info::info, versions::versions};
use verskew::report;

/// Explains, from a disk image and without booting it, why Windows services
/// (IIS and kin) fail to start when their DLLs are at mismatched versions.
#[derive(Parser, Debug)]
#[command(name = "verskew", version, about, long_about = None, after_help = EXIT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show the cause chain of errors and contained parser panics.
    #[arg(long, short, global = true)]
    verbose: bool,
}

const EXIT_HELP: &str = "Exit status: 0 every image evaluated, no finding at or above --fail-on; 1 at least one such finding; 2 an image could not be analysed at all, or bad arguments; 3 an image was read but not (or, with --fail-on uncovered, not fully) evaluated: silence there is not health.\nImages are opened read-only and never modified.";

/// Exit statuses, in order of precedence when several images differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Exit {
    Clean = 0,
    /// Coverage short of what `--fail-on` accepts (not evaluated, or with
    /// `uncovered` partly evaluated); also `versions`/`info` reads that
    /// could not read everything.
    Uncovered = 3,
    /// A finding at or above `--fail-on` (`info --verify`: a hash mismatch).
    Findings = 1,
    /// An image could not be analysed at all, or the arguments are wrong.
    Failed = 2,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Diagnose DLL version mismatches (KB Q291589 and kin) in disk images.
    ///
    /// Accepts raw/dd images, split raw, E01/Ex01, VHD, VHDX, VMDK and qcow2,
    /// with MBR, GPT or no partition table. Prints one report per image.
    Diagnose {
        /// Disk images to analyse.
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// What makes the exit status non-zero: findings of at least this
        /// severity (`error`, `warning`) give 1; `uncovered` is `error` and
        /// also gives 3 for an install only partly evaluated; `never`
        /// always exits 0 (2 still reports an image that could not be read).
        /// An install that could not be evaluated at all gives 3 unless
        /// `never`.
        #[arg(long, value_enum, default_value_t = FailOn::Error)]
        fail_on: FailOn,
        /// Extra knowledge (TOML, same shape as knowledge/iis.toml) merged over the built-in rules.
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// List version resources of PE files inside an image.
    ///
    /// PATTERN is a Windows path or glob matched case-insensitively, e.g.
    /// '\WINNT\system32\*.dll' or '**\inetsrv\*.dll'. Without it: every
    /// <system root>\system32\inetsrv folder.
    Versions {
        image: PathBuf,
        pattern: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// Every PE file on every NTFS volume, found by scanning the MFT
        /// (a census; a progress bar shows on a terminal).
        #[arg(long, conflicts_with = "pattern")]
        all: bool,
    },
    /// Show what an image is made of: container and its metadata (EWF
    /// acquisition notes and stored hashes, virtual size, parent and backing
    /// files), the partition table and each partition's filesystem.
    Info {
        image: PathBuf,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// Recompute the hashes stored in an E01/Ex01 and compare (exit 1 on a mismatch).
        #[arg(long)]
        verify: bool,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Uncovered,
    Never,
}

/// Runs the CLI and returns the process exit status.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    // Parser panics are contained per file and reported as unreadable; keep
    // their default messages off the terminal unless asked for.
    let verbose = cli.verbose;
    std::panic::set_hook(Box::new(move |info| {
        if verbose {
            eprintln!("verskew: contained panic: {info}");
        }
    }));
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Diagnose {
            images,
            format,
            fail_on,
            rules,
        } => {
            let knowledge = match load_rules(&rules) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("verskew: {e}");
                    return 2;
                }
            };
            run_diagnose(&images, format, fail_on, &knowledge, &mut out)
        }
        Command::Versions {
            image,
            pattern,
            format,
            all,
        } => run_versions(&image, pattern.as_deref(), all, format, &mut out),
        Command::Info {
            image,
            format,
            verify,
        } => run_info(&image, format, verify, &mut out),
    }
}

fn load_rules(files: &[PathBuf]) -> Result<Knowledge, String> {
    let mut k = Knowledge::builtin();
    for f in files {
        k.merge_file(f).map_err(|e| e.to_string())?;
    }
    Ok(k)
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() && len > 1 {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}

/// The census with a progress bar on stderr (drawn only on a terminal), fed
/// `(records done, records)` of the volume being scanned.
fn census_with_bar(image: &Path) -> Result<census::Census, commands::CommandError> {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(0), target);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} scanning MFT [{bar:30}] {percent}% {elapsed} eta {eta}",
    ) {
        bar.set_style(style);
    }
    let tick = |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let opts = census::Options {
        progress: Some(&tick),
        versions: true,
    };
    let census = census::census_with(image, opts);
    bar.finish_and_clear();
    census
}

fn run_diagnose(
    images: &[PathBuf],
    format: OutputFormat,
    fail_on: FailOn,
    k: &Knowledge,
    out: &mut impl Write,
) -> i32 {
    let mut status = Exit::Clean;
    let bar = progress(images.len() as u64, "diagnosing");
    for (n, path) in images.iter().enumerate() {
        let result = diagnose(path, k);
        bar.inc(1);
        let text = match result {
            Ok(d) => {
                status = status.max(judge(&d, fail_on));
                match format {
                    OutputFormat::Json => report::json_report(&d),
                    OutputFormat::Text => {
                        let sep = if n > 0 { "\n" } else { "" };
                        format!("{sep}{}", report::text_report(&d).trim_end())
                    }
                }
            }
            Err(e) => {
                status = Exit::Failed;
                eprintln!("verskew: {e}");
                let image = path.display().to_string();
                match format {
                    OutputFormat::Json => report::json_error(report::DIAGNOSE_SCHEMA, &image, &e),
                    OutputFormat::Text => continue,
                }
            }
        };
        bar.suspend(|| {
            let _ = writeln!(out, "{text}");
        });
    }
    bar.finish_and_clear();
    status as i32
}

/// The exit status one diagnosis earns under `--fail-on`.
fn judge(d: &Diagnosis, fail_on: FailOn) -> Exit {
    let worst = d.worst();
    let findings = match fail_on {
        FailOn::Error | FailOn::Uncovered => worst >= Some(Severity::Error),
        FailOn::Warning => worst >= Some(Severity::Warning),
        FailOn::Never => false,
    };
    let uncovered = match fail_on {
        FailOn::Never => false,
        FailOn::Uncovered => d.status() != Status::Evaluated,
        FailOn::Error | FailOn::Warning => d.status() == Status::NotEvaluated,
    };
    match (findings, uncovered) {
        (true, _) => Exit::Findings,
        (false, true) => Exit::Uncovered,
        (false, false) => Exit::Clean,
    }
}

fn run_versions(
    image: &Path,
    pattern: Option<&str>,
    all: bool,
    format: OutputFormat,
    out: &mut impl Write,
) -> i32 {
    let result = match all {
        true => census_with_bar(image).map(|c| (c.rows, c.lost)),
        false => versions(image, pattern),
    };
    let (rows, lost) = match result {
        Ok(r) => r,
        Err(e) => return failed(out, format, report::VERSIONS_SCHEMA, image, &e),
    };
    for r in &rows {
        let line = match format {
            OutputFormat::Json => report::version_row_json(r),
            OutputFormat::Text => report::version_row_text(r),
        };
        let _ = writeln!(out, "{line}");
    }
    for u in &lost {
        eprintln!(
            "verskew: {}: could not read {}: {}",
            image.display(),
            u.path,
            u.reason
        );
    }
    match (rows.is_empty(), lost.is_empty()) {
        (true, true) => eprintln!("verskew: {}: no PE file matched", image.display()),
        (true, false) => eprintln!(
            "verskew: {}: no PE file matched among what could be read ({} item(s) could not be read)",
            image.display(),
            lost.len()
        ),
        _ => {}
    }
    // What could not be read may hold what was asked for: not a clean answer.
    match lost.is_empty() {
        true => Exit::Clean as i32,
        false => Exit::Uncovered as i32,
    }
}

fn run_info(image: &Path, format: OutputFormat, verify: bool, out: &mut impl Write) -> i32 {
    // The length is known once the hash check starts.
    let bar = match verify {
        true => progress(u64::MAX, "verifying"),
        false => ProgressBar::hidden(),
    };
    let result = info(image, verify, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let info = match result {
        Ok(i) => i,
        Err(e) => return failed(out, format, report::INFO_SCHEMA, image, &e),
    };
    let text = match format {
        OutputFormat::Json => report::info_json(&info),
        OutputFormat::Text => report::info_text(&info),
    };
    let _ = writeln!(out, "{}", text.trim_end());
    let mismatch = info.hashes.iter().flatten().any(|h| !h.matches);
    // A partition table or a volume that could not be read is said in the
    // report and in the status.
    let unread = info.volume_error.is_some() || info.ntfs.iter().any(|n| n.error.is_some());
    match (mismatch, unread) {
        (true, _) => Exit::Findings as i32,
        (false, true) => Exit::Uncovered as i32,
        (false, false) => Exit::Clean as i32,
    }
}

/// An image a command could not run on: one line on stderr and, in JSON,
/// an error object under the command's schema.
fn failed(
    out: &mut impl Write,
    format: OutputFormat,
    schema: &str,
    image: &Path,
    e: &commands::CommandError,
) -> i32 {
    eprintln!("verskew: {e}");
    if format == OutputFormat::Json {
        let image = image.display().to_string();
        let _ = writeln!(out, "{}", report::json_error(schema, &image, e));
    }
    Exit::Failed as i32
}
