//! The README's rule table ("### Rules") against the rule registry: the same
//! rule ids in the same order, the same severities, the same evidence keys,
//! and every KB the "fires when" column cites among the rule's references.

use verskew::analysis::evidence::BASE_KEYS;
use verskew::analysis::rules::ALL;

struct Row {
    rule: String,
    severities: Vec<String>,
    fires_when: String,
    /// Top-level evidence keys, `[]` and `{…}` (nested keys) dropped.
    evidence: Vec<String>,
}

/// The words inside backticks of `cell`.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(|k| k.trim_end_matches("[]").to_string())
        .collect()
}

/// `cell` without its `{…}` groups.
fn top_level(cell: &str) -> String {
    let mut depth = 0;
    cell.chars()
        .filter(|c| {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => return depth == 0,
            }
            false
        })
        .collect()
}

fn readme_rows() -> Vec<Row> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = readme
        .split("\n### Rules\n")
        .nth(1)
        .expect("README has a ### Rules section");
    let mut rows: Vec<Row> = Vec::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 6, "four columns: {line}");
        let keys = top_level(cells[4]);
        let mut evidence = ticked(&keys);
        if keys.starts_with("as above") {
            let above = &rows.last().expect("a row above").evidence;
            evidence = above.iter().cloned().chain(evidence).collect();
        }
        rows.push(Row {
            rule: ticked(cells[1]).concat(),
            severities: cells[2].split('/').map(|s| s.trim().to_string()).collect(),
            fires_when: cells[3].to_string(),
            evidence,
        });
    }
    rows
}

/// KB articles a text cites: "Q291589", "KB 2009746" → "KB2009746",
/// "KB Q291589" → "Q291589".
fn cited(text: &str) -> Vec<String> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if let Some(n) = w.strip_prefix('Q').filter(|n| number(n)) {
            out.push(format!("Q{n}"));
        } else if *w == "KB" && words.get(i + 1).is_some_and(|n| number(n)) {
            out.push(format!("KB{}", words[i + 1]));
        } else if w.strip_prefix("KB").is_some_and(number) {
            out.push(w.to_string());
        }
    }
    out
}

#[test]
fn readme_rule_table_matches_the_registry() {
    let rows = readme_rows();
    let ids: Vec<&str> = ALL.iter().map(|r| r.id()).collect();
    let listed: Vec<&str> = rows.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(listed, ids, "rule ids, in registry order");
    for (row, rule) in rows.iter().zip(ALL) {
        let id = rule.id();
        let severities: Vec<String> = rule.severities().iter().map(|s| s.to_string()).collect();
        assert_eq!(row.severities, severities, "{id}: severity column");
        assert!(
            severities.contains(&rule.default_severity().to_string()),
            "{id}: default severity among its severities"
        );
        // The README lists the base keys (os, control_set, hotfixes) for some
        // rules only; every finding carries them, so they are not compared.
        let own: Vec<&str> = row
            .evidence
            .iter()
            .map(String::as_str)
            .filter(|k| !BASE_KEYS.contains(k))
            .collect();
        assert_eq!(own, rule.evidence_keys(), "{id}: evidence keys");
        for kb in cited(&row.fires_when) {
            assert!(
                rule.references().contains(&kb.as_str()),
                "{id}: the README cites {kb}, the rule's references() do not"
            );
        }
        assert!(!rule.summary().is_empty() && !rule.summary().contains('\n'));
    }
}

#[test]
fn kb_citations_are_read_in_each_spelling() {
    assert_eq!(
        cited("skew: KB Q291589 (KB 2009746, KB920720; Q216802)"),
        ["Q291589", "KB2009746", "KB920720", "Q216802"]
    );
}
