//! `rules --format json`: the rule registry as scripts read it.

use serde::Serialize;

use crate::analysis::evidence::BASE_KEYS;
use crate::analysis::rules::Rule;
use crate::analysis::Severity;

/// One rule: what `rules RULE --format json` prints, and each element of
/// `rules[]` in the list.
#[derive(Serialize)]
pub(in crate::report) struct RuleDoc {
    id: &'static str,
    default_severity: String,
    severities: Vec<String>,
    summary: &'static str,
    references: &'static [&'static str],
    /// Keys every finding carries, then the rule's own.
    evidence_keys: Vec<&'static str>,
}

impl RuleDoc {
    pub(in crate::report) fn new(r: &dyn Rule) -> Self {
        RuleDoc {
            id: r.id(),
            default_severity: r.default_severity().to_string(),
            severities: r.severities().iter().map(Severity::to_string).collect(),
            summary: r.summary(),
            references: r.references(),
            evidence_keys: BASE_KEYS.iter().chain(r.evidence_keys()).copied().collect(),
        }
    }
}

/// `rules --format json`: every rule, in the order they run.
#[derive(Serialize)]
pub(in crate::report) struct RuleList {
    pub(in crate::report) schema: &'static str,
    pub(in crate::report) rules: Vec<RuleDoc>,
}

/// `rules RULE --format json`: one rule, with the schema id first.
#[derive(Serialize)]
pub(in crate::report) struct OneRule {
    pub(in crate::report) schema: &'static str,
    #[serde(flatten)]
    pub(in crate::report) rule: RuleDoc,
}
