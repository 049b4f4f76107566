#![no_main]

//! The whole pipeline (`diagnose_disk`, in memory) on a factory image
//! mutated by the encoded ops (see `ntfs_patch`).

use libfuzzer_sys::fuzz_target;
use verskew_fuzz::harness::run_diagnose_bytes;

fuzz_target!(|data: &[u8]| {
    let Some((_, img)) = verskew_fuzz::mutated_base(data) else {
        return;
    };
    verskew_fuzz::guard(|| {
        run_diagnose_bytes(img);
    });
});
