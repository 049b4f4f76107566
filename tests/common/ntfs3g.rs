//! A volume with NTFS compression as Windows writes it, made at test time
//! with mkntfs and ntfs-3g (a FUSE mount: needs root and /dev/fuse), as the
//! factory makes its images. Used by `tests/ntfs_compress.rs` and
//! `tests/robustness.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when the volume can be built and checked here; says SKIPPED otherwise.
pub fn can_build() -> bool {
    for tool in ["mkntfs", "ntfs-3g", "python3", "fls", "icat", "istat"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!("SKIPPED: {tool} not found");
            return false;
        }
    }
    let root = Command::new("id").arg("-u").output().ok();
    if root.map(|o| o.stdout.trim_ascii() != b"0").unwrap_or(true)
        || !Path::new("/dev/fuse").exists()
    {
        eprintln!("SKIPPED: an ntfs-3g mount needs root and /dev/fuse");
        return false;
    }
    true
}

/// Mounts `img` with ntfs-3g's compression option, runs `f`, unmounts and
/// waits for ntfs-3g to finish writing.
pub fn with_mount(img: &Path, mnt: &Path, f: impl FnOnce(&Path)) {
    let mut proc = Command::new("ntfs-3g")
        .args(["-o", "no_detach,compression"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .arg(img)
        .arg(mnt)
        .spawn()
        .unwrap();
    let t = Instant::now();
    let mounted = || {
        std::fs::read_to_string("/proc/mounts")
            .unwrap()
            .contains(mnt.to_str().unwrap())
    };
    while !mounted() {
        if let Some(status) = proc.try_wait().unwrap() {
            panic!("ntfs-3g exited with {status}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "ntfs-3g mount timed out"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    f(mnt);
    run(&mut Command::new("sync"));
    run(Command::new("umount").arg(mnt));
    assert!(proc.wait().unwrap().success());
}

/// Deterministic bytes: an LCG, `random` of every 16 bytes random, the rest
/// a repeated phrase (so compression units both shrink and do not).
pub fn pattern(len: usize, seed: u32, random: usize) -> Vec<u8> {
    let mut x = seed;
    let phrase = b"IIS4 w3svc.dll infocomm.dll ";
    (0..len)
        .map(|i| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if i % 16 < random {
                (x >> 16) as u8
            } else {
                phrase[i % phrase.len()]
            }
        })
        .collect()
}

/// A 16 MiB volume (4 KiB clusters) with a compressed folder `\c` holding
/// small resident files and a big file fragmented enough for an attribute
/// list, plus uncompressed files beside it.
pub fn build(dir: &Path) -> PathBuf {
    let img = dir.join("compress.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(16 << 20)
        .unwrap();
    run(Command::new("mkntfs")
        .args(["-q", "-F", "-f", "-c", "4096", "-L", "COMP"])
        .arg(&img));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    with_mount(&img, &mnt, |m| {
        let c = m.join("c");
        std::fs::create_dir(&c).unwrap();
        // FILE_ATTRIBUTE_COMPRESSED on the folder: files made in it inherit it.
        // (ntfs-3g's system.ntfs_attrib_be, set with Python's os.setxattr).
        run(Command::new("python3").arg("-c").arg(format!(
            "import os; os.setxattr({:?}, 'system.ntfs_attrib_be', (0x800).to_bytes(4, 'big'))",
            c.to_str().unwrap()
        )));
        std::fs::write(c.join("small.txt"), b"resident and flagged compressed\r\n").unwrap();
        std::fs::write(c.join("tiny.ini"), pattern(300, 7, 4)).unwrap();
        std::fs::write(c.join("one-unit.bin"), pattern(70_000, 3, 2)).unwrap();
        std::fs::write(m.join("plain.txt"), pattern(9000, 5, 16)).unwrap();
        // Interleave the big file's compression units with spacer files so
        // each unit lands in its own fragment.
        let mut big = std::fs::File::create(c.join("big.bin")).unwrap();
        for i in 0..300u32 {
            big.write_all(&pattern(65536, i, if i % 3 == 0 { 16 } else { 3 }))
                .unwrap();
            big.sync_all().unwrap();
            let mut s = std::fs::File::create(m.join(format!("sp{i:03}"))).unwrap();
            s.write_all(&pattern(4096, i + 1000, 16)).unwrap();
            s.sync_all().unwrap();
        }
    });
    img
}
