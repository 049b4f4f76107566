//! The timeline out, as the README documents it: `diagnose --format
//! timeline` (Timesketch JSON Lines) and `--format bodyfile` (The Sleuth
//! Kit 3.x body file). Every documented key with its type, sorted,
//! deterministic, the seed's story on the facts it rests on, both pinned
//! as snapshots; the body file read back by `mactime -b` (SKIPPED when
//! sleuthkit is not installed).

mod common;

use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
const UPDATES: &str = "w2k-iis5-update-undone.img";

/// (exit status, stdout) of `verskew diagnose --format FORMAT IMAGES…`.
fn run(format: &str, images: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(common::testdata())
        .args(["diagnose", "--format", format])
        .args(images)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn is_iso_utc(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// Each line: the documented keys, in order, with their types.
fn check_event(line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = vec![
        "message",
        "datetime",
        "timestamp",
        "timestamp_desc",
        "image",
        "volume",
        "install",
        "kind",
        "path",
        "version",
        "size",
        "rule",
        "story",
        "file_times",
    ];
    let mut sorted = keys.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "{line}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    let dt = v["datetime"].as_str().unwrap();
    assert!(is_iso_utc(dt), "datetime {dt}");
    let secs = chrono::DateTime::parse_from_rfc3339(dt)
        .unwrap()
        .timestamp();
    assert_eq!(v["timestamp"].as_i64(), Some(secs * 1_000_000), "{line}");
    assert!(matches!(
        v["timestamp_desc"].as_str(),
        Some(
            "Creation Time"
                | "Content Modification Time"
                | "Last Written Time"
                | "Installation Time"
        )
    ));
    assert!(v["image"].is_string() && v["install"].is_string() && v["path"].is_string());
    assert!(v["volume"].is_u64());
    assert!(matches!(
        v["kind"].as_str(),
        Some("file" | "folder" | "registry-key" | "update-record")
    ));
    for k in ["version", "rule", "story", "file_times"] {
        assert!(v[k].is_null() || v[k].is_string(), "{k}: {line}");
    }
    assert!(v["size"].is_null() || v["size"].is_u64());
    v
}

#[test]
fn timeline_lines_are_timesketch_events_sorted_with_the_story_on_its_facts() {
    let (status, out) = run("timeline", &[SEED]);
    assert_eq!(status, 1, "the seed has an error finding");
    let events: Vec<Value> = out.lines().map(check_event).collect();
    assert!(events.len() > 5, "{out}");
    let times: Vec<i64> = events
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not sorted by time");
    let w3svc = events
        .iter()
        .find(|e| {
            e["path"].as_str().unwrap().ends_with(r"\w3svc.dll")
                && e["timestamp_desc"] == "Content Modification Time"
        })
        .expect("w3svc.dll's write time");
    assert_eq!(w3svc["datetime"], "2001-09-10T11:05:00Z");
    assert_eq!(w3svc["rule"], "lockstep-mismatch");
    assert_eq!(w3svc["version"], "4.2.622.1");
    assert_eq!(w3svc["story"], "w3svc.dll written 2001-09-10");
    let hotfix = events
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with(r"\Hotfix\Q301625"))
        .expect("the Q301625 key");
    assert_eq!(hotfix["kind"], "registry-key");
    assert!(hotfix["story"]
        .as_str()
        .unwrap()
        .starts_with("Q301625 recorded"));
    assert!(
        events.iter().any(|e| e["story"]
            .as_str()
            .is_some_and(|s| s.contains("applied 2000-03-14"))),
        "the service pack's folder carries the story's first fact"
    );
    assert_eq!(run("timeline", &[SEED]).1, out, "deterministic");
    insta::assert_snapshot!("seed_timeline", out);
}

#[test]
fn update_records_give_their_install_day() {
    let (_, out) = run("timeline", &[UPDATES]);
    let events: Vec<Value> = out.lines().map(check_event).collect();
    assert!(
        events
            .iter()
            .any(|e| e["timestamp_desc"] == "Installation Time" && e["kind"] == "update-record"),
        "{out}"
    );
}

#[test]
fn fat_file_times_say_how_they_were_made_utc() {
    let (_, out) = run("timeline", &["nt4-iis4-kb291589-fat16.img"]);
    let events: Vec<Value> = out.lines().map(check_event).collect();
    let file = events
        .iter()
        .find(|e| e["kind"] == "file")
        .expect("a file time");
    assert!(file["file_times"].is_string(), "{file}");
    let key = events
        .iter()
        .find(|e| e["kind"] == "registry-key")
        .expect("a key time");
    assert!(key["file_times"].is_null(), "registry times are UTC: {key}");
}

/// Eleven fields, numbers where the format has numbers.
fn check_body_line(line: &str) {
    let f: Vec<&str> = line.split('|').collect();
    assert_eq!(f.len(), 11, "{line}");
    assert_eq!(f[0], "0", "MD5");
    assert!(!f[1].is_empty());
    for n in [2, 4, 5, 6, 7, 8, 9, 10] {
        assert!(f[n].parse::<i64>().is_ok(), "field {n} of {line}");
    }
    let times: Vec<i64> = [7, 8, 9, 10]
        .iter()
        .map(|n| f[*n].parse().unwrap())
        .collect();
    assert!(times.iter().any(|t| *t > 0), "no time: {line}");
}

#[test]
fn bodyfile_is_tsk_3_and_mactime_reads_it() {
    let (status, out) = run("bodyfile", &[SEED]);
    assert_eq!(status, 1);
    out.lines().for_each(check_body_line);
    let w3svc = out
        .lines()
        .find(|l| l.contains(r"\w3svc.dll [lockstep-mismatch]|"))
        .expect("w3svc.dll with its rule");
    // 2001-09-10T11:05:00Z as its mtime.
    assert_eq!(w3svc.split('|').nth(8), Some("1000119900"), "{w3svc}");
    assert_eq!(run("bodyfile", &[SEED]).1, out, "deterministic");
    insta::assert_snapshot!("seed_bodyfile", out);

    if Process::new("mactime").arg("-V").output().is_err() {
        eprintln!("SKIPPED: mactime not found (Debian package `sleuthkit`): the body file was not read back");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("seed.body");
    std::fs::write(&body, &out).unwrap();
    let m = Process::new("mactime")
        .args(["-b"])
        .arg(&body)
        .args(["-z", "UTC", "-d", "-y"])
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&m.stdout);
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let line = csv
        .lines()
        .find(|l| {
            l.contains(r"\w3svc.dll [lockstep-mismatch]") && l.starts_with("2001-09-10T11:05:00Z,")
        })
        .unwrap_or_else(|| panic!("mactime lost w3svc.dll's write time:\n{csv}"));
    let kind = line.split(',').nth(2).unwrap_or_default();
    assert!(kind.starts_with('m'), "{line}");
    // Every line of the body file has its times in mactime's output.
    let named = out.lines().count();
    let rows = csv.lines().skip(1).count();
    assert!(rows >= named, "{rows} mactime rows for {named} body lines");
}
