//! What each update recorded it installed: Windows 2000/XP/2003's
//! `SOFTWARE\Microsoft\Updates\<product>\<service pack>\<update>` keys and
//! their `Filelist\<n>` subkeys (one per file: `FileName`, `Version`,
//! `Location`, `BuildDate`), the records Qfecheck (KB 282784) compared with
//! the files on disk. A record is evidence, not the truth: the file's own
//! version resource is (KB 888535).
//!
//! Every count and string is capped; a value of the wrong type is reported
//! as unreadable under its key path, never taken as absent.

use chrono::NaiveDate;

use crate::pe::Version;
use crate::registry::{Hive, Key, ValueData, Walk};
use crate::time::FileTime;
use crate::Unreadable;

/// Update records read per install (Windows 2000 SP4 with every rollup has a
/// few hundred).
pub const MAX_UPDATES: usize = 4096;
/// Product keys (`Windows 2000`, `Windows XP`, `DataAccess`, …) read.
pub const MAX_PRODUCTS: usize = 256;
/// `Filelist` entries read per update.
pub const MAX_FILES: usize = 1024;
/// Keys visited below the `Updates` key in all.
pub const MAX_KEYS: usize = 200_000;
/// Files the records list that the loader looks up and reads, in all.
pub const MAX_RECORDED_FILES: usize = 8192;
/// Characters kept of a string value; longer ones are cut and said.
pub const MAX_TEXT: usize = 512;

/// One update's record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateRecord {
    /// `Q301625`, `KB891861`, `Update Rollup 1`: the key's name.
    pub id: String,
    /// The product key (`Windows 2000`).
    pub product: String,
    /// The service-pack key between product and update (`SP3`), if any.
    pub pack: Option<String>,
    /// The record's key, the hive's name first (`SOFTWARE\Microsoft\Updates\…`);
    /// what could not be read in it is said under the hive file's path.
    pub key: String,
    pub description: Option<String>,
    pub installed_by: Option<String>,
    /// `InstalledDate` as stored (`8/20/2001`).
    pub installed_date: Option<String>,
    /// `InstalledDate` read as a day (month/day/year, or `yyyymmdd`),
    /// midnight UTC.
    pub installed_day: Option<FileTime>,
    /// `Type` (`Update`, `Hotfix`, `Security Update`).
    pub kind: Option<String>,
    /// When the record's key was last written.
    pub last_written: Option<FileTime>,
    /// A `Filelist` subkey exists.
    pub file_list: bool,
    pub files: Vec<UpdateFile>,
}

/// One `Filelist\<n>` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateFile {
    /// The subkey's name (`0`, `1`, …).
    pub entry: String,
    pub name: Option<String>,
    /// `Version` as stored.
    pub version_string: Option<String>,
    /// `Version` read as four numbers.
    pub version: Option<Version>,
    /// `Location` as stored (`%windir%\system32\inetsrv`).
    pub location: Option<String>,
    pub build_date: Option<String>,
    /// Where the file is, from the volume root (with its drive letter on
    /// another volume), when `Location` names a folder.
    pub path: Option<String>,
}

/// When an update was installed, as far as its record tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallTime {
    pub at: FileTime,
    /// To the second (the key's last-written time on the recorded day, or
    /// the key's time where no day is recorded); false: the day only.
    pub precise: bool,
}

impl UpdateRecord {
    /// The install time: the recorded day, made precise by the key's
    /// last-written time when that falls on the same day; the key's time
    /// alone when no day is recorded.
    pub fn install_time(&self) -> Option<InstallTime> {
        const DAY: u64 = 86_400 * 10_000_000;
        match (self.installed_day, self.last_written) {
            (Some(day), Some(w)) if w.0 >= day.0 && w.0 - day.0 < DAY => Some(InstallTime {
                at: w,
                precise: true,
            }),
            (Some(day), _) => Some(InstallTime {
                at: day,
                precise: false,
            }),
            (None, Some(w)) => Some(InstallTime {
                at: w,
                precise: true,
            }),
            (None, None) => None,
        }
    }

    /// "Q301625 (Windows 2000 SP3)".
    pub fn label(&self) -> String {
        match &self.pack {
            Some(p) => format!("{} ({} {p})", self.id, self.product),
            None => format!("{} ({})", self.id, self.product),
        }
    }
}

/// Reads every update record below `root` (`Microsoft\Updates`) of the
/// SOFTWARE hive. An absent key gives none. (Public for the fuzz harness;
/// the loader calls it through the `Scope`.)
pub fn read(sw: &Hive, root: &str, unreadable: &mut Vec<Unreadable>) -> Vec<UpdateRecord> {
    let hive = sw.name().to_string();
    let depth = root.split('\\').filter(|p| !p.is_empty()).count();
    let mut records: Vec<UpdateRecord> = Vec::new();
    // Records seen, kept or not (the cap is said once).
    let mut seen = 0usize;
    let mut products = 0usize;
    let mut keys = 0usize;
    let mut notes: Vec<Unreadable> = Vec::new();
    // Said unreadable by the hive's path, as every registry item is; the
    // records name their key from the hive's own name (`SOFTWARE\…`).
    let full = |path: &str| format!(r"{hive}\{path}");
    let short_hive = hive.rsplit('\\').next().unwrap_or_default().to_string();
    let short = |path: &str| format!(r"{short_hive}\{path}");
    let walked = sw.walk(root, 5, &mut |k: &Key| {
        keys += 1;
        if keys > MAX_KEYS {
            notes.push(Unreadable::new(
                &full(root),
                format!("more than {MAX_KEYS} keys below it; the rest was not read"),
            ));
            return Walk::Stop;
        }
        for w in &k.warnings {
            notes.push(Unreadable::new(&full(&k.path), w));
        }
        let parts: Vec<&str> = k.path.split('\\').skip(depth).collect();
        match parts.as_slice() {
            [] => Walk::Descend,
            [_product] => {
                products += 1;
                if products > MAX_PRODUCTS {
                    if products == MAX_PRODUCTS + 1 {
                        notes.push(Unreadable::new(
                            &full(root),
                            format!("more than {MAX_PRODUCTS} products; the rest was not read"),
                        ));
                    }
                    return Walk::Skip;
                }
                Walk::Descend
            }
            // `<product>\<update>` when the product has no service-pack
            // level, else the service-pack key itself.
            [product, _] => {
                if is_record(k) {
                    seen += 1;
                    if let Some(r) =
                        record(k, product, None, &hive, &short_hive, seen - 1, &mut notes)
                    {
                        records.push(r);
                    } else {
                        return Walk::Skip;
                    }
                }
                Walk::Descend
            }
            [product, pack, id] => {
                // Below a record of `<product>\<update>` (its Filelist).
                if let Some(last) = records.last_mut() {
                    if last.pack.is_none() && is_under(&last.key, &short(&k.path)) {
                        if id.eq_ignore_ascii_case("Filelist") {
                            last.file_list = true;
                            return Walk::Descend;
                        }
                        return Walk::Skip;
                    }
                }
                seen += 1;
                if let Some(r) = record(
                    k,
                    product,
                    Some(*pack),
                    &hive,
                    &short_hive,
                    seen - 1,
                    &mut notes,
                ) {
                    records.push(r);
                    return Walk::Descend;
                }
                Walk::Skip
            }
            [.., sub, entry] => {
                let Some(last) = records.last_mut() else {
                    return Walk::Skip;
                };
                if !is_under(&last.key, &short(&k.path)) {
                    return Walk::Skip;
                }
                let parent = k.path.rsplit_once('\\').map_or("", |(p, _)| p);
                let list_key = format!(r"{}\Filelist", last.key);
                if short(&k.path).eq_ignore_ascii_case(&list_key) {
                    last.file_list = true;
                    return Walk::Descend;
                }
                if !(sub.eq_ignore_ascii_case("Filelist")
                    && short(parent).eq_ignore_ascii_case(&list_key))
                {
                    return Walk::Skip;
                }
                if last.files.len() >= MAX_FILES {
                    if last.files.len() == MAX_FILES {
                        notes.push(Unreadable::new(
                            &full(parent),
                            format!("more than {MAX_FILES} entries; the rest was not read"),
                        ));
                        // Said once: the count stays past the cap.
                        last.files.push(UpdateFile::default());
                    }
                    return Walk::Skip;
                }
                let f = file(k, entry, &full(&k.path), &mut notes);
                last.files.push(f);
                Walk::Skip
            }
        }
    });
    if let Err(e) = walked {
        notes.push(Unreadable::new(&full(root), e));
    }
    for r in &mut records {
        // The marker entry pushed past the cap holds nothing.
        r.files.retain(|f| !f.entry.is_empty());
        r.files
            .sort_by(|a, b| entry_order(&a.entry).cmp(&entry_order(&b.entry)));
    }
    records.sort_by(|a, b| (&a.product, &a.pack, &a.id).cmp(&(&b.product, &b.pack, &b.id)));
    unreadable.extend(notes);
    records
}

/// Filelist entries in numeric order (`2` before `10`), others after.
fn entry_order(e: &str) -> (u64, &str) {
    (e.parse().unwrap_or(u64::MAX), e)
}

fn is_under(parent: &str, path: &str) -> bool {
    path.len() > parent.len()
        && path.as_bytes()[parent.len()] == b'\\'
        && path
            .get(..parent.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(parent))
}

/// A key that records an update itself rather than a level above one.
fn is_record(k: &Key) -> bool {
    k.has_subkey("Filelist")
        || ["InstalledDate", "InstalledBy", "Description", "Type"]
            .iter()
            .any(|v| k.value(v).is_some())
}

fn record(
    k: &Key,
    product: &str,
    pack: Option<&str>,
    hive: &str,
    short_hive: &str,
    count: usize,
    notes: &mut Vec<Unreadable>,
) -> Option<UpdateRecord> {
    if count >= MAX_UPDATES {
        // Said once, by the first record past the cap.
        if count == MAX_UPDATES {
            notes.push(Unreadable::new(
                &format!(r"{hive}\{}", k.path),
                format!(
                    "more than {MAX_UPDATES} update records; this one and the rest were not read"
                ),
            ));
        }
        return None;
    }
    let key = format!(r"{short_hive}\{}", k.path);
    let said = format!(r"{hive}\{}", k.path);
    let mut text = |name: &str| text(k, name, &said, notes);
    let installed_date = text("InstalledDate");
    let installed_day = installed_date.as_deref().and_then(parse_day);
    Some(UpdateRecord {
        id: cut(k.name()),
        product: cut(product),
        pack: pack.map(cut),
        description: text("Description"),
        installed_by: text("InstalledBy"),
        installed_date,
        installed_day,
        kind: text("Type"),
        last_written: k.last_written,
        file_list: k.has_subkey("Filelist"),
        files: Vec::new(),
        key,
    })
}

fn file(k: &Key, entry: &str, key: &str, notes: &mut Vec<Unreadable>) -> UpdateFile {
    let mut text = |name: &str| text(k, name, key, notes);
    let name = text("FileName");
    let version_string = text("Version");
    let location = text("Location");
    let build_date = text("BuildDate");
    if name.is_none() && k.value("FileName").is_none() {
        notes.push(Unreadable::new(key, "no FileName: the entry names no file"));
    }
    let version = version_string.as_deref().and_then(strict_version);
    if let (Some(v), None) = (&version_string, version) {
        notes.push(Unreadable::new(
            &format!(r"{key}\Version"),
            format!("'{v}' is not a version of four numbers"),
        ));
    }
    UpdateFile {
        entry: cut(entry),
        name,
        version_string,
        version,
        location,
        build_date,
        path: None,
    }
}

/// A string value, cut to [`MAX_TEXT`] characters; a value of another type
/// is said, never read as absent.
fn text(k: &Key, name: &str, key: &str, notes: &mut Vec<Unreadable>) -> Option<String> {
    let data = k.data(name)?;
    let s = match data {
        ValueData::String(s) | ValueData::ExpandString(s) => s.trim_end_matches('\0').to_string(),
        other => {
            notes.push(Unreadable::new(
                &format!(r"{key}\{name}"),
                format!("not a string ({})", other.type_name()),
            ));
            return None;
        }
    };
    if s.chars().count() > MAX_TEXT {
        notes.push(Unreadable::new(
            &format!(r"{key}\{name}"),
            format!("longer than {MAX_TEXT} characters; cut"),
        ));
    }
    Some(cut(&s))
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_TEXT).collect()
}

/// `5.0.2195.4051`, `5.00.2195.4051`: four dotted numbers, each below 65536.
fn strict_version(s: &str) -> Option<Version> {
    let s = s.trim();
    let parts: Vec<&str> = s.split('.').collect();
    let ok = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Version::parse(s)
    } else {
        None
    }
}

/// `8/20/2001` (month/day/year, as Update.exe writes it, KB 888535) or
/// `20010820`, as midnight UTC of that day.
fn parse_day(s: &str) -> Option<FileTime> {
    let s = s.trim();
    let date = NaiveDate::parse_from_str(s, "%m/%d/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()?;
    let secs = date.and_hms_opt(0, 0, 0)?.and_utc().timestamp();
    let ticks = i128::from(secs) * 10_000_000 + 116_444_736_000_000_000;
    FileTime::new(u64::try_from(ticks).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_versions() {
        assert_eq!(
            parse_day("8/20/2001").map(|t| t.to_string()),
            Some("2001-08-20T00:00:00Z".into())
        );
        assert_eq!(
            parse_day("20010820").map(|t| t.to_string()),
            Some("2001-08-20T00:00:00Z".into())
        );
        assert_eq!(parse_day("yesterday"), None);
        assert_eq!(parse_day("13/45/2001"), None);
        assert!(strict_version("5.00.2195.4051").is_some());
        assert!(strict_version("5.0.2195").is_none());
        assert!(strict_version("5.0.2195.99999").is_none());
        assert!(strict_version("5.0.2195.4051 (SP3)").is_none());
    }

    #[test]
    fn install_time_prefers_the_key_time_on_the_recorded_day() {
        let day = parse_day("8/20/2001").unwrap();
        let mut r = UpdateRecord {
            installed_day: Some(day),
            last_written: Some(FileTime(day.0 + 3600 * 10_000_000)),
            ..UpdateRecord::default()
        };
        assert!(r.install_time().unwrap().precise);
        r.last_written = Some(FileTime(day.0 + 40 * 86_400 * 10_000_000));
        assert_eq!(
            r.install_time(),
            Some(InstallTime {
                at: day,
                precise: false
            })
        );
    }

    fn leak(s: String) -> &'static str {
        Box::leak(s.into_boxed_str())
    }

    /// A SOFTWARE hive with `Microsoft\Updates` holding `products`.
    fn hive(products: Vec<crate::registry::tests::Node>) -> Hive {
        use crate::registry::tests::{build_hive, node};
        let updates = node("Updates", vec![], products);
        let ms = node("Microsoft", vec![], vec![updates]);
        Hive::from_bytes("SOFTWARE", build_hive(5, &node("ROOT", vec![], vec![ms]))).unwrap()
    }

    #[test]
    fn records_at_both_depths_with_their_files() {
        use crate::registry::tests::{dword, node, sz};
        let entry = |i: usize, name: &str, v: &str| {
            node(
                leak(i.to_string()),
                vec![
                    sz("FileName", name),
                    sz("Version", v),
                    sz("Location", r"%windir%\system32\inetsrv"),
                ],
                vec![],
            )
        };
        let list = node(
            "Filelist",
            vec![],
            (0..12)
                .map(|i| entry(i, &format!("f{i}.dll"), "5.0.2195.4051"))
                .collect(),
        );
        let q = node(
            "Q301625",
            vec![sz("InstalledDate", "8/20/2001"), dword("Type", 1)],
            vec![list],
        );
        let w2k = node("Windows 2000", vec![], vec![node("SP3", vec![], vec![q])]);
        let flat = node(
            "Q832483",
            vec![sz("Description", "MDAC")],
            vec![node(
                "Filelist",
                vec![],
                vec![entry(0, "msado15.dll", "2.53.6200.0")],
            )],
        );
        let mdac = node("DataAccess", vec![], vec![flat]);
        let mut lost = Vec::new();
        let r = read(&hive(vec![mdac, w2k]), r"Microsoft\Updates", &mut lost);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!((r[0].id.as_str(), r[0].pack.as_deref()), ("Q832483", None));
        assert_eq!(r[0].files.len(), 1);
        assert_eq!(r[1].label(), "Q301625 (Windows 2000 SP3)");
        assert!(r[1].file_list);
        let names: Vec<&str> = r[1]
            .files
            .iter()
            .filter_map(|f| f.name.as_deref())
            .collect();
        assert_eq!(names[..3], ["f0.dll", "f1.dll", "f2.dll"]);
        assert_eq!(names[11], "f11.dll");
        assert_eq!(r[1].kind, None);
        assert_eq!(lost.len(), 1, "{lost:?}");
        assert_eq!(
            lost[0].path,
            r"SOFTWARE\Microsoft\Updates\Windows 2000\SP3\Q301625\Type"
        );
        assert_eq!(lost[0].reason, "not a string (REG_DWORD)");
    }

    #[test]
    fn counts_past_the_caps_are_cut_and_said_once() {
        use crate::registry::tests::{node, sz};
        let list = node(
            "Filelist",
            vec![],
            (0..MAX_FILES + 6)
                .map(|i| node(leak(i.to_string()), vec![sz("FileName", "x.dll")], vec![]))
                .collect(),
        );
        let q = node("Q1", vec![sz("Description", "many")], vec![list]);
        let mut products = vec![node("A first", vec![], vec![node("SP1", vec![], vec![q])])];
        products
            .extend((0..MAX_PRODUCTS + 3).map(|i| node(leak(format!("P{i:04}")), vec![], vec![])));
        let mut lost = Vec::new();
        let r = read(&hive(products), r"Microsoft\Updates", &mut lost);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].files.len(), MAX_FILES);
        let said: Vec<&str> = lost.iter().map(|u| u.reason.as_str()).collect();
        assert_eq!(
            said,
            [
                format!("more than {MAX_FILES} entries; the rest was not read"),
                format!("more than {MAX_PRODUCTS} products; the rest was not read"),
            ],
            "{lost:?}"
        );
    }

    #[test]
    fn an_absent_key_gives_nothing_and_says_nothing() {
        use crate::registry::tests::{build_hive, node};
        let h = Hive::from_bytes("SOFTWARE", build_hive(5, &node("ROOT", vec![], vec![]))).unwrap();
        let mut lost = Vec::new();
        assert!(read(&h, r"Microsoft\Updates", &mut lost).is_empty());
        assert!(lost.is_empty());
    }
}
