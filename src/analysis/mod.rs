//! Rules over the Windows model → findings. The rules are generic; what they
//! know (families, lockstep sets, baselines, hotfixes, remedies) is data in
//! [`Knowledge`]. Each rule is one file under `rules/`, listed once in
//! [`rules::ALL`]; what a finding rests on is typed [`Evidence`].

pub mod coverage;
pub mod evidence;
pub mod knowledge;
pub mod rules;
pub mod story;

pub use coverage::{assess, Coverage, Status};
pub use evidence::Evidence;
pub use knowledge::Knowledge;
pub use rules::analyse;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One conclusion, with what supports it and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Stable rule id (`lockstep-mismatch`, `missing-addon-dll`, …).
    pub rule: String,
    pub severity: Severity,
    /// System root of the install it concerns (`\WINNT`).
    pub install: String,
    /// Index of the volume in the report.
    pub volume: usize,
    /// Windows paths from the volume root, as stored on disk (or as the
    /// registry names them, for files that are missing).
    pub paths: Vec<String>,
    pub message: String,
    /// Structured evidence; keys per rule are documented in the README.
    pub evidence: Evidence,
    pub remedy: String,
    /// KB articles and other public sources.
    pub references: Vec<String>,
}
