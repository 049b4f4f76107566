#![no_main]

//! Our MFT record reader (fixups, attribute walk, data runs), which the
//! census runs on every record of a volume without the ntfs crate.

use libfuzzer_sys::fuzz_target;
use verskew_fuzz::harness::run_mft_record;

fuzz_target!(|data: &[u8]| {
    verskew_fuzz::guard(|| {
        run_mft_record(data);
    });
});
