#![no_main]

//! The whole pipeline (`diagnose_disk`, in memory) on a factory image
//! mutated by the encoded ops (see `ntfs_patch`).

use libfuzzer_sys::fuzz_target;
use verskew_fuzz::harness::{apply_encoded, run_diagnose_bytes};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, ops)) = data.split_first() else {
        return;
    };
    let bases = verskew_fuzz::bases();
    let base = &bases[usize::from(pick) % bases.len()];
    let mut img = base.bytes.clone();
    apply_encoded(&mut img, &base.landmarks, ops);
    verskew_fuzz::guard(|| {
        run_diagnose_bytes(img);
    });
});
