#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    verskew_fuzz::guard(|| verskew_fuzz::harness::run_lznt1_diff(data));
});
