//! Text a person reads, driven through the binary: hostile names escaped,
//! terminal wrapping and colour (forced by environment, since stdout is a
//! pipe here), volumes named on multi-volume disks, the `versions` table and
//! its CSV/TSV, `rules`, completions and the man page, `--output`, `--quiet`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const SEED: &str = "nt4-iis4-kb291589.img";
/// The seed's ISM add-on DLL: named by a registry value, a file name (MFT
/// record and index entry) and its own version resource.
const VICTIM: &str = "w3scfg.dll";
/// As long as VICTIM (10 UTF-16 units, so it patches in place): clears the
/// screen, then starts a line that would read as a finding.
const HOSTILE: &str = "\x1b[2J\nERROR";
const HOSTILE_SHOWN: &str = r"\x1b[2J\nERROR";

fn verskew() -> Command {
    let mut c = Command::cargo_bin("verskew").unwrap();
    c.current_dir(common::testdata())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("VERSKEW_FORCE_TTY_WIDTH");
    c
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Copies of the seed with UTF-16 occurrences of VICTIM replaced by HOSTILE:
/// first every one (the file's name in its MFT record and directory index,
/// the AddOnServices registry value that names it, its OriginalFilename),
/// then each alone (a registry value naming a file that is not there gives
/// a finding built from the hostile name).
fn hostile_images(dir: &Path) -> Vec<PathBuf> {
    let seed = std::fs::read(common::testdata().join(SEED)).unwrap();
    let (from, to) = (utf16(VICTIM), utf16(HOSTILE));
    let hits: Vec<usize> = (0..seed.len() - from.len())
        .filter(|&i| seed[i..].starts_with(&from))
        .collect();
    assert!(hits.len() >= 3, "{VICTIM} found only at {hits:?}");
    let variants = std::iter::once(hits.clone()).chain(hits.iter().map(|&h| vec![h]));
    variants
        .enumerate()
        .map(|(n, patch)| {
            let mut bytes = seed.clone();
            for i in patch {
                bytes[i..i + to.len()].copy_from_slice(&to);
            }
            let path = dir.join(format!("hostile-{n}.img"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

/// Fails on any byte a terminal would act on (anything below 0x20 but the
/// line feed and CSV's CRLF, DEL, and the UTF-8 of C1 controls).
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes).replace("\r\n", "\n");
    let bad = text
        .char_indices()
        .find(|&(_, c)| c.is_control() && c != '\n' && c != '\t');
    assert!(
        bad.is_none(),
        "{what}: control character {bad:?} in:\n{text}"
    );
}

#[test]
fn hostile_names_are_escaped_in_every_text_format() {
    let dir = tempfile::tempdir().unwrap();
    let images = hostile_images(dir.path());
    let img = images[0].to_str().unwrap();
    let runs: [&[&str]; 5] = [
        &["diagnose", img],
        &["versions", img],
        &["versions", img, "--format", "csv"],
        &["versions", img, "--format", "tsv"],
        &["versions", img, "--all"],
    ];
    for args in runs {
        let out = verskew().args(args).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {out:?}"
        );
        assert_inert(&format!("{args:?} stdout"), &out.stdout);
        assert_inert(&format!("{args:?} stderr"), &out.stderr);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains(HOSTILE_SHOWN),
            "{args:?}: not shown escaped:\n{text}"
        );
        // The newline did not start a line of its own.
        assert!(
            !text.lines().any(|l| l.starts_with("ERROR")),
            "{args:?}:\n{text}"
        );
    }
    // A finding quoting the name: header, message and evidence escaped.
    let mut finding_shown = false;
    for img in &images[1..] {
        let out = verskew().arg("diagnose").arg(img).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", img.display());
        assert_inert("diagnose stdout", &out.stdout);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.lines().any(|l| l.starts_with("ERROR")), "{text}");
        finding_shown |= text.contains(&format!(
            r"  ERROR [missing-addon-dll] \WINNT\system32\inetsrv\{HOSTILE_SHOWN}"
        ));
    }
    assert!(finding_shown, "no variant gave a missing-addon-dll finding");
    // JSON keeps the name exactly, as a JSON escape.
    let out = verskew()
        .args(["versions", img, "--format", "json"])
        .output()
        .unwrap();
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let path = format!(r"\WINNT\system32\inetsrv\{HOSTILE}");
    assert!(rows.iter().any(|r| r["path"] == path.as_str()), "{rows:?}");
}

/// The seed's volume twice on one MBR disk (partitions at 1 MiB and after).
fn two_volume_image(dir: &Path) -> PathBuf {
    let vol = std::fs::read(common::testdata().join(SEED)).unwrap();
    let sectors = vol.len().div_ceil(512) as u32;
    let starts = [2048u32, 2048 + sectors.div_ceil(2048) * 2048];
    let mut disk = vec![0u8; (starts[1] + sectors) as usize * 512];
    for (slot, &start) in starts.iter().enumerate() {
        let e = 446 + slot * 16;
        disk[e + 4] = 0x07;
        disk[e + 8..e + 12].copy_from_slice(&start.to_le_bytes());
        disk[e + 12..e + 16].copy_from_slice(&sectors.to_le_bytes());
        let at = start as usize * 512;
        disk[at..at + vol.len()].copy_from_slice(&vol);
    }
    disk[510] = 0x55;
    disk[511] = 0xaa;
    let path = dir.join("two-volumes.img");
    std::fs::write(&path, disk).unwrap();
    path
}

#[test]
fn findings_and_rows_name_their_volume_only_on_multi_volume_disks() {
    let dir = tempfile::tempdir().unwrap();
    let img = two_volume_image(dir.path());
    let img = img.to_str().unwrap();
    let out = verskew().args(["diagnose", img]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let findings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  ERROR [") || l.starts_with("  WARNING ["))
        .collect();
    assert!(findings.len() >= 2, "{text}");
    for v in ["volume #0: ", "volume #1: "] {
        assert!(findings.iter().any(|l| l.contains(v)), "{v}: {findings:?}");
    }
    assert!(
        findings.iter().all(|l| l.contains("] volume #")),
        "{findings:?}"
    );

    let out = verskew().args(["versions", img]).output().unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.starts_with("VOLUME  PATH"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("#0 ")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("#1 ")), "{table}");

    // One volume: no naming (the pinned seed report shows the same).
    let out = verskew().args(["diagnose", SEED]).output().unwrap();
    assert!(!String::from_utf8(out.stdout)
        .unwrap()
        .contains("] volume #"));
    let out = verskew().args(["versions", SEED]).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("PATH "));
}

#[test]
fn versions_is_a_table_with_id_and_machine_and_csv_tsv_have_headers() {
    let pat = r"\WINNT\system32\inetsrv\w3*.dll";
    let out = verskew().args(["versions", SEED, pat]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "PATH                                FILE VERSION  PRODUCT VERSION  SIZE  MODIFIED              ID  MACHINE  DESCRIPTION"
    );
    assert_eq!(
        lines[3],
        r"\WINNT\system32\inetsrv\w3svc.dll   4.2.622.1     4.2.622.1        3584  2001-09-10T11:05:00Z  91  x86      WWW Service"
    );
    assert_eq!(lines.len(), 4);

    let csv = verskew()
        .args(["versions", SEED, pat, "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with(
        "volume,path,file_version,product_version,size,modified,id,machine,description\r\n"
    ));
    assert!(csv.contains(
        "0,\\WINNT\\system32\\inetsrv\\w3svc.dll,4.2.622.1,4.2.622.1,3584,2001-09-10T11:05:00Z,91,x86,WWW Service\r\n"
    ));
    let tsv = verskew()
        .args(["versions", SEED, pat, "--format", "tsv"])
        .output()
        .unwrap();
    let tsv = String::from_utf8(tsv.stdout).unwrap();
    assert_eq!(tsv.lines().count(), 4);
    assert!(tsv.lines().all(|l| l.split('\t').count() == 9), "{tsv}");
}

#[test]
fn a_folder_pattern_lists_the_folder() {
    let rows = |pat: &str| {
        let out = verskew()
            .args(["versions", SEED, pat, "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{pat}");
        String::from_utf8(out.stdout).unwrap()
    };
    let folder = rows(r"\WINNT\system32\inetsrv");
    assert_eq!(folder.lines().count(), 32, "{folder}");
    assert_eq!(folder, rows(r"\winnt\SYSTEM32\inetsrv\*"));
}

/// Visible columns of a line: ANSI SGR sequences do not count.
fn visible(line: &str) -> usize {
    let mut n = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            n += 1;
        }
    }
    n
}

#[test]
fn a_terminal_gets_wrapped_coloured_text_and_pipes_get_plain_bytes() {
    let plain = verskew().args(["diagnose", SEED]).output().unwrap().stdout;
    let tty = verskew()
        .args(["diagnose", SEED])
        .env("VERSKEW_FORCE_TTY_WIDTH", "60")
        .output()
        .unwrap();
    let tty = String::from_utf8(tty.stdout).unwrap();
    assert!(tty.lines().all(|l| visible(l) <= 60), "{tty}");
    assert!(
        tty.contains("  \x1b[1m\x1b[31mERROR\x1b[0m [lockstep-mismatch]"),
        "{tty:?}"
    );
    assert!(tty.contains("\x1b[1mFindings: 1 error(s)"), "{tty:?}");
    // A continuation hangs under the text it continues.
    assert!(tty.contains("\n    Remedy: Reapply"), "{tty}");
    let after_remedy = tty.split("\n    Remedy: ").nth(1).unwrap();
    assert!(
        after_remedy
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("            "),
        "{tty}"
    );
    // Without the codes and the wrapping, the same words as the pipe got.
    let words = |s: &str| {
        s.replace("\x1b[1m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[0m", "")
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        words(&tty),
        words(&String::from_utf8(plain.clone()).unwrap())
    );

    let no_colour = verskew()
        .args(["diagnose", SEED])
        .env("VERSKEW_FORCE_TTY_WIDTH", "60")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
        .stdout;
    assert!(!no_colour.contains(&0x1b));
    assert!(String::from_utf8(no_colour)
        .unwrap()
        .lines()
        .all(|l| l.len() <= 60));

    let forced = verskew()
        .args(["diagnose", SEED])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap()
        .stdout;
    let forced = String::from_utf8(forced).unwrap();
    assert!(forced.contains("\x1b[31mERROR"), "{forced:?}");
    assert!(
        forced.lines().any(|l| visible(l) > 200),
        "colour alone does not wrap"
    );
}

#[test]
fn rules_lists_and_explains_the_registry() {
    let out = verskew().arg("rules").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("RULE "), "{text}");
    for r in verskew::analysis::rules::ALL {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{} ", r.id())));
        let line = line.unwrap_or_else(|| panic!("{} not listed:\n{text}", r.id()));
        assert!(line.contains(&r.default_severity().to_string()), "{line}");
        assert!(line.contains(r.summary()), "{line}");
    }
    let out = verskew()
        .args(["rules", "lockstep-newer"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  Severities: info, warning\n"), "{text}");
    assert!(text.contains("explained_by"), "{text}");
    assert!(text.contains("  References: Q291589\n"), "{text}");

    let out = verskew()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["schema"], "verskew.rules/1");
    assert_eq!(
        j["rules"].as_array().unwrap().len(),
        verskew::analysis::rules::ALL.len()
    );
    let out = verskew()
        .args(["rules", "missing-addon-dll", "--format", "json"])
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["id"], "missing-addon-dll");
    assert_eq!(j["default_severity"], "error");
    assert!(j["evidence_keys"]
        .as_array()
        .unwrap()
        .contains(&"registry".into()));

    let out = verskew().args(["rules", "no-such-rule"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lockstep-mismatch"));
}

#[test]
fn help_completions_and_man_page_come_from_the_cli_definition() {
    let commands = [
        "diagnose",
        "versions",
        "info",
        "rules",
        "fleet",
        "completions",
        "man",
    ];
    for c in commands {
        let out = verskew().args([c, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{c}");
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(
            help.contains("Examples:\n  verskew "),
            "{c} --help:\n{help}"
        );
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = verskew().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("diagnose") && script.contains("versions"),
            "{shell}"
        );
    }
    let out = verskew().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.starts_with(".ie ") || man.contains(".TH verskew 1"),
        "{man}"
    );
    for c in commands {
        assert!(
            man.contains(&format!("verskew\\-{c}")),
            "man page lacks {c}"
        );
    }
    // Each command's own page, which the first page refers to.
    for c in ["diagnose", "versions", "info", "rules", "fleet"] {
        let out = verskew().args(["man", c]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{c}");
        let page = String::from_utf8(out.stdout).unwrap();
        assert!(page.contains(&format!(".TH verskew-{c} 1")), "{page}");
        assert!(page.contains(r"\-\-output"), "{c}: global options missing");
        assert!(page.contains("Examples:"), "{c}: examples missing");
    }
    let out = verskew().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn output_writes_a_file_and_never_over_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.txt");
    let out = verskew()
        .args(["diagnose", SEED, "--output"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let piped = verskew().args(["diagnose", SEED]).output().unwrap().stdout;
    assert_eq!(std::fs::read(&report).unwrap(), piped);

    // The image itself, however it is spelled or linked, is refused.
    let img = dir.path().join("copy.img");
    std::fs::copy(common::testdata().join(SEED), &img).unwrap();
    let before = std::fs::read(&img).unwrap();
    let link = dir.path().join("link.img");
    std::fs::hard_link(&img, &link).unwrap();
    let dotted = dir.path().join(".").join("copy.img");
    for target in [&img, &dotted, &link] {
        for cmd in [
            &["diagnose"][..],
            &["versions", "--format", "csv"],
            &["info"],
        ] {
            let out = verskew()
                .args(cmd)
                .arg(&img)
                .arg("--output")
                .arg(target)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{cmd:?} {}", target.display());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("refusing to overwrite evidence"), "{err}");
        }
    }
    assert_eq!(std::fs::read(&img).unwrap(), before);
}

#[test]
fn quiet_keeps_findings_and_counts_what_it_leaves_out() {
    let out = verskew()
        .args(["diagnose", "--quiet", SEED])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("\nVolumes\n") && !text.contains("Windows installations"));
    assert!(text.contains("Findings: 1 error(s)") && text.contains("ERROR [lockstep-mismatch]"));

    let damaged = "damaged/damaged-mft-fixup.img";
    let loud = verskew().args(["versions", damaged]).output().unwrap();
    let quiet = verskew()
        .args(["versions", "-q", damaged])
        .output()
        .unwrap();
    assert_eq!(loud.stdout, quiet.stdout);
    let loud = String::from_utf8(loud.stderr).unwrap();
    let quiet = String::from_utf8(quiet.stderr).unwrap();
    assert!(
        loud.contains("could not read \\WINNT\\system32\\inetsrv\\isatq.dll"),
        "{loud}"
    );
    assert_eq!(
        quiet.trim_end(),
        format!(
            "verskew: {damaged}: 1 item(s) could not be read (run without --quiet to list them)"
        )
    );
}
