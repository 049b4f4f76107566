#![no_main]

//! `DISK\Information`, `MountedDevices` values and boot.ini text: the first
//! byte picks the decoder (see `harness::run_letters`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    verskew_fuzz::guard(|| {
        verskew_fuzz::harness::run_letters(data);
    });
});
