//! The timeline evidence: dated events around a file.

use crate::time::FileTime;
use crate::windows::{Install, PeFile};

/// Dated events around a file: service-pack and hotfix folders, hotfix keys,
/// and when the file and its peers were last written. Sorted by time.
pub(super) fn timeline(install: &Install, file: &PeFile, peers: &[&PeFile]) -> Vec<String> {
    // Times are compared as the whole seconds the report shows, so two
    // events a few ticks apart read in the order of their text.
    let mut events: Vec<(FileTime, String)> = Vec::new();
    for m in &install.markers {
        if let Some(t) = m.created {
            events.push((t.whole_seconds(), format!("{} created", m.path)));
        }
    }
    for h in &install.hotfixes {
        if let Some(t) = h.last_written {
            events.push((
                t.whole_seconds(),
                format!(r"Hotfix\{} key last written", h.id),
            ));
        }
    }
    for u in &install.updates {
        if let Some(t) = u.install_time() {
            let when = if t.precise {
                "installed"
            } else {
                "installed that day"
            };
            events.push((
                t.at.whole_seconds(),
                format!(r"Updates record {} {when}", u.label()),
            ));
        }
    }
    if let Some(t) = file.modified {
        events.push((t.whole_seconds(), format!("{} last written", file.path)));
    }
    let mut peer_times: Vec<FileTime> = peers
        .iter()
        .filter_map(|p| p.modified.map(FileTime::whole_seconds))
        .collect();
    peer_times.sort();
    peer_times.dedup();
    for t in peer_times {
        // A name once: a 64-bit OS holds a System32 and a SysWOW64 copy.
        let mut seen = std::collections::HashSet::new();
        let names: Vec<&str> = peers
            .iter()
            .filter(|p| p.modified.map(FileTime::whole_seconds) == Some(t))
            .map(|p| p.name())
            .filter(|n| seen.insert(n.to_ascii_lowercase()))
            .collect();
        events.push((t, format!("{} last written", names.join(", "))));
    }
    events.sort();
    events.dedup();
    events
        .into_iter()
        .map(|(t, e)| format!("{t} {e}"))
        .collect()
}
