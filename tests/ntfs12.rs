//! NTFS 1.2 (NT 3.51/4.0) read as is: the factory's `-ntfs12` images give
//! the same walk and census as the NTFS 3.1 volumes they were converted
//! from, and a directory on 8 KiB clusters whose index block VCNs count
//! 512-byte units is read whole.

mod common;

use std::collections::BTreeMap;

use verskew::fs::{NtfsVolume, Volume};
use verskew::image;

fn open(name: &str) -> image::Image {
    let p = common::testdata().join(name);
    assert!(p.is_file(), "{name} is committed");
    image::open(&p).unwrap()
}

/// path -> bytes of every file the census finds.
fn census(name: &str) -> BTreeMap<String, Vec<u8>> {
    let img = open(name);
    let disk = img.disk.as_ref();
    let (found, lost) = NtfsVolume::census_read_all(disk, 0, disk.size()).unwrap();
    assert!(lost.is_empty(), "{name}: {lost:?}");
    found.into_iter().map(|(p, _, d)| (p, d)).collect()
}

/// path -> bytes of every file under `dir`, by the walk.
fn walk(vol: &NtfsVolume<'_>, dir: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    let d = vol.lookup(dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
    for e in vol.list(&d).unwrap() {
        if e.is_dir {
            walk(vol, &e.path, out);
        } else if !e.metadata {
            out.insert(e.path.clone(), vol.read(&e).unwrap().to_vec());
        }
    }
}

#[test]
fn ntfs12_volumes_read_as_their_31_twins() {
    for (v12, v31) in [
        ("nt4-iis4-kb291589-ntfs12.img", "nt4-iis4-kb291589.img"),
        ("nt4-iis4-healthy-ntfs12.img", "nt4-iis4-healthy.img"),
        (
            "nt4-iis4-kb291589-ntfs12-frag.img",
            "nt4-iis4-kb291589-frag.img",
        ),
    ] {
        let (a, b) = (open(v12), open(v31));
        let (va, vb) = (
            NtfsVolume::open(a.disk.as_ref(), 0, a.disk.size()).unwrap(),
            NtfsVolume::open(b.disk.as_ref(), 0, b.disk.size()).unwrap(),
        );
        assert_eq!(va.version().as_deref(), Some("1.2"), "{v12}");
        assert_eq!(vb.version().as_deref(), Some("3.1"), "{v31}");
        assert!(va.degraded().is_empty(), "{v12}: {:?}", va.degraded());
        let (mut wa, mut wb) = (BTreeMap::new(), BTreeMap::new());
        walk(&va, "\\WINNT", &mut wa);
        walk(&vb, "\\WINNT", &mut wb);
        assert!(wa.len() > 30, "{v12}: {} files", wa.len());
        assert!(wa == wb, "{v12}: the walk differs from {v31}'s");
        let (ca, cb) = (census(v12), census(v31));
        assert!(ca.len() > 30, "{v12}: census found {}", ca.len());
        assert!(ca == cb, "{v12}: the census differs from {v31}'s");
    }
}

/// 8 KiB clusters, 4 KiB index blocks: the blocks of `\WINNT\Help` carry
/// VCNs 0, 8, 16 (512-byte units, as Windows and Linux count them when a
/// cluster is larger than an index block), and every one of the 48 pages
/// the factory wrote there is listed and read.
#[test]
fn index_blocks_smaller_than_a_cluster_are_read_whole() {
    let name = "nt4-iis4-kb291589-ntfs12-8k.img";
    let img = open(name);
    let disk = img.disk.as_ref();
    let vol = NtfsVolume::open(disk, 0, disk.size()).unwrap();
    assert_eq!(vol.cluster_size(), 8192);
    let mut pages = BTreeMap::new();
    walk(&vol, "\\WINNT\\Help", &mut pages);
    assert_eq!(pages.len(), 48, "{:?}", pages.keys().collect::<Vec<_>>());
    for i in 0..48 {
        let path = format!("\\WINNT\\Help\\{i:02} IIS help topic.htm");
        let want = format!("<html><body>IIS 4 help topic {i}</body></html>\r\n");
        assert_eq!(
            pages.get(&path).map(Vec::as_slice),
            Some(want.as_bytes()),
            "{path}"
        );
    }
    // The VCNs really are in 512-byte units: INDX blocks of the image whose
    // VCN field is 8 or 16 exist (no other directory needs three blocks).
    let bytes = std::fs::read(common::testdata().join(name)).unwrap();
    let vcns: Vec<i64> = bytes
        .chunks(4096)
        .filter(|b| b.starts_with(b"INDX"))
        .map(|b| i64::from_le_bytes(b[0x10..0x18].try_into().unwrap()))
        .collect();
    assert!(vcns.contains(&8) && vcns.contains(&16), "{vcns:?}");
}

/// Why `fs/ntfs/index.rs` reads `$INDEX_ALLOCATION` flat instead of through
/// the ntfs crate's B-tree walk: the crate (0.4.0) turns a subnode VCN into
/// a byte offset by multiplying it by the cluster size, where NTFS counts
/// 512-byte units whenever a cluster is larger than an index block. On the
/// 8 KiB-cluster image the crate's walk of `\WINNT\Help` fails, while ours
/// (above) lists all 48 pages. Pinned so that a crate upgrade that changes
/// this is noticed.
#[test]
fn the_ntfs_crate_walk_misreads_sector_unit_index_vcns() {
    use ntfs::indexes::NtfsFileNameIndex;
    let path = common::testdata().join("nt4-iis4-kb291589-ntfs12-8k.img");
    let mut f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut fs = ntfs::Ntfs::new(&mut f).unwrap();
    fs.read_upcase_table(&mut f).unwrap();
    let mut dir = fs.root_directory(&mut f).unwrap();
    for name in ["WINNT", "Help"] {
        let index = dir.directory_index(&mut f).unwrap();
        let mut finder = index.finder();
        let entry = NtfsFileNameIndex::find(&mut finder, &fs, &mut f, name)
            .unwrap_or_else(|| panic!("{name} not found"))
            .unwrap();
        dir = entry.to_file(&fs, &mut f).unwrap();
    }
    let index = dir.directory_index(&mut f).unwrap();
    let mut entries = index.entries();
    let (mut seen, mut error) = (0, None);
    while let Some(e) = entries.next(&mut f) {
        match e {
            Ok(_) => seen += 1,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    eprintln!("ntfs crate: {seen} entries of \\WINNT\\Help, then {error:?}");
    assert!(
        error.as_deref().is_some_and(|e| e.contains("VCN")),
        "the crate walked {seen} entries without the VCN error: {error:?}"
    );
}
