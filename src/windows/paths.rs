//! Turning paths as the registry writes them into paths on the volume.

use crate::fs::strip_drive;

/// A path from the registry (`%SystemRoot%\System32\inetsrv\inetinfo.exe`,
/// `C:\WINNT\System32\svchost.exe -k iissvcs`, `\SystemRoot\System32\x.sys`,
/// `"C:\Program Files\x.exe" /s`) as a path from the volume root, arguments
/// dropped. Bare file names (no backslash) come back as they are; `None` for
/// an empty value.
pub fn volume_path(raw: &str, system_root: &str) -> Option<String> {
    let raw = raw.trim().trim_end_matches('\0');
    let path = if let Some(rest) = raw.strip_prefix('"') {
        rest.split('"').next().unwrap_or(rest)
    } else {
        strip_arguments(raw)
    };
    let mut path = path.trim().replace('/', "\\");
    for var in ["%SystemRoot%", "%windir%", "\\SystemRoot"] {
        // `get`, not `[..]`: a hostile value may put a multi-byte character
        // across the prefix's end (tests/regressions/diagnose-hive-multibyte-imagepath).
        if path
            .get(..var.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(var))
        {
            path = format!("{system_root}{}", &path[var.len()..]);
        }
    }
    let path = strip_drive(path.strip_prefix("\\??\\").unwrap_or(&path)).to_string();
    if path.is_empty() {
        return None;
    }
    if path.starts_with('\\') || !path.contains('\\') {
        Some(path)
    } else {
        // `System32\drivers\x.sys`: relative to the system root, as the
        // service control manager reads it.
        Some(format!("{system_root}\\{path}"))
    }
}

/// Cuts command-line arguments after the executable of an unquoted path.
fn strip_arguments(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    for ext in [".exe", ".dll", ".sys", ".cpl", ".ocx"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(ext) {
            let end = from + i + ext.len();
            if end == s.len() || s.as_bytes()[end] == b' ' {
                return &s[..end];
            }
            from = end;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::volume_path;

    #[test]
    fn resolves_registry_paths() {
        let r = "\\WINNT";
        let cases = [
            (
                "%SystemRoot%\\System32\\inetsrv\\inetinfo.exe",
                "\\WINNT\\System32\\inetsrv\\inetinfo.exe",
            ),
            (
                "C:\\WINNT\\System32\\svchost.exe -k iissvcs",
                "\\WINNT\\System32\\svchost.exe",
            ),
            (
                "\\SystemRoot\\System32\\drivers\\spud.sys",
                "\\WINNT\\System32\\drivers\\spud.sys",
            ),
            (
                "System32\\drivers\\spud.sys",
                "\\WINNT\\System32\\drivers\\spud.sys",
            ),
            (
                "\"C:\\Program Files\\Proxy\\w3proxy.exe\" /x",
                "\\Program Files\\Proxy\\w3proxy.exe",
            ),
            (
                "\\??\\C:\\WINNT\\system32\\x.dll",
                "\\WINNT\\system32\\x.dll",
            ),
            ("fscfg.dll", "fscfg.dll"),
            (
                "%windir%\\system32\\inetsrv\\iisw3adm.dll\0",
                "\\WINNT\\system32\\inetsrv\\iisw3adm.dll",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(volume_path(raw, r).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(volume_path("  ", r), None);
        assert_eq!(volume_path("\"", r), None);
    }
}
