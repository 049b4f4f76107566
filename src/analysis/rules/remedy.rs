//! The remedy wording: what to reapply, in which order. The OS-specific text
//! is knowledge (`remedy_order`); the hotfix list comes from the registry.

use super::super::knowledge::Knowledge;
use crate::windows::Install;

/// The remedy text for an install: reapply the latest service pack, then the
/// recorded hotfixes in the order they were installed, then the updates only
/// `SOFTWARE\Microsoft\Updates` records.
pub(crate) fn remedy(install: &Install, k: &Knowledge) -> String {
    let os = install.os.version.as_deref().and_then(|v| k.os(v));
    let mut text = match os {
        Some(os) => os.remedy_order.clone(),
        None => "Reapply the latest service pack for this OS, then reapply every hotfix".into(),
    };
    let mut hotfixes: Vec<_> = install.hotfixes.iter().collect();
    hotfixes.sort_by(|a, b| (&a.last_written, &a.id).cmp(&(&b.last_written, &b.id)));
    if !hotfixes.is_empty() {
        let list: Vec<String> = hotfixes
            .iter()
            .map(
                |h| match k.hotfix.iter().find(|x| x.kb.eq_ignore_ascii_case(&h.id)) {
                    Some(x) => format!("{} ({})", h.id, x.title),
                    None => h.id.clone(),
                },
            )
            .collect();
        text.push_str(&format!(
            ". Hotfixes recorded under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Hotfix, in install order: {}",
            list.join(", ")
        ));
    }
    // Updates recorded only under SOFTWARE\Microsoft\Updates (Windows
    // 2000 and later), in the order they were installed.
    let mut updates: Vec<_> = install
        .updates
        .iter()
        .filter(|u| !hotfixes.iter().any(|h| h.id.eq_ignore_ascii_case(&u.id)))
        .collect();
    updates.sort_by_key(|u| (u.install_time().map(|t| t.at), u.id.clone()));
    if !updates.is_empty() {
        let list: Vec<&str> = updates.iter().map(|u| u.id.as_str()).collect();
        text.push_str(&format!(
            ". Updates recorded under HKLM\\SOFTWARE\\Microsoft\\Updates only, in install order: {}",
            list.join(", ")
        ));
    }
    text.push('.');
    text
}

/// `s` with its first letter in lower case, to continue a sentence with it.
pub(super) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
