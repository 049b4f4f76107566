//! The command line (binary only): parses arguments, runs a command, picks
//! the output format, draws progress on a terminal and maps results to exit
//! statuses (see [`Exit`]). The library never links clap or indicatif.

mod batch;
mod docs;
mod examples;
mod fleet;
mod output;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use clap_complete::Shell;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use verskew::analysis::rules::ALL as RULES;
use verskew::analysis::{Knowledge, Severity, Status};
use verskew::commands::diagnose::Diagnosis;
use verskew::commands::versions::{versions_in, Listing};
use verskew::commands::{self, census, info::info_in, Select};
use verskew::report::{self, Headings, TextOptions};

use batch::{Batch, Tally};
use fleet::{run_fleet, FleetFormat};
use output::{note, Output};

/// Explains, from a disk image and without booting it, why Windows services
/// (IIS and kin) fail to start when their DLLs are at mismatched versions.
#[derive(Parser, Debug)]
#[command(name = "verskew", version, about, long_about = None, after_help = examples::TOP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Show the cause chain of errors and contained parser panics.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Write the report to FILE instead of stdout (never over an image being read).
    #[arg(long, global = true, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Less: diagnose prints findings only (no volumes or installations);
    /// versions lists unreadable items as one count, not one line each.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Let an http(s):// image redirect to another host (refused by default).
    #[arg(long, global = true)]
    allow_redirect_host: bool,
}

/// Exit statuses, in order of precedence when several images differ (the
/// order of declaration, not the numbers: see `Ord` below).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

impl Exit {
    fn rank(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Uncovered => 1,
            Exit::Findings => 2,
            Exit::Failed => 3,
        }
    }
}

// A derived order would follow the numbers (3, not evaluated, above 1 and 2).
impl Ord for Exit {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Exit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Diagnose DLL version mismatches (KB Q291589 and kin) in disk images.
    ///
    /// Accepts raw/dd images, split raw, E01/Ex01, VHD, VHDX, VMDK and qcow2,
    /// with MBR, GPT or no partition table, and triage collections (a KAPE or
    /// Velociraptor folder, or its .zip). Prints one report per image, in
    /// the order given; several images are analysed at once (--jobs).
    #[command(after_help = examples::DIAGNOSE)]
    Diagnose {
        /// Disk images to analyse; a folder gives the images inside it, a
        /// quoted pattern ('imgs/*.E01') the images it matches.
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Images analysed at once (default: the cores, at most 4).
        #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: Option<u16>,
        /// text; json (one object per image); html (one self-contained page
        /// for all images); sarif (SARIF 2.1.0) and junit (JUnit XML): one
        /// document covering every image; timeline (Timesketch JSON Lines of
        /// every dated fact); bodyfile (The Sleuth Kit 3.x body file, for
        /// mactime).
        #[arg(long, value_enum, default_value_t = DiagnoseFormat::Text)]
        format: DiagnoseFormat,
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
        #[command(flatten)]
        volume: VolumeArgs,
    },
    /// List version resources of PE files inside an image.
    ///
    /// PATTERN is a Windows path or glob matched case-insensitively, e.g.
    /// '\WINNT\system32\*.dll' or '**\inetsrv\*.dll'; a folder without a
    /// wildcard lists that folder's PE files. Without it: every
    /// <system root>\system32\inetsrv folder. Text is an aligned table with
    /// a header; csv (RFC 4180) and tsv have a header row.
    #[command(after_help = examples::VERSIONS)]
    Versions {
        image: PathBuf,
        pattern: Option<String>,
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
        /// Every PE file on every volume, found by scanning the MFT (NTFS)
        /// or walking folders (FAT) (a census; a progress bar shows on a
        /// terminal).
        #[arg(long, conflicts_with = "pattern")]
        all: bool,
        #[command(flatten)]
        volume: VolumeArgs,
    },
    /// Show what an image is made of: container and its metadata (EWF
    /// acquisition notes and stored hashes, virtual size, parent and backing
    /// files), the partition table and each partition's filesystem.
    #[command(after_help = examples::INFO)]
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
    /// List the rules (id, default severity, references, summary), or
    /// explain one: its severities, evidence keys and sources.
    #[command(after_help = examples::RULES)]
    Rules {
        /// A rule id, e.g. lockstep-mismatch.
        rule: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Compare many images' diagnose reports: the versions of each IIS
    /// file that disagree between installs of one Windows release, and
    /// which rules fire on which images.
    ///
    /// Reads the JSON Lines of `verskew diagnose --format json` (`-` is
    /// standard input); a line that is no diagnose report is skipped and
    /// named as FILE:LINE.
    #[command(after_help = examples::FLEET)]
    Fleet {
        /// Reports written by `verskew diagnose --format json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
        format: FleetFormat,
    },
    /// Print a shell completion script for SHELL to stdout.
    #[command(after_help = examples::COMPLETIONS)]
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff) to stdout: verskew(1), or verskew-COMMAND(1).
    #[command(after_help = examples::MAN)]
    Man {
        /// A command whose page to print (diagnose, versions, …).
        command: Option<String>,
    },
}

/// Which volume to read, as in The Sleuth Kit (default: every NTFS and FAT volume).
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

/// `diagnose` formats: html, sarif and junit cover every image in one
/// document.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum DiagnoseFormat {
    Text,
    Json,
    Html,
    Sarif,
    Junit,
    Timeline,
    Bodyfile,
}

/// `versions` formats: rows fit a table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum TableFormat {
    Text,
    Json,
    Csv,
    Tsv,
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
    let mut cli = match Cli::try_parse() {
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
            note(&format!("contained panic: {info}"));
        }
    }));
    // URLs go by their redacted names from here on: the query string (a
    // presigned credential) stays inside the image layer.
    let remote = verskew::image::http::RemoteOptions {
        allow_redirect_host: cli.allow_redirect_host,
    };
    match &mut cli.command {
        Command::Diagnose { images, .. } => verskew::image::http::alias_urls(images, remote),
        Command::Versions { image, .. } | Command::Info { image, .. } => {
            verskew::image::http::alias_urls(std::slice::from_mut(image), remote)
        }
        _ => {}
    }
    let batch = match &cli.command {
        Command::Diagnose { images, jobs, .. } => {
            Batch::new(commands::batch::expand(images), *jobs)
        }
        _ => Batch::new(Default::default(), None),
    };
    let images: Vec<&Path> = match &cli.command {
        Command::Diagnose { .. } => batch
            .expanded
            .targets
            .iter()
            .map(|t| t.path.as_path())
            .collect(),
        Command::Fleet { reports, .. } => reports.iter().map(PathBuf::as_path).collect(),
        Command::Versions { image, .. } | Command::Info { image, .. } => vec![image.as_path()],
        _ => Vec::new(),
    };
    let mut out = match Output::open(cli.output.as_deref(), &images) {
        Ok(o) => o,
        Err(e) => {
            note(&e);
            return 2;
        }
    };
    let quiet = cli.quiet;
    let status = match cli.command {
        Command::Diagnose {
            format,
            fail_on,
            rules,
            volume,
            ..
        } => match load_rules(&rules) {
            Ok(k) => {
                let select = volume.select();
                run_diagnose(&batch, format, fail_on, quiet, &k, select, &mut out)
            }
            Err(e) => {
                note(&e);
                2
            }
        },
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
            quiet,
            volume.select(),
            &mut out,
        ),
        Command::Info {
            image,
            format,
            verify,
            volume,
        } => run_info(&image, format, verify, volume.select(), &mut out),
        Command::Rules { rule, format } => run_rules(rule.as_deref(), format, &mut out),
        Command::Fleet { reports, format } => run_fleet(&reports, format, &mut out),
        Command::Completions { shell } => {
            let mut bytes = Vec::new();
            docs::completions(shell, &mut bytes);
            out.raw(&String::from_utf8_lossy(&bytes));
            0
        }
        Command::Man { command } => {
            let mut bytes = Vec::new();
            match docs::man(command.as_deref(), &mut bytes) {
                Ok(true) => {
                    out.raw(&String::from_utf8_lossy(&bytes));
                    0
                }
                Ok(false) => {
                    note(&format!(
                        "no command '{}'; `verskew help` lists them",
                        command.unwrap_or_default()
                    ));
                    2
                }
                Err(e) => {
                    note(&format!("cannot render the man page: {e}"));
                    2
                }
            }
        }
    };
    match out.finish() {
        Ok(()) => status,
        Err(e) => {
            note(&e);
            2
        }
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
    batch: &Batch,
    format: DiagnoseFormat,
    fail_on: FailOn,
    quiet: bool,
    k: &Knowledge,
    select: Select,
    out: &mut Output,
) -> i32 {
    let opts = TextOptions { quiet };
    let mut status = Exit::Clean;
    let images = &batch.expanded.targets;
    let bar = progress(images.len() as u64, "diagnosing");
    // html, sarif and junit: one document over every image, written at the end.
    let mut outcomes = Vec::new();
    let mut tally = Tally::start();
    for (n, result) in commands::batch::diagnose_all(images, batch.jobs, k, select) {
        let path = &images[n].path;
        bar.inc(1);
        tally.add(&result);
        let text = match result {
            Ok(d) => {
                status = status.max(judge(&d, fail_on));
                match format {
                    DiagnoseFormat::Json => report::json_report(&d),
                    DiagnoseFormat::Text => {
                        let sep = if n > 0 { "\n" } else { "" };
                        format!("{sep}{}", report::text_report_with(&d, opts).trim_end())
                    }
                    DiagnoseFormat::Timeline => report::timeline_jsonl(&d),
                    DiagnoseFormat::Bodyfile => report::bodyfile(&d),
                    DiagnoseFormat::Html | DiagnoseFormat::Sarif | DiagnoseFormat::Junit => {
                        outcomes.push(report::Outcome::Diagnosed(Box::new(d)));
                        continue;
                    }
                }
            }
            Err(e) => {
                status = Exit::Failed;
                note(&e.to_string());
                let image = path.display().to_string();
                match format {
                    DiagnoseFormat::Json => report::json_error(report::DIAGNOSE_SCHEMA, &image, &e),
                    DiagnoseFormat::Text | DiagnoseFormat::Timeline | DiagnoseFormat::Bodyfile => {
                        continue
                    }
                    DiagnoseFormat::Html | DiagnoseFormat::Sarif | DiagnoseFormat::Junit => {
                        outcomes.push(report::Outcome::Failed { image, error: e });
                        continue;
                    }
                }
            }
        };
        bar.suspend(|| match format {
            DiagnoseFormat::Text => out.text(&format!("{text}\n"), Headings::Unindented),
            DiagnoseFormat::Json => out.raw(&format!("{text}\n")),
            _ => out.raw(&text),
        });
    }
    bar.finish_and_clear();
    match format {
        DiagnoseFormat::Html => out.raw(&report::html_report(&outcomes)),
        DiagnoseFormat::Sarif => out.raw(&report::sarif_report(&outcomes)),
        DiagnoseFormat::Junit => out.raw(&report::junit_report(&outcomes)),
        _ => {}
    }
    tally.finish(batch);
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
    format: TableFormat,
    quiet: bool,
    select: Select,
    out: &mut Output,
) -> i32 {
    let result = match all {
        true => census_with_bar(image, select).map(|c| Listing {
            volumes: c.stats.volumes,
            rows: c.rows,
            lost: c.lost,
        }),
        false => versions_in(image, pattern, select),
    };
    let listing = match result {
        Ok(r) => r,
        Err(e) => {
            let json = format == TableFormat::Json;
            return failed(out, json, report::VERSIONS_SCHEMA, image, &e);
        }
    };
    let rows = &listing.rows;
    match format {
        TableFormat::Json => rows
            .iter()
            .for_each(|r| out.raw(&format!("{}\n", report::version_row_json(r)))),
        TableFormat::Csv => out.raw(&report::versions_csv(rows)),
        TableFormat::Tsv => out.raw(&report::versions_tsv(rows)),
        TableFormat::Text if !rows.is_empty() => {
            out.table(&report::versions_table(rows, listing.volumes > 1));
        }
        TableFormat::Text => {}
    }
    let image = image.display();
    match (quiet, listing.lost.len()) {
        (_, 0) => {}
        (true, n) => note(&format!(
            "{image}: {n} item(s) could not be read (run without --quiet to list them)"
        )),
        (false, _) => {
            for u in &listing.lost {
                note(&format!("{image}: could not read {}: {}", u.path, u.reason));
            }
        }
    }
    match (rows.is_empty(), listing.lost.len()) {
        (true, 0) => note(&format!("{image}: no PE file matched")),
        (true, n) => note(&format!(
            "{image}: no PE file matched among what could be read ({n} item(s) could not be read)"
        )),
        _ => {}
    }
    // What could not be read may hold what was asked for: not a clean answer.
    match listing.lost.is_empty() {
        true => Exit::Clean as i32,
        false => Exit::Uncovered as i32,
    }
}

/// `verskew rules [RULE]`: exit 2 for an id no rule has.
fn run_rules(rule: Option<&str>, format: OutputFormat, out: &mut Output) -> i32 {
    let Some(id) = rule else {
        match format {
            OutputFormat::Text => out.text(&report::rules_text(RULES), Headings::FirstLine),
            OutputFormat::Json => out.raw(&format!("{}\n", report::rules_json(RULES))),
        }
        return 0;
    };
    let Some(r) = RULES.iter().find(|r| r.id() == id) else {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id()).collect();
        note(&format!(
            "no rule '{id}'; the rules are: {}",
            ids.join(", ")
        ));
        return 2;
    };
    match format {
        OutputFormat::Text => out.text(&report::rule_text(*r), Headings::FirstLine),
        OutputFormat::Json => out.raw(&format!("{}\n", report::rule_json(*r))),
    }
    0
}

fn run_info(
    image: &Path,
    format: OutputFormat,
    verify: bool,
    select: Select,
    out: &mut Output,
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
            let json = format == OutputFormat::Json;
            return failed(out, json, report::INFO_SCHEMA, image, &e);
        }
    };
    match format {
        OutputFormat::Json => out.raw(&format!("{}\n", report::info_json(&info))),
        OutputFormat::Text => out.text(
            &format!("{}\n", report::info_text(&info).trim_end()),
            Headings::FirstLine,
        ),
    }
    let mismatch = info.hashes.iter().flatten().any(|h| !h.matches);
    // A partition table or a volume that could not be read is said in the
    // report and in the status.
    let unread = info.volume_error.is_some()
        || !info.truncated.is_empty()
        || info.filesystems.iter().any(|n| n.error.is_some());
    match (mismatch, unread) {
        (true, _) => Exit::Findings as i32,
        (false, true) => Exit::Uncovered as i32,
        (false, false) => Exit::Clean as i32,
    }
}

/// An image a command could not run on: one line on stderr and, in JSON,
/// an error object under the command's schema.
fn failed(
    out: &mut Output,
    json: bool,
    schema: &str,
    image: &Path,
    e: &commands::CommandError,
) -> i32 {
    note(&e.to_string());
    if json {
        let image = image.display().to_string();
        out.raw(&format!("{}\n", report::json_error(schema, &image, e)));
    }
    Exit::Failed as i32
}
