//! Registry hives: keys, typed values and control-set resolution.
//!
//! * [`Hive::from_bytes`] opens a regf hive held in memory (the primary file
//!   as it is; [`Hive::is_dirty`] says when the logs held newer data).
//! * [`open_with_logs`] opens a dirty primary file with its old-format
//!   transaction log (`.LOG`; `.LOG1`/`.LOG2` on Vista and 7) replayed into a
//!   private copy, in memory (`log.rs`); [`HiveState`] says which state was
//!   read and, for a hive read dirty, why no log was replayed. New-format
//!   (HvLE) logs are not replayed. Parsing is notatin 1.0.1's, behind our own checks:
//!   see `hive.rs` for the limits ([`MAX_HIVE_SIZE`], [`MAX_DEPTH`]) and
//!   `cells.rs` for why every key is vetted before notatin reads it.
//! * [`Hive::key`] looks a path up case-insensitively and returns a [`Key`]
//!   with typed [`Value`]s ([`ValueData`]).
//! * [`resolve_control_set`] picks the `ControlSetNNN` that
//!   `CurrentControlSet` would be.

mod cells;
mod control_set;
mod hive;
mod log;
mod value;

#[cfg(test)]
pub(crate) mod tests;

pub use control_set::{resolve_control_set, ControlSet, SelectValues};
pub use hive::{filetime_to_rfc3339, Hive, HiveHeader, Key, Walk, MAX_DEPTH, MAX_HIVE_SIZE};
pub use log::{
    log_file_type, needs_replay, open_with_logs, replay_old_log, HiveState, LogRejected,
    MAX_LOG_SIZE,
};
pub use value::{
    Value, ValueData, REG_BINARY, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_EXPAND_SZ, REG_LINK,
    REG_MULTI_SZ, REG_NONE, REG_QWORD, REG_SZ,
};

/// Errors of the registry layer; each names the hive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The hive cannot be opened (truncated, no root key, notatin refused it).
    #[error("{hive}: {what}")]
    Hive { hive: String, what: String },
    /// The bytes are not a regf hive at all.
    #[error("{hive}: not a regf hive: {what}")]
    NotRegf { hive: String, what: String },
    /// Larger than [`MAX_HIVE_SIZE`].
    #[error("{hive}: {size} bytes, more than the {max} bytes a hive may have here")]
    TooLarge { hive: String, size: u64, max: u64 },
    /// A structure under `path` (below the root) is corrupt or hostile.
    #[error("{hive}: key {path:?}: {what}")]
    Corrupt {
        hive: String,
        path: String,
        what: String,
    },
    /// notatin panicked; the panic was contained.
    #[error("{hive}: parser panicked: {message}")]
    Panicked { hive: String, message: String },
    /// No `Select` value names an existing control set.
    #[error("{hive}: no usable control set: {what}")]
    NoControlSet { hive: String, what: String },
}

impl RegistryError {
    /// The hive the error is about.
    pub fn hive(&self) -> &str {
        match self {
            RegistryError::Hive { hive, .. }
            | RegistryError::NotRegf { hive, .. }
            | RegistryError::TooLarge { hive, .. }
            | RegistryError::Corrupt { hive, .. }
            | RegistryError::Panicked { hive, .. }
            | RegistryError::NoControlSet { hive, .. } => hive,
        }
    }
}
