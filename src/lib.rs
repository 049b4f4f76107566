//! verskew: reads a Windows disk image offline and explains why services fail
//! to start when their DLLs are at mismatched versions (KB Q291589 and kin).
//!
//! Data flows one way: image → volume → fs → artifacts (registry, pe) →
//! windows model → analysis findings → report.

pub mod analysis;
pub mod commands;
pub mod fs;
pub mod image;
mod le;
mod panic;
pub mod pe;
pub mod registry;
pub mod report;
#[cfg(test)]
mod test_corpus;
pub mod time;
pub mod volume;
pub mod windows;

/// Something the analysis could not read, and why: reported beside the
/// findings so the user knows what the findings do not cover.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unreadable {
    /// A Windows path from the volume root, a registry path, or a volume.
    pub path: String,
    pub reason: String,
}

impl Unreadable {
    pub fn new(path: &str, reason: impl std::fmt::Display) -> Unreadable {
        Unreadable {
            path: path.to_string(),
            reason: reason.to_string(),
        }
    }
}
