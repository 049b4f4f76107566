//! The command line (binary only): parses arguments, runs a command, picks
//! the output format, draws progress on a terminal and maps results to exit
//! statuses (0 clean, 1 findings at or above `--fail-on`, 2 image not
//! analysable or bad arguments). The library never links clap or indicatif.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use verskew::analysis::{Knowledge, Severity};
use verskew::commands::{
    self, census, diagnose::diagnose_in, info::info_in, versions::versions_in, Select,
};
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

const EXIT_HELP: &str = "Exit status: 0 no finding at or above --fail-on; 1 at least one; 2 an image could not be analysed at all, or bad arguments.\nImages are opened read-only and never modified.";

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
        /// Lowest finding severity that makes the exit status 1.
        #[arg(long, value_enum, default_value_t = FailOn::Error)]
        fail_on: FailOn,
        /// Extra knowledge (TOML, same shape as knowledge/iis.toml) merged over the built-in rules.
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
        #[command(flatten)]
        volume: VolumeArgs,
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
        #[command(flatten)]
        volume: VolumeArgs,
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
        #[command(flatten)]
        volume: VolumeArgs,
    },
}

/// Which volume to read, as in The Sleuth Kit (default: every NTFS volume).
#[derive(clap::Args, Debug, Clone, Copy)]
struct VolumeArgs {
    /// Read only the volume starting at this sector (512-byte sectors, as `fls -o`).
    #[arg(
        short = 'o',
        long = "offset",
        value_name = "SECTORS",
        conflicts_with = "partition"
    )]
    offset: Option<u64>,
    /// Read only this partition (the number `verskew info` shows).
    #[arg(long, value_name = "N")]
    partition: Option<u32>,
}

impl VolumeArgs {
    fn select(self) -> Select {
        match (self.offset, self.partition) {
            (Some(o), _) => Select::Offset(o),
            (None, Some(n)) => Select::Partition(n),
            (None, None) => Select::All,
        }
    }
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
            volume,
        } => {
            let knowledge = match load_rules(&rules) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("verskew: {e}");
                    return 2;
                }
            };
            let select = volume.select();
            run_diagnose(&images, format, fail_on, &knowledge, select, &mut out)
        }
        Command::Versions {
            image,
            pattern,
            format,
            all,
            volume,
        } => run_versions(
            &image,
            pattern.as_deref(),
            all,
            format,
            volume.select(),
            &mut out,
        ),
        Command::Info {
            image,
            format,
            verify,
            volume,
        } => run_info(&image, format, verify, volume.select(), &mut out),
    }
}

fn load_rules(files: &[PathBuf]) -> Result<Knowledge, String> {
    let mut k = Knowledge::builtin();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
        k.merge(Knowledge::parse(&f.display().to_string(), &text).map_err(|e| e.to_string())?);
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
fn census_with_bar(image: &Path, select: Select) -> Result<census::Census, commands::CommandError> {
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
        select,
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
    select: Select,
    out: &mut impl Write,
) -> i32 {
    let mut status = 0;
    let bar = progress(images.len() as u64, "diagnosing");
    for (n, path) in images.iter().enumerate() {
        let result = diagnose_in(path, k, select);
        bar.inc(1);
        let text = match result {
            Ok(d) => {
                let failing = match fail_on {
                    FailOn::Error => d.worst() >= Some(Severity::Error),
                    FailOn::Warning => d.worst() >= Some(Severity::Warning),
                    FailOn::Never => false,
                };
                if failing {
                    status = status.max(1);
                }
                match format {
                    OutputFormat::Json => report::json_report(&d),
                    OutputFormat::Text => {
                        let sep = if n > 0 { "\n" } else { "" };
                        format!("{sep}{}", report::text_report(&d).trim_end())
                    }
                }
            }
            Err(e) => {
                status = 2;
                eprintln!("verskew: {e}");
                match format {
                    OutputFormat::Json => {
                        report::json_error(&path.display().to_string(), &e.to_string())
                    }
                    OutputFormat::Text => continue,
                }
            }
        };
        bar.suspend(|| {
            let _ = writeln!(out, "{text}");
        });
    }
    bar.finish_and_clear();
    status
}

fn run_versions(
    image: &Path,
    pattern: Option<&str>,
    all: bool,
    format: OutputFormat,
    select: Select,
    out: &mut impl Write,
) -> i32 {
    let result = match all {
        true => census_with_bar(image, select).map(|c| (c.rows, c.lost)),
        false => versions_in(image, pattern, select),
    };
    let (rows, lost) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("verskew: {e}");
            return 2;
        }
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
    if rows.is_empty() {
        eprintln!("verskew: {}: no PE file matched", image.display());
    }
    0
}

fn run_info(
    image: &Path,
    format: OutputFormat,
    verify: bool,
    select: Select,
    out: &mut impl Write,
) -> i32 {
    // The length is known once the hash check starts.
    let bar = match verify {
        true => progress(u64::MAX, "verifying"),
        false => ProgressBar::hidden(),
    };
    let result = info_in(
        image,
        verify,
        &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
        select,
    );
    bar.finish_and_clear();
    let info = match result {
        Ok(i) => i,
        Err(e) => {
            eprintln!("verskew: {e}");
            return 2;
        }
    };
    let text = match format {
        OutputFormat::Json => report::info_json(&info),
        OutputFormat::Text => report::info_text(&info),
    };
    let _ = writeln!(out, "{}", text.trim_end());
    let mismatch = info.hashes.iter().flatten().any(|h| !h.matches);
    i32::from(mismatch)
}
