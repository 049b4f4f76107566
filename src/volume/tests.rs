//! Unit tests of the volume layer on disks built in memory.

use super::*;

struct Mem(Vec<u8>);

impl Disk for Mem {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let s = offset as usize;
        let src = self
            .0
            .get(s..s + buf.len())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "past end"))?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

fn ntfs_boot(total_sectors: u64) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[0] = 0xEB;
    b[1] = 0x52;
    b[2] = 0x90;
    b[3..11].copy_from_slice(b"NTFS    ");
    b[11..13].copy_from_slice(&512u16.to_le_bytes());
    b[13] = 8;
    b[40..48].copy_from_slice(&total_sectors.to_le_bytes());
    b[48..56].copy_from_slice(&4u64.to_le_bytes());
    b[510] = 0x55;
    b[511] = 0xAA;
    b
}

fn set_entry(sector: &mut [u8], slot: usize, kind: u8, lba: u32, sectors: u32) {
    let e = &mut sector[446 + slot * 16..446 + (slot + 1) * 16];
    e[4] = kind;
    e[8..12].copy_from_slice(&lba.to_le_bytes());
    e[12..16].copy_from_slice(&sectors.to_le_bytes());
}

fn sign(sector: &mut [u8]) {
    sector[510] = 0x55;
    sector[511] = 0xAA;
}

#[test]
fn bare_ntfs_is_one_partition() {
    let mut d = vec![0u8; 64 * 1024];
    d[..512].copy_from_slice(&ntfs_boot(127));
    let parts = find_partitions(&Mem(d)).unwrap();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].scheme, Scheme::None);
    assert_eq!(parts[0].filesystem, Some(Filesystem::Ntfs));
    assert_eq!(parts[0].size, 64 * 1024);
}

#[test]
fn nt4_sector_63_primary_and_logicals() {
    let mut d = vec![0u8; 4 << 20];
    // Primary NTFS at 63, extended at 2048 with two logicals.
    set_entry(&mut d[..512], 0, 0x07, 63, 1000);
    set_entry(&mut d[..512], 1, 0x05, 2048, 4000);
    sign(&mut d[..512]);
    d[63 * 512..64 * 512].copy_from_slice(&ntfs_boot(999));
    // EBR 1 at 2048: logical at +63, next EBR at ext+2048.
    let e1 = 2048 * 512;
    set_entry(&mut d[e1..e1 + 512], 0, 0x07, 63, 500);
    set_entry(&mut d[e1..e1 + 512], 1, 0x05, 2048, 1000);
    sign(&mut d[e1..e1 + 512]);
    let e2 = 4096 * 512;
    set_entry(&mut d[e2..e2 + 512], 0, 0x06, 63, 500);
    // A status byte on a logical entry makes no active partition.
    d[e2 + 446] = 0x80;
    sign(&mut d[e2..e2 + 512]);
    d[446] = 0x80;
    d[440..444].copy_from_slice(&0x4E54_3430u32.to_le_bytes());
    let l1 = (2048 + 63) * 512;
    d[l1..l1 + 512].copy_from_slice(&ntfs_boot(499));

    let map = find_volumes(&Mem(d)).unwrap();
    assert_eq!(map.scheme, Scheme::Mbr);
    let got: Vec<(u32, u64, &str)> = map
        .partitions
        .iter()
        .map(|p| (p.index, p.offset / 512, p.type_id.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(1, 63, "0x07"), (5, 2111, "0x07"), (6, 4159, "0x06")]
    );
    assert_eq!(map.partitions[0].filesystem, Some(Filesystem::Ntfs));
    assert_eq!(map.partitions[1].filesystem, Some(Filesystem::Ntfs));
    assert_eq!(map.partitions[2].filesystem, Some(Filesystem::Unknown));
    let active: Vec<bool> = map.partitions.iter().map(|p| p.active).collect();
    assert_eq!(active, [true, false, false]);
}

#[test]
fn mbr_disk_signature_is_read() {
    let mut d = vec![0u8; 4096];
    d[440..444].copy_from_slice(&0x4E54_3430u32.to_le_bytes());
    assert_eq!(super::mbr_disk_signature(&Mem(d)), Some(0x4E54_3430));
    assert_eq!(super::mbr_disk_signature(&Mem(vec![0u8; 100])), None);
}

#[test]
fn ebr_loop_is_cut() {
    let mut d = vec![0u8; 2 << 20];
    set_entry(&mut d[..512], 0, 0x0F, 100, 3000);
    sign(&mut d[..512]);
    // EBR at 100 points to EBR at 100+200, which points back to 100+0.
    let a = 100 * 512;
    set_entry(&mut d[a..a + 512], 0, 0x07, 10, 50);
    set_entry(&mut d[a..a + 512], 1, 0x05, 200, 100);
    sign(&mut d[a..a + 512]);
    let b = 300 * 512;
    set_entry(&mut d[b..b + 512], 0, 0x07, 10, 50);
    set_entry(&mut d[b..b + 512], 1, 0x05, 0, 100);
    sign(&mut d[b..b + 512]);
    // `next.lba == 0` ends a chain by convention; make a real loop via 200.
    set_entry(&mut d[b..b + 512], 1, 0x05, 200, 100);
    let map = find_volumes(&Mem(d)).unwrap();
    assert_eq!(map.partitions.len(), 2);
    assert!(
        map.notes.iter().any(|n| n.contains("loops")),
        "{:?}",
        map.notes
    );
}

#[test]
fn ebr_chain_is_capped() {
    // 200 EBRs each pointing to the next.
    let mut d = vec![0u8; 1 << 20];
    set_entry(&mut d[..512], 0, 0x05, 10, 1500);
    sign(&mut d[..512]);
    for i in 0..200u32 {
        let at = ((10 + i * 5) * 512) as usize;
        set_entry(&mut d[at..at + 512], 0, 0x07, 1, 2);
        set_entry(&mut d[at..at + 512], 1, 0x05, (i + 1) * 5, 5);
        sign(&mut d[at..at + 512]);
    }
    let map = find_volumes(&Mem(d)).unwrap();
    assert_eq!(map.partitions.len(), 128);
    assert!(map.notes.iter().any(|n| n.contains("longer than")));
}

fn gpt_disk(count: u32, fix_crc: bool) -> Vec<u8> {
    gpt_disk_ss(count, fix_crc, 512)
}

fn gpt_disk_ss(count: u32, fix_crc: bool, ss: usize) -> Vec<u8> {
    let mut d = vec![0u8; 1 << 20];
    set_entry(&mut d[..512], 0, 0xEE, 1, 2047);
    sign(&mut d[..512]);
    // One entry at LBA 2: NTFS basic data at LBA 64..127.
    let mut e = vec![0u8; 128 * 128];
    let basic = [
        0xA2, 0xA0, 0xD0, 0xEB, 0xE5, 0xB9, 0x33, 0x44, 0x87, 0xC0, 0x68, 0xB6, 0xB7, 0x26, 0x99,
        0xC7,
    ];
    e[..16].copy_from_slice(&basic);
    e[16] = 1;
    e[32..40].copy_from_slice(&64u64.to_le_bytes());
    e[40..48].copy_from_slice(&127u64.to_le_bytes());
    for (i, u) in "data".encode_utf16().enumerate() {
        e[56 + 2 * i..58 + 2 * i].copy_from_slice(&u.to_le_bytes());
    }
    d[2 * ss..2 * ss + e.len()].copy_from_slice(&e);
    let mut h = [0u8; 92];
    h[..8].copy_from_slice(b"EFI PART");
    h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    h[12..16].copy_from_slice(&92u32.to_le_bytes());
    h[24..32].copy_from_slice(&1u64.to_le_bytes());
    h[32..40].copy_from_slice(&2047u64.to_le_bytes());
    h[72..80].copy_from_slice(&2u64.to_le_bytes());
    h[80..84].copy_from_slice(&count.to_le_bytes());
    h[84..88].copy_from_slice(&128u32.to_le_bytes());
    h[88..92].copy_from_slice(&gpt::crc32(&e).to_le_bytes());
    if fix_crc {
        let c = gpt::crc32(&h);
        h[16..20].copy_from_slice(&c.to_le_bytes());
    }
    d[ss..ss + 92].copy_from_slice(&h);
    d[64 * ss..64 * ss + 512].copy_from_slice(&ntfs_boot(63));
    d
}

#[test]
fn gpt_with_4096_byte_sectors() {
    let map = find_volumes(&Mem(gpt_disk_ss(128, true, 4096))).unwrap();
    assert_eq!(map.scheme, Scheme::Gpt, "{:?}", map.notes);
    assert_eq!(map.sector_size, 4096);
    assert_eq!(map.partitions[0].offset, 64 * 4096);
    assert_eq!(map.partitions[0].size, 64 * 4096);
    assert_eq!(map.partitions[0].filesystem, Some(Filesystem::Ntfs));
    assert!(map.notes.is_empty(), "{:?}", map.notes);
}

#[test]
fn gpt_basic() {
    let map = find_volumes(&Mem(gpt_disk(128, true))).unwrap();
    assert_eq!(map.scheme, Scheme::Gpt);
    assert_eq!(map.partitions.len(), 1);
    let p = &map.partitions[0];
    assert_eq!(p.type_id, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7");
    assert_eq!(p.name.as_deref(), Some("data"));
    assert_eq!((p.offset, p.size), (64 * 512, 64 * 512));
    assert_eq!(p.filesystem, Some(Filesystem::Ntfs));
}

#[test]
fn gpt_absurd_count_and_bad_crc_fall_back_to_scan() {
    for disk in [gpt_disk(u32::MAX, true), gpt_disk(128, false)] {
        let map = find_volumes(&Mem(disk)).unwrap();
        assert_eq!(map.scheme, Scheme::None, "{:?}", map.notes);
        assert_eq!(map.partitions.len(), 1);
        assert_eq!(map.partitions[0].offset, 64 * 512);
        assert!(
            map.notes.iter().any(|n| n.contains("scanned")),
            "{:?}",
            map.notes
        );
    }
}

#[test]
fn partitions_past_the_end_are_clamped_and_noted() {
    let mut d = vec![0u8; 4096];
    set_entry(&mut d[..512], 0, 0x07, 4, 1000);
    sign(&mut d[..512]);
    let map = find_volumes(&Mem(d)).unwrap();
    assert_eq!(map.partitions[0].size, 2048);
    assert!(map.partitions[0].note.is_some());
}

#[test]
fn tiny_and_blank_disks() {
    assert!(find_partitions(&Mem(vec![0u8; 100])).is_err());
    let map = find_volumes(&Mem(vec![0u8; 8192])).unwrap();
    assert!(map.partitions.is_empty());
    assert!(!map.notes.is_empty());
}

#[test]
fn random_garbage_never_panics() {
    // A cheap deterministic generator; no extra crates.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..300 {
        let mut d = vec![0u8; 64 * 1024];
        for b in d.iter_mut().take(if round % 2 == 0 { 1024 } else { 65536 }) {
            *b = next() as u8;
        }
        sign(&mut d[..512]);
        if round % 3 == 0 {
            set_entry(&mut d[..512], 0, 0xEE, 1, 100);
        }
        for s in 0..4 {
            d[446 + s * 16] = 0;
        }
        let _ = find_volumes(&Mem(d));
    }
}
