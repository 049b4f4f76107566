//! Transaction log replay against the hives yarp's author made on Windows
//! (read from the third-party corpus, never copied here): the replay of
//! `OldDirtyHive` + its old-format log must give what Windows 7 itself
//! recovered, and that of `NewDirtyHive1` + its new-format logs what Windows
//! 10 recovered, key by key and value by value; bad logs are ignored with a
//! reason. Real dirty hives with new-format logs (Amcache, NTUSER, UsrClass,
//! SECURITY from Windows 10 and 11) replay the entries their logs hold.

mod common;

use std::collections::BTreeMap;
use std::io::Read;
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
        // New format, base block checksum of the log broken.
        (
            "yarp__BadLogHive3_BadLogHive",
            "yarp__BadLogHive3_BadLogHive.LOG1",
            "checksum",
        ),
        (
            "yarp__BadLogHive3_BadLogHive",
            "yarp__BadLogHive3_BadLogHive.LOG2",
            "checksum",
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

/// `hives/<name>` of the corpus, unpacked when it is stored as `.xz`.
fn read_hive_file(dir: &Path, name: &str) -> Option<Vec<u8>> {
    let p = dir.join("hives").join(name);
    if let Ok(b) = std::fs::read(&p) {
        return Some(b);
    }
    let xz = p.with_file_name(format!("{}.xz", p.file_name()?.to_string_lossy()));
    match std::fs::File::open(&xz) {
        Ok(f) => {
            let mut out = Vec::new();
            xz2::read::XzDecoder::new(f)
                .read_to_end(&mut out)
                .expect("unpack");
            Some(out)
        }
        Err(_) => {
            eprintln!("SKIPPED: {} not in the corpus", p.display());
            None
        }
    }
}

/// Compares two hives key by key: same keys, subkeys, values and times.
fn assert_same_keys(ours: &Hive, theirs: &Hive, who: &str) {
    let (a, b) = (snapshot(ours), snapshot(theirs));
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
    assert!(extra.is_empty(), "keys {who} did not have: {extra:?}");
}

#[test]
fn new_log_replay_matches_what_windows_10_recovered() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(log1), Some(log2), Some(recovered)) = (
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive.LOG1"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive.LOG2"),
        read(&dir, "yarp__NewDirtyHive1_RecoveredHive_Windows10"),
    ) else {
        return;
    };
    let as_stored = Hive::from_bytes("stored", primary.clone()).unwrap();
    assert!(as_stored.is_dirty());
    let windows = Hive::from_bytes("windows10", recovered.clone()).unwrap();
    let logs = [
        ("NewDirtyHive.LOG1".to_string(), log1.clone()),
        ("NewDirtyHive.LOG2".to_string(), log2.clone()),
    ];
    // Whatever the order the logs are given in: LOG1 (entry 2), then LOG2
    // (entries 3 to 5).
    for logs in [logs.to_vec(), logs.iter().rev().cloned().collect()] {
        let (ours, state) = open_with_logs("NewDirtyHive", primary.clone(), &logs).unwrap();
        assert_eq!(
            state,
            HiveState::Replayed {
                log: "NewDirtyHive.LOG1, NewDirtyHive.LOG2 (new format, log entries 2 to 5)".into()
            }
        );
        assert!(!ours.is_dirty());
        assert!(ours.header().checksum_ok);
        assert_eq!(ours.header().file_type, 0);
        assert_same_keys(&ours, &windows, "Windows 10");
    }
    // Byte for byte, the hive bins are Windows' own (as yarp checks).
    let r =
        registry::replay_new_logs(&primary, &[("LOG1", &log1[..]), ("LOG2", &log2[..])]).unwrap();
    assert_eq!((r.entries, r.pages, r.stopped.as_deref()), (4, 4, None));
    assert!(r.bytes[4096..] == recovered[4096..], "hive bins differ");
    // And the replay changed something.
    assert_ne!(
        snapshot(&as_stored),
        snapshot(&windows),
        "the logs made no difference"
    );
}

/// With only one of the two logs, what that log holds is applied, as
/// Windows would: LOG1 alone gives entry 2; LOG2 alone starts at its own
/// first entry (3), past the hive's secondary sequence number (2), as after
/// a partial reconcile.
#[test]
fn one_new_log_alone_applies_what_it_holds() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(log1), Some(log2)) = (
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive.LOG1"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive.LOG2"),
    ) else {
        return;
    };
    let (_, state) =
        open_with_logs("n", primary.clone(), &[("n.LOG1".into(), log1.clone())]).unwrap();
    assert_eq!(
        state,
        HiveState::Replayed {
            log: "n.LOG1 (new format, log entry 2)".into()
        }
    );
    let (_, state) =
        open_with_logs("n", primary.clone(), &[("n.LOG2".into(), log2.clone())]).unwrap();
    assert_eq!(
        state,
        HiveState::Replayed {
            log: "n.LOG2 (new format, log entries 3 to 5)".into()
        }
    );
    // LOG1 damaged: LOG2 is applied from its own first entry, and the state
    // says which log was left out and why (its entries may be missing).
    let mut broken = log1.clone();
    broken[508] ^= 1;
    let logs = [("n.LOG1".into(), broken), ("n.LOG2".into(), log2.clone())];
    let (_, state) = open_with_logs("n", primary.clone(), &logs).unwrap();
    assert_eq!(
        state,
        HiveState::Replayed {
            log: "n.LOG2 (new format, log entries 3 to 5; not used: n.LOG1: log base block checksum is wrong)".into()
        }
    );
    // A new-format log of another hive (same hive, other write time).
    let mut other = log1;
    other[12] ^= 1;
    let mut sum = 0u32;
    for at in (0..508).step_by(4) {
        sum ^= u32::from_le_bytes(other[at..at + 4].try_into().unwrap());
    }
    other[508..512].copy_from_slice(&sum.to_le_bytes());
    let (_, state) = open_with_logs("n", primary, &[("o.LOG1".into(), other)]).unwrap();
    match state {
        HiveState::Dirty { reason } => {
            assert!(
                reason.contains("o.LOG1") && reason.contains("another"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// A hive whose base block is invalid (checksum broken here): only the
/// latest log is used, from its own first entry, and its base block becomes
/// the hive's (as Windows does). LOG2's entry 4 rewrites all the hive bins,
/// so the result is still Windows' own.
#[test]
fn new_logs_over_an_invalid_base_block_use_the_latest_log() {
    let Some(dir) = common::corpus() else { return };
    let (Some(mut primary), Some(log1), Some(log2), Some(recovered)) = (
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive.LOG1"),
        read(&dir, "yarp__NewDirtyHive1_NewDirtyHive.LOG2"),
        read(&dir, "yarp__NewDirtyHive1_RecoveredHive_Windows10"),
    ) else {
        return;
    };
    primary[508] ^= 0xFF;
    let r =
        registry::replay_new_logs(&primary, &[("LOG1", &log1[..]), ("LOG2", &log2[..])]).unwrap();
    assert_eq!(
        r.describe(),
        "LOG2 (new format, log entries 3 to 5; not used: LOG1: the hive's base block is invalid, so only the latest log is used)"
    );
    assert!(r.ignored[0].starts_with("LOG1: the hive's base block is invalid"));
    assert!(r.bytes[4096..] == recovered[4096..], "hive bins differ");
    let (h, state) = open_with_logs(
        "n",
        primary,
        &[("LOG1".into(), log1), ("LOG2".into(), log2)],
    )
    .unwrap();
    assert!(matches!(state, HiveState::Replayed { .. }), "{state:?}");
    assert!(h.header().checksum_ok);
    let windows = Hive::from_bytes("windows10", recovered).unwrap();
    assert_same_keys(&h, &windows, "Windows 10");
}

/// BadLogHive3: both new-format logs have a broken base block checksum, so
/// the hive is read as stored and each log says why (yarp refuses it too).
#[test]
fn bad_new_logs_are_ignored_each_with_its_reason() {
    let Some(dir) = common::corpus() else { return };
    let (Some(primary), Some(log1), Some(log2)) = (
        read(&dir, "yarp__BadLogHive3_BadLogHive"),
        read(&dir, "yarp__BadLogHive3_BadLogHive.LOG1"),
        read(&dir, "yarp__BadLogHive3_BadLogHive.LOG2"),
    ) else {
        return;
    };
    let logs = [("b.LOG1".into(), log1), ("b.LOG2".into(), log2)];
    let (h, state) = open_with_logs("b", primary, &logs).unwrap();
    assert!(h.is_dirty());
    assert_eq!(
        state,
        HiveState::Dirty {
            reason: "log ignored: b.LOG1: log base block checksum is wrong; b.LOG2: log base block checksum is wrong".into()
        }
    );
}

/// Real dirty hives with new-format logs from Windows 10 and 11: which
/// entries apply, from which logs, and the result opens and reads.
#[test]
fn real_new_format_logs_replay() {
    let Some(dir) = common::corpus() else { return };
    // (hive, logs, expected description after the log names, pages)
    let cases: [(&str, &[&str], &str, Option<usize>); 6] = [
        // LOG1 36-37, then LOG2 38-39; LOG2's stale entry 27 after 39 ends it.
        (
            "museum__Amcache_Win10_APTSimulatorVM/Amcache.hve",
            &["LOG1", "LOG2"],
            "LOG1, LOG2 (new format, log entries 36 to 39)",
            None,
        ),
        (
            "museum__Amcache_Win10_RathbunVM/Amcache.hve",
            &["LOG1", "LOG2"],
            "LOG1, LOG2 (new format, log entries 76 to 81)",
            None,
        ),
        // Here LOG2 holds the earlier entries.
        (
            "museum__Amcache_Win11_RathbunVM/Amcache.hve",
            &["LOG1", "LOG2"],
            "LOG2, LOG1 (new format, log entries 68 to 76)",
            None,
        ),
        // LOG2 (562) is older than the hive: ignored. regipy recovers the
        // same 132 dirty pages.
        (
            "regipy__transactions_NTUSER.DAT",
            &["log1", "log2"],
            "log1 (new format, log entries 566 to 588)",
            Some(132),
        ),
        (
            "regipy__UsrClass.dat",
            &["LOG1", "LOG2"],
            "LOG1, LOG2 (new format, log entries 287 to 300)",
            None,
        ),
        (
            "frnsc-hive__Win10_1607/SECURITY",
            &["LOG1", "LOG2"],
            "LOG1, LOG2 (new format, log entries 139 to 140)",
            None,
        ),
    ];
    for (hive, exts, want, pages) in cases {
        let Some(primary) = read_hive_file(&dir, hive) else {
            continue;
        };
        // regipy's logs are named in lower case after the hive's own case.
        let logs: Option<Vec<(String, Vec<u8>)>> = exts
            .iter()
            .map(|e| {
                let name = match hive {
                    "regipy__transactions_NTUSER.DAT" => {
                        format!("regipy__transactions_ntuser.dat.{e}")
                    }
                    _ => format!("{hive}.{e}"),
                };
                read_hive_file(&dir, &name).map(|b| (e.to_string(), b))
            })
            .collect();
        let Some(logs) = logs else { continue };
        let given: Vec<(&str, &[u8])> = logs.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
        let r =
            registry::replay_new_logs(&primary, &given).unwrap_or_else(|e| panic!("{hive}: {e}"));
        assert_eq!(r.describe(), want, "{hive}");
        if let Some(p) = pages {
            assert_eq!(r.pages, p, "{hive}");
        }
        let (h, state) = open_with_logs(hive, primary, &logs).unwrap();
        assert_eq!(state, HiveState::Replayed { log: want.into() }, "{hive}");
        assert!(!h.is_dirty(), "{hive}");
        assert!(h.header().checksum_ok, "{hive}");
        let keys = snapshot(&h).len();
        assert!(keys > 1, "{hive}: {keys} keys");
    }
    // A clean hive with stale logs: read as it is.
    if let (Some(h), Some(l)) = (
        read_hive_file(&dir, "museum__Amcache_Win2012R2_StolenSzechuan/Amcache.hve"),
        read_hive_file(
            &dir,
            "museum__Amcache_Win2012R2_StolenSzechuan/Amcache.hve.LOG1",
        ),
    ) {
        let (_, state) = open_with_logs("c", h, &[("c.LOG1".into(), l)]).unwrap();
        assert_eq!(state, HiveState::Primary);
    }
}
