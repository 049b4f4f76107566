//! `installs[].component_store`: the live IIS files against the component
//! store (WinSxS), with the evidence each verdict rests on.

use serde::Serialize;

use crate::pe::Version;
use crate::windows::store as model;

#[derive(Serialize)]
pub(super) struct ComponentStore<'a> {
    path: &'a str,
    /// False when the store could not be checked at all (`reason`).
    checked: bool,
    reason: Option<&'a str>,
    /// `ntfs`: link identity checked; `not-applicable` on FAT.
    hard_links: &'static str,
    /// `xml`, `compressed`, `mixed`; null when no manifest was read.
    manifest_format: Option<&'static str>,
    pending: &'a [String],
    components_listed: usize,
    notes: &'a [String],
    files: Vec<StoreFile<'a>>,
}

#[derive(Serialize)]
struct StoreFile<'a> {
    path: &'a str,
    file_version: Option<Version>,
    architectures: &'a [&'static str],
    /// The newest component holding a file of this name.
    component: Option<&'a str>,
    component_version: Option<Version>,
    /// Every such component, newest first.
    components: Vec<Component<'a>>,
    link: &'static str,
    linked_component: Option<&'a str>,
    /// The newest component's manifest: `xml`, `no-entry`, `compressed`,
    /// `missing`, `unreadable`; null without a component.
    manifest: Option<&'static str>,
    manifest_reason: Option<&'a str>,
    hash_algorithm: Option<&'static str>,
    manifest_digest: Option<&'a str>,
    file_digest: Option<&'a str>,
    evidence: &'a [&'static str],
    verdict: &'static str,
}

#[derive(Serialize)]
struct Component<'a> {
    folder: &'a str,
    architecture: &'a str,
    version: Version,
}

impl<'a> From<&'a model::ComponentStore> for ComponentStore<'a> {
    fn from(s: &'a model::ComponentStore) -> Self {
        ComponentStore {
            path: &s.path,
            checked: s.checked,
            reason: s.reason.as_deref(),
            hard_links: if s.hard_links {
                "ntfs"
            } else {
                "not-applicable"
            },
            manifest_format: s.manifest_format,
            pending: &s.pending,
            components_listed: s.components_listed,
            notes: &s.notes,
            files: s.files.iter().map(StoreFile::from).collect(),
        }
    }
}

impl<'a> From<&'a model::StoreFile> for StoreFile<'a> {
    fn from(f: &'a model::StoreFile) -> Self {
        let (hash_algorithm, manifest_digest, file_digest, manifest_reason) = match &f.manifest {
            Some(model::Manifest::Hash {
                algorithm,
                digest,
                file_digest,
            }) => (
                Some(*algorithm),
                Some(digest.as_str()),
                file_digest.as_deref().ok(),
                file_digest.as_ref().err().map(String::as_str),
            ),
            Some(model::Manifest::Unreadable(why)) => (None, None, None, Some(why.as_str())),
            _ => (None, None, None, None),
        };
        StoreFile {
            path: &f.path,
            file_version: f.file_version,
            architectures: &f.architectures,
            component: f.newest().map(|c| c.folder.as_str()),
            component_version: f.newest().map(|c| c.version),
            components: f
                .components
                .iter()
                .map(|c| Component {
                    folder: &c.folder,
                    architecture: &c.architecture,
                    version: c.version,
                })
                .collect(),
            link: f.link.id(),
            linked_component: match &f.link {
                model::Link::Older(c) => Some(c.as_str()),
                _ => None,
            },
            manifest: f.manifest.as_ref().map(model::Manifest::id),
            manifest_reason,
            hash_algorithm,
            manifest_digest,
            file_digest,
            evidence: &f.evidence,
            verdict: f.verdict.id(),
        }
    }
}
