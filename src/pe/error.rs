//! The one error type of the `pe` layer.
//!
//! Every message says what was wrong and where (a byte offset inside the
//! file, in hex); the caller adds the file's path.

/// Why a PE file's headers or version resource could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeError {
    /// Not a PE image at all: too short for a DOS header, no `MZ`, or an
    /// `NE`/`LE`/`LX` (16-bit or VxD) executable instead of `PE\0\0`.
    #[error("not a PE file: {0}")]
    NotPe(String),
    /// A valid PE file without an RT_VERSION resource (or without resources).
    #[error("no version resource")]
    NoVersion,
    /// The VS_VERSIONINFO data is structurally broken.
    #[error("malformed version resource: {0}")]
    BadVersion(String),
    /// The PE headers, section table or resource directory are broken
    /// (truncated file, pointers out of bounds, absurd values).
    #[error("malformed PE file: {0}")]
    BadPe(String),
}
