//! Every input a responder brings, through the real binary: block devices,
//! FIFOs and character devices, files that are not disk images, a lone
//! `.001`, truncated images, damaged partition tables, `-o`/`--partition`,
//! damaged E01 chunks and EWF dates. Each pins the exit status and the one
//! stderr line. Evidence is never touched: every variant is a copy in a
//! temporary directory.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(common::testdata())
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    Run {
        code: out.status.code().expect("no signal, no timeout"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// An error run: exit 2, exactly one stderr line, no Rust debug text; the
/// line is returned.
fn fails(args: &[&str]) -> String {
    let r = run(args);
    assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    let line = r.stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{args:?}: one line: {line}");
    for debug in ["Custom {", "kind:", "os error", "Some(", "None ", "[70, 73"] {
        assert!(!line.contains(debug), "{args:?}: debug text: {line}");
    }
    line.to_string()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// (rule, severity, paths) of each finding in a `diagnose --format json`.
fn findings(stdout: &str) -> Vec<String> {
    let j: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let mut out: Vec<String> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {} {}", f["rule"], f["severity"], f["paths"]))
        .collect();
    out.sort();
    out
}

fn seed_findings() -> Vec<String> {
    let r = run(&["diagnose", "--format", "json", "nt4-iis4-kb291589.img"]);
    assert_eq!(r.code, 1);
    let f = findings(&r.stdout);
    assert!(!f.is_empty());
    f
}

/// Detaches the loop device however the test ends.
struct Loop(String);

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Std::new("losetup").args(["-d", &self.0]).status();
    }
}

#[test]
fn a_block_device_reads_like_the_file() {
    let img = common::testdata().join("nt4-iis4-kb291589.img");
    let attached = Std::new("losetup")
        .args(["-r", "--find", "--show", p(&img)])
        .output();
    let dev = match attached {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => {
            eprintln!(
                "SKIPPED: losetup could not attach a loop device (container? not root?): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!("SKIPPED: losetup not available: {e}");
            return;
        }
    };
    let _guard = Loop(dev.clone());
    let r = run(&["diagnose", "--format", "json", &dev]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(findings(&r.stdout), seed_findings());
    let r = run(&["info", &dev]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("1.1 MiB (1114112 bytes)"), "{}", r.stdout);
}

#[test]
fn fifos_character_devices_directories_and_stdin_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("image.fifo");
    match Std::new("mkfifo").arg(&fifo).status() {
        Ok(s) if s.success() => {
            // Today's hang would trip the 120 s timeout of `run`.
            let line = fails(&["diagnose", p(&fifo)]);
            assert!(line.ends_with("image.fifo: is a FIFO (named pipe), not a disk image: images are read at any offset, not as a stream; save it to a file first"), "{line}");
        }
        _ => eprintln!("SKIPPED: mkfifo not available"),
    }
    for dev in ["/dev/zero", "/dev/null"] {
        if Path::new(dev).exists() {
            let line = fails(&["info", dev]);
            assert_eq!(line, format!("verskew: {dev}: is a character device, not a disk image: give a block device (/dev/sdX) or an image file"));
        }
    }
    let line = fails(&["diagnose", "-"]);
    assert_eq!(line, "verskew: -: images are read by path, not from standard input (they need reads at any offset): save it to a file first");
    let line = fails(&["versions", p(dir.path())]);
    assert!(
        line.contains(": is a directory, not a disk image: give the image file inside it"),
        "{line}"
    );
    let line = fails(&["diagnose", "no-such-image.E01"]);
    assert_eq!(
        line,
        "verskew: no-such-image.E01: cannot open: No such file or directory"
    );
}

/// A file of `len` zero bytes with `magic` at `at`.
fn with(len: usize, at: usize, magic: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; len];
    b[at..at + magic.len()].copy_from_slice(magic);
    b
}

#[test]
fn files_that_are_not_disk_images_are_named() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read(common::testdata().join("nt4-iis4-kb291589.img")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&seed).unwrap();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&seed[..65536]).unwrap();
    let mut pe = with(8192, 0, b"MZ");
    pe[0x3c] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    let mut tar = with(10240, 0, b"image.dd");
    tar[257..263].copy_from_slice(b"ustar\0");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("seed.img.gz", gz.finish().unwrap(), "this is a gzip file: decompress it first and give the disk image inside"),
        ("seed.img.xz", xz.finish().unwrap(), "this is an xz file: decompress it first"),
        ("seed.img.bz2", with(4096, 0, b"BZh91AY&SY"), "this is a bzip2 file: decompress it first"),
        ("seed.img.zst", with(4096, 0, b"\x28\xb5\x2f\xfd"), "this is a zstd file: decompress it first"),
        ("seed.zip", with(4096, 0, b"PK\x03\x04"), "this is a zip archive: extract the disk image from it first"),
        ("seed.7z", with(4096, 0, b"7z\xbc\xaf\x27\x1c"), "this is a 7-Zip archive: extract the disk image from it first"),
        ("seed.tar", tar, "this is a tar archive: extract the disk image from it first"),
        ("SYSTEM", with(8192, 0, b"regf"), "this is a Windows registry hive, not a disk image: give the disk image the hive came from"),
        ("w3svc.dll", pe, "this is a Windows executable or DLL (PE file), not a disk image"),
        ("linux.ext4", with(4096, 1080, b"\x53\xef"), "this is an ext2/3/4 filesystem (Linux), not a Windows volume"),
        ("bitlocker.dd", with(4096, 3, b"-FVE-FS-"), "this is a BitLocker-encrypted volume: decrypt it first"),
        ("hashes.txt", b"MD5: 4073c6b0c686d61e460fb322b21c4ebd  image.E01\n".to_vec(), "this is a text file, not a disk image"),
    ];
    for (name, bytes, want) in cases {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        for cmd in ["diagnose", "info", "versions"] {
            let line = fails(&[cmd, p(&f)]);
            assert!(
                line.starts_with(&format!("verskew: {}: ", f.display())),
                "{line}"
            );
            assert!(line.contains(want), "{name}: {line}");
        }
    }
    // A bare NTFS volume, an MBR disk and a GPT disk still open as today.
    for img in [
        "nt4-iis4-kb291589.img",
        "nt4-iis4-kb291589-mbr63.img",
        "nt4-iis4-kb291589-gpt.img",
    ] {
        assert_eq!(run(&["diagnose", img]).code, 1, "{img}");
    }
}

#[test]
fn a_lone_first_segment_that_holds_less_than_its_volume_names_the_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(common::testdata().join("nt4-iis4-kb291589-mbr63.img")).unwrap();
    // FTK Imager's unsplit image is a lone .001: legal.
    let lone = dir.path().join("disk.001");
    std::fs::write(&lone, &whole).unwrap();
    assert_eq!(run(&["diagnose", p(&lone)]).code, 1);
    // Half of it, the rest in a .002 that was not copied.
    let half = dir.path().join("half.001");
    std::fs::write(&half, &whole[..600_000]).unwrap();
    for cmd in ["diagnose", "versions"] {
        let line = fails(&[cmd, p(&half)]);
        assert!(line.ends_with("half.001: split raw image: segment half.002 is missing: the NTFS boot sector declares 1,113,600 bytes for the NTFS volume at offset 32,256, this segment holds only 567,744 of them (keep all the segments in one folder)"), "{line}");
    }
    // Two segments of three.
    std::fs::write(dir.path().join("set.001"), &whole[..400_000]).unwrap();
    std::fs::write(dir.path().join("set.002"), &whole[400_000..800_000]).unwrap();
    let line = fails(&["diagnose", p(&dir.path().join("set.001"))]);
    assert!(line.contains("segment set.003 is missing"), "{line}");
}

#[test]
fn a_truncated_image_says_how_much_is_missing() {
    let line = fails(&["diagnose", "damaged/damaged-truncated.img"]);
    assert_eq!(line, "verskew: damaged/damaged-truncated.img: truncated: the NTFS volume declares 1,113,600 bytes (the NTFS boot sector), the image holds 557,056");
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(common::testdata().join("nt4-iis4-kb291589-mbr63.img")).unwrap();
    let cut = dir.path().join("cut.dd");
    std::fs::write(&cut, &whole[..700_000]).unwrap();
    let line = fails(&["versions", p(&cut)]);
    assert!(line.ends_with("cut.dd: truncated: the NTFS volume at offset 32,256 declares 1,113,600 bytes (the NTFS boot sector), the image holds 667,744"), "{line}");
    // `info` still describes what is there, says what is cut, and exits 3
    // (read, but not all of it).
    let r = run(&["info", p(&cut)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("is truncated: the NTFS boot sector declares 1,113,600 bytes"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_stored_hash_that_does_not_match_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(e01()).unwrap();
    let r = run(&["info", "--verify", "--format", "json", p(&e01())]);
    let j: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    let stored = j["hashes"][0]["stored"].as_str().unwrap().to_string();
    let raw: Vec<u8> = (0..stored.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&stored[i..i + 2], 16).unwrap())
        .collect();
    let at = bytes
        .windows(raw.len())
        .position(|w| w == raw.as_slice())
        .expect("the stored MD5 is in the hash section");
    bytes[at] ^= 1;
    let f = dir.path().join("hash.E01");
    std::fs::write(&f, &bytes).unwrap();
    let r = run(&["info", "--verify", p(&f)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = r.stdout.lines().find(|l| l.starts_with("MD5")).unwrap();
    assert!(line.ends_with(": FAILED"), "{line}");
    assert!(line.contains(&format!("computed {stored}")), "{line}");
    assert!(!line.contains(&format!("stored {stored}")), "{line}");
}

#[test]
fn a_zeroed_or_wrong_partition_entry_does_not_hide_the_volume() {
    let seed = seed_findings();
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(common::testdata().join("nt4-iis4-kb291589-mbr63.img")).unwrap();
    let mut zeroed = whole.clone();
    zeroed[446..462].fill(0);
    let mut wrong = whole.clone();
    wrong[446 + 8..446 + 12].copy_from_slice(&100u32.to_le_bytes());
    for (name, bytes) in [("zeroed.img", zeroed), ("wrong.img", wrong)] {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let r = run(&["diagnose", "--format", "json", p(&f)]);
        assert_eq!(r.code, 1, "{name}: {}", r.stderr);
        assert_eq!(findings(&r.stdout), seed, "{name}");
        let j: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
        let v = &j["volumes"][0]["partition"];
        assert_eq!(v["offset"], 32256, "{name}");
        assert!(
            v["note"].as_str().unwrap().contains("found by scanning"),
            "{name}: {v}"
        );
        // The text report says how the volume was found.
        let r = run(&["diagnose", p(&f)]);
        assert!(
            r.stdout.contains("(found by scanning"),
            "{name}: {}",
            r.stdout
        );
        let r = run(&["info", p(&f)]);
        assert!(
            r.stdout
                .contains("found by scanning where no partition entry points (at byte 32256)"),
            "{name}: {}",
            r.stdout
        );
    }
}

#[test]
fn offset_and_partition_pick_one_volume() {
    let seed = seed_findings();
    let mbr = "nt4-iis4-kb291589-mbr63.img";
    for sel in [
        &["-o", "63"][..],
        &["--offset", "63"],
        &["--partition", "1"],
    ] {
        let mut args = vec!["diagnose", "--format", "json"];
        args.extend(sel);
        args.push(mbr);
        let r = run(&args);
        assert_eq!(r.code, 1, "{sel:?}: {}", r.stderr);
        assert_eq!(findings(&r.stdout), seed, "{sel:?}");
        let mut args = vec!["versions"];
        args.extend(sel);
        args.push(mbr);
        let r = run(&args);
        assert_eq!(r.code, 0, "{sel:?}: {}", r.stderr);
        assert!(r.stdout.contains("w3svc.dll"), "{sel:?}");
    }
    let r = run(&["info", "-o", "63", mbr]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.matches("\n  #").count(), 1, "{}", r.stdout);
    let line = fails(&["diagnose", "-o", "64", mbr]);
    assert!(line.ends_with("no NTFS or FAT volume found (-o 64: sector 64 (byte 32,768) holds no filesystem we know, not an NTFS or FAT boot sector; `verskew info` lists where the volumes start)"), "{line}");
    let line = fails(&["diagnose", "-o", "99999", mbr]);
    assert!(
        line.ends_with(
            "-o 99999: sector 99999 is past the end of the image (1,276,416 bytes, 2,493 sectors)"
        ),
        "{line}"
    );
    let line = fails(&["versions", "--partition", "9", mbr]);
    assert!(
        line.ends_with(
            "--partition 9: there is no partition 9 (the image has 1, 5, 6; see verskew info)"
        ),
        "{line}"
    );
    let line = fails(&["diagnose", "--partition", "5", mbr]);
    assert!(
        line.ends_with("no NTFS or FAT volume found (partition 5 holds no filesystem we know, not NTFS or FAT)"),
        "{line}"
    );
    // The two conflict.
    assert_eq!(
        run(&["diagnose", "-o", "63", "--partition", "1", mbr]).code,
        2
    );
}

fn e01() -> PathBuf {
    common::testdata().join("containers/nt4-iis4-kb291589-mbr63.E01")
}

#[test]
fn a_damaged_e01_chunk_is_never_read_as_data() {
    let seed = seed_findings();
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(e01()).unwrap();
    let mut named = 0;
    // Flips through the chunk data (the header sections end before 2 KiB,
    // the tables sit at the end).
    for at in (4_000..good.len() - 8_000).step_by(9_973) {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        let f = dir.path().join("bad.E01");
        std::fs::write(&f, &bad).unwrap();
        let r = run(&["info", "--verify", p(&f)]);
        if r.code == 2 {
            let line = r.stderr.trim_end();
            assert_eq!(line.lines().count(), 1, "{line}");
            if line.contains("EWF chunk") && line.contains("is corrupt") {
                named += 1;
            }
        } else {
            // The flip hit padding: the data, and so the hash, is intact.
            assert!(r.stdout.contains(": match"), "flip at {at}: {}", r.stdout);
        }
        // diagnose: an error, or the seed's findings, or something unreadable.
        let r = run(&["diagnose", "--format", "json", p(&f)]);
        if r.code != 2 {
            let j: Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
            let lost = !j["unreadable"].as_array().unwrap().is_empty();
            assert!(
                lost || findings(&r.stdout) == seed,
                "flip at {at}: silent change"
            );
        }
    }
    assert!(
        named >= 5,
        "only {named} flips were named as a corrupt chunk"
    );
}

#[test]
fn ewf_dates_say_whose_clock_they_are() {
    let r = run(&["info", p(&e01())]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("ewf.acquisition_date: 2001-10-02 12:00:00 (local time of the acquiring machine, zone not recorded)"), "{}", r.stdout);
}
