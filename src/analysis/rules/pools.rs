//! Which application pools load an image `applicationHost.config` names,
//! shared by the module rules: a pool's worker runs at 64 bits on a 64-bit
//! OS unless `enable32BitAppOnWin64` is set, and loads a module or filter
//! whose `preCondition` admits that worker.

use crate::analysis::evidence::{IisModuleEvidence, PoolEvidence};
use crate::windows::iis_config::{pool_loads, AppPool, IisConfig};
use crate::windows::{Install, ModuleImage};

/// The bitness of a pool's worker process.
pub(super) fn pool_bits(pool: &AppPool, os64: bool) -> u32 {
    if os64 && !pool.enable_32bit {
        64
    } else {
        32
    }
}

/// The pools whose workers load `image` (those of its bitness whose
/// preconditions admit it), each with its applications, sorted by name.
pub(super) fn loading_pools(install: &Install, image: &ModuleImage) -> Vec<PoolEvidence> {
    let os64 = install.os.bits == Some(64);
    pools_where(install, |p| {
        pool_bits(p, os64) == image.bits && pool_loads(&image.pre_condition, p, os64)
    })
}

/// The pools `keep` admits as evidence (applications, worker bitness),
/// sorted by name, one per name.
fn pools_where(install: &Install, keep: impl Fn(&AppPool) -> bool) -> Vec<PoolEvidence> {
    let Some(file) = &install.iis_config else {
        return Vec::new();
    };
    let os64 = install.os.bits == Some(64);
    let mut pools: Vec<PoolEvidence> = file
        .config
        .app_pools
        .iter()
        .filter(|p| keep(p))
        .map(|p| PoolEvidence {
            applications: applications(&file.config, &p.name),
            bits: pool_bits(p, os64),
            name: p.name.clone(),
        })
        .collect();
    pools.sort_by(|a, b| a.name.cmp(&b.name));
    pools.dedup_by(|a, b| a.name == b.name);
    pools
}

/// `site/path` of every application a pool serves, sorted.
pub(super) fn applications(config: &IisConfig, pool: &str) -> Vec<String> {
    let mut apps: Vec<String> = config
        .sites
        .iter()
        .flat_map(|s| {
            s.applications
                .iter()
                .filter(|a| a.pool.eq_ignore_ascii_case(pool))
                .map(move |a| format!("{}{}", s.name, a.path))
        })
        .collect();
    apps.sort();
    apps
}

/// The evidence of one resolved image: `machine` is the found file's.
pub(super) fn evidence(
    install: &Install,
    image: &ModuleImage,
    resolved: &str,
    machine: Option<u16>,
    pools: Vec<PoolEvidence>,
) -> IisModuleEvidence {
    IisModuleEvidence {
        bits: image.bits,
        config: install
            .iis_config
            .as_ref()
            .map(|c| c.path.clone())
            .unwrap_or_default(),
        image: image.image.clone(),
        kind: image.kind.into(),
        machine: machine.map(crate::analysis::evidence::machine),
        name: image.name.clone(),
        pools,
        pre_condition: image.pre_condition.clone(),
        resolved: resolved.to_string(),
    }
}

/// What the configuration calls the image: "global module" or "ISAPI filter".
pub(super) fn what(image: &ModuleImage) -> &'static str {
    match image.kind {
        "filter" => "ISAPI filter",
        _ => "global module",
    }
}

/// "DefaultAppPool (Default Web Site/), Intranet (intranet/)".
pub(super) fn pools_phrase(pools: &[PoolEvidence]) -> String {
    pools
        .iter()
        .map(|p| match p.applications.as_slice() {
            [] => format!("{} (no application)", p.name),
            apps => format!("{} ({})", p.name, apps.join(", ")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The pools named, each with its applications and its worker's bitness,
/// sorted by name; a name no pool has is left out.
pub(super) fn named_pools(install: &Install, names: &[String]) -> Vec<PoolEvidence> {
    pools_where(install, |p| {
        names.iter().any(|n| n.eq_ignore_ascii_case(&p.name))
    })
}
