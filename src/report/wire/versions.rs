//! `verskew.versions/1`: one object per PE file.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Shown;
use crate::commands::versions as model;
use crate::pe::{machine_name, LangCodePage, VersionInfo};
use crate::report::{TOOL_VERSION, VERSIONS_SCHEMA};

#[derive(Serialize)]
pub(in crate::report) struct VersionRow<'a> {
    schema: &'static str,
    tool_version: &'static str,
    image: &'a str,
    volume: usize,
    path: &'a str,
    /// The file's id on its volume: the MFT record number on NTFS.
    id: u64,
    /// `x86`, `x64`, … (`pe::machine_name`), the number in hex for others.
    machine: Option<String>,
    size: u64,
    created: Option<Shown<'a>>,
    modified: Option<Shown<'a>>,
    compressed: bool,
    version: Option<Version<'a>>,
    /// Why no version could be read.
    error: Option<&'a str>,
}

impl<'a> From<&'a model::VersionRow> for VersionRow<'a> {
    fn from(r: &'a model::VersionRow) -> Self {
        let f = &r.file;
        VersionRow {
            schema: VERSIONS_SCHEMA,
            tool_version: TOOL_VERSION,
            image: &r.image,
            volume: r.volume,
            path: &f.path,
            id: f.id.0,
            machine: f
                .machine
                .map(|m| machine_name(m).map_or_else(|| format!("{m:#06x}"), str::to_string)),
            size: f.size,
            created: Shown::of(&f.created),
            modified: Shown::of(&f.modified),
            compressed: f.compressed,
            version: f.version.as_ref().map(Version::from),
            error: f.error.as_deref(),
        }
    }
}

/// What the version resource says.
#[derive(Serialize)]
struct Version<'a> {
    file_version: Option<Shown<'a>>,
    product_version: Option<Shown<'a>>,
    strings: &'a BTreeMap<String, String>,
    string_table: Option<Translation>,
    translation: Option<Translation>,
    file_flags: u32,
    file_os: u32,
    file_type: u32,
    file_subtype: u32,
    resource: Resource<'a>,
}

impl<'a> From<&'a VersionInfo> for Version<'a> {
    fn from(v: &'a VersionInfo) -> Self {
        Version {
            file_version: Shown::of(&v.file_version),
            product_version: Shown::of(&v.product_version),
            strings: &v.strings,
            string_table: v.string_table.map(Translation::from),
            translation: v.translation.map(Translation::from),
            file_flags: v.file_flags,
            file_os: v.file_os,
            file_type: v.file_type,
            file_subtype: v.file_subtype,
            resource: Resource {
                name: &v.resource.name,
                lang: v.resource.lang,
                file_offset: v.resource.file_offset,
                size: v.resource.size,
            },
        }
    }
}

/// A language id and code page.
#[derive(Serialize)]
struct Translation {
    lang: u16,
    code_page: u16,
}

impl From<LangCodePage> for Translation {
    fn from(t: LangCodePage) -> Self {
        Translation {
            lang: t.lang,
            code_page: t.code_page,
        }
    }
}

/// Which RT_VERSION resource was read.
#[derive(Serialize)]
struct Resource<'a> {
    name: &'a str,
    lang: u16,
    file_offset: u64,
    size: u32,
}
