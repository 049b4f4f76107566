//! The static loader check on the factory's loader images
//! (testdata/build/loader_images.py): what each finding says and the facts
//! `installs[].loader` carries, beyond the rule/severity/path triples
//! tests/diagnose.rs pins for every image.

mod common;

use std::process::Command;

use serde_json::Value;

fn diagnose(image: &str) -> Value {
    let path = common::testdata().join(image);
    let out = Command::new(env!("CARGO_BIN_EXE_verskew"))
        .args(["diagnose", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().next().expect("one JSON line")).unwrap()
}

fn findings<'a>(j: &'a Value, rule: &str) -> Vec<&'a Value> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn loader(j: &Value) -> &Value {
    &j["installs"][0]["loader"]
}

fn module<'a>(j: &'a Value, path: &str) -> &'a Value {
    loader(j)["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"].as_str().unwrap().eq_ignore_ascii_case(path))
        .unwrap_or_else(|| panic!("no module {path}"))
}

fn import<'a>(m: &'a Value, dll: &str) -> &'a Value {
    m["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["dll"].as_str().unwrap().eq_ignore_ascii_case(dll))
        .unwrap_or_else(|| panic!("no import of {dll} in {}", m["path"]))
}

const W3: &str = r"\WINNT\system32\inetsrv\w3svc.dll";

#[test]
fn healthy_twin_resolves_forwarders_ordinals_and_known_dlls() {
    let j = diagnose("nt4-loader-healthy.img");
    assert_eq!(j["summary"]["errors"], 0, "{}", j["findings"]);
    assert_eq!(j["summary"]["warnings"], 0, "{}", j["findings"]);
    let l = loader(&j);
    assert_eq!(l["core_present"], true);
    assert_eq!(l["known_dlls"], serde_json::json!(["kernel32.dll"]));
    assert_eq!(l["known_dlls_folder"], r"\WINNT\system32");
    let w3 = module(&j, W3);
    assert!(w3["needed_by"]
        .as_array()
        .unwrap()
        .contains(&"W3SVC".into()));
    // KnownDLLs win over the inetsrv copy that lacks GetProcAddress.
    let k = import(w3, "kernel32.dll");
    assert_eq!(k["outcome"], "found");
    assert_eq!(k["known_dll"], true);
    assert!(k["path"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(r"\WINNT\system32\kernel32.dll"));
    assert_eq!(k["missing"], serde_json::json!([]));
    // By ordinal (#5, exported NONAME).
    let ic = import(w3, "infocomm.dll");
    assert_eq!(ic["outcome"], "found");
    assert_eq!(ic["missing"], serde_json::json!([]));
    // The forwarder's target was read: ntdll.dll is a module of the walk.
    module(&j, r"\WINNT\system32\ntdll.dll");
}

#[test]
fn broken_import_names_the_symbol_the_exporter_and_error_127() {
    let j = diagnose("nt4-loader-broken-import.img");
    let f = findings(&j, "broken-import");
    assert_eq!(f.len(), 1, "{}", j["findings"]);
    let ev = &f[0]["evidence"]["import"];
    assert_eq!(ev["missing"], serde_json::json!(["AtqSetInfo2"]));
    assert_eq!(ev["dll"], "isatq.dll");
    assert!(ev["exporter"]["path"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(r"\WINNT\system32\inetsrv\isatq.dll"));
    assert_eq!(ev["exporter"]["version"], "4.2.769.1");
    assert!(ev["win32_error"]
        .as_str()
        .unwrap()
        .starts_with("127 ERROR_PROC_NOT_FOUND"));
    assert!(ev["loaded_by"]
        .as_array()
        .unwrap()
        .contains(&"W3SVC".into()));
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("AtqSetInfo2") && msg.contains("W3SVC"),
        "{msg}"
    );
}

#[test]
fn missing_dependency_lists_every_folder_searched_and_error_126() {
    let j = diagnose("nt4-loader-missing-dependency.img");
    let f = findings(&j, "missing-dependency");
    assert_eq!(f.len(), 1, "{}", j["findings"]);
    let ev = &f[0]["evidence"];
    assert_eq!(ev["import"]["dll"], "wspapi.dll");
    assert!(ev["import"]["win32_error"]
        .as_str()
        .unwrap()
        .starts_with("126 "));
    assert_eq!(
        ev["import"]["loaded_by"],
        serde_json::json!([r"AddOnServices\Web Proxy"])
    );
    let searched: Vec<&str> = ev["searched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        searched,
        [
            r"\WINNT\system32\inetsrv",
            r"\WINNT\system32",
            r"\WINNT\system",
            r"\WINNT"
        ]
    );
}

#[test]
fn a_64_bit_filter_in_a_32_bit_service_is_error_193() {
    let j = diagnose("nt4-loader-wrong-machine.img");
    let f = findings(&j, "wrong-machine");
    assert_eq!(f.len(), 1, "{}", j["findings"]);
    let ev = &f[0]["evidence"]["import"];
    assert_eq!(ev["exporter"]["machine"], "x64");
    assert_eq!(ev["importer"]["machine"], "x86");
    assert!(ev["win32_error"].as_str().unwrap().starts_with("193 "));
    let roots = loader(&j)["roots"].as_array().unwrap();
    assert!(roots
        .iter()
        .any(|r| r["loaded_by"] == "ISAPI filter" && r["source"] == "W3SVC Filter DLLs"));
}

#[test]
fn a_broken_delay_import_is_a_warning_not_an_error() {
    let j = diagnose("nt4-loader-delay.img");
    assert_eq!(j["summary"]["errors"], 0, "{}", j["findings"]);
    let f = findings(&j, "broken-delay-import");
    assert_eq!(f.len(), 1, "{}", j["findings"]);
    assert_eq!(f[0]["severity"], "warning");
    let ev = &f[0]["evidence"]["import"];
    assert_eq!(ev["delay"], true);
    assert_eq!(ev["missing"], serde_json::json!(["SsiParseFile"]));
    let d = import(module(&j, W3), "ssinc.dll");
    assert_eq!(d["delay"], true);
}

/// The older factory images hold only inetsrv files and stubs: no core
/// system DLLs, and nothing imports anything, so the check stays quiet.
#[test]
fn images_without_core_system_dlls_claim_nothing_missing() {
    let j = diagnose("nt4-iis4-healthy.img");
    let l = loader(&j);
    assert_eq!(l["core_present"], false);
    for rule in [
        "broken-import",
        "missing-dependency",
        "wrong-machine",
        "broken-delay-import",
    ] {
        assert!(findings(&j, rule).is_empty(), "{rule}: {}", j["findings"]);
    }
}
