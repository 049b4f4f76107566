#![no_main]

//! Component store manifests and folder names (see
//! `harness::run_store_manifest`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    verskew_fuzz::guard(|| {
        verskew_fuzz::harness::run_store_manifest(data);
    });
});
