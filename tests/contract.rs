//! The README's promises, checked through the real binary: every documented
//! JSON field of `diagnose`, `versions` and `info` is present with its
//! documented type; `--rules` really changes findings; `--fail-on warning`
//! turns a warning-only report into exit 1; `versions` and `info` exit 2 on a
//! missing image; text output carries no terminal escape codes.
//!
//! Every image used here is committed in testdata/, so nothing is skipped.

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
const ADDON_MISSING: &str = "nt4-proxy-addon-missing.img";
const SP1_ON_SP2: &str = "w2k3-iis6-sp1-on-sp2.img";
const BAD_VERSION: &str = "damaged/damaged-version-resource.img";
const MBR63: &str = "nt4-iis4-kb291589-mbr63.img";
/// C: FAT16 with boot.ini, D: NTFS with \WINNT, E: NTFS with a Proxy add-on.
const ACROSS: &str = "nt4-iis4-addon-e.img";
const FAT16: &str = "nt4-iis4-kb291589-fat16.img";
const E01: &str = "containers/nt4-iis4-kb291589-mbr63.E01";
/// Windows 2000 with an Updates record whose infocomm.dll was put back older.
const UNDONE: &str = "w2k-iis5-update-undone.img";
const PENDING: &str = "nt4-iis4-pending-causes.img";

use common::NO_W3SVC_RULES;

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata());
    c
}

/// Committed test images: a missing one is a broken checkout, not a skip.
fn need(file: &str) -> &str {
    assert!(
        common::testdata().join(file).is_file(),
        "testdata/{file} is committed and must exist"
    );
    file
}

/// (exit status, stdout lines parsed as JSON, stderr).
fn run_json(args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = verskew().args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {l}"))
        })
        .collect();
    (
        out.status.code().expect("exited, not killed"),
        rows,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rules_file(dir: &tempfile::TempDir) -> PathBuf {
    let p = dir.path().join("no-w3svc.toml");
    std::fs::write(&p, NO_W3SVC_RULES).unwrap();
    p
}

// ---- typed field checks ---------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum T {
    Str,
    Int,
    Bool,
    Arr,
    Obj,
    /// null or a string
    OptStr,
    /// null or an integer
    OptInt,
    /// null or an object
    OptObj,
    /// null or an array
    OptArr,
    /// null or a boolean
    OptBool,
}

fn is(v: &Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::Int => v.is_u64() || v.is_i64(),
        T::Bool => v.is_boolean(),
        T::Arr => v.is_array(),
        T::Obj => v.is_object(),
        T::OptStr => v.is_null() || v.is_string(),
        T::OptInt => v.is_null() || v.is_u64() || v.is_i64(),
        T::OptObj => v.is_null() || v.is_object(),
        T::OptArr => v.is_null() || v.is_array(),
        T::OptBool => v.is_null() || v.is_boolean(),
    }
}

/// Every `(field, type)` is a key of `obj` (present, even when null) with a
/// value of that type.
fn fields(what: &str, obj: &Value, want: &[(&str, T)]) {
    let map = obj
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {obj}"));
    for (k, t) in want {
        let v = map
            .get(*k)
            .unwrap_or_else(|| panic!("{what}: field `{k}` missing in {obj}"));
        assert!(is(v, *t), "{what}.{k}: expected {t:?}, got {v}");
    }
}

fn nonempty<'a>(what: &str, v: &'a Value) -> &'a Vec<Value> {
    let a = v
        .as_array()
        .unwrap_or_else(|| panic!("{what}: not an array: {v}"));
    assert!(!a.is_empty(), "{what}: empty");
    a
}

// ---- diagnose --------------------------------------------------------------

fn check_diagnose_report(r: &Value) {
    let img = r["image"].as_str().unwrap_or("?").to_string();
    let w = |s: &str| format!("{img}: {s}");
    fields(
        &img,
        r,
        &[
            ("schema", T::Str),
            ("tool_version", T::Str),
            ("image", T::Str),
            ("format", T::Str),
            ("size", T::Int),
            ("status", T::Str),
            ("volumes", T::Arr),
            ("installs", T::Arr),
            ("findings", T::Arr),
            ("unreadable", T::Arr),
            ("rules_files", T::Arr),
            ("summary", T::Obj),
        ],
    );
    assert_eq!(r["schema"], "verskew.diagnose/1");
    assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
    const STATUSES: [&str; 3] = ["evaluated", "partial", "not-evaluated"];
    assert!(STATUSES.contains(&r["status"].as_str().unwrap()), "{r}");
    assert!(
        r.get("error").is_none(),
        "{}",
        w("analysable image has error")
    );
    let formats = ["raw", "split-raw", "ewf", "vhd", "vhdx", "vmdk", "qcow2"];
    assert!(formats.contains(&r["format"].as_str().unwrap()), "{r}");
    assert!(r["size"].as_u64().unwrap() > 0);

    let volumes = nonempty(&w("volumes"), &r["volumes"]);
    for v in volumes {
        fields(
            &w("volumes[]"),
            v,
            &[
                ("index", T::Int),
                ("partition", T::Obj),
                ("filesystem_version", T::OptStr),
                ("label", T::OptStr),
                ("cluster_size", T::OptInt),
                ("error", T::OptStr),
            ],
        );
        fields(
            &w("volumes[].partition"),
            &v["partition"],
            &[
                ("index", T::Int),
                ("scheme", T::Str),
                ("offset", T::Int),
                ("size", T::Int),
                ("type_id", T::OptStr),
                ("name", T::OptStr),
                ("filesystem", T::Str),
            ],
        );
        let scheme = v["partition"]["scheme"].as_str().unwrap();
        assert!(["none", "mbr", "gpt"].contains(&scheme), "{scheme}");
    }
    let volume_ids: Vec<u64> = volumes
        .iter()
        .map(|v| v["index"].as_u64().unwrap())
        .collect();

    let installs = nonempty(&w("installs"), &r["installs"]);
    for i in installs {
        fields(
            &w("installs[]"),
            i,
            &[
                ("volume", T::Int),
                ("system_root", T::Str),
                ("os", T::Obj),
                ("control_set", T::Obj),
                ("hives", T::Arr),
                ("services", T::Arr),
                ("hotfixes", T::Arr),
                ("updates", T::Arr),
                ("iis_setup", T::OptObj),
                ("addons", T::Arr),
                ("markers", T::Arr),
                ("pending_renames", T::Arr),
                ("pending_operations", T::Arr),
                ("pending_sources", T::Arr),
                ("file_times", T::OptStr),
                ("files_examined", T::Int),
                ("status", T::Str),
                ("coverage", T::Obj),
                ("iis_config", T::OptObj),
                ("loader", T::OptObj),
                ("component_store", T::OptObj),
                ("story", T::OptStr),
            ],
        );
        if i["loader"].is_object() {
            check_loader(&w("loader"), &i["loader"]);
        }
        if i["component_store"].is_object() {
            check_component_store(&w("component_store"), &i["component_store"]);
        }
        if i["iis_config"].is_object() {
            check_iis_sections(&w("iis_config"), &i["iis_config"]);
        }
        assert!(STATUSES.contains(&i["status"].as_str().unwrap()), "{i}");
        for p in i["pending_sources"].as_array().unwrap() {
            fields(
                &w("pending_sources[]"),
                p,
                &[
                    ("source", T::Str),
                    ("path", T::Str),
                    ("state", T::Str),
                    ("reason", T::OptStr),
                    ("file_version", T::OptStr),
                ],
            );
        }
        fields(
            &w("coverage"),
            &i["coverage"],
            &[
                ("reasons", T::Arr),
                ("families", T::Arr),
                ("hives", T::Arr),
                ("files_read", T::Int),
                ("files_unreadable", T::Int),
                ("unreadable", T::Int),
            ],
        );
        for h in i["coverage"]["hives"].as_array().unwrap() {
            fields(
                &w("coverage.hives[]"),
                h,
                &[("name", T::Str), ("state", T::Str)],
            );
            let state = h["state"].as_str().unwrap();
            assert!(["clean", "dirty", "unreadable"].contains(&state), "{state}");
        }
        // Anything short of evaluated says why.
        let reasons = i["coverage"]["reasons"].as_array().unwrap();
        assert_eq!(i["status"] == "evaluated", reasons.is_empty(), "{i}");
        assert!(volume_ids.contains(&i["volume"].as_u64().unwrap()));
        assert!(i["system_root"].as_str().unwrap().starts_with('\\'));
        fields(
            &w("os"),
            &i["os"],
            &[
                ("name", T::OptStr),
                ("product_name", T::OptStr),
                ("version", T::OptStr),
                ("current_version", T::OptStr),
                ("build", T::OptStr),
                ("ubr", T::OptInt),
                ("full_version", T::OptStr),
                ("display_version", T::OptStr),
                ("edition", T::OptStr),
                ("installation_type", T::OptStr),
                ("service_pack", T::OptStr),
            ],
        );
        fields(
            &w("control_set"),
            &i["control_set"],
            &[
                ("name", T::Str),
                ("number", T::Int),
                ("source", T::Str),
                ("select", T::Obj),
            ],
        );
        let source = i["control_set"]["source"].as_str().unwrap();
        assert!(
            ["Current", "Default", "LastKnownGood"].contains(&source),
            "{source}"
        );
        for h in nonempty(&w("hives"), &i["hives"]) {
            fields(
                &w("hives[]"),
                h,
                &[
                    ("name", T::Str),
                    ("path", T::Str),
                    ("dirty", T::Bool),
                    ("error", T::OptStr),
                ],
            );
        }
        for s in nonempty(&w("services"), &i["services"]) {
            fields(
                &w("services[]"),
                s,
                &[
                    ("name", T::Str),
                    ("image_path", T::OptStr),
                    ("service_dll", T::OptStr),
                    ("service_dll_key", T::OptStr),
                    ("service_dll_last_written", T::OptStr),
                    ("start", T::OptInt),
                    ("type", T::OptInt),
                    ("depend_on_service", T::Arr),
                    ("install_path", T::OptStr),
                    ("last_written", T::OptStr),
                    ("binaries", T::Arr),
                ],
            );
            for b in s["binaries"].as_array().unwrap() {
                fields(
                    &w("binaries[]"),
                    b,
                    &[("source", T::Str), ("path", T::Str), ("found", T::OptStr)],
                );
            }
        }
        // Pairs: a final delete keeps its empty destination.
        let renames = i["pending_renames"].as_array().unwrap();
        assert_eq!(renames.len() % 2, 0, "{i}");
        let ops = i["pending_operations"].as_array().unwrap();
        assert_eq!(ops.len() * 2, renames.len(), "{i}");
        for p in ops {
            fields(
                &w("pending_operations[]"),
                p,
                &[
                    ("source", T::Str),
                    ("destination", T::OptStr),
                    ("replace_existing", T::Bool),
                ],
            );
        }
        for u in i["updates"].as_array().unwrap() {
            fields(
                &w("updates[]"),
                u,
                &[
                    ("id", T::Str),
                    ("product", T::Str),
                    ("pack", T::OptStr),
                    ("key", T::Str),
                    ("description", T::OptStr),
                    ("installed_by", T::OptStr),
                    ("installed_date", T::OptStr),
                    ("type", T::OptStr),
                    ("last_written", T::OptStr),
                    ("install_time", T::OptStr),
                    ("install_time_precise", T::OptBool),
                    ("file_list", T::Bool),
                    ("files", T::Arr),
                ],
            );
            for f in u["files"].as_array().unwrap() {
                fields(
                    &w("updates[].files[]"),
                    f,
                    &[
                        ("entry", T::Str),
                        ("name", T::OptStr),
                        ("version", T::OptStr),
                        ("location", T::OptStr),
                        ("build_date", T::OptStr),
                        ("path", T::OptStr),
                    ],
                );
            }
        }
        for m in i["markers"].as_array().unwrap() {
            fields(
                &w("markers[]"),
                m,
                &[
                    ("path", T::Str),
                    ("created", T::OptStr),
                    ("modified", T::OptStr),
                    ("kb", T::OptStr),
                    ("files", T::Arr),
                    ("files_not_listed", T::Bool),
                ],
            );
        }
        for h in i["hotfixes"].as_array().unwrap() {
            fields(
                &w("hotfixes[]"),
                h,
                &[
                    ("id", T::Str),
                    ("installed", T::OptInt),
                    ("description", T::OptStr),
                    ("last_written", T::OptStr),
                ],
            );
        }
        for a in i["addons"].as_array().unwrap() {
            fields(
                &w("addons[]"),
                a,
                &[("name", T::Str), ("value", T::Str), ("dlls", T::Arr)],
            );
        }
        assert!(i["files_examined"].as_u64().unwrap() > 0);
    }

    let mut counts = [0u64; 3];
    let mut last_slot = 0;
    for f in r["findings"].as_array().unwrap() {
        fields(
            &w("findings[]"),
            f,
            &[
                ("rule", T::Str),
                ("severity", T::Str),
                ("install", T::Str),
                ("volume", T::Int),
                ("paths", T::Arr),
                ("message", T::Str),
                ("evidence", T::Obj),
                ("remedy", T::Str),
                ("references", T::Arr),
            ],
        );
        let sev = f["severity"].as_str().unwrap();
        let slot = ["error", "warning", "info"]
            .iter()
            .position(|s| *s == sev)
            .unwrap_or_else(|| panic!("severity {sev}"));
        counts[slot] += 1;
        assert!(slot >= last_slot, "{}", w("findings sorted errors first"));
        last_slot = slot;
        // From the volume root; on another volume than the install's, with
        // that volume's drive letter in front (`E:\…`).
        for p in nonempty(&w("paths"), &f["paths"]) {
            let p = p.as_str().unwrap();
            let b = p.as_bytes();
            let lettered = b.len() > 2 && b[0].is_ascii_alphabetic() && &b[1..3] == b":\\";
            assert!(p.starts_with('\\') || lettered, "{p}");
        }
        assert!(f["references"]
            .as_array()
            .unwrap()
            .iter()
            .all(Value::is_string));
        assert!(volume_ids.contains(&f["volume"].as_u64().unwrap()));
        // A FAT install's note on its local times travels with every finding.
        let install = r["installs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["system_root"] == f["install"] && i["volume"] == f["volume"]);
        if let Some(i) = install {
            assert_eq!(
                f["evidence"].get("file_times").unwrap_or(&Value::Null),
                &i["file_times"],
                "{}",
                w("evidence.file_times is the install's")
            );
        }
        // Every finding says which hive state it rests on.
        for h in f["evidence"]["hive_states"]
            .as_array()
            .expect("hive_states")
        {
            fields(
                &w("evidence.hive_states[]"),
                h,
                &[
                    ("name", T::Str),
                    ("path", T::Str),
                    ("state", T::Str),
                    ("log", T::OptStr),
                ],
            );
        }
        check_evidence(&img, f);
    }
    for u in r["unreadable"].as_array().unwrap() {
        fields(
            &w("unreadable[]"),
            u,
            &[("path", T::Str), ("reason", T::Str)],
        );
    }
    fields(
        &w("summary"),
        &r["summary"],
        &[("errors", T::Int), ("warnings", T::Int), ("info", T::Int)],
    );
    let summary = [
        r["summary"]["errors"].as_u64().unwrap(),
        r["summary"]["warnings"].as_u64().unwrap(),
        r["summary"]["info"].as_u64().unwrap(),
    ];
    assert_eq!(summary, counts, "{}", w("summary counts the findings"));
}

/// The evidence keys the README's rule table lists for each rule.
fn check_evidence(img: &str, f: &Value) {
    let rule = f["rule"].as_str().unwrap();
    let ev = &f["evidence"];
    let what = format!("{img}: {rule} evidence");
    match rule {
        "lockstep-mismatch" | "lockstep-newer" => {
            fields(
                &what,
                ev,
                &[
                    ("file", T::Obj),
                    ("expected_version", T::Str),
                    ("sets", T::Arr),
                    ("timeline", T::Arr),
                    ("os", T::Obj),
                    ("control_set", T::Str),
                    ("hotfixes", T::Arr),
                ],
            );
            for s in nonempty(&what, &ev["sets"]) {
                fields(
                    &what,
                    s,
                    &[
                        ("id", T::Str),
                        ("name", T::Str),
                        ("reference_version", T::Str),
                        ("why", T::Str),
                        ("compared_with", T::Arr),
                    ],
                );
                nonempty(&what, &s["compared_with"]);
            }
            if rule == "lockstep-newer" {
                assert!(ev.get("explained_by").is_some(), "{what}: explained_by");
            }
        }
        "behind-update" => {
            fields(
                &what,
                ev,
                &[
                    ("file", T::Obj),
                    ("expected_version", T::Str),
                    ("update", T::Obj),
                    ("timeline", T::Arr),
                ],
            );
            fields(
                &what,
                &ev["update"],
                &[("kb", T::Str), ("title", T::Str), ("proven_by", T::Arr)],
            );
            assert!(ev["update"].get("bulletin").is_some(), "{what}: bulletin");
            nonempty(&what, &ev["update"]["proven_by"]);
        }
        "undone-update" => {
            fields(
                &what,
                ev,
                &[
                    ("file", T::Obj),
                    ("expected_version", T::Str),
                    ("update_record", T::Obj),
                    ("timeline", T::Arr),
                ],
            );
            fields(
                &what,
                &ev["update_record"],
                &[
                    ("id", T::Str),
                    ("product", T::Str),
                    ("pack", T::OptStr),
                    ("key", T::Str),
                    ("description", T::OptStr),
                    ("installed_date", T::OptStr),
                    ("install_time", T::OptStr),
                    ("install_time_precise", T::OptBool),
                    ("last_written", T::OptStr),
                    ("location", T::OptStr),
                    ("recorded_version", T::Str),
                    ("file_written_after_install", T::OptBool),
                ],
            );
        }
        "behind-service-pack" => fields(
            &what,
            ev,
            &[
                ("file", T::Obj),
                ("service_pack", T::Str),
                ("baseline_version", T::Str),
                ("timeline", T::Arr),
            ],
        ),
        "missing-service-binary" => {
            fields(&what, ev, &[("registry", T::Obj)]);
            fields(
                &what,
                &ev["registry"],
                &[
                    ("key", T::Str),
                    ("value", T::Str),
                    ("data", T::OptStr),
                    ("last_written", T::OptStr),
                ],
            );
        }
        "missing-addon-dll" => {
            fields(&what, ev, &[("registry", T::Obj), ("searched", T::Arr)]);
            fields(
                &what,
                &ev["registry"],
                &[
                    ("key", T::Str),
                    ("value", T::Str),
                    ("data", T::Str),
                    ("last_written", T::OptStr),
                ],
            );
        }
        "broken-import" | "missing-dependency" | "wrong-machine" | "broken-delay-import" => {
            fields(&what, ev, &[("import", T::Obj)]);
            let i = &ev["import"];
            fields(
                &what,
                i,
                &[
                    ("delay", T::Bool),
                    ("dll", T::Str),
                    ("exporter", T::OptObj),
                    ("forwarders", T::Arr),
                    ("importer", T::Obj),
                    ("loaded_by", T::Arr),
                    ("missing", T::Arr),
                    ("win32_error", T::Str),
                ],
            );
            let module = [
                ("machine", T::OptStr),
                ("path", T::Str),
                ("version", T::OptStr),
            ];
            fields(&what, &i["importer"], &module);
            if i["exporter"].is_object() {
                fields(&what, &i["exporter"], &module);
            }
            if rule == "missing-dependency" {
                nonempty(&what, &ev["searched"]);
            }
            // IIS 7+: the image whose worker load fails, and the runtime
            // package a missing DLL belongs to.
            if let Some(m) = ev.get("module") {
                fields(
                    &what,
                    m,
                    &[
                        ("bits", T::Int),
                        ("config", T::Str),
                        ("image", T::Str),
                        ("kind", T::Str),
                        ("machine", T::OptStr),
                        ("name", T::Str),
                        ("pools", T::Arr),
                        ("pre_condition", T::Arr),
                        ("resolved", T::Str),
                    ],
                );
                nonempty(&what, &m["pools"]);
            }
            if let Some(r) = ev.get("runtime") {
                fields(
                    &what,
                    r,
                    &[("arch", T::Str), ("dll", T::Str), ("name", T::Str)],
                );
            }
            if rule == "broken-import" {
                nonempty(&what, &i["missing"]);
            }
        }
        "no-version-resource" => fields(&what, ev, &[("file", T::Obj)]),
        "not-store-copy" => {
            fields(&what, ev, &[("file", T::Obj), ("store", T::Obj)]);
            fields(
                &what,
                &ev["store"],
                &[
                    ("component", T::Str),
                    ("component_version", T::Str),
                    ("components", T::Arr),
                    ("evidence", T::Arr),
                    ("file_digest", T::OptStr),
                    ("hash_algorithm", T::OptStr),
                    ("link", T::Str),
                    ("linked_component", T::OptStr),
                    ("manifest", T::Str),
                    ("manifest_digest", T::OptStr),
                    ("pending", T::Arr),
                    ("verdict", T::Str),
                ],
            );
            let verdict = ev["store"]["verdict"].as_str().unwrap();
            assert!(
                [
                    "hash-differs",
                    "version-differs",
                    "older-component",
                    "not-linked"
                ]
                .contains(&verdict),
                "{what}: verdict {verdict}"
            );
        }
        "dirty-hive" => fields(&what, ev, &[("hive", T::OptObj)]),
        "pending-rename" => {
            fields(
                &what,
                ev,
                &[("pending", T::Obj), ("pending_renames", T::Arr)],
            );
            let p = &ev["pending"];
            fields(
                &what,
                p,
                &[
                    ("verdict", T::Str),
                    ("why", T::Str),
                    ("now", T::Arr),
                    ("after", T::Arr),
                    ("operations", T::Arr),
                ],
            );
            let verdicts = ["fixes", "fixes-some", "causes", "unchanged", "not-checked"];
            assert!(verdicts.contains(&p["verdict"].as_str().unwrap()), "{what}");
            for m in p["now"]
                .as_array()
                .unwrap()
                .iter()
                .chain(p["after"].as_array().unwrap())
            {
                fields(
                    &what,
                    m,
                    &[
                        ("path", T::Str),
                        ("version", T::OptStr),
                        ("expected", T::Str),
                    ],
                );
            }
            for op in nonempty(&what, &p["operations"]) {
                fields(
                    &what,
                    op,
                    &[
                        ("source", T::Str),
                        ("source_state", T::Str),
                        ("source_version", T::OptStr),
                        ("destination", T::OptStr),
                        ("destination_version", T::OptStr),
                        ("replace_existing", T::Bool),
                    ],
                );
            }
        }
        "missing-section" => {
            fields(&what, ev, &[("section", T::Obj)]);
            let x = &ev["section"];
            fields(
                &what,
                x,
                &[
                    ("applications", T::Arr),
                    ("component", T::OptStr),
                    ("config", T::Str),
                    ("declared", T::Bool),
                    ("location", T::OptStr),
                    ("module_registered", T::OptBool),
                    ("modules", T::Arr),
                    ("pools", T::Arr),
                    ("schema", T::OptBool),
                    ("schema_folder", T::Str),
                    ("sections", T::Arr),
                    ("state", T::Str),
                ],
            );
            let states = ["undeclared", "no-schema", "no-module"];
            assert!(states.contains(&x["state"].as_str().unwrap()), "{what}");
            nonempty(&what, &x["sections"]);
            for p in nonempty(&what, &x["pools"]) {
                fields(
                    &what,
                    p,
                    &[("applications", T::Arr), ("bits", T::Int), ("name", T::Str)],
                );
            }
        }
        "ancm-handler-missing" => {
            fields(&what, ev, &[("ancm", T::Obj)]);
            let a = &ev["ancm"];
            fields(
                &what,
                a,
                &[
                    ("application", T::Str),
                    ("bits", T::Int),
                    ("handler", T::Str),
                    ("hosting_model", T::Str),
                    ("pools", T::Arr),
                    ("searched", T::Arr),
                    ("state", T::Str),
                    ("web_config", T::Str),
                ],
            );
            let states = ["missing", "no-framework", "no-version-folder"];
            assert!(states.contains(&a["state"].as_str().unwrap()), "{what}");
            nonempty(&what, &a["searched"]);
        }
        other => panic!("{img}: rule `{other}` is not in the README's rule table"),
    }
}

/// `installs[].component_store`: the live IIS files against WinSxS.
fn check_component_store(what: &str, s: &Value) {
    fields(
        what,
        s,
        &[
            ("path", T::Str),
            ("checked", T::Bool),
            ("reason", T::OptStr),
            ("hard_links", T::Str),
            ("manifest_format", T::OptStr),
            ("pending", T::Arr),
            ("components_listed", T::Int),
            ("notes", T::Arr),
            ("files", T::Arr),
        ],
    );
    assert_eq!(
        s["checked"] == false,
        s["reason"].is_string(),
        "{what}: {s}"
    );
    assert!(["ntfs", "not-applicable"].contains(&s["hard_links"].as_str().unwrap()));
    for f in s["files"].as_array().unwrap() {
        fields(
            what,
            f,
            &[
                ("path", T::Str),
                ("file_version", T::OptStr),
                ("architectures", T::Arr),
                ("component", T::OptStr),
                ("component_version", T::OptStr),
                ("components", T::Arr),
                ("link", T::Str),
                ("linked_component", T::OptStr),
                ("manifest", T::OptStr),
                ("manifest_reason", T::OptStr),
                ("hash_algorithm", T::OptStr),
                ("manifest_digest", T::OptStr),
                ("file_digest", T::OptStr),
                ("evidence", T::Arr),
                ("verdict", T::Str),
            ],
        );
        for c in f["components"].as_array().unwrap() {
            fields(
                what,
                c,
                &[
                    ("folder", T::Str),
                    ("architecture", T::Str),
                    ("version", T::Str),
                ],
            );
        }
        let verdict = f["verdict"].as_str().unwrap();
        assert!(
            [
                "store-copy",
                "hash-differs",
                "version-differs",
                "older-component",
                "not-linked",
                "not-in-store",
                "not-checked"
            ]
            .contains(&verdict),
            "{what}: verdict {verdict}"
        );
        for e in f["evidence"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            assert!(
                ["hard-link", "manifest-hash", "component-version"].contains(&e),
                "{what}: evidence {e}"
            );
        }
    }
}

/// The component store images: every documented field of
/// `installs[].component_store` and of `not-store-copy`'s evidence, and each
/// image's verdicts resting on the evidence its store allows.
#[test]
fn component_store_has_its_documented_shape_and_evidence() {
    let images = [
        "w2k8r2-store-healthy.img",
        "w2k8r2-store-manifest-mismatch.img",
        "w2k8r2-store-older-component.img",
        "w2k19-store-healthy.img",
        "w2k19-store-not-linked.img",
        "w2k8r2-store-hostile.img",
    ];
    let mut args = vec!["diagnose", "--format", "json", "--fail-on", "never"];
    args.extend(images.iter().map(|f| need(f)));
    let (code, reports, stderr) = run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(reports.len(), images.len());
    let store = |r: &Value| r["installs"][0]["component_store"].clone();
    let file = |s: &Value, name: &str| {
        s["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in {s}"))
            .clone()
    };
    for r in &reports {
        check_diagnose_report(r);
        let s = store(r);
        assert_eq!(s["checked"], true, "{s}");
        assert_eq!(s["hard_links"], "ntfs");
        assert!(
            r["installs"][0]["coverage"]["families"]
                .as_array()
                .unwrap()
                .contains(&Value::from("component-store")),
            "{r}"
        );
    }
    // 2008 R2: XML manifests, every kind of evidence.
    let healthy = store(&reports[0]);
    assert_eq!(healthy["manifest_format"], "xml");
    for f in healthy["files"].as_array().unwrap() {
        assert_eq!(f["verdict"], "store-copy", "{f}");
        assert_eq!(
            f["evidence"],
            serde_json::json!(["hard-link", "manifest-hash", "component-version"]),
            "{f}"
        );
        assert_eq!(f["link"], "newest-component");
        assert_eq!(f["manifest_digest"], f["file_digest"]);
    }
    let mismatch = file(&store(&reports[1]), r"\iiscore.dll");
    assert_eq!(mismatch["verdict"], "hash-differs");
    assert_eq!(mismatch["link"], "not-linked");
    assert_ne!(mismatch["manifest_digest"], mismatch["file_digest"]);
    let older = store(&reports[2]);
    let iiscore = file(&older, r"\iiscore.dll");
    assert_eq!(iiscore["verdict"], "older-component");
    assert!(iiscore["linked_component"]
        .as_str()
        .unwrap()
        .contains("_6.1.7601.17514_"));
    assert_eq!(iiscore["component_version"], "6.1.7601.23505");
    assert_eq!(older["pending"].as_array().unwrap().len(), 2, "{older}");
    // Server 2019: DCM manifests, so hard links and versions only.
    let w19 = store(&reports[3]);
    assert_eq!(w19["manifest_format"], "compressed");
    for f in w19["files"].as_array().unwrap() {
        assert_eq!(f["verdict"], "store-copy", "{f}");
        assert_eq!(f["manifest"], "compressed");
        assert_eq!(
            f["evidence"],
            serde_json::json!(["hard-link", "component-version"])
        );
    }
    let nl = store(&reports[4]);
    assert_eq!(file(&nl, r"\iiscore.dll")["verdict"], "version-differs");
    assert_eq!(file(&nl, r"\w3wp.exe")["verdict"], "not-linked");
    let severities: Vec<(&str, &str)> = reports[4]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap(),
                f["paths"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        severities,
        [
            ("error", r"\Windows\System32\inetsrv\iiscore.dll"),
            ("warning", r"\Windows\System32\inetsrv\w3wp.exe")
        ]
    );
    // Hostile: partial, the damaged manifests and the long name said.
    let hostile = &reports[5];
    assert_eq!(hostile["status"], "partial");
    assert!(hostile["findings"].as_array().unwrap().is_empty());
    let s = store(hostile);
    assert_eq!(file(&s, r"\static.dll")["manifest"], "unreadable");
    assert_eq!(file(&s, r"\defdoc.dll")["manifest"], "unreadable");
    assert_eq!(file(&s, r"\static.dll")["verdict"], "store-copy");
    assert_eq!(s["notes"].as_array().unwrap().len(), 1, "{s}");

    // An IIS 7.5 install without a WinSxS folder says the store was not
    // checked (and why) without lowering its status; before Vista the store
    // is not part of the install at all (null).
    let (_, r, _) = run_json(&[
        "diagnose",
        "--format",
        "json",
        need("w2k8r2-iis75-config.img"),
        SEED,
    ]);
    let s = store(&r[0]);
    check_component_store("w2k8r2-iis75-config", &s);
    assert_eq!(s["checked"], false);
    assert!(s["reason"].as_str().unwrap().contains("WinSxS"), "{s}");
    assert_eq!(r[0]["installs"][0]["status"], "evaluated");
    assert!(!r[0]["installs"][0]["coverage"]["families"]
        .as_array()
        .unwrap()
        .contains(&Value::from("component-store")));
    assert!(store(&r[1]).is_null());
}

/// `installs[].loader`: the static loader check's facts.
fn check_loader(what: &str, l: &Value) {
    fields(
        what,
        l,
        &[
            ("known_dlls", T::Arr),
            ("known_dlls_folder", T::OptStr),
            ("search", T::Arr),
            ("path_value", T::OptStr),
            ("core_present", T::OptBool),
            ("roots", T::Arr),
            ("modules", T::Arr),
            ("capped", T::OptStr),
            ("wow64", T::OptObj),
        ],
    );
    if l["wow64"].is_object() {
        fields(
            what,
            &l["wow64"],
            &[
                ("known_dlls_folder", T::OptStr),
                ("search", T::Arr),
                ("core_present", T::OptBool),
            ],
        );
    }
    let worker = [("kind", T::Str), ("name", T::Str), ("bits", T::Int)];
    for r in l["roots"].as_array().unwrap() {
        fields(
            what,
            r,
            &[
                ("loaded_by", T::Str),
                ("source", T::Str),
                ("path", T::Str),
                ("app_folder", T::Str),
                ("host_machine", T::OptStr),
                ("worker", T::OptObj),
                ("wow64", T::Bool),
            ],
        );
        if r["worker"].is_object() {
            fields(what, &r["worker"], &worker);
        }
    }
    for m in l["modules"].as_array().unwrap() {
        fields(
            what,
            m,
            &[
                ("path", T::Str),
                ("machine", T::OptStr),
                ("version", T::OptStr),
                ("host_machine", T::OptStr),
                ("needed_by", T::Arr),
                ("workers", T::Arr),
                ("wow64", T::Bool),
                ("error", T::OptStr),
                ("imports", T::Arr),
            ],
        );
        for w in m["workers"].as_array().unwrap() {
            fields(what, w, &worker);
        }
        for i in m["imports"].as_array().unwrap() {
            fields(
                what,
                i,
                &[
                    ("dll", T::Str),
                    ("delay", T::Bool),
                    ("symbols", T::Int),
                    ("outcome", T::Str),
                    ("path", T::OptStr),
                    ("known_dll", T::Bool),
                    ("reason", T::OptStr),
                    ("searched", T::OptArr),
                    ("missing", T::Arr),
                ],
            );
            let outcome = i["outcome"].as_str().unwrap();
            assert!(
                ["found", "missing", "not-checked"].contains(&outcome),
                "{outcome}"
            );
            for x in i["missing"].as_array().unwrap() {
                fields(
                    what,
                    x,
                    &[("symbol", T::Str), ("exporter", T::Str), ("via", T::Arr)],
                );
            }
        }
    }
}

/// `installs[].iis_config`'s sections, schema folder and `web_configs[]`.
fn check_iis_sections(what: &str, c: &Value) {
    fields(
        what,
        c,
        &[
            ("uses", T::Arr),
            ("schema", T::Obj),
            ("web_configs", T::Arr),
        ],
    );
    let uses = |what: &str, u: &Value| {
        for x in u.as_array().unwrap() {
            fields(
                what,
                x,
                &[
                    ("section", T::Str),
                    ("location", T::OptStr),
                    ("declared", T::Bool),
                ],
            );
        }
    };
    uses(what, &c["uses"]);
    fields(
        what,
        &c["schema"],
        &[("path", T::Str), ("error", T::OptStr), ("files", T::Arr)],
    );
    for f in c["schema"]["files"].as_array().unwrap() {
        fields(
            what,
            f,
            &[("name", T::Str), ("sections", T::Arr), ("error", T::OptStr)],
        );
    }
    for w in c["web_configs"].as_array().unwrap() {
        fields(
            what,
            w,
            &[
                ("site", T::Str),
                ("application", T::Str),
                ("pool", T::Str),
                ("bits", T::OptInt),
                ("physical_path", T::Str),
                ("path", T::OptStr),
                ("state", T::Str),
                ("reason", T::OptStr),
                ("sections_declared", T::Arr),
                ("uses", T::Arr),
                ("aspnetcore", T::OptObj),
                ("problems", T::Arr),
                ("ancm", T::OptObj),
            ],
        );
        let states = ["read", "absent", "unreadable", "not-checked"];
        assert!(
            states.contains(&w["state"].as_str().unwrap()),
            "{what}: {w}"
        );
        uses(what, &w["uses"]);
        if w["aspnetcore"].is_object() {
            fields(
                what,
                &w["aspnetcore"],
                &[
                    ("hosting_model", T::OptStr),
                    ("process_path", T::OptStr),
                    ("handler_version", T::OptStr),
                    ("module", T::OptStr),
                ],
            );
        }
        if w["ancm"].is_object() {
            fields(
                what,
                &w["ancm"],
                &[
                    ("hosting_model", T::Str),
                    ("handler", T::Str),
                    ("searched", T::Arr),
                    ("found", T::OptStr),
                    ("state", T::Str),
                    ("reason", T::OptStr),
                ],
            );
        }
    }
}

/// The section and ASP.NET Core images raise `missing-section` and
/// `ancm-handler-missing`; each finding's evidence and each install's
/// `iis_config` (schema folder, web.configs, handlers) have their
/// documented shape, and the hostile web.configs are said, not judged.
#[test]
fn section_rules_have_their_documented_evidence() {
    let images = [
        "w2k19-iis10-rewrite-uninstalled.img",
        "w2k19-iis10-section-no-schema.img",
        "w2k19-iis10-ancm-inprocess-missing.img",
        "w2k19-iis10-ancm-outofprocess-missing.img",
        "w2k19-iis10-webconfig-hostile.img",
    ];
    let mut args = vec!["diagnose", "--format", "json", "--fail-on", "never"];
    args.extend(images.iter().map(|f| need(f)));
    let (code, reports, stderr) = run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    let mut rules = std::collections::BTreeSet::new();
    for r in &reports {
        check_diagnose_report(r);
        for f in r["findings"].as_array().unwrap() {
            rules.insert(f["rule"].as_str().unwrap().to_string());
        }
    }
    for want in ["missing-section", "ancm-handler-missing"] {
        assert!(rules.contains(want), "{want} not exercised: {rules:?}");
    }
    let hostile = &reports[4]["installs"][0]["iis_config"]["web_configs"];
    let states: std::collections::BTreeMap<&str, &str> = hostile
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["site"].as_str().unwrap(), w["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states["malformed"], "unreadable");
    assert_eq!(states["oversized"], "unreadable");
    assert_eq!(states["utf16"], "read");
    let ancm = &reports[2]["installs"][0]["iis_config"]["web_configs"];
    let shop = ancm
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["site"] == "shop")
        .unwrap();
    assert_eq!(shop["ancm"]["state"], "missing");
    assert_eq!(shop["ancm"]["hosting_model"], "inprocess");
}

/// The loader images raise the four loader rules; each finding's evidence
/// and each install's `loader` have their documented shape.
#[test]
fn loader_rules_have_their_documented_evidence() {
    let images = [
        "nt4-loader-broken-import.img",
        "nt4-loader-missing-dependency.img",
        "nt4-loader-wrong-machine.img",
        "nt4-loader-delay.img",
    ];
    let mut args = vec!["diagnose", "--format", "json", "--fail-on", "never"];
    args.extend(images.iter().map(|f| need(f)));
    let (code, reports, stderr) = run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    let mut rules = std::collections::BTreeSet::new();
    for r in &reports {
        check_diagnose_report(r);
        for f in r["findings"].as_array().unwrap() {
            rules.insert(f["rule"].as_str().unwrap().to_string());
        }
    }
    for want in [
        "broken-import",
        "missing-dependency",
        "wrong-machine",
        "broken-delay-import",
    ] {
        assert!(rules.contains(want), "{want} not exercised: {rules:?}");
    }
}

/// IIS 7+ module images: the loader check walks each per worker bitness; a
/// missing Visual C++ runtime names the module, the pools, the bitness, the
/// event 2280 symptom and the redistributable of that bitness.
#[test]
fn module_loader_findings_name_module_pools_bitness_and_runtime() {
    let images = [
        "w2k19-iis10-vcruntime-healthy.img",
        "w2k19-iis10-vcruntime-missing.img",
        "w2k19-iis10-vcruntime32-missing.img",
    ];
    let mut args = vec!["diagnose", "--format", "json", "--fail-on", "never"];
    args.extend(images.iter().map(|f| need(f)));
    let (code, reports, stderr) = run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    for (r, (bits, arch, pool)) in reports[1..]
        .iter()
        .zip([(64, "x64", "DefaultAppPool"), (32, "x86", "Legacy32")])
    {
        check_diagnose_report(r);
        let findings = r["findings"].as_array().unwrap();
        assert!(
            findings.iter().all(|f| f["rule"] == "missing-dependency"),
            "{findings:?}"
        );
        let f = findings
            .iter()
            .find(|f| f["evidence"]["import"]["dll"] == "vcruntime140.dll")
            .unwrap_or_else(|| panic!("no finding on vcruntime140.dll: {findings:?}"));
        let ev = &f["evidence"];
        assert_eq!(ev["module"]["name"], "ContosoCache", "{ev}");
        assert_eq!(ev["module"]["bits"], bits, "{ev}");
        assert_eq!(ev["module"]["pools"][0]["name"], pool, "{ev}");
        assert_eq!(ev["runtime"]["arch"], arch, "{ev}");
        assert_eq!(ev["import"]["dll"], "vcruntime140.dll", "{ev}");
        let msg = f["message"].as_str().unwrap();
        assert!(msg.contains("2280") && msg.contains("503"), "{msg}");
        let remedy = f["remedy"].as_str().unwrap();
        assert!(
            remedy.contains(&format!("vc_redist.{arch}.exe")),
            "{remedy}"
        );
    }
    // The healthy image: the 32-bit worker's view binds ccache.dll's
    // imports in SysWOW64, the 64-bit worker's in System32.
    let h = &reports[0];
    check_diagnose_report(h);
    assert_eq!(
        h["findings"].as_array().unwrap().len(),
        0,
        "{}",
        h["findings"]
    );
    let l = &h["installs"][0]["loader"];
    assert_eq!(
        l["wow64"]["search"][0], "\\Windows\\SysWOW64",
        "{}",
        l["wow64"]
    );
    assert_eq!(
        l["wow64"]["known_dlls_folder"], "\\Windows\\SysWOW64",
        "DllDirectory32: {}",
        l["wow64"]
    );
    let module = |path: &str, wow64: bool| {
        l["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["path"] == path && m["wow64"] == wow64)
            .unwrap_or_else(|| panic!("{path} (wow64 {wow64}) not walked"))
            .clone()
    };
    let m32 = module("\\Program Files (x86)\\Contoso\\Cache\\ccache.dll", true);
    assert_eq!(m32["workers"][0]["bits"], 32, "{m32}");
    assert!(
        m32["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["dll"] == "vcruntime140.dll"
                && i["path"] == "\\Windows\\SysWOW64\\vcruntime140.dll"),
        "{m32}"
    );
    let m64 = module("\\Program Files\\Contoso\\Cache\\ccache.dll", false);
    assert!(
        m64["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["dll"] == "kernel32.dll" && i["known_dll"] == true),
        "{m64}"
    );
}

#[test]
fn diagnose_json_has_every_documented_field_with_its_type() {
    // The images together raise lockstep-mismatch, missing-addon-dll,
    // behind-service-pack, no-version-resource and undone-update.
    let images = [
        SEED,
        ADDON_MISSING,
        SP1_ON_SP2,
        BAD_VERSION,
        MBR63,
        E01,
        FAT16,
        ACROSS,
        UNDONE,
        PENDING,
    ];
    let mut args = vec!["diagnose", "--format", "json", "--fail-on", "never"];
    args.extend(images.iter().map(|f| need(f)));
    let (code, reports, stderr) = run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(reports.len(), images.len(), "one object per image");
    let mut rules = std::collections::BTreeSet::new();
    for (r, file) in reports.iter().zip(images) {
        assert_eq!(r["image"], file, "in the order given, path as given");
        check_diagnose_report(r);
        for f in r["findings"].as_array().unwrap() {
            rules.insert(f["rule"].as_str().unwrap().to_string());
        }
    }
    for want in [
        "lockstep-mismatch",
        "missing-addon-dll",
        "behind-service-pack",
        "no-version-resource",
        "undone-update",
        "pending-rename",
    ] {
        assert!(rules.contains(want), "{want} not exercised: {rules:?}");
    }
    assert_eq!(reports[4]["volumes"][0]["partition"]["scheme"], "mbr");
    assert_eq!(reports[5]["format"], "ewf");
    check_across_volumes(&reports[7]);
    // Single-volume reports keep their shape: no letters, no boot.ini.
    assert!(reports[0].get("boot_entries").is_none());
    assert!(reports[0]["installs"][0].get("drives").is_none());
}

/// The fields only a report of several volumes has: `boot_entries[]` and
/// each install's `drives[]`.
fn check_across_volumes(r: &Value) {
    for e in nonempty("boot_entries", &r["boot_entries"]) {
        fields(
            "boot_entries[]",
            e,
            &[
                ("volume", T::Int),
                ("path", T::Str),
                ("line", T::Int),
                ("arc", T::Str),
                ("description", T::Str),
                ("default", T::Bool),
                ("partition", T::OptInt),
                ("target_volume", T::OptInt),
                ("install", T::OptInt),
                ("note", T::OptStr),
            ],
        );
    }
    for i in nonempty("installs", &r["installs"]) {
        for d in nonempty("installs[].drives", &i["drives"]) {
            fields(
                "installs[].drives[]",
                d,
                &[
                    ("letter", T::Str),
                    ("volume", T::OptInt),
                    ("source", T::Str),
                ],
            );
        }
    }
}

#[test]
fn diagnose_json_error_object_for_an_unanalysable_image() {
    let (code, rows, stderr) = run_json(&["diagnose", "--format", "json", "no-such.img"]);
    assert_eq!(code, 2);
    assert_eq!(rows.len(), 1);
    fields(
        "error object",
        &rows[0],
        &[
            ("schema", T::Str),
            ("tool_version", T::Str),
            ("image", T::Str),
            ("error", T::Str),
            ("kind", T::Str),
        ],
    );
    assert_eq!(rows[0]["schema"], "verskew.diagnose/1");
    assert_eq!(rows[0]["image"], "no-such.img");
    assert_eq!(rows[0]["kind"], "not-found");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

// ---- versions --------------------------------------------------------------

fn check_version_row(r: &Value) {
    fields(
        "versions row",
        r,
        &[
            ("schema", T::Str),
            ("tool_version", T::Str),
            ("image", T::Str),
            ("volume", T::Int),
            ("path", T::Str),
            ("size", T::Int),
            ("created", T::OptStr),
            ("modified", T::OptStr),
            ("compressed", T::Bool),
            ("error", T::OptStr),
            ("version", T::OptObj),
        ],
    );
    assert_eq!(r["schema"], "verskew.versions/1");
    let v = &r["version"];
    if v.is_null() {
        assert!(r["error"].is_string(), "no version and no reason: {r}");
        return;
    }
    fields(
        "version",
        v,
        &[
            ("file_version", T::OptStr),
            ("product_version", T::OptStr),
            ("strings", T::Obj),
            ("string_table", T::OptObj),
            ("translation", T::OptObj),
            ("file_flags", T::OptInt),
            ("file_os", T::OptInt),
            ("file_type", T::OptInt),
            ("file_subtype", T::OptInt),
            ("resource", T::Obj),
        ],
    );
    for t in ["string_table", "translation"] {
        if !v[t].is_null() {
            fields(t, &v[t], &[("lang", T::Int), ("code_page", T::Int)]);
        }
    }
    fields(
        "resource",
        &v["resource"],
        &[
            ("name", T::Str),
            ("lang", T::Int),
            ("file_offset", T::Int),
            ("size", T::Int),
        ],
    );
}

#[test]
fn versions_json_has_every_documented_field_sorted_by_path() {
    let (code, rows, stderr) = run_json(&["versions", "--format", "json", need(BAD_VERSION)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(rows.len() > 10, "the inetsrv folder lists many PE files");
    for r in &rows {
        check_version_row(r);
        assert_eq!(r["image"], BAD_VERSION);
    }
    let paths: Vec<&str> = rows.iter().map(|r| r["path"].as_str().unwrap()).collect();
    let mut sorted = paths.clone();
    sorted.sort_by_key(|p| p.to_ascii_lowercase());
    assert_eq!(paths, sorted, "sorted by path");
    // The damaged file: null version, and the reason why.
    let bad = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with(r"\infocomm.dll"))
        .expect("infocomm.dll listed");
    assert!(bad["version"].is_null(), "{bad}");
    assert!(!bad["error"].as_str().unwrap().is_empty());
    // A good file: the four numbers and the string table.
    let good = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with(r"\w3svc.dll"))
        .expect("w3svc.dll listed");
    assert_eq!(good["version"]["file_version"], "4.2.622.1");
    assert_eq!(good["version"]["strings"]["FileVersion"], "4.02.0622");
    assert!(good["error"].is_null());
}

#[test]
fn versions_missing_image_exits_2_with_a_message() {
    for fmt in ["text", "json"] {
        let out = verskew()
            .args(["versions", "--format", fmt, "no-such.img"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{fmt}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("no-such.img"), "{err}");
    }
    verskew()
        .args(["versions", "--all", "no-such.img"])
        .assert()
        .code(2);
    // An image with no NTFS or FAT volume cannot be listed either (README: exit 2).
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros.img");
    std::fs::write(&zeros, vec![0u8; 1 << 20]).unwrap();
    for all in [false, true] {
        let mut cmd = verskew();
        cmd.arg("versions");
        if all {
            cmd.arg("--all");
        }
        let out = cmd.arg(&zeros).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "--all {all}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no NTFS or FAT volume"));
    }
}

// ---- info ------------------------------------------------------------------

fn check_info(j: &Value) {
    fields(
        "info",
        j,
        &[
            ("schema", T::Str),
            ("tool_version", T::Str),
            ("image", T::Str),
            ("format", T::Str),
            ("size", T::Int),
            ("container", T::Obj),
            ("volumes", T::OptObj),
            ("volume_error", T::OptStr),
            ("truncated", T::Arr),
            ("ntfs", T::Arr),
            ("filesystems", T::Arr),
            ("hashes", T::OptArr),
        ],
    );
    assert_eq!(j["schema"], "verskew.info/1");
    fields(
        "container",
        &j["container"],
        &[("files", T::Arr), ("metadata", T::Arr)],
    );
    assert!(nonempty("container.files", &j["container"]["files"])
        .iter()
        .all(Value::is_string));
    // Sorted key/value pairs.
    let meta: Vec<(String, String)> = j["container"]["metadata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|kv| {
            let kv = kv.as_array().unwrap_or_else(|| panic!("pair: {kv}"));
            assert_eq!(kv.len(), 2, "{kv:?}");
            (
                kv[0].as_str().unwrap().to_string(),
                kv[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = meta.clone();
    sorted.sort();
    assert_eq!(meta, sorted, "metadata sorted");
    fields(
        "volumes",
        &j["volumes"],
        &[
            ("scheme", T::Str),
            ("sector_size", T::Int),
            ("partitions", T::Arr),
            ("notes", T::Arr),
        ],
    );
    for n in nonempty("ntfs", &j["ntfs"]) {
        fields(
            "ntfs[]",
            n,
            &[
                ("label", T::OptStr),
                ("cluster_size", T::OptInt),
                ("version", T::OptStr),
            ],
        );
    }
    for f in nonempty("filesystems", &j["filesystems"]) {
        fields(
            "filesystems[]",
            f,
            &[
                ("partition", T::Int),
                ("filesystem", T::Str),
                ("version", T::OptStr),
                ("label", T::OptStr),
                ("cluster_size", T::OptInt),
                ("error", T::OptStr),
            ],
        );
        assert!(["ntfs", "fat"].contains(&f["filesystem"].as_str().unwrap()));
    }
}

#[test]
fn info_json_has_every_documented_field() {
    let (code, rows, stderr) = run_json(&["info", "--format", "json", need(MBR63)]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(rows.len(), 1, "one object");
    check_info(&rows[0]);
    assert_eq!(rows[0]["format"], "raw");
    assert_eq!(rows[0]["volumes"]["scheme"], "mbr");
    assert!(rows[0]["hashes"].is_null(), "no --verify, no hashes");

    let (code, rows, stderr) = run_json(&["info", "--format", "json", "--verify", need(E01)]);
    assert_eq!(code, 0, "{stderr}");
    check_info(&rows[0]);
    assert_eq!(rows[0]["format"], "ewf");
    assert!(!rows[0]["container"]["metadata"]
        .as_array()
        .unwrap()
        .is_empty());
    for h in nonempty("hashes", &rows[0]["hashes"]) {
        fields(
            "hashes[]",
            h,
            &[
                ("algorithm", T::Str),
                ("stored", T::Str),
                ("computed", T::Str),
                ("matches", T::Bool),
            ],
        );
        assert_eq!(h["matches"], true, "{h}");
    }
}

#[test]
fn info_missing_image_exits_2_with_a_message() {
    for args in [
        vec!["info", "no-such.img"],
        vec!["info", "--format", "json", "no-such.img"],
        vec!["info", "--verify", "no-such.E01"],
    ] {
        let out = verskew().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains("no-such."), "{err}");
    }
}

// ---- --rules and --fail-on -------------------------------------------------

#[test]
fn a_user_rule_changes_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(&dir);
    let seed = need(SEED);
    // Built-in rules: the seed image's w3svc.dll mismatch.
    verskew().args(["diagnose", seed]).assert().code(1);
    // With w3svc.dll out of both sets, nothing is left to compare it with.
    let out = verskew()
        .args(["diagnose", "--format", "json", "--rules"])
        .arg(&rules)
        .arg(seed)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["summary"]["errors"], 0, "{}", j["findings"]);
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"] != "lockstep-mismatch"),
        "{}",
        j["findings"]
    );
    // Other built-in knowledge is kept: the OS and hotfixes are still known.
    assert_eq!(j["installs"][0]["os"]["service_pack"], "Service Pack 6");
    assert_eq!(
        j["installs"][0]["hotfixes"].as_array().unwrap().len(),
        2,
        "{}",
        j["installs"][0]["hotfixes"]
    );
    // A rules file that reads but adds nothing changes nothing.
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    verskew()
        .args(["diagnose", "--rules"])
        .arg(&empty)
        .arg(seed)
        .assert()
        .code(1);
}

/// An update table given with `--rules` replaces the built-in entry of the
/// same KB: a Q319733 that shipped a newer w3svc.dll than the healthy IIS 5
/// image carries makes its w3svc.dll behind an update that iislog.dll and
/// ism.dll (versions only Q319733 shipped) prove applied.
#[test]
fn an_update_table_in_rules_raises_behind_update() {
    let healthy = need("w2k-iis5-healthy.img");
    verskew().args(["diagnose", healthy]).assert().code(0);
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("q319733.toml");
    std::fs::write(
        &rules,
        r#"
[[update]]
kb = "Q319733"
bulletin = "MS02-018"
title = "local copy"
family = "iis5"
references = ["Q319733", "MS02-018"]

[update.files]
"iislog.dll" = "5.0.2195.5283"
"ism.dll" = "5.0.2195.5247"
"w3svc.dll" = "5.0.2195.5300"
"#,
    )
    .unwrap();
    let out = verskew()
        .args(["diagnose", "--format", "json", "--rules"])
        .arg(&rules)
        .arg(healthy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_diagnose_report(&j);
    let findings = j["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", j["findings"]);
    let f = &findings[0];
    assert_eq!(f["rule"], "behind-update");
    assert_eq!(f["evidence"]["expected_version"], "5.0.2195.5300");
    assert_eq!(f["evidence"]["update"]["kb"], "Q319733");
    assert_eq!(f["evidence"]["update"]["bulletin"], "MS02-018");
    let proof: Vec<&str> = f["evidence"]["update"]["proven_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        proof,
        [
            r"\WINNT\system32\inetsrv\iislog.dll",
            r"\WINNT\system32\inetsrv\ism.dll"
        ]
    );
}

#[test]
fn a_missing_or_malformed_rules_file_exits_2_before_any_image() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[lockstep]]\nid = 3\n").unwrap();
    let missing = dir.path().join("absent.toml");
    for (rules, name) in [(&bad, "bad.toml"), (&missing, "absent.toml")] {
        let out = verskew()
            .args(["diagnose", "--rules"])
            .arg(rules)
            .arg(need(SEED))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(name),
            "{name}: stderr names the rules file"
        );
        assert!(out.stdout.is_empty(), "{name}: no report with bad rules");
    }
}

#[test]
fn fail_on_warning_fails_a_warning_only_report() {
    // damaged-version-resource.img: a w3svc.dll mismatch (error) and an
    // unreadable infocomm.dll version (warning). The user rule removes the
    // error, leaving a report with only the warning.
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(&dir);
    let img = need(BAD_VERSION);
    let run = |fail_on: Option<&str>| {
        let mut c = verskew();
        c.args(["diagnose", "--format", "json", "--rules"])
            .arg(&rules);
        if let Some(f) = fail_on {
            c.args(["--fail-on", f]);
        }
        let out = c.arg(img).output().unwrap();
        let j: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), j)
    };
    let (code, j) = run(None);
    assert_eq!(j["summary"]["errors"], 0, "{}", j["findings"]);
    assert_eq!(j["summary"]["warnings"], 1, "{}", j["findings"]);
    assert_eq!(j["findings"][0]["rule"], "no-version-resource");
    assert_eq!(
        code, 0,
        "a warning does not reach the default --fail-on error"
    );
    assert_eq!(run(Some("error")).0, 0);
    assert_eq!(
        run(Some("warning")).0,
        1,
        "--fail-on warning includes warnings"
    );
    assert_eq!(run(Some("never")).0, 0);

    // Without the user rule the error is there: warning and error both fail.
    for (fail_on, want) in [("error", 1), ("warning", 1), ("never", 0)] {
        verskew()
            .args(["diagnose", "--fail-on", fail_on, img])
            .assert()
            .code(want);
    }
}

#[test]
fn fail_on_never_still_exits_2_for_an_unanalysable_image() {
    verskew()
        .args(["diagnose", "--fail-on", "never", need(SEED), "no-such.img"])
        .assert()
        .code(2);
}

// ---- text output -------------------------------------------------------------

#[test]
fn text_output_has_no_escape_codes() {
    for args in [
        vec!["diagnose", SEED, BAD_VERSION, ADDON_MISSING],
        vec!["versions", SEED],
        vec!["versions", SEED, "--all"],
        vec!["info", E01],
        vec!["info", MBR63],
    ] {
        for a in &args[1..] {
            if !a.starts_with('-') {
                need(a);
            }
        }
        let out = verskew().args(&args).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}");
        assert!(!out.stdout.is_empty(), "{args:?}: no output");
        for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let bad = bytes
                .iter()
                .position(|&b| b == 0x1b || (b < 0x20 && b != b'\n' && b != b'\t'));
            assert!(
                bad.is_none(),
                "{args:?}: control byte in {name} at {bad:?}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

// ---- fleet -----------------------------------------------------------------

fn check_member(what: &str, m: &Value) {
    fields(
        what,
        m,
        &[("image", T::Str), ("volume", T::Int), ("install", T::Str)],
    );
}

#[test]
fn fleet_json_has_every_documented_field_with_its_type() {
    let dir = tempfile::tempdir().unwrap();
    let out = verskew()
        .args(["diagnose", "--format", "json", "--fail-on", "never"])
        .args([need(SEED), need("nt4-iis4-healthy.img"), "no-such.img"])
        .output()
        .unwrap();
    let mut lines = String::from_utf8(out.stdout).unwrap();
    lines.push_str("not a report\n");
    let reports = dir.path().join("fleet.jsonl");
    std::fs::write(&reports, lines).unwrap();
    let (code, docs, stderr) = run_json(&["fleet", "--format", "json", reports.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(docs.len(), 1, "one object");
    let f = &docs[0];
    fields(
        "fleet",
        f,
        &[
            ("schema", T::Str),
            ("tool_version", T::Str),
            ("reports", T::Arr),
            ("images", T::Int),
            ("installs", T::Int),
            ("groups", T::Arr),
            ("rules", T::Arr),
            ("failed", T::Arr),
            ("skipped", T::Arr),
        ],
    );
    assert_eq!(f["schema"], "verskew.fleet/1");
    assert_eq!(
        (f["images"].as_u64(), f["installs"].as_u64()),
        (Some(2), Some(2))
    );
    for g in nonempty("groups", &f["groups"]) {
        fields(
            "groups[]",
            g,
            &[
                ("os", T::Str),
                ("build", T::OptStr),
                ("families", T::Arr),
                ("installs", T::Int),
                ("members", T::Arr),
                ("files_compared", T::Int),
                ("disagreements", T::Arr),
            ],
        );
        for m in nonempty("members", &g["members"]) {
            check_member("groups[].members[]", m);
        }
        for d in nonempty("disagreements", &g["disagreements"]) {
            fields(
                "disagreements[]",
                d,
                &[
                    ("file", T::Str),
                    ("path", T::Str),
                    ("versions", T::Arr),
                    ("unread", T::Arr),
                ],
            );
            for v in nonempty("versions", &d["versions"]) {
                fields(
                    "versions[]",
                    v,
                    &[("version", T::Str), ("count", T::Int), ("members", T::Arr)],
                );
                for m in nonempty("versions[].members", &v["members"]) {
                    check_member("versions[].members[]", m);
                }
            }
        }
    }
    for r in nonempty("rules", &f["rules"]) {
        fields(
            "rules[]",
            r,
            &[
                ("rule", T::Str),
                ("severities", T::Arr),
                ("count", T::Int),
                ("members", T::Arr),
            ],
        );
        for m in nonempty("rules[].members", &r["members"]) {
            check_member("rules[].members[]", m);
        }
    }
    for x in nonempty("failed", &f["failed"]) {
        fields(
            "failed[]",
            x,
            &[
                ("image", T::Str),
                ("kind", T::Str),
                ("error", T::Str),
                ("at", T::Str),
            ],
        );
    }
    for s in nonempty("skipped", &f["skipped"]) {
        fields(
            "skipped[]",
            s,
            &[("report", T::Str), ("line", T::Int), ("reason", T::Str)],
        );
    }
}
