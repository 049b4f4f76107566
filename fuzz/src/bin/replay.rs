//! Replays saved inputs on stable Rust, without libFuzzer, and says how long
//! each took: `cargo run --release --no-default-features --bin replay -- <target> <file>...`
//! (targets as in fuzz_targets/; `diagnose` and `ntfs_patch` take encoded ops).

use std::time::Instant;

use verskew_fuzz::harness::{self, apply_encoded, MemDisk};

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: replay <target> <file>...");
    for file in args {
        let data = std::fs::read(&file).unwrap();
        let t = Instant::now();
        let path = std::path::PathBuf::from(&file);
        match target.as_str() {
            "volume" => {
                harness::run_volume(&data);
            }
            "ntfs" => {
                harness::run_ntfs(&data, true);
            }
            "zip_collection" => {
                harness::run_zip_collection(&data);
            }
            "fat" => {
                harness::run_fat(&data, true);
            }
            "index" => {
                harness::run_index(&data);
            }
            "lznt1" => {
                harness::run_lznt1(&data);
            }
            "xpress" => {
                harness::run_xpress(&data);
            }
            "lzx" => {
                harness::run_lzx(&data);
            }
            "hive" => {
                harness::run_hive(&data);
            }
            "letters" => {
                harness::run_letters(&data);
            }
            "iis_config" => {
                harness::run_iis_config(&data);
            }
            "store_manifest" => {
                harness::run_store_manifest(&data);
            }
            "hive_log" => {
                harness::run_hive_log(&data);
            }
            "pe" => {
                harness::run_pe(&data);
            }
            "image_open" => {
                harness::run_image_file(&path);
            }
            "diagnose" | "ntfs_patch" => {
                let (&pick, ops) = data.split_first().unwrap();
                let bases = verskew_fuzz::bases();
                let base = &bases[usize::from(pick) % bases.len()];
                let mut img = base.bytes.clone();
                apply_encoded(&mut img, &base.landmarks, ops);
                if target == "diagnose" {
                    let p = verskew_fuzz::scratch("replay.img");
                    std::fs::write(&p, &img).unwrap();
                    println!("{:?}", harness::run_diagnose(&p));
                } else {
                    let disk = MemDisk::new(img, pick & 0x80 == 0);
                    for p in verskew::volume::find_partitions(&disk).unwrap_or_default() {
                        if let Ok(v) = verskew::fs::NtfsVolume::open(&disk, p.offset, p.size) {
                            harness::exercise_volume(&v);
                        }
                    }
                }
            }
            t => panic!("unknown target {t}"),
        }
        println!("{file}: {:?}", t.elapsed());
    }
}
