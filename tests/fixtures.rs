//! Proves the committed test images say what `testdata/images.toml` claims,
//! using independent tools only: The Sleuth Kit (`fls`, `icat`, `istat`,
//! `fsstat`) reads the NTFS and FAT volumes, a tiny version-resource scan below reads the DLL bytes, and
//! `reglookup` reads the hives. Nothing here uses verskew's own code, so the
//! fixtures can be trusted as ground truth for verskew's tests.
//!
//! Tool-based checks skip visibly (`SKIPPED: ...` on stderr) when the tools are
//! not installed; the manifest checks always run.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Manifest {
    image: Vec<Image>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Image {
    name: String,
    file: String,
    format: String,
    layout: String,
    partition_offset: u64,
    cluster_size: u32,
    system_root: String,
    os_version: String,
    os_build: String,
    service_pack: String,
    product_name: String,
    control_set: String,
    damaged: String,
    status: String,
    reason: String,
    description: String,
    hotfixes: Vec<String>,
    services: Vec<String>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    segments: Vec<String>,
    #[serde(default)]
    expect_unreadable: Vec<String>,
    /// Hive name -> the state a correct tool reads it in (`primary`,
    /// `replayed`, `alternate`, ...), for images where that is the point.
    #[serde(default)]
    hive_state: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<FileEntry>,
    #[serde(default)]
    findings: Vec<Finding>,
    /// The volumes of an image with more than one (`[[image.volumes]]`).
    #[serde(default)]
    volumes: Vec<VolumeEntry>,
    /// `ntfs-3.1` (default), `ntfs-1.2`, `fat12`, `fat16`, `fat32`.
    #[serde(default = "ntfs31")]
    filesystem: String,
}

fn ntfs31() -> String {
    "ntfs-3.1".into()
}

#[derive(Debug, Deserialize)]
struct VolumeEntry {
    offset: u64,
    filesystem: String,
    letter: String,
}

impl Image {
    /// The byte offset of the volume holding `f`: its `volume` letter's, or
    /// the system volume's.
    fn offset_of(&self, f: &FileEntry) -> u64 {
        match &f.volume {
            Some(l) => {
                self.volumes
                    .iter()
                    .find(|v| v.letter.eq_ignore_ascii_case(l))
                    .unwrap_or_else(|| panic!("{}: no volume {l} for {}", self.name, f.path))
                    .offset
            }
            None => self.partition_offset,
        }
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct FileEntry {
    path: String,
    file_version: String,
    product_version: String,
    file_version_string: String,
    size: u64,
    modified: String,
    #[serde(default)]
    ntfs_runs: Option<u32>,
    #[serde(default)]
    compressed: bool,
    /// The drive letter of the volume holding it (default: the system volume).
    #[serde(default)]
    volume: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Finding {
    rule: String,
    severity: String,
    paths: Vec<String>,
}

impl Image {
    fn fs(&self) -> &str {
        &self.filesystem
    }

    fn is_fat(&self) -> bool {
        self.fs().starts_with("fat")
    }

    fn hive_state(&self, hive: &str) -> &str {
        self.hive_state.get(hive).map_or("primary", String::as_str)
    }
}

/// An image the factory built as a disk of its own (raw, or split raw
/// because it is large), not a container copy of another image.
fn is_factory_volume(img: &Image) -> bool {
    img.format == "raw" || (img.format == "split-raw" && img.source.is_empty())
}

/// The image as one raw file for the independent tools: itself, or its
/// segments joined in `tmp`.
fn as_one_file(img: &Image, tmp: &Path) -> PathBuf {
    if img.format != "split-raw" {
        return testdata().join(&img.file);
    }
    let out = tmp.join(format!("{}.raw", img.name));
    let bytes: Vec<u8> = img
        .segments
        .iter()
        .flat_map(|s| std::fs::read(testdata().join(s)).unwrap())
        .collect();
    std::fs::write(&out, bytes).unwrap();
    out
}

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn manifest() -> Manifest {
    let path = testdata().join("images.toml");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("-V").output().is_ok()
}

fn skip_unless(tools: &[&str]) -> bool {
    for t in tools {
        if !have(t) {
            eprintln!("SKIPPED: {t} not found (install sleuthkit and reglookup to run this check)");
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------
// Manifest shape
// ---------------------------------------------------------------------------

#[test]
fn manifest_parses_and_every_file_exists() {
    let m = manifest();
    assert!(!m.image.is_empty());
    let rules = [
        "lockstep-mismatch",
        "missing-addon-dll",
        "missing-service-binary",
        "behind-service-pack",
        "behind-update",
        "undone-update",
        "no-version-resource",
        "missing-module",
        "module-bitness",
        "module-no-register",
        "missing-section",
        "ancm-handler-missing",
        "broken-import",
        "missing-dependency",
        "wrong-machine",
        "broken-delay-import",
        "pending-rename",
        "not-store-copy",
    ];
    let mut names = BTreeSet::new();
    for img in &m.image {
        assert!(
            names.insert(img.name.clone()),
            "duplicate image name {}",
            img.name
        );
        let p = testdata().join(&img.file);
        let made_at_test_time = common::MADE_AT_TEST_TIME.iter().any(|m| m.0 == img.format);
        assert!(
            p.is_file() || made_at_test_time,
            "{}: {} missing",
            img.name,
            p.display()
        );
        for s in &img.segments {
            assert!(
                testdata().join(s).is_file(),
                "{}: segment {s} missing",
                img.name
            );
        }
        assert!(
            ["raw", "split-raw", "ewf", "vhd", "vhdx", "vmdk", "qcow2"]
                .contains(&img.format.as_str()),
            "{}: format {}",
            img.name,
            img.format
        );
        assert!(
            ["ntfs-3.1", "ntfs-1.2", "fat12", "fat16", "fat32"].contains(&img.filesystem.as_str()),
            "{}: filesystem {}",
            img.name,
            img.filesystem
        );
        assert!(
            ["bare", "mbr", "gpt"].contains(&img.layout.as_str()),
            "{}: layout",
            img.name
        );
        assert!(
            img.partition_offset % 512 == 0,
            "{}: partition offset",
            img.name
        );
        if img.layout == "bare" {
            assert_eq!(img.partition_offset, 0, "{}", img.name);
        }
        assert!(
            img.system_root.starts_with('\\'),
            "{}: system_root",
            img.name
        );
        assert!(!img.files.is_empty(), "{}: no files", img.name);
        for f in &img.files {
            assert!(f.path.starts_with('\\'), "{}: {}", img.name, f.path);
            assert!(
                f.modified.ends_with('Z') && f.modified.len() == 20,
                "{}: {}",
                img.name,
                f.modified
            );
            if !f.file_version.is_empty() {
                assert_eq!(
                    f.file_version.split('.').count(),
                    4,
                    "{}: {}",
                    img.name,
                    f.path
                );
            }
        }
        for fd in &img.findings {
            assert!(
                rules.contains(&fd.rule.as_str()),
                "{}: rule {}",
                img.name,
                fd.rule
            );
            assert!(
                ["error", "warning"].contains(&fd.severity.as_str()),
                "{}: severity",
                img.name
            );
            assert!(!fd.paths.is_empty(), "{}: finding without paths", img.name);
        }
        assert!(
            ["evaluated", "partial", "not-evaluated"].contains(&img.status.as_str()),
            "{}: status {}",
            img.name,
            img.status
        );
        if img.status == "evaluated" {
            assert_eq!(img.reason, "", "{}: a reason without a gap", img.name);
            assert!(
                img.expect_unreadable.is_empty(),
                "{}: evaluated, yet unreadable items",
                img.name
            );
        }
        if img.status == "not-evaluated" {
            assert!(
                !img.reason.is_empty() || !img.damaged.is_empty(),
                "{}: not evaluated without a reason",
                img.name
            );
        }
        for (hive, state) in &img.hive_state {
            assert!(
                ["primary", "replayed", "dirty", "alternate", "unreadable"]
                    .contains(&state.as_str()),
                "{}: hive_state {hive} = {state}",
                img.name
            );
        }
        let mut letters = BTreeSet::new();
        for v in &img.volumes {
            assert!(v.offset % 512 == 0, "{}: volume offset", img.name);
            assert!(
                ["ntfs-3.1", "ntfs-1.2", "fat12", "fat16", "fat32"]
                    .contains(&v.filesystem.as_str()),
                "{}: filesystem {}",
                img.name,
                v.filesystem
            );
            assert!(
                v.letter.len() == 2 && v.letter.ends_with(':') && letters.insert(v.letter.clone()),
                "{}: letter {}",
                img.name,
                v.letter
            );
        }
        if !img.volumes.is_empty() {
            assert!(
                img.volumes.iter().any(|v| v.offset == img.partition_offset),
                "{}: the system volume is not among the volumes",
                img.name
            );
        }
        for f in &img.files {
            let _ = img.offset_of(f);
        }
        if !img.source.is_empty() {
            let src = m.image.iter().find(|i| i.name == img.source);
            let src = src.unwrap_or_else(|| panic!("{}: unknown source {}", img.name, img.source));
            assert_eq!(
                src.files.len(),
                img.files.len(),
                "{}: files differ from source",
                img.name
            );
            assert_eq!(src.partition_offset, img.partition_offset, "{}", img.name);
        }
    }
    // Every committed image is listed (nothing stale lies around).
    let listed: BTreeSet<PathBuf> = m
        .image
        .iter()
        .flat_map(|i| std::iter::once(i.file.clone()).chain(i.segments.clone()))
        .map(|f| testdata().join(f))
        .collect();
    for dir in [
        testdata(),
        testdata().join("containers"),
        testdata().join("damaged"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            if p.is_file() && ext != "toml" && ext != "md" {
                assert!(listed.contains(&p), "{} is not in images.toml", p.display());
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Version resource scan (independent of verskew's pe/ module)
// ---------------------------------------------------------------------------

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

fn four(ms: u32, ls: u32) -> String {
    format!("{}.{}.{}.{}", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF)
}

/// (FileVersion, ProductVersion) from VS_FIXEDFILEINFO, or None when the
/// VS_VERSIONINFO header is missing or its lengths are inconsistent.
fn fixed_versions(b: &[u8]) -> Option<(String, String)> {
    let key = utf16("VS_VERSION_INFO\0");
    let k = find(b, &key, 0)?;
    let start = k.checked_sub(6)?;
    let w_length = u16_at(b, start)? as usize;
    let w_value_length = u16_at(b, start + 2)? as usize;
    let value = (k + key.len() + 3) & !3;
    if w_value_length != 52 || w_length < value - start + 52 || start + w_length > b.len() {
        return None;
    }
    if u32_at(b, value)? != 0xFEEF_04BD {
        return None;
    }
    let fv = four(u32_at(b, value + 8)?, u32_at(b, value + 12)?);
    let pv = four(u32_at(b, value + 16)?, u32_at(b, value + 20)?);
    Some((fv, pv))
}

/// The StringFileInfo "FileVersion" string.
fn file_version_string(b: &[u8]) -> Option<String> {
    let key = utf16("FileVersion\0");
    let k = find(b, &key, 0)?;
    let start = k.checked_sub(6)?;
    let chars = u16_at(b, start + 2)? as usize;
    let value = (k + key.len() + 3) & !3;
    let units: Vec<u16> = (0..chars)
        .map_while(|i| u16_at(b, value + 2 * i))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16(&units).ok()
}

#[test]
fn version_scan_reads_a_handmade_resource() {
    // VS_VERSIONINFO header + key + padding + VS_FIXEDFILEINFO, built by hand.
    let mut b = vec![0u8; 8];
    let key = utf16("VS_VERSION_INFO\0");
    let start = b.len();
    b.extend_from_slice(&(92u16).to_le_bytes());
    b.extend_from_slice(&(52u16).to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&key);
    while (b.len() - start) % 4 != 0 {
        b.push(0);
    }
    for v in [
        0xFEEF_04BDu32,
        0x10000,
        (4 << 16) | 2,
        (622 << 16) | 1,
        (4 << 16) | 2,
        (622 << 16) | 1,
    ] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&[0u8; 28]);
    assert_eq!(
        fixed_versions(&b),
        Some(("4.2.622.1".into(), "4.2.622.1".into()))
    );
    b[start] = 3; // garbage wLength
    assert_eq!(fixed_versions(&b), None);
}

// ---------------------------------------------------------------------------
// The Sleuth Kit over the raw images
// ---------------------------------------------------------------------------

struct Volume<'a> {
    img: &'a Path,
    sector_offset: u64,
}

impl Volume<'_> {
    fn args(&self) -> Vec<String> {
        let mut a = vec![];
        if self.sector_offset != 0 {
            a.push("-o".into());
            a.push(self.sector_offset.to_string());
        }
        a
    }

    /// Path (as stored, '/'-separated, no leading slash) -> inode, from `fls -r -p`.
    fn listing(&self) -> BTreeMap<String, u64> {
        let out = Command::new("fls")
            .args(["-r", "-p", "-u"])
            .args(self.args())
            .arg(self.img)
            .output()
            .expect("run fls");
        let mut map = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // "r/r 91-128-2:\tWINNT/system32/inetsrv/w3svc.dll"
            let Some((meta, name)) = line.split_once(":\t") else {
                continue;
            };
            if meta.contains('*') {
                continue; // deleted
            }
            let Some(addr) = meta.split_whitespace().last() else {
                continue;
            };
            let Ok(inode) = addr.split('-').next().unwrap_or("").parse::<u64>() else {
                continue;
            };
            map.entry(name.to_string()).or_insert(inode);
        }
        map
    }

    /// `fsstat`'s "File System Type" (`NTFS`, `FAT16`, `FAT32`).
    fn fs_type(&self) -> String {
        let out = Command::new("fsstat")
            .args(self.args())
            .arg(self.img)
            .output()
            .expect("run fsstat");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("File System Type:"))
            .unwrap_or("")
            .trim()
            .to_string()
    }

    /// A FAT entry's "Written" time as stored (local time, no zone: `-z
    /// UTC` makes istat print it unchanged).
    fn fat_written(&self, inode: u64) -> Option<chrono::NaiveDateTime> {
        let out = Command::new("istat")
            .args(["-z", "UTC"])
            .args(self.args())
            .arg(self.img)
            .arg(inode.to_string())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let line = text.lines().find_map(|l| l.strip_prefix("Written:"))?;
        let stamp = line.trim().trim_end_matches("(UTC)").trim();
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").ok()
    }

    fn icat(&self, inode: u64) -> Option<Vec<u8>> {
        let out = Command::new("icat")
            .args(self.args())
            .arg(self.img)
            .arg(inode.to_string())
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    }
}

fn reglookup(hive: &Path, path: &str) -> Vec<(String, String, String)> {
    let out = Command::new("reglookup")
        .args(["-H", "-p", path])
        .arg(hive)
        .output()
        .expect("run reglookup");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(4, ',');
            Some((
                it.next()?.to_string(),
                it.next()?.to_string(),
                it.next()?.to_string(),
            ))
        })
        .collect()
}

/// reglookup lists no key of a hive (it fails, or prints only its header).
fn reglookup_refuses(hive: &Path) -> bool {
    let out = Command::new("reglookup")
        .args(["-t", "KEY"])
        .arg(hive)
        .output()
        .expect("run reglookup");
    !out.status.success() || String::from_utf8_lossy(&out.stdout).lines().count() <= 1
}

/// Subkey names directly below `path`.
fn reg_subkeys(hive: &Path, path: &str) -> BTreeSet<String> {
    reglookup(hive, path)
        .into_iter()
        .filter(|(_, t, _)| t == "KEY")
        .filter_map(|(p, _, _)| {
            let rest = p.strip_prefix(&format!("{path}/"))?;
            (!rest.contains('/')).then(|| rest.to_string())
        })
        .collect()
}

/// SYSTEM: the live control set, its services, Control\Windows\CSDVersion.
fn check_system_hive(img: &Image, system: &Path) {
    let current = reglookup(system, "/Select/Current");
    let current = current.first().expect("Select\\Current");
    let n = u32::from_str_radix(current.2.trim_start_matches("0x"), 16).unwrap();
    assert_eq!(
        format!("ControlSet{n:03}"),
        img.control_set,
        "{}: Select\\Current",
        img.name
    );
    let services = reg_subkeys(system, &format!("/{}/Services", img.control_set));
    let want: BTreeSet<String> = img.services.iter().cloned().collect();
    assert_eq!(
        services, want,
        "{}: services in the live control set",
        img.name
    );
    for svc in &img.services {
        let ip = reglookup(
            system,
            &format!("/{}/Services/{svc}/ImagePath", img.control_set),
        );
        assert_eq!(ip.len(), 1, "{}: {svc} ImagePath", img.name);
    }
    let csd = reglookup(
        system,
        &format!("/{}/Control/Windows/CSDVersion", img.control_set),
    );
    assert_eq!(csd.len(), 1, "{}: Control\\Windows\\CSDVersion", img.name);
    // The pending images queue a replacement or a delete of w3svc.dll.
    if img.name.starts_with("nt4-iis4-pending-") {
        let queued = reglookup(
            system,
            &format!(
                "/{}/Control/Session Manager/PendingFileRenameOperations",
                img.control_set
            ),
        );
        assert_eq!(queued.len(), 1, "{}: PendingFileRenameOperations", img.name);
        assert_eq!(queued[0].1, "MULTI_SZ", "{}", img.name);
        assert!(
            queued[0].2.contains("w3svc.dll"),
            "{}: {}",
            img.name,
            queued[0].2
        );
    }
}

/// Four dotted numbers, as `Filelist` and the manifest write versions.
fn four_numbers(s: &str) -> Option<Vec<u32>> {
    let v: Vec<u32> = s
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    (v.len() == 4).then_some(v)
}

/// SOFTWARE\Microsoft\Updates, read with reglookup: the files whose
/// `Filelist` entry records a higher version than the file on disk has (the
/// manifest's version, checked with The Sleuth Kit) are exactly the paths
/// the manifest expects `undone-update` on. Entries with values of another
/// type than REG_SZ name nothing.
fn check_update_records(img: &Image, software: &Path) {
    let mut entries: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (path, kind, value) in reglookup(software, "/Microsoft/Updates") {
        let Some((key, name)) = path.rsplit_once('/') else {
            continue;
        };
        if kind == "SZ" && key.contains("/Filelist/") {
            // reglookup writes '%' as %25.
            let value = value.replace("%25", "%");
            entries
                .entry(key.to_string())
                .or_default()
                .insert(name.to_string(), value);
        }
    }
    let mut below = BTreeSet::new();
    for e in entries.values() {
        let (Some(name), Some(want), Some(location)) =
            (e.get("FileName"), e.get("Version"), e.get("Location"))
        else {
            continue;
        };
        let folder = location.replace("%windir%", &img.system_root);
        let path = format!("{folder}\\{name}").to_ascii_lowercase();
        let Some(f) = img
            .files
            .iter()
            .find(|f| f.path.to_ascii_lowercase() == path)
        else {
            continue;
        };
        if let (Some(have), Some(want)) = (four_numbers(&f.file_version), four_numbers(want)) {
            if have < want {
                below.insert(path);
            }
        }
    }
    let want: BTreeSet<String> = img
        .findings
        .iter()
        .filter(|f| f.rule == "undone-update")
        .flat_map(|f| f.paths.iter().map(|p| p.to_ascii_lowercase()))
        .collect();
    assert_eq!(
        below, want,
        "{}: files below their Updates record",
        img.name
    );
}

/// SOFTWARE: CurrentVersion values and the Hotfix keys.
fn check_software_hive(img: &Image, software: &Path) {
    let cv = reglookup(software, "/Microsoft/Windows NT/CurrentVersion");
    let get = |name: &str| {
        cv.iter()
            .find(|(p, _, _)| p == &format!("/Microsoft/Windows NT/CurrentVersion/{name}"))
            .map(|(_, _, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        get("CSDVersion"),
        img.service_pack,
        "{}: CSDVersion",
        img.name
    );
    // NT 10 keeps "6.3" in CurrentVersion; its version is in the DWORDs.
    let dword = |name: &str| u32::from_str_radix(get(name).trim_start_matches("0x"), 16).ok();
    let nt10 = match (
        dword("CurrentMajorVersionNumber"),
        dword("CurrentMinorVersionNumber"),
    ) {
        (Some(major), Some(minor)) => Some(format!("{major}.{minor}")),
        _ => None,
    };
    assert_eq!(
        nt10.clone().unwrap_or_else(|| get("CurrentVersion")),
        img.os_version,
        "{}: CurrentVersion",
        img.name
    );
    assert_eq!(
        get("CurrentBuildNumber"),
        img.os_build,
        "{}: CurrentBuildNumber",
        img.name
    );
    assert_eq!(
        get("ProductName"),
        img.product_name,
        "{}: ProductName",
        img.name
    );
    // CurrentMajorVersionNumber came with NT 10: only NT 10 images have it,
    // and there CurrentVersion still says "6.3".
    if nt10.is_some() {
        assert_eq!(get("CurrentVersion"), "6.3", "{}: NT 10", img.name);
    }
    assert_eq!(
        nt10.is_some(),
        img.os_version == "10.0",
        "{}: CurrentMajorVersionNumber",
        img.name
    );
    let hot = reg_subkeys(software, "/Microsoft/Windows NT/CurrentVersion/Hotfix");
    let want: BTreeSet<String> = img.hotfixes.iter().cloned().collect();
    assert_eq!(hot, want, "{}: Hotfix keys", img.name);
    check_update_records(img, software);
}

/// `<control set>\Control\TimeZoneInformation\Bias` in minutes (UTC =
/// local + Bias), as reglookup reads it.
fn time_zone_bias(system: &Path, control_set: &str) -> Option<i64> {
    let v = reglookup(
        system,
        &format!("/{control_set}/Control/TimeZoneInformation/Bias"),
    );
    let raw = u32::from_str_radix(v.first()?.2.trim_start_matches("0x"), 16).ok()?;
    Some(i64::from(raw as i32))
}

/// An old-format transaction log replayed over its primary file, from the
/// format's public description (msuhanov's regf specification): the log's
/// base block, "DIRT" and one bit per 512-byte page of the hive bins data at
/// its second sector, then the dirty pages in bit order from the next
/// sector boundary. Written here, independent of verskew and of the factory.
fn replay_old_log(primary: &[u8], log: &[u8]) -> Vec<u8> {
    assert_eq!(&log[512..516], b"DIRT", "no dirty vector");
    let bins = u32_at(log, 0x28).unwrap() as usize;
    let pages = bins / 512;
    let bitmap = &log[516..516 + pages / 8];
    let mut at = (516 + bitmap.len()).div_ceil(512) * 512;
    let mut out = primary.to_vec();
    out.resize(out.len().max(4096 + bins), 0);
    for i in (0..pages).filter(|i| bitmap[i / 8] >> (i % 8) & 1 == 1) {
        out[4096 + i * 512..][..512].copy_from_slice(&log[at..at + 512]);
        at += 512;
    }
    out[..508].copy_from_slice(&log[..508]);
    out[28..32].copy_from_slice(&0u32.to_le_bytes());
    let sum = (0..508)
        .step_by(4)
        .fold(0u32, |x, o| x ^ u32_at(&out, o).unwrap());
    out[508..512].copy_from_slice(&sum.to_le_bytes());
    out
}

fn tsk_path(win: &str) -> String {
    win.trim_start_matches('\\').replace('\\', "/")
}

#[test]
fn images_hold_what_the_manifest_says() {
    if !skip_unless(&["fls", "icat", "reglookup"]) {
        return;
    }
    let m = manifest();
    let tmp = tempfile::tempdir().unwrap();
    let mut checked_images = 0;
    let mut checked_files = 0;
    let mut checked_hives = 0;
    let mut checked_fat = 0;
    for img in m.image.iter().filter(|i| is_factory_volume(i)) {
        let path = as_one_file(img, tmp.path());
        let vol = Volume {
            img: &path,
            sector_offset: img.partition_offset / 512,
        };
        let listing = vol.listing();
        // The other volumes of a multi-volume image, listed once each.
        let others: BTreeMap<u64, (Volume, BTreeMap<String, u64>)> = img
            .volumes
            .iter()
            .filter(|v| v.offset != img.partition_offset)
            .map(|v| {
                let o = Volume {
                    img: &path,
                    sector_offset: v.offset / 512,
                };
                let l = o.listing();
                (v.offset, (o, l))
            })
            .collect();
        let unreadable: BTreeSet<&str> = img.expect_unreadable.iter().map(String::as_str).collect();
        // FAT stores local time: the manifest's UTC times are the stored
        // ones plus the Bias the install's SYSTEM hive records.
        let mut bias = None;
        if img.is_fat() {
            assert_eq!(
                vol.fs_type(),
                img.fs().to_ascii_uppercase(),
                "{}: fsstat's filesystem",
                img.name
            );
            let key = listing
                .keys()
                .find(|k| {
                    k.eq_ignore_ascii_case(&format!(
                        "{}/system32/config/SYSTEM",
                        tsk_path(&img.system_root)
                    ))
                })
                .unwrap_or_else(|| panic!("{}: SYSTEM hive not listed", img.name));
            let p = tmp.path().join(format!("{}-tz-SYSTEM", img.name));
            std::fs::write(&p, vol.icat(listing[key]).expect("icat SYSTEM")).unwrap();
            bias = Some(
                time_zone_bias(&p, &img.control_set)
                    .unwrap_or_else(|| panic!("{}: no TimeZoneInformation Bias", img.name)),
            );
        }
        for f in &img.files {
            let lost = unreadable.iter().any(|u| {
                f.path == *u
                    || f.path
                        .starts_with(&format!("{}\\", u.trim_end_matches('\\')))
            });
            if lost {
                // Damaged on purpose (its directory, MFT record or data may be
                // gone); what a correct tool reports is in the manifest.
                continue;
            }
            let key = tsk_path(&f.path);
            let (vol, listing) = match others.get(&img.offset_of(f)) {
                Some((v, l)) => (v, l),
                None => (&vol, &listing),
            };
            let inode = *listing.get(&key).unwrap_or_else(|| {
                panic!("{}: fls does not list {} (as stored)", img.name, f.path)
            });
            let bytes = vol
                .icat(inode)
                .unwrap_or_else(|| panic!("{}: icat {} failed", img.name, f.path));
            assert_eq!(
                bytes.len() as u64,
                f.size,
                "{}: size of {}",
                img.name,
                f.path
            );
            match fixed_versions(&bytes) {
                Some((fv, pv)) => {
                    assert_eq!(
                        fv, f.file_version,
                        "{}: FileVersion of {}",
                        img.name, f.path
                    );
                    assert_eq!(
                        pv, f.product_version,
                        "{}: ProductVersion of {}",
                        img.name, f.path
                    );
                    let s = file_version_string(&bytes).unwrap_or_default();
                    assert_eq!(
                        s, f.file_version_string,
                        "{}: FileVersion string of {}",
                        img.name, f.path
                    );
                }
                None => assert_eq!(
                    f.file_version, "",
                    "{}: no readable version in {}",
                    img.name, f.path
                ),
            }
            if let Some(bias) = bias {
                let local = vol
                    .fat_written(inode)
                    .unwrap_or_else(|| panic!("{}: istat time of {}", img.name, f.path));
                let utc = local + chrono::Duration::minutes(bias);
                assert_eq!(
                    utc.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                    f.modified,
                    "{}: {} written {local} local time, Bias {bias}",
                    img.name,
                    f.path
                );
            }
            checked_files += 1;
        }
        // Hives: read back with reglookup. A hive the manifest lists as
        // unreadable must defeat reglookup too, and then nothing it holds is
        // claimed (no control set, services, OS or hotfixes).
        let root = tsk_path(&img.system_root);
        let mut hive = |name: &str| -> Option<(PathBuf, bool)> {
            let win = format!("{}\\system32\\config\\{name}", img.system_root);
            let lost = unreadable.iter().any(|u| u.eq_ignore_ascii_case(&win));
            let Some(key) = listing
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&format!("{root}/system32/config/{name}")))
            else {
                // Only a damaged image may lose a hive from its listing.
                assert!(
                    !img.expect_unreadable.is_empty(),
                    "{}: {name} hive not listed",
                    img.name
                );
                return None;
            };
            let p = tmp.path().join(format!("{}-{name}", img.name));
            std::fs::write(&p, vol.icat(listing[key]).expect("icat hive")).unwrap();
            if lost {
                assert!(
                    reglookup_refuses(&p),
                    "{}: reglookup reads the {name} hive the manifest calls unreadable",
                    img.name
                );
            }
            checked_hives += 1;
            Some((p, lost))
        };
        match hive("SYSTEM") {
            Some((system, false)) => check_system_hive(img, &system),
            // The primary is damaged; the copy beside it holds what a
            // correct tool reads.
            Some((_, true)) if img.hive_state("SYSTEM") == "alternate" => {
                let (alt, _) = hive("SYSTEM.ALT")
                    .unwrap_or_else(|| panic!("{}: SYSTEM.ALT not listed", img.name));
                check_system_hive(img, &alt);
            }
            _ => {
                assert_eq!(img.control_set, "", "{}: control set unknowable", img.name);
                assert!(img.services.is_empty(), "{}: services unknowable", img.name);
            }
        }
        match hive("SOFTWARE") {
            Some((software, false)) if img.hive_state("SOFTWARE") == "replayed" => {
                let (log, _) = hive("SOFTWARE.LOG")
                    .unwrap_or_else(|| panic!("{}: SOFTWARE.LOG not listed", img.name));
                let replayed = tmp.path().join(format!("{}-SOFTWARE-replayed", img.name));
                let bytes = replay_old_log(
                    &std::fs::read(&software).unwrap(),
                    &std::fs::read(&log).unwrap(),
                );
                std::fs::write(&replayed, bytes).unwrap();
                // The primary file alone lacks what the log holds.
                let hot = reg_subkeys(&software, "/Microsoft/Windows NT/CurrentVersion/Hotfix");
                let want: BTreeSet<String> = img.hotfixes.iter().cloned().collect();
                assert_ne!(hot, want, "{}: the log changes nothing", img.name);
                check_software_hive(img, &replayed);
            }
            Some((software, false)) => check_software_hive(img, &software),
            _ => {
                for (what, v) in [
                    ("os_version", &img.os_version),
                    ("os_build", &img.os_build),
                    ("service_pack", &img.service_pack),
                    ("product_name", &img.product_name),
                ] {
                    assert_eq!(v, "", "{}: {what} unknowable", img.name);
                }
                assert!(img.hotfixes.is_empty(), "{}: hotfixes unknowable", img.name);
            }
        }
        checked_images += 1;
        checked_fat += usize::from(img.is_fat());
        eprintln!("checked {:<40} {} files", img.name, img.files.len());
    }
    eprintln!(
        "checked {checked_images} raw images ({checked_fat} FAT), {checked_files} files, {checked_hives} hives"
    );
    assert!(checked_images >= 10);
    assert!(checked_fat >= 3, "the FAT images were checked");
}

/// The fragmented and compressed variants really are fragmented / compressed.
#[test]
fn layout_variants_are_what_they_claim() {
    if !skip_unless(&["istat", "ifind"]) {
        return;
    }
    let m = manifest();
    for img in m.image.iter().filter(|i| i.format == "raw") {
        let path = testdata().join(&img.file);
        for f in img
            .files
            .iter()
            .filter(|f| f.ntfs_runs.is_some() || f.compressed)
        {
            let out = Command::new("ifind")
                .args(["-n", &tsk_path(&f.path)])
                .arg(&path)
                .output()
                .unwrap();
            let inode = String::from_utf8_lossy(&out.stdout).trim().to_string();
            let out = Command::new("istat")
                .arg(&path)
                .arg(&inode)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if f.compressed {
                assert!(
                    text.contains("Compressed"),
                    "{}: {} not compressed:\n{text}",
                    img.name,
                    f.path
                );
            }
            if let Some(want) = f.ntfs_runs {
                let clusters = data_clusters(&text);
                let runs = clusters.windows(2).filter(|w| w[1] != w[0] + 1).count() + 1;
                assert_eq!(runs as u32, want, "{}: runs of {}", img.name, f.path);
                assert!(runs >= 3);
            }
        }
    }
}

/// The component store images, by The Sleuth Kit: each `System32\inetsrv`
/// file that the store images claim is the store's copy is the same MFT
/// record as its copy in a `WinSxS` component folder (`ifind` gives one
/// inode, `istat` says `Links: 2`), and the files their findings name are
/// separate records (or, for the older component, the older folder's).
#[test]
fn store_images_hold_real_hard_links() {
    if !skip_unless(&["istat", "ifind"]) {
        return;
    }
    let m = manifest();
    let inode = |img: &Path, win: &str| {
        let out = Command::new("ifind")
            .args(["-n", &tsk_path(win)])
            .arg(img)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut seen = 0;
    for img in m.image.iter().filter(|i| i.name.contains("-store-")) {
        seen += 1;
        let path = testdata().join(&img.file);
        let flagged: BTreeSet<String> = img
            .findings
            .iter()
            .flat_map(|f| f.paths.iter().map(|p| p.to_ascii_lowercase()))
            .collect();
        for f in img.files.iter().filter(|f| {
            f.path
                .to_ascii_lowercase()
                .starts_with(r"\windows\system32\inetsrv\")
                && !f.file_version.is_empty()
        }) {
            let name = f.path.rsplit('\\').next().unwrap().to_ascii_lowercase();
            let live = inode(&path, &f.path);
            assert!(!live.is_empty(), "{}: {} not found", img.name, f.path);
            // The copies of this name in WinSxS, by inode.
            let copies: Vec<(String, String)> = img
                .files
                .iter()
                .filter(|c| {
                    let lower = c.path.to_ascii_lowercase();
                    lower.starts_with(r"\windows\winsxs\amd64_")
                        && lower.ends_with(&format!(r"\{name}"))
                        && lower.len() < 160
                })
                .map(|c| (c.path.clone(), inode(&path, &c.path)))
                .collect();
            assert!(
                !copies.is_empty(),
                "{}: no component holds {name}",
                img.name
            );
            let linked = copies.iter().find(|(_, i)| *i == live);
            if flagged.contains(&f.path.to_ascii_lowercase()) && !img.name.contains("older") {
                assert!(linked.is_none(), "{}: {} is linked", img.name, f.path);
                continue;
            }
            let (copy, _) =
                linked.unwrap_or_else(|| panic!("{}: {} is no store copy", img.name, f.path));
            let out = Command::new("istat")
                .arg(&path)
                .arg(&live)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            assert!(
                text.contains("Links: 2"),
                "{}: {}\n{text}",
                img.name,
                f.path
            );
            if img.name.contains("older") && name == "iiscore.dll" {
                assert!(copy.contains("_6.1.7601.17514_"), "{}: {copy}", img.name);
            }
        }
    }
    assert_eq!(seen, 6, "the six store images are in the manifest");
}

/// The NTFS version of each raw NTFS image is the manifest's, by The Sleuth
/// Kit (`fsstat` names 1.2 "Windows NT" and 3.1 "Windows XP") and by the
/// bytes of every `$MFT` record (`istat 0` gives its clusters): NTFS 1.2
/// records keep the update sequence array at 0x2A and their first attribute
/// at 0x30, 3.1 records at 0x30 and 0x38. Only 3.x volumes have `$Extend`.
#[test]
fn ntfs_versions_are_what_the_manifest_says() {
    if !skip_unless(&["fsstat", "istat"]) {
        return;
    }
    let m = manifest();
    let mut checked = BTreeMap::new();
    for img in m
        .image
        .iter()
        .filter(|i| i.format == "raw" && i.filesystem.starts_with("ntfs-") && i.damaged.is_empty())
    {
        let path = testdata().join(&img.file);
        let vol = Volume {
            img: &path,
            sector_offset: img.partition_offset / 512,
        };
        let fsstat = Command::new("fsstat")
            .args(vol.args())
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&fsstat.stdout).to_string();
        let (name, usa, first) = match img.filesystem.as_str() {
            "ntfs-1.2" => ("Windows NT", 0x2A, 0x30),
            _ => ("Windows XP", 0x30, 0x38),
        };
        assert!(
            text.contains(&format!("Version: {name}")),
            "{}: fsstat does not say {name}:\n{text}",
            img.name
        );
        let istat = Command::new("istat")
            .args(vol.args())
            .arg(&path)
            .arg("0")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&istat.stdout).to_string();
        let clusters = data_clusters(&text);
        let bytes = std::fs::read(&path).unwrap();
        let cluster = u64::from(img.cluster_size);
        let mut records = 0;
        for c in clusters {
            let at = (img.partition_offset + c * cluster) as usize;
            for rec in bytes[at..at + cluster as usize].chunks(1024.min(cluster as usize)) {
                if rec.get(..4) != Some(b"FILE".as_slice()) {
                    continue;
                }
                let u16_at = |o: usize| u16::from_le_bytes([rec[o], rec[o + 1]]);
                assert_eq!(u16_at(4), usa, "{}: update sequence array offset", img.name);
                assert_eq!(u16_at(0x14), first, "{}: first attribute offset", img.name);
                records += 1;
            }
        }
        assert!(records >= 16, "{}: only {records} MFT records", img.name);
        // $Extend came with 3.0.
        let extend = vol.listing().keys().any(|k| k.starts_with("$Extend"));
        assert_eq!(
            extend,
            img.filesystem != "ntfs-1.2",
            "{}: $Extend present: {extend}",
            img.name
        );
        *checked.entry(img.filesystem.clone()).or_insert(0) += 1;
    }
    eprintln!("NTFS images by version: {checked:?}");
    assert!(
        checked.get("ntfs-1.2").copied().unwrap_or(0) >= 2,
        "{checked:?}"
    );
}

/// Every container decodes, with its format's own reference tool, to exactly
/// the bytes of the raw disk image it was made from.
#[test]
fn containers_decode_to_their_source() {
    if !skip_unless(&["qemu-img", "ewfexport"]) {
        return;
    }
    let m = manifest();
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    // Formats made at test time are made by qemu-img itself; decoding them
    // with qemu-img again proves nothing.
    let committed = |i: &&Image| !common::MADE_AT_TEST_TIME.iter().any(|m| m.0 == i.format);
    for img in m
        .image
        .iter()
        .filter(|i| !i.source.is_empty())
        .filter(committed)
    {
        let src = m.image.iter().find(|i| i.name == img.source).unwrap();
        let want = std::fs::read(testdata().join(&src.file)).unwrap();
        let out = tmp.path().join(format!("{}.raw", img.name));
        let got = match img.format.as_str() {
            "split-raw" => img
                .segments
                .iter()
                .flat_map(|s| std::fs::read(testdata().join(s)).unwrap())
                .collect::<Vec<u8>>(),
            "ewf" => {
                let target = tmp.path().join(&img.name);
                let st = Command::new("ewfexport")
                    .args(["-u", "-q", "-f", "raw", "-t"])
                    .arg(&target)
                    .arg(testdata().join(&img.file))
                    .output()
                    .unwrap();
                assert!(st.status.success(), "{}: ewfexport failed", img.name);
                std::fs::read(target.with_extension("raw")).unwrap()
            }
            fmt => {
                // qemu's name for VHD is "vpc"; name the format explicitly,
                // since a fixed VHD (raw data + footer) would probe as raw.
                let qfmt = if fmt == "vhd" { "vpc" } else { fmt };
                let st = Command::new("qemu-img")
                    .args(["convert", "-f", qfmt, "-O", "raw"])
                    .arg(testdata().join(&img.file))
                    .arg(&out)
                    .output()
                    .unwrap();
                assert!(st.status.success(), "{}: qemu-img failed", img.name);
                std::fs::read(&out).unwrap()
            }
        };
        assert!(
            got == want,
            "{}: decodes to {} bytes that differ from {}",
            img.name,
            got.len(),
            src.file
        );
        checked += 1;
    }
    eprintln!("checked {checked} containers");
    assert!(checked >= 9);
}

/// The coverage fixtures are what they are for: the manifest entries the
/// test above proves against the bytes say exactly this (a factory change
/// that loses the point of one of them fails here).
#[test]
fn coverage_fixtures_are_what_they_claim() {
    let m = manifest();
    let get = |name: &str| {
        m.image
            .iter()
            .find(|i| i.name == name)
            .unwrap_or_else(|| panic!("{name} is in the manifest"))
    };
    let os = |i: &Image| {
        (
            i.os_version.clone(),
            i.os_build.clone(),
            i.service_pack.clone(),
            i.product_name.clone(),
        )
    };
    let iis_services = [
        "W3SVC", "WAS", "HTTP", "MSFTPSVC", "IISADMIN", "SMTPSVC", "NNTPSVC",
    ];
    let no_iis = |i: &Image| {
        assert!(
            !i.files
                .iter()
                .any(|f| f.path.to_ascii_lowercase().contains("\\inetsrv\\")),
            "{}: an inetsrv file",
            i.name
        );
        assert!(
            !i.services
                .iter()
                .any(|s| iis_services.contains(&s.as_str())),
            "{}: an IIS service: {:?}",
            i.name,
            i.services
        );
        assert!(i.hotfixes.is_empty(), "{}", i.name);
    };

    let r2 = get("w2k8r2-iis75");
    assert_eq!(r2.system_root, "\\Windows");
    assert_eq!(
        os(r2),
        (
            "6.1".into(),
            "7601".into(),
            "Service Pack 1".into(),
            "Windows Server 2008 R2 Standard".into()
        )
    );
    for n in ["w3wp.exe", "iiscore.dll", "w3dt.dll", "iisw3adm.dll"] {
        let path = format!("\\Windows\\System32\\inetsrv\\{n}");
        let f = r2.files.iter().find(|f| f.path == path);
        let f = f.unwrap_or_else(|| panic!("{path} on the 2008 R2 image"));
        assert_eq!(f.file_version, "7.5.7601.17514", "{path}");
    }
    for s in ["W3SVC", "WAS", "HTTP"] {
        assert!(r2.services.iter().any(|x| x == s), "{s} registered");
    }
    // The IIS 7.5 version rules judge it; without applicationHost.config
    // the module rules cannot: partial, never an all-clear.
    assert_eq!((r2.status.as_str(), r2.findings.len()), ("partial", 0));
    // Hostile web.configs are said, never judged: partial, no finding; each
    // section and ASP.NET Core case has its healthy twin.
    let hostile = get("w2k19-iis10-webconfig-hostile");
    assert_eq!(
        (hostile.status.as_str(), hostile.findings.len()),
        ("partial", 0)
    );
    for twin in ["w2k19-iis10-sections-healthy", "w2k19-iis10-ancm-healthy"] {
        let t = get(twin);
        assert_eq!(
            (t.status.as_str(), t.findings.len()),
            ("evaluated", 0),
            "{twin}"
        );
    }
    let w12 = get("w2k12-iis8");
    assert_eq!(os(w12).0, "6.2");
    assert_eq!(
        (w12.status.as_str(), w12.findings.len()),
        ("not-evaluated", 0)
    );

    let w7 = get("win7-noiis");
    assert_eq!(
        os(w7),
        (
            "6.1".into(),
            "7601".into(),
            "Service Pack 1".into(),
            "Windows 7 Professional".into()
        )
    );
    no_iis(w7);
    assert_eq!(w7.status, "not-evaluated");

    let nt = get("nt4-noiis");
    let seed = get("nt4-iis4-kb291589");
    assert_eq!(os(nt), os(seed), "the seed's OS");
    assert_eq!(nt.system_root, seed.system_root);
    no_iis(nt);
    assert_eq!(
        (nt.status.as_str(), nt.reason.as_str()),
        ("not-evaluated", "no IIS component found")
    );

    let cfg = |h: &str| format!("{}\\system32\\config\\{h}", seed.system_root);
    let both = get("damaged-hives-unreadable");
    assert_eq!(both.expect_unreadable, [cfg("SOFTWARE"), cfg("SYSTEM")]);
    assert_eq!(os(both), Default::default());
    assert_eq!(both.control_set, "");
    // Its files still identify IIS 4: the file rules run, so partial.
    assert_eq!(both.status, "partial");
    let sys = get("damaged-system-hive");
    assert_eq!(sys.expect_unreadable, [cfg("SYSTEM")]);
    assert_eq!(os(sys), os(seed), "SOFTWARE still read");
    assert_eq!(
        (sys.control_set.as_str(), sys.status.as_str()),
        ("", "partial")
    );
    for img in [both, sys] {
        // The files are the seed's: the lockstep rules still have them.
        assert_eq!(img.files.len(), seed.files.len(), "{}", img.name);
        assert_eq!(img.findings.len(), 1, "{}", img.name);
        assert_eq!(img.findings[0].rule, "lockstep-mismatch", "{}", img.name);
    }
}

/// The clusters `istat` lists for the unnamed non-resident `$DATA`.
fn data_clusters(istat: &str) -> Vec<u64> {
    let mut grab = false;
    let mut clusters = vec![];
    for line in istat.lines() {
        if line.starts_with("Type: ") {
            grab = line.contains("$DATA (128-") && line.contains("Non-Resident");
        } else if grab {
            clusters.extend(
                line.split_whitespace()
                    .filter_map(|c| c.parse::<u64>().ok()),
            );
        }
    }
    clusters
}

// ---------------------------------------------------------------------------
// The loader images: what each module imports and exports, read by pefile
// from the bytes The Sleuth Kit extracts.
// ---------------------------------------------------------------------------

/// pefile's view of one PE: "import DLL SYM", "delay DLL SYM",
/// "export NAME", "machine 0xNNN" lines.
fn pefile_lines(bytes: &[u8], tmp: &Path, name: &str) -> Option<BTreeSet<String>> {
    let p = tmp.join(name);
    std::fs::write(&p, bytes).unwrap();
    let script = r##"
import sys, pefile
pe = pefile.PE(sys.argv[1])
print("machine 0x%x" % pe.FILE_HEADER.Machine)
s = lambda i: i.name.decode() if i.name else "#%d" % i.ordinal
for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []):
    for i in e.imports: print("import %s %s" % (e.dll.decode().lower(), s(i)))
for e in getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", []):
    for i in e.imports: print("delay %s %s" % (e.dll.decode().lower(), s(i)))
if hasattr(pe, "DIRECTORY_ENTRY_EXPORT"):
    for x in pe.DIRECTORY_ENTRY_EXPORT.symbols:
        if x.name: print("export " + x.name.decode())
"##;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&p)
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect()
    })
}

#[test]
fn loader_images_hold_the_imports_their_findings_rest_on() {
    if !skip_unless(&["fls", "icat"]) {
        return;
    }
    let pefile_ok = Command::new("python3")
        .args(["-c", "import pefile"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !pefile_ok {
        eprintln!("SKIPPED: python3 with pefile not found");
        return;
    }
    let m = manifest();
    let tmp = tempfile::tempdir().unwrap();
    let inet = "WINNT/system32/inetsrv";
    // (image, file, lines that must be there, lines that must not)
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "nt4-loader-broken-import",
            "w3svc.dll",
            &["import isatq.dll AtqSetInfo2"],
            &[],
        ),
        (
            "nt4-loader-broken-import",
            "isatq.dll",
            &["export AtqInitialize"],
            &["export AtqSetInfo2"],
        ),
        (
            "nt4-loader-healthy",
            "w3svc.dll",
            &["import infocomm.dll #5", "import kernel32.dll HeapAlloc"],
            &[],
        ),
        (
            "nt4-loader-healthy",
            "kernel32.dll",
            &["export LoadLibraryA"],
            &["export GetProcAddress"],
        ),
        (
            "nt4-loader-missing-dependency",
            "W3pcfg.dll",
            &["import wspapi.dll WspGetConfig"],
            &[],
        ),
        (
            "nt4-loader-wrong-machine",
            "authfilt.dll",
            &[
                "machine 0x8664",
                "export GetFilterVersion",
                "export HttpFilterProc",
            ],
            &[],
        ),
        (
            "nt4-loader-delay",
            "w3svc.dll",
            &["delay ssinc.dll SsiParseFile"],
            &[],
        ),
        (
            "nt4-loader-delay",
            "ssinc.dll",
            &["export SsiInitialize"],
            &["export SsiParseFile"],
        ),
    ];
    for (image, file, want, not) in cases {
        let img = m
            .image
            .iter()
            .find(|i| i.name == *image)
            .unwrap_or_else(|| panic!("{image} not in the manifest"));
        let path = testdata().join(&img.file);
        let vol = Volume {
            img: &path,
            sector_offset: 0,
        };
        let listing = vol.listing();
        let key = listing
            .keys()
            .find(|k| k.eq_ignore_ascii_case(&format!("{inet}/{file}")))
            .unwrap_or_else(|| panic!("{image}: {file} not listed"));
        let bytes = vol.icat(listing[key]).expect("icat");
        let lines = pefile_lines(&bytes, tmp.path(), &format!("{image}-{file}"))
            .unwrap_or_else(|| panic!("{image}: pefile could not read {file}"));
        for w in *want {
            assert!(lines.contains(*w), "{image} {file}: no `{w}` in {lines:?}");
        }
        for n in *not {
            assert!(!lines.contains(*n), "{image} {file}: `{n}` in {lines:?}");
        }
    }
    // The shadowed copy: the healthy image's system32 kernel32.dll exports
    // what its inetsrv copy lacks.
    let img = m
        .image
        .iter()
        .find(|i| i.name == "nt4-loader-healthy")
        .unwrap();
    let path = testdata().join(&img.file);
    let vol = Volume {
        img: &path,
        sector_offset: 0,
    };
    let listing = vol.listing();
    let key = listing
        .keys()
        .find(|k| k.eq_ignore_ascii_case("WINNT/system32/kernel32.dll"))
        .expect("system32 kernel32.dll listed");
    let lines = pefile_lines(&vol.icat(listing[key]).unwrap(), tmp.path(), "k32").unwrap();
    assert!(lines.contains("export GetProcAddress"), "{lines:?}");

    // IIS 10 (modloader_images.py): each ccache.dll build imports the Visual
    // C++ runtime, and the runtime is where each image says, per bitness.
    for (image, x64_runtime, x86_runtime) in [
        ("w2k19-iis10-vcruntime-healthy", true, true),
        ("w2k19-iis10-vcruntime-missing", false, true),
        ("w2k19-iis10-vcruntime32-missing", true, false),
    ] {
        let img = m.image.iter().find(|i| i.name == image).unwrap();
        let path = testdata().join(&img.file);
        let vol = Volume {
            img: &path,
            sector_offset: 0,
        };
        let listing = vol.listing();
        let has = |p: &str| listing.keys().any(|k| k.eq_ignore_ascii_case(p));
        for (folder, machine, runtime) in [
            ("Program Files", "machine 0x8664", x64_runtime),
            ("Program Files (x86)", "machine 0x14c", x86_runtime),
        ] {
            let key = listing
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&format!("{folder}/Contoso/Cache/ccache.dll")))
                .unwrap_or_else(|| panic!("{image}: {folder} ccache.dll not listed"));
            let lines = pefile_lines(
                &vol.icat(listing[key]).unwrap(),
                tmp.path(),
                &format!("{image}-{}", machine.len()),
            )
            .unwrap();
            for w in [
                machine,
                "import vcruntime140.dll __std_type_info_destroy_list",
                "import msvcp140.dll _Thrd_yield",
                "export RegisterModule",
            ] {
                assert!(lines.contains(w), "{image} {folder}: no `{w}` in {lines:?}");
            }
            let system = if machine.ends_with("8664") {
                "System32"
            } else {
                "SysWOW64"
            };
            assert_eq!(
                has(&format!("Windows/{system}/vcruntime140.dll")),
                runtime,
                "{image}: {system}\\vcruntime140.dll"
            );
            assert!(
                has(&format!("Windows/{system}/kernel32.dll")),
                "{image}: {system}\\kernel32.dll"
            );
        }
    }
}
