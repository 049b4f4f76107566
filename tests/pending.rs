//! The `nt4-iis4-pending-*` images: PendingFileRenameOperations judged both
//! ways (the lockstep state now and after the next boot), and the story the
//! seed image tells.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn diagnose(image: &str) -> Value {
    let path = common::testdata().join(image);
    assert!(
        path.is_file(),
        "testdata/{image} is committed and must exist"
    );
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .args(["diagnose", "--format", "json", "--fail-on", "never"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The pending-rename finding's severity and `pending` evidence.
fn pending(image: &str) -> (String, Value) {
    let r = diagnose(image);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pending-rename")
        .unwrap_or_else(|| panic!("{image}: no pending-rename finding"))
        .clone();
    (
        f["severity"].as_str().unwrap().to_string(),
        f["evidence"]["pending"].clone(),
    )
}

#[test]
fn a_queued_replacement_at_the_sets_version_fixes_the_mismatch() {
    let (severity, p) = pending("nt4-iis4-pending-fixes.img");
    assert_eq!(
        (severity.as_str(), p["verdict"].as_str()),
        ("warning", Some("fixes")),
        "{p}"
    );
    let op = &p["operations"][0];
    assert_eq!(op["source_version"], "4.2.769.1", "{p}");
    assert_eq!(op["destination_version"], "4.2.622.1", "{p}");
    assert_eq!(op["replace_existing"], true);
    assert_eq!(p["now"][0]["path"], r"\WINNT\system32\inetsrv\w3svc.dll");
    assert_eq!(p["after"], Value::Array(vec![]));
}

#[test]
fn a_queued_old_file_would_cause_the_mismatch() {
    let (severity, p) = pending("nt4-iis4-pending-causes.img");
    assert_eq!(
        (severity.as_str(), p["verdict"].as_str()),
        ("error", Some("causes")),
        "{p}"
    );
    assert_eq!(p["now"], Value::Array(vec![]));
    assert_eq!(p["after"][0]["version"], "4.2.622.1", "{p}");
    assert_eq!(p["after"][0]["expected"], "4.2.769.1", "{p}");
}

#[test]
fn a_final_delete_pair_is_kept_and_judged() {
    let r = diagnose("nt4-iis4-pending-delete.img");
    let i = &r["installs"][0];
    assert_eq!(
        i["pending_renames"],
        serde_json::json!([r"\??\C:\WINNT\system32\inetsrv\w3svc.dll", ""])
    );
    assert_eq!(i["pending_operations"][0]["destination"], Value::Null);
    let (severity, p) = pending("nt4-iis4-pending-delete.img");
    assert_eq!(
        (severity.as_str(), p["verdict"].as_str()),
        ("error", Some("causes")),
        "{p}"
    );
    assert_eq!(p["after"][0]["version"], Value::Null, "{p}");
}

#[test]
fn a_missing_source_is_not_checked_and_named() {
    let r = diagnose("nt4-iis4-pending-missing-source.img");
    assert_eq!(r["installs"][0]["pending_sources"][0]["state"], "missing");
    let (severity, p) = pending("nt4-iis4-pending-missing-source.img");
    assert_eq!(
        (severity.as_str(), p["verdict"].as_str()),
        ("warning", Some("not-checked")),
        "{p}"
    );
    let why = p["why"].as_str().unwrap();
    assert!(
        why.contains("SET4M.tmp") && why.contains("not on disk"),
        "{why}"
    );
}

#[test]
fn the_seed_tells_its_story_and_the_healthy_twin_none() {
    let r = diagnose("nt4-iis4-kb291589.img");
    let story = r["installs"][0]["story"].as_str().expect("a story");
    for want in [
        "Service Pack 6 applied 2000-03-14",
        "w3svc.dll was written on 2001-09-10, after Service Pack 6 on 2000-03-14",
        "Remedy: Reapply Windows NT 4.0 Service Pack 6a",
        "in install order: Q288855",
    ] {
        assert!(story.contains(want), "{want} not in: {story}");
    }
    let healthy = diagnose("nt4-iis4-healthy.img");
    assert_eq!(healthy["installs"][0]["story"], Value::Null);
}
