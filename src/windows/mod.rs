//! The Windows model: one [`Install`] per system root found on a volume, with
//! the facts the analysis needs (OS level, control set, services, hotfixes,
//! IIS setup, ISM add-ons, and the version resources of the files involved).

pub mod bootini;
pub mod disk;
pub mod drives;
pub mod iis_config;
mod iis_sites;
mod load;
pub(crate) use load::HOTFIX;
pub mod loader;
mod paths;
pub mod store;
pub mod updates;

#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod loader_tests;

use std::collections::BTreeMap;

pub use disk::{BootEntry, DiskVolumes};
pub use drives::DriveLetter;
pub use load::{find_installs, find_installs_on, read_pe_files, system_roots, SystemRoot};
pub use paths::{drive_and_path, volume_path};
pub use updates::{InstallTime, UpdateFile, UpdateRecord};

use crate::fs::FileId;
use crate::pe::VersionInfo;
use crate::registry::ControlSet;
pub use crate::registry::HiveState;
use crate::time::FileTime;
use crate::Unreadable;

/// What to collect from each install. The command builds it from the
/// knowledge files, so the loader reads what the rules need without knowing
/// the rules.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Services read from the control set (`W3SVC`, `MSFTPSVC`, …).
    pub services: Vec<String>,
    /// Folders below the system root whose PE files are all read
    /// (`system32\inetsrv`).
    pub folders: Vec<String>,
    /// The SOFTWARE key whose values are kept as `iis_setup` (`Microsoft\InetStp`).
    pub setup_key: Option<String>,
    /// Add-on DLLs registered under a SOFTWARE key.
    pub addons: Option<AddOnScope>,
    /// OS display names by `CurrentVersion` ("4.0" → "Windows NT 4.0").
    pub os_names: BTreeMap<String, String>,
    /// File names (lower case) whose queued replacements matter: the source
    /// of every `PendingFileRenameOperations` rename onto one of them is read,
    /// so the state after the next boot can be judged.
    pub pending_names: Vec<String>,
    /// The SOFTWARE key below which Windows 2000/XP/2003 record each update
    /// and its file list (`Microsoft\Updates`).
    pub updates_key: Option<String>,
    /// The static loader check, when asked for.
    pub loader: Option<LoaderScope>,
    /// The component store check (Vista and later), when asked for.
    pub store: Option<store::StoreScope>,
    /// Where the ASP.NET Core Module's request handlers are looked for.
    pub ancm: Option<AncmScope>,
}

/// The ASP.NET Core Module (V2) layout the loader follows for an
/// application configured with `<aspNetCore>`.
#[derive(Debug, Clone, Default)]
pub struct AncmScope {
    /// Its `<globalModules>` name (`AspNetCoreModuleV2`): the out-of-process
    /// handler's version folders are beside that module's DLL.
    pub module: String,
    pub inprocess_handler: String,
    pub outofprocess_handler: String,
    /// The dotnet root below a Program Files folder (`dotnet`).
    pub dotnet: String,
    /// The ASP.NET Core shared framework below the dotnet root
    /// (`shared\Microsoft.AspNetCore.App`), one folder per version.
    pub shared_framework: String,
}

/// What the static loader check reads beyond the services and add-ons.
#[derive(Debug, Clone, Default)]
pub struct LoaderScope {
    /// (service, DLL): the service DLL a host process (inetinfo.exe) loads
    /// by name from its own folder when the service names no `ServiceDll`.
    pub service_dlls: Vec<(String, String)>,
    /// IIS 6 `MetaBase.xml` below the system root, for `FilterPath`.
    pub metabase: Option<String>,
    /// The service whose `Parameters\Filter DLLs` value lists global filters.
    pub filter_service: Option<String>,
    /// Folders below the system root whose DLLs exporting
    /// `GetFilterVersion` and `HttpFilterProc` are filter candidates.
    pub filter_folders: Vec<String>,
}

/// Where add-on DLLs are registered and searched for.
#[derive(Debug, Clone)]
pub struct AddOnScope {
    /// SOFTWARE key whose values name the DLLs.
    pub key: String,
    /// Separates a value's main DLL from its supplementary one (`::SUPCFG:`).
    pub separator: String,
    /// Folders below the system root searched for a bare DLL name.
    pub search: Vec<String>,
}

/// A Windows installation.
#[derive(Debug, Clone, Default)]
pub struct Install {
    /// Index of the volume in the report's `volumes`.
    pub volume: usize,
    /// `\WINNT`, `\WINDOWS`, as stored on disk.
    pub system_root: String,
    pub os: OsInfo,
    /// The control set the services were read from.
    pub control_set: Option<ControlSet>,
    pub hives: Vec<HiveInfo>,
    pub services: Vec<Service>,
    pub hotfixes: Vec<HotfixRecord>,
    /// `SOFTWARE\Microsoft\Updates` records (Windows 2000/XP/2003): what
    /// each update says it installed, sorted by product, pack and id.
    pub updates: Vec<UpdateRecord>,
    /// `SOFTWARE\Microsoft\InetStp` values, as stored.
    pub iis_setup: BTreeMap<String, String>,
    /// When that key was last written (IIS setup writes it).
    pub iis_setup_written: Option<FileTime>,
    pub addons: Vec<AddOn>,
    /// `$NtServicePackUninstall$`, `$NtUninstallQ…$` and `$NtUninstallKB…$`
    /// folders: when service packs and updates were applied, and which files
    /// each update replaced.
    pub markers: Vec<Marker>,
    /// `Session Manager\PendingFileRenameOperations`: what the next boot
    /// replaces, as source/destination pairs flattened; a delete's empty
    /// destination is kept, so the list always has an even length.
    pub pending_renames: Vec<String>,
    /// The same value read as operations.
    pub pending_operations: Vec<PendingOperation>,
    /// The source of every pending rename onto a file the scope's
    /// `pending_names` names, as read from disk: what the next boot puts in
    /// place.
    pub pending_sources: Vec<PendingSource>,
    /// Every PE file examined, sorted by path. A file on another volume than
    /// the install's has its drive letter in front (`E:\x\y.dll`).
    pub files: Vec<PeFile>,
    pub files_count: usize,
    /// What could not be read while loading this install (hives, keys,
    /// folders, files): what its findings do not cover.
    pub unreadable: Vec<Unreadable>,
    /// How the file times were made UTC on a volume that stores local time
    /// (FAT); `None` where the filesystem stores UTC (NTFS).
    pub local_times: Option<LocalTimes>,
    /// The drive letters of this install and how each was assigned.
    pub drives: Vec<DriveLetter>,
    /// IIS 7 and later: `System32\inetsrv\config\applicationHost.config`.
    pub iis_config: Option<IisConfigFile>,
    /// The static loader check: search order, KnownDLLs, every module the
    /// services load and how each import resolved.
    pub loader: Option<loader::LoaderFacts>,
    /// IIS 7 and later: every global module and ISAPI filter image, once per
    /// bitness a worker process of this install can run at, as that worker
    /// would find it.
    pub iis_images: Vec<ModuleImage>,
    /// Session Manager `SetupExecute`: programs the next boot runs to
    /// finish servicing (Vista and later).
    pub setup_execute: Vec<String>,
    /// Vista and later: the live IIS files against the component store
    /// (`WinSxS`); `None` where the knowledge does not apply it.
    pub component_store: Option<store::ComponentStore>,
}

/// One image `applicationHost.config` names (a `<globalModules>` entry or a
/// global `<isapiFilters>` filter), as a worker process of `bits` sees it.
#[derive(Debug, Clone)]
pub struct ModuleImage {
    /// `module` or `filter`.
    pub kind: &'static str,
    pub name: String,
    /// The image as configured (`%windir%\System32\inetsrv\static.dll`).
    pub image: String,
    pub pre_condition: Vec<String>,
    /// 32 or 64: the worker bitness this resolution is for.
    pub bits: u32,
    /// The file that worker would load, resolved like a service binary;
    /// `None` when the path could not be expanded offline (said in
    /// `Install::unreadable`).
    pub binary: Option<Binary>,
    /// For a module found on the install's volume: whether its export table
    /// names `RegisterModule` (IIS calls it to register a native module), or
    /// why the table could not be read.
    pub register_module: Option<Result<bool, String>>,
}

/// The file times of a volume that stores local time (FAT, 2-second
/// resolution), as the install's time zone lets them be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalTimes {
    /// Converted to UTC with the zone's standard `Bias` (UTC = local +
    /// `bias` minutes) read from `key`. Windows wrote each time with the
    /// bias in effect when it wrote it, daylight saving included, which the
    /// hive does not record per file: a time written under daylight saving
    /// time may be `daylight_bias` minutes off.
    Converted {
        bias: i32,
        daylight_bias: Option<i32>,
        key: String,
    },
    /// Kept as stored: local time of a zone not known, and why.
    Unknown { reason: String },
}

impl LocalTimes {
    /// One sentence for the evidence and the report.
    pub fn note(&self) -> String {
        match self {
            LocalTimes::Converted {
                bias,
                daylight_bias,
                key,
            } => {
                let mut s = format!(
                    "file times on this FAT volume are local time, converted to UTC with Bias {bias} minutes from {key}"
                );
                if let Some(d) = daylight_bias.filter(|d| *d != 0) {
                    s.push_str(&format!(
                        "; one written during daylight saving time may be {} minutes off",
                        d.unsigned_abs()
                    ));
                }
                s
            }
            LocalTimes::Unknown { reason } => {
                format!("file times on this FAT volume are local time, zone unknown ({reason})")
            }
        }
    }
}

impl Install {
    /// A path from the registry as reports show it: from the volume root on
    /// the install's own volume, with its drive letter in front on any other.
    pub fn display_path(&self, raw: &str) -> Option<String> {
        let (letter, path) = drive_and_path(raw, &self.system_root)?;
        Some(match disk::place(letter, self.volume, &self.drives) {
            disk::Place::Own => path,
            disk::Place::Other(_, l) | disk::Place::Elsewhere(l, _) => paths::on_drive(l, &path),
        })
    }
}

/// `applicationHost.config` as read, and whether `redirection.config` moves
/// the configuration in force elsewhere (shared configuration).
#[derive(Debug, Clone, Default)]
pub struct IisConfigFile {
    /// Where it was read, as stored.
    pub path: String,
    /// `configurationRedirection` enabled: the path the servers really read,
    /// which may be a share this image does not hold.
    pub redirected_to: Option<String>,
    pub config: iis_config::IisConfig,
    /// `inetsrv\config\schema`: the schema files and the sections each
    /// defines.
    pub schema: SchemaFolder,
    /// The `web.config` at the root virtual directory of every application
    /// (at most [`MAX_WEB_CONFIGS`]), in site and path order.
    pub web_configs: Vec<WebConfig>,
}

/// How many applications' `web.config` files are read per install.
pub const MAX_WEB_CONFIGS: usize = 1024;

/// The schema folder as read.
#[derive(Debug, Clone, Default)]
pub struct SchemaFolder {
    /// As stored (`\Windows\System32\inetsrv\config\schema`).
    pub path: String,
    /// Its `*.xml` files, sorted by name (at most
    /// [`iis_config::MAX_SCHEMA_FILES`]).
    pub files: Vec<SchemaFile>,
    /// Why the folder could not be listed, or that it is absent: no section
    /// can then be said to lack a schema.
    pub error: Option<String>,
}

impl SchemaFolder {
    /// Whether every file was read: only then is a section without schema
    /// known to have none.
    pub fn complete(&self) -> bool {
        self.error.is_none() && self.files.iter().all(|f| f.error.is_none())
    }

    /// Whether some file defines `section` (names compare without case, as
    /// IIS's do).
    pub fn defines(&self, section: &str) -> bool {
        self.files
            .iter()
            .flat_map(|f| f.sections.iter())
            .any(|s| s.eq_ignore_ascii_case(section))
    }
}

/// One schema file and the `<sectionSchema name>` it holds.
#[derive(Debug, Clone, Default)]
pub struct SchemaFile {
    pub name: String,
    pub sections: Vec<String>,
    /// Why it could not be read or parsed.
    pub error: Option<String>,
}

/// An application's `web.config` (its root virtual directory's
/// `physicalPath`), as looked for and read.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    pub site: String,
    /// The application's path in the site (`/`, `/api`).
    pub application: String,
    pub pool: String,
    /// 32 or 64: the bitness of the pool's worker; `None` when the OS
    /// bitness is unknown.
    pub bits: Option<u32>,
    /// `physicalPath` as written (`%SystemDrive%\inetpub\wwwroot`).
    pub physical_path: String,
    /// Where the file was looked for, as reports show paths; `None` when
    /// the physical path could not be placed (a share, a variable not known
    /// offline).
    pub path: Option<String>,
    /// `read`, `absent` (the folder holds none, or the application has no root virtual directory), `unreadable` or
    /// `not-checked`.
    pub state: &'static str,
    /// Why it is `unreadable` or `not-checked`.
    pub reason: Option<String>,
    pub config: Option<iis_config::WebConfigFile>,
    /// The ASP.NET Core Module's request handler for an `<aspNetCore>` app.
    pub ancm: Option<AncmHandler>,
}

/// Where the ASP.NET Core Module (ANCM V2) would find the request handler
/// of an application, and whether it is there.
#[derive(Debug, Clone, Default)]
pub struct AncmHandler {
    /// `inprocess` or `outofprocess`.
    pub hosting_model: &'static str,
    /// The handler DLL (`aspnetcorev2_inprocess.dll`).
    pub handler: String,
    /// Every place it was looked for, in the module's order.
    pub searched: Vec<String>,
    /// Where it is, when found.
    pub found: Option<String>,
    /// `found`; `missing` (every place read, none holds it);
    /// `no-framework` (in process: no ASP.NET Core shared framework is
    /// installed and the app is not self-contained); `no-version-folder`
    /// (out of process: no version folder beside aspnetcorev2.dll);
    /// `not-checked`.
    pub state: &'static str,
    /// Why `not-checked`.
    pub reason: Option<String>,
}

/// What the SOFTWARE hive says of the OS.
#[derive(Debug, Clone, Default)]
pub struct OsInfo {
    /// The OS name the knowledge base gives for `version` ("Windows NT 4.0").
    pub name: Option<String>,
    /// `ProductName`, where the OS writes one (Windows 2000 and later).
    pub product_name: Option<String>,
    /// The version the OS is: `CurrentMajorVersionNumber`.`CurrentMinorVersionNumber`
    /// where Windows 10 and later write them, else `CurrentVersion` ("4.0").
    pub version: Option<String>,
    /// `CurrentVersion` as stored; Windows 10 and later keep "6.3" there for
    /// old programs, so it differs from `version` on them.
    pub current_version: Option<String>,
    /// `CurrentBuildNumber` (or `CurrentBuild`), e.g. "1381".
    pub build: Option<String>,
    /// `UBR`, the update build revision (Windows 10 and later; some 8.1).
    pub ubr: Option<u32>,
    /// `DisplayVersion`, else `ReleaseId` ("1809", "21H2").
    pub display_version: Option<String>,
    /// `EditionID` ("ServerStandard").
    pub edition: Option<String>,
    /// `InstallationType` ("Server", "Server Core", "Client").
    pub installation_type: Option<String>,
    /// `CSDVersion`, e.g. "Service Pack 6".
    pub service_pack: Option<String>,
    /// SYSTEM's `Session Manager\Environment\PROCESSOR_ARCHITECTURE`
    /// ("x86", "AMD64").
    pub architecture: Option<String>,
    /// 64 or 32: from `architecture`, else 64 when the system root holds a
    /// `SysWOW64` folder; `None` when neither tells.
    pub bits: Option<u32>,
    /// `ProgramFilesDir` and `ProgramFilesDir (x86)` of
    /// `SOFTWARE\Microsoft\Windows\CurrentVersion`.
    pub program_files: Option<String>,
    pub program_files_x86: Option<String>,
}

impl OsInfo {
    /// The build with its update revision where one is recorded: "17763.1852".
    pub fn full_build(&self) -> Option<String> {
        let build = self.build.as_deref()?;
        Some(match self.ubr {
            Some(ubr) => format!("{build}.{ubr}"),
            None => build.to_string(),
        })
    }
}

#[derive(Debug, Clone)]
pub struct HiveInfo {
    pub name: String,
    pub path: String,
    /// Read as stored although dirty (sequence numbers differ or the base
    /// block checksum is wrong): no transaction log was replayed. False for a
    /// hive whose log was replayed.
    pub dirty: bool,
    pub error: Option<String>,
    /// Which state of the hive was read: the primary file as it is, a replay
    /// of its old-format log, or the primary read dirty with why no log was
    /// replayed. `None` when the hive could not be opened.
    pub state: Option<HiveState>,
    /// Set when `path` is not the primary file but an alternate copy
    /// (`SYSTEM.ALT`, `repair\SYSTEM`): older than the primary may have been.
    pub fallback: Option<Fallback>,
}

/// Why a hive was read from an alternate copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The primary file that could not be used.
    pub primary: String,
    /// Why not, and why any alternate tried before the one used was skipped.
    pub reason: String,
}

impl HiveInfo {
    /// `primary`, `replayed`, `dirty`, `alternate` or `unreadable`.
    pub fn state_id(&self) -> &'static str {
        match (&self.error, &self.state) {
            (Some(_), _) | (None, None) => "unreadable",
            (None, Some(_)) if self.fallback.is_some() => "alternate",
            (None, Some(HiveState::Primary)) => "primary",
            (None, Some(HiveState::Replayed { .. })) => "replayed",
            (None, Some(HiveState::Dirty { .. })) => "dirty",
        }
    }

    /// The log that was replayed, for a replayed hive.
    pub fn replayed_log(&self) -> Option<&str> {
        match &self.state {
            Some(HiveState::Replayed { log }) => Some(log),
            _ => None,
        }
    }

    /// Why the state is what it is: why the primary was not used (and, when
    /// the copy used is itself dirty, why no log was replayed), or why no log
    /// was replayed for a hive read dirty.
    pub fn state_reason(&self) -> Option<String> {
        match (&self.fallback, self.dirty_reason()) {
            (Some(f), None) => Some(format!("{}: {}", f.primary, f.reason)),
            (Some(f), Some(d)) => Some(format!(
                "{}: {}; the copy used is itself dirty: {d}",
                f.primary, f.reason
            )),
            (None, d) => d.map(String::from),
        }
    }

    /// Why no log was replayed, for a hive read dirty.
    pub fn dirty_reason(&self) -> Option<&str> {
        match &self.state {
            Some(HiveState::Dirty { reason }) => Some(reason),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub image_path: Option<String>,
    pub service_dll: Option<String>,
    /// The key that holds `ServiceDll`, as stored below the hive root: the
    /// service's `Parameters` key, or the service key itself (Windows 8.1
    /// and later keep it there for several services).
    pub service_dll_key: Option<String>,
    /// When the key that holds `ServiceDll` was last written.
    pub service_dll_last_written: Option<crate::time::FileTime>,
    pub start: Option<u32>,
    pub service_type: Option<u32>,
    pub depend_on_service: Vec<String>,
    pub install_path: Option<String>,
    pub last_written: Option<crate::time::FileTime>,
    /// The binaries the registry names, resolved on the volume.
    pub binaries: Vec<Binary>,
}

/// One pair of `PendingFileRenameOperations`: at the next boot the session
/// manager moves `source` to `destination`, or deletes it when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOperation {
    /// As stored (`\??\C:\…` usually).
    pub source: String,
    /// As stored, without the `!` that asks to replace an existing file;
    /// `None` for a delete (an empty destination).
    pub destination: Option<String>,
    /// The destination began with `!` (`MOVEFILE_REPLACE_EXISTING`).
    pub replace_existing: bool,
}

impl PendingOperation {
    /// Reads the strings of the value as pairs. The registry decoder drops
    /// empty strings at the end of a `REG_MULTI_SZ`, which loses the empty
    /// destination of a final delete: an odd count is that delete, so the
    /// pair is completed rather than dropped.
    pub fn pairs(strings: &[String]) -> Vec<PendingOperation> {
        strings
            .chunks(2)
            .map(|pair| {
                let to = pair.get(1).map(String::as_str).unwrap_or("");
                let (to, replace_existing) = match to.strip_prefix('!') {
                    Some(rest) => (rest, true),
                    None => (to, false),
                };
                PendingOperation {
                    source: pair[0].clone(),
                    destination: (!to.is_empty()).then(|| to.to_string()),
                    replace_existing,
                }
            })
            .collect()
    }
}

/// The source file of a pending rename, as found on disk.
#[derive(Debug, Clone)]
pub struct PendingSource {
    /// The operation's source, as stored (`\??\C:\…`).
    pub source: String,
    /// Where that is, as reports show paths (with a drive letter when it is
    /// on another volume than the install's).
    pub path: String,
    pub state: SourceState,
}

/// What was found at a pending rename's source.
#[derive(Debug, Clone)]
pub enum SourceState {
    /// Read: its version resource (or why that could not be read) is in the
    /// file.
    Read(Box<PeFile>),
    /// Every place it could be was read and it is not there: the session
    /// manager will have nothing to move.
    Missing,
    /// It could not be looked for or read: why.
    Unreadable(String),
}

/// A file the registry names, and whether it is on the volume.
#[derive(Debug, Clone)]
pub struct Binary {
    /// Which value named it (`ImagePath`, `ServiceDll`, an add-on name).
    pub source: String,
    /// The path as the registry gives it, resolved to the volume root
    /// (with its drive letter in front when on another volume).
    pub path: String,
    /// The drive letter the registry value names, if any.
    pub drive: Option<char>,
    /// The path as stored on disk, when found.
    pub found: Option<String>,
    /// Why its presence could not be checked (a folder on the way is
    /// unreadable); the file is then not reported missing.
    pub unreadable: Option<String>,
}

#[derive(Debug, Clone)]
pub struct HotfixRecord {
    /// `Q301625`, `KB2009746`, as the key is named.
    pub id: String,
    pub installed: Option<u32>,
    pub description: Option<String>,
    pub last_written: Option<crate::time::FileTime>,
}

/// One `AddOnServices` value: an ISM configuration DLL (and an optional
/// supplementary one after `::SUPCFG:`).
#[derive(Debug, Clone)]
pub struct AddOn {
    pub name: String,
    /// When the AddOnServices key was last written.
    pub last_written: Option<crate::time::FileTime>,
    pub value: String,
    pub dlls: Vec<Binary>,
}

#[derive(Debug, Clone, Default)]
pub struct Marker {
    pub path: String,
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    /// The names of the files in the folder: the files the update replaced,
    /// as they were before it (sorted, at most [`MAX_MARKER_FILES`]).
    pub files: Vec<String>,
    /// The folder could not be listed (said in `unreadable`): `files` is
    /// then not what it holds.
    pub files_not_listed: bool,
}

/// File names kept per uninstall folder.
pub const MAX_MARKER_FILES: usize = 4096;

impl Marker {
    /// The update an uninstall folder belongs to: `Q301625` of
    /// `$NtUninstallQ301625$`, `KB891861` of `$NtUninstallKB891861$`;
    /// `None` for a service pack's folder.
    pub fn kb(&self) -> Option<String> {
        const PREFIX: &str = "$NtUninstall";
        let name = self.path.rsplit('\\').next().unwrap_or("");
        if !name
            .get(..PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        {
            return None;
        }
        let id = name[PREFIX.len()..].trim_end_matches('$');
        let (prefix, digits) = if id.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("KB")) {
            ("KB", &id[2..])
        } else if id.get(..1).is_some_and(|p| p.eq_ignore_ascii_case("Q")) {
            ("Q", &id[1..])
        } else {
            return None;
        };
        let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
        (!n.is_empty()).then(|| format!("{prefix}{n}"))
    }
}

/// A PE file and what its version resource says.
#[derive(Debug, Clone)]
pub struct PeFile {
    pub path: String,
    /// The file on its volume (the MFT record number on NTFS).
    pub id: FileId,
    pub size: u64,
    pub created: Option<FileTime>,
    pub modified: Option<FileTime>,
    pub compressed: bool,
    /// The file starts with an MZ header (it is a PE image or claims to be).
    pub is_pe: bool,
    pub version: Option<VersionInfo>,
    /// The COFF machine (`IMAGE_FILE_MACHINE_*`; `pe::machine_name` names
    /// it), when the headers parse.
    pub machine: Option<u16>,
    /// Why the version could not be read, when it could not.
    pub error: Option<String>,
}

impl PeFile {
    pub fn name(&self) -> &str {
        self.path.rsplit('\\').next().unwrap_or("")
    }
}

/// Findings and the model need to know what could not be read.
pub type Unreadables = Vec<Unreadable>;
