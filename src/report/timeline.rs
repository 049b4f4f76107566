//! The timeline out: every dated fact of a diagnosis (file and folder
//! times, hotfix and update records, the registry keys' last-written
//! times), each marked with the story sentence that tells it and the rules
//! whose findings name its path, as Timesketch JSON Lines
//! (`--format timeline`) and as a Sleuth Kit 3.x body file
//! (`--format bodyfile`), so the install's story joins a super-timeline.
//!
//! Both are sorted (time, then path, then what the time is) and carry no
//! time of their own: the same image gives the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use super::escape::escape;
use crate::analysis::story::{self, Source};
use crate::analysis::Finding;
use crate::commands::diagnose::Diagnosis;
use crate::time::FileTime;
use crate::windows::{Install, LocalTimes};

/// What a fact was read from (the JSON `kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    File,
    Folder,
    RegistryKey,
    UpdateRecord,
}

impl Kind {
    fn id(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Folder => "folder",
            Kind::RegistryKey => "registry-key",
            Kind::UpdateRecord => "update-record",
        }
    }
}

/// What a time is (Timesketch's `timestamp_desc`, plaso's wording).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Desc {
    Created,
    Modified,
    LastWritten,
    Installed,
}

impl Desc {
    fn text(self) -> &'static str {
        match self {
            Desc::Created => "Creation Time",
            Desc::Modified => "Content Modification Time",
            Desc::LastWritten => "Last Written Time",
            Desc::Installed => "Installation Time",
        }
    }
}

/// One dated fact of one install.
#[derive(Debug, Clone)]
struct Fact<'a> {
    time: FileTime,
    desc: Desc,
    kind: Kind,
    /// A path from the volume root, or a key path from the hive's name.
    path: String,
    /// What happened, for a person (built from image strings, escaped when written).
    what: String,
    version: Option<String>,
    size: Option<u64>,
    install: &'a Install,
    /// Rule ids of the findings that name `path`.
    rules: Vec<&'a str>,
    /// The story's sentence for this fact, when the story tells it.
    story: Option<String>,
}

/// Every dated fact of `d`, sorted.
fn facts(d: &Diagnosis) -> Vec<Fact<'_>> {
    let mut out = Vec::new();
    for install in &d.installs {
        let own: Vec<&Finding> = d
            .findings
            .iter()
            .filter(|f| f.volume == install.volume && f.install == install.system_root)
            .collect();
        let events = story::events(install, &own);
        let mut add = |time: Option<FileTime>, desc, kind, path: String, what: String| {
            out.extend(fact(&own, install, time, desc, kind, path, what));
        };
        for m in &install.markers {
            add(
                m.created,
                Desc::Created,
                Kind::Folder,
                m.path.clone(),
                format!("{} created", m.path),
            );
            add(
                m.modified,
                Desc::Modified,
                Kind::Folder,
                m.path.clone(),
                format!("{} written", m.path),
            );
        }
        let setup = r"SOFTWARE\Microsoft\InetStp";
        add(
            install.iis_setup_written,
            Desc::LastWritten,
            Kind::RegistryKey,
            setup.into(),
            "IIS setup's InetStp key written".into(),
        );
        for h in &install.hotfixes {
            add(
                h.last_written,
                Desc::LastWritten,
                Kind::RegistryKey,
                format!(r"SOFTWARE\{}\{}", crate::windows::HOTFIX, h.id),
                format!("hotfix {} recorded (its key written)", h.id),
            );
        }
        for u in &install.updates {
            add(
                u.installed_day,
                Desc::Installed,
                Kind::UpdateRecord,
                u.key.clone(),
                format!(
                    "update {} installed (InstalledDate {}, the day only)",
                    u.label(),
                    u.installed_date.as_deref().unwrap_or("?")
                ),
            );
            add(
                u.last_written,
                Desc::LastWritten,
                Kind::RegistryKey,
                u.key.clone(),
                format!("update {} record written", u.label()),
            );
        }
        let cs = install.control_set.as_ref().map(|c| c.name.as_str());
        for s in &install.services {
            add(
                s.last_written,
                Desc::LastWritten,
                Kind::RegistryKey,
                format!(r"SYSTEM\{}\Services\{}", cs.unwrap_or("?"), s.name),
                format!("service {} key written", s.name),
            );
            if let Some(k) = &s.service_dll_key {
                add(
                    s.service_dll_last_written,
                    Desc::LastWritten,
                    Kind::RegistryKey,
                    k.clone(),
                    format!("service {} ServiceDll key written", s.name),
                );
            }
        }
        for a in &install.addons {
            add(
                a.last_written,
                Desc::LastWritten,
                Kind::RegistryKey,
                format!("add-on {}", a.name),
                format!("ISM add-on {} key written", a.name),
            );
        }
        for f in &install.files {
            let version = f
                .version
                .as_ref()
                .and_then(|v| v.file_version)
                .map(|v| v.to_string());
            let at = version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let times = [
                (f.created, Desc::Created, "created"),
                (f.modified, Desc::Modified, "written"),
            ];
            for (time, desc, what) in times {
                let what = format!("{}{at} {what}", f.path);
                if let Some(mut x) =
                    fact(&own, install, time, desc, Kind::File, f.path.clone(), what)
                {
                    x.version.clone_from(&version);
                    x.size = Some(f.size);
                    out.push(x);
                }
            }
        }
        // The story's sentence on the fact it rests on.
        for e in events {
            let told = |x: &Fact| match &e.source {
                Source::ServicePack(p) => x.desc == Desc::Created && x.path == *p,
                Source::SetupKey => x.kind == Kind::RegistryKey && x.path == setup,
                Source::Hotfix(id) => x.path.ends_with(&format!(r"\Hotfix\{id}")),
                Source::File(p) => x.desc == Desc::Modified && x.path == *p,
            };
            for fact in out.iter_mut().filter(|x| std::ptr::eq(x.install, install)) {
                if fact.time == e.time.whole_seconds() && told(fact) {
                    fact.story = Some(e.text.clone());
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (a.time, a.install.volume, &a.path, a.desc, &a.what).cmp(&(
            b.time,
            b.install.volume,
            &b.path,
            b.desc,
            &b.what,
        ))
    });
    out
}

/// The fact, when there is a time.
fn fact<'a>(
    own: &[&'a Finding],
    install: &'a Install,
    time: Option<FileTime>,
    desc: Desc,
    kind: Kind,
    path: String,
    what: String,
) -> Option<Fact<'a>> {
    let rules = own
        .iter()
        .filter(|f| f.paths.iter().any(|p| p.eq_ignore_ascii_case(&path)))
        .map(|f| f.rule.as_str())
        .collect();
    Some(Fact {
        time: time?.whole_seconds(),
        desc,
        kind,
        path,
        what,
        version: None,
        size: None,
        install,
        rules,
        story: None,
    })
}

/// A file or folder time stored as local time of a zone not known (FAT
/// without a readable `TimeZoneInformation`): said wherever it is written,
/// never passed off as UTC. Registry times are always UTC.
fn zone_unknown(f: &Fact) -> bool {
    matches!(f.kind, Kind::File | Kind::Folder)
        && matches!(f.install.local_times, Some(LocalTimes::Unknown { .. }))
}

/// One Timesketch event.
#[derive(Serialize)]
struct Event<'a> {
    message: String,
    /// ISO 8601, UTC.
    datetime: String,
    /// Microseconds since the Unix epoch.
    timestamp: i64,
    timestamp_desc: &'static str,
    image: &'a str,
    volume: usize,
    install: &'a str,
    kind: &'static str,
    path: &'a str,
    version: Option<&'a str>,
    size: Option<u64>,
    /// Rule ids of the findings that name `path`, joined with ", ";
    /// null when none does.
    rule: Option<String>,
    story: Option<&'a str>,
    /// For a file or folder time on a volume that stores local time (FAT):
    /// how it was made UTC, or that it is local time of a zone not known.
    file_times: Option<String>,
}

/// `diagnose --format timeline`: one JSON object a line, oldest first,
/// each a line Timesketch imports (`message`, `datetime`, `timestamp_desc`).
pub fn timeline_jsonl(d: &Diagnosis) -> String {
    let mut o = String::new();
    for f in facts(d) {
        let mut message = escape(&f.what).into_owned();
        if zone_unknown(&f) {
            message.push_str(" (local time, zone unknown)");
        }
        if !f.rules.is_empty() {
            message.push_str(&format!(" [{}]", f.rules.join(", ")));
        }
        let e = Event {
            message,
            datetime: f.time.to_string(),
            timestamp: f.time.unix_seconds().saturating_mul(1_000_000),
            timestamp_desc: f.desc.text(),
            image: &d.image,
            volume: f.install.volume,
            install: &f.install.system_root,
            kind: f.kind.id(),
            path: &f.path,
            version: f.version.as_deref(),
            size: f.size,
            rule: (!f.rules.is_empty()).then(|| f.rules.join(", ")),
            story: f.story.as_deref(),
            file_times: match f.kind {
                Kind::File | Kind::Folder => f.install.local_times.as_ref().map(|l| l.note()),
                Kind::RegistryKey | Kind::UpdateRecord => None,
            },
        };
        if let Ok(line) = serde_json::to_string(&e) {
            o.push_str(&line);
            o.push('\n');
        }
    }
    o
}

/// One body file line in the making.
struct BodyLine {
    mode: &'static str,
    size: u64,
    /// Unix seconds; -1 when not known.
    mtime: i64,
    crtime: i64,
    /// The earliest of its times: what the lines are sorted by.
    first: FileTime,
}

/// `diagnose --format bodyfile`: The Sleuth Kit 3.x body file
/// (`MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime`,
/// Unix seconds, -1 for a time not known, which mactime skips), one line
/// per path and what its times say: a file's or folder's written (m) and
/// created (b) times, a key's last-written time (m), an update's install
/// day (m, on a line of its own). Names are escaped, a `|` as `\x7c`; the
/// rules whose findings name a path follow it in brackets.
pub fn bodyfile(d: &Diagnosis) -> String {
    let mut lines: BTreeMap<(usize, String), BodyLine> = BTreeMap::new();
    for f in facts(d) {
        let mut name = escape(&f.path).replace('|', r"\x7c");
        if zone_unknown(&f) {
            name.push_str(" (local time, zone unknown)");
        }
        if f.desc == Desc::Installed {
            name.push_str(" (InstalledDate)");
        }
        if !f.rules.is_empty() {
            name.push_str(&format!(" [{}]", f.rules.join(", ")));
        }
        let mode = match f.kind {
            Kind::File => "r/rrwxrwxrwx",
            Kind::Folder => "d/drwxrwxrwx",
            Kind::RegistryKey | Kind::UpdateRecord => "-/----------",
        };
        let line = lines.entry((f.install.volume, name)).or_insert(BodyLine {
            mode,
            size: f.size.unwrap_or(0),
            mtime: -1,
            crtime: -1,
            first: f.time,
        });
        let t = f.time.unix_seconds();
        match f.desc {
            Desc::Created => line.crtime = t,
            Desc::Modified | Desc::LastWritten | Desc::Installed => line.mtime = t,
        }
        line.first = line.first.min(f.time);
    }
    let mut rows: Vec<_> = lines.into_iter().collect();
    rows.sort_by(|a, b| (a.1.first, &a.0).cmp(&(b.1.first, &b.0)));
    let mut o = String::new();
    for ((_, name), l) in rows {
        let (mode, size, m, b) = (l.mode, l.size, l.mtime, l.crtime);
        o.push_str(&format!("0|{name}|0|{mode}|0|0|{size}|-1|{m}|-1|{b}\n"));
    }
    o
}
