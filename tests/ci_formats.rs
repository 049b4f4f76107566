//! `diagnose --format sarif` and `--format junit` through the real binary,
//! over factory images of every kind: healthy, with findings, not evaluated,
//! partly evaluated, and images that cannot be analysed (missing, not a disk
//! image). Each document is validated against its published schema
//! (`../shared/schemas/`: the OASIS SARIF 2.1.0 JSON schema with Python's
//! `jsonschema`, Jenkins' junit-10.xsd with `xmllint`), skipped visibly when
//! the schema or the validator is absent; the shapes are pinned by insta
//! snapshots; the exit status is the one `--format json` gives.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
const HEALTHY: &str = "nt4-iis4-healthy.img";
/// Windows Server 2012: no IIS 8 knowledge, not evaluated.
const NOT_EVALUATED: &str = "w2k12-iis8.img";
/// IIS 7.5 without applicationHost.config: partly evaluated.
const PARTIAL: &str = "w2k8r2-iis75.img";
const MISSING: &str = "no-such-image.img";
/// A file that is no disk image.
const NOT_AN_IMAGE: &str = "images.toml";

/// Every kind of outcome, in one invocation.
const ALL_KINDS: [&str; 6] = [HEALTHY, SEED, NOT_EVALUATED, PARTIAL, MISSING, NOT_AN_IMAGE];

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata());
    c
}

/// (exit status, stdout) of `diagnose --format FORMAT IMAGES…`.
fn diagnose(format: &str, images: &[&str]) -> (i32, String) {
    let out = verskew()
        .args(["diagnose", "--format", format])
        .args(images)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).expect("UTF-8"),
    )
}

fn schema(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/schemas")
        .join(name);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("SKIPPED: schema validation: {} not found", p.display());
        None
    }
}

/// Validates `doc` against the SARIF schema with Python's jsonschema
/// (Draft 4, as the schema declares); false when it could not be run.
fn validate_sarif(doc: &str) -> bool {
    let Some(schema) = schema("sarif-schema-2.1.0.json") else {
        return false;
    };
    let probe = Process::new("python3")
        .args(["-c", "import jsonschema"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED: SARIF schema validation: python3 with jsonschema not found (pip install jsonschema)");
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("verskew.sarif");
    std::fs::write(&file, doc).unwrap();
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        log = json.load(open(sys.argv[2]))\n\
        v = jsonschema.Draft4Validator(schema)\n\
        errors = sorted(v.iter_errors(log), key=lambda e: list(e.path))\n\
        for e in errors[:20]:\n\
        \x20   print('/'.join(map(str, e.path)), e.message)\n\
        sys.exit(1 if errors else 0)\n";
    let out = Process::new("python3")
        .args(["-c", script])
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// Validates `doc` against junit-10.xsd with xmllint; false when it could
/// not be run.
fn validate_junit(doc: &str) -> bool {
    let Some(xsd) = schema("junit-10.xsd") else {
        return false;
    };
    if Process::new("xmllint").arg("--version").output().is_err() {
        eprintln!("SKIPPED: JUnit schema validation: xmllint not found (Debian libxml2-utils)");
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("verskew.xml");
    std::fs::write(&file, doc).unwrap();
    let out = Process::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "JUnit XML does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

fn notes(log: &Value) -> Vec<(String, String)> {
    log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["descriptor"]["id"].as_str().unwrap().to_string(),
                n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn sarif_over_every_kind_of_image_validates_and_keeps_the_exit_status() {
    let (status, doc) = diagnose("sarif", &ALL_KINDS);
    let (json_status, _) = diagnose("json", &ALL_KINDS);
    assert_eq!(status, json_status, "exit status changed by the format");
    assert_eq!(status, 2, "two images cannot be analysed");
    let log: Value = serde_json::from_str(&doc).expect("one JSON document");
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run per invocation");
    let run = &runs[0];

    // The rules are the registry, in order, each with its metadata.
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let registry: Vec<&str> = verskew::analysis::rules::ALL
        .iter()
        .map(|r| r.id())
        .collect();
    assert_eq!(ids, registry);
    for r in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(
                r[key]["text"].as_str().is_some_and(|t| !t.is_empty()),
                "{r}"
            );
        }
        let refs = r["properties"]["references"].as_array().unwrap();
        assert_eq!(r["helpUri"].is_string(), !refs.is_empty(), "{r}");
    }

    // One artifact per image, in order.
    let uris: Vec<&str> = run["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["location"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, ALL_KINDS);

    // Findings: the seed's, located at its image and a Windows path.
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let loc = &r["locations"][0];
        let uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert_eq!(uri, SEED, "{r}");
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(r["ruleId"], ids[index]);
        assert!(matches!(
            r["level"].as_str(),
            Some("error" | "warning" | "note")
        ));
        assert!(loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .starts_with('\\'));
        assert!(r["properties"]["volume"]["index"].is_u64());
        let fp = r["partialFingerprints"]["verskewFinding/v1"]
            .as_str()
            .unwrap();
        assert_eq!(fp.len(), 64);
    }
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "lockstep-mismatch" && r["level"] == "error"));

    // What was not judged is said: never a silent all-clear.
    let notes = notes(&log);
    let has = |id: &str, uri: &str| notes.iter().any(|(i, u)| i == id && u == uri);
    assert!(has("image-not-analysed", MISSING), "{notes:?}");
    assert!(has("image-not-analysed", NOT_AN_IMAGE), "{notes:?}");
    assert!(has("install-not-evaluated", NOT_EVALUATED), "{notes:?}");
    assert!(has("install-partly-evaluated", PARTIAL), "{notes:?}");
    assert!(!notes.iter().any(|(_, u)| u == HEALTHY), "{notes:?}");
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);

    validate_sarif(&doc);
}

#[test]
fn sarif_of_a_healthy_image_is_clean_and_successful() {
    let (status, doc) = diagnose("sarif", &[HEALTHY]);
    assert_eq!(status, 0);
    let log: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
    assert_eq!(
        log["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert!(notes(&log).is_empty());
    validate_sarif(&doc);
}

#[test]
fn fingerprints_are_stable_across_runs_and_paths() {
    let (_, a) = diagnose("sarif", &[SEED]);
    let (_, b) = diagnose("sarif", &[SEED]);
    assert_eq!(a, b, "the same image gives the same document");
    // The same image under another name (a new capture of the same server
    // would be another file): the same fingerprints.
    let (_, c) = diagnose("sarif", &[&format!("./{SEED}"), SEED]);
    let log: Value = serde_json::from_str(&c).unwrap();
    let prints = |artifact: u64| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["index"] == artifact
            })
            .map(|r| {
                r["partialFingerprints"]["verskewFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    assert!(!prints(0).is_empty());
    assert_eq!(prints(0), prints(1));
    // Distinct findings, distinct fingerprints.
    let mut unique = prints(0);
    unique.dedup();
    assert_eq!(unique.len(), prints(0).len());
}

#[test]
fn sarif_snapshot() {
    let (_, doc) = diagnose("sarif", &[SEED, NOT_EVALUATED, MISSING]);
    insta::assert_snapshot!("seed_not_evaluated_missing_sarif", doc);
}

#[test]
fn junit_over_every_kind_of_image_validates_and_keeps_the_exit_status() {
    let (status, doc) = diagnose("junit", &ALL_KINDS);
    let (json_status, _) = diagnose("json", &ALL_KINDS);
    assert_eq!(status, json_status, "exit status changed by the format");
    let doc_tree = roxmltree::Document::parse(&doc).expect("well-formed XML");
    let root = doc_tree.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<roxmltree::Node> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ALL_KINDS, "one suite per image, in order");
    let suite = |name: &str| {
        *suites
            .iter()
            .find(|s| s.attribute("name") == Some(name))
            .unwrap()
    };
    let case = |s: roxmltree::Node<'_, '_>, name: &str, child: &str| {
        s.children()
            .filter(|c| c.has_tag_name("testcase") && c.attribute("name") == Some(name))
            .any(|c| c.children().any(|e| e.has_tag_name(child)))
    };
    let rules = verskew::analysis::rules::ALL.len();

    // Healthy: every rule and the coverage case pass.
    let healthy = suite(HEALTHY);
    assert_eq!(
        healthy.attribute("tests"),
        Some((rules + 1).to_string().as_str())
    );
    for a in ["failures", "errors", "skipped"] {
        assert_eq!(healthy.attribute(a), Some("0"), "{a}");
    }
    // Findings: an error finding is a failure with its message.
    let seed = suite(SEED);
    assert!(case(seed, "lockstep-mismatch", "failure"));
    assert_ne!(seed.attribute("failures"), Some("0"));
    // Not evaluated: every rule skipped, the coverage case an error.
    let ne = suite(NOT_EVALUATED);
    assert_eq!(ne.attribute("skipped"), Some(rules.to_string().as_str()));
    assert!(case(ne, "coverage", "error"));
    // Partly evaluated: the coverage case skipped, with the reason.
    assert!(case(suite(PARTIAL), "coverage", "skipped"));
    // Images that could not be analysed: one error each.
    for image in [MISSING, NOT_AN_IMAGE] {
        assert!(case(suite(image), "analyse", "error"), "{image}");
    }
    validate_junit(&doc);
}

#[test]
fn junit_snapshot() {
    let (_, doc) = diagnose("junit", &[SEED, NOT_EVALUATED, MISSING]);
    insta::assert_snapshot!("seed_not_evaluated_missing_junit", doc);
}

#[test]
fn sarif_and_junit_are_one_document_with_output() {
    let dir = tempfile::tempdir().unwrap();
    for (format, name) in [("sarif", "out.sarif"), ("junit", "out.xml")] {
        let path = dir.path().join(name);
        let out = verskew()
            .args(["diagnose", "--format", format, "--output"])
            .arg(&path)
            .args([SEED, HEALTHY])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(out.stdout.is_empty(), "{format}: nothing on stdout");
        let (_, direct) = diagnose(format, &[SEED, HEALTHY]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), direct, "{format}");
    }
}

#[test]
fn exit_status_is_the_one_json_gives() {
    // 0 healthy, 1 an error finding, 3 not evaluated, 0 partly evaluated
    // (under the default --fail-on), 2 not analysed.
    for (images, expected) in [
        (&[HEALTHY][..], 0),
        (&[SEED][..], 1),
        (&[NOT_EVALUATED][..], 3),
        (&[PARTIAL][..], 0),
        (&[MISSING][..], 2),
        (&[HEALTHY, NOT_EVALUATED][..], 3),
    ] {
        for format in ["json", "sarif", "junit"] {
            assert_eq!(diagnose(format, images).0, expected, "{format} {images:?}");
        }
    }
    let uncovered = |format| {
        let out = verskew()
            .args([
                "diagnose",
                "--fail-on",
                "uncovered",
                "--format",
                format,
                PARTIAL,
            ])
            .output()
            .unwrap();
        out.status.code()
    };
    assert_eq!(uncovered("sarif"), Some(3));
    assert_eq!(uncovered("junit"), uncovered("json"));
}

/// Every committed image (`testdata/`, its containers and damaged ones) in
/// one invocation: one valid SARIF log and one valid JUnit document, one
/// artifact and one suite per image, whatever each image holds.
#[test]
fn every_committed_image_in_one_document() {
    let td = common::testdata();
    let mut images: Vec<String> = Vec::new();
    for dir in ["", "containers", "damaged"] {
        for e in std::fs::read_dir(td.join(dir)).unwrap() {
            let p = e.unwrap().path();
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            let disk = matches!(
                ext,
                "img" | "E01" | "vhd" | "vhdx" | "vmdk" | "qcow2" | "001"
            );
            if p.is_file() && disk {
                images.push(p.strip_prefix(&td).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    images.sort();
    assert!(images.len() >= 40, "only {} images", images.len());
    let args: Vec<&str> = images.iter().map(String::as_str).collect();

    let (sarif_status, doc) = diagnose("sarif", &args);
    let log: Value = serde_json::from_str(&doc).unwrap();
    let artifacts = log["runs"][0]["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), images.len());
    validate_sarif(&doc);

    let (junit_status, doc) = diagnose("junit", &args);
    assert_eq!(junit_status, sarif_status);
    let suites = roxmltree::Document::parse(&doc)
        .unwrap()
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .count();
    assert_eq!(suites, images.len());
    validate_junit(&doc);
    eprintln!(
        "{} images in one SARIF log and one JUnit document",
        images.len()
    );
}
