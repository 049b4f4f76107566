//! Which files of an install a family or set names, and their versions.

use super::super::knowledge::Family;
use crate::pe::Version;
use crate::windows::{Install, PeFile};

/// A family applies when the OS version says it ships there, or, when the
/// SOFTWARE hive could not tell, when most of its files present carry its
/// version line.
pub(crate) fn family_applies(install: &Install, family: &Family) -> bool {
    if let Some(v) = &install.os.version {
        return family.os.iter().any(|o| o == v);
    }
    let versions: Vec<Version> = members(install, &family.files)
        .filter_map(file_version)
        .collect();
    let on_line = versions
        .iter()
        .filter(|v| on_version_line(v, &family.version_line))
        .count();
    !versions.is_empty() && on_line * 2 > versions.len()
}

/// Whether `v` starts with the numbers of `line` ("4.2", "6.0.3790").
pub(crate) fn on_version_line(v: &Version, line: &str) -> bool {
    line.split('.')
        .zip(v.0.iter())
        .all(|(want, have)| want.parse::<u16>().ok() == Some(*have))
}

/// The files of the install whose names are in `names` (case-insensitive).
pub(crate) fn members<'a>(
    install: &'a Install,
    names: &'a [String],
) -> impl Iterator<Item = &'a PeFile> + 'a {
    install
        .files
        .iter()
        .filter(move |f| names.iter().any(|n| n.eq_ignore_ascii_case(f.name())))
}

/// The VS_FIXEDFILEINFO file version, the one versions compare by.
pub(crate) fn file_version(f: &PeFile) -> Option<Version> {
    f.version.as_ref()?.file_version
}
