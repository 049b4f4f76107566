#![no_main]

//! Structure-aware: the input is a list of mutations (bit flips, absurd
//! values, truncation, self-pointing index entries) aimed at the MFT records,
//! INDX blocks, hive bins, version resources, boot sector and partition table
//! of a factory image; the volume layer then finds the NTFS volume and it is
//! walked and read.

use libfuzzer_sys::fuzz_target;
use verskew::fs;
use verskew::volume::{self, Filesystem};
use verskew_fuzz::harness::{exercise_volume, MemDisk};

fuzz_target!(|data: &[u8]| {
    let Some((pick, img)) = verskew_fuzz::mutated_base(data) else {
        return;
    };
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
            if let Ok(vol) = fs::open(&disk, p) {
                exercise_volume(vol.as_ref());
            }
        }
    });
});
