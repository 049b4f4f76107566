//! verskew: reads a Windows disk image offline and explains why services fail
//! to start when their DLLs are at mismatched versions (KB Q291589 and kin).
//!
//! Data flows one way: image → volume → fs → artifacts (registry, pe) →
//! windows model → analysis findings → report.

pub mod image;
pub mod pe;
pub mod registry;
