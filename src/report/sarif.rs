//! `diagnose --format sarif`: one SARIF 2.1.0 log for the whole invocation,
//! for code-scanning dashboards (GitHub code scanning, the SARIF viewers).
//!
//! One run. The driver's rules are the rule registry ([`ALL`]), in its
//! order; each image given is one artifact; each finding is one result whose
//! location is its image (the physical location) and its Windows path (the
//! logical location), with the volume, install, remedy and evidence as
//! properties. What could not be judged is never silence: an image that
//! could not be analysed, an install not (or only partly) evaluated and
//! every item that could not be read are tool-execution notifications of
//! the one invocation.
//!
//! The types below are the part of the SARIF object model this log writes,
//! written by hand (OASIS SARIF 2.1.0, errata 01); names follow the
//! standard's camelCase.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{escape, Outcome, TOOL_VERSION};
use crate::analysis::evidence::BASE_KEYS;
use crate::analysis::rules::{Rule, ALL};
use crate::analysis::{Evidence, Finding, Severity, Status};
use crate::commands::diagnose::Diagnosis;

/// The schema a log names (`$schema`): OASIS SARIF 2.1.0 with errata 01.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The key of each result's `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "verskewFinding/v1";

/// The SARIF log of one `diagnose` invocation over `outcomes` (in the order
/// the images were given), pretty-printed, with a final newline.
pub fn sarif_report(outcomes: &[Outcome]) -> String {
    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: [run(outcomes)],
    };
    match serde_json::to_string_pretty(&log) {
        Ok(s) => s + "\n",
        // Every value is a string, a number or a derived struct: cannot fail.
        Err(e) => {
            serde_json::json!({"version": "2.1.0", "runs": [], "error": e.to_string()}).to_string()
                + "\n"
        }
    }
}

/// The stable identity of a finding across runs and captures: SHA-256 of
/// the rule id, the volume index, the install's system root and the
/// finding's paths (both ASCII case-folded, as Windows compares them),
/// NUL-separated, in hex. No time, version, offset or image name enters it,
/// so the same problem on a new capture of the same server keeps its alert.
pub fn fingerprint(f: &Finding) -> String {
    let mut h = Sha256::new();
    h.update(f.rule.as_bytes());
    h.update([0]);
    h.update(f.volume.to_string().as_bytes());
    h.update([0]);
    h.update(f.install.to_ascii_lowercase().as_bytes());
    for p in &f.paths {
        h.update([0]);
        h.update(p.to_ascii_lowercase().as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a rule reference is published: Microsoft Knowledge Base articles
/// (`Q291589`, `KB2009746`) at support.microsoft.com, which redirects a
/// number to the article while it is published; TechNet library ids
/// (`cc735035`, the IIS 7 event pages) in Microsoft Learn's archive of the
/// Windows Server 2008 library. `None` for any other form.
pub fn reference_uri(reference: &str) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(n) = reference
        .strip_prefix("KB")
        .or_else(|| reference.strip_prefix('Q'))
        .filter(|n| digits(n))
    {
        return Some(format!("https://support.microsoft.com/kb/{n}"));
    }
    if reference.strip_prefix("cc").is_some_and(digits) {
        return Some(format!(
            "https://learn.microsoft.com/previous-versions/windows/it-pro/windows-server-2008-r2-and-2008/{reference}(v=ws.10)"
        ));
    }
    None
}

// ---- the log ----------------------------------------------------------------

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: [Invocation; 1],
    artifacts: Vec<Artifact>,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Descriptor>,
    /// The kinds of notification the invocation may carry ([`Note`]).
    notifications: Vec<Descriptor>,
}

/// A `reportingDescriptor`: a rule, or a kind of notification.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RuleProperties>,
}

/// A `multiformatMessageString` or a `message`: plain text, optionally
/// Markdown.
#[derive(Serialize)]
struct Text {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

impl Text {
    fn plain(text: impl Into<String>) -> Text {
        Text {
            text: text.into(),
            markdown: None,
        }
    }
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties {
    tags: [&'static str; 2],
    /// Every severity the rule reports (`verskew rules RULE`).
    severities: Vec<String>,
    /// The public sources the rule rests on, as ids (`Q291589`).
    references: &'static [&'static str],
    /// Keys of each result's `properties.evidence`.
    evidence_keys: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    /// False when an image given could not be analysed at all (exit status 2).
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<InvocationProperties>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationProperties {
    /// The `--rules` files merged over the built-in knowledge.
    rules_files: Vec<RulesFile>,
}

#[derive(Serialize)]
struct RulesFile {
    path: String,
    sha256: String,
}

#[derive(Serialize)]
struct Notification {
    descriptor: DescriptorRef,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
}

#[derive(Serialize)]
struct DescriptorRef {
    id: &'static str,
    index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    location: ArtifactLocation,
    roles: [&'static str; 1],
    properties: ArtifactProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactProperties {
    /// `raw`, `ewf`, … (null for an image that could not be opened).
    format: Option<String>,
    /// The virtual disk's size in bytes (null likewise).
    disk_size: Option<u64>,
    /// `evaluated`, `partial`, `not-evaluated`, or `failed`.
    status: &'static str,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
    index: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: Fingerprints,
    properties: ResultProperties,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "verskewFinding/v1")]
    finding: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    install: String,
    volume: VolumeProperty,
    severity: String,
    paths: Vec<String>,
    remedy: String,
    references: Vec<String>,
    evidence: Evidence,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VolumeProperty {
    /// Index in the JSON report's `volumes`.
    index: usize,
    /// Byte offset of its partition on the disk.
    offset: Option<u64>,
    filesystem: Option<&'static str>,
    label: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    /// Line 1: an image has no lines, but code scanning shows an alert only
    /// at a line; the Windows path is the logical location.
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

// ---- building it ------------------------------------------------------------

/// The kinds of notification, in `tool.driver.notifications` order.
#[derive(Clone, Copy)]
enum Note {
    /// An image could not be analysed at all (exit status 2).
    ImageFailed,
    /// An install no rule could judge.
    NotEvaluated,
    /// An install the rules judged only in part.
    Partial,
    /// Something on the disk that could not be read.
    Unreadable,
}

impl Note {
    const ALL: [Note; 4] = [
        Note::ImageFailed,
        Note::NotEvaluated,
        Note::Partial,
        Note::Unreadable,
    ];

    fn id(self) -> &'static str {
        match self {
            Note::ImageFailed => "image-not-analysed",
            Note::NotEvaluated => "install-not-evaluated",
            Note::Partial => "install-partly-evaluated",
            Note::Unreadable => "unreadable",
        }
    }

    fn level(self) -> &'static str {
        match self {
            Note::ImageFailed | Note::NotEvaluated => "error",
            Note::Partial | Note::Unreadable => "warning",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Note::ImageFailed => "An image could not be analysed at all (not found, not a disk image, no NTFS or FAT volume, no Windows installation, truncated): nothing in it was judged.",
            Note::NotEvaluated => "No rule could judge an installation (no knowledge for its Windows/IIS generation, its hives unreadable, no IIS component): its lack of results says nothing about its health.",
            Note::Partial => "The rules ran on an installation, but something in their scope could not be read: a missing result may be a problem not seen.",
            Note::Unreadable => "A volume, hive, key, folder or file could not be read; the message names it and why.",
        }
    }

    fn descriptor(self) -> Descriptor {
        Descriptor {
            id: self.id().to_string(),
            name: pascal(self.id()),
            short_description: Text::plain(self.describe().split(':').next().unwrap_or_default()),
            full_description: Text::plain(self.describe()),
            help: None,
            help_uri: None,
            default_configuration: Configuration {
                level: self.level(),
            },
            properties: None,
        }
    }

    fn notification(self, text: String, locations: Vec<Location>) -> Notification {
        Notification {
            descriptor: DescriptorRef {
                id: self.id(),
                index: self as usize,
            },
            level: self.level(),
            message: Text::plain(text),
            locations,
        }
    }
}

fn run(outcomes: &[Outcome]) -> Run {
    let mut artifacts = Vec::new();
    let mut results = Vec::new();
    let mut notes = Vec::new();
    for (index, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Outcome::Failed { image, error } => {
                artifacts.push(Artifact {
                    location: artifact(image, index),
                    roles: ["analysisTarget"],
                    properties: ArtifactProperties {
                        format: None,
                        disk_size: None,
                        status: "failed",
                    },
                });
                notes.push(Note::ImageFailed.notification(
                    format!("{} ({})", escape(&error.to_string()), error.kind()),
                    vec![located(image, index, None)],
                ));
            }
            Outcome::Diagnosed(d) => {
                artifacts.push(Artifact {
                    location: artifact(&d.image, index),
                    roles: ["analysisTarget"],
                    properties: ArtifactProperties {
                        format: Some(d.format.to_string()),
                        disk_size: Some(d.size),
                        status: d.status().id(),
                    },
                });
                results.extend(d.findings.iter().map(|f| result(d, index, f)));
                notes.extend(coverage_notes(d, index));
            }
        }
    }
    let rules_files = outcomes
        .iter()
        .find_map(|o| match o {
            Outcome::Diagnosed(d) => Some(&d.rules_files),
            Outcome::Failed { .. } => None,
        })
        .filter(|r| !r.is_empty())
        .map(|r| InvocationProperties {
            rules_files: r
                .iter()
                .map(|f| RulesFile {
                    path: f.path.clone(),
                    sha256: f.sha256.clone(),
                })
                .collect(),
        });
    Run {
        tool: Tool {
            driver: Driver {
                name: "verskew",
                version: TOOL_VERSION,
                semantic_version: TOOL_VERSION,
                rules: ALL.iter().map(|r| rule(*r)).collect(),
                notifications: Note::ALL.iter().map(|n| n.descriptor()).collect(),
            },
        },
        invocations: [Invocation {
            execution_successful: !outcomes.iter().any(|o| matches!(o, Outcome::Failed { .. })),
            tool_execution_notifications: notes,
            properties: rules_files,
        }],
        artifacts,
        results,
    }
}

/// A rule of the registry as a reporting descriptor.
fn rule(r: &dyn Rule) -> Descriptor {
    let severities: Vec<String> = r.severities().iter().map(Severity::to_string).collect();
    let evidence_keys: Vec<&'static str> =
        BASE_KEYS.iter().chain(r.evidence_keys()).copied().collect();
    let sources = match r.references() {
        [] => "none beyond the knowledge entries each finding names".to_string(),
        refs => refs.join(", "),
    };
    let full = format!(
        "Fires when {}. Default severity {}; reported as {}. Evidence: {}. Sources: {}.",
        r.summary(),
        r.default_severity(),
        severities.join(" or "),
        evidence_keys.join(", "),
        sources
    );
    let links: Vec<String> = r
        .references()
        .iter()
        .map(|id| match reference_uri(id) {
            Some(u) => format!("[{id}]({u})"),
            None => id.to_string(),
        })
        .collect();
    let help_md = format!(
        "**{}** ({}): {}.\n\nEach result's message says what was found and what to do; \
         its `properties.evidence` holds the facts it rests on ({}) and `properties.remedy` \
         the ordered remedy. `verskew rules {}` explains the rule.\n\nSources: {}",
        r.id(),
        severities.join(" / "),
        r.summary(),
        evidence_keys.join(", "),
        r.id(),
        match links.as_slice() {
            [] => "none beyond the knowledge entries each finding names".to_string(),
            l => l.join(", "),
        }
    );
    Descriptor {
        id: r.id().to_string(),
        name: pascal(r.id()),
        short_description: Text::plain(r.summary()),
        full_description: Text::plain(full),
        help: Some(Text {
            text: super::rule_text(r),
            markdown: Some(help_md),
        }),
        help_uri: r.references().iter().find_map(|id| reference_uri(id)),
        default_configuration: Configuration {
            level: level(r.default_severity()),
        },
        properties: Some(RuleProperties {
            tags: ["verskew", "dll-version-skew"],
            severities,
            references: r.references(),
            evidence_keys,
        }),
    }
}

fn result(d: &Diagnosis, artifact: usize, f: &Finding) -> SarifResult {
    let rule_index = ALL.iter().position(|r| r.id() == f.rule).unwrap_or(0);
    let mut text = escape(&f.message).into_owned();
    if !f.remedy.is_empty() {
        if !text.ends_with(['.', '!', '?']) {
            text.push('.');
        }
        text.push_str(" Remedy: ");
        text.push_str(&escape(&f.remedy));
    }
    let mut places = f.paths.iter().map(|p| located(&d.image, artifact, Some(p)));
    let first = places
        .next()
        .unwrap_or_else(|| located(&d.image, artifact, Some(&f.install)));
    let volume = d.volumes.get(f.volume);
    SarifResult {
        rule_id: f.rule.clone(),
        rule_index,
        level: level(f.severity),
        message: Text::plain(text),
        locations: [first],
        related_locations: places.collect(),
        partial_fingerprints: Fingerprints {
            finding: fingerprint(f),
        },
        properties: ResultProperties {
            install: f.install.clone(),
            volume: VolumeProperty {
                index: f.volume,
                offset: volume.map(|v| v.partition.offset),
                filesystem: volume.and_then(|v| v.filesystem),
                label: volume.and_then(|v| v.label.clone()),
            },
            severity: f.severity.to_string(),
            paths: f.paths.clone(),
            remedy: f.remedy.clone(),
            references: f.references.clone(),
            evidence: f.evidence.clone(),
        },
    }
}

/// Installs not (fully) evaluated and everything unread, as notifications.
fn coverage_notes(d: &Diagnosis, artifact: usize) -> Vec<Notification> {
    let mut out = Vec::new();
    for (install, coverage) in d.installs.iter().zip(&d.coverage) {
        let note = match coverage.status {
            Status::Evaluated => continue,
            Status::Partial => Note::Partial,
            Status::NotEvaluated => Note::NotEvaluated,
        };
        let what = match coverage.status {
            Status::NotEvaluated => "was not evaluated",
            _ => "was only partly evaluated",
        };
        let reasons: Vec<String> = coverage
            .reasons
            .iter()
            .map(|r| escape(r).into_owned())
            .collect();
        out.push(note.notification(
            format!(
                "{}: {} on volume #{} {what}: {}",
                escape(&d.image),
                escape(&install.system_root),
                install.volume,
                reasons.join("; ")
            ),
            vec![located(&d.image, artifact, Some(&install.system_root))],
        ));
    }
    for u in &d.unreadable {
        out.push(Note::Unreadable.notification(
            format!(
                "{}: could not read {}: {}",
                escape(&d.image),
                escape(&u.path),
                escape(&u.reason)
            ),
            // A Windows path is a logical location; "volume #1 at offset …" is not.
            vec![located(&d.image, artifact, windows_path(&u.path))],
        ));
    }
    out
}

/// `path` when it is a Windows path (`\WINNT\…`, `E:\…`).
fn windows_path(path: &str) -> Option<&str> {
    (path.starts_with('\\') || path.get(1..3) == Some(":\\")).then_some(path)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The image as an artifact location.
fn artifact(image: &str, index: usize) -> ArtifactLocation {
    ArtifactLocation {
        uri: uri(image),
        index,
    }
}

/// A location in image `artifact`, at a Windows path when there is one.
fn located(image: &str, artifact_index: usize, path: Option<&str>) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: artifact(image, artifact_index),
            region: Some(Region { start_line: 1 }),
        },
        logical_locations: path
            .map(|p| {
                let name = p.rsplit('\\').find(|s| !s.is_empty()).unwrap_or(p);
                let lower = name.to_ascii_lowercase();
                let module = [".dll", ".exe", ".sys"].iter().any(|e| lower.ends_with(e));
                LogicalLocation {
                    name: name.to_string(),
                    fully_qualified_name: p.to_string(),
                    kind: if module { "module" } else { "resource" },
                }
            })
            .into_iter()
            .collect(),
    }
}

/// An image path as given, as a URI reference: `/` between folders, every
/// byte outside RFC 3986's unreserved characters and `/` percent-encoded (a
/// space is `%20`, a colon `%3A`); an absolute path is a `file:` URI
/// (`/cases/a.E01` → `file:///cases/a.E01`, `C:\cases\a.E01` →
/// `file:///C:/cases/a.E01`), a relative one stays relative, as code
/// scanning wants paths from the repository root.
pub fn uri(path: &str) -> String {
    let b = path.as_bytes();
    let drive =
        b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/');
    let (mut out, rest) = match (drive, b.first()) {
        (true, _) => (format!("file:///{}:", b[0] as char), &path[2..]),
        (false, Some(b'/')) => ("file://".to_string(), path),
        _ => (String::new(), path),
    };
    for b in rest.bytes() {
        match b {
            b'\\' | b'/' => out.push('/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `lockstep-mismatch` → `LockstepMismatch`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_reference_has_an_address() {
        for r in ALL {
            for id in r.references() {
                assert!(reference_uri(id).is_some(), "{}: {id}", r.id());
            }
        }
        assert_eq!(
            reference_uri("Q291589").as_deref(),
            Some("https://support.microsoft.com/kb/291589")
        );
        assert_eq!(reference_uri("KB"), None);
        assert_eq!(reference_uri("Qfoo"), None);
    }

    #[test]
    fn uris_are_uri_references() {
        assert_eq!(uri("images/a b#1.E01"), "images/a%20b%231.E01");
        assert_eq!(uri(r"C:\cases\x.img"), "file:///C:/cases/x.img");
        assert_eq!(uri("/cases/x:1.img"), "file:///cases/x%3A1.img");
        assert_eq!(uri("é"), "%C3%A9");
    }

    #[test]
    fn fingerprints_fold_case_and_ignore_what_changes_between_captures() {
        let f = |rule: &str, volume, install: &str, path: &str, message: &str| Finding {
            rule: rule.into(),
            severity: Severity::Error,
            install: install.into(),
            volume,
            paths: vec![path.into()],
            message: message.into(),
            evidence: Evidence::default(),
            remedy: String::new(),
            references: Vec::new(),
        };
        let a = fingerprint(&f(
            "lockstep-mismatch",
            0,
            r"\WINNT",
            r"\WINNT\w3svc.dll",
            "at 4.2.622.1",
        ));
        let same = f(
            "lockstep-mismatch",
            0,
            r"\winnt",
            r"\WINNT\W3SVC.DLL",
            "at 4.2.700.1",
        );
        assert_eq!(a, fingerprint(&same));
        for other in [
            f("lockstep-newer", 0, r"\WINNT", r"\WINNT\w3svc.dll", ""),
            f("lockstep-mismatch", 1, r"\WINNT", r"\WINNT\w3svc.dll", ""),
            f("lockstep-mismatch", 0, r"\WINNT", r"\WINNT\ssinc.dll", ""),
        ] {
            assert_ne!(a, fingerprint(&other));
        }
        let key = serde_json::to_value(Fingerprints { finding: a }).unwrap();
        assert!(key.get(FINGERPRINT_KEY).is_some(), "{key}");
    }

    #[test]
    fn names_are_pascal_case() {
        assert_eq!(pascal("lockstep-mismatch"), "LockstepMismatch");
        assert_eq!(pascal("install-not-evaluated"), "InstallNotEvaluated");
    }
}
