//! The static loader check: every module an IIS service loads, bound as the
//! Windows loader would bind it, offline.
//!
//! The roots are each service's ImagePath executable and ServiceDll (or the
//! service DLL its host loads, from the scope), the ISM `AddOnServices`
//! DLLs and the global ISAPI filters (IIS 6 `MetaBase.xml` `FilterPath`,
//! the legacy `W3SVC\Parameters\Filter DLLs` value, and inetsrv DLLs that
//! export `GetFilterVersion` and `HttpFilterProc`, reported as candidates).
//! Each import is resolved as the loader searches for a DLL: KnownDLLs
//! (`Control\Session Manager\KnownDLLs`, load-time imports only, from its
//! `DllDirectory`), the application's folder, system32, the 16-bit system
//! folder, the Windows folder, then `PATH` from `Session Manager\Environment`
//! — and each symbol (by name or ordinal) against the exports of the DLL
//! found, forwarders followed. Delay imports are checked the same way and
//! kept apart: they fail at the first call, not at start.
//!
//! IIS 7 and later add a root per global module and ISAPI filter image
//! (`Install::iis_images`) and worker bitness: the worker process (w3wp.exe)
//! is the application, so its `inetsrv` folder is the application's folder.
//! A 32-bit worker on 64-bit Windows sees the disk through WOW64: system32
//! (and every `PATH` folder below it) is read as `SysWOW64`, and KnownDLLs
//! are mapped from `DllDirectory32` (`SysWOW64`): its modules are walked in
//! that view and kept apart from the native ones (`Module::wow64`). An image
//! of the other bitness than its worker is not walked (the load fails before
//! any import is bound; `module-bitness` says so). A dependency found only
//! beside the module, in none of the searched folders, is "not checked": the
//! loader looks there only when the module is loaded with an altered search
//! path, which the configuration does not record.
//!
//! Never a false "missing": a folder that could not be read, a DLL that
//! could not be parsed, a drive this image does not hold make an import
//! "not checked", never missing. An image whose system32 holds neither
//! `ntdll.dll` nor `kernel32.dll` carries only part of the system (a
//! collection of IIS files): a DLL absent from it is not checked either.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::disk::{self, Place};
use super::paths::drive_and_path;
use super::{Install, LoaderScope};
use crate::fs::{Entry, FsError, Volume};
use crate::pe::{self, ExportTarget, ImportTables, Symbol, Version};

/// At most this many modules are read for one install.
pub const MAX_MODULES: usize = 2048;
/// At most this deep below a root.
pub const MAX_DEPTH: usize = 16;
/// At most this many forwarder hops for one symbol.
pub const MAX_FORWARDS: usize = 8;
/// Largest module read (bytes).
pub const MAX_MODULE_BYTES: u64 = 64 << 20;
/// Largest MetaBase.xml read (bytes).
pub const MAX_METABASE_BYTES: u64 = 32 << 20;
/// At most this many IIS 7+ image roots (image and worker bitness): a real
/// server registers a few dozen modules; a hostile configuration may list
/// 100,000.
pub const MAX_WORKER_ROOTS: usize = 1024;

/// What the loader check read and concluded for one install.
#[derive(Debug, Clone, Default)]
pub struct LoaderFacts {
    /// `KnownDLLs` values (DLL names), sorted, lower case.
    pub known_dlls: Vec<String>,
    /// Where the KnownDLLs are mapped from (`DllDirectory`), on the volume.
    pub known_dlls_folder: Option<String>,
    /// The folders searched after the application's, in order: system32,
    /// system, the Windows folder, then each `PATH` entry.
    pub search: Vec<String>,
    /// `PATH` from `Session Manager\Environment`, as stored.
    pub path_value: Option<String>,
    /// system32 holds `ntdll.dll` or `kernel32.dll`: absence there means
    /// something. `None` when system32 could not be read.
    pub core_present: Option<bool>,
    pub roots: Vec<LoadRoot>,
    /// Every module read, sorted by path.
    pub modules: Vec<Module>,
    /// A cap that stopped the walk, if one did.
    pub capped: Option<String>,
    /// The view of a 32-bit worker on 64-bit Windows, when one was walked.
    pub wow64: Option<Wow64View>,
}

/// How a 32-bit process on 64-bit Windows searches (file-system
/// redirection: system32 is `SysWOW64`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wow64View {
    /// Where its KnownDLLs are mapped from (`DllDirectory32`).
    pub known_dlls_folder: Option<String>,
    /// The folders searched after the application's, redirected.
    pub search: Vec<String>,
    /// `SysWOW64` holds `ntdll.dll` or `kernel32.dll`.
    pub core_present: Option<bool>,
}

/// An IIS 7+ image (global module or ISAPI filter) whose worker load
/// reaches a module, and the worker's bitness.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Worker {
    /// `module` or `filter`.
    pub kind: String,
    pub name: String,
    pub bits: u32,
}

/// A binary something loads by name: where the walk starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadRoot {
    /// Who loads it: a service name, `AddOnServices\<name>`, `ISAPI filter`.
    pub loaded_by: String,
    /// Where it is named: `ImagePath`, `ServiceDll`, `host`, an add-on
    /// value, `MetaBase.xml FilterPath`, `Filter DLLs`, `filter candidate`.
    pub source: String,
    pub path: String,
    /// The application's folder used for its dependencies.
    pub app_folder: String,
    /// The process's machine type, when known.
    pub host_machine: Option<u16>,
    /// For an IIS 7+ image: the image and the worker bitness that loads it.
    pub worker: Option<Worker>,
    /// Walked as a 32-bit process on 64-bit Windows sees the disk.
    pub wow64: bool,
}

/// One module (EXE or DLL) read.
#[derive(Debug, Clone, Default)]
pub struct Module {
    pub path: String,
    pub machine: Option<u16>,
    pub version: Option<Version>,
    /// The machine of the process it loads into, when known.
    pub host_machine: Option<u16>,
    /// The roots whose load reaches it (`W3SVC`, `AddOnServices\WWW`);
    /// IIS worker roots are in `workers`.
    pub needed_by: Vec<String>,
    pub imports: Vec<Import>,
    /// Why it could not be read or parsed: its imports are not checked.
    pub error: Option<String>,
    /// The IIS images whose worker load reaches it, sorted.
    pub workers: Vec<Worker>,
    /// Read as a 32-bit process on 64-bit Windows sees it (WOW64 view).
    pub wow64: bool,
}

/// One DLL a module imports, and how it resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub dll: String,
    /// A delay import (bound at the first call).
    pub delay: bool,
    pub symbols: usize,
    pub outcome: Outcome,
    /// Symbols the DLL found does not export (or its forwarders lose).
    pub missing: Vec<MissingSymbol>,
}

/// Where an imported DLL was found, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Found; `known` when KnownDLLs supplied it. `unchecked` says why its
    /// exports could not be read, when they could not.
    Found {
        path: String,
        known: bool,
        unchecked: Option<String>,
    },
    /// No folder searched holds it (every one was read).
    Missing { searched: Vec<String> },
    /// Not decided, and why (a folder unreadable, system32 incomplete, an
    /// API set).
    NotChecked { reason: String },
}

/// A symbol the exporter does not provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingSymbol {
    /// `Name` or `#N`.
    pub symbol: String,
    /// The forwarders followed before it was lost (`peer.Fn → ntdll.Fn`).
    pub via: Vec<String>,
    /// The module that should have exported it (the last hop's).
    pub exporter: String,
}

impl LoaderFacts {
    pub fn module(&self, path: &str) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.path.eq_ignore_ascii_case(path))
    }

    /// The module at `path` as read in the given view (WOW64 or native).
    pub fn module_in(&self, path: &str, wow64: bool) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.wow64 == wow64 && m.path.eq_ignore_ascii_case(path))
            .or_else(|| self.module(path))
    }
}

/// Registry inputs read from SYSTEM (Session Manager).
#[derive(Debug, Clone, Default)]
pub struct LoaderInputs {
    pub known_dlls: Vec<String>,
    pub dll_directory: Option<String>,
    /// `DllDirectory32`: where a 32-bit process on 64-bit Windows maps
    /// the KnownDLLs from.
    pub dll_directory32: Option<String>,
    pub path: Option<String>,
    /// `W3SVC\Parameters\Filter DLLs`, as stored.
    pub filter_dlls: Option<String>,
}

/// The folders one kind of process searches.
#[derive(Clone, Default)]
struct View {
    known_folder: Option<String>,
    /// Folders after the application's: (shown, readable on this volume).
    search: Vec<(String, Option<String>)>,
    core_present: Option<bool>,
}

struct Walker<'a> {
    vol: &'a dyn Volume,
    install: &'a Install,
    known: BTreeSet<String>,
    native: View,
    /// The 32-bit view on 64-bit Windows, when the OS is 64-bit.
    wow: Option<View>,
    /// Walking in the WOW64 view.
    in_wow: bool,
    /// The folder of the IIS image being walked: searched by the loader
    /// only with an altered search path, so a DLL only there is undecided.
    beside: Option<String>,
    wow_used: bool,
    lookups: HashMap<String, Result<Option<Entry>, String>>,
    parsed: HashMap<String, Result<(ImportTables, Option<Version>), String>>,
    modules: BTreeMap<String, Module>,
    capped: Option<String>,
}

/// Runs the check for one install on its own volume.
pub fn check(
    vol: &dyn Volume,
    install: &Install,
    scope: &LoaderScope,
    inputs: &LoaderInputs,
) -> LoaderFacts {
    let root = install.system_root.clone();
    let sys32 = format!(r"{root}\system32");
    let expand = |raw: &str| -> Option<(String, Option<String>)> {
        let expanded = raw.trim();
        if expanded.is_empty() {
            return None;
        }
        let (letter, path) = drive_and_path(expanded, &root)?;
        let path = path.trim_end_matches('\\').to_string();
        if !path.starts_with('\\') {
            return None;
        }
        match disk::place(letter, install.volume, &install.drives) {
            Place::Own => Some((path.clone(), Some(path))),
            Place::Other(_, l) | Place::Elsewhere(l, _) => Some((format!("{l}:{path}"), None)),
        }
    };
    let mut search = vec![
        (sys32.clone(), Some(sys32.clone())),
        (format!(r"{root}\system"), Some(format!(r"{root}\system"))),
        (root.clone(), Some(root.clone())),
    ];
    if let Some(p) = &inputs.path {
        for part in p.split(';') {
            if let Some(e) = expand(part) {
                if !search.iter().any(|s| s.0.eq_ignore_ascii_case(&e.0)) {
                    search.push(e);
                }
            }
        }
    }
    let known_folder = inputs
        .dll_directory
        .as_deref()
        .and_then(expand)
        .and_then(|e| e.1)
        .or_else(|| (!inputs.known_dlls.is_empty()).then(|| sys32.clone()));
    // The WOW64 view: system32 (and folders below it) read as SysWOW64.
    let wow = (install.os.bits == Some(64)).then(|| View {
        known_folder: inputs
            .dll_directory32
            .as_deref()
            .and_then(expand)
            .and_then(|e| e.1)
            .or_else(|| (!inputs.known_dlls.is_empty()).then(|| format!(r"{root}\SysWOW64"))),
        search: {
            let mut out: Vec<(String, Option<String>)> = Vec::new();
            for (shown, readable) in &search {
                let e = (
                    wow64_path(shown, &root),
                    readable.as_deref().map(|r| wow64_path(r, &root)),
                );
                if !out.iter().any(|s| s.0.eq_ignore_ascii_case(&e.0)) {
                    out.push(e);
                }
            }
            out
        },
        core_present: None,
    });
    let mut w = Walker {
        vol,
        install,
        known: inputs
            .known_dlls
            .iter()
            .map(|k| k.trim().to_ascii_lowercase())
            .filter(|k| !k.is_empty())
            .collect(),
        native: View {
            known_folder,
            search,
            core_present: None,
        },
        wow,
        in_wow: false,
        beside: None,
        wow_used: false,
        lookups: HashMap::new(),
        parsed: HashMap::new(),
        modules: BTreeMap::new(),
        capped: None,
    };
    w.native.core_present = w.core_in(&sys32);
    if w.wow.is_some() {
        let c = w.core_in(&format!(r"{root}\SysWOW64"));
        if let Some(v) = w.wow.as_mut() {
            v.core_present = c;
        }
    }
    let roots = roots(&mut w, scope, inputs);
    for r in &roots {
        w.in_wow = r.wow64;
        w.beside = r.worker.as_ref().map(|_| folder_of(&r.path));
        w.wow_used |= r.wow64;
        w.walk(r);
    }
    let wow64 = w.wow.as_ref().filter(|_| w.wow_used).map(|v| Wow64View {
        known_dlls_folder: v.known_folder.clone(),
        search: v.search.iter().map(|s| s.0.clone()).collect(),
        core_present: v.core_present,
    });
    LoaderFacts {
        known_dlls: w.known.iter().cloned().collect(),
        known_dlls_folder: w.native.known_folder.clone(),
        search: w.native.search.iter().map(|s| s.0.clone()).collect(),
        path_value: inputs.path.clone(),
        core_present: w.native.core_present,
        roots,
        modules: w.modules.into_values().collect(),
        capped: w.capped,
        wow64,
    }
}

/// A path as a 32-bit process on 64-bit Windows reaches it: `system32` and
/// the folders below it are `SysWOW64` (file-system redirection), except
/// the few folders Windows leaves unredirected.
pub fn wow64_path(path: &str, system_root: &str) -> String {
    const NOT_REDIRECTED: [&str; 6] = [
        "catroot",
        "catroot2",
        "driverstore",
        r"drivers\etc",
        "logfiles",
        "spool",
    ];
    let sys32 = format!(r"{system_root}\system32");
    let lower = path.to_ascii_lowercase();
    let prefix = sys32.to_ascii_lowercase();
    if !lower.starts_with(&prefix) {
        return path.to_string();
    }
    let rest = &path[sys32.len()..];
    if !(rest.is_empty() || rest.starts_with('\\')) {
        return path.to_string();
    }
    let below = rest.trim_start_matches('\\').to_ascii_lowercase();
    if NOT_REDIRECTED
        .iter()
        .any(|n| below == *n || below.starts_with(&format!(r"{n}\")))
    {
        return path.to_string();
    }
    format!(r"{system_root}\SysWOW64{rest}")
}

/// The machine a worker process of `bits` runs as: x86 for 32, else the
/// OS's native machine from `PROCESSOR_ARCHITECTURE`.
fn worker_machine(install: &Install, bits: u32) -> u16 {
    if bits == 32 {
        return 0x014c;
    }
    match install
        .os
        .architecture
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("ARM64") => 0xaa64,
        Some("IA64") => 0x0200,
        _ => 0x8664,
    }
}

/// The bitness of code for a COFF machine, when it is x86 or a 64-bit one.
fn machine_bits(machine: u16) -> Option<u32> {
    match machine {
        0x014c => Some(32),
        0x8664 | 0xaa64 | 0x0200 | 0xa641 => Some(64),
        _ => None,
    }
}

fn folder_of(path: &str) -> String {
    path.rsplit_once('\\')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

/// The roots: services, add-ons, filters. Only binaries on the install's
/// own volume are walked.
fn roots(w: &mut Walker, scope: &LoaderScope, inputs: &LoaderInputs) -> Vec<LoadRoot> {
    let install = w.install;
    let own = |p: &str| p.starts_with('\\');
    let mut out: Vec<LoadRoot> = Vec::new();
    let mut w3_host: Option<(String, Option<u16>)> = None;
    for s in &install.services {
        let exe = s
            .binaries
            .iter()
            .find(|b| b.source == "ImagePath")
            .and_then(|b| b.found.clone())
            .filter(|p| own(p));
        let host_machine = exe.as_deref().and_then(|p| w.machine_of(p));
        let app = exe.as_deref().map(folder_of);
        if let Some(exe) = &exe {
            out.push(LoadRoot {
                loaded_by: s.name.clone(),
                source: "ImagePath".into(),
                path: exe.clone(),
                app_folder: folder_of(exe),
                host_machine,
                worker: None,
                wow64: false,
            });
        }
        let dll = s
            .binaries
            .iter()
            .find(|b| b.source == "ServiceDll")
            .and_then(|b| b.found.clone())
            .filter(|p| own(p));
        let dll = match dll {
            Some(d) => Some((d, "ServiceDll".to_string())),
            // A host such as inetinfo.exe loads its services' DLLs by name
            // from its own folder.
            None => scope
                .service_dlls
                .iter()
                .find(|(svc, _)| svc.eq_ignore_ascii_case(&s.name))
                .and_then(|(_, name)| {
                    let dir = app.clone()?;
                    let p = format!(r"{dir}\{name}");
                    match w.lookup(&p) {
                        Ok(Some(e)) => Some((e.path, format!("loaded by the host as {name}"))),
                        _ => None,
                    }
                }),
        };
        if let Some((d, source)) = dll {
            out.push(LoadRoot {
                loaded_by: s.name.clone(),
                source,
                app_folder: app.clone().unwrap_or_else(|| folder_of(&d)),
                path: d,
                host_machine,
                worker: None,
                wow64: false,
            });
        }
        if s.name.eq_ignore_ascii_case("W3SVC") {
            if let Some(a) = &app {
                w3_host = Some((a.clone(), host_machine));
            }
        }
    }
    for a in &install.addons {
        for d in &a.dlls {
            let Some(p) = d.found.clone().filter(|p| own(p)) else {
                continue;
            };
            let m = w.machine_of(&p);
            out.push(LoadRoot {
                loaded_by: format!(r"AddOnServices\{}", a.name),
                source: d.source.clone(),
                app_folder: folder_of(&p),
                path: p,
                host_machine: m,
                worker: None,
                wow64: false,
            });
        }
    }
    // ISAPI filters load into the WWW service's process.
    let mut filters: Vec<(String, String)> = Vec::new();
    if let Some(mb) = &scope.metabase {
        let p = format!(r"{}\{mb}", install.system_root);
        if let Ok(Some(e)) = w.lookup(&p) {
            if e.size <= MAX_METABASE_BYTES {
                if let Ok(bytes) = w.vol.read(&e) {
                    for f in metabase_filter_paths(&bytes) {
                        filters.push((f, "MetaBase.xml FilterPath".into()));
                    }
                }
            }
        }
    }
    if let Some(v) = &inputs.filter_dlls {
        for f in v.split([',', ';']) {
            if !f.trim().is_empty() {
                filters.push((f.trim().to_string(), "W3SVC Filter DLLs".into()));
            }
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (raw, source) in filters {
        let Some((letter, path)) = drive_and_path(&raw, &install.system_root) else {
            continue;
        };
        if !matches!(
            disk::place(letter, install.volume, &install.drives),
            Place::Own
        ) {
            continue;
        }
        let path = if path.contains('\\') {
            path
        } else {
            match &w3_host {
                Some((dir, _)) => format!(r"{dir}\{path}"),
                None => continue,
            }
        };
        if let Ok(Some(e)) = w.lookup(&path) {
            if seen.insert(e.path.to_ascii_lowercase()) {
                out.push(filter_root(w, e.path, source, &w3_host));
            }
        }
    }
    for folder in &scope.filter_folders {
        let dir = format!(r"{}\{folder}", install.system_root);
        let files: Vec<String> = install
            .files
            .iter()
            .filter(|f| {
                folder_of(&f.path).eq_ignore_ascii_case(&dir)
                    && f.path.to_ascii_lowercase().ends_with(".dll")
            })
            .map(|f| f.path.clone())
            .collect();
        for p in files {
            if seen.contains(&p.to_ascii_lowercase()) {
                continue;
            }
            let is_filter = matches!(w.parse(&p), Ok((t, _)) if t.exports.as_ref().is_some_and(|e| {
                e.by_name.contains_key("GetFilterVersion") && e.by_name.contains_key("HttpFilterProc")
            }));
            if is_filter {
                seen.insert(p.to_ascii_lowercase());
                out.push(filter_root(w, p, "filter candidate".into(), &w3_host));
            }
        }
    }
    out.extend(worker_roots(w));
    out
}

/// IIS 7+: one root per global module or ISAPI filter image found on the
/// install's volume, per worker bitness. The worker (w3wp.exe) is the
/// application: its `inetsrv` folder is the application's folder. An image
/// of the other bitness than its worker is left to `module-bitness`.
fn worker_roots(w: &mut Walker) -> Vec<LoadRoot> {
    let install = w.install;
    let os64 = install.os.bits == Some(64);
    let mut out: Vec<LoadRoot> = Vec::new();
    let mut seen: BTreeSet<(String, &str, &str, u32)> = BTreeSet::new();
    for image in &install.iis_images {
        let Some(found) = image.binary.as_ref().and_then(|b| b.found.clone()) else {
            continue;
        };
        let key = (
            found.to_ascii_lowercase(),
            image.kind,
            image.name.as_str(),
            image.bits,
        );
        if !found.starts_with('\\') || seen.contains(&key) {
            continue;
        }
        if out.len() >= MAX_WORKER_ROOTS {
            w.capped.get_or_insert_with(|| {
                format!("more than {MAX_WORKER_ROOTS} IIS module and filter images per worker bitness; the rest not walked")
            });
            break;
        }
        seen.insert(key);
        let wow64 = os64 && image.bits == 32;
        let host = worker_machine(install, image.bits);
        if let Some(m) = w.machine_of(&found) {
            if machine_bits(m) != Some(image.bits) {
                continue;
            }
        }
        let system = if wow64 { "SysWOW64" } else { "system32" };
        let what = if image.kind == "filter" {
            "ISAPI filter"
        } else {
            "global module"
        };
        out.push(LoadRoot {
            loaded_by: format!("{what} {} ({}-bit worker)", image.name, image.bits),
            source: "applicationHost.config".into(),
            path: found,
            app_folder: format!(r"{}\{system}\inetsrv", install.system_root),
            host_machine: Some(host),
            worker: Some(Worker {
                kind: image.kind.to_string(),
                name: image.name.clone(),
                bits: image.bits,
            }),
            wow64,
        });
    }
    out
}

fn filter_root(
    w: &mut Walker,
    path: String,
    source: String,
    w3_host: &Option<(String, Option<u16>)>,
) -> LoadRoot {
    let (app, host) = match w3_host {
        Some((dir, m)) => (dir.clone(), *m),
        None => (folder_of(&path), w.machine_of(&path)),
    };
    LoadRoot {
        loaded_by: "ISAPI filter".into(),
        source,
        path,
        app_folder: app,
        host_machine: host,
        worker: None,
        wow64: false,
    }
}

/// `FilterPath="…"` attributes of an IIS 6 `MetaBase.xml` (plain XML; the
/// attribute is all the check needs, so no XML parser runs on it).
pub fn metabase_filter_paths(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(i) = rest.find("FilterPath") {
        rest = &rest[i + "FilterPath".len()..];
        let t = rest.trim_start();
        let Some(t) = t.strip_prefix('=') else {
            continue;
        };
        let t = t.trim_start();
        let Some(q) = t.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        let body = &t[1..];
        if let Some(end) = body.find(q) {
            let v = body[..end].trim();
            if !v.is_empty() && out.len() < 256 {
                out.push(v.replace("&amp;", "&"));
            }
        }
    }
    out
}

impl<'a> Walker<'a> {
    /// The view of the root being walked.
    fn view(&self) -> &View {
        match (&self.wow, self.in_wow) {
            (Some(v), true) => v,
            _ => &self.native,
        }
    }

    /// Whether `dir` holds ntdll.dll or kernel32.dll; `None` when unreadable.
    fn core_in(&mut self, dir: &str) -> Option<bool> {
        let a = self.lookup(&format!(r"{dir}\ntdll.dll"));
        let b = self.lookup(&format!(r"{dir}\kernel32.dll"));
        match (a, b) {
            (Ok(Some(_)), _) | (_, Ok(Some(_))) => Some(true),
            (Ok(None), Ok(None)) => Some(false),
            _ => None,
        }
    }

    fn lookup(&mut self, path: &str) -> Result<Option<Entry>, String> {
        let key = path.to_ascii_lowercase();
        if let Some(r) = self.lookups.get(&key) {
            return r.clone();
        }
        let r = match self.vol.lookup(path) {
            Ok(e) if !e.is_dir => match &e.error {
                Some(why) => Err(format!("{path}: {why}")),
                None => Ok(Some(e)),
            },
            Ok(_) | Err(FsError::NotFound { .. }) => Ok(None),
            Err(e) => Err(format!("{path}: {}", e.reason())),
        };
        self.lookups.insert(key, r.clone());
        r
    }

    fn parse(&mut self, path: &str) -> Result<(ImportTables, Option<Version>), String> {
        let key = path.to_ascii_lowercase();
        if let Some(r) = self.parsed.get(&key) {
            return r.clone();
        }
        let r = (|| {
            let e = self.lookup(path)?.ok_or_else(|| "not found".to_string())?;
            if e.size > MAX_MODULE_BYTES {
                return Err(format!(
                    "{} bytes, more than the {MAX_MODULE_BYTES} a module is read to",
                    e.size
                ));
            }
            let bytes = self.vol.read(&e).map_err(|e| e.reason())?;
            let tables = crate::panic::contain(|| pe::read_imports(&bytes))
                .map_err(|p| p.to_string())?
                .map_err(|e| e.to_string())?;
            let version = pe::read_version(&bytes).ok().and_then(|v| v.file_version);
            Ok((tables, version))
        })();
        self.parsed.insert(key, r.clone());
        r
    }

    fn machine_of(&mut self, path: &str) -> Option<u16> {
        self.parse(path).ok().map(|(t, _)| t.machine)
    }

    /// Where the loader finds `dll` for a module whose application folder
    /// is `app`. KnownDLLs apply to load-time imports and forwarders, and
    /// to a delay load's LoadLibrary of a bare name as well.
    fn find_dll(&mut self, dll: &str, app: &str) -> Outcome {
        let lower = dll.to_ascii_lowercase();
        if lower.starts_with("api-ms-win-") || lower.starts_with("ext-ms-") {
            return Outcome::NotChecked {
                reason: "an API set, resolved by the loader's schema, not by a file".into(),
            };
        }
        if dll.contains(['\\', '/', ':']) {
            return Outcome::NotChecked {
                reason: "a path, not a name".into(),
            };
        }
        if self.known.contains(&lower) {
            if let Some(dir) = self.view().known_folder.clone() {
                let p = format!(r"{dir}\{dll}");
                if let Ok(Some(e)) = self.lookup(&p) {
                    return Outcome::Found {
                        path: e.path,
                        known: true,
                        unchecked: None,
                    };
                }
            }
        }
        let mut searched = vec![app.to_string()];
        searched.extend(self.view().search.iter().map(|s| s.0.clone()));
        let mut folders: Vec<(String, Option<String>)> =
            vec![(app.to_string(), Some(app.to_string()))];
        folders.extend(self.view().search.iter().cloned());
        let mut failures = Vec::new();
        for (shown, readable) in folders {
            let Some(dir) = readable else {
                failures.push(format!("{shown} is on a drive this image does not hold"));
                continue;
            };
            match self.lookup(&format!(r"{dir}\{dll}")) {
                Ok(Some(e)) => {
                    return Outcome::Found {
                        path: e.path,
                        known: false,
                        unchecked: None,
                    }
                }
                Ok(None) => {}
                Err(why) => failures.push(why),
            }
        }
        searched.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        // Beside an IIS module: found there only with an altered search path.
        if let Some(dir) = self.beside.clone() {
            if !searched.iter().any(|s| s.eq_ignore_ascii_case(&dir)) {
                match self.lookup(&format!(r"{dir}\{dll}")) {
                    Ok(Some(e)) => {
                        return Outcome::NotChecked {
                            reason: format!(
                                "in no folder the loader searches, but beside the module as {}: the loader finds it there only when the module is loaded with an altered search path, which the configuration does not record",
                                e.path
                            ),
                        }
                    }
                    Ok(None) => {}
                    Err(why) => failures.push(why),
                }
            }
        }
        if !failures.is_empty() {
            return Outcome::NotChecked {
                reason: format!(
                    "not found, and some folders could not be read: {}",
                    failures.join("; ")
                ),
            };
        }
        let system = if self.in_wow && self.wow.is_some() {
            "SysWOW64"
        } else {
            "system32"
        };
        match self.view().core_present {
            Some(true) => Outcome::Missing { searched },
            Some(false) => Outcome::NotChecked {
                reason: format!("{system} holds neither ntdll.dll nor kernel32.dll: this image carries only part of the system, so a DLL absent from it is not known to be missing"),
            },
            None => Outcome::NotChecked {
                reason: format!("whether {system} holds the core system DLLs could not be read"),
            },
        }
    }

    /// Resolves `sym` in the module at `path`, following forwarders.
    /// `Ok(())` when exported; `Err(missing)` when not; `Ok` too when a hop
    /// could not be checked (never a false "missing").
    fn resolve_symbol(&mut self, path: &str, sym: &Symbol, app: &str) -> Result<(), MissingSymbol> {
        let mut at = path.to_string();
        let mut sym = sym.clone();
        let mut via: Vec<String> = Vec::new();
        let mut seen = BTreeSet::new();
        for _ in 0..=MAX_FORWARDS {
            let Ok((tables, _)) = self.parse(&at) else {
                return Ok(());
            };
            let target = tables.exports.as_ref().and_then(|e| e.find(&sym)).cloned();
            let name = at.rsplit('\\').next().unwrap_or(&at).to_string();
            match target {
                Some(ExportTarget::Code(_)) => return Ok(()),
                None => {
                    return Err(MissingSymbol {
                        symbol: sym.to_string(),
                        via,
                        exporter: at,
                    })
                }
                Some(ExportTarget::Forward(f)) => {
                    via.push(format!("{name}!{sym} → {f}"));
                    if !seen.insert((at.to_ascii_lowercase(), sym.to_string())) {
                        return Err(MissingSymbol {
                            symbol: sym.to_string(),
                            via,
                            exporter: at,
                        });
                    }
                    let Some((dll, next)) = pe::parse_forwarder(&f) else {
                        return Err(MissingSymbol {
                            symbol: sym.to_string(),
                            via,
                            exporter: at,
                        });
                    };
                    match self.find_dll(&dll, app) {
                        Outcome::Found { path, .. } => {
                            at = path;
                            sym = next;
                        }
                        Outcome::Missing { .. } => {
                            return Err(MissingSymbol {
                                symbol: sym.to_string(),
                                via,
                                exporter: dll,
                            })
                        }
                        Outcome::NotChecked { .. } => return Ok(()),
                    }
                }
            }
        }
        Err(MissingSymbol {
            symbol: sym.to_string(),
            via,
            exporter: at,
        })
    }

    fn walk(&mut self, root: &LoadRoot) {
        let mut queue: VecDeque<(String, usize)> = VecDeque::new();
        queue.push_back((root.path.clone(), 0));
        let mut visited = BTreeSet::new();
        let wow64 = self.in_wow && self.wow.is_some();
        while let Some((path, depth)) = queue.pop_front() {
            // One record per file and view: a 32-bit worker binds the same
            // file's imports in SysWOW64.
            let key = if wow64 {
                format!("{}|wow64", path.to_ascii_lowercase())
            } else {
                path.to_ascii_lowercase()
            };
            if !visited.insert(key.clone()) {
                continue;
            }
            if let Some(m) = self.modules.get_mut(&key) {
                match &root.worker {
                    Some(wk) => {
                        if !m.workers.contains(wk) {
                            m.workers.push(wk.clone());
                            m.workers.sort();
                        }
                    }
                    None => {
                        if !m.needed_by.contains(&root.loaded_by) {
                            m.needed_by.push(root.loaded_by.clone());
                            m.needed_by.sort();
                        }
                    }
                }
                for i in &m.imports {
                    if let (false, Outcome::Found { path, .. }) = (i.delay, &i.outcome) {
                        if depth < MAX_DEPTH {
                            queue.push_back((path.clone(), depth + 1));
                        }
                    }
                }
                continue;
            }
            if self.modules.len() >= MAX_MODULES {
                self.capped = Some(format!(
                    "more than {MAX_MODULES} modules; {path} and the rest not read"
                ));
                return;
            }
            let mut module = Module {
                path: path.clone(),
                host_machine: root.host_machine,
                needed_by: if root.worker.is_some() {
                    Vec::new()
                } else {
                    vec![root.loaded_by.clone()]
                },
                workers: root.worker.iter().cloned().collect(),
                wow64,
                ..Module::default()
            };
            match self.parse(&path) {
                Err(e) => module.error = Some(e),
                Ok((tables, version)) => {
                    module.machine = Some(tables.machine);
                    module.version = version;
                    let lists = tables
                        .imports
                        .iter()
                        .map(|d| (d, false))
                        .chain(tables.delay_imports.iter().map(|d| (d, true)));
                    for (d, delay) in lists {
                        let mut outcome = self.find_dll(&d.dll, &root.app_folder);
                        let mut missing = Vec::new();
                        if let Outcome::Found {
                            path: found,
                            unchecked,
                            ..
                        } = &mut outcome
                        {
                            match self.parse(found) {
                                Err(e) => *unchecked = Some(e),
                                Ok(_) => {
                                    let found = found.clone();
                                    for s in &d.symbols {
                                        if let Err(m) =
                                            self.resolve_symbol(&found, s, &root.app_folder)
                                        {
                                            missing.push(m);
                                        }
                                    }
                                    if !delay && depth < MAX_DEPTH {
                                        queue.push_back((found, depth + 1));
                                    }
                                }
                            }
                        }
                        module.imports.push(Import {
                            dll: d.dll.clone(),
                            delay,
                            symbols: d.symbols.len(),
                            outcome,
                            missing,
                        });
                    }
                    if depth >= MAX_DEPTH && !module.imports.is_empty() && self.capped.is_none() {
                        self.capped = Some(format!(
                            "{path} is {MAX_DEPTH} imports deep; its dependencies not followed"
                        ));
                    }
                }
            }
            self.modules.insert(key, module);
        }
    }
}
