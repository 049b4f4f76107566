#![no_main]

//! Raw FAT12/16/32 volume bytes: open, walk, look up, read. The first byte
//! picks the zero-copy (slice) or positioned-read path and is kept in the
//! volume.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let slice = data.first().is_some_and(|b| b & 1 == 0);
    verskew_fuzz::guard(|| verskew_fuzz::harness::run_fat(data, slice));
});
