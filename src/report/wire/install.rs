//! `installs[]` of `diagnose`: one Windows installation as the registry and
//! the volume describe it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{list, Shown};
use crate::analysis;
use crate::registry::{self, SelectValues};
use crate::windows as model;

#[derive(Serialize)]
pub(super) struct Install<'a> {
    volume: usize,
    system_root: &'a str,
    os: Os<'a>,
    control_set: Option<ControlSet<'a>>,
    hives: Vec<Hive<'a>>,
    services: Vec<Service<'a>>,
    hotfixes: Vec<Hotfix<'a>>,
    /// `SOFTWARE\Microsoft\Updates` records (Windows 2000/XP/2003).
    updates: Vec<Update<'a>>,
    /// `InetStp` values, as stored.
    iis_setup: &'a BTreeMap<String, String>,
    addons: Vec<AddOn<'a>>,
    markers: Vec<Marker<'a>>,
    pending_renames: &'a [String],
    /// `pending_renames` as operations.
    pending_operations: Vec<PendingOperation<'a>>,
    /// The source of each pending rename onto a file the knowledge names,
    /// as found on disk.
    pending_sources: Vec<PendingSource<'a>>,
    /// On a volume that stores local time (FAT): how the file and marker
    /// times were made UTC, or that they are local, zone unknown; null on
    /// NTFS, which stores UTC.
    file_times: Option<String>,
    files_examined: usize,
    /// `evaluated`, `partial` or `not-evaluated`.
    status: &'static str,
    coverage: Coverage<'a>,
    /// Drive letters and how each was assigned: only on images with more
    /// than one volume read.
    #[serde(skip_serializing_if = "Option::is_none")]
    drives: Option<Vec<Drive<'a>>>,
    /// IIS 7 and later: `applicationHost.config`; null where there is none.
    iis_config: Option<super::iis_config::IisConfig<'a>>,
    /// The static loader check; null when it did not run.
    loader: Option<super::loader::Loader<'a>>,
    /// Vista and later: the live IIS files against the component store;
    /// null where the knowledge does not apply it (before Vista).
    component_store: Option<super::store::ComponentStore<'a>>,
    /// One paragraph: the dated facts in order, what follows, the remedy;
    /// null for an install without a warning or an error.
    story: Option<&'a str>,
}

/// `installs[].drives[]`.
#[derive(Serialize)]
struct Drive<'a> {
    letter: String,
    /// Index in `volumes`; null when the letter is not on this image.
    volume: Option<usize>,
    source: &'a str,
}

/// `installs[].coverage`: what the rules could judge on this install.
#[derive(Serialize)]
struct Coverage<'a> {
    /// Why the status is not `evaluated`.
    reasons: &'a [String],
    /// Knowledge families whose rules applied.
    families: &'a [String],
    hives: Vec<HiveState<'a>>,
    files_read: usize,
    files_unreadable: usize,
    /// Items of this install listed in `unreadable[]`.
    unreadable: usize,
}

#[derive(Serialize)]
struct HiveState<'a> {
    name: &'a str,
    state: &'static str,
}

impl<'a> Install<'a> {
    pub(super) fn new(
        i: &'a model::Install,
        c: &'a analysis::Coverage,
        story: Option<&'a str>,
        multi: bool,
    ) -> Self {
        Install {
            volume: i.volume,
            system_root: &i.system_root,
            os: Os::from(&i.os),
            control_set: i.control_set.as_ref().map(ControlSet::from),
            hives: list(&i.hives),
            services: list(&i.services),
            hotfixes: list(&i.hotfixes),
            updates: list(&i.updates),
            iis_setup: &i.iis_setup,
            addons: list(&i.addons),
            markers: list(&i.markers),
            pending_renames: &i.pending_renames,
            pending_operations: list(&i.pending_operations),
            pending_sources: list(&i.pending_sources),
            file_times: i.local_times.as_ref().map(model::LocalTimes::note),
            files_examined: i.files_count,
            status: c.status.id(),
            coverage: Coverage {
                reasons: &c.reasons,
                families: &c.families,
                hives: c
                    .hives
                    .iter()
                    .map(|h| HiveState {
                        name: &h.name,
                        state: h.state,
                    })
                    .collect(),
                files_read: c.files_read,
                files_unreadable: c.files_unreadable,
                unreadable: c.unreadable,
            },
            iis_config: i
                .iis_config
                .as_ref()
                .map(|c| super::iis_config::IisConfig::of(c, &i.iis_images)),
            loader: i.loader.as_ref().map(Into::into),
            component_store: i.component_store.as_ref().map(Into::into),
            story,
            drives: multi.then(|| {
                i.drives
                    .iter()
                    .map(|d| Drive {
                        letter: format!("{}:", d.letter),
                        volume: d.volume,
                        source: &d.source,
                    })
                    .collect()
            }),
        }
    }
}

#[derive(Serialize)]
struct Os<'a> {
    name: Option<&'a str>,
    product_name: Option<&'a str>,
    version: Option<&'a str>,
    current_version: Option<&'a str>,
    build: Option<&'a str>,
    ubr: Option<u32>,
    full_version: Option<String>,
    display_version: Option<&'a str>,
    edition: Option<&'a str>,
    installation_type: Option<&'a str>,
    service_pack: Option<&'a str>,
}

impl<'a> From<&'a model::OsInfo> for Os<'a> {
    fn from(o: &'a model::OsInfo) -> Self {
        Os {
            name: o.name.as_deref(),
            product_name: o.product_name.as_deref(),
            version: o.version.as_deref(),
            current_version: o.current_version.as_deref(),
            build: o.build.as_deref(),
            ubr: o.ubr,
            full_version: o
                .version
                .as_deref()
                .zip(o.full_build())
                .map(|(v, b)| format!("{v}.{b}")),
            display_version: o.display_version.as_deref(),
            edition: o.edition.as_deref(),
            installation_type: o.installation_type.as_deref(),
            service_pack: o.service_pack.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct ControlSet<'a> {
    name: &'a str,
    number: u32,
    /// `Current`, `Default` or `LastKnownGood`.
    source: &'a str,
    select: Select,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

impl<'a> From<&'a registry::ControlSet> for ControlSet<'a> {
    fn from(c: &'a registry::ControlSet) -> Self {
        let SelectValues {
            current,
            default,
            last_known_good,
            failed,
        } = c.select;
        ControlSet {
            name: &c.name,
            number: c.number,
            source: &c.source,
            select: Select {
                current,
                default,
                last_known_good,
                failed,
            },
            warnings: &c.warnings,
        }
    }
}

/// The `Select` values as read.
#[derive(Serialize)]
struct Select {
    current: Option<u32>,
    default: Option<u32>,
    last_known_good: Option<u32>,
    failed: Option<u32>,
}

#[derive(Serialize)]
struct Hive<'a> {
    name: &'a str,
    path: &'a str,
    dirty: bool,
    error: Option<&'a str>,
    /// `primary`, `replayed`, `dirty`, `alternate` or `unreadable`.
    state: &'static str,
    /// The transaction log replayed, when `state` is `replayed`.
    log: Option<&'a str>,
    /// Why no log was replayed, when `state` is `dirty`; why the primary file
    /// was not used, when `state` is `alternate` (`path` is the copy used).
    state_reason: Option<String>,
}

impl<'a> From<&'a model::HiveInfo> for Hive<'a> {
    fn from(h: &'a model::HiveInfo) -> Self {
        Hive {
            name: &h.name,
            path: &h.path,
            dirty: h.dirty,
            error: h.error.as_deref(),
            state: h.state_id(),
            log: h.replayed_log(),
            state_reason: h.state_reason(),
        }
    }
}

#[derive(Serialize)]
struct Service<'a> {
    name: &'a str,
    image_path: Option<&'a str>,
    service_dll: Option<&'a str>,
    /// The key that holds `ServiceDll` (`…\Parameters` or the service key).
    service_dll_key: Option<&'a str>,
    service_dll_last_written: Option<Shown<'a>>,
    start: Option<u32>,
    r#type: Option<u32>,
    depend_on_service: &'a [String],
    install_path: Option<&'a str>,
    last_written: Option<Shown<'a>>,
    binaries: Vec<Binary<'a>>,
}

impl<'a> From<&'a model::Service> for Service<'a> {
    fn from(s: &'a model::Service) -> Self {
        Service {
            name: &s.name,
            image_path: s.image_path.as_deref(),
            service_dll: s.service_dll.as_deref(),
            service_dll_key: s.service_dll_key.as_deref(),
            service_dll_last_written: Shown::of(&s.service_dll_last_written),
            start: s.start,
            r#type: s.service_type,
            depend_on_service: &s.depend_on_service,
            install_path: s.install_path.as_deref(),
            last_written: Shown::of(&s.last_written),
            binaries: list(&s.binaries),
        }
    }
}

/// A file the registry names, and where it was found.
#[derive(Serialize)]
struct Binary<'a> {
    source: &'a str,
    path: &'a str,
    found: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unreadable: Option<&'a str>,
}

impl<'a> From<&'a model::Binary> for Binary<'a> {
    fn from(b: &'a model::Binary) -> Self {
        Binary {
            source: &b.source,
            path: &b.path,
            found: b.found.as_deref(),
            unreadable: b.unreadable.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct Hotfix<'a> {
    id: &'a str,
    installed: Option<u32>,
    description: Option<&'a str>,
    last_written: Option<Shown<'a>>,
}

impl<'a> From<&'a model::HotfixRecord> for Hotfix<'a> {
    fn from(h: &'a model::HotfixRecord) -> Self {
        Hotfix {
            id: &h.id,
            installed: h.installed,
            description: h.description.as_deref(),
            last_written: Shown::of(&h.last_written),
        }
    }
}

/// One `AddOnServices` value and the DLLs it names.
#[derive(Serialize)]
struct AddOn<'a> {
    name: &'a str,
    last_written: Option<Shown<'a>>,
    value: &'a str,
    dlls: Vec<Binary<'a>>,
}

impl<'a> From<&'a model::AddOn> for AddOn<'a> {
    fn from(a: &'a model::AddOn) -> Self {
        AddOn {
            name: &a.name,
            last_written: Shown::of(&a.last_written),
            value: &a.value,
            dlls: list(&a.dlls),
        }
    }
}

/// `installs[].updates[]`: one update's record.
#[derive(Serialize)]
struct Update<'a> {
    id: &'a str,
    product: &'a str,
    pack: Option<&'a str>,
    key: &'a str,
    description: Option<&'a str>,
    installed_by: Option<&'a str>,
    installed_date: Option<&'a str>,
    r#type: Option<&'a str>,
    last_written: Option<Shown<'a>>,
    /// The recorded day made precise by the key's time on that day.
    install_time: Option<String>,
    install_time_precise: Option<bool>,
    /// A `Filelist` subkey exists.
    file_list: bool,
    files: Vec<UpdateFile<'a>>,
}

impl<'a> From<&'a model::UpdateRecord> for Update<'a> {
    fn from(u: &'a model::UpdateRecord) -> Self {
        let t = u.install_time();
        Update {
            id: &u.id,
            product: &u.product,
            pack: u.pack.as_deref(),
            key: &u.key,
            description: u.description.as_deref(),
            installed_by: u.installed_by.as_deref(),
            installed_date: u.installed_date.as_deref(),
            r#type: u.kind.as_deref(),
            last_written: Shown::of(&u.last_written),
            install_time: t.map(|t| t.at.to_string()),
            install_time_precise: t.map(|t| t.precise),
            file_list: u.file_list,
            files: list(&u.files),
        }
    }
}

/// `installs[].updates[].files[]`: one `Filelist\<n>` entry.
#[derive(Serialize)]
struct UpdateFile<'a> {
    entry: &'a str,
    name: Option<&'a str>,
    /// As stored.
    version: Option<&'a str>,
    location: Option<&'a str>,
    build_date: Option<&'a str>,
    /// Where the file is on the volume; null without a usable `Location`.
    path: Option<&'a str>,
}

impl<'a> From<&'a model::UpdateFile> for UpdateFile<'a> {
    fn from(f: &'a model::UpdateFile) -> Self {
        UpdateFile {
            entry: &f.entry,
            name: f.name.as_deref(),
            version: f.version_string.as_deref(),
            location: f.location.as_deref(),
            build_date: f.build_date.as_deref(),
            path: f.path.as_deref(),
        }
    }
}

/// A service-pack or update uninstall folder, its times and the files the
/// update replaced.
#[derive(Serialize)]
struct Marker<'a> {
    path: &'a str,
    created: Option<Shown<'a>>,
    modified: Option<Shown<'a>>,
    /// `Q301625` / `KB891861`; null for a service pack's folder.
    kb: Option<String>,
    files: &'a [String],
    /// The folder could not be listed: `files` is not what it holds.
    files_not_listed: bool,
}

impl<'a> From<&'a model::Marker> for Marker<'a> {
    fn from(m: &'a model::Marker) -> Self {
        Marker {
            path: &m.path,
            created: Shown::of(&m.created),
            modified: Shown::of(&m.modified),
            kb: m.kb(),
            files: &m.files,
            files_not_listed: m.files_not_listed,
        }
    }
}

/// One pair of `PendingFileRenameOperations`.
#[derive(Serialize)]
struct PendingOperation<'a> {
    source: &'a str,
    /// Null for a delete.
    destination: Option<&'a str>,
    replace_existing: bool,
}

impl<'a> From<&'a model::PendingOperation> for PendingOperation<'a> {
    fn from(p: &'a model::PendingOperation) -> Self {
        PendingOperation {
            source: &p.source,
            destination: p.destination.as_deref(),
            replace_existing: p.replace_existing,
        }
    }
}

/// `installs[].pending_sources[]`.
#[derive(Serialize)]
struct PendingSource<'a> {
    /// As stored.
    source: &'a str,
    /// Where that is, as reports show paths.
    path: &'a str,
    /// `read`, `missing` or `unreadable`.
    state: &'static str,
    /// Why it could not be read, or why its version could not.
    reason: Option<&'a str>,
    file_version: Option<crate::pe::Version>,
}

impl<'a> From<&'a model::PendingSource> for PendingSource<'a> {
    fn from(p: &'a model::PendingSource) -> Self {
        let (state, reason, file_version) = match &p.state {
            model::SourceState::Read(f) => (
                "read",
                f.error.as_deref(),
                f.version.as_ref().and_then(|v| v.file_version),
            ),
            model::SourceState::Missing => ("missing", None, None),
            model::SourceState::Unreadable(why) => ("unreadable", Some(why.as_str()), None),
        };
        PendingSource {
            source: &p.source,
            path: &p.path,
            state,
            reason,
            file_version,
        }
    }
}
