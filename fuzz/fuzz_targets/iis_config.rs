#![no_main]

//! `applicationHost.config` and `redirection.config` bytes (see
//! `harness::run_iis_config`).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    verskew_fuzz::guard(|| {
        verskew_fuzz::harness::run_iis_config(data);
    });
});
