//! The rules. Each rule is one file: what it is (id, summary, severity,
//! sources, evidence keys) and how it checks an install. [`ALL`] lists them;
//! [`analyse`] runs them in that order. Adding a rule is one file and one
//! line in [`ALL`]; the README's rule table is tested against [`ALL`].
//!
//! Pieces several rules share live in one place each: [`files`] (which files
//! a family or set names, their versions), [`timeline`], [`remedy`], and the
//! evidence types in [`super::evidence`].

mod ancm_handler_missing;
mod behind_service_pack;
mod behind_update;
mod broken_delay_import;
mod broken_import;
mod dirty_hive;
pub(crate) mod files;
mod imports;
mod lockstep;
mod missing_addon_dll;
mod missing_dependency;
mod missing_module;
mod missing_section;
mod missing_service_binary;
mod module_bitness;
mod module_no_register;
mod no_version_resource;
mod not_store_copy;
mod pending_rename;
mod pools;
pub(crate) mod remedy;
#[cfg(test)]
mod tests;
mod timeline;
mod undone_update;
mod wrong_machine;

use super::evidence::Evidence;
use super::knowledge::{Family, Knowledge};
use super::{Finding, Severity};
use crate::windows::Install;

/// What the lockstep rules compared, for reports to draw.
pub use lockstep::{set_states, SetMember, SetState, Standing};

/// A check over one install.
pub trait Rule: Sync {
    /// Stable id, as findings (JSON `rule`) and the README name it.
    fn id(&self) -> &'static str;
    /// One line: when the rule fires.
    fn summary(&self) -> &'static str;
    /// The severity of a finding no further fact changes.
    fn default_severity(&self) -> Severity;
    /// Every severity the rule can report, lowest first. A rule that lowers
    /// its severity when a fact explains the finding lists both.
    fn severities(&self) -> Vec<Severity> {
        vec![self.default_severity()]
    }
    /// Public sources (KB articles) the rule rests on. Findings add the
    /// sources of the knowledge entries they used.
    fn references(&self) -> &'static [&'static str];
    /// The evidence keys the rule adds to [`super::evidence::BASE_KEYS`].
    fn evidence_keys(&self) -> &'static [&'static str];
    /// The findings for one install.
    fn check(&self, cx: &Context) -> Vec<Finding>;
}

/// Every rule, in the order they run.
pub static ALL: &[&dyn Rule] = &[
    &lockstep::LockstepMismatch,
    &lockstep::LockstepNewer,
    &behind_service_pack::BehindServicePack,
    &behind_update::BehindUpdate,
    &undone_update::UndoneUpdate,
    &missing_service_binary::MissingServiceBinary,
    &missing_addon_dll::MissingAddonDll,
    &missing_module::MissingModule,
    &module_bitness::ModuleBitness,
    &module_no_register::ModuleNoRegister,
    &missing_section::MissingSection,
    &ancm_handler_missing::AncmHandlerMissing,
    &no_version_resource::NoVersionResource,
    &not_store_copy::NotStoreCopy,
    &dirty_hive::DirtyHive,
    &pending_rename::PendingRename,
    &broken_import::BrokenImport,
    &missing_dependency::MissingDependency,
    &wrong_machine::WrongMachine,
    &broken_delay_import::BrokenDelayImport,
];

/// What a rule checks: one install, the knowledge, and the families that
/// apply to the install (worked out once for all rules).
pub struct Context<'a> {
    pub install: &'a Install,
    pub knowledge: &'a Knowledge,
    pub families: Vec<&'a Family>,
}

impl<'a> Context<'a> {
    pub fn new(install: &'a Install, knowledge: &'a Knowledge) -> Context<'a> {
        let families = knowledge
            .family
            .iter()
            .filter(|f| files::family_applies(install, f))
            .collect();
        Context {
            install,
            knowledge,
            families,
        }
    }

    /// A finding of `rule` on this install at the rule's default severity,
    /// with base evidence; the rule fills in the rest.
    fn finding<R: Rule + ?Sized>(&self, rule: &R) -> Finding {
        Finding {
            rule: rule.id().into(),
            severity: rule.default_severity(),
            install: self.install.system_root.clone(),
            volume: self.install.volume,
            paths: Vec::new(),
            message: String::new(),
            evidence: Evidence::base(self.install),
            remedy: String::new(),
            references: Vec::new(),
        }
    }

    /// The remedy wording for this install (see [`remedy::remedy`]).
    fn remedy(&self) -> String {
        remedy::remedy(self.install, self.knowledge)
    }
}

/// All findings for one install, sorted (most severe first, then by rule and path).
pub fn analyse(install: &Install, knowledge: &Knowledge) -> Vec<Finding> {
    let cx = Context::new(install, knowledge);
    let mut out: Vec<Finding> = ALL.iter().flat_map(|r| r.check(&cx)).collect();
    out.sort_by(|a, b| (b.severity, &a.rule, &a.paths).cmp(&(a.severity, &b.rule, &b.paths)));
    out
}

/// Drops repeated references, keeping the first of each.
fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
}
