//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod ntfs3g;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The third-party corpus (`../shared/corpus` beside the repository, or
/// `VERSKEW_CORPUS`), when it is there; says SKIPPED otherwise.
pub fn corpus() -> Option<PathBuf> {
    let p = std::env::var_os("VERSKEW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if p.join("MANIFEST.tsv").is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: corpus not found at {} (set VERSKEW_CORPUS)",
            p.display()
        );
        None
    }
}

/// A user rule that takes w3svc.dll out of both IIS 4 lockstep sets it is in
/// (same ids as knowledge/iis.toml, so it replaces the built-in entries).
pub const NO_W3SVC_RULES: &str = r#"
[[lockstep]]
id = "iis4-www"
family = "iis4"
name = "IIS 4 WWW service core, without w3svc.dll"
files = ["infocomm.dll", "ssinc.dll", "sspifilt.dll"]
compare = "full"
why = "test: w3svc.dll taken out of the set"
references = ["Q291589"]

[[lockstep]]
id = "iis4-ftp"
family = "iis4"
name = "IIS 4 FTP service, without w3svc.dll"
files = ["ftpsvc2.dll", "infocomm.dll"]
compare = "full"
why = "test: w3svc.dll taken out of the set"
references = ["Q185706"]
"#;

/// The repository's own test data folder.
pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// True when `tool` runs; says SKIPPED otherwise.
pub fn have_tool(tool: &str) -> bool {
    let ok = Command::new(tool).arg("-V").output().is_ok();
    if !ok {
        eprintln!("SKIPPED: {tool} not found");
    }
    ok
}

/// Decompresses a `.gz` or `.xz` corpus file into memory (never next to the corpus).
pub fn unpack(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let file = std::fs::File::open(path).unwrap();
    let mut out = Vec::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => flate2::read::GzDecoder::new(file)
            .read_to_end(&mut out)
            .unwrap(),
        Some("xz") => xz2::read::XzDecoder::new(file)
            .read_to_end(&mut out)
            .unwrap(),
        _ => std::io::BufReader::new(file).read_to_end(&mut out).unwrap(),
    };
    out
}

/// Containers the repository does not commit because their fixed layout
/// alone is megabytes of zeros (qemu-img's VHDX is 10 MiB for a 1 MiB disk):
/// made at test time from their committed raw source, with the same command
/// the factory uses. Maps a manifest format to qemu-img's output options.
pub const MADE_AT_TEST_TIME: &[(&str, &str, &str)] = &[(
    "vhdx",
    "vhdx",
    "subformat=dynamic,block_size=1M,log_size=1M",
)];

/// The path of manifest image `file` (relative to testdata/): the committed
/// file, or one made in `tmp` from `source_file` when the repository does not
/// commit that format. `None` (with a SKIPPED line) when neither can be had.
pub fn image_file(
    file: &str,
    format: &str,
    source_file: Option<&str>,
    tmp: &Path,
) -> Option<PathBuf> {
    let committed = testdata().join(file);
    if committed.is_file() {
        return Some(committed);
    }
    let (_, out_fmt, opts) = MADE_AT_TEST_TIME.iter().find(|m| m.0 == format)?;
    let source = testdata().join(source_file?);
    let made = tmp.join(Path::new(file).file_name()?);
    let ok = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", out_fmt, "-o", opts])
        .arg(&source)
        .arg(&made)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        Some(made)
    } else {
        eprintln!("SKIPPED: {file}: qemu-img could not make it");
        None
    }
}

/// The seed's `\WINNT` tree (nt4-iis4-kb291589.img, read through our NTFS
/// layer, modification times kept) copied by mtools onto a FAT16 volume
/// made by `mkfs.fat` (label FATTEST, 2 KiB clusters) in `tmp`. Needs
/// dosfstools and mtools.
pub fn seed_on_fat16(tmp: &Path) -> PathBuf {
    use verskew::fs;
    let seed = testdata().join("nt4-iis4-kb291589.img");
    let opened = verskew::image::open(&seed).unwrap();
    let disk = opened.disk.as_ref();
    let part = verskew::commands::open_volumes(disk, "seed")
        .unwrap()
        .remove(0);
    let vol = fs::open(disk, &part).unwrap();
    let tree = tmp.join("tree");
    let mut stack = vec![vol.lookup(r"\WINNT").unwrap()];
    while let Some(dir) = stack.pop() {
        let local = tree.join(dir.path.trim_start_matches('\\').replace('\\', "/"));
        std::fs::create_dir_all(&local).unwrap();
        for e in vol.list(&dir).unwrap() {
            if e.metadata {
                continue;
            }
            if e.is_dir {
                stack.push(e);
                continue;
            }
            let dest = local.join(e.name());
            std::fs::write(&dest, &vol.read(&e).unwrap()[..]).unwrap();
            if let Some(t) = e.modified {
                let unix =
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.unix_seconds() as u64);
                std::fs::File::options()
                    .write(true)
                    .open(&dest)
                    .unwrap()
                    .set_modified(unix)
                    .unwrap();
            }
        }
    }
    let img = tmp.join("nt4-on-fat16.img");
    let run = |cmd: &mut Command| {
        run_mtools(cmd);
    };
    run(Command::new("mkfs.fat")
        .args(["-F", "16", "-s", "4", "-n", "FATTEST", "-C"])
        .arg(&img)
        .arg("16384"));
    run(Command::new("mcopy")
        .args(["-s", "-m", "-i"])
        .arg(&img)
        .arg(tree.join("WINNT"))
        .arg("::/"));
    img
}

/// Runs a dosfstools/mtools command (UTC, no mtools sanity check) and
/// returns its stdout; a failure fails the test with the tool's stderr.
pub fn run_mtools(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .env("MTOOLS_SKIP_CHECK", "1")
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The SHA-256 of each file at `paths` (NTFS paths, `\wof\a.bin`) as
/// libfsntfs (pip libfsntfs-python) reads it from `img`: path → hex digest,
/// or `ERROR …` where it could not read one. `None`, after a SKIPPED line,
/// when python3 or pyfsntfs is missing.
pub fn libfsntfs_sha256<S: AsRef<std::ffi::OsStr>>(
    img: &Path,
    paths: &[S],
) -> Option<std::collections::BTreeMap<String, String>> {
    let script = r#"
import sys, hashlib, pyfsntfs
v = pyfsntfs.volume(); v.open(sys.argv[1])
for path in sys.argv[2:]:
    e = v.get_file_entry_by_path(path)
    try:
        d = e.read_buffer(e.size) if e.size else b""
        print(path, hashlib.sha256(d).hexdigest())
    except Exception as x:
        print(path, "ERROR", str(x).split(".")[0])
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(img)
        .args(paths)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        Ok(o) => {
            eprintln!(
                "SKIPPED: pyfsntfs (pip libfsntfs-python) unusable: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return None;
        }
        Err(e) => {
            eprintln!("SKIPPED: python3 not found: {e}");
            return None;
        }
    };
    Some(
        out.lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(p, h)| (p.to_string(), h.to_string()))
            .collect(),
    )
}
