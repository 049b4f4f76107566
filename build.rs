//! The built-in knowledge (knowledge/*.toml) turned into JSON once, at build
//! time: parsing TOML took most of a diagnosis's start-up (0.39 ms of the
//! seed image's 0.55 ms, benches/RESULTS.md), and serde_json reads the same
//! values several times faster. The TOML stays the source (reviewed, with its
//! public sources); `--rules` files are still TOML, parsed at run time.

use std::path::PathBuf;

/// In merge order, as `Knowledge::builtin` applies them.
const FILES: &[&str] = &[
    "iis.toml",
    "iis4-hotfixes.toml",
    "iis5-updates.toml",
    "iis7.toml",
    "loader.toml",
];

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut list = String::from("&[\n");
    for name in FILES {
        let path = format!("knowledge/{name}");
        println!("cargo:rerun-if-changed={path}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // A syntax error fails the build here; a shape error fails the unit
        // test that parses every built-in file.
        let value: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json = serde_json::to_string(&value).expect("TOML values are JSON values");
        let file = name.replace(".toml", ".json");
        std::fs::write(out.join(&file), json).expect("OUT_DIR is writable");
        list.push_str(&format!(
            "    ({path:?}, include_str!(concat!(env!(\"OUT_DIR\"), \"/{file}\"))),\n"
        ));
    }
    list.push(']');
    std::fs::write(out.join("knowledge.rs"), list).expect("OUT_DIR is writable");
}
