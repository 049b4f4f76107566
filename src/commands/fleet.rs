//! `verskew fleet`: reads back many images' `diagnose --format json`
//! reports (JSON Lines) and compares the servers that should match: for
//! each IIS file, the versions installs of one Windows release disagree
//! on, and for each rule, the images it fires on.
//!
//! A report is data from elsewhere, so it is read as hostile: lines are
//! capped in length and number, every field is optional and typed, and a
//! line that is not a diagnose report is skipped and said with its file
//! and line number, never guessed at.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// Longest line (one image's report) read, in bytes.
pub const MAX_LINE: usize = 64 << 20;
/// Most lines read from one report file.
pub const MAX_LINES: usize = 1_000_000;
/// Most images (report lines) read in all.
pub const MAX_IMAGES: usize = 1_000_000;
/// Most PE files taken from one install.
const MAX_FILES: usize = 16_384;
/// How deep and how many values of a finding's evidence are looked at for
/// file versions.
const MAX_EVIDENCE_DEPTH: usize = 8;
const MAX_EVIDENCE_VALUES: usize = 65_536;

/// One install of one image: what the fleet report lists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Member {
    /// The image as its report names it.
    pub image: String,
    /// The install's volume (index in its report's `volumes`).
    pub volume: u64,
    /// Its system root (`\WINNT`).
    pub install: String,
    /// The image holds more than one install, so lists name the install too.
    pub shared: bool,
}

impl Member {
    /// `img07`, or `img07 (\WINNT on volume #1)` for an image with several
    /// installs (raw: escape it before showing it to a person).
    pub fn label(&self) -> String {
        match self.shared {
            true => format!(
                "{} ({} on volume #{})",
                self.image, self.install, self.volume
            ),
            false => self.image.clone(),
        }
    }
}

/// Installs of one Windows release (name and build): servers that should
/// carry the same IIS files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `Windows NT 4.0`, or `unknown OS` when the report names none.
    pub os: String,
    pub build: Option<String>,
    /// The knowledge families the installs were judged by (union).
    pub families: Vec<String>,
    pub members: Vec<Member>,
    /// Distinct files whose version was read on some member.
    pub files_compared: usize,
    /// The files whose versions differ between members, sorted by name.
    pub disagreements: Vec<FileSpread>,
}

/// One file's versions across a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpread {
    /// The file name (`w3svc.dll`), or its path below the system root when
    /// two files of the group share a name.
    pub file: String,
    /// Its path below the system root (`system32\inetsrv\w3svc.dll`) as
    /// first seen, or the whole path for a file elsewhere.
    pub path: String,
    /// Each version with the members at it, most members first.
    pub versions: Vec<VersionShare>,
    /// Members where the file was found but its version could not be read.
    pub unread: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionShare {
    pub version: String,
    pub members: Vec<Member>,
}

/// Where one rule fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpread {
    pub rule: String,
    /// The severities it fired at (`error`, `warning`, `info`), sorted.
    pub severities: Vec<String>,
    pub members: Vec<Member>,
}

/// An image whose report is an error object: it was not analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedImage {
    pub image: String,
    pub kind: String,
    pub error: String,
    /// `report.jsonl:7`.
    pub at: String,
}

/// A line (or a whole report file, `line` 0) that was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub report: String,
    pub line: usize,
    pub reason: String,
}

/// The whole comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fleet {
    /// The report files, as given.
    pub reports: Vec<String>,
    /// Diagnose reports read (images analysed).
    pub images: usize,
    pub installs: usize,
    pub groups: Vec<Group>,
    pub rules: Vec<RuleSpread>,
    pub failed: Vec<FailedImage>,
    pub skipped: Vec<Skipped>,
    /// Report files that could not be opened or read at all.
    pub unreadable_reports: usize,
}

impl Fleet {
    /// Some file's versions differ within a group.
    pub fn disagrees(&self) -> bool {
        self.groups.iter().any(|g| !g.disagreements.is_empty())
    }

    /// Something given was not read: lines skipped, images not analysed.
    pub fn incomplete(&self) -> bool {
        !self.skipped.is_empty() || !self.failed.is_empty()
    }
}

// The report as read back: every field optional, unknown ones ignored.

#[derive(Deserialize)]
struct ReportIn {
    schema: Option<String>,
    image: Option<String>,
    error: Option<String>,
    kind: Option<String>,
    installs: Option<Vec<InstallIn>>,
    findings: Option<Vec<FindingIn>>,
}

#[derive(Deserialize)]
struct InstallIn {
    volume: Option<u64>,
    system_root: Option<String>,
    os: Option<OsIn>,
    coverage: Option<CoverageIn>,
    loader: Option<LoaderIn>,
}

#[derive(Deserialize)]
struct OsIn {
    name: Option<String>,
    version: Option<String>,
    build: Option<String>,
}

#[derive(Deserialize)]
struct CoverageIn {
    families: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct LoaderIn {
    modules: Option<Vec<ModuleIn>>,
}

#[derive(Deserialize)]
struct ModuleIn {
    path: Option<String>,
    version: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct FindingIn {
    rule: Option<String>,
    severity: Option<String>,
    install: Option<String>,
    volume: Option<u64>,
    evidence: Option<Value>,
}

/// What one install contributes: its group and its files' versions.
struct InstallFacts {
    member: Member,
    group: (String, Option<String>),
    families: Vec<String>,
    /// Lower-case key → (path as shown, version or `None`: unreadable).
    files: BTreeMap<String, (String, Option<String>)>,
}

#[derive(Default)]
struct Acc {
    fleet: Fleet,
    installs: Vec<InstallFacts>,
    rules: BTreeMap<String, (BTreeSet<String>, BTreeSet<Member>)>,
}

/// Reads every report (`-` is standard input) and compares the installs.
pub fn fleet(reports: &[PathBuf]) -> Fleet {
    let mut acc = Acc::default();
    for path in reports {
        let name = path.display().to_string();
        acc.fleet.reports.push(name.clone());
        let reader: Box<dyn Read> = if path == Path::new("-") {
            Box::new(io::stdin())
        } else {
            match open_report(path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    acc.fleet.unreadable_reports += 1;
                    acc.skip(&name, 0, format!("cannot read: {e}"));
                    continue;
                }
            }
        };
        acc.read(&name, BufReader::with_capacity(1 << 16, reader));
    }
    acc.finish()
}

/// [`fleet`] over one report already open (`name` is how the fleet names
/// it): for callers holding the bytes, and the fuzz harness.
pub fn fleet_of(name: &str, report: impl BufRead) -> Fleet {
    let mut acc = Acc::default();
    acc.fleet.reports.push(name.to_string());
    acc.read(name, report);
    acc.finish()
}

fn open_report(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::other("is a directory, not a report file"));
    }
    File::open(path)
}

/// One line read with the length cap.
enum Line {
    Bytes(Vec<u8>),
    TooLong,
    End,
}

fn next_line(r: &mut impl BufRead) -> io::Result<Line> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(Line::End);
    }
    if buf.len() > MAX_LINE && buf.last() != Some(&b'\n') {
        // Skip the rest of the line without keeping it.
        let mut sink = Vec::new();
        loop {
            sink.clear();
            let n = r.by_ref().take(1 << 20).read_until(b'\n', &mut sink)?;
            if n == 0 || sink.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Line::TooLong);
    }
    Ok(Line::Bytes(buf))
}

impl Acc {
    fn skip(&mut self, report: &str, line: usize, reason: String) {
        self.fleet.skipped.push(Skipped {
            report: report.to_string(),
            line,
            reason,
        });
    }

    fn read(&mut self, name: &str, mut r: impl BufRead) {
        let mut number = 0usize;
        loop {
            let line = match next_line(&mut r) {
                Ok(l) => l,
                Err(e) => {
                    self.skip(name, number + 1, format!("read error: {e}"));
                    self.fleet.unreadable_reports += 1;
                    return;
                }
            };
            number += 1;
            let bytes = match line {
                Line::End => return,
                Line::TooLong => {
                    self.skip(name, number, format!("longer than {MAX_LINE} bytes"));
                    continue;
                }
                Line::Bytes(b) => b,
            };
            if number > MAX_LINES {
                self.skip(
                    name,
                    number,
                    format!("more than {MAX_LINES} lines: the rest of the file was not read"),
                );
                return;
            }
            if self.fleet.images + self.fleet.failed.len() >= MAX_IMAGES {
                self.skip(
                    name,
                    number,
                    format!("more than {MAX_IMAGES} images: the rest was not read"),
                );
                return;
            }
            let text = trim(&bytes);
            if text.is_empty() {
                continue;
            }
            // Reports written pretty-printed (`jq .`: objects over many
            // lines): the file's remainder is read as a stream of them.
            if text == &b"{"[..] && number == 1 {
                let mut all = bytes;
                if r.by_ref()
                    .take(MAX_LINE as u64)
                    .read_to_end(&mut all)
                    .is_err()
                {
                    self.skip(name, number, "read error".into());
                    self.fleet.unreadable_reports += 1;
                    return;
                }
                self.documents(name, &all);
                return;
            }
            self.line(name, number, &bytes);
        }
    }

    /// Concatenated JSON documents, each named by the line it starts on.
    fn documents(&mut self, name: &str, all: &[u8]) {
        let mut stream = serde_json::Deserializer::from_slice(all).into_iter::<Value>();
        loop {
            let end = stream.byte_offset();
            let start = end
                + all[end..]
                    .iter()
                    .take_while(|c| c.is_ascii_whitespace())
                    .count();
            let line = 1 + all[..start].iter().filter(|c| **c == b'\n').count();
            match stream.next() {
                None => return,
                Some(Ok(v)) => {
                    let parsed = serde_json::from_value(v).map_err(|e| e.to_string());
                    self.report(name, line, parsed);
                }
                Some(Err(e)) => {
                    self.skip(
                        name,
                        line,
                        format!("not a diagnose report: {e}; the rest of the file was not read"),
                    );
                    return;
                }
            }
            if self.fleet.images + self.fleet.failed.len() >= MAX_IMAGES {
                self.skip(
                    name,
                    line,
                    format!("more than {MAX_IMAGES} images: the rest was not read"),
                );
                return;
            }
        }
    }

    fn line(&mut self, name: &str, number: usize, bytes: &[u8]) {
        let parsed = serde_json::from_slice(bytes).map_err(|e| e.to_string());
        self.report(name, number, parsed);
    }

    fn report(&mut self, name: &str, number: usize, parsed: Result<ReportIn, String>) {
        let report = match parsed {
            Ok(r) => r,
            Err(e) => {
                self.skip(name, number, format!("not a diagnose report: {e}"));
                return;
            }
        };
        match report.schema.as_deref() {
            Some(s) if s.starts_with("verskew.diagnose/") => {}
            Some(s) => {
                let s: String = s.chars().take(64).collect();
                self.skip(
                    name,
                    number,
                    format!("not a diagnose report (schema {s:?})"),
                );
                return;
            }
            None => {
                self.skip(name, number, "not a diagnose report (no schema)".into());
                return;
            }
        }
        let image = report
            .image
            .clone()
            .unwrap_or_else(|| format!("{name}:{number}"));
        if let Some(error) = report.error {
            self.fleet.failed.push(FailedImage {
                image,
                kind: report.kind.unwrap_or_else(|| "unknown".into()),
                error,
                at: format!("{name}:{number}"),
            });
            return;
        }
        self.fleet.images += 1;
        let installs = report.installs.unwrap_or_default();
        let shared = installs.len() > 1;
        let mut here: Vec<InstallFacts> = installs
            .into_iter()
            .map(|i| install_facts(&image, i, shared))
            .collect();
        for f in report.findings.unwrap_or_default() {
            let (Some(rule), Some(install)) = (f.rule, f.install) else {
                continue;
            };
            let volume = f.volume.unwrap_or(0);
            let member = here
                .iter()
                .find(|i| i.member.volume == volume && i.member.install == install)
                .map(|i| i.member.clone())
                .unwrap_or(Member {
                    image: image.clone(),
                    volume,
                    install: install.clone(),
                    shared,
                });
            let entry = self.rules.entry(rule).or_default();
            if let Some(s) = f.severity {
                entry.0.insert(s);
            }
            entry.1.insert(member.clone());
            if let (Some(ev), Some(facts)) =
                (f.evidence, here.iter_mut().find(|i| i.member == member))
            {
                let mut budget = MAX_EVIDENCE_VALUES;
                evidence_files(&ev, 0, &mut budget, &mut |path, version| {
                    add_file(facts, path, Some(version));
                });
            }
        }
        self.fleet.installs += here.len();
        self.installs.extend(here);
    }

    fn finish(mut self) -> Fleet {
        let mut groups: BTreeMap<(String, Option<String>), Vec<InstallFacts>> = BTreeMap::new();
        for i in self.installs {
            groups.entry(i.group.clone()).or_default().push(i);
        }
        self.fleet.groups = groups
            .into_iter()
            .map(|((os, build), members)| group(os, build, members))
            .collect();
        self.fleet.rules = self
            .rules
            .into_iter()
            .map(|(rule, (sev, members))| RuleSpread {
                rule,
                severities: sev.into_iter().collect(),
                members: members.into_iter().collect(),
            })
            .collect();
        self.fleet
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

fn install_facts(image: &str, i: InstallIn, shared: bool) -> InstallFacts {
    let os = i.os.unwrap_or(OsIn {
        name: None,
        version: None,
        build: None,
    });
    let name = os
        .name
        .or_else(|| os.version.map(|v| format!("Windows {v}")))
        .unwrap_or_else(|| "unknown OS".into());
    let mut facts = InstallFacts {
        member: Member {
            image: image.to_string(),
            volume: i.volume.unwrap_or(0),
            install: i.system_root.unwrap_or_default(),
            shared,
        },
        group: (name, os.build),
        families: i.coverage.and_then(|c| c.families).unwrap_or_default(),
        files: BTreeMap::new(),
    };
    for m in i.loader.and_then(|l| l.modules).unwrap_or_default() {
        let Some(path) = m.path else {
            continue;
        };
        match (m.version, m.error) {
            (Some(v), _) => add_file(&mut facts, &path, Some(&v)),
            (None, Some(_)) => add_file(&mut facts, &path, None),
            // Read, but no version resource: nothing to compare.
            (None, None) => {}
        }
    }
    facts
}

/// Records a file's version (the first read wins; a read version replaces
/// an earlier "unreadable").
fn add_file(facts: &mut InstallFacts, path: &str, version: Option<&str>) {
    let root = facts.member.install.to_ascii_lowercase();
    let lower = path.to_ascii_lowercase();
    let below = match lower.strip_prefix(&root) {
        Some(rest) if !root.is_empty() && rest.starts_with('\\') => &path[root.len() + 1..],
        _ => path,
    };
    let key = below.to_ascii_lowercase();
    if facts.files.len() >= MAX_FILES && !facts.files.contains_key(&key) {
        return;
    }
    let entry = facts
        .files
        .entry(key)
        .or_insert_with(|| (below.to_string(), None));
    if entry.1.is_none() {
        entry.1 = version.map(str::to_string);
    }
}

/// Every `{"path": "...", "file_version": "..."}` in a finding's evidence
/// (the files a rule compared), within the caps.
fn evidence_files(v: &Value, depth: usize, budget: &mut usize, found: &mut dyn FnMut(&str, &str)) {
    if depth > MAX_EVIDENCE_DEPTH || *budget == 0 {
        return;
    }
    *budget -= 1;
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(p)), Some(Value::String(ver))) =
                (map.get("path"), map.get("file_version"))
            {
                found(p, ver);
            }
            for child in map.values() {
                evidence_files(child, depth + 1, budget, found);
            }
        }
        Value::Array(items) => {
            for child in items {
                evidence_files(child, depth + 1, budget, found);
            }
        }
        _ => {}
    }
}

/// Four dot-separated numbers compare as numbers; anything else as text.
fn version_key(v: &str) -> (Vec<u64>, String) {
    let nums: Option<Vec<u64>> = v.split('.').map(|p| p.parse().ok()).collect();
    (nums.unwrap_or_default(), v.to_string())
}

fn group(os: String, build: Option<String>, installs: Vec<InstallFacts>) -> Group {
    let families: BTreeSet<String> = installs.iter().flat_map(|i| i.families.clone()).collect();
    // file key → (path as first seen, version → members, unread members)
    type Spread = (String, BTreeMap<String, Vec<Member>>, Vec<Member>);
    let mut files: BTreeMap<String, Spread> = BTreeMap::new();
    for i in &installs {
        for (key, (path, version)) in &i.files {
            let e = files
                .entry(key.clone())
                .or_insert_with(|| (path.clone(), BTreeMap::new(), Vec::new()));
            match version {
                Some(v) => e.1.entry(v.clone()).or_default().push(i.member.clone()),
                None => e.2.push(i.member.clone()),
            }
        }
    }
    let files_compared = files.values().filter(|f| !f.1.is_empty()).count();
    let name_of = |key: &str| key.rsplit('\\').next().unwrap_or(key).to_string();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for key in files.keys() {
        *names.entry(name_of(key)).or_default() += 1;
    }
    let mut disagreements: Vec<FileSpread> = files
        .into_iter()
        .filter(|(_, f)| f.1.len() > 1)
        .map(|(key, (path, versions, mut unread))| {
            let mut versions: Vec<VersionShare> = versions
                .into_iter()
                .map(|(version, mut members)| {
                    members.sort();
                    VersionShare { version, members }
                })
                .collect();
            versions.sort_by(|a, b| {
                b.members
                    .len()
                    .cmp(&a.members.len())
                    .then_with(|| version_key(&a.version).cmp(&version_key(&b.version)))
            });
            unread.sort();
            let short = name_of(&key);
            let file = match names.get(&short) {
                Some(1) => path.rsplit('\\').next().unwrap_or(&path).to_string(),
                _ => path.clone(),
            };
            FileSpread {
                file,
                path,
                versions,
                unread,
            }
        })
        .collect();
    disagreements.sort_by(|a, b| {
        (a.file.to_ascii_lowercase(), &a.path).cmp(&(b.file.to_ascii_lowercase(), &b.path))
    });
    let mut members: Vec<Member> = installs.into_iter().map(|i| i.member).collect();
    members.sort();
    Group {
        os,
        build,
        families: families.into_iter().collect(),
        members,
        files_compared,
        disagreements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(image: &str, w3svc: &str, rule: Option<&str>) -> String {
        let findings = match rule {
            Some(r) => format!(
                r#"[{{"rule":"{r}","severity":"error","install":"\\WINNT","volume":0,"evidence":{{"file":{{"path":"\\WINNT\\system32\\inetsrv\\w3svc.dll","file_version":"{w3svc}"}}}}}}]"#
            ),
            None => "[]".into(),
        };
        format!(
            r#"{{"schema":"verskew.diagnose/1","image":"{image}","installs":[{{"volume":0,"system_root":"\\WINNT","os":{{"name":"Windows NT 4.0","build":"1381"}},"coverage":{{"families":["iis4"]}},"loader":{{"modules":[{{"path":"\\WINNT\\system32\\inetsrv\\infocomm.dll","version":"4.2.769.1"}},{{"path":"\\WINNT\\system32\\inetsrv\\w3svc.dll","version":"{w3svc}"}}]}}}}],"findings":{findings}}}"#
        )
    }

    fn run(text: &str) -> Fleet {
        fleet_of("r.jsonl", text.as_bytes())
    }

    #[test]
    fn versions_that_disagree_are_listed_majority_first() {
        let text = [
            report("img01", "4.2.769.1", None),
            report("img07", "4.2.622.1", Some("lockstep-mismatch")),
            report("img02", "4.2.769.1", None),
            report("img31", "4.2.622.1", Some("lockstep-mismatch")),
            report("img03", "4.2.769.1", None),
        ]
        .join("\n");
        let f = run(&text);
        assert_eq!((f.images, f.installs), (5, 5));
        assert!(f.skipped.is_empty(), "{:?}", f.skipped);
        assert_eq!(f.groups.len(), 1);
        let g = &f.groups[0];
        assert_eq!(
            (g.os.as_str(), g.build.as_deref()),
            ("Windows NT 4.0", Some("1381"))
        );
        assert_eq!(g.files_compared, 2);
        assert_eq!(g.disagreements.len(), 1);
        let d = &g.disagreements[0];
        assert_eq!(d.file, "w3svc.dll");
        assert_eq!(d.path, "system32\\inetsrv\\w3svc.dll");
        let shares: Vec<(&str, Vec<String>)> = d
            .versions
            .iter()
            .map(|v| {
                (
                    v.version.as_str(),
                    v.members.iter().map(Member::label).collect(),
                )
            })
            .collect();
        assert_eq!(
            shares,
            [
                (
                    "4.2.769.1",
                    vec!["img01".into(), "img02".into(), "img03".into()]
                ),
                ("4.2.622.1", vec!["img07".to_string(), "img31".into()]),
            ]
        );
        assert_eq!(f.rules.len(), 1);
        assert_eq!(f.rules[0].rule, "lockstep-mismatch");
        assert_eq!(f.rules[0].members.len(), 2);
        assert!(f.disagrees());
        assert!(!f.incomplete());
    }

    #[test]
    fn malformed_lines_are_skipped_with_their_line_number() {
        let long = format!("{{\"schema\":\"{}\"}}", "x".repeat(10));
        let text = format!(
            "{}\nnot json\n\n{{\"schema\":\"verskew.versions/1\"}}\n{{\"installs\":3,\"schema\":\"verskew.diagnose/1\"}}\n{}\n{{\"schema\":\"verskew.diagnose/1\",\"image\":\"bad.img\",\"error\":\"x\",\"kind\":\"not-found\"}}\n[1,2\n",
            report("a", "1.0.0.0", None),
            long
        );
        let f = run(&text);
        assert_eq!(f.images, 1);
        let lines: Vec<usize> = f.skipped.iter().map(|s| s.line).collect();
        assert_eq!(lines, [2, 4, 5, 6, 8]);
        assert_eq!(f.failed.len(), 1);
        assert_eq!(f.failed[0].at, "r.jsonl:7");
        assert!(f.incomplete());
        assert!(!f.disagrees());
    }

    #[test]
    fn a_pretty_printed_report_reads_as_one() {
        let v: Value = serde_json::from_str(&report("p", "1.0.0.0", None)).unwrap();
        let f = run(&serde_json::to_string_pretty(&v).unwrap());
        assert_eq!(f.images, 1);
        assert!(f.skipped.is_empty());
        // `jq .` over JSON Lines: documents one after another, a bad one
        // named by the line it starts on.
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let lines = pretty.lines().count();
        let three = format!("{pretty}\n{{\"schema\": 3}}\n{pretty}\n");
        let f = run(&three);
        assert_eq!(f.images, 2);
        assert_eq!(f.skipped.len(), 1);
        assert_eq!(f.skipped[0].line, lines + 1);
    }

    /// Seeded bit flips, byte overwrites and cuts of real report lines:
    /// never a panic, and every line is either read or said as skipped.
    #[test]
    fn mutated_reports_are_read_or_skipped_never_a_panic() {
        let base = [
            report("img01", "4.2.769.1", None),
            report("img07", "4.2.622.1", Some("lockstep-mismatch")),
        ]
        .join("\n");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut b = base.clone().into_bytes();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[at] ^= 1 << (next() % 8),
                    1 => b[at] = b"{}[]\":,0\\\n"[(next() % 10) as usize],
                    _ => b.truncate(at.max(1)),
                }
            }
            let f = fleet_of("m.jsonl", &b[..]);
            let lines = b
                .split(|c| *c == b'\n')
                .filter(|l| !trim(l).is_empty())
                .count();
            assert!(f.images + f.failed.len() + f.skipped.len() <= lines.max(1));
        }
    }

    #[test]
    fn an_overlong_line_is_skipped_without_being_kept() {
        let mut r = io::Cursor::new(vec![b'a'; MAX_LINE + 10]);
        assert!(matches!(next_line(&mut r).unwrap(), Line::TooLong));
        assert!(matches!(next_line(&mut r).unwrap(), Line::End));
    }
}
