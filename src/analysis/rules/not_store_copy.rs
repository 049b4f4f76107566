//! not-store-copy: a live IIS file (Vista and later) that is not the
//! component store's copy of the newest component holding it. Error when
//! its bytes disagree with the newest component's manifest digest or its
//! version with the component's; warning when the version agrees but it is
//! a separate file rather than the store's hard link, and when it is the
//! store's copy of an older component (servicing may project another branch
//! than the newest version's). Files the store does
//! not hold, and files nothing could decide, are no finding (the store
//! check lists them).

use super::{Context, Rule};
use crate::analysis::evidence::{FileEvidence, StoreEvidence};
use crate::analysis::{Finding, Severity};
use crate::windows::store::{Link, Manifest, StoreFile, Verdict};

pub struct NotStoreCopy;

impl Rule for NotStoreCopy {
    fn id(&self) -> &'static str {
        "not-store-copy"
    }
    fn summary(&self) -> &'static str {
        "a live IIS file (Vista and later) is not the component store's copy of its newest component: another hash or version (error), or a separate copy of the same version (warning)"
    }
    fn default_severity(&self) -> Severity {
        Severity::Error
    }
    fn severities(&self) -> Vec<Severity> {
        vec![Severity::Warning, Severity::Error]
    }
    fn references(&self) -> &'static [&'static str] {
        &["KB2795190", "KB929833", "KB947821"]
    }
    fn evidence_keys(&self) -> &'static [&'static str] {
        &["file", "store"]
    }
    fn check(&self, cx: &Context) -> Vec<Finding> {
        let install = cx.install;
        let (Some(k), Some(store)) = (&cx.knowledge.component_store, &install.component_store)
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for sf in &store.files {
            let severity = match sf.verdict {
                Verdict::HashDiffers | Verdict::VersionDiffers => Severity::Error,
                // Servicing projected it, but not the newest version the
                // store holds: another branch (GDR/LDR) or an update not yet
                // finished can explain that, so it is not called an error.
                Verdict::OlderComponent | Verdict::NotLinked => Severity::Warning,
                _ => continue,
            };
            let Some(newest) = sf.newest() else { continue };
            let file = install.files.iter().find(|f| f.path == sf.path);
            let mut f = cx.finding(self);
            f.severity = severity;
            let mut facts = Vec::new();
            if let Some(Manifest::Hash {
                algorithm,
                digest,
                file_digest: Ok(ours),
            }) = &sf.manifest
            {
                if sf.verdict == Verdict::HashDiffers {
                    facts.push(format!(
                        "its {} is {ours}, the component's manifest gives {digest}",
                        digest_name(algorithm)
                    ));
                } else {
                    facts.push(format!(
                        "its {} matches the component's manifest",
                        digest_name(algorithm)
                    ));
                }
            }
            if let Some(v) = sf.file_version {
                facts.push(format!(
                    "its version is {v}, the component's {}",
                    newest.version
                ));
            }
            facts.push(match &sf.link {
                Link::Newest => "it is the component's copy (same MFT record)".to_string(),
                Link::Older(c) => format!("it is the copy of the older component {c}"),
                Link::NotLinked => {
                    "it is a separate file, not a hard link to the component's copy".to_string()
                }
                Link::NotApplicable => "hard links do not apply on this filesystem".to_string(),
            });
            if matches!(sf.manifest, Some(Manifest::Compressed)) {
                facts.push(
                    "the manifest is delta-compressed (Windows 8 and later) and was not read"
                        .to_string(),
                );
            }
            let what = match sf.verdict {
                Verdict::HashDiffers => "its bytes are not what the component store holds",
                Verdict::VersionDiffers => "it is not at the version of the newest component",
                Verdict::OlderComponent => {
                    "it is the store's copy of an older component, not of the newest (servicing projects one branch of a file, GDR or LDR, which the version alone does not tell, so a newer component of another branch can be in the store legitimately)"
                }
                _ => "it is at the component's version but not the store's copy",
            };
            f.message = format!(
                "{} is not the component store's copy of {} ({}): {what}; {} (evidence: {}). {}",
                sf.path,
                newest.folder,
                newest.version,
                facts.join("; "),
                sf.evidence.join(", "),
                k.why
            );
            if !store.pending.is_empty() {
                f.message.push_str(&format!(
                    "; servicing is pending ({}), so the next boot may still change it",
                    store.pending.join("; ")
                ));
            }
            f.paths = vec![sf.path.clone()];
            f.evidence.file = file.map(FileEvidence::of);
            f.evidence.store = Some(evidence(sf, &store.pending));
            let surt = install
                .os
                .version
                .as_ref()
                .is_some_and(|v| k.surt_os.contains(v));
            let drive = install
                .drives
                .iter()
                .find(|d| d.volume == Some(install.volume))
                .map_or("<drive>:".to_string(), |d| format!("{}:", d.letter));
            let remedy = if surt { &k.remedy_surt } else { &k.remedy };
            f.remedy = format!(
                "{}.",
                remedy
                    .replace("{drive}", &drive)
                    .replace("{root}", &install.system_root)
            );
            f.references = k.references.clone();
            out.push(f);
        }
        out
    }
}

/// `sha256` → `SHA-256`, as the algorithm is written for people.
fn digest_name(algorithm: &str) -> &'static str {
    match algorithm {
        "sha1" => "SHA-1",
        _ => "SHA-256",
    }
}

fn evidence(sf: &StoreFile, pending: &[String]) -> StoreEvidence {
    let newest = &sf.components[0];
    let (hash_algorithm, manifest_digest, file_digest) = match &sf.manifest {
        Some(Manifest::Hash {
            algorithm,
            digest,
            file_digest,
        }) => (
            Some(algorithm.to_string()),
            Some(digest.clone()),
            file_digest.as_ref().ok().cloned(),
        ),
        _ => (None, None, None),
    };
    StoreEvidence {
        component: newest.folder.clone(),
        component_version: newest.version,
        components: sf.components.iter().map(|c| c.folder.clone()).collect(),
        evidence: sf.evidence.iter().map(|e| e.to_string()).collect(),
        file_digest,
        hash_algorithm,
        link: sf.link.id().to_string(),
        linked_component: match &sf.link {
            Link::Older(c) => Some(c.clone()),
            _ => None,
        },
        manifest: sf
            .manifest
            .as_ref()
            .map_or("missing", Manifest::id)
            .to_string(),
        manifest_digest,
        pending: pending.to_vec(),
        verdict: sf.verdict.id().to_string(),
    }
}
