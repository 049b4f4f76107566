//! The component store (`%windir%\WinSxS`) as the truth about system files,
//! Vista and later: an offline `sfc`.
//!
//! Windows servicing keeps one copy of each version of each component file
//! in a component folder of `WinSxS`
//! (`amd64_microsoft-windows-iis-w3svc_31bf3856ad364e35_6.1.7601.17514_none_…`:
//! architecture, name, public key token, version, language, a hash) and
//! projects the copy of the version in force into `System32` and the other
//! live folders as an NTFS hard link. So a live IIS file is checked three
//! ways against the newest component of its architecture that holds a file
//! of its name:
//!
//! * **hard-link identity** (NTFS): is it the same MFT record as that
//!   component's copy, or as an older component's? FAT keeps no hard links:
//!   "not applicable".
//! * **manifest hash** (Vista, 7, 2008, 2008 R2): the component's manifest
//!   (`WinSxS\Manifests\<folder>.manifest`) is plain XML listing every file
//!   with the digest of its bytes (`<dsig:DigestValue>`, base64, SHA-256 or
//!   SHA-1 by `<dsig:DigestMethod>`). Windows 8 and later store manifests
//!   delta-compressed against a dictionary inside `wcp.dll` (they begin with
//!   `DCM\x01`); no portable decoder exists, so those are said to be
//!   compressed and only the link and the folder versions are used.
//! * **component version**: the version in the folder's name against the
//!   file's VS_FIXEDFILEINFO version, compared as the knowledge says
//!   (`build-revision` for IIS, whose files carry the IIS version in front
//!   of the OS build and revision).
//!
//! Each file records which evidence was used. Queued servicing
//! (`WinSxS\pending.xml`, Session Manager `SetupExecute`) is noted. The
//! listing is capped (entries, name lengths, folders listed, manifest sizes
//! and nodes, bytes hashed); what a cap or a damaged structure hid is
//! reported as unreadable, never as a healthy store.

use std::collections::BTreeMap;

use sha1::Digest as _;

use super::Install;
use crate::fs::{FileId, FsError, Volume};
use crate::pe::Version;
use crate::volume::Filesystem;
use crate::Unreadable;

/// Entries of `WinSxS` considered (a Server 2019 store holds about 20,000).
pub const MAX_STORE_ENTRIES: usize = 200_000;
/// Longest component folder name considered, in characters (real ones stay
/// below 120: Windows shortens long component names with `..`).
pub const MAX_FOLDER_NAME: usize = 200;
/// Component folders listed (those whose names the knowledge names).
pub const MAX_LISTED_COMPONENTS: usize = 4096;
/// Files of one component folder considered.
pub const MAX_COMPONENT_FILES: usize = 4096;
/// Live files checked per install.
pub const MAX_STORE_FILES: usize = 2048;
/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// XML nodes of one manifest.
const MAX_MANIFEST_NODES: u32 = 200_000;
/// Largest live file hashed.
pub const MAX_HASH_BYTES: u64 = 256 << 20;
/// Component versions kept per file (newest first).
const MAX_CANDIDATES: usize = 16;

/// What the store check reads, from the knowledge.
#[derive(Debug, Clone, Default)]
pub struct StoreScope {
    /// OS versions whose system files are projected from the store.
    pub os: Vec<String>,
    /// Component name prefixes whose folders are listed (lower case).
    pub folder_prefixes: Vec<String>,
    /// File names (lower case) checked wherever they are under System32 or
    /// SysWOW64, beside every PE file of an `inetsrv` folder.
    pub names: Vec<String>,
    /// How a file version is compared with its component's: `full` or
    /// `build-revision` (the last two numbers).
    pub compare: String,
}

/// The store as checked for one install.
#[derive(Debug, Clone, Default)]
pub struct ComponentStore {
    /// `\Windows\WinSxS` (as stored on disk when found).
    pub path: String,
    /// False when the store could not be checked at all (`reason`).
    pub checked: bool,
    pub reason: Option<String>,
    /// NTFS keeps hard links; on FAT link identity is not applicable.
    pub hard_links: bool,
    /// The manifests read: `xml`, `compressed` (Windows 8 and later), `mixed`;
    /// `None` when none was read.
    pub manifest_format: Option<&'static str>,
    /// Queued servicing, one sentence each (not an error by itself).
    pub pending: Vec<String>,
    /// Component folders whose names matched and were listed.
    pub components_listed: usize,
    /// Caps hit and names skipped.
    pub notes: Vec<String>,
    /// Every live file checked, sorted by path.
    pub files: Vec<StoreFile>,
}

/// A component folder that holds a file of the live file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// The folder name, as stored.
    pub folder: String,
    pub architecture: String,
    pub version: Version,
    /// Its copy of the file.
    pub file: FileId,
}

/// Whether the live file is a component's copy (same MFT record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// The newest component's copy.
    Newest,
    /// An older component's copy: that folder.
    Older(String),
    /// No component's copy: a separate file.
    NotLinked,
    /// FAT keeps no hard links.
    NotApplicable,
}

impl Link {
    pub fn id(&self) -> &'static str {
        match self {
            Link::Newest => "newest-component",
            Link::Older(_) => "older-component",
            Link::NotLinked => "not-linked",
            Link::NotApplicable => "not-applicable",
        }
    }
}

/// What the newest component's manifest says of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// Plain XML with the file's digest: `algorithm` (`sha256`, `sha1`),
    /// base64 digest as written, and the live file's digest (or why it
    /// could not be computed).
    Hash {
        algorithm: &'static str,
        digest: String,
        file_digest: Result<String, String>,
    },
    /// Plain XML that lists no file of this name, or no digest for it.
    NoEntry,
    /// Delta-compressed (`DCM`): not readable without Windows.
    Compressed,
    Missing,
    Unreadable(String),
}

impl Manifest {
    pub fn id(&self) -> &'static str {
        match self {
            Manifest::Hash { .. } => "xml",
            Manifest::NoEntry => "no-entry",
            Manifest::Compressed => "compressed",
            Manifest::Missing => "missing",
            Manifest::Unreadable(_) => "unreadable",
        }
    }
}

/// The judgement on one live file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The newest component's copy, as far as the evidence goes.
    StoreCopy,
    /// Its bytes do not hash to the newest component's manifest digest.
    HashDiffers,
    /// Its version is not the newest component's.
    VersionDiffers,
    /// It is the copy of an older component while a newer one is in the
    /// store.
    OlderComponent,
    /// Version agrees, but it is not the store's copy (a separate file).
    NotLinked,
    /// No listed component of its architecture holds a file of its name.
    NotInStore,
    /// Nothing could decide (no version resource, no link, no digest).
    NotChecked,
}

impl Verdict {
    pub fn id(self) -> &'static str {
        match self {
            Verdict::StoreCopy => "store-copy",
            Verdict::HashDiffers => "hash-differs",
            Verdict::VersionDiffers => "version-differs",
            Verdict::OlderComponent => "older-component",
            Verdict::NotLinked => "not-linked",
            Verdict::NotInStore => "not-in-store",
            Verdict::NotChecked => "not-checked",
        }
    }
}

/// One live file against the store.
#[derive(Debug, Clone)]
pub struct StoreFile {
    pub path: String,
    pub file_version: Option<Version>,
    /// The component architectures that may hold it (`amd64`; `wow64`,
    /// `x86` for SysWOW64).
    pub architectures: Vec<&'static str>,
    /// Components holding a file of its name, newest first (at most 16).
    pub components: Vec<Component>,
    pub link: Link,
    /// The newest component's manifest; `None` when there is no component.
    pub manifest: Option<Manifest>,
    /// The evidence the verdict rests on: `hard-link`, `manifest-hash`,
    /// `component-version`.
    pub evidence: Vec<&'static str>,
    pub verdict: Verdict,
}

impl StoreFile {
    /// The newest component, which the file is judged against.
    pub fn newest(&self) -> Option<&Component> {
        self.components.first()
    }
}

/// The parts of a component folder name:
/// `<arch>_<name>_<token>_<version>_<language>_<hash>`.
pub fn parse_folder(name: &str) -> Option<(&str, &str, Version)> {
    let parts: Vec<&str> = name.split('_').collect();
    if parts.len() < 6 {
        return None;
    }
    let n = parts.len();
    let arch = parts[0];
    let token = parts[n - 4];
    if token.len() != 16 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut v = [0u16; 4];
    let mut it = parts[n - 3].split('.');
    for slot in &mut v {
        *slot = it.next()?.parse().ok()?;
    }
    if it.next().is_some() {
        return None;
    }
    // The name is everything between the architecture and the token.
    let start = arch.len() + 1;
    let end = name.len() - parts[n - 4..].iter().map(|p| p.len() + 1).sum::<usize>();
    let comp = name.get(start..end)?;
    Some((arch, comp, Version(v)))
}

/// Checks the live IIS files of `install` against its component store.
/// `None` when the install's OS does not project its files from a store.
pub fn check(
    vol: &dyn Volume,
    install: &Install,
    scope: &StoreScope,
    setup_execute: &[String],
    unreadable: &mut Vec<Unreadable>,
) -> Option<ComponentStore> {
    let version = install.os.version.as_deref()?;
    if !scope.os.iter().any(|o| o == version) {
        return None;
    }
    let root = &install.system_root;
    let mut store = ComponentStore {
        path: format!(r"{root}\WinSxS"),
        hard_links: vol.kind() == Filesystem::Ntfs,
        ..ComponentStore::default()
    };
    for s in setup_execute
        .iter()
        .filter(|s| !s.trim().is_empty())
        .take(64)
    {
        store.pending.push(format!(
            "Session Manager SetupExecute runs {s} at the next boot (servicing not finished)"
        ));
    }
    let dir = match vol.lookup(&store.path) {
        Ok(d) if d.is_dir => d,
        Ok(_) | Err(FsError::NotFound { .. }) => {
            store.reason = Some(format!(
                "{} is not on the volume: nothing to compare the live files with",
                store.path
            ));
            return Some(store);
        }
        Err(e) => {
            unreadable.push(Unreadable::new(&store.path, e.reason()));
            store.reason = Some(format!("{} could not be read: {}", store.path, e.reason()));
            return Some(store);
        }
    };
    store.path = dir.path.clone();
    let mut entries = match vol.list(&dir) {
        Ok(l) => l,
        Err(e) => {
            unreadable.push(Unreadable::new(&dir.path, e.reason()));
            store.reason = Some(format!("{} could not be listed: {}", dir.path, e.reason()));
            return Some(store);
        }
    };
    store.checked = true;
    if entries.len() > MAX_STORE_ENTRIES {
        let why = format!(
            "{} entries, more than the {MAX_STORE_ENTRIES} read: the rest were not considered",
            entries.len()
        );
        unreadable.push(Unreadable::new(&dir.path, &why));
        store.notes.push(why);
        entries.truncate(MAX_STORE_ENTRIES);
    }
    if entries
        .iter()
        .any(|e| !e.is_dir && vol.names_equal(e.name(), "pending.xml"))
    {
        store.pending.push(format!(
            r"{}\pending.xml is present: servicing operations are queued for the next boot",
            dir.path
        ));
    }
    let manifests_dir = entries
        .iter()
        .find(|e| e.is_dir && vol.names_equal(e.name(), "Manifests"))
        .map(|e| e.path.clone());

    // The component folders the knowledge names, by architecture.
    let mut long_names = 0usize;
    let mut folders: Vec<(String, String, Version, &crate::fs::Entry)> = Vec::new();
    for e in &entries {
        // An entry whose record could not be read may be a component.
        if let Some(why) = &e.error {
            unreadable.push(Unreadable::new(&e.path, why));
            continue;
        }
        if !e.is_dir {
            continue;
        }
        let name = e.name();
        if name.chars().count() > MAX_FOLDER_NAME {
            long_names += 1;
            continue;
        }
        let Some((arch, comp, v)) = parse_folder(name) else {
            continue;
        };
        let comp = comp.to_ascii_lowercase();
        if scope
            .folder_prefixes
            .iter()
            .any(|p| comp.starts_with(p.as_str()))
        {
            folders.push((name.to_string(), arch.to_ascii_lowercase(), v, e));
        }
    }
    if long_names > 0 {
        let why = format!(
            "{long_names} folder name(s) longer than {MAX_FOLDER_NAME} characters were skipped: \
             a component there was not considered"
        );
        unreadable.push(Unreadable::new(&dir.path, &why));
        store.notes.push(why);
    }
    if folders.len() > MAX_LISTED_COMPONENTS {
        let why = format!(
            "{} component folders matched, more than the {MAX_LISTED_COMPONENTS} listed",
            folders.len()
        );
        unreadable.push(Unreadable::new(&dir.path, &why));
        store.notes.push(why);
        folders.truncate(MAX_LISTED_COMPONENTS);
    }
    // File name (lower case) → the components holding one.
    let mut holders: BTreeMap<String, Vec<Component>> = BTreeMap::new();
    for (folder, arch, v, e) in &folders {
        match vol.list(e) {
            Ok(list) => {
                store.components_listed += 1;
                if list.len() > MAX_COMPONENT_FILES {
                    let why = format!(
                        "{} entries, more than the {MAX_COMPONENT_FILES} considered",
                        list.len()
                    );
                    unreadable.push(Unreadable::new(&e.path, &why));
                }
                for f in list.iter().take(MAX_COMPONENT_FILES) {
                    if let Some(why) = &f.error {
                        unreadable.push(Unreadable::new(&f.path, why));
                        continue;
                    }
                    if f.is_dir {
                        continue;
                    }
                    holders
                        .entry(f.name().to_lowercase())
                        .or_default()
                        .push(Component {
                            folder: folder.clone(),
                            architecture: arch.clone(),
                            version: *v,
                            file: f.id,
                        });
                }
            }
            Err(err) => unreadable.push(Unreadable::new(&e.path, err.reason())),
        }
    }

    let arm = install
        .os
        .architecture
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case("ARM64"));
    let sys32 = format!(r"{root}\system32\").to_ascii_lowercase();
    let wow = format!(r"{root}\syswow64\").to_ascii_lowercase();
    let mut manifests: BTreeMap<String, ManifestDoc> = BTreeMap::new();
    let mut targets = install.files.iter().filter(|f| {
        let lower = f.path.to_ascii_lowercase();
        let under = lower.starts_with(&sys32) || lower.starts_with(&wow);
        let parent = lower.rsplit('\\').nth(1).unwrap_or("");
        under
            && (parent == "inetsrv"
                || scope
                    .names
                    .iter()
                    .any(|n| *n == f.name().to_ascii_lowercase()))
    });
    for file in targets.by_ref().take(MAX_STORE_FILES) {
        let lower = file.path.to_ascii_lowercase();
        let architectures: Vec<&'static str> = if lower.starts_with(&wow) {
            vec!["wow64", "x86"]
        } else if arm {
            vec!["arm64"]
        } else {
            match install.os.bits {
                Some(64) => vec!["amd64"],
                Some(_) => vec!["x86"],
                // Neither the registry nor a SysWOW64 folder tells: either.
                None => vec!["amd64", "x86"],
            }
        };
        let mut components: Vec<Component> = holders
            .get(&file.name().to_lowercase())
            .map(|c| {
                c.iter()
                    .filter(|c| architectures.contains(&c.architecture.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        components.sort_by(|a, b| b.version.cmp(&a.version).then(a.folder.cmp(&b.folder)));
        let link = if !store.hard_links {
            Link::NotApplicable
        } else {
            match components.iter().position(|c| c.file == file.id) {
                Some(0) => Link::Newest,
                Some(i) if components[i].version == components[0].version => Link::Newest,
                Some(i) => Link::Older(components[i].folder.clone()),
                None => Link::NotLinked,
            }
        };
        let manifest = components.first().map(|newest| {
            let doc = manifests
                .entry(newest.folder.clone())
                .or_insert_with(|| read_manifest(vol, manifests_dir.as_deref(), &newest.folder));
            if let ManifestDoc::Unreadable(why) = doc {
                let at = match &manifests_dir {
                    Some(m) => format!(r"{m}\{}.manifest", newest.folder),
                    None => format!(r"{}\Manifests\{}.manifest", dir.path, newest.folder),
                };
                unreadable.push(Unreadable::new(&at, why.as_str()));
            }
            judge_manifest(vol, doc, file)
        });
        if let Some(Manifest::Hash {
            file_digest: Err(why),
            ..
        }) = &manifest
        {
            unreadable.push(Unreadable::new(&file.path, why));
        }
        let (verdict, evidence) =
            verdict(file, &components, &link, manifest.as_ref(), &scope.compare);
        store.files.push(StoreFile {
            path: file.path.clone(),
            file_version: file.version.as_ref().and_then(|v| v.file_version),
            architectures,
            components: components.into_iter().take(MAX_CANDIDATES).collect(),
            link,
            manifest,
            evidence,
            verdict,
        });
    }
    let rest = targets.count();
    if rest > 0 {
        let why = format!("{rest} more live file(s) past the {MAX_STORE_FILES} checked");
        unreadable.push(Unreadable::new(&dir.path, &why));
        store.notes.push(why);
    }
    store.files.sort_by(|a, b| a.path.cmp(&b.path));
    let xml = manifests.values().any(|m| matches!(m, ManifestDoc::Xml(_)));
    let dcm = manifests
        .values()
        .any(|m| matches!(m, ManifestDoc::Compressed));
    store.manifest_format = match (xml, dcm) {
        (true, true) => Some("mixed"),
        (true, false) => Some("xml"),
        (false, true) => Some("compressed"),
        (false, false) => None,
    };
    Some(store)
}

/// The verdict on one file and the evidence it rests on.
fn verdict(
    file: &super::PeFile,
    components: &[Component],
    link: &Link,
    manifest: Option<&Manifest>,
    compare: &str,
) -> (Verdict, Vec<&'static str>) {
    let Some(newest) = components.first() else {
        return (Verdict::NotInStore, Vec::new());
    };
    let mut evidence = Vec::new();
    if matches!(link, Link::Newest | Link::Older(_) | Link::NotLinked) {
        evidence.push("hard-link");
    }
    let hash = match manifest {
        Some(Manifest::Hash {
            digest,
            file_digest: Ok(ours),
            ..
        }) => {
            evidence.push("manifest-hash");
            Some(digest.trim() == ours)
        }
        _ => None,
    };
    let version = file.version.as_ref().and_then(|v| v.file_version).map(|v| {
        evidence.push("component-version");
        same_version(v, newest.version, compare)
    });
    let verdict = if matches!(link, Link::Older(_)) {
        Verdict::OlderComponent
    } else if hash == Some(false) {
        Verdict::HashDiffers
    } else if version == Some(false) {
        Verdict::VersionDiffers
    } else if *link == Link::NotLinked {
        Verdict::NotLinked
    } else if evidence.is_empty()
        || (version.is_none() && hash.is_none() && *link == Link::NotApplicable)
    {
        Verdict::NotChecked
    } else {
        Verdict::StoreCopy
    };
    (verdict, evidence)
}

/// Compares a file version with a component version as the knowledge says.
pub fn same_version(file: Version, component: Version, compare: &str) -> bool {
    match compare {
        "build-revision" => file.0[2..] == component.0[2..],
        _ => file == component,
    }
}

/// A manifest's files: name (lower case) → (algorithm, base64 digest).
pub type ManifestFiles = BTreeMap<String, (&'static str, String)>;

/// A manifest as read.
#[derive(Debug, Clone)]
enum ManifestDoc {
    Xml(ManifestFiles),
    Compressed,
    Missing,
    Unreadable(String),
}

fn read_manifest(vol: &dyn Volume, dir: Option<&str>, folder: &str) -> ManifestDoc {
    let Some(dir) = dir else {
        return ManifestDoc::Missing;
    };
    let path = format!(r"{dir}\{folder}.manifest");
    let entry = match vol.lookup(&path) {
        Ok(e) if !e.is_dir => e,
        Ok(_) | Err(FsError::NotFound { .. }) => return ManifestDoc::Missing,
        Err(e) => return ManifestDoc::Unreadable(e.reason()),
    };
    if entry.size > MAX_MANIFEST_BYTES {
        return ManifestDoc::Unreadable(format!(
            "{} bytes, more than the {MAX_MANIFEST_BYTES} a manifest is read to",
            entry.size
        ));
    }
    let bytes = match vol.read(&entry) {
        Ok(b) => b,
        Err(e) => return ManifestDoc::Unreadable(e.reason()),
    };
    match parse_manifest(&bytes) {
        Ok(Some(files)) => ManifestDoc::Xml(files),
        Ok(None) => ManifestDoc::Compressed,
        Err(why) => ManifestDoc::Unreadable(why),
    }
}

/// Parses a component manifest: `Ok(None)` for a delta-compressed one
/// (`DCM\x01`, Windows 8 and later), else each `<file name=…>` with the
/// algorithm and base64 digest of its `<asmv2:hash>`.
pub fn parse_manifest(bytes: &[u8]) -> Result<Option<ManifestFiles>, String> {
    if bytes.starts_with(b"DCM\x01") {
        return Ok(None);
    }
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_MANIFEST_BYTES} a manifest is read to",
            bytes.len()
        ));
    }
    let text = super::iis_config::decode(bytes)?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_MANIFEST_NODES,
        ..Default::default()
    };
    let doc = crate::panic::contain(|| roxmltree::Document::parse_with_options(&text, opts))?
        .map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "assembly" {
        return Err(format!(
            "the root element is <{}>, not <assembly>",
            root.tag_name().name()
        ));
    }
    let mut files = BTreeMap::new();
    for f in root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "file")
    {
        let Some(name) = f.attribute("name") else {
            continue;
        };
        // `name` may carry a folder below destinationPath; the live file's
        // name is its last part.
        let name = name.rsplit('\\').next().unwrap_or(name).to_lowercase();
        let Some(hash) = f
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "hash")
        else {
            continue;
        };
        let algorithm = hash
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "DigestMethod")
            .and_then(|m| m.attribute("Algorithm"))
            .map(|a| a.rsplit('#').next().unwrap_or(a).to_ascii_lowercase());
        let algorithm = match algorithm.as_deref() {
            Some("sha256") => "sha256",
            Some("sha1") => "sha1",
            _ => continue,
        };
        let Some(value) = hash
            .children()
            .find(|n| n.is_element() && n.tag_name().name() == "DigestValue")
            .and_then(|v| v.text())
        else {
            continue;
        };
        let value: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(128)
            .collect();
        files.insert(name, (algorithm, value));
    }
    Ok(Some(files))
}

fn judge_manifest(vol: &dyn Volume, doc: &ManifestDoc, file: &super::PeFile) -> Manifest {
    match doc {
        ManifestDoc::Compressed => Manifest::Compressed,
        ManifestDoc::Missing => Manifest::Missing,
        ManifestDoc::Unreadable(why) => Manifest::Unreadable(why.clone()),
        ManifestDoc::Xml(files) => match files.get(&file.name().to_lowercase()) {
            None => Manifest::NoEntry,
            Some((algorithm, digest)) => Manifest::Hash {
                algorithm,
                digest: digest.clone(),
                file_digest: file_digest(vol, &file.path, algorithm),
            },
        },
    }
}

/// The base64 digest of a live file's bytes.
fn file_digest(vol: &dyn Volume, path: &str, algorithm: &str) -> Result<String, String> {
    let entry = vol.lookup(path).map_err(|e| e.reason())?;
    if entry.size > MAX_HASH_BYTES {
        return Err(format!(
            "{} bytes, more than the {MAX_HASH_BYTES} hashed",
            entry.size
        ));
    }
    let bytes = vol.read(&entry).map_err(|e| e.reason())?;
    Ok(match algorithm {
        "sha1" => base64(&sha1::Sha1::digest(&bytes)),
        _ => base64(&sha2::Sha256::digest(&bytes)),
    })
}

/// Standard base64 with padding (RFC 4648), as manifests write digests.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_parse() {
        let (arch, name, v) = parse_folder(
            "amd64_microsoft-windows-iis-w3svc_31bf3856ad364e35_6.1.7601.17514_none_2d5bd1a7e2a4c5a1",
        )
        .unwrap();
        assert_eq!(arch, "amd64");
        assert_eq!(name, "microsoft-windows-iis-w3svc");
        assert_eq!(v, Version::new(6, 1, 7601, 17514));
        let (_, name, _) = parse_folder(
            "wow64_microsoft-windows-i..etadminpack_31bf3856ad364e35_10.0.17763.1_en-us_0123456789abcdef",
        )
        .unwrap();
        assert_eq!(name, "microsoft-windows-i..etadminpack");
        for bad in [
            "Manifests",
            "amd64_x_31bf3856ad364e35_6.1_none_aa",
            "amd64_x_notatoken_6.1.7601.1_none_aa",
            "amd64_x_31bf3856ad364e35_6.1.7601.99999_none_aa",
            "a_b_31bf3856ad364e35_1.2.3.4.5_none_aa",
        ] {
            assert!(parse_folder(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn manifests_parse_and_refuse() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0">
  <assemblyIdentity name="Microsoft-Windows-IIS-W3SVC" version="6.1.7601.17514" processorArchitecture="amd64" />
  <file name="iiscore.dll" destinationPath="$(runtime.system32)\inetsrv\">
    <asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">
      <dsig:Transforms><dsig:Transform Algorithm="urn:schemas-microsoft-com:HashTransforms.Identity" /></dsig:Transforms>
      <dsig:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha256" />
      <dsig:DigestValue>Zm9v</dsig:DigestValue>
    </asmv2:hash>
  </file>
  <file name="w3wp.exe"><asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"><dsig:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1" /><dsig:DigestValue> YmFy </dsig:DigestValue></asmv2:hash></file>
</assembly>"#;
        let files = parse_manifest(xml).unwrap().unwrap();
        assert_eq!(files["iiscore.dll"], ("sha256", "Zm9v".to_string()));
        assert_eq!(files["w3wp.exe"], ("sha1", "YmFy".to_string()));
        assert_eq!(parse_manifest(b"DCM\x01PA30\x00\x01").unwrap(), None);
        assert!(parse_manifest(b"<assembly><file").is_err());
        assert!(parse_manifest(b"<other/>").is_err());
        assert!(parse_manifest(b"<!DOCTYPE a [<!ENTITY x 'y'>]><assembly/>").is_err());
    }

    /// Seeded mutations of a manifest and of folder names: no panic, and
    /// whatever parses stays within the caps.
    #[test]
    fn mutated_manifests_and_names_never_panic() {
        let xml = br#"<?xml version="1.0"?><assembly xmlns="urn:schemas-microsoft-com:asm.v3"><assemblyIdentity name="a" version="6.1.7601.17514"/><file name="iiscore.dll"><asmv2:hash xmlns:asmv2="urn:schemas-microsoft-com:asm.v2" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"><dsig:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha256"/><dsig:DigestValue>Zm9v</dsig:DigestValue></asmv2:hash></file></assembly>"#;
        let name = b"amd64_microsoft-windows-iis-w3svc_31bf3856ad364e35_6.1.7601.17514_none_2d5bd1a7e2a4c5a1";
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..3000 {
            let mut m = xml.to_vec();
            let mut n = name.to_vec();
            for _ in 0..1 + round % 4 {
                let i = next() as usize % m.len();
                m[i] = next() as u8;
                let j = next() as usize % n.len();
                n[j] = b"_.0123456789abcdefx"[next() as usize % 19];
            }
            if round % 7 == 0 {
                m.truncate(next() as usize % m.len());
            }
            if let Ok(Some(files)) = parse_manifest(&m) {
                assert!(files.values().all(|(_, d)| d.len() <= 128));
            }
            let _ = parse_folder(&String::from_utf8_lossy(&n));
        }
    }

    /// On a filesystem without hard links (FAT; here an in-memory volume)
    /// the link is "not applicable" and the verdict rests on the manifest
    /// hash and the component version; queued servicing is noted.
    #[test]
    fn without_hard_links_the_manifest_and_version_decide() {
        use crate::windows::load_tests::MemVolume;
        use crate::windows::{Install, PeFile};
        use sha2::Digest as _;
        let folder = "amd64_microsoft-windows-iis-corewebengine_31bf3856ad364e35_6.1.7601.17514_none_0011223344556677";
        let digest = base64(&sha2::Sha256::digest(b"the store's bytes"));
        let manifest = format!(
            r#"<assembly><file name="iiscore.dll"><hash><DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha256"/><DigestValue>{digest}</DigestValue></hash></file></assembly>"#
        );
        let judge = |live: &[u8]| {
            let vol = MemVolume(vec![
                (
                    format!(r"\Windows\WinSxS\{folder}\iiscore.dll"),
                    b"the store's bytes".to_vec(),
                ),
                (
                    format!(r"\Windows\WinSxS\Manifests\{folder}.manifest"),
                    manifest.clone().into_bytes(),
                ),
                (r"\Windows\WinSxS\pending.xml".into(), b"<x/>".to_vec()),
                (
                    r"\Windows\System32\inetsrv\iiscore.dll".into(),
                    live.to_vec(),
                ),
            ]);
            let mut install = Install {
                system_root: r"\Windows".into(),
                ..Install::default()
            };
            install.os.version = Some("6.1".into());
            install.os.bits = Some(64);
            let entry = vol
                .lookup(r"\Windows\System32\inetsrv\iiscore.dll")
                .unwrap();
            install.files.push(PeFile {
                path: entry.path.clone(),
                id: entry.id,
                size: entry.size,
                created: None,
                modified: None,
                compressed: false,
                is_pe: true,
                version: Some(crate::pe::VersionInfo {
                    file_version: Some(Version::new(7, 5, 7601, 17514)),
                    ..Default::default()
                }),
                machine: None,
                error: None,
            });
            let scope = StoreScope {
                os: vec!["6.1".into()],
                folder_prefixes: vec!["microsoft-windows-iis-".into()],
                names: Vec::new(),
                compare: "build-revision".into(),
            };
            let mut lost = Vec::new();
            let store = check(&vol, &install, &scope, &["poqexec.exe".into()], &mut lost).unwrap();
            assert!(lost.is_empty(), "{lost:?}");
            assert!(store.checked && !store.hard_links);
            assert_eq!(store.pending.len(), 2, "{:?}", store.pending);
            assert_eq!(store.manifest_format, Some("xml"));
            store.files.into_iter().next().unwrap()
        };
        let same = judge(b"the store's bytes");
        assert_eq!(same.link, Link::NotApplicable);
        assert_eq!(same.evidence, ["manifest-hash", "component-version"]);
        assert_eq!(same.verdict, Verdict::StoreCopy);
        let other = judge(b"other bytes");
        assert_eq!(other.verdict, Verdict::HashDiffers);
    }

    #[test]
    fn versions_compare_as_the_knowledge_says() {
        let file = Version::new(7, 5, 7601, 17514);
        let comp = Version::new(6, 1, 7601, 17514);
        assert!(same_version(file, comp, "build-revision"));
        assert!(!same_version(file, comp, "full"));
        assert!(!same_version(
            file,
            Version::new(6, 1, 7601, 23000),
            "build-revision"
        ));
    }
}
