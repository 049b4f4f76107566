//! Many images on one line (`diagnose DIR-or-GLOB…`) and many reports
//! compared (`fleet`), end to end through the real binary over the
//! factory's images. Folders are built in a temporary directory of links to
//! the committed images, so nothing is written beside the evidence.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
const HEALTHY: &str = "nt4-iis4-healthy.img";

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata());
    c
}

fn data(file: &str) -> PathBuf {
    let p = common::testdata().join(file);
    assert!(p.is_file(), "testdata/{file} is committed and must exist");
    p
}

/// (exit status, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = verskew().args(args).output().unwrap();
    (
        out.status.code().expect("exited, not killed"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn images(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["image"].as_str().unwrap().to_string())
        .collect()
}

fn link(dir: &Path, name: &str, target: &str) {
    std::os::unix::fs::symlink(data(target), dir.join(name)).unwrap();
}

/// The summary line, its time taken out: `N images: … unreadable`.
fn summary(stderr: &str) -> String {
    let last = stderr.trim_end().lines().last().unwrap_or_default();
    let cut = last.rfind(" (").unwrap_or(last.len());
    assert!(
        last[cut..].ends_with(" s)"),
        "no time on the summary line: {stderr}"
    );
    last[..cut].to_string()
}

/// A folder of images: two raw images, a split raw set (four segments), a
/// two-segment E01, a file of zeros named like an image, a note. The
/// segments count once, the note is not an image, and the zeros are
/// reported as unreadable.
fn evidence_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    link(d, "seed.img", SEED);
    link(d, "healthy.img", HEALTHY);
    for n in 1..=4 {
        link(
            d,
            &format!("fat.00{n}"),
            &format!("nt4-iis4-kb291589-fat32.00{n}"),
        );
    }
    link(
        d,
        "split.E01",
        "containers/nt4-iis4-kb291589-mbr63-split.E01",
    );
    link(
        d,
        "split.E02",
        "containers/nt4-iis4-kb291589-mbr63-split.E02",
    );
    std::fs::write(d.join("zeros.img"), vec![0u8; 1 << 20]).unwrap();
    std::fs::write(d.join("notes.txt"), "acquired 2001-10-02\n").unwrap();
    dir
}

#[test]
fn a_folder_expands_to_its_images_sorted_each_set_once() {
    let dir = evidence_folder();
    let d = dir.path().to_str().unwrap();
    let (code, out, err) = run(&["diagnose", "--format", "json", d]);
    assert_eq!(code, 2, "the zeros make it 2: {err}");
    let rows = json_lines(&out);
    let want: Vec<String> = [
        "fat.001",
        "healthy.img",
        "seed.img",
        "split.E01",
        "zeros.img",
    ]
    .iter()
    .map(|n| dir.path().join(n).display().to_string())
    .collect();
    assert_eq!(images(&rows), want);
    for r in &rows[..4] {
        assert!(r["error"].is_null(), "{r}");
    }
    assert!(rows[4]["kind"].is_string(), "{}", rows[4]);
    assert_eq!(
        summary(&err),
        "verskew: 5 images: 3 with errors, 0 with warnings, 0 not covered, 1 unreadable"
    );
    // The zeros are named on stderr, once.
    assert_eq!(err.matches("zeros.img").count(), 1, "{err}");
}

#[test]
fn a_pattern_expands_in_order_and_mixes_with_plain_paths() {
    // Quoted, so the shell leaves it to us.
    let (code, out, err) = run(&[
        "diagnose",
        "--format",
        "json",
        HEALTHY,
        "nt4-iis4-kb291589-ntfs12*.img",
        "containers/*.E0?",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        images(&json_lines(&out)),
        [
            HEALTHY,
            "nt4-iis4-kb291589-ntfs12-8k.img",
            "nt4-iis4-kb291589-ntfs12-frag.img",
            "nt4-iis4-kb291589-ntfs12.img",
            "containers/nt4-iis4-kb291589-mbr63-split.E01",
            "containers/nt4-iis4-kb291589-mbr63.E01",
        ]
    );
    assert_eq!(
        summary(&err),
        "verskew: 6 images: 5 with errors, 0 with warnings, 0 not covered, 0 unreadable"
    );
    // A pattern that matches nothing is an argument that failed, named.
    let (code, out, err) = run(&["diagnose", "--format", "json", "*.nothing"]);
    assert_eq!(code, 2);
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["kind"], "not-found");
    assert!(
        err.contains("*.nothing: no disk image matches this pattern"),
        "{err}"
    );
}

#[test]
fn argument_order_is_kept_whatever_finishes_first() {
    let args = [
        "w2k19-iis10-healthy.img",
        SEED,
        "no-such.img",
        "containers/nt4-iis4-kb291589-mbr63-stream.vmdk",
        HEALTHY,
        "nt4-iis4-kb291589-compressed.img",
    ];
    let mut outputs = Vec::new();
    for jobs in ["1", "2", "4"] {
        for format in ["json", "text"] {
            let mut a = vec!["diagnose", "--jobs", jobs, "--format", format];
            a.extend(args);
            let (code, out, err) = run(&a);
            assert_eq!(code, 2, "{err}");
            if format == "json" {
                assert_eq!(images(&json_lines(&out)), args);
            }
            outputs.push((format, out));
        }
    }
    // Byte-identical whatever the number of jobs.
    for (format, out) in &outputs[2..] {
        let first = if *format == "json" {
            &outputs[0].1
        } else {
            &outputs[1].1
        };
        assert_eq!(out, first, "{format}");
    }
}

#[test]
fn one_image_keeps_its_output_and_several_get_a_summary() {
    // One image named as such: no summary, stderr stays empty.
    let (code, _, err) = run(&["diagnose", SEED]);
    assert_eq!(code, 1);
    assert_eq!(err, "");
    // The same image twice: two identical reports, a blank line between.
    let (_, one, _) = run(&["diagnose", SEED]);
    let (code, two, err) = run(&["diagnose", "--jobs", "2", SEED, SEED]);
    assert_eq!(code, 1);
    assert_eq!(two, format!("{one}\n{one}"));
    assert_eq!(
        summary(&err),
        "verskew: 2 images: 2 with errors, 0 with warnings, 0 not covered, 0 unreadable"
    );
}

#[test]
fn exit_statuses_over_folders() {
    let healthy = tempfile::tempdir().unwrap();
    link(healthy.path(), "a.img", HEALTHY);
    link(healthy.path(), "b.img", "nt4-iis4-healthy-ntfs12.img");
    let h = healthy.path().to_str().unwrap();
    assert_eq!(run(&["diagnose", h]).0, 0);
    let mixed = tempfile::tempdir().unwrap();
    link(mixed.path(), "a.img", HEALTHY);
    link(mixed.path(), "b.img", SEED);
    let m = mixed.path().to_str().unwrap();
    assert_eq!(run(&["diagnose", m]).0, 1);
    assert_eq!(run(&["diagnose", "--fail-on", "never", m]).0, 0);
    let uncovered = tempfile::tempdir().unwrap();
    link(uncovered.path(), "a.img", HEALTHY);
    link(uncovered.path(), "noiis.img", "nt4-noiis.img");
    let u = uncovered.path().to_str().unwrap();
    let (code, _, err) = run(&["diagnose", u]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(
        summary(&err),
        "verskew: 2 images: 0 with errors, 0 with warnings, 1 not covered, 0 unreadable"
    );
    // A folder without an image: exit 2, said once, with the folder's name.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("readme.txt"), "no image here\n").unwrap();
    let e = empty.path().to_str().unwrap();
    let (code, out, err) = run(&["diagnose", e]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(
        err.contains(&format!("{e}: no disk image found in this folder")),
        "{err}"
    );
}

#[test]
fn a_triage_collection_is_one_target_not_a_folder_of_images() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("C/Windows/System32/config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("SYSTEM"), b"regf").unwrap();
    // An image file inside does not make it a folder of images.
    std::fs::write(dir.path().join("C/pagefile.img"), vec![0u8; 4096]).unwrap();
    let d = dir.path().to_str().unwrap();
    let (_, out, _) = run(&["diagnose", "--format", "json", d]);
    assert_eq!(images(&json_lines(&out)), [d]);
}

// ---- fleet -----------------------------------------------------------------

/// JSON Lines of `diagnose` over the NT 4.0 images: four with w3svc.dll at
/// the healthy build, two at the older one (the seed's mismatch).
fn nt4_reports(dir: &Path) -> PathBuf {
    let (_, out, err) = run(&[
        "diagnose",
        "--format",
        "json",
        "--fail-on",
        "never",
        HEALTHY,
        SEED,
        "nt4-iis4-healthy-fat16.img",
        "nt4-iis4-kb291589-gpt.img",
        "nt4-iis4-healthy-ntfs12.img",
        "nt4-loader-broken-import.img",
    ]);
    assert_eq!(out.lines().count(), 6, "{err}");
    let p = dir.join("nt4.jsonl");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn fleet_names_the_builds_that_disagree_and_where_rules_fire() {
    let dir = tempfile::tempdir().unwrap();
    let reports = nt4_reports(dir.path());
    let r = reports.to_str().unwrap();
    let (code, out, err) = run(&["fleet", r]);
    assert_eq!(code, 1, "disagreeing versions give 1: {err}");
    assert!(
        out.starts_with("Fleet: 6 images, 6 installs from 1 report\n"),
        "{out}"
    );
    assert!(out.contains("\nWindows NT 4.0 build 1381 ("), "{out}");
    assert!(
        out.contains("  w3svc.dll: 4 images at 4.2.769.1; 2 at 4.2.622.1: nt4-iis4-kb291589-gpt.img, nt4-iis4-kb291589.img\n"),
        "{out}"
    );
    assert!(
        out.contains("  lockstep-mismatch (error): 2 images: nt4-iis4-kb291589-gpt.img, nt4-iis4-kb291589.img\n"),
        "{out}"
    );
    assert!(
        out.contains("  broken-import (error): 1 image: nt4-loader-broken-import.img\n"),
        "{out}"
    );
    // The same from standard input.
    let piped = verskew()
        .args(["fleet", "-"])
        .write_stdin(std::fs::read(&reports).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(piped.stdout).unwrap(), out);
    // HTML: one page, the table, nothing fetched.
    let (code, html, _) = run(&["fleet", "--format", "html", r]);
    assert_eq!(code, 1);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<table class=\"versions\">") && html.contains("4.2.622.1"));
    for outside in ["<script", "http:", "https:", "src=", "<link"] {
        assert!(!html.contains(outside), "{outside}");
    }
    // Healthy images only: every file at one version, exit 0.
    let healthy = dir.path().join("healthy.jsonl");
    let (_, out, _) = run(&[
        "diagnose",
        "--format",
        "json",
        HEALTHY,
        "nt4-iis4-healthy-fat16.img",
    ]);
    std::fs::write(&healthy, out).unwrap();
    let (code, out, _) = run(&["fleet", healthy.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("  every file is at one version\n"), "{out}");
}

#[test]
fn fleet_skips_malformed_lines_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(nt4_reports(dir.path())).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines.insert(1, "this is not json".into());
    lines.insert(
        3,
        "{\"schema\":\"verskew.versions/1\",\"path\":\"x\"}".into(),
    );
    lines.push("{\"schema\":\"verskew.diagnose/1\",\"installs\":\"nope\"}".into());
    lines.push(
        "{\"schema\":\"verskew.diagnose/1\",\"tool_version\":\"0\",\"image\":\"gone.img\",\"error\":\"gone.img: cannot open\",\"kind\":\"not-found\"}".into(),
    );
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let b = bad.to_str().unwrap();
    let (code, out, err) = run(&["fleet", b]);
    assert_eq!(code, 1, "versions still disagree: {err}");
    assert!(
        out.contains("NOT COMPLETE: 1 image not analysed, 3 lines not read"),
        "{out}"
    );
    for line in [2, 4, 9] {
        assert!(out.contains(&format!("  {b}:{line}: ")), "{line}: {out}");
        assert!(
            err.contains(&format!("{b}:{line}: skipped: ")),
            "{line}: {err}"
        );
    }
    assert!(
        out.contains(&format!(
            "  gone.img (not-found): gone.img: cannot open [{b}:10]"
        )),
        "{out}"
    );
    // Only malformed lines and a failed image: nothing disagrees, but the
    // comparison is not complete: 3, never 0.
    let thin = dir.path().join("thin.jsonl");
    std::fs::write(&thin, format!("{}\nnot json\n", lines[0])).unwrap();
    assert_eq!(run(&["fleet", thin.to_str().unwrap()]).0, 3);
    // Nothing readable at all: 2.
    let junk = dir.path().join("junk.jsonl");
    std::fs::write(&junk, "junk\n").unwrap();
    assert_eq!(run(&["fleet", junk.to_str().unwrap()]).0, 2);
    assert_eq!(run(&["fleet", "no-such.jsonl"]).0, 2);
}

/// The whole of testdata/ as one folder: every image found (segments once),
/// one JSON object each, no panic, and nothing added or changed there.
#[test]
fn the_whole_testdata_folder_in_one_run_leaves_it_as_it_was() {
    fn listing(dir: &Path, out: &mut Vec<(PathBuf, u64, std::time::SystemTime)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let m = e.metadata().unwrap();
            match m.is_dir() {
                true => listing(&e.path(), out),
                false => out.push((e.path(), m.len(), m.modified().unwrap())),
            }
        }
        out.sort();
    }
    let td = common::testdata();
    let mut before = Vec::new();
    listing(&td, &mut before);
    let (code, out, err) = run(&["diagnose", "--format", "json", "--jobs", "2", "."]);
    assert_eq!(code, 2, "damaged images are in there: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let rows = json_lines(&out);
    let names = images(&rows);
    assert!(rows.len() >= 60, "{} images", rows.len());
    let mut sorted = names.clone();
    sorted.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    assert_eq!(names, sorted, "sorted");
    for later in [
        "nt4-iis4-kb291589-fat32.002",
        "mbr63-split.E02",
        "mbr63.002",
    ] {
        assert!(!names.iter().any(|n| n.ends_with(later)), "{later} listed");
    }
    assert!(names
        .iter()
        .any(|n| n.ends_with("nt4-iis4-kb291589-fat32.001")));
    let summary = summary(&err);
    assert!(
        summary.starts_with(&format!("verskew: {} images: ", rows.len())),
        "{summary}"
    );
    let mut after = Vec::new();
    listing(&td, &mut after);
    assert_eq!(before, after, "testdata/ changed");
}

/// `--output` never overwrites an image a folder expanded to.
#[test]
fn output_refuses_an_image_found_in_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("seed.img");
    std::fs::copy(data(SEED), &img).unwrap();
    let before = std::fs::read(&img).unwrap();
    let (code, _, err) = run(&[
        "diagnose",
        dir.path().to_str().unwrap(),
        "--output",
        img.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refusing to overwrite evidence"), "{err}");
    assert_eq!(std::fs::read(&img).unwrap(), before);
}

/// The fleet report is sorted: the order of the report lines changes
/// nothing.
#[test]
fn fleet_output_does_not_depend_on_the_order_of_reports() {
    let dir = tempfile::tempdir().unwrap();
    let lines = std::fs::read_to_string(nt4_reports(dir.path())).unwrap();
    let forward = dir.path().join("forward.jsonl");
    let backward = dir.path().join("backward.jsonl");
    std::fs::write(&forward, &lines).unwrap();
    let mut rev: Vec<&str> = lines.lines().collect();
    rev.reverse();
    std::fs::write(&backward, rev.join("\n")).unwrap();
    for format in ["text", "json", "html"] {
        let one = |p: &Path| {
            run(&["fleet", "--format", format, p.to_str().unwrap()])
                .1
                .replace(p.to_str().unwrap(), "REPORT")
        };
        assert_eq!(one(&forward), one(&backward), "{format}");
    }
}
