//! module-bitness: a global module or ISAPI filter image of the other
//! bitness than a worker process that loads it: a 32-bit DLL in a 64-bit
//! pool or the reverse. LoadLibrary fails with error 193 (0x800700C1), the
//! worker logs event 2280 and rapid-fail protection stops the pool.

use super::pools::{evidence, loading_pools, pools_phrase, what};
use super::{Context, Rule};
use crate::analysis::evidence::FileEvidence;
use crate::analysis::{Finding, Severity};

pub struct ModuleBitness;

/// The bitness of code for a COFF machine; `None` for a machine that is
/// neither (or not known).
fn machine_bits(machine: u16) -> Option<u32> {
    match machine {
        0x014c => Some(32),
        0x8664 | 0xaa64 | 0x0200 | 0xa641 => Some(64),
        _ => None,
    }
}

impl Rule for ModuleBitness {
    fn id(&self) -> &'static str {
        "module-bitness"
    }
    fn summary(&self) -> &'static str {
        "an IIS 7+ global module or ISAPI filter image is not of the bitness of a worker process that loads it (error 193)"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn references(&self) -> &'static [&'static str] {
        &["cc735035"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file", "module"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let Some(k) = &cx.knowledge.modules else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for image in &install.iis_images {
            let Some(found) = image.binary.as_ref().and_then(|b| b.found.as_ref()) else {
                continue;
            };
            let Some(file) = install.files.iter().find(|f| &f.path == found) else {
                continue;
            };
            let Some(machine) = file.machine else {
                continue;
            };
            let Some(have) = machine_bits(machine) else {
                continue;
            };
            if have == image.bits {
                continue;
            }
            let pools = loading_pools(install, image);
            if pools.is_empty() {
                continue;
            }
            let want = image.bits.to_string();
            let fill = |t: &str| {
                t.replace("{image}", found)
                    .replace("{name}", &image.name)
                    .replace("{want}", &want)
                    .replace("{have}", &have.to_string())
            };
            let mut f = cx.finding(self);
            f.message = format!(
                "the {} '{}' ({}) resolves for the {}-bit worker of {} to {}, a {}-bit image: {}",
                what(image),
                image.name,
                image.image,
                image.bits,
                pools_phrase(&pools),
                found,
                have,
                fill(&k.bitness)
            );
            f.paths = vec![found.clone()];
            f.evidence.file = Some(FileEvidence::of(file));
            f.evidence.module = Some(evidence(install, image, found, Some(machine), pools));
            f.remedy = format!("{}.", fill(&k.remedy_bitness));
            f.references = k.references.clone();
            out.push(f);
        }
        out
    }
}
