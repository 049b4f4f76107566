#![no_main]

//! Structure-aware: the input is a list of mutations (bit flips, absurd
//! values, truncation, self-pointing index entries) aimed at the MFT records,
//! INDX blocks, hive bins, version resources, boot sector and partition table
//! of a factory image; the volume layer then finds the NTFS volume and it is
//! walked and read.

use libfuzzer_sys::fuzz_target;
use verskew::fs::NtfsVolume;
use verskew::volume::{self, Filesystem};
use verskew_fuzz::harness::{apply_encoded, exercise_volume, MemDisk};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, ops)) = data.split_first() else {
        return;
    };
    let bases = verskew_fuzz::bases();
    let base = &bases[usize::from(pick) % bases.len()];
    let mut img = base.bytes.clone();
    apply_encoded(&mut img, &base.landmarks, ops);
    verskew_fuzz::guard(|| {
        let disk = MemDisk::new(img, pick & 0x80 == 0);
        let Ok(parts) = volume::find_partitions(&disk) else {
            return;
        };
        for p in parts
            .iter()
            .filter(|p| p.filesystem == Some(Filesystem::Ntfs))
            .take(4)
        {
            if let Ok(vol) = NtfsVolume::open(&disk, p.offset, p.size) {
                exercise_volume(&vol);
            }
        }
    });
});
