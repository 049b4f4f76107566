//! Old-format transaction log replay against the hives yarp's author made on
//! Windows (read from the third-party corpus, never copied here): the replay
//! of `OldDirtyHive` + its log must give what Windows 7 itself recovered, key
//! by key and value by value; bad logs are ignored with a reason.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use verskew::registry::{self, open_with_logs, Hive, HiveState, Walk};

fn read(dir: &Path, name: &str) -> Option<Vec<u8>> {
    let p = dir.join("hives/yarp").join(name);
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(_) => {
            eprintln!("SKIPPED: {} not in the corpus", p.display());
            None
        }
    }
}

/// A key as compared: last written, values (as debug text), subkey names.
type Shot = (Option<String>, Vec<String>, Vec<String>);

/// Every key of the hive by path.
fn snapshot(h: &Hive) -> BTreeMap<String, Shot> {
    let mut out = BTreeMap::new();
    h.walk("", registry::MAX_DEPTH, &mut |k| {
        let mut values: Vec<String> = k
            .values
            .iter()
            .map(|v| format!("{:?} = {:?}", v.name, v.data))
            .collect();
        values.sort();
        let mut subkeys = k.subkeys.clone();
        subkeys.sort();
        out.insert(
            k.path.clone(),
            (k.last_written.map(|t| t.to_string()), values, subkeys),
        );
        Walk::Descend
    })
    .expect("walk");
    out
}

#[test]
fn old_log_replay_matches_what_windows_7_recovered() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(log), Some(recovered)) = (
        read(&dir, "yarp__OldDirtyHive_OldDirtyHive"),
        read(&dir, "yarp__OldDirtyHive_OldDirtyHive.LOG1"),
        read(&dir, "yarp__OldDirtyHive_RecoveredHive_Windows7"),
    ) else {
        return;
    };
    let as_stored = Hive::from_bytes("stored", primary.clone()).unwrap();
    assert!(as_stored.is_dirty());
    let (ours, state) = open_with_logs(
        "OldDirtyHive",
        primary.clone(),
        &[("OldDirtyHive.LOG1".into(), log)],
    )
    .unwrap();
    assert_eq!(
        state,
        HiveState::Replayed {
            log: "OldDirtyHive.LOG1".into()
        }
    );
    assert!(!ours.is_dirty());
    assert!(ours.header().checksum_ok);
    assert_eq!(ours.header().file_type, 0);
    let windows = Hive::from_bytes("windows7", recovered).unwrap();
    let (a, b) = (snapshot(&ours), snapshot(&windows));
    assert!(a.len() > 1, "the replayed hive has keys");
    for (path, want) in &b {
        let got = a
            .get(path)
            .unwrap_or_else(|| panic!("key {path:?} missing"));
        assert_eq!(got.0, want.0, "last written of {path:?}");
        assert_eq!(got.2, want.2, "subkeys of {path:?}");
        assert_eq!(got.1, want.1, "values of {path:?}");
    }
    let extra: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    assert!(extra.is_empty(), "keys Windows 7 did not have: {extra:?}");
    // And the replay changed something: the hive as stored differs.
    assert_ne!(snapshot(&as_stored), b, "the log made no difference");
}

#[test]
fn bad_logs_are_ignored_with_a_reason() {
    let Some(dir) = common::corpus() else { return };
    let cases = [
        // Log base block checksum replaced by "INVL".
        (
            "yarp__BadLogHive1_BadLogHive",
            "yarp__BadLogHive1_BadLogHive.LOG1",
            "checksum",
        ),
        // "DIRT" replaced by "INVL".
        (
            "yarp__BadLogHive2_BadLogHive",
            "yarp__BadLogHive2_BadLogHive.LOG1",
            "DIRT",
        ),
        // New-format logs are notatin's business, not replayed here.
        (
            "yarp__BadLogHive3_BadLogHive",
            "yarp__BadLogHive3_BadLogHive.LOG1",
            "new-format",
        ),
        (
            "yarp__NewDirtyHive1_NewDirtyHive",
            "yarp__NewDirtyHive1_NewDirtyHive.LOG1",
            "new-format",
        ),
        // A log whose hive is clean: nothing to replay.
        (
            "yarp__OldDirtyHive_RecoveredHive_Windows7",
            "yarp__OldDirtyHive_OldDirtyHive.LOG1",
            "",
        ),
    ];
    for (hive, log, why) in cases {
        let (Some(h), Some(l)) = (read(&dir, hive), read(&dir, log)) else {
            continue;
        };
        let (opened, state) = open_with_logs(hive, h, &[(log.into(), l)]).unwrap();
        if why.is_empty() {
            assert_eq!(state, HiveState::Primary, "{hive}");
            continue;
        }
        match state {
            HiveState::Dirty { reason } => {
                assert!(reason.contains(why), "{hive}: {reason}");
                assert!(reason.contains(log), "{hive}: {reason}");
            }
            other => panic!("{hive}: {other:?}"),
        }
        assert!(opened.is_dirty());
    }
}

#[test]
fn logs_of_another_hive_or_with_remnants() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(remnant), Some(other)) = (
        read(&dir, "yarp__OldDirtyHive_OldDirtyHive"),
        read(&dir, "yarp__OldLogWithRemnantData"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive"),
    ) else {
        return;
    };
    // Remnant data after the last dirty page is not read: the same hive as
    // with the clean log.
    let (replayed, state) =
        open_with_logs("h", primary.clone(), &[("r.LOG".into(), remnant.clone())]).unwrap();
    assert!(matches!(state, HiveState::Replayed { .. }), "{state:?}");
    if let Some(windows) = read(&dir, "yarp__OldDirtyHive_RecoveredHive_Windows7") {
        let windows = Hive::from_bytes("windows7", windows).unwrap();
        assert_eq!(snapshot(&replayed), snapshot(&windows));
    }
    // The old log does not belong to another dirty hive.
    let (_, state) = open_with_logs("n", other, &[("r.LOG".into(), remnant)]).unwrap();
    match state {
        HiveState::Dirty { reason } => assert!(reason.contains("another"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // No log at all.
    let (_, state) = open_with_logs("h", primary, &[]).unwrap();
    assert!(matches!(state, HiveState::Dirty { .. }));
}

#[test]
fn bad_base_block_hive_is_matched_by_its_first_bin() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(log)) = (
        read(&dir, "yarp__BadBaseBlockHive_BadBaseBlockHive"),
        read(&dir, "yarp__BadBaseBlockHive_BadBaseBlockHive.LOG1"),
    ) else {
        return;
    };
    let (h, state) = open_with_logs("b", primary, &[("b.LOG1".into(), log)]).unwrap();
    assert!(matches!(state, HiveState::Replayed { .. }), "{state:?}");
    assert!(h.header().checksum_ok);
}

/// A log claiming a far larger hive than the primary file, without the pages
/// for it, is refused before anything is allocated for the claim.
#[test]
fn a_log_claiming_a_larger_hive_without_its_pages_is_refused() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(mut log)) = (
        read(&dir, "yarp__OldDirtyHive_OldDirtyHive"),
        read(&dir, "yarp__OldDirtyHive_OldDirtyHive.LOG1"),
    ) else {
        return;
    };
    // 64 MiB of hive bins, checksum made right.
    log[40..44].copy_from_slice(&(64u32 << 20).to_le_bytes());
    let mut sum = 0u32;
    for at in (0..508).step_by(4) {
        sum ^= u32::from_le_bytes(log[at..at + 4].try_into().unwrap());
    }
    log[508..512].copy_from_slice(&sum.to_le_bytes());
    // The same dirty pages behind a bitmap of the claimed length.
    let bitmap = 16384; // (64 MiB / 512) bits
    let pages = log[1024..].to_vec();
    let bits = log[516..516 + 119].to_vec();
    log.truncate(516);
    log.extend(&bits);
    log.resize(516 + bitmap, 0);
    log.resize((516 + bitmap).div_ceil(512) * 512, 0);
    log.extend(pages);
    let why = registry::replay_old_log(&primary, &log).unwrap_err();
    assert!(why.0.contains("does not hold the pages"), "{why}");
}
