//! Installs across volumes and drive letters (issue 11): the factory's
//! NT 4.0 disks with a FAT16 boot partition C:, `\WINNT` on NTFS D: and an
//! add-on on E:, through the real binary.

mod common;

use assert_cmd::Command;
use serde_json::Value;

fn diagnose_json(file: &str) -> Value {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(common::testdata())
        .args(["diagnose", "--format", "json", file])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().next().expect("one JSON line")).unwrap()
}

fn letters(install: &Value) -> Vec<(String, Value)> {
    install["drives"]
        .as_array()
        .expect("drives on a multi-volume image")
        .iter()
        .map(|d| {
            (
                d["letter"].as_str().unwrap().to_string(),
                d["volume"].clone(),
            )
        })
        .collect()
}

#[test]
fn boot_ini_on_c_leads_to_winnt_on_d() {
    let d = diagnose_json("nt4-iis4-kb291589-bootc.img");
    assert_eq!(d["volumes"].as_array().unwrap().len(), 2);
    let install = &d["installs"][0];
    assert_eq!(install["volume"], 1);
    assert_eq!(install["system_root"], "\\WINNT");
    let boot = d["boot_entries"].as_array().unwrap();
    assert_eq!(boot.len(), 2, "{boot:?}");
    for e in boot {
        assert_eq!(e["volume"], 0);
        assert_eq!(e["partition"], 2);
        assert_eq!(e["target_volume"], 1);
        assert_eq!(e["install"], 0);
        assert!(e["default"].as_bool().unwrap());
    }
    assert_eq!(
        letters(install),
        [
            ("C:".to_string(), Value::from(0)),
            ("D:".to_string(), Value::from(1))
        ]
    );
    for dr in install["drives"].as_array().unwrap() {
        assert!(
            dr["source"].as_str().unwrap().contains("DISK\\Information"),
            "{dr}"
        );
    }
    // Registry paths name D:, the install's own volume: shown as before.
    let w3 = &install["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "W3SVC")
        .unwrap()["binaries"][0];
    assert_eq!(w3["found"], "\\WINNT\\system32\\inetsrv\\inetinfo.exe");
}

#[test]
fn an_addon_on_e_is_read_there_and_missing_only_when_e_was_read() {
    let d = diagnose_json("nt4-iis4-addon-e.img");
    let install = &d["installs"][0];
    assert_eq!(letters(install)[2], ("E:".to_string(), Value::from(2)));
    let files: Vec<&str> = install["addons"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["dlls"].as_array().unwrap())
        .filter_map(|b| b["found"].as_str())
        .collect();
    assert!(files.contains(&"E:\\Proxy\\W3pcfg.dll"), "{files:?}");
    assert!(files.contains(&"E:\\Proxy\\Wspcfg.dll"), "{files:?}");
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "missing-addon-dll" && f["paths"][0] == "E:\\Proxy\\Sockscfg.dll"));
    assert_eq!(d["status"], "evaluated");

    // Without E: on the image, nothing on E: is called missing.
    let d = diagnose_json("nt4-iis4-addon-e-unmapped.img");
    assert_eq!(d["status"], "partial");
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["rule"] != "missing-addon-dll" && f["rule"] != "missing-service-binary"));
    let unreadable = d["unreadable"].as_array().unwrap();
    for name in ["Sockscfg.dll", "W3pcfg.dll", "Wspcfg.dll"] {
        let u = unreadable
            .iter()
            .find(|u| u["path"] == format!("E:\\Proxy\\{name}").as_str())
            .unwrap_or_else(|| panic!("{name} not unreadable: {unreadable:?}"));
        assert!(
            u["reason"]
                .as_str()
                .unwrap()
                .contains("drive E: is not on this image"),
            "{u}"
        );
    }
}

#[test]
fn single_volume_images_keep_their_report() {
    let d = diagnose_json("nt4-iis4-kb291589.img");
    assert!(d.get("boot_entries").is_none());
    assert!(d["installs"][0].get("drives").is_none());
}

#[test]
fn windows_2000_letters_come_from_mounted_devices() {
    let d = diagnose_json("w2k-iis5-bootc-mounted.img");
    assert_eq!(d["status"], "evaluated");
    assert!(d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["severity"] == "info"));
    let install = &d["installs"][0];
    assert_eq!(install["volume"], 1);
    assert_eq!(
        letters(install),
        [
            ("C:".to_string(), Value::from(0)),
            ("D:".to_string(), Value::from(1)),
            ("F:".to_string(), Value::Null),
        ]
    );
    for dr in install["drives"].as_array().unwrap() {
        assert!(
            dr["source"].as_str().unwrap().starts_with("MountedDevices"),
            "{dr}"
        );
    }
    let boot = d["boot_entries"].as_array().unwrap();
    assert_eq!(boot.len(), 2, "{boot:?}");
    // signature(4e543430) is this disk's signature.
    assert_eq!(boot[0]["install"], 0);
    assert!(boot[0]["default"].as_bool().unwrap());
    // rdisk(1) is another disk: said, not guessed.
    assert_eq!(boot[1]["install"], Value::Null);
    assert!(
        boot[1]["note"]
            .as_str()
            .unwrap()
            .contains("another BIOS disk"),
        "{}",
        boot[1]
    );
}

#[test]
fn text_report_of_the_boot_partition_image_is_pinned() {
    let out = Command::cargo_bin("verskew")
        .unwrap()
        .current_dir(common::testdata())
        .args(["diagnose", "nt4-iis4-addon-e.img"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("bootc_text_report", String::from_utf8(out.stdout).unwrap());
}

/// What `MountedDevices` names a GPT partition by: its unique GUID, read
/// from the primary GPT (the factory's sfdisk script sets it).
#[test]
fn gpt_unique_guids_are_read() {
    let img = verskew::image::open(&common::testdata().join("nt4-iis4-kb291589-gpt.img")).unwrap();
    let guids = verskew::volume::gpt_unique_guids(img.disk.as_ref());
    assert_eq!(guids.len(), 1);
    assert_eq!(guids[0].0, 2048 * 512);
    // 1F2E3D4C-5B6A-4978-8695-A4B3C2D1E0F9, first three fields little-endian.
    assert_eq!(
        guids[0].1,
        [
            0x4C, 0x3D, 0x2E, 0x1F, 0x6A, 0x5B, 0x78, 0x49, 0x86, 0x95, 0xA4, 0xB3, 0xC2, 0xD1,
            0xE0, 0xF9
        ]
    );
    // An MBR disk has none.
    let mbr = verskew::image::open(&common::testdata().join("nt4-iis4-addon-e.img")).unwrap();
    assert!(verskew::volume::gpt_unique_guids(mbr.disk.as_ref()).is_empty());
}
