//! What each update recorded it installed (issue 12): the
//! `SOFTWARE\Microsoft\Updates` records and their file lists in
//! `installs[].updates[]`, the uninstall folders' files in `markers[]`, and
//! `undone-update` on the factory's Windows 2000 images (testdata/build/
//! updates_images.py): an older infocomm.dll written after MS01-044's
//! install, the same file last written before it, a healthy twin and a
//! hostile record tree.

mod common;

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::Value;

const INFOCOMM: &str = r"\WINNT\system32\inetsrv\infocomm.dll";

fn diagnose(file: &str, format: &str) -> (i32, String) {
    let path = common::testdata().join(file);
    assert!(path.exists(), "{} is committed", path.display());
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .args(["diagnose", "--format", format])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn json(file: &str) -> (i32, Value) {
    let (code, out) = diagnose(file, "json");
    (
        code,
        serde_json::from_str(out.lines().next().unwrap()).unwrap(),
    )
}

fn findings<'a>(j: &'a Value, rule: &str) -> Vec<&'a Value> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn the_record_and_its_file_list_are_read() {
    let (code, j) = json("w2k-iis5-updates-healthy.img");
    assert_eq!(code, 0, "{}", j["findings"]);
    assert!(j["findings"].as_array().unwrap().is_empty());
    let install = &j["installs"][0];
    let updates = install["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 1);
    let u = &updates[0];
    assert_eq!(u["id"], "Q301625");
    assert_eq!(u["product"], "Windows 2000");
    assert_eq!(u["pack"], "SP3");
    assert_eq!(
        u["key"],
        r"SOFTWARE\Microsoft\Updates\Windows 2000\SP3\Q301625"
    );
    assert_eq!(u["installed_date"], "8/20/2001");
    assert_eq!(u["installed_by"], "Administrator");
    assert_eq!(u["type"], "Update");
    assert_eq!(u["install_time"], "2001-08-20T16:45:00Z");
    assert_eq!(u["install_time_precise"], true);
    assert_eq!(u["file_list"], true);
    let files = u["files"].as_array().unwrap();
    assert_eq!(files.len(), 16);
    let info = files.iter().find(|f| f["name"] == "infocomm.dll").unwrap();
    assert_eq!(info["version"], "5.0.2195.4051");
    assert_eq!(info["location"], r"%windir%\system32\inetsrv");
    assert_eq!(info["path"], INFOCOMM);
    // Entries in numeric order.
    let entries: Vec<&str> = files.iter().map(|f| f["entry"].as_str().unwrap()).collect();
    assert_eq!(entries[..3], ["0", "1", "2"]);
    assert_eq!(entries[10], "10");

    // The uninstall folder names its update and the files it replaced.
    let marker = install["markers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kb"] == "Q301625")
        .expect("the $NtUninstallQ301625$ marker");
    assert_eq!(marker["path"], r"\WINNT\$NtUninstallQ301625$");
    assert_eq!(
        marker["files"],
        serde_json::json!(["infocomm.dll", "w3svc.dll"])
    );
    assert_eq!(marker["files_not_listed"], false);

    let (_, text) = diagnose("w2k-iis5-updates-healthy.img", "text");
    assert!(
        text.contains("updates recorded: Q301625 (Windows 2000 SP3) (16 files)"),
        "{text}"
    );
}

#[test]
fn an_older_file_written_after_the_install_was_put_back() {
    let (code, j) = json("w2k-iis5-update-undone.img");
    assert_eq!(code, 1);
    let undone = findings(&j, "undone-update");
    assert_eq!(undone.len(), 1, "{}", j["findings"]);
    let f = undone[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["paths"], serde_json::json!([INFOCOMM]));
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "infocomm.dll was written 2001-11-02, after Q301625 installed 5.0.2195.4051 on 2001-08-20: something put an older file back"
        ),
        "{m}"
    );
    let e = &f["evidence"];
    assert_eq!(e["expected_version"], "5.0.2195.4051");
    assert_eq!(e["file"]["file_version"], "5.0.2195.3649");
    assert_eq!(e["file"]["modified"], "2001-11-02T10:20:00Z");
    let r = &e["update_record"];
    assert_eq!(r["id"], "Q301625");
    assert_eq!(r["file_written_after_install"], true);
    assert_eq!(r["install_time"], "2001-08-20T16:45:00Z");
    assert_eq!(r["install_time_precise"], true);
    assert_eq!(r["recorded_version"], "5.0.2195.4051");
    assert_eq!(
        r["description"],
        "MS01-044: Patch for SSI Privilege Elevation Vulnerability"
    );
    let timeline: Vec<&str> = e["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        timeline
            .iter()
            .any(|t| t.starts_with("2001-08-20T16:45:00Z Updates record Q301625")),
        "{timeline:?}"
    );
    let remedy = f["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("Reapply the update the record names")
            && remedy.contains("Q301625 (MS01-044")
            && remedy.contains("infocomm.dll is back at 5.0.2195.4051 or later"),
        "{remedy}"
    );
    let refs = f["references"].as_array().unwrap();
    for r in ["KB282784", "KB888535", "Q291589", "Q301625"] {
        assert!(refs.iter().any(|x| x == r), "{r} in {refs:?}");
    }
    // The registry-free rule agrees from the peers' versions alone.
    assert_eq!(findings(&j, "behind-update").len(), 1);

    let (_, text) = diagnose("w2k-iis5-update-undone.img", "text");
    assert!(text.contains("ERROR [undone-update]"), "{text}");
    assert!(text.contains("update_record: "), "{text}");
}

#[test]
fn an_older_file_last_written_before_the_install_says_so() {
    let (code, j) = json("w2k-iis5-update-predates.img");
    assert_eq!(code, 1);
    let undone = findings(&j, "undone-update");
    assert_eq!(undone.len(), 1, "{}", j["findings"]);
    let f = undone[0];
    assert_eq!(f["severity"], "error");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with("infocomm.dll is at 5.0.2195.3649, older than the 5.0.2195.4051 that Q301625 recorded installing on 2001-08-20, and was last written 2001-06-15, before that"),
        "{m}"
    );
    assert!(m.contains("never replaced it"), "{m}");
    assert_eq!(
        f["evidence"]["update_record"]["file_written_after_install"],
        false
    );
}

#[derive(Deserialize)]
struct Manifest {
    image: Vec<Image>,
}

#[derive(Deserialize)]
struct Image {
    name: String,
    #[serde(default)]
    expect_unreadable: Vec<String>,
}

#[test]
fn a_hostile_record_is_said_unreadable_and_judges_nothing() {
    let (code, j) = json("w2k-iis5-updates-hostile.img");
    assert_eq!(code, 0, "{}", j["findings"]);
    assert!(j["findings"].as_array().unwrap().is_empty());
    assert_eq!(j["status"], "partial");
    let unreadable: Vec<(String, String)> = j["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["path"].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let text = std::fs::read_to_string(common::testdata().join("images.toml")).unwrap();
    let m: Manifest = toml::from_str(&text).unwrap();
    let img = m
        .image
        .iter()
        .find(|i| i.name == "w2k-iis5-updates-hostile")
        .unwrap();
    assert!(!img.expect_unreadable.is_empty());
    for want in &img.expect_unreadable {
        assert!(
            unreadable.iter().any(|(p, _)| p.eq_ignore_ascii_case(want)),
            "{want} not said; got {unreadable:?}"
        );
    }
    let reason = |path: &str| {
        unreadable
            .iter()
            .find(|(p, _)| p.ends_with(path))
            .map(|(_, r)| r.as_str())
            .unwrap_or_default()
    };
    assert_eq!(reason(r"Q301625\Description"), "not a string (REG_DWORD)");
    assert_eq!(reason(r"Q301625\InstalledBy"), "not a string (REG_BINARY)");
    assert!(reason(r"Q301625\Type").contains("cut"));
    assert!(reason(r"Filelist\1").contains("no FileName"));
    assert!(reason(r"Filelist\2\Version").contains("five.oh"));
    // What could be read is still reported.
    let u = &j["installs"][0]["updates"];
    let ids: Vec<&str> = u
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["Q301625", "Q999991"]);
    assert_eq!(u[0]["description"], Value::Null);
    assert_eq!(u[0]["type"].as_str().unwrap().len(), 512);
    // InstalledDate is no date: the key's last-written time stands in.
    assert_eq!(u[0]["installed_date"], "the twentieth of August");
    assert_eq!(u[0]["install_time"], "2001-08-20T16:45:00Z");
    assert_eq!(u[1]["file_list"], false);
    assert_eq!(u[1]["files"], serde_json::json!([]));
    // isatq.dll's entry lost its Location (a DWORD): matched by its one
    // name among the files read, at the version recorded: no finding.
    let isatq = u[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "isatq.dll")
        .unwrap();
    assert_eq!(isatq["location"], Value::Null);
    assert_eq!(isatq["path"], Value::Null);
}
