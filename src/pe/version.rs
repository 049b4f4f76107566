//! STUB (owned by the pe helper): version resources of PE files.
use std::collections::BTreeMap;
use std::fmt;

/// A four-part file or product version from VS_FIXEDFILEINFO, compared as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub [u16; 4]);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a version resource says.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VersionInfo {
    pub file_version: Option<Version>,
    pub product_version: Option<Version>,
    /// String-table values (FileVersion, ProductVersion, CompanyName, ...).
    pub strings: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PeError {
    #[error("not a PE file: {0}")]
    NotPe(String),
    #[error("no version resource")]
    NoVersion,
    #[error("malformed version resource: {0}")]
    BadVersion(String),
}

pub fn read_version(_bytes: &[u8]) -> Result<VersionInfo, PeError> {
    Err(PeError::NoVersion)
}
