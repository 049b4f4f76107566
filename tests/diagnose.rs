//! `verskew diagnose` end to end through the real binary, against the
//! factory's manifest (testdata/images.toml): what a correct analysis of each
//! image reports.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Manifest {
    image: Vec<Image>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Image {
    name: String,
    file: String,
    format: String,
    #[serde(default)]
    system_root: String,
    #[serde(default)]
    os_version: String,
    #[serde(default)]
    os_build: String,
    #[serde(default)]
    service_pack: String,
    #[serde(default)]
    product_name: String,
    #[serde(default)]
    control_set: String,
    #[serde(default)]
    damaged: String,
    /// What a correct diagnosis says it covered: `evaluated`, `partial` or
    /// `not-evaluated` (image level).
    status: String,
    /// A substring of one of the install's coverage reasons ("" = any).
    #[serde(default)]
    reason: String,
    #[serde(default)]
    files: Vec<File>,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
    #[serde(default)]
    expect_unreadable: Vec<String>,
    /// For containers: the name of the image they were made from.
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    hotfixes: Vec<String>,
    /// `ntfs-3.1` (default), `ntfs-1.2`, `fat12`, `fat16`, `fat32`.
    #[serde(default = "ntfs31")]
    filesystem: String,
    #[serde(default)]
    partition_offset: u64,
    /// Hive name -> the state it must be read in (`replayed`, `alternate`).
    #[serde(default)]
    hive_state: BTreeMap<String, String>,
}

fn ntfs31() -> String {
    "ntfs-3.1".into()
}

/// The `filesystem_version` a report gives for a manifest `filesystem`.
fn fs_version(filesystem: &str) -> String {
    match filesystem.strip_prefix("ntfs-") {
        Some(v) => v.to_string(),
        None => filesystem.to_ascii_uppercase(),
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct File {
    path: String,
    #[serde(default)]
    file_version: String,
    #[serde(default)]
    size: u64,
}

#[derive(Deserialize)]
struct ExpectedFinding {
    rule: String,
    severity: String,
    paths: Vec<String>,
}

/// testdata/images.toml is committed: a missing manifest is a failure.
fn manifest() -> Manifest {
    let path = common::testdata().join("images.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).expect("images.toml parses")
}

/// A committed test image: its absence is a broken checkout, not a skip.
fn need(file: &str) -> &str {
    assert!(
        common::testdata().join(file).is_file(),
        "testdata/{file} is committed and must exist"
    );
    file
}

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata());
    c
}

fn diagnose_json(file: &str) -> (i32, Value) {
    let out = verskew()
        .args(["diagnose", "--format", "json", file])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout.lines().next().unwrap_or_else(|| {
        panic!(
            "{file}: no JSON output; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        out.status.code().unwrap(),
        serde_json::from_str(line).unwrap(),
    )
}

/// The coverage contract for one image: the JSON `status` is the manifest's,
/// the reason is given, and the exit status is 1 when the manifest lists an
/// error, else 3 when not evaluated, else 0. A not-evaluated image's text
/// report says so on its second line and never sounds like an all-clear.
fn check_coverage(img: &Image, file: &str, code: i32, json: &Value) {
    let coverage: Vec<&Value> = json["installs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| &i["coverage"])
        .collect();
    assert_eq!(
        json["status"],
        img.status.as_str(),
        "{}: image status; coverage: {coverage:?}",
        img.name
    );
    let installs = json["installs"].as_array().unwrap();
    assert!(!installs.is_empty(), "{}: no install", img.name);
    // The image status is its worst install's.
    assert!(
        installs.iter().any(|i| i["status"] == img.status.as_str()),
        "{}: no install is {}",
        img.name,
        img.status
    );
    if !img.reason.is_empty() {
        let reasons: Vec<&str> = installs
            .iter()
            .flat_map(|i| i["coverage"]["reasons"].as_array().unwrap())
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            reasons.iter().any(|r| r.contains(&img.reason)),
            "{}: no coverage reason contains {:?}: {reasons:?}",
            img.name,
            img.reason
        );
    }
    let errors = img.findings.iter().any(|f| f.severity == "error");
    let want = if errors {
        1
    } else if img.status == "not-evaluated" {
        3
    } else {
        0
    };
    assert_eq!(code, want, "{}: exit status", img.name);
    if img.status == "not-evaluated" {
        let out = verskew().args(["diagnose", file]).output().unwrap();
        assert_eq!(out.status.code(), Some(want), "{}: text exit", img.name);
        let text = String::from_utf8(out.stdout).unwrap();
        let second = text.lines().nth(1).unwrap_or_default();
        assert!(
            second.starts_with("NOT EVALUATED:"),
            "{}: second line is not NOT EVALUATED:\n{text}",
            img.name
        );
        assert!(
            !text.contains("every version rule is satisfied"),
            "{}: sounds like an all-clear:\n{text}",
            img.name
        );
    }
}

/// (rule, severity, path) triples of errors and warnings: the manifest lists
/// what a correct tool must report; info findings are free.
fn triples(findings: &Value) -> BTreeSet<(String, String, String)> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .flat_map(|f| {
            f["paths"].as_array().unwrap().iter().map(move |p| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["severity"].as_str().unwrap().to_string(),
                    p.as_str().unwrap().to_ascii_lowercase(),
                )
            })
        })
        .collect()
}

#[test]
fn every_factory_image_gives_the_manifest_findings() {
    let m = manifest();
    let mut checked = 0;
    let tmp = tempfile::tempdir().unwrap();
    for img in m.image.iter().filter(|i| i.damaged.is_empty()) {
        let source = img
            .source
            .as_ref()
            .and_then(|s| m.image.iter().find(|i| &i.name == s));
        let Some(path) = common::image_file(
            &img.file,
            &img.format,
            source.map(|s| s.file.as_str()),
            tmp.path(),
        ) else {
            continue;
        };
        let (code, json) = diagnose_json(path.to_str().unwrap());
        assert_eq!(json["schema"], "verskew.diagnose/1");
        assert!(
            json.get("error").is_none(),
            "{}: {}",
            img.name,
            json["error"]
        );
        let want: BTreeSet<_> = img
            .findings
            .iter()
            .flat_map(|f| {
                f.paths
                    .iter()
                    .map(|p| (f.rule.clone(), f.severity.clone(), p.to_ascii_lowercase()))
            })
            .collect();
        let got = triples(&json["findings"]);
        assert_eq!(got, want, "{}: findings differ from the manifest", img.name);
        check_coverage(img, path.to_str().unwrap(), code, &json);

        // The report says the filesystem version of the install's volume.
        let vol = json["volumes"]
            .as_array()
            .and_then(|v| {
                v.iter()
                    .find(|v| v["partition"]["offset"] == img.partition_offset)
            })
            .unwrap_or_else(|| panic!("{}: no volume at the partition offset", img.name));
        assert_eq!(
            vol["filesystem_version"],
            fs_version(&img.filesystem),
            "{}: filesystem version",
            img.name
        );

        let install = &json["installs"][0];
        let facts = [
            (&install["system_root"], &img.system_root),
            (&install["os"]["version"], &img.os_version),
            (&install["os"]["build"], &img.os_build),
            (&install["os"]["service_pack"], &img.service_pack),
            (&install["os"]["product_name"], &img.product_name),
            (&install["control_set"]["name"], &img.control_set),
        ];
        for (got, want) in facts {
            let got = got.as_str().unwrap_or_default();
            assert!(
                got.eq_ignore_ascii_case(want),
                "{}: {got} != {want}",
                img.name
            );
        }
        let hotfixes: Vec<&str> = install["hotfixes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap())
            .collect();
        assert_eq!(hotfixes, img.hotfixes, "{}: hotfixes", img.name);
        for (hive, state) in &img.hive_state {
            let h = install["hives"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["name"] == hive.as_str());
            let h = h.unwrap_or_else(|| panic!("{}: no {hive} hive", img.name));
            assert_eq!(h["state"], state.as_str(), "{}: {hive}: {h}", img.name);
        }
        // FAT stores local time: the report says how it made it UTC.
        let fs = img.filesystem.as_str();
        let volume = &json["volumes"][install["volume"].as_u64().unwrap() as usize];
        let (kind, times) = match fs.starts_with("fat") {
            true => ("fat", "converted to UTC with Bias"),
            false => ("ntfs", ""),
        };
        assert_eq!(volume["partition"]["filesystem"], kind, "{}", img.name);
        match times.is_empty() {
            true => assert!(install["file_times"].is_null(), "{}", img.name),
            false => assert!(
                install["file_times"].as_str().unwrap_or("").contains(times),
                "{}: file_times {}",
                img.name,
                install["file_times"]
            ),
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} images checked");
    eprintln!("{checked} images match their manifest");
}

/// The seed's findings on FAT: same rule, severity and path, and, once the
/// FAT volume's local times are converted with the hive's Bias, the same
/// message and timeline (the seed's UTC times). Fails if the conversion is
/// dropped: FAT16's Pacific times would read 8 hours early, FAT32's W.
/// Europe times an hour late, and the timeline's order would change.
#[test]
fn fat_images_give_the_seeds_findings_in_utc() {
    let (_, seed) = diagnose_json(need("nt4-iis4-kb291589.img"));
    for (file, bias) in [
        ("nt4-iis4-kb291589-fat16.img", "Bias 480 minutes"),
        ("nt4-iis4-kb291589-fat32.001", "Bias -60 minutes"),
    ] {
        let (code, fat) = diagnose_json(need(file));
        assert_eq!(code, 1, "{file}");
        let note = fat["installs"][0]["file_times"].as_str().unwrap();
        assert!(note.contains(bias), "{file}: {note}");
        assert!(
            note.contains(r"SYSTEM\ControlSet001\Control\TimeZoneInformation"),
            "{note}"
        );
        let (a, b) = (&seed["findings"], &fat["findings"]);
        assert_eq!(a.as_array().unwrap().len(), b.as_array().unwrap().len());
        for (s, f) in a.as_array().unwrap().iter().zip(b.as_array().unwrap()) {
            assert_eq!(f["evidence"]["file_times"], note, "{file}");
            for k in ["rule", "severity", "paths", "message"] {
                assert_eq!(s[k], f[k], "{file}: {k}");
            }
            for k in ["timeline", "file", "sets"] {
                assert_eq!(s["evidence"][k], f["evidence"][k], "{file}: evidence {k}");
            }
        }
        assert_eq!(
            seed["installs"][0]["markers"], fat["installs"][0]["markers"],
            "{file}: marker times"
        );
    }
}

#[test]
fn versions_reports_every_manifest_file_version() {
    let m = manifest();
    for img in m
        .image
        .iter()
        // Factory images: raw, or split raw where the volume is large (the
        // FAT32 one); container copies are checked by tests/containers.rs.
        .filter(|i| {
            i.damaged.is_empty()
                && (i.format == "raw" || (i.format == "split-raw" && i.source.is_none()))
        })
    {
        let out = verskew()
            .args(["versions", "--format", "json", &img.file, "**/*"])
            .output()
            .unwrap();
        let rows: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for f in img.files.iter().filter(|f| !f.file_version.is_empty()) {
            let row = rows
                .iter()
                .find(|r| r["path"].as_str().unwrap().eq_ignore_ascii_case(&f.path))
                .unwrap_or_else(|| panic!("{}: {} not listed", img.name, f.path));
            assert_eq!(
                row["version"]["file_version"],
                f.file_version.as_str(),
                "{}: {}",
                img.name,
                f.path
            );
            assert_eq!(row["size"], f.size, "{}: size of {}", img.name, f.path);
        }
    }
}

#[test]
fn damaged_images_give_partial_reports_or_clear_errors() {
    let m = manifest();
    for img in m.image.iter().filter(|i| !i.damaged.is_empty()) {
        let out = verskew()
            .args(["diagnose", "--format", "json", &img.file])
            .output()
            .unwrap();
        let code = out.status.code().expect("no signal, no panic abort");
        assert!(matches!(code, 0..=3), "{}: exit {code}", img.name);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{}: {stderr}", img.name);
        let json: Value = serde_json::from_str(
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        if code == 2 {
            // Refusing the image outright is the strongest "not evaluated":
            // only for an image whose install cannot be judged at all.
            assert_eq!(
                img.status, "not-evaluated",
                "{}: refused, but the manifest says {}",
                img.name, img.status
            );
            let err = json["error"].as_str().unwrap();
            assert!(
                err.contains(&img.file),
                "{}: error does not name the image: {err}",
                img.name
            );
            continue;
        }
        check_coverage(img, &img.file, code, &json);
        let unreadable: Vec<String> = json["unreadable"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["path"].as_str().unwrap().to_ascii_lowercase())
            .collect();
        for want in &img.expect_unreadable {
            assert!(
                unreadable
                    .iter()
                    .any(|u| u.contains(&want.to_ascii_lowercase())),
                "{}: {want} not reported unreadable; got {unreadable:?}",
                img.name
            );
        }
        let got = triples(&json["findings"]);
        for f in &img.findings {
            for p in &f.paths {
                let t = (f.rule.clone(), f.severity.clone(), p.to_ascii_lowercase());
                assert!(got.contains(&t), "{}: missing {t:?}; got {got:?}", img.name);
            }
        }
    }
}

#[test]
fn text_report_of_the_seed_image_is_pinned() {
    let file = need("nt4-iis4-kb291589.img");
    let out = verskew().args(["diagnose", file]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(
        "seed_text_report",
        String::from_utf8(out.stdout.clone()).unwrap()
    );
    // Deterministic: a second run prints the same bytes.
    let again = verskew().args(["diagnose", file]).output().unwrap();
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn exit_statuses_follow_the_contract() {
    let seed = need("nt4-iis4-kb291589.img");
    let healthy = need("nt4-iis4-healthy.img");
    verskew().args(["diagnose", seed]).assert().code(1);
    verskew()
        .args(["diagnose", "--fail-on", "error", seed])
        .assert()
        .code(1);
    verskew()
        .args(["diagnose", "--fail-on", "warning", seed])
        .assert()
        .code(1);
    verskew()
        .args(["diagnose", "--fail-on", "never", seed])
        .assert()
        .code(0);
    // Several images: the worst status wins, whatever the order.
    verskew().args(["diagnose", healthy, seed]).assert().code(1);
    verskew().args(["diagnose", seed, healthy]).assert().code(1);
    verskew().args(["diagnose", healthy]).assert().code(0);
    verskew()
        .args(["diagnose", "--fail-on", "warning", healthy])
        .assert()
        .code(0);
    // One analysable image and one missing: 2 wins, the good one is still reported.
    let out = verskew()
        .args(["diagnose", "--format", "json", healthy, "no-such.img"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such.img"));
    // Precedence is 2 over 1 over 3 (not the numbers), in either order.
    let uncovered = need("w2k12-iis8.img");
    for pair in [[seed, uncovered], [uncovered, seed]] {
        verskew().arg("diagnose").args(pair).assert().code(1);
    }
    for pair in [["no-such.img", uncovered], [uncovered, "no-such.img"]] {
        verskew().arg("diagnose").args(pair).assert().code(2);
    }
    verskew().args(["diagnose", uncovered]).assert().code(3);
}

#[test]
fn unusable_inputs_exit_2_with_a_one_line_message() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros.img");
    std::fs::write(&zeros, vec![0u8; 1 << 20]).unwrap();
    let empty = dir.path().join("empty.img");
    std::fs::write(&empty, b"").unwrap();
    // A folder gives the images inside it (tests/batch.rs); one without
    // any is one failed argument.
    let no_images = dir.path().join("no-images");
    std::fs::create_dir(&no_images).unwrap();
    for p in [&zeros, &empty, &dir.path().join("missing.img"), &no_images] {
        let out = verskew().arg("diagnose").arg(p).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", p.display());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(&p.display().to_string()), "{err}");
    }
    verskew().args(["diagnose"]).assert().code(2);
    verskew()
        .args(["diagnose", "--format", "yaml", "x.img"])
        .assert()
        .code(2);
    verskew().args(["frobnicate"]).assert().code(2);
    let bad_glob = verskew()
        .args(["versions", need("nt4-iis4-kb291589.img"), "["])
        .output()
        .unwrap();
    assert_eq!(bad_glob.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_glob.stderr).contains("bad path pattern"));
    verskew().args(["--help"]).assert().code(0);
}

/// A malformed rules file is refused (exit 2, named on stderr) even when the
/// image itself is analysable, so the 2 cannot come from the image. That
/// user rules really change findings is pinned in tests/contract.rs.
#[test]
fn bad_rules_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[lockstep]]\nid = 3\n").unwrap();
    let out = verskew()
        .args(["diagnose", "--rules"])
        .arg(&bad)
        .arg(need("nt4-iis4-healthy.img"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}

#[test]
fn json_report_of_the_seed_image_is_pinned() {
    let file = need("nt4-iis4-kb291589.img");
    let (code, json) = diagnose_json(file);
    assert_eq!(code, 1);
    insta::assert_json_snapshot!("seed_json_report", json);
}

#[test]
fn versions_json_shape_is_pinned() {
    let file = need("nt4-iis4-kb291589.img");
    let out = verskew()
        .args([
            "versions",
            "--format",
            "json",
            file,
            r"\WINNT\system32\inetsrv\w3*.dll",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    insta::assert_json_snapshot!("seed_versions_w3", rows);
}
