use super::*;

/// A FAT16 boot sector: 512-byte sectors, `spc` sectors a cluster.
fn boot16(total: u16, spc: u8, root: u16, fat: u16) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[0] = 0xEB;
    b[11..13].copy_from_slice(&512u16.to_le_bytes());
    b[13] = spc;
    b[14..16].copy_from_slice(&1u16.to_le_bytes());
    b[16] = 2;
    b[17..19].copy_from_slice(&root.to_le_bytes());
    b[19..21].copy_from_slice(&total.to_le_bytes());
    b[22..24].copy_from_slice(&fat.to_le_bytes());
    b[38] = 0x29;
    b[43..54].copy_from_slice(b"SYSTEM     ");
    b[510] = 0x55;
    b[511] = 0xAA;
    b
}

#[test]
fn type_by_cluster_count() {
    let mut d = Vec::new();
    // 20,000 sectors, 1 a cluster: about 19,900 clusters → FAT16.
    let l = parse_boot(&boot16(20_000, 1, 512, 80), 20_000 * 512, &mut d).unwrap();
    assert_eq!(l.fat_type, FatType::Fat16);
    assert_eq!(l.bpb_label.as_deref(), Some("SYSTEM"));
    // Same sectors, 8 a cluster: under 4085 clusters → FAT12 whatever the
    // type string says.
    let l = parse_boot(&boot16(20_000, 8, 512, 8), 20_000 * 512, &mut d).unwrap();
    assert_eq!(l.fat_type, FatType::Fat12);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn bad_bpb_values_are_named() {
    let mut d = Vec::new();
    let mut b = boot16(20_000, 1, 512, 80);
    b[13] = 3;
    assert!(parse_boot(&b, 1 << 30, &mut d)
        .unwrap_err()
        .contains("sectors per cluster"));
    let mut b = boot16(20_000, 1, 512, 80);
    b[16] = 0;
    assert!(parse_boot(&b, 1 << 30, &mut d)
        .unwrap_err()
        .contains("no FAT"));
    let b = boot16(100, 1, 512, 80);
    assert!(parse_boot(&b, 1 << 30, &mut d)
        .unwrap_err()
        .contains("no room"));
    let b = boot16(20_000, 1, 0, 80);
    assert!(parse_boot(&b, 1 << 30, &mut d)
        .unwrap_err()
        .contains("no root"));
    // A FAT too small for its clusters: the rest are not read, and said so.
    let b = boot16(20_000, 1, 512, 2);
    let l = parse_boot(&b, 1 << 30, &mut d).unwrap();
    assert_eq!(l.clusters, 510);
    assert_eq!(d.len(), 1);
}

#[test]
fn fat_times_are_taken_as_utc() {
    // 2001-08-20 16:45:00 local: date (21 << 9 | 8 << 5 | 20), time (16 << 11 | 45 << 5).
    let t = fat_time(21 << 9 | 8 << 5 | 20, 16 << 11 | 45 << 5, 0).unwrap();
    assert_eq!(t.to_string(), "2001-08-20T16:45:00Z");
    // The create time's 10 ms field adds up to 1.99 s.
    let c = fat_time(21 << 9 | 8 << 5 | 20, 16 << 11 | 45 << 5, 199).unwrap();
    assert_eq!(c.0 - t.0, 19_900_000);
    assert_eq!(fat_time(0, 0, 0), None);
    // Month 13, hour 25: impossible, so no time rather than a wrong one.
    assert_eq!(fat_time(21 << 9 | 13 << 5 | 1, 0, 0), None);
    assert_eq!(fat_time(21 << 9 | 1 << 5 | 1, 25 << 11, 0), None);
}

#[test]
fn long_names_fall_back_to_the_short_name() {
    // "Program Files" → PROGRA~1, in two LFN entries.
    let short = *b"PROGRA~1   ";
    let sum = name::checksum(&short);
    let units: Vec<u16> = "Program Files".encode_utf16().collect();
    let mk = |ord: u8, part: &[u16]| {
        let mut e = [0xFFu8; 32];
        e[0] = ord;
        e[11] = ATTR_LONG_NAME;
        e[12] = 0;
        e[13] = sum;
        e[26] = 0;
        e[27] = 0;
        let slots: Vec<usize> = (1..11)
            .step_by(2)
            .chain((14..26).step_by(2))
            .chain((28..32).step_by(2))
            .collect();
        for (i, s) in slots.iter().enumerate() {
            let u = match i.cmp(&part.len()) {
                std::cmp::Ordering::Less => part[i],
                std::cmp::Ordering::Equal => 0,
                std::cmp::Ordering::Greater => 0xFFFF,
            };
            e[*s..s + 2].copy_from_slice(&u.to_le_bytes());
        }
        e
    };
    let second = mk(0x42, &units[13..]);
    let first = mk(0x01, &units[..13]);
    let mut sfn = [0u8; 32];
    sfn[0..11].copy_from_slice(&short);
    sfn[11] = ATTR_DIRECTORY;
    sfn[26] = 5;
    let dir: Vec<u8> = [second, first, sfn].concat();
    let d = parse_dir(&dir, |i| 1000 + 32 * i as u64);
    assert_eq!(d.entries[0].name, "Program Files");
    assert_eq!(d.entries[0].short_key, name::short_key("progra~1"));
    assert_eq!(d.entries[0].pos, 1064);
    // A wrong checksum: the 8.3 name.
    let mut broken = dir.clone();
    broken[13] ^= 1;
    assert_eq!(parse_dir(&broken, |i| i as u64).entries[0].name, "PROGRA~1");
    // A missing piece: the 8.3 name.
    let missing: Vec<u8> = [second, sfn].concat();
    assert_eq!(
        parse_dir(&missing, |i| i as u64).entries[0].name,
        "PROGRA~1"
    );
}
