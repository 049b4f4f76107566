//! Reading an [`Install`] from a volume: system roots, hives, the registry
//! values the analysis uses, and the PE files involved (in parallel).

use rayon::prelude::*;

use super::disk::{self, DiskVolumes, Place};
use super::iis_config;
use super::loader::LoaderInputs;
use super::paths::on_drive;
use super::updates;
use super::{
    drive_and_path, drives, AddOn, Binary, Fallback, HiveInfo, HiveState, HotfixRecord,
    IisConfigFile, Install, LoaderScope, LocalTimes, Marker, ModuleImage, OsInfo, PeFile,
    PendingOperation, PendingSource, Scope, Service, SourceState,
};
use crate::fs::{Entry, FsError, Volume};
use crate::pe;
use crate::registry::{self, ControlSet, Hive, Key, ValueData};
use crate::time::FileTime;
use crate::volume::Filesystem;
use crate::Unreadable;

const CURRENT_VERSION: &str = r"Microsoft\Windows NT\CurrentVersion";
/// Where NT 4.0 to 2003 record hotfixes, below SOFTWARE (the timeline out
/// names each hotfix key by it).
pub(crate) const HOTFIX: &str = r"Microsoft\Windows NT\CurrentVersion\Hotfix";
const WINDOWS_CURRENT_VERSION: &str = r"Microsoft\Windows\CurrentVersion";
/// Extensions of the files listed from inetsrv: the PE images a service loads.
const PE_EXTENSIONS: &[&str] = &["dll", "exe", "sys", "ocx", "cpl", "drv"];

/// A system root (`\WINNT`) and its `system32\config` folder.
pub struct SystemRoot {
    pub root: Entry,
    pub config: Entry,
}

/// Every Windows installation on `vol`, read as far as `scope` asks, as if
/// it were the only volume of its disk.
pub fn find_installs(
    vol: &dyn Volume,
    volume: usize,
    scope: &Scope,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<Install> {
    find_installs_on(&DiskVolumes::single(vol, volume), volume, scope, unreadable)
}

/// Every Windows installation on volume `volume` of `disk`; the paths its
/// registry names on other drive letters are read on those volumes.
pub fn find_installs_on(
    disk: &DiskVolumes,
    volume: usize,
    scope: &Scope,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<Install> {
    let Some(vol) = disk.volumes.get(volume).copied().flatten() else {
        return Vec::new();
    };
    system_roots(vol, unreadable)
        .into_iter()
        .map(|r| {
            // What this install could not read is kept with it (its
            // coverage) and reported with the image's.
            let mut lost = Vec::new();
            let mut install = load_install(disk, vol, volume, &r.root, &r.config, scope, &mut lost);
            lost.sort();
            lost.dedup();
            unreadable.extend(lost.iter().cloned());
            install.unreadable = lost;
            install
        })
        .collect()
}

/// The system roots of `vol`: top-level folders holding
/// `system32\config\SYSTEM` or `SOFTWARE`. The one definition of an install.
pub fn system_roots(vol: &dyn Volume, unreadable: &mut Vec<Unreadable>) -> Vec<SystemRoot> {
    let root = match vol.root().and_then(|r| vol.list(&r)) {
        Ok(list) => list,
        Err(e) => {
            unreadable.push(Unreadable::new("\\", e));
            return Vec::new();
        }
    };
    let mut roots = Vec::new();
    for dir in root
        .iter()
        .filter(|e| e.is_dir && !e.name().starts_with('$'))
    {
        let config = match vol.lookup(&format!(r"{}\system32\config", dir.path)) {
            Ok(c) => c,
            Err(FsError::NotFound { .. }) => continue,
            Err(e) => {
                unreadable.push(Unreadable::new(
                    &format!(r"{}\system32\config", dir.path),
                    e.reason(),
                ));
                continue;
            }
        };
        let children = match vol.list(&config) {
            Ok(c) => c,
            Err(e) => {
                unreadable.push(Unreadable::new(&config.path, e.reason()));
                continue;
            }
        };
        let has = |n: &str| {
            children
                .iter()
                .any(|e| !e.is_dir && vol.names_equal(e.name(), n))
        };
        if has("SYSTEM") || has("SOFTWARE") {
            roots.push(SystemRoot {
                root: dir.clone(),
                config,
            });
        }
    }
    roots
}

fn load_install(
    disk: &DiskVolumes,
    vol: &dyn Volume,
    volume: usize,
    root: &Entry,
    config: &Entry,
    scope: &Scope,
    unreadable: &mut Vec<Unreadable>,
) -> Install {
    let sysroot = root.path.clone();
    let mut hives = Vec::new();
    let mut open = |name: &str| -> Option<Hive> {
        let path = format!(r"{}\{name}", config.path);
        let (opened, fallback) = match open_primary(vol, config, name, &path) {
            Ok(o) => (Ok(o), None),
            Err(reason) => {
                // The primary file could not be used: an older copy read and
                // said to be one is better than no hive at all.
                let (alternate, skipped) = open_alternate(vol, root, config, name);
                let why = match skipped.is_empty() {
                    true => reason.clone(),
                    false => format!("{reason}; not used: {}", skipped.join("; ")),
                };
                match alternate {
                    Some(o) => {
                        // The primary file itself stays listed as unreadable:
                        // what only it held is not covered.
                        unreadable.push(Unreadable::new(&path, &reason));
                        let fallback = Fallback {
                            primary: path.clone(),
                            reason: why,
                        };
                        (Ok(o), Some(fallback))
                    }
                    None => (Err(why), None),
                }
            }
        };
        match opened {
            Ok((path, hive, state)) => {
                hives.push(HiveInfo {
                    name: name.into(),
                    path,
                    dirty: matches!(state, HiveState::Dirty { .. }),
                    error: None,
                    state: Some(state),
                    fallback,
                });
                Some(hive)
            }
            Err(reason) => {
                unreadable.push(Unreadable::new(&path, &reason));
                hives.push(HiveInfo {
                    name: name.into(),
                    path,
                    dirty: false,
                    error: Some(reason),
                    state: None,
                    fallback: None,
                });
                None
            }
        }
    };
    let software = open("SOFTWARE");
    let system = open("SYSTEM");

    let mut install = Install {
        volume,
        system_root: sysroot.clone(),
        hives,
        ..Install::default()
    };

    if let Some(sw) = &software {
        read_software(sw, &mut install, scope, unreadable);
    }
    if let Some(sys) = &system {
        read_system(sys, &mut install, scope, unreadable);
    }
    install.markers = markers(vol, root, unreadable);
    install.iis_config = read_iis_config(vol, root, unreadable);

    let sources = disk::letter_sources(system.as_ref(), software.as_ref(), volume, unreadable);
    install.drives = drives::assign(&disk.partitions, disk.signature, &sources);
    if !disk.collected.is_empty() {
        install.drives = drives::collected(&disk.collected, std::mem::take(&mut install.drives));
    }
    install.os.bits = os_bits(vol, &install.os, &sysroot);
    install.iis_images = iis_images(&install, volume, unreadable);
    resolve_update_files(&mut install);

    // Resolve every binary the registry names, then read the PE files: all of
    // inetsrv plus those binaries, each once, on the volume its letter names.
    let search: Vec<String> = scope
        .addons
        .as_ref()
        .map(|a| a.search.iter().map(|d| format!(r"{sysroot}\{d}")).collect())
        .unwrap_or_default();
    let mut wanted: Vec<Entry> = Vec::new();
    // Files on other volumes, by volume: (index, letter, entries).
    let mut elsewhere: Vec<(usize, char, Vec<Entry>)> = Vec::new();
    for binary in install
        .services
        .iter_mut()
        .flat_map(|s| s.binaries.iter_mut())
        .chain(install.addons.iter_mut().flat_map(|a| a.dlls.iter_mut()))
        .chain(
            install
                .iis_images
                .iter_mut()
                .filter_map(|m| m.binary.as_mut()),
        )
    {
        let (on, letter) = match disk::place(binary.drive, volume, &install.drives) {
            Place::Own => (vol, None),
            Place::Other(v, l) => match disk.volumes.get(v).copied().flatten() {
                Some(other) => (other, Some((v, l))),
                None => {
                    let why = format!("drive {l}: is volume #{v}, which could not be opened");
                    binary.path = on_drive(l, &binary.path);
                    unreadable.push(Unreadable::new(&binary.path, &why));
                    binary.unreadable = Some(why);
                    continue;
                }
            },
            Place::Elsewhere(l, why) => {
                // Never "missing": the file may well be on that drive.
                binary.path = on_drive(l, &binary.path);
                unreadable.push(Unreadable::new(&binary.path, &why));
                binary.unreadable = Some(why);
                continue;
            }
        };
        let shown = |p: &str| letter.map_or(p.to_string(), |(_, l)| on_drive(l, p));
        match resolve(on, &binary.path, &search) {
            Ok(Some(entry)) => {
                binary.found = Some(shown(&entry.path));
                match letter {
                    None => wanted.push(entry),
                    Some((v, l)) => match elsewhere.iter_mut().find(|e| e.0 == v) {
                        Some(e) => e.2.push(entry),
                        None => elsewhere.push((v, l, vec![entry])),
                    },
                }
            }
            Ok(None) => {}
            Err(why) => {
                unreadable.push(Unreadable::new(&shown(&binary.path), &why));
                binary.unreadable = Some(why);
            }
        }
        binary.path = shown(&binary.path);
    }
    // The folders whose PE files are all read: the scope's below the system
    // root, and the one an InstallPath value (InetStp, a service's
    // Parameters) names when it is another, on the volume its letter names.
    let mut folders: Vec<(Option<char>, String)> = scope
        .folders
        .iter()
        .map(|f| (None, format!(r"{sysroot}\{f}")))
        .collect();
    let install_paths = install
        .services
        .iter()
        .filter_map(|s| s.install_path.as_deref())
        .chain(
            install
                .iis_setup
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("InstallPath"))
                .map(|(_, v)| v.as_str()),
        );
    for raw in install_paths {
        let Some((letter, path)) = drive_and_path(raw, &sysroot) else {
            continue;
        };
        let path = path.trim_end_matches('\\').to_string();
        if path.is_empty() || !path.starts_with('\\') {
            continue;
        }
        let letter = match disk::place(letter, volume, &install.drives) {
            Place::Own => None,
            _ => letter,
        };
        if !folders
            .iter()
            .any(|(l, p)| *l == letter && p.eq_ignore_ascii_case(&path))
        {
            folders.push((letter, path));
        }
    }
    for (letter, path) in folders {
        let (on, at) = match disk::place(letter, volume, &install.drives) {
            Place::Own => (vol, None),
            Place::Other(v, l) => match disk.volumes.get(v).copied().flatten() {
                Some(other) => (other, Some((v, l))),
                None => {
                    let why = format!("drive {l}: is volume #{v}, which could not be opened");
                    unreadable.push(Unreadable::new(&on_drive(l, &path), why));
                    continue;
                }
            },
            Place::Elsewhere(l, why) => {
                unreadable.push(Unreadable::new(&on_drive(l, &path), why));
                continue;
            }
        };
        let shown = |p: &str| at.map_or(p.to_string(), |(_, l)| on_drive(l, p));
        // An absent folder holds nothing to judge; one that cannot be opened
        // hides what it holds, so it is said.
        let dir = match on.lookup(&path) {
            Ok(dir) => dir,
            Err(FsError::NotFound { .. }) => continue,
            Err(e) => {
                unreadable.push(Unreadable::new(&shown(&path), e.reason()));
                continue;
            }
        };
        match on.list(&dir) {
            Ok(list) => {
                for e in list.iter().filter(|e| !is_pe_name(e.name())) {
                    if let Some(why) = &e.error {
                        unreadable.push(Unreadable::new(&shown(&e.path), why));
                    }
                }
                let pe = list
                    .into_iter()
                    .filter(|e| !e.is_dir && is_pe_name(e.name()));
                match at {
                    None => wanted.extend(pe),
                    Some((v, l)) => match elsewhere.iter_mut().find(|e| e.0 == v) {
                        Some(e) => e.2.extend(pe),
                        None => elsewhere.push((v, l, pe.collect())),
                    },
                }
            }
            Err(e) => unreadable.push(Unreadable::new(&shown(&dir.path), e.reason())),
        }
    }
    // The files the update records list on this volume, wherever they are
    // (an offline Qfecheck compares every one with its record).
    for path in install
        .updates
        .iter()
        .flat_map(|u| u.files.iter())
        .filter_map(|f| f.path.as_deref())
        .filter(|p| p.starts_with('\\') && is_pe_name(p))
        .take(updates::MAX_RECORDED_FILES)
    {
        match vol.lookup(path) {
            Ok(e) if !e.is_dir => wanted.push(e),
            Ok(_) | Err(FsError::NotFound { .. }) => {}
            Err(e) => unreadable.push(Unreadable::new(path, e.reason())),
        }
    }
    wanted.sort_by_key(|e| e.id);
    wanted.dedup_by_key(|e| e.id);
    install.files = read_pe_files(vol, &wanted, unreadable);
    register_exports(vol, &mut install.iis_images);
    // IIS 7 and later: each application's web.config, and where the ASP.NET
    // Core Module would find its request handler.
    let web_configs = super::iis_sites::read_web_configs(
        &install,
        disk,
        vol,
        volume,
        scope.ancm.as_ref(),
        unreadable,
    );
    if let Some(f) = install.iis_config.as_mut() {
        f.web_configs = web_configs;
    }
    // FAT stores local time: its times are made UTC with the install's zone,
    // volume by volume, since a letter may name a FAT volume beside NTFS.
    let fat_read = vol.kind() == Filesystem::Fat
        || elsewhere.iter().any(|(v, ..)| {
            disk.volumes
                .get(*v)
                .copied()
                .flatten()
                .is_some_and(|o| o.kind() == Filesystem::Fat)
        });
    let zone = fat_read.then(|| time_zone(system.as_ref(), install.control_set.as_ref()));
    let bias = match &zone {
        Some(LocalTimes::Converted { bias, .. }) => Some(*bias),
        _ => None,
    };
    if let (Some(bias), Filesystem::Fat) = (bias, vol.kind()) {
        to_utc(&mut install.files, bias);
        markers_to_utc(&mut install.markers, bias);
    }
    for (v, l, mut entries) in elsewhere {
        let Some(other) = disk.volumes.get(v).copied().flatten() else {
            continue;
        };
        entries.sort_by_key(|e| e.id);
        entries.dedup_by_key(|e| e.id);
        let mut lost = Vec::new();
        let mut files = read_pe_files(other, &entries, &mut lost);
        if let (Some(bias), Filesystem::Fat) = (bias, other.kind()) {
            to_utc(&mut files, bias);
        }
        unreadable.extend(lost.into_iter().map(|u| Unreadable {
            path: on_drive(l, &u.path),
            ..u
        }));
        install.files.extend(files.into_iter().map(|f| PeFile {
            path: on_drive(l, &f.path),
            ..f
        }));
    }
    install.files.sort_by(|a, b| a.path.cmp(&b.path));
    install.files_count = install.files.len();
    install.pending_sources = pending_sources(disk, vol, volume, &install, scope, bias, unreadable);
    install.local_times = zone;
    if let Some(ss) = &scope.store {
        install.component_store =
            super::store::check(vol, &install, ss, &install.setup_execute, unreadable);
    }
    if let Some(ls) = &scope.loader {
        let inputs = loader_inputs(system.as_ref(), &install, ls, unreadable);
        install.loader = Some(super::loader::check(vol, &install, ls, &inputs));
    }
    install
}

/// The most pending rename sources read for one install: Windows' own
/// hotfix installers queue a few dozen.
const MAX_PENDING_SOURCES: usize = 256;

/// Reads the source of every pending rename onto a file `scope` names: what
/// the next boot puts in its place. A source that is not there is
/// `Missing`; one whose volume or folder cannot be read is `Unreadable`.
fn pending_sources(
    disk: &DiskVolumes,
    vol: &dyn Volume,
    volume: usize,
    install: &Install,
    scope: &Scope,
    bias: Option<i32>,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<PendingSource> {
    let wanted = |raw: &str| {
        let name = raw.rsplit('\\').next().unwrap_or("").to_ascii_lowercase();
        scope.pending_names.contains(&name)
    };
    let mut out: Vec<PendingSource> = Vec::new();
    for op in &install.pending_operations {
        if !op.destination.as_deref().is_some_and(wanted) {
            continue;
        }
        if out.iter().any(|s| s.source == op.source) {
            continue;
        }
        if out.len() >= MAX_PENDING_SOURCES {
            // A hostile value may queue any number of renames: the rest are
            // said, never read (and the verdict is then not-checked).
            let why = format!("more than {MAX_PENDING_SOURCES} pending sources; not read");
            unreadable.push(Unreadable::new(&op.source, &why));
            out.push(PendingSource {
                source: op.source.clone(),
                path: op.source.clone(),
                state: SourceState::Unreadable(why),
            });
            break;
        }
        let Some((letter, path)) = drive_and_path(&op.source, &install.system_root) else {
            continue;
        };
        let (on, shown) = match disk::place(letter, volume, &install.drives) {
            Place::Own => (Some(vol), path.clone()),
            Place::Other(v, l) => (disk.volumes.get(v).copied().flatten(), on_drive(l, &path)),
            Place::Elsewhere(l, why) => {
                out.push(PendingSource {
                    source: op.source.clone(),
                    path: on_drive(l, &path),
                    state: SourceState::Unreadable(why),
                });
                continue;
            }
        };
        let state = match on {
            None => SourceState::Unreadable("its volume could not be opened".into()),
            Some(on) => match on.lookup(&path) {
                Ok(e) if !e.is_dir => {
                    let mut lost = Vec::new();
                    let mut files = read_pe_files(on, std::slice::from_ref(&e), &mut lost);
                    if let (Some(bias), Filesystem::Fat) = (bias, on.kind()) {
                        to_utc(&mut files, bias);
                    }
                    match (files.pop(), lost.pop()) {
                        (_, Some(u)) => SourceState::Unreadable(u.reason),
                        (Some(f), None) => SourceState::Read(Box::new(PeFile {
                            path: shown.clone(),
                            ..f
                        })),
                        (None, None) => SourceState::Unreadable("not read".into()),
                    }
                }
                Ok(_) => SourceState::Unreadable("a folder, not a file".into()),
                Err(FsError::NotFound { .. }) => SourceState::Missing,
                Err(e) => SourceState::Unreadable(e.reason()),
            },
        };
        if let SourceState::Unreadable(why) = &state {
            unreadable.push(Unreadable::new(&shown, why));
        }
        out.push(PendingSource {
            source: op.source.clone(),
            path: shown,
            state,
        });
    }
    out
}

/// The SYSTEM values the loader check needs: KnownDLLs (with their
/// `DllDirectory`), `PATH` from the session manager's environment, and the
/// legacy `Filter DLLs` value.
fn loader_inputs(
    system: Option<&Hive>,
    install: &Install,
    scope: &LoaderScope,
    unreadable: &mut Vec<Unreadable>,
) -> LoaderInputs {
    let mut inputs = LoaderInputs::default();
    let (Some(sys), Some(cs)) = (system, install.control_set.as_ref()) else {
        return inputs;
    };
    let hive = sys.name().to_string();
    let sm = format!(r"{}\Control\Session Manager", cs.name);
    if let Some(k) = registry_key(sys, &hive, &format!(r"{sm}\KnownDLLs"), unreadable) {
        for v in &k.values {
            let Some(data) = v.data.as_str() else {
                continue;
            };
            if v.name.eq_ignore_ascii_case("DllDirectory") {
                inputs.dll_directory = Some(data.to_string());
            } else if v.name.eq_ignore_ascii_case("DllDirectory32") {
                inputs.dll_directory32 = Some(data.to_string());
            } else {
                inputs.known_dlls.push(data.to_string());
            }
        }
    }
    if let Some(k) = registry_key(sys, &hive, &format!(r"{sm}\Environment"), unreadable) {
        inputs.path = k
            .values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case("Path"))
            .and_then(|v| v.data.as_str().map(String::from));
    }
    if let Some(svc) = &scope.filter_service {
        let p = format!(r"{}\Services\{svc}\Parameters", cs.name);
        if let Some(k) = registry_key(sys, &hive, &p, unreadable) {
            inputs.filter_dlls = string(&k, "Filter DLLs");
        }
    }
    inputs
}

/// No time zone is further than 14 hours from UTC (Line Islands, UTC+14).
const MAX_BIAS_MINUTES: u32 = 14 * 60;

/// The install's time zone from SYSTEM's
/// `<control set>\Control\TimeZoneInformation`, for a volume that stores
/// local time. The standard `Bias` is used, not `ActiveTimeBias`: that one
/// is the bias when the hive was last written, not when each file was.
pub(super) fn time_zone(system: Option<&Hive>, cs: Option<&ControlSet>) -> LocalTimes {
    let unknown = |reason: String| LocalTimes::Unknown { reason };
    let Some(sys) = system else {
        return unknown("the SYSTEM hive could not be read".into());
    };
    let Some(cs) = cs else {
        return unknown("no control set could be resolved in SYSTEM".into());
    };
    let path = format!(r"{}\Control\TimeZoneInformation", cs.name);
    let key = format!(r"SYSTEM\{path}");
    let k = match sys.key(&path) {
        Ok(Some(k)) => k,
        Ok(None) => return unknown(format!("{key} is absent")),
        Err(e) => return unknown(format!("{key}: {e}")),
    };
    // REG_DWORD minutes, stored as a two's-complement signed number.
    let minutes = |name: &str| {
        k.data(name)
            .and_then(ValueData::as_u32_lenient)
            .map(|v| v as i32)
    };
    match minutes("Bias") {
        Some(bias) if bias.unsigned_abs() <= MAX_BIAS_MINUTES => LocalTimes::Converted {
            bias,
            daylight_bias: minutes("DaylightBias").filter(|d| d.unsigned_abs() <= MAX_BIAS_MINUTES),
            key,
        },
        Some(bias) => unknown(format!(r"{key}\Bias is {bias} minutes, no time zone")),
        None => unknown(format!("{key} has no Bias")),
    }
}

/// A local time made UTC (UTC = local + `bias` minutes).
fn shift(t: &mut Option<FileTime>, bias: i32) {
    *t = t.and_then(|t| t.plus_minutes(bias));
}

/// Moves the times of files read from a FAT volume to UTC.
fn to_utc(files: &mut [PeFile], bias: i32) {
    for f in files {
        shift(&mut f.created, bias);
        shift(&mut f.modified, bias);
    }
}

/// Moves the times of markers read from the install's FAT volume to UTC.
fn markers_to_utc(markers: &mut [Marker], bias: i32) {
    for m in markers {
        shift(&mut m.created, bias);
        shift(&mut m.modified, bias);
    }
}

/// Opens the primary file of hive `name` at `path`, replaying a log beside it
/// when it is dirty: `(path as stored, hive, state)` or why it cannot be used.
fn open_primary(
    vol: &dyn Volume,
    config: &Entry,
    name: &str,
    path: &str,
) -> Result<(String, Hive, HiveState), String> {
    let entry = vol.lookup(path).map_err(|e| e.to_string())?;
    let bytes = vol.read(&entry).map_err(|e| e.to_string())?.into_owned();
    // Logs are only looked for when the primary file is dirty.
    let (logs, notes) = if registry::needs_replay(&bytes) {
        read_logs(vol, config, name)
    } else {
        (Vec::new(), Vec::new())
    };
    registry::open_with_logs(&entry.path, bytes, &logs)
        .map(|(h, state)| (entry.path.clone(), h, with_notes(state, &notes)))
        .map_err(|e| e.to_string())
}

/// Magic numbers of MS-DOS `COMPRESS` output (SZDD, its QBasic variant, and
/// KWAJ): NT 4.0's rdisk writes `repair\system._` so. Such a file is no hive,
/// and expanding it is not this tool's business: it is skipped, with why.
const COMPRESSED: &[(&[u8], &str)] = &[
    (b"SZDD\x88\xF0\x27\x33", "SZDD"),
    (b"SZ \x88\xF0\x27\x33\xD1", "SZ"),
    (b"KWAJ\x88\xF0\x27\xD1", "KWAJ"),
];

/// The copies of hive `name` tried, in order, when its primary file cannot be
/// used: `SYSTEM.ALT`, the mirror NT 4.0 and 2000 write after SYSTEM (there
/// is no SOFTWARE.ALT), then the copy setup or rdisk saved under `repair\`
/// (plain, or compressed as `name._`, which is skipped with its reason).
fn alternate_paths(root: &Entry, config: &Entry, name: &str) -> Vec<String> {
    let mut paths = Vec::new();
    if name.eq_ignore_ascii_case("SYSTEM") {
        paths.push(format!(r"{}\{name}.ALT", config.path));
    }
    paths.push(format!(r"{}\repair\{name}", root.path));
    paths.push(format!(r"{}\repair\{name}._", root.path));
    paths
}

/// The first alternate copy of hive `name` that opens, and why each one
/// present before it could not be used. A copy is read as stored: it has no
/// transaction log of its own.
fn open_alternate(
    vol: &dyn Volume,
    root: &Entry,
    config: &Entry,
    name: &str,
) -> (Option<(String, Hive, HiveState)>, Vec<String>) {
    let mut skipped = Vec::new();
    for path in alternate_paths(root, config, name) {
        let entry = match vol.lookup(&path) {
            Ok(e) if !e.is_dir => e,
            Ok(_) | Err(FsError::NotFound { .. }) => continue,
            Err(e) => {
                skipped.push(format!("{path}: {}", e.reason()));
                continue;
            }
        };
        let bytes = match vol.read(&entry) {
            Ok(b) => b.into_owned(),
            Err(e) => {
                skipped.push(format!("{}: {}", entry.path, e.reason()));
                continue;
            }
        };
        if let Some((_, kind)) = COMPRESSED.iter().find(|(m, _)| bytes.starts_with(m)) {
            skipped.push(format!(
                "{}: compressed with MS-DOS COMPRESS ({kind}), not a plain hive (not expanded)",
                entry.path
            ));
            continue;
        }
        match registry::open_with_logs(&entry.path, bytes, &[]) {
            Ok((hive, state)) => return (Some((entry.path.clone(), hive, state)), skipped),
            Err(e) => skipped.push(format!("{}: {e}", entry.path)),
        }
    }
    (None, skipped)
}

/// Extensions of the transaction logs tried beside a dirty hive, in order:
/// `.LOG` (NT 4.0 to XP, and Vista to 8 beside the others), then `.LOG1` and
/// `.LOG2` (old format on Vista and 7, new format from 8.1: those are
/// replayed together, see `registry::open_with_logs`).
const LOG_EXTENSIONS: &[&str] = &["LOG", "LOG1", "LOG2"];

/// The transaction logs beside hive `name` in `config` that could be read,
/// as `(path, bytes)`, and why the others present could not.
fn read_logs(
    vol: &dyn Volume,
    config: &Entry,
    name: &str,
) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
    let mut logs = Vec::new();
    let mut notes = Vec::new();
    for ext in LOG_EXTENSIONS {
        let path = format!(r"{}\{name}.{ext}", config.path);
        let entry = match vol.lookup(&path) {
            Ok(e) if !e.is_dir => e,
            Ok(_) | Err(FsError::NotFound { .. }) => continue,
            Err(e) => {
                notes.push(format!("{path}: {}", e.reason()));
                continue;
            }
        };
        if entry.size > registry::MAX_LOG_SIZE as u64 {
            notes.push(format!(
                "{}: {} bytes, more than the {} a log may have here",
                entry.path,
                entry.size,
                registry::MAX_LOG_SIZE
            ));
            continue;
        }
        match vol.read(&entry) {
            Ok(d) => logs.push((entry.path.clone(), d.into_owned())),
            Err(e) => notes.push(format!("{}: {}", entry.path, e.reason())),
        }
    }
    (logs, notes)
}

/// Adds why some logs could not even be read to a dirty hive's reason, or to
/// a replayed hive's log (a log that could not be read may have held newer
/// entries than those replayed).
fn with_notes(state: HiveState, notes: &[String]) -> HiveState {
    match state {
        HiveState::Dirty { reason } if !notes.is_empty() => HiveState::Dirty {
            reason: format!("{reason}; unreadable: {}", notes.join("; ")),
        },
        HiveState::Replayed { log } if !notes.is_empty() => HiveState::Replayed {
            log: format!("{log}; unreadable: {}", notes.join("; ")),
        },
        other => other,
    }
}

/// Reads the version resource of each file, in parallel, sorted by path.
pub fn read_pe_files(
    vol: &dyn Volume,
    entries: &[Entry],
    unreadable: &mut Vec<Unreadable>,
) -> Vec<PeFile> {
    let mut files: Vec<(PeFile, Option<Unreadable>)> = entries
        .par_iter()
        .map(|e| {
            let mut machine = None;
            let (is_pe, version, error, lost) = match vol.read(e) {
                Ok(bytes) => {
                    machine = pe::read_headers(&bytes).ok().map(|h| h.machine);
                    match pe::read_version(&bytes) {
                        Ok(v) => (true, Some(v), None, None),
                        Err(err) => (bytes.starts_with(b"MZ"), None, Some(err.to_string()), None),
                    }
                }
                Err(err) => (
                    true,
                    None,
                    Some(err.reason()),
                    Some(Unreadable::new(&e.path, err.reason())),
                ),
            };
            let file = PeFile {
                path: e.path.clone(),
                id: e.id,
                machine,
                size: e.size,
                created: e.created,
                modified: e.modified,
                compressed: e.compressed,
                is_pe,
                version,
                error,
            };
            (file, lost)
        })
        .collect();
    files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    unreadable.extend(files.iter_mut().filter_map(|f| f.1.take()));
    files.into_iter().map(|f| f.0).collect()
}

fn is_pe_name(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| PE_EXTENSIONS.iter().any(|p| p.eq_ignore_ascii_case(ext)))
}

/// Finds a registry-named file: a full path as given, a bare name in the
/// search folders in order. `Err` when it was not found and some place could
/// not be read, so absence is not claimed on an unreadable volume.
fn resolve(vol: &dyn Volume, path: &str, search: &[String]) -> Result<Option<Entry>, String> {
    let candidates: Vec<String> = if path.contains('\\') {
        vec![path.to_string()]
    } else {
        search.iter().map(|dir| format!(r"{dir}\{path}")).collect()
    };
    let mut failure = None;
    for candidate in candidates {
        match vol.lookup(&candidate) {
            Ok(e) if !e.is_dir => return Ok(Some(e)),
            Ok(_) | Err(FsError::NotFound { .. }) => {}
            Err(e) => failure = Some(format!("{candidate}: {}", e.reason())),
        }
    }
    failure.map_or(Ok(None), Err)
}

/// IIS 7 and later: `applicationHost.config`, and where `redirection.config`
/// says the configuration in force really is. Absent files are no finding
/// (IIS 6 and earlier have none); files that cannot be read or parsed are
/// said, by path.
fn read_iis_config(
    vol: &dyn Volume,
    root: &Entry,
    unreadable: &mut Vec<Unreadable>,
) -> Option<IisConfigFile> {
    let folder = format!(r"{}\System32\inetsrv\config", root.path);
    let redirected_to = read_config_file(vol, &format!(r"{folder}\redirection.config"), unreadable)
        .and_then(|(path, bytes)| match iis_config::redirection(&bytes) {
            Ok(to) => to,
            Err(why) => {
                unreadable.push(Unreadable::new(&path, &why));
                None
            }
        });
    let (path, bytes) = read_config_file(
        vol,
        &format!(r"{folder}\applicationHost.config"),
        unreadable,
    )?;
    match iis_config::parse(&bytes) {
        Ok(config) => Some(IisConfigFile {
            path,
            redirected_to,
            config,
            schema: super::iis_sites::read_schema(vol, &root.path, unreadable),
            web_configs: Vec::new(),
        }),
        Err(why) => {
            unreadable.push(Unreadable::new(&path, &why));
            None
        }
    }
}

/// 64 or 32: what `PROCESSOR_ARCHITECTURE` says, else whether the system
/// root holds `SysWOW64` (only 64-bit Windows has one).
fn os_bits(vol: &dyn Volume, os: &OsInfo, sysroot: &str) -> Option<u32> {
    match os
        .architecture
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("AMD64" | "IA64" | "ARM64") => return Some(64),
        Some("X86") => return Some(32),
        _ => {}
    }
    match vol.lookup(&format!(r"{sysroot}\SysWOW64")) {
        Ok(e) if e.is_dir => Some(64),
        Ok(_) | Err(FsError::NotFound { .. }) => os.architecture.as_ref().map(|_| 32),
        Err(_) => None,
    }
}

/// Every global module and ISAPI filter image of `applicationHost.config`,
/// once per bitness some application pool runs at, expanded as that worker
/// expands it. A path that cannot be expanded offline is said, never
/// guessed.
fn iis_images(
    install: &Install,
    volume: usize,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<ModuleImage> {
    let Some(file) = &install.iis_config else {
        return Vec::new();
    };
    let config = &file.config;
    let os64 = install.os.bits == Some(64);
    let mut bits: Vec<u32> = config
        .app_pools
        .iter()
        .map(|p| if os64 && !p.enable_32bit { 64 } else { 32 })
        .collect();
    bits.sort_unstable();
    bits.dedup();
    let letter = install
        .drives
        .iter()
        .find(|d| d.volume == Some(volume))
        .map(|d| d.letter);
    let root = match letter {
        Some(l) => format!("{l}:{}", install.system_root),
        None => install.system_root.clone(),
    };
    let drive = letter.map(|l| format!("{l}:")).unwrap_or_default();
    let pf = install
        .os
        .program_files
        .clone()
        .unwrap_or_else(|| format!(r"{drive}\Program Files"));
    let pf86 = install
        .os
        .program_files_x86
        .clone()
        .unwrap_or_else(|| format!(r"{drive}\Program Files (x86)"));
    let entries = config
        .global_modules
        .iter()
        .map(|m| ("module", &m.name, &m.image, &m.pre_condition))
        .chain(
            config
                .isapi_filters
                .iter()
                .filter(|f| f.enabled)
                .map(|f| ("filter", &f.name, &f.path, &f.pre_condition)),
        );
    let mut out = Vec::new();
    for (kind, name, image, pre) in entries {
        for &b in bits.iter().filter(|&&b| iis_config::admits_bitness(pre, b)) {
            let binary = match iis_config::expand_image(image, b, os64, &root, (&pf, &pf86)) {
                Ok(path) => {
                    drive_and_path(&path, &install.system_root).map(|(drive, path)| Binary {
                        source: format!("{kind} {name}"),
                        path,
                        drive,
                        found: None,
                        unreadable: None,
                    })
                }
                Err(why) => {
                    unreadable.push(Unreadable::new(&file.path, format!("{kind} {name}: {why}")));
                    None
                }
            };
            out.push(ModuleImage {
                kind,
                name: name.clone(),
                image: image.clone(),
                pre_condition: pre.clone(),
                bits: b,
                binary,
                register_module: None,
            });
        }
    }
    out
}

/// Whether each native module found on the install's volume exports
/// `RegisterModule`, the entry point IIS 7 and later call (a module without
/// it fails with event 2295). Each file is read once, capped like a module
/// of the loader check.
fn register_exports(vol: &dyn Volume, images: &mut [ModuleImage]) {
    let mut seen: Vec<(String, Result<bool, String>)> = Vec::new();
    for m in images.iter_mut().filter(|m| m.kind == "module") {
        let Some(found) = m.binary.as_ref().and_then(|b| b.found.clone()) else {
            continue;
        };
        // A path shown with a drive letter is on another volume: not read.
        if !found.starts_with('\\') {
            continue;
        }
        if let Some((_, r)) = seen.iter().find(|(p, _)| *p == found) {
            m.register_module = Some(r.clone());
            continue;
        }
        let r = (|| {
            let e = vol.lookup(&found).map_err(|e| e.reason().to_string())?;
            if e.size > super::loader::MAX_MODULE_BYTES {
                return Err(format!("{} bytes, more than a module is read to", e.size));
            }
            let bytes = vol.read(&e).map_err(|e| e.reason().to_string())?;
            let tables = crate::panic::contain(|| pe::read_imports(&bytes))
                .map_err(|p| p.to_string())?
                .map_err(|e| e.to_string())?;
            Ok(tables
                .exports
                .is_some_and(|x| x.by_name.contains_key("RegisterModule")))
        })();
        seen.push((found, r.clone()));
        m.register_module = Some(r);
    }
}

/// A configuration file's bytes (path as stored), capped; `None` when absent
/// or unreadable (said).
fn read_config_file(
    vol: &dyn Volume,
    path: &str,
    unreadable: &mut Vec<Unreadable>,
) -> Option<(String, Vec<u8>)> {
    let entry = match vol.lookup(path) {
        Ok(e) => e,
        Err(FsError::NotFound { .. }) => return None,
        Err(e) => {
            unreadable.push(Unreadable::new(path, e.reason()));
            return None;
        }
    };
    if entry.size > iis_config::MAX_CONFIG_BYTES as u64 {
        let why = format!(
            "{} bytes, more than the {} a configuration file is read to",
            entry.size,
            iis_config::MAX_CONFIG_BYTES
        );
        unreadable.push(Unreadable::new(&entry.path, &why));
        return None;
    }
    match vol.read(&entry) {
        Ok(data) => Some((entry.path.clone(), data.into_owned())),
        Err(e) => {
            unreadable.push(Unreadable::new(&entry.path, e.reason()));
            None
        }
    }
}

/// The `$Nt…Uninstall…$` folders of the system root. A root that cannot be
/// listed is said: without it the timeline has no service-pack marker.
fn markers(vol: &dyn Volume, root: &Entry, unreadable: &mut Vec<Unreadable>) -> Vec<Marker> {
    let list = match vol.list(root) {
        Ok(list) => list,
        Err(e) => {
            if !unreadable.iter().any(|u| u.path == root.path) {
                unreadable.push(Unreadable::new(&root.path, e.reason()));
            }
            return Vec::new();
        }
    };
    list.into_iter()
        .filter(|e| {
            let n = e.name().to_ascii_lowercase();
            e.is_dir && n.starts_with("$nt") && n.contains("uninstall") && n.ends_with('$')
        })
        .map(|e| {
            // The files the update replaced, as they were before it.
            let (files, files_not_listed) = match vol.list(&e) {
                Ok(inside) => {
                    let mut names: Vec<String> = inside
                        .iter()
                        .filter(|f| !f.is_dir)
                        .map(|f| f.name().to_string())
                        .collect();
                    names.sort_by_key(|n| n.to_ascii_lowercase());
                    if names.len() > super::MAX_MARKER_FILES {
                        unreadable.push(Unreadable::new(
                            &e.path,
                            format!(
                                "{} files, more than the {} kept",
                                names.len(),
                                super::MAX_MARKER_FILES
                            ),
                        ));
                        names.truncate(super::MAX_MARKER_FILES);
                    }
                    (names, false)
                }
                Err(why) => {
                    unreadable.push(Unreadable::new(&e.path, why.reason()));
                    (Vec::new(), true)
                }
            };
            Marker {
                path: e.path,
                created: e.created,
                modified: e.modified,
                files,
                files_not_listed,
            }
        })
        .collect()
}

/// Where each recorded update file is: its `Location` and name as a path on
/// the volume its letter names (`%windir%` is the system root).
fn resolve_update_files(install: &mut Install) {
    let mut updates = std::mem::take(&mut install.updates);
    for f in updates.iter_mut().flat_map(|u| u.files.iter_mut()) {
        let (Some(loc), Some(name)) = (&f.location, &f.name) else {
            continue;
        };
        let loc = loc.trim().trim_end_matches('\\');
        if loc.is_empty() || name.contains('\\') {
            continue;
        }
        f.path = install.display_path(&format!(r"{loc}\{name}"));
    }
    install.updates = updates;
}

fn read_software(
    sw: &Hive,
    install: &mut Install,
    scope: &Scope,
    unreadable: &mut Vec<Unreadable>,
) {
    let hive = sw.name().to_string();
    let mut key = |path: &str| registry_key(sw, &hive, path, unreadable);
    if let Some(cv) = key(CURRENT_VERSION) {
        let current_version = string(&cv, "CurrentVersion");
        // Windows 10 and later freeze CurrentVersion at "6.3"; the DWORDs
        // beside it hold the real version.
        let version = match (
            dword(&cv, "CurrentMajorVersionNumber"),
            dword(&cv, "CurrentMinorVersionNumber"),
        ) {
            (Some(major), Some(minor)) => Some(format!("{major}.{minor}")),
            _ => current_version.clone(),
        };
        install.os = OsInfo {
            name: version
                .as_deref()
                .and_then(|v| scope.os_names.get(v))
                .cloned(),
            product_name: string(&cv, "ProductName"),
            version,
            current_version,
            build: string(&cv, "CurrentBuildNumber").or_else(|| string(&cv, "CurrentBuild")),
            ubr: dword(&cv, "UBR"),
            display_version: string(&cv, "DisplayVersion").or_else(|| string(&cv, "ReleaseId")),
            edition: string(&cv, "EditionID"),
            installation_type: string(&cv, "InstallationType"),
            service_pack: string(&cv, "CSDVersion"),
            ..OsInfo::default()
        };
    }
    if let Some(k) = key(WINDOWS_CURRENT_VERSION) {
        install.os.program_files = string(&k, "ProgramFilesDir");
        install.os.program_files_x86 = string(&k, "ProgramFilesDir (x86)");
    }
    if let Some(hf) = key(HOTFIX) {
        for id in &hf.subkeys {
            let k = key(&format!(r"{HOTFIX}\{id}"));
            install.hotfixes.push(HotfixRecord {
                id: id.clone(),
                installed: k.as_ref().and_then(|k| dword(k, "Installed")),
                description: k
                    .as_ref()
                    .and_then(|k| string(k, "Fix Description").or_else(|| string(k, "Comments"))),
                last_written: k.and_then(|k| k.last_written),
            });
        }
        install.hotfixes.sort_by(|a, b| a.id.cmp(&b.id));
    }
    if let Some(stp) = scope.setup_key.as_deref().and_then(&mut key) {
        install.iis_setup = stp
            .values
            .iter()
            .map(|v| (v.name.clone(), display(&v.data)))
            .collect();
        install.iis_setup_written = stp.last_written;
    }
    if let Some(addons) = scope.addons.as_ref() {
        if let Some(k) = key(&addons.key) {
            for v in &k.values {
                let value = display(&v.data);
                let dlls = value
                    .split(addons.separator.as_str())
                    .enumerate()
                    .filter_map(|(i, part)| {
                        let (drive, path) = drive_and_path(part, &install.system_root)?;
                        Some(Binary {
                            source: if i == 0 {
                                v.name.clone()
                            } else {
                                format!("{} (supplementary)", v.name)
                            },
                            path,
                            drive,
                            found: None,
                            unreadable: None,
                        })
                    })
                    .collect();
                install.addons.push(AddOn {
                    name: v.name.clone(),
                    last_written: k.last_written,
                    value,
                    dlls,
                });
            }
            install.addons.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
    if let Some(root) = scope.updates_key.as_deref() {
        install.updates = updates::read(sw, root, unreadable);
    }
}

fn read_system(sys: &Hive, install: &mut Install, scope: &Scope, unreadable: &mut Vec<Unreadable>) {
    let hive = sys.name().to_string();
    let cs = match registry::resolve_control_set(sys) {
        Ok(cs) => cs,
        Err(e) => {
            unreadable.push(Unreadable::new(&format!(r"{hive}\Select"), e));
            return;
        }
    };
    let mut bad_values = Vec::new();
    let mut key = |path: &str| registry_key(sys, &hive, path, unreadable);
    for name in &scope.services {
        let base = format!(r"{}\Services\{name}", cs.name);
        let Some(k) = key(&base) else { continue };
        let params = key(&format!(r"{base}\Parameters"));
        let image_path = string(&k, "ImagePath");
        // svchost reads Parameters first, then the service key itself
        // (where Windows 8.1 and later keep it for several services).
        let dll_key = [params.as_ref(), Some(&k)]
            .into_iter()
            .flatten()
            .find(|k| k.data("ServiceDll").is_some());
        let service_dll = dll_key.and_then(|k| string(k, "ServiceDll"));
        if let (Some(k), None) = (dll_key, &service_dll) {
            // svchost cannot load what is not a path: never silence it.
            let kind = k.data("ServiceDll").map(ValueData::type_name);
            bad_values.push(Unreadable::new(
                &format!(r"{hive}\{}\ServiceDll", k.path),
                format!("not a string ({})", kind.unwrap_or_default()),
            ));
        }
        let service_dll_key = dll_key.map(|k| k.path.clone());
        let service_dll_last_written = dll_key.and_then(|k| k.last_written);
        let binaries = [("ImagePath", &image_path), ("ServiceDll", &service_dll)]
            .into_iter()
            .filter_map(|(source, raw)| {
                let (drive, path) = drive_and_path(raw.as_deref()?, &install.system_root)?;
                Some(Binary {
                    source: source.into(),
                    path,
                    drive,
                    found: None,
                    unreadable: None,
                })
            })
            .collect();
        install.services.push(Service {
            name: k.path.rsplit('\\').next().unwrap_or(name).to_string(),
            image_path,
            service_dll,
            service_dll_key,
            service_dll_last_written,
            start: dword(&k, "Start"),
            service_type: dword(&k, "Type"),
            depend_on_service: multi(&k, "DependOnService"),
            install_path: params.as_ref().and_then(|p| string(p, "InstallPath")),
            last_written: k.last_written,
            binaries,
        });
    }
    if let Some(sm) = key(&format!(r"{}\Control\Session Manager", cs.name)) {
        let mut strings = multi(&sm, "PendingFileRenameOperations");
        install.pending_operations = PendingOperation::pairs(&strings);
        // The empty destination of a final delete, which the decoder drops.
        if strings.len() % 2 == 1 {
            strings.push(String::new());
        }
        install.pending_renames = strings;
        install.setup_execute = multi(&sm, "SetupExecute");
    }
    if let Some(env) = key(&format!(r"{}\Control\Session Manager\Environment", cs.name)) {
        install.os.architecture = string(&env, "PROCESSOR_ARCHITECTURE");
    }
    unreadable.extend(bad_values);
    install.control_set = Some(cs);
}

/// Reads a key; what the hive could not give (the key, or parts of it) is
/// reported as unreadable under the registry path.
fn registry_key(
    hive: &Hive,
    name: &str,
    path: &str,
    unreadable: &mut Vec<Unreadable>,
) -> Option<Key> {
    match hive.key(path) {
        Ok(Some(k)) => {
            for w in &k.warnings {
                unreadable.push(Unreadable::new(&format!(r"{name}\{path}"), w));
            }
            Some(k)
        }
        Ok(None) => None,
        Err(e) => {
            unreadable.push(Unreadable::new(&format!(r"{name}\{path}"), e));
            None
        }
    }
}

fn string(key: &Key, name: &str) -> Option<String> {
    let data = key.data(name)?;
    data.as_str()
        .or_else(|| data.as_multi()?.first().map(String::as_str))
        .map(String::from)
}

fn dword(key: &Key, name: &str) -> Option<u32> {
    let data = key.data(name)?;
    data.as_u32_lenient()
        .or_else(|| data.as_str()?.trim().parse().ok())
}

fn multi(key: &Key, name: &str) -> Vec<String> {
    match key.data(name) {
        Some(d) => d
            .as_multi()
            .map(<[String]>::to_vec)
            .or_else(|| d.as_str().map(|s| vec![s.to_string()]))
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

fn display(data: &ValueData) -> String {
    match data {
        ValueData::String(s) | ValueData::ExpandString(s) => s.clone(),
        ValueData::MultiString(m) => m.join("; "),
        ValueData::Dword(d) => d.to_string(),
        ValueData::Qword(q) => q.to_string(),
        other => format!("{other:?}"),
    }
}
