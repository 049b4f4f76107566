//! PE artifacts: version resources (VS_FIXEDFILEINFO and string tables).

mod version;

pub use version::{read_version, PeError, Version, VersionInfo};
