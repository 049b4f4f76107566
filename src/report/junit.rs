//! `diagnose --format junit`: one JUnit XML document for the whole
//! invocation, for the test-report views of CI systems (GitLab's
//! `artifacts:reports:junit`, Jenkins, GitHub test-report actions).
//!
//! One `<testsuite>` per image given, in order. In it, per install, one
//! `<testcase>` per rule of the registry ([`ALL`], in its order): a
//! `<failure>` when the rule found an error there, `<skipped>` when the
//! install could not be evaluated, passed otherwise (its warnings and notes
//! in `<system-out>`); then one `coverage` case: passed when every rule
//! family was evaluated, `<skipped>` when only in part, an `<error>` when
//! not at all, so a dashboard never shows all-green for what no rule could
//! judge. An image that could not be analysed is one `analyse` case with an
//! `<error>`.
//!
//! Written by hand to the elements and attributes of Jenkins' junit-10.xsd
//! (the schema the xUnit plugin validates against). Text from an image goes
//! through [`escape`] and then XML escaping; characters XML 1.0 cannot
//! carry are written in the same `\u{…}` form.

use std::fmt::Write;

use super::{escape, Outcome};
use crate::analysis::rules::ALL;
use crate::analysis::{Finding, Severity, Status};
use crate::commands::diagnose::Diagnosis;

/// The JUnit XML document of one `diagnose` invocation over `outcomes` (in
/// the order the images were given), with a final newline.
pub fn junit_report(outcomes: &[Outcome]) -> String {
    let suites: Vec<Suite> = outcomes.iter().map(suite).collect();
    let count = |f: fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"verskew diagnose\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
        count(|s| s.cases.len()),
        count(|s| s.count(Kind::Failure)),
        count(|s| s.count(Kind::Error)),
    );
    for s in &suites {
        s.write(&mut o);
    }
    o.push_str("</testsuites>\n");
    o
}

struct Suite {
    name: String,
    properties: Vec<(&'static str, String)>,
    cases: Vec<Case>,
    system_out: Option<String>,
}

struct Case {
    name: String,
    classname: String,
    outcome: Option<Bad>,
    system_out: Option<String>,
}

/// A case that did not pass: which element, its `type`, `message` and text.
struct Bad {
    kind: Kind,
    ty: String,
    message: String,
    text: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Error,
    Skipped,
}

impl Kind {
    fn element(self) -> &'static str {
        match self {
            Kind::Failure => "failure",
            Kind::Error => "error",
            Kind::Skipped => "skipped",
        }
    }
}

impl Suite {
    fn count(&self, kind: Kind) -> usize {
        self.cases
            .iter()
            .filter(|c| c.outcome.as_ref().is_some_and(|b| b.kind == kind))
            .count()
    }

    fn write(&self, o: &mut String) {
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" file=\"{}\">",
            xml(&self.name),
            self.cases.len(),
            self.count(Kind::Failure),
            self.count(Kind::Error),
            self.count(Kind::Skipped),
            xml(&self.name),
        );
        if !self.properties.is_empty() {
            o.push_str("    <properties>\n");
            for (name, value) in &self.properties {
                let _ = writeln!(
                    o,
                    "      <property name=\"{name}\" value=\"{}\"/>",
                    xml(value)
                );
            }
            o.push_str("    </properties>\n");
        }
        for c in &self.cases {
            let open = format!(
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml(&c.name),
                xml(&c.classname)
            );
            if c.outcome.is_none() && c.system_out.is_none() {
                let _ = writeln!(o, "{open}/>");
                continue;
            }
            let _ = writeln!(o, "{open}>");
            if let Some(b) = &c.outcome {
                let el = b.kind.element();
                let _ = write!(
                    o,
                    "      <{el} type=\"{}\" message=\"{}\"",
                    xml(&b.ty),
                    xml(&b.message)
                );
                match b.text.is_empty() {
                    true => o.push_str("/>\n"),
                    false => {
                        let _ = writeln!(o, ">{}</{el}>", text(&b.text));
                    }
                }
            }
            if let Some(out) = &c.system_out {
                let _ = writeln!(o, "      <system-out>{}</system-out>", text(out));
            }
            o.push_str("    </testcase>\n");
        }
        if let Some(out) = &self.system_out {
            let _ = writeln!(o, "    <system-out>{}</system-out>", text(out));
        }
        o.push_str("  </testsuite>\n");
    }
}

fn suite(outcome: &Outcome) -> Suite {
    match outcome {
        Outcome::Failed { image, error } => Suite {
            name: escape(image).into_owned(),
            properties: vec![("status", "failed".into()), ("kind", error.kind().into())],
            cases: vec![Case {
                name: "analyse".into(),
                classname: "image".into(),
                outcome: Some(Bad {
                    kind: Kind::Error,
                    ty: error.kind().into(),
                    message: escape(&error.to_string()).into_owned(),
                    text: String::new(),
                }),
                system_out: None,
            }],
            system_out: None,
        },
        Outcome::Diagnosed(d) => diagnosed(d),
    }
}

fn diagnosed(d: &Diagnosis) -> Suite {
    let mut cases = Vec::new();
    for (install, coverage) in d.installs.iter().zip(&d.coverage) {
        let classname = format!(
            "{} (volume {})",
            escape(&install.system_root),
            install.volume
        );
        let reasons: Vec<String> = coverage
            .reasons
            .iter()
            .map(|r| escape(r).into_owned())
            .collect();
        let own: Vec<&Finding> = d
            .findings
            .iter()
            .filter(|f| f.volume == install.volume && f.install == install.system_root)
            .collect();
        for rule in ALL {
            let found: Vec<&Finding> = own
                .iter()
                .copied()
                .filter(|f| f.rule == rule.id())
                .collect();
            let outcome = match (
                coverage.status,
                found.iter().find(|f| f.severity == Severity::Error),
            ) {
                (Status::NotEvaluated, _) => Some(Bad {
                    kind: Kind::Skipped,
                    ty: "not-evaluated".into(),
                    message: format!("not evaluated: {}", reasons.join("; ")),
                    text: String::new(),
                }),
                (_, Some(first)) => Some(Bad {
                    kind: Kind::Failure,
                    ty: rule.id().into(),
                    message: escape(&first.message).into_owned(),
                    text: describe(&found),
                }),
                (_, None) => None,
            };
            // Warnings and notes do not fail a case: they are said beside it.
            let system_out = match (&outcome, found.is_empty()) {
                (None, false) => Some(describe(&found)),
                _ => None,
            };
            cases.push(Case {
                name: rule.id().into(),
                classname: classname.clone(),
                outcome,
                system_out,
            });
        }
        let why = reasons.join("; ");
        cases.push(Case {
            name: "coverage".into(),
            classname,
            outcome: match coverage.status {
                Status::Evaluated => None,
                Status::Partial => Some(Bad {
                    kind: Kind::Skipped,
                    ty: "partial".into(),
                    message: format!("partly evaluated: {why}"),
                    text: String::new(),
                }),
                Status::NotEvaluated => Some(Bad {
                    kind: Kind::Error,
                    ty: "not-evaluated".into(),
                    message: format!("not evaluated: {why}"),
                    text: String::new(),
                }),
            },
            system_out: None,
        });
    }
    let unread: String = d
        .unreadable
        .iter()
        .map(|u| {
            format!(
                "could not read {}: {}\n",
                escape(&u.path),
                escape(&u.reason)
            )
        })
        .collect();
    Suite {
        name: escape(&d.image).into_owned(),
        properties: vec![
            ("status", d.status().id().into()),
            ("format", d.format.to_string()),
            ("size", d.size.to_string()),
        ],
        cases,
        system_out: (!unread.is_empty()).then_some(unread),
    }
}

/// Findings for a person: one paragraph each (severity and message, paths,
/// remedy, references).
fn describe(found: &[&Finding]) -> String {
    let mut o = String::new();
    for f in found {
        let _ = writeln!(o, "{}: {}", f.severity, escape(&f.message));
        if !f.paths.is_empty() {
            let paths: Vec<String> = f.paths.iter().map(|p| escape(p).into_owned()).collect();
            let _ = writeln!(o, "  paths: {}", paths.join(", "));
        }
        if !f.remedy.is_empty() {
            let _ = writeln!(o, "  remedy: {}", escape(&f.remedy));
        }
        if !f.references.is_empty() {
            let _ = writeln!(o, "  references: {}", f.references.join(", "));
        }
    }
    o
}

/// `s` as XML character data: as [`xml`], with line breaks and tabs kept.
fn text(s: &str) -> String {
    xml(s)
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&#9;", "\t")
}

/// `s` as an XML attribute value (or character data): `&`, `<`, `>`, `"` and
/// `'` as entities, line breaks and tabs as character references (kept in
/// attributes too); a character XML 1.0 cannot carry (C0 controls other
/// than tab, LF and CR; U+FFFE, U+FFFF) as `\u{…}`.
pub(crate) fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn xml_escapes_markup_and_what_xml_cannot_hold() {
        assert_eq!(
            xml("a<b>&\"c'\n\t\0\u{fffe}é"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;\\u{0}\\u{fffe}é"
        );
    }
}
