#![no_main]

//! Zip archive bytes as a triage collection (`fs::collection`, `fs::zip`):
//! central directory, drive folders found, each drive's tree built, then a
//! bounded walk, lookups and reads (caps, CRC, bombs).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    verskew_fuzz::guard(|| verskew_fuzz::harness::run_zip_collection(data));
});
