//! `verskew info` through the real binary.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn info(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(common::testdata())
        .arg("info")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn describes_partition_tables_and_filesystems() {
    let gpt = "nt4-iis4-kb291589-gpt.img";
    assert!(common::testdata().join(gpt).is_file(), "{gpt} is committed");
    let (code, out) = info(&["--format", "json", gpt]);
    assert_eq!(code, 0);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["schema"], "verskew.info/1");
    assert_eq!(j["format"], "raw");
    assert_eq!(j["volumes"]["scheme"], "gpt");
    let parts = j["volumes"]["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0]["filesystem"], "ntfs");
    assert_eq!(j["ntfs"][0]["label"], "WINNT");

    let (code, text) = info(&["nt4-iis4-kb291589-mbr63.img"]);
    assert_eq!(code, 0);
    assert!(text.contains("offset 32256"), "{text}");
}

/// `info` names each volume's filesystem version: 1.2 on the NT4-format
/// images, 3.1 on mkntfs's, in text and in both JSON lists.
#[test]
fn says_the_ntfs_version_of_each_volume() {
    for (img, version) in [
        ("nt4-iis4-kb291589-ntfs12.img", "1.2"),
        ("nt4-iis4-kb291589-ntfs12-8k.img", "1.2"),
        ("nt4-iis4-kb291589.img", "3.1"),
    ] {
        assert!(common::testdata().join(img).is_file(), "{img} is committed");
        let (code, out) = info(&["--format", "json", img]);
        assert_eq!(code, 0, "{img}");
        let j: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["ntfs"][0]["version"], version, "{img}");
        assert_eq!(j["filesystems"][0]["filesystem"], "ntfs", "{img}");
        assert_eq!(j["filesystems"][0]["version"], version, "{img}");
        assert_eq!(j["filesystems"][0]["label"], "WINNT", "{img}");
        let (code, text) = info(&[img]);
        assert_eq!(code, 0);
        assert!(
            text.contains(&format!(" ntfs version {version} label \"WINNT\"")),
            "{img}: {text}"
        );
    }
}

#[test]
fn verifies_stored_ewf_hashes() {
    for e01 in [
        "containers/nt4-iis4-kb291589-mbr63.E01",
        "containers/nt4-iis4-kb291589-mbr63-split.E01",
    ] {
        assert!(common::testdata().join(e01).is_file(), "{e01} is committed");
        let (code, out) = info(&["--format", "json", "--verify", e01]);
        assert_eq!(code, 0, "{e01}: {out}");
        let j: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["format"], "ewf");
        let hashes = j["hashes"].as_array().unwrap();
        assert!(!hashes.is_empty(), "{e01}: ewfacquire stores an MD5");
        assert!(
            hashes.iter().all(|h| h["matches"] == true),
            "{e01}: {hashes:?}"
        );
    }
}

#[test]
fn missing_image_exits_2() {
    let (code, _) = info(&["no-such.E01"]);
    assert_eq!(code, 2);
}
