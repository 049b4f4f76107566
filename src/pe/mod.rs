//! PE artifacts: headers (for a census) and version resources
//! (VS_FIXEDFILEINFO and string tables), and the import, delay-import and
//! export tables the loader check binds ([`read_imports`]).
//!
//! Entry points: [`read_version`] (any RT_VERSION ID/language, PE32/PE32+,
//! any machine, any alignment) and [`read_headers`] (cheap, copy-free);
//! [`version_ranges`] says which bytes a version read needs.
//! All take the whole file as bytes (or what has been read of it) and
//! never panic on hostile input.

mod error;
mod headers;
mod imports;
mod ranges;
mod version;
mod vs_version;

#[doc(hidden)]
pub mod testpe;
#[cfg(test)]
mod tests;

pub use error::PeError;
pub use headers::{
    machine_name, read_headers, PeHeaders, IMAGE_FILE_DLL, IMAGE_FILE_EXECUTABLE_IMAGE,
    IMAGE_FILE_SYSTEM,
};
pub use imports::{
    parse_forwarder, read_imports, ExportTarget, Exports, ImportTables, ImportedDll, Symbol,
    MAX_DESCRIPTORS, MAX_EXPORTS, MAX_NAME, MAX_THUNKS,
};
pub use ranges::{
    read_version_ranged, version_ranges, RangedVersion, HEADER_PROBE, MAX_HEADER_BYTES,
};
pub use version::{read_version, LangCodePage, ResourceLocation, Version, VersionInfo};
