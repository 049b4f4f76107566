//! Typed evidence: what supports a finding, as the JSON report and the text
//! report show it.
//!
//! One struct holds every key any rule uses; a rule fills the ones it has.
//! Fields are declared in alphabetical order and nested objects likewise,
//! because the JSON contract was first written from sorted maps: keys a rule
//! does not use are skipped, while `null` values inside an object it uses
//! (an OS build the hive did not record, a file without a modification time)
//! are printed. The README's rule table documents which keys each rule sets.

use serde::Serialize;

use crate::pe::Version;
use crate::time::FileTime;
use crate::windows::{HiveInfo, Install, LocalTimes, PeFile};

/// The evidence of one finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// An ASP.NET Core application whose request handler is not where the
    /// module looks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ancm: Option<AncmEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_version: Option<Version>,
    /// Which control set the services were read from, and why; absent when
    /// none could be resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_set: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explained_by: Option<ExplainedBy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileEvidence>,
    /// How the file times were read on a volume that stores local time
    /// (FAT): converted with the install's time zone, or local, zone unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_times: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hive: Option<HiveEvidence>,
    /// The state each hive was read in (every finding carries them): what
    /// the registry facts of the finding rest on.
    pub hive_states: Vec<HiveStateEvidence>,
    /// The hotfix keys recorded for the install (every finding carries them).
    pub hotfixes: Vec<String>,
    /// The import a loader-check finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportEvidence>,
    /// An image `applicationHost.config` names, and the pools that load it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<IisModuleEvidence>,
    /// The OS level (every finding carries it).
    pub os: OsEvidence,
    /// The queued renames judged both ways: the lockstep state now and after
    /// the next boot, and what the boot does to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_renames: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryEvidence>,
    /// The runtime package a missing or broken DLL belongs to, for the
    /// bitness of the process that needs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<RuntimeEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub searched: Option<Vec<String>>,
    /// Sections a configuration file sets without what must stand behind
    /// them (a declaration, a schema, a module).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<SectionEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_pack: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sets: Option<Vec<SetEvidence>>,
    /// A live file against the component store (WinSxS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreEvidence>,
    /// Dated events around the file, oldest first, as "TIME what".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<String>>,
    /// The update whose files show it was applied, for a file left behind it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateEvidence>,
    /// The `SOFTWARE\Microsoft\Updates` record that says which version of
    /// the file its update installed, and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_record: Option<UpdateRecordEvidence>,
}

/// The keys of [`Evidence::base`]: every finding carries them.
pub const BASE_KEYS: &[&str] = &["os", "control_set", "hotfixes", "file_times", "hive_states"];

impl Evidence {
    /// Facts every finding of an install carries: OS level and where the
    /// registry facts came from. Rules add their own keys to it.
    pub fn base(install: &Install) -> Evidence {
        Evidence {
            os: OsEvidence {
                build: install.os.build.clone(),
                service_pack: install.os.service_pack.clone(),
                version: install.os.version.clone(),
            },
            control_set: install
                .control_set
                .as_ref()
                .map(|cs| format!(r"{} (from Select\{})", cs.name, cs.source)),
            hotfixes: install.hotfixes.iter().map(|h| h.id.clone()).collect(),
            file_times: install.local_times.as_ref().map(LocalTimes::note),
            hive_states: install.hives.iter().map(HiveStateEvidence::of).collect(),
            ..Evidence::default()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OsEvidence {
    pub build: Option<String>,
    pub service_pack: Option<String>,
    pub version: Option<String>,
}

/// A file and what its version resource says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileEvidence {
    pub file_version: Option<Version>,
    /// The string table's FileVersion, shown, never compared.
    pub file_version_string: Option<String>,
    pub modified: Option<FileTime>,
    pub path: String,
    pub product_version: Option<Version>,
    pub size: u64,
}

impl FileEvidence {
    pub fn of(f: &PeFile) -> FileEvidence {
        let v = f.version.as_ref();
        FileEvidence {
            file_version: v.and_then(|v| v.file_version),
            file_version_string: v.and_then(|v| v.strings.get("FileVersion").cloned()),
            modified: f.modified,
            path: f.path.clone(),
            product_version: v.and_then(|v| v.product_version),
            size: f.size,
        }
    }
}

/// A live file against the newest component of the store that holds a file
/// of its name, and how that was judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreEvidence {
    /// The newest component's folder under `WinSxS`.
    pub component: String,
    pub component_version: Version,
    /// Every component folder of the file's architecture holding a file of
    /// its name, newest first.
    pub components: Vec<String>,
    /// What the verdict rests on: `hard-link`, `manifest-hash`,
    /// `component-version`.
    pub evidence: Vec<String>,
    /// The live file's digest (base64), when the manifest gave one.
    pub file_digest: Option<String>,
    pub hash_algorithm: Option<String>,
    /// `newest-component`, `older-component`, `not-linked`, `not-applicable`.
    pub link: String,
    /// The older component whose copy the live file is.
    pub linked_component: Option<String>,
    /// `xml`, `no-entry`, `compressed`, `missing`, `unreadable`.
    pub manifest: String,
    /// The digest the newest component's manifest gives (base64).
    pub manifest_digest: Option<String>,
    /// Queued servicing (`pending.xml`, `SetupExecute`).
    pub pending: Vec<String>,
    /// `hash-differs`, `version-differs`, `not-linked`.
    pub verdict: String,
}

/// One lockstep set a file disagrees with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetEvidence {
    /// The other members present, each with its version.
    pub compared_with: Vec<FileEvidence>,
    pub id: String,
    pub name: String,
    pub reference_version: String,
    pub why: String,
}

/// The recorded hotfix that shipped a file at its version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplainedBy {
    pub kb: String,
    pub title: String,
}

/// An update, and the files that carry versions only it shipped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateEvidence {
    pub bulletin: Option<String>,
    pub kb: String,
    /// Files at exactly the version this update, and no other known one, shipped.
    pub proven_by: Vec<FileEvidence>,
    pub title: String,
}

/// An update's record and its Filelist entry for one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UpdateRecordEvidence {
    pub description: Option<String>,
    /// Whether the file was put where it is after the update's install time;
    /// null when no time orders them (none recorded, or the same day when
    /// only the day is known).
    pub file_written_after_install: Option<bool>,
    pub id: String,
    /// The recorded day, made precise by the key's last-written time on
    /// that day (see `install_time_precise`).
    pub install_time: Option<FileTime>,
    /// True: to the second; false: the day only.
    pub install_time_precise: Option<bool>,
    /// `InstalledDate` as stored.
    pub installed_date: Option<String>,
    /// The record's key, hive name first.
    pub key: String,
    pub last_written: Option<FileTime>,
    /// The Filelist entry's `Location`, as stored.
    pub location: Option<String>,
    pub pack: Option<String>,
    pub product: String,
    /// The Filelist entry's `Version`, as stored.
    pub recorded_version: String,
}

/// The registry value that names a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryEvidence {
    pub data: Option<String>,
    pub key: String,
    pub last_written: Option<FileTime>,
    pub value: String,
}

/// A hive as the model read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HiveEvidence {
    pub dirty: bool,
    pub error: Option<String>,
    pub name: String,
    pub path: String,
}

impl HiveEvidence {
    pub fn of(h: &HiveInfo) -> HiveEvidence {
        HiveEvidence {
            dirty: h.dirty,
            error: h.error.clone(),
            name: h.name.clone(),
            path: h.path.clone(),
        }
    }
}

/// A global module or ISAPI filter of `applicationHost.config`, as the
/// worker of one bitness resolves it, and the pools whose workers load it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IisModuleEvidence {
    /// 32 or 64: the worker this resolution is for.
    pub bits: u32,
    /// The configuration file that names it, as stored.
    pub config: String,
    /// The image as configured (`%windir%\System32\inetsrv\x.dll`).
    pub image: String,
    /// `module` or `filter`.
    pub kind: String,
    /// The COFF machine of the image found (`x86`, `x64`), when one was.
    pub machine: Option<String>,
    pub name: String,
    pub pools: Vec<PoolEvidence>,
    pub pre_condition: Vec<String>,
    /// The path that worker loads, from the volume root.
    pub resolved: String,
}

/// Sections one configuration file sets, and what is missing behind them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionEvidence {
    /// The applications (`site/path`) the file governs.
    pub applications: Vec<String>,
    /// The component that owns the sections (`URL Rewrite`), when the
    /// knowledge names one.
    pub component: Option<String>,
    /// The file that sets them, as reports show paths.
    pub config: String,
    /// Some `<configSections>` declares them.
    pub declared: bool,
    /// The `<location path>` they are set in; null at the file's level.
    pub location: Option<String>,
    /// Whether one of `modules` is in `<globalModules>`; null when the
    /// knowledge names no module for them.
    pub module_registered: Option<bool>,
    pub modules: Vec<String>,
    pub pools: Vec<PoolEvidence>,
    /// Whether a schema file defines them; null when the schema folder
    /// could not be read in full.
    pub schema: Option<bool>,
    pub schema_folder: String,
    pub sections: Vec<String>,
    /// `undeclared`, `no-schema` or `no-module`.
    pub state: String,
}

/// An ASP.NET Core application and where the module looked for its
/// request handler.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AncmEvidence {
    /// `site/path`.
    pub application: String,
    /// The pool's worker bitness.
    pub bits: u32,
    pub handler: String,
    /// `inprocess` or `outofprocess`.
    pub hosting_model: String,
    pub pools: Vec<PoolEvidence>,
    /// Every place looked at, in the module's order.
    pub searched: Vec<String>,
    /// `missing`, `no-framework` or `no-version-folder`.
    pub state: String,
    pub web_config: String,
}

/// An application pool and the applications (`site/path`) it serves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolEvidence {
    pub applications: Vec<String>,
    /// 32 or 64: the bitness of its worker process.
    pub bits: u32,
    pub name: String,
}

/// One import as the loader check resolved it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportEvidence {
    /// A delay import: it fails at the first call, not when the service starts.
    pub delay: bool,
    /// The DLL imported, as the importer names it.
    pub dll: String,
    /// The module the loader would use, where one was found.
    pub exporter: Option<ModuleEvidence>,
    /// Forwarders followed before the symbol was lost (`a.dll!F → B.F`).
    pub forwarders: Vec<String>,
    pub importer: ModuleEvidence,
    /// What loads the importer: services, `AddOnServices\<name>`, `ISAPI filter`.
    pub loaded_by: Vec<String>,
    /// The names (or `#ordinals`) not exported.
    pub missing: Vec<String>,
    /// The Win32 error the load fails with ("127 ERROR_PROC_NOT_FOUND (…)").
    pub win32_error: String,
}

/// A runtime package (the Visual C++ redistributable) a DLL belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeEvidence {
    /// The package's architecture the process needs: `x64`, `x86`, `arm64`.
    pub arch: String,
    /// The DLL, as imported.
    pub dll: String,
    /// The runtime's name in the knowledge.
    pub name: String,
}

/// A module: its path, machine and version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModuleEvidence {
    pub machine: Option<String>,
    pub path: String,
    pub version: Option<Version>,
}

impl ModuleEvidence {
    pub fn of(m: &crate::windows::loader::Module) -> ModuleEvidence {
        ModuleEvidence {
            machine: m.machine.map(machine),
            path: m.path.clone(),
            version: m.version,
        }
    }
}

/// A machine type by name (`x86`), or in hex when unknown.
pub fn machine(m: u16) -> String {
    crate::pe::machine_name(m)
        .map(String::from)
        .unwrap_or_else(|| format!("0x{m:04x}"))
}

/// The state one hive was read in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HiveStateEvidence {
    /// The transaction log(s) replayed, for `replayed`.
    pub log: Option<String>,
    pub name: String,
    /// The file read (an alternate copy's path for `alternate`).
    pub path: String,
    /// `primary`, `replayed`, `dirty` (read as stored, no log replayed),
    /// `alternate` or `unreadable`.
    pub state: &'static str,
}

impl HiveStateEvidence {
    pub fn of(h: &HiveInfo) -> HiveStateEvidence {
        HiveStateEvidence {
            log: h.replayed_log().map(String::from),
            name: h.name.clone(),
            path: h.path.clone(),
            state: h.state_id(),
        }
    }
}

/// `PendingFileRenameOperations` judged both ways.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingEvidence {
    /// Lockstep members out of step after the next boot.
    pub after: Vec<MismatchEvidence>,
    /// Lockstep members out of step now.
    pub now: Vec<MismatchEvidence>,
    /// Every queued operation that touches a file the knowledge names.
    pub operations: Vec<PendingPair>,
    /// `fixes`, `fixes-some`, `causes`, `unchanged` or `not-checked`.
    pub verdict: &'static str,
    /// The verdict in one sentence.
    pub why: String,
}

/// A lockstep member out of step: older than its set, or deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MismatchEvidence {
    /// The set's version.
    pub expected: String,
    pub path: String,
    /// Null when the next boot deletes it.
    pub version: Option<Version>,
}

/// One queued operation with the versions it moves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingPair {
    /// As reports show paths; null for a delete.
    pub destination: Option<String>,
    /// The version at the destination now; null when there is none.
    pub destination_version: Option<Version>,
    pub replace_existing: bool,
    pub source: String,
    /// `read`, `missing` (not on disk), `unreadable: <why>`, or `not read`
    /// (a delete, or a source the verdict does not need).
    pub source_state: String,
    pub source_version: Option<Version>,
}
