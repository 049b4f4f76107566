//! Never a false all-clear: what a diagnosis could not judge is part of its
//! result (`status`, `installs[].coverage`), its text says so first, and the
//! exit status tells it apart from health. `versions` and `info` do not
//! answer "no match" or exit 0 for what they could not read.

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
const HEALTHY: &str = "nt4-iis4-healthy.img";
const HIVE_CELL: &str = "damaged/damaged-hive-cell.img";
const MFT_FIXUP: &str = "damaged/damaged-mft-fixup.img";
const DAMAGED_SYSTEM: &str = "damaged/damaged-system-hive.img";

/// The IIS 4 families moved to an OS no image has: no rule applies to NT 4.0.
const NO_NT4_KNOWLEDGE: &str = r#"
[[family]]
id = "iis4"
version_line = "4.2"
name = "IIS 4.0, moved away for a test"
os = ["9.9"]
services = ["W3SVC"]
files = ["w3svc.dll"]
references = ["test"]

[[family]]
id = "nt4-ims"
version_line = "5.5"
name = "NT 4.0 SMTP/NNTP, moved away for a test"
os = ["9.9"]
services = ["SMTPSVC"]
files = ["smtpsvc.dll"]
references = ["test"]
"#;

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata());
    c
}

fn rules(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// (exit status, stdout, stderr) of a run.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = verskew().args(args).output().unwrap();
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout.lines().next().expect("a line")).unwrap()
}

#[test]
fn an_install_with_no_knowledge_is_not_evaluated_never_clean() {
    let dir = tempfile::tempdir().unwrap();
    let r = rules(&dir, "away.toml", NO_NT4_KNOWLEDGE);
    let r = r.to_str().unwrap();
    let (code, text, _) = run(&["diagnose", "--rules", r, HEALTHY]);
    assert_eq!(code, 3, "not evaluated is exit 3:\n{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("NOT EVALUATED: no IIS knowledge for Windows NT 4.0"),
        "said first:\n{text}"
    );
    assert!(!text.contains("every version rule is satisfied"), "{text}");
    assert!(text.contains("no rule could judge this image"), "{text}");

    let (code, out, _) = run(&["diagnose", "--format", "json", "--rules", r, HEALTHY]);
    assert_eq!(code, 3);
    let j = json(&out);
    assert_eq!(j["status"], "not-evaluated");
    assert_eq!(j["installs"][0]["status"], "not-evaluated");
    assert_eq!(
        j["installs"][0]["coverage"]["families"],
        serde_json::json!([])
    );
    // The rules file used is named with its digest.
    assert_eq!(j["rules_files"][0]["path"], r);
    assert_eq!(j["rules_files"][0]["sha256"].as_str().unwrap().len(), 64);

    // --fail-on never opts out; findings still outrank coverage.
    assert_eq!(
        run(&["diagnose", "--fail-on", "never", "--rules", r, HEALTHY]).0,
        0
    );
}

#[test]
fn both_hives_unreadable_is_not_evaluated() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let img = corpus.join("ntfs/velociraptor__partition_image.E01");
    let img = img.to_str().unwrap();
    let (code, text, _) = run(&["diagnose", img]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("NOT EVALUATED: the SOFTWARE and SYSTEM hives could not be read"),
        "{text}"
    );
    let (_, out, _) = run(&["diagnose", "--format", "json", img]);
    let j = json(&out);
    assert_eq!(j["status"], "not-evaluated");
    let hives = j["installs"][0]["coverage"]["hives"].as_array().unwrap();
    assert!(
        hives.iter().all(|h| h["state"] == "unreadable"),
        "{hives:?}"
    );
}

#[test]
fn a_partial_read_is_said_in_the_summary_and_fails_on_uncovered() {
    let dir = tempfile::tempdir().unwrap();
    let r = rules(&dir, "no-w3svc.toml", common::NO_W3SVC_RULES);
    let r = r.to_str().unwrap();
    // Without the w3svc.dll error the damaged image has no finding left, but
    // a registry key could not be read: partial, never "satisfied" plain.
    let (code, text, _) = run(&["diagnose", "--rules", r, HIVE_CELL]);
    assert_eq!(code, 0, "partial coverage alone passes by default:\n{text}");
    let summary = text.lines().find(|l| l.starts_with("Findings:")).unwrap();
    assert!(
        summary.contains("PARTIAL: 1 item(s) could not be read"),
        "{summary}"
    );
    assert!(text.contains("satisfied by what could be read"), "{text}");
    assert!(text.contains("coverage: partial"), "{text}");
    assert_eq!(
        run(&[
            "diagnose",
            "--fail-on",
            "uncovered",
            "--rules",
            r,
            HIVE_CELL
        ])
        .0,
        3
    );
    // A clean image passes --fail-on uncovered.
    assert_eq!(run(&["diagnose", "--fail-on", "uncovered", HEALTHY]).0, 0);
    // Findings outrank coverage: the seed's error is exit 1 either way.
    assert_eq!(run(&["diagnose", "--fail-on", "uncovered", SEED]).0, 1);

    let (_, out, _) = run(&["diagnose", "--format", "json", MFT_FIXUP]);
    let j = json(&out);
    assert_eq!(j["status"], "partial");
    let c = &j["installs"][0]["coverage"];
    assert_eq!(c["files_unreadable"], 1, "{c}");
    assert!(c["reasons"][0]
        .as_str()
        .unwrap()
        .contains("PE file(s) could not be read"));
}

#[test]
fn errors_carry_a_kind_under_each_commands_schema() {
    for (cmd, schema) in [
        ("diagnose", "verskew.diagnose/1"),
        ("versions", "verskew.versions/1"),
        ("info", "verskew.info/1"),
    ] {
        let (code, out, err) = run(&[cmd, "--format", "json", "no-such.img"]);
        assert_eq!(code, 2, "{cmd}");
        assert_eq!(err.trim_end().lines().count(), 1, "{cmd}: {err}");
        let j = json(&out);
        assert_eq!(j["schema"], schema);
        assert_eq!(j["kind"], "not-found", "{cmd}");
        assert_eq!(j["tool_version"], env!("CARGO_PKG_VERSION"));
        assert!(j["error"].as_str().unwrap().contains("no-such.img"));
    }
    let (_, out, _) = run(&[
        "diagnose",
        "--format",
        "json",
        "damaged/damaged-truncated.img",
    ]);
    assert!(json(&out)["kind"].is_string());
}

#[test]
fn versions_never_calls_an_unreadable_folder_no_match() {
    // The damaged index makes one inetsrv folder unreadable: the rest is
    // listed, the loss is said, and the exit status is 3, not 0.
    let (code, out, err) = run(&["versions", "damaged/damaged-index-loop.img", r"**\*"]);
    assert_eq!(code, 3, "{err}");
    assert!(!out.is_empty());
    assert!(err.contains("could not read"), "{err}");
    // A folder that is simply absent is no match, exit 0.
    let (code, out, err) = run(&["versions", SEED, r"\WINNT\no-such-folder\*.dll"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("no PE file matched"), "{err}");
}

#[test]
fn info_says_a_truncated_volume_and_exits_3() {
    let (code, out, _) = run(&["info", "damaged/damaged-truncated.img"]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("partition 1 is truncated: the NTFS boot sector declares 1,113,600 bytes, the image holds 557,056"),
        "{out}"
    );
    let (_, out, _) = run(&["info", "--format", "json", "damaged/damaged-truncated.img"]);
    assert_eq!(json(&out)["truncated"], serde_json::json!([1]));
    // A whole image: nothing truncated, exit 0.
    let (code, out, _) = run(&["info", "--format", "json", SEED]);
    assert_eq!(code, 0);
    assert_eq!(json(&out)["truncated"], serde_json::json!([]));
}

/// The damaged SYSTEM image with a good `SYSTEM.ALT` beside the zeroed
/// SYSTEM (the seed's SYSTEM, read with verskew's own NTFS reader), written
/// through an ntfs-3g mount of a copy. `None`, said SKIPPED, without ntfs-3g.
fn damaged_system_with_alt(dir: &std::path::Path) -> Option<PathBuf> {
    let root = std::process::Command::new("id").arg("-u").output().ok();
    if !common::have_tool("ntfs-3g")
        || root.map(|o| o.stdout.trim_ascii() != b"0").unwrap_or(true)
        || !std::path::Path::new("/dev/fuse").exists()
    {
        eprintln!("SKIPPED: writing SYSTEM.ALT needs ntfs-3g, root and /dev/fuse");
        return None;
    }
    let seed = verskew::image::open(&common::testdata().join(SEED)).unwrap();
    let vol = verskew::fs::NtfsVolume::open(seed.disk.as_ref(), 0, seed.disk.size()).unwrap();
    let system = vol
        .read(&vol.lookup(r"\WINNT\system32\config\SYSTEM").unwrap())
        .unwrap()
        .into_owned();
    let img = dir.join("system-alt.img");
    std::fs::copy(common::testdata().join(DAMAGED_SYSTEM), &img).unwrap();
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    common::ntfs3g::with_mount(&img, &mnt, |m| {
        std::fs::write(m.join("WINNT/system32/config/SYSTEM.ALT"), &system).unwrap();
    });
    Some(img)
}

#[test]
fn an_unreadable_system_hive_is_read_from_system_alt_and_said_partial() {
    // Without SYSTEM.ALT (the committed image): as before, SYSTEM unreadable.
    let (_, out, _) = run(&["diagnose", "--format", "json", DAMAGED_SYSTEM]);
    let j = json(&out);
    let install = &j["installs"][0];
    assert_eq!(install["hives"][1]["state"], "unreadable");
    assert_eq!(install["control_set"], Value::Null);
    assert_eq!(
        install["coverage"]["reasons"],
        serde_json::json!(["the SYSTEM hive could not be read"])
    );

    let dir = tempfile::tempdir().unwrap();
    let Some(img) = damaged_system_with_alt(dir.path()) else {
        return;
    };
    let (code, out, _) = run(&["diagnose", "--format", "json", img.to_str().unwrap()]);
    assert_eq!(code, 1, "the finding stays: {out}");
    let j = json(&out);
    let rules: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"lockstep-mismatch"), "{rules:?}");
    let install = &j["installs"][0];
    assert_eq!(install["control_set"]["name"], "ControlSet001");
    assert!(
        install["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "W3SVC"),
        "{}",
        install["services"]
    );
    let system = &install["hives"][1];
    assert_eq!(system["name"], "SYSTEM");
    assert_eq!(system["state"], "alternate");
    assert_eq!(system["path"], r"\WINNT\system32\config\SYSTEM.ALT");
    assert_eq!(system["error"], Value::Null);
    let why = system["state_reason"].as_str().unwrap();
    assert!(
        why.starts_with(r"\WINNT\system32\config\SYSTEM: ") && why.contains("regf"),
        "{why}"
    );
    assert_eq!(install["status"], "partial");
    let coverage = &install["coverage"];
    assert_eq!(coverage["hives"][1]["state"], "alternate");
    let reasons = coverage["reasons"].as_array().unwrap();
    assert!(
        reasons[0]
            .as_str()
            .unwrap()
            .starts_with(r"SYSTEM read from \WINNT\system32\config\SYSTEM.ALT"),
        "{reasons:?}"
    );
}

/// Sections count among what ran only where the configuration declares the
/// `system.webServer` group they are judged under.
#[test]
fn sections_are_listed_only_where_they_were_judged() {
    let families = |img: &str| -> Vec<Value> {
        let (_, out, _) = run(&["diagnose", "--format", "json", img]);
        json(&out)["installs"][0]["coverage"]["families"]
            .as_array()
            .unwrap()
            .clone()
    };
    let sections = Value::from("iis-sections");
    // Declared (<configSections> with system.webServer): judged, listed.
    assert!(families("w2k19-iis10-sections-healthy.img").contains(&sections));
    // No <configSections>: nothing judged, so not listed; modules still are.
    let plain = families("w2k19-iis10-healthy.img");
    assert!(!plain.contains(&sections), "{plain:?}");
    assert!(plain.contains(&Value::from("iis-modules")), "{plain:?}");
}
