//! `verskew rules`: the rule registry for people (a table, or one rule
//! explained) and as JSON (`verskew.rules/1`).

use std::fmt::Write;

use unicode_width::UnicodeWidthStr;

use super::wire::{OneRule, RuleDoc, RuleList};
use crate::analysis::evidence::BASE_KEYS;
use crate::analysis::rules::Rule;

/// Schema id of `rules --format json` documents.
pub const RULES_SCHEMA: &str = "verskew.rules/1";

/// Every rule, one a line: id, default severity, references, summary (last,
/// so a terminal wraps it under itself).
pub fn rules_text(rules: &[&dyn Rule]) -> String {
    let rows: Vec<[String; 4]> = rules
        .iter()
        .map(|r| {
            [
                r.id().to_string(),
                r.default_severity().to_string(),
                match r.references() {
                    [] => "-".to_string(),
                    refs => refs.join(", "),
                },
                r.summary().to_string(),
            ]
        })
        .collect();
    let header = ["RULE", "SEVERITY", "REFERENCES", "SUMMARY"].map(String::from);
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.width());
        }
    }
    let mut o = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (c, w) in row.iter().zip(widths) {
            let _ = write!(o, "{c}{}  ", " ".repeat(w - c.width()));
        }
        let _ = writeln!(o, "{}", row[3]);
    }
    let _ = writeln!(o, "\n`verskew rules RULE` explains one.");
    o
}

/// One rule explained: summary, severities, evidence keys, references.
pub fn rule_text(r: &dyn Rule) -> String {
    let severities: Vec<String> = r.severities().iter().map(|s| s.to_string()).collect();
    let mut o = String::new();
    let _ = writeln!(o, "{}", r.id());
    let _ = writeln!(o, "  Summary: {}", r.summary());
    let _ = writeln!(o, "  Default severity: {}", r.default_severity());
    let _ = writeln!(o, "  Severities: {}", severities.join(", "));
    let _ = writeln!(
        o,
        "  Evidence keys: {} (every finding), {}",
        BASE_KEYS.join(", "),
        match r.evidence_keys() {
            [] => "none of its own".to_string(),
            keys => keys.join(", "),
        }
    );
    let refs = match r.references() {
        [] => "none".to_string(),
        refs => refs.join(", "),
    };
    let _ = writeln!(o, "  References: {refs}");
    o
}

/// Every rule as one JSON object: `{"schema", "rules": [...]}`.
pub fn rules_json(rules: &[&dyn Rule]) -> String {
    let list = RuleList {
        schema: RULES_SCHEMA,
        rules: rules.iter().map(|r| RuleDoc::new(*r)).collect(),
    };
    serde_json::to_string(&list).unwrap_or_default()
}

/// One rule as one JSON object, with the schema id.
pub fn rule_json(r: &dyn Rule) -> String {
    let one = OneRule {
        schema: RULES_SCHEMA,
        rule: RuleDoc::new(r),
    };
    serde_json::to_string(&one).unwrap_or_default()
}
