#![no_main]

//! Container openers (raw, EWF, VHD, VHDX, VMDK, qcow2; recognised by
//! content): the input is written to a scratch file, opened with
//! `image::open`, read at several offsets and handed to the volume layer.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = verskew_fuzz::scratch("image.bin");
    std::fs::write(&path, data).unwrap();
    verskew_fuzz::guard(|| verskew_fuzz::harness::run_image_file(&path));
});
