//! Import, delay-import and export tables: our own bounded reader.
//!
//! What the Windows loader needs to bind a module: the DLLs it imports and
//! each symbol (by name or by ordinal), the delay-loaded DLLs (bound at the
//! first call, not at load), and what it exports (names → ordinals, ordinals
//! → code or a forwarder `DLL.Name` / `DLL.#N`). PE32 and PE32+, any machine.
//!
//! Every RVA is mapped through the section table (or the headers) and
//! checked against the bytes; counts are capped before anything is
//! allocated ([`MAX_DESCRIPTORS`], [`MAX_THUNKS`], [`MAX_EXPORTS`],
//! [`MAX_NAME`]). Export names are not assumed to be sorted. Nothing here
//! panics on hostile input: a table that cannot be read is an error for the
//! whole file; a part that cannot be read (one descriptor's name, one
//! thunk) is a warning and the rest is kept.

use std::collections::BTreeMap;

use super::headers::{read_headers, Layout};
use super::PeError;
use crate::le::{u16_at, u32_at, u64_at};

/// At most this many import (or delay-import) descriptors are read.
pub const MAX_DESCRIPTORS: usize = 1024;
/// At most this many thunks per imported DLL, and in all for one file.
pub const MAX_THUNKS: usize = 16_384;
/// At most this many functions and names in an export table.
pub const MAX_EXPORTS: usize = 65_536;
/// Longest DLL or symbol name read (bytes, without the NUL).
pub const MAX_NAME: usize = 512;
/// At most this many sections are consulted (the PE format's loader limit).
const MAX_SECTIONS: usize = 96;

const DIR_EXPORT: usize = 0;
const DIR_IMPORT: usize = 1;
const DIR_DELAY: usize = 13;

/// One imported symbol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Symbol {
    /// By name (with the loader's hint into the exporter's name table).
    Name(String),
    /// By ordinal.
    Ordinal(u16),
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Symbol::Name(n) => f.write_str(n),
            Symbol::Ordinal(o) => write!(f, "#{o}"),
        }
    }
}

/// One DLL a module imports from and the symbols it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedDll {
    /// The name as stored (`KERNEL32.dll`).
    pub dll: String,
    pub symbols: Vec<Symbol>,
}

/// What one export ordinal holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportTarget {
    /// Code or data in the module itself, at this RVA.
    Code(u32),
    /// Forwarded to another DLL: `NTDLL.RtlAllocateHeap` or `NTDLL.#12`.
    Forward(String),
}

/// A module's export table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exports {
    /// The DLL's own name as its export directory gives it.
    pub dll_name: Option<String>,
    /// `Base`: the ordinal of the first address-table entry.
    pub base: u32,
    /// Ordinal → target; ordinals with an RVA of 0 are not exported.
    pub by_ordinal: BTreeMap<u32, ExportTarget>,
    /// Name → ordinal (case-sensitive, as the loader compares).
    pub by_name: BTreeMap<String, u32>,
}

impl Exports {
    /// What `symbol` resolves to in this table, if it is exported.
    pub fn find(&self, symbol: &Symbol) -> Option<&ExportTarget> {
        let ordinal = match symbol {
            Symbol::Name(n) => *self.by_name.get(n)?,
            Symbol::Ordinal(o) => u32::from(*o),
        };
        self.by_ordinal.get(&ordinal)
    }
}

/// Splits a forwarder string into the DLL (with `.dll` added) and the symbol.
pub fn parse_forwarder(target: &str) -> Option<(String, Symbol)> {
    let (dll, sym) = target.rsplit_once('.')?;
    if dll.is_empty() || sym.is_empty() {
        return None;
    }
    let dll = if dll.contains('.') {
        dll.to_string()
    } else {
        format!("{dll}.dll")
    };
    let sym = match sym.strip_prefix('#') {
        Some(n) => Symbol::Ordinal(n.parse().ok()?),
        None => Symbol::Name(sym.to_string()),
    };
    Some((dll, sym))
}

/// The import-related tables of one PE image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportTables {
    /// `FileHeader.Machine`.
    pub machine: u16,
    pub pe32_plus: bool,
    pub image_base: u64,
    /// Load-time imports, in descriptor order.
    pub imports: Vec<ImportedDll>,
    /// Delay-load imports (bound at the first call).
    pub delay_imports: Vec<ImportedDll>,
    pub exports: Option<Exports>,
    /// What could not be read of the tables (one entry each), with the
    /// offset or RVA.
    pub warnings: Vec<String>,
}

/// The mapped view of an image: RVA → bytes, through the section table.
struct View<'a> {
    bytes: &'a [u8],
    /// (virtual address, virtual size, raw pointer, raw size)
    sections: Vec<(u32, u32, u32, u32)>,
    headers_size: u32,
}

impl<'a> View<'a> {
    /// The bytes from `rva` to the end of its section's raw data (or the
    /// headers), or `None` when the RVA lands nowhere on disk.
    fn at(&self, rva: u32) -> Option<&'a [u8]> {
        if rva < self.headers_size {
            return self.bytes.get(rva as usize..self.headers_size as usize);
        }
        for &(va, vsize, raw_ptr, raw_size) in &self.sections {
            let span = vsize.max(raw_size);
            if rva >= va && rva - va < span {
                let delta = rva - va;
                if delta >= raw_size {
                    return None;
                }
                let start = (raw_ptr as usize).checked_add(delta as usize)?;
                let end = (raw_ptr as usize)
                    .checked_add(raw_size as usize)?
                    .min(self.bytes.len());
                return self.bytes.get(start..end);
            }
        }
        None
    }

    fn u32(&self, rva: u32) -> Option<u32> {
        u32_at(self.at(rva)?, 0)
    }

    fn u16(&self, rva: u32) -> Option<u16> {
        u16_at(self.at(rva)?, 0)
    }

    fn u64(&self, rva: u32) -> Option<u64> {
        u64_at(self.at(rva)?, 0)
    }

    /// A NUL-terminated name of at most [`MAX_NAME`] bytes, read as
    /// Latin-1-safe text (invalid UTF-8 replaced).
    fn name(&self, rva: u32) -> Result<String, String> {
        let b = self
            .at(rva)
            .ok_or_else(|| format!("name at RVA 0x{rva:x} is not in the file"))?;
        let b = &b[..b.len().min(MAX_NAME + 1)];
        match b.iter().position(|&c| c == 0) {
            Some(n) => Ok(String::from_utf8_lossy(&b[..n]).into_owned()),
            None => Err(format!(
                "name at RVA 0x{rva:x} has no NUL within {MAX_NAME} bytes"
            )),
        }
    }
}

/// Reads the import, delay-import and export tables of a PE image.
pub fn read_imports(bytes: &[u8]) -> Result<ImportTables, PeError> {
    let h = read_headers(bytes)?;
    let layout = Layout::new(bytes, h.nt_offset);
    let oh = layout.optional_header();
    let image_base = if h.is_pe32_plus {
        u64_at(bytes, oh + 24).unwrap_or(0)
    } else {
        u64::from(u32_at(bytes, oh + 28).unwrap_or(0))
    };
    let count_at = oh + if h.is_pe32_plus { 108 } else { 92 };
    let dir_count = u32_at(bytes, count_at).unwrap_or(0) as usize;
    let mut sections = Vec::new();
    for i in 0..layout.sections.min(MAX_SECTIONS) {
        let s = layout.section_table() + 40 * i;
        let (Some(vsize), Some(va), Some(raw_size), Some(raw_ptr)) = (
            u32_at(bytes, s + 8),
            u32_at(bytes, s + 12),
            u32_at(bytes, s + 16),
            u32_at(bytes, s + 20),
        ) else {
            return Err(PeError::BadPe(format!(
                "section table entry {i} at offset 0x{s:x} is past the end of the {}-byte file",
                bytes.len()
            )));
        };
        sections.push((va, vsize, raw_ptr, raw_size));
    }
    let headers_size = layout
        .size_of_headers(bytes)
        .unwrap_or(0)
        .min(bytes.len() as u32);
    let view = View {
        bytes,
        sections,
        headers_size,
    };
    let dd = oh + if h.is_pe32_plus { 112 } else { 96 };
    let dir = |index: usize| -> Option<(u32, u32)> {
        if index >= dir_count.min(16) {
            return None;
        }
        let rva = u32_at(bytes, dd + 8 * index)?;
        let size = u32_at(bytes, dd + 8 * index + 4)?;
        (rva != 0).then_some((rva, size))
    };
    let mut out = ImportTables {
        machine: h.machine,
        pe32_plus: h.is_pe32_plus,
        image_base,
        ..ImportTables::default()
    };
    let mut budget = MAX_THUNKS;
    if let Some((rva, _)) = dir(DIR_IMPORT) {
        out.imports = read_descriptors(&view, rva, h.is_pe32_plus, &mut budget, &mut out.warnings)?;
    }
    if let Some((rva, _)) = dir(DIR_DELAY) {
        out.delay_imports = read_delay(
            &view,
            rva,
            h.is_pe32_plus,
            image_base,
            &mut budget,
            &mut out.warnings,
        )?;
    }
    if let Some((rva, size)) = dir(DIR_EXPORT) {
        out.exports = Some(read_exports(&view, rva, size, &mut out.warnings)?);
    }
    Ok(out)
}

/// Reads the thunks of one imported DLL from `rva` (an import name table or
/// an IAT), VAs turned into RVAs by subtracting `va_base` (0 for RVAs).
fn read_thunks(
    view: &View,
    dll: &str,
    rva: u32,
    pe32_plus: bool,
    va_base: u64,
    budget: &mut usize,
    warnings: &mut Vec<String>,
) -> Vec<Symbol> {
    let mut out = Vec::new();
    let step = if pe32_plus { 8 } else { 4 };
    for i in 0..MAX_THUNKS {
        let Some(at) = rva.checked_add((i * step) as u32) else {
            break;
        };
        let raw = if pe32_plus {
            view.u64(at)
        } else {
            view.u32(at).map(u64::from)
        };
        let Some(raw) = raw else {
            warnings.push(format!(
                "{dll}: thunk {i} at RVA 0x{at:x} is not in the file"
            ));
            break;
        };
        if raw == 0 {
            break;
        }
        if *budget == 0 {
            warnings.push(format!(
                "{dll}: more than {MAX_THUNKS} imported symbols in the file; the rest not read"
            ));
            break;
        }
        *budget -= 1;
        let ordinal_flag = if pe32_plus { 1u64 << 63 } else { 1u64 << 31 };
        if raw & ordinal_flag != 0 {
            out.push(Symbol::Ordinal((raw & 0xffff) as u16));
            continue;
        }
        let Some(by_name) = raw.checked_sub(va_base).and_then(|r| u32::try_from(r).ok()) else {
            warnings.push(format!(
                "{dll}: thunk {i} at RVA 0x{at:x} holds 0x{raw:x}, below the image base"
            ));
            continue;
        };
        match by_name
            .checked_add(2)
            .ok_or_else(|| "RVA overflows".to_string())
            .and_then(|r| view.name(r))
        {
            Ok(n) => out.push(Symbol::Name(n)),
            Err(e) => warnings.push(format!("{dll}: thunk {i}: {e}")),
        }
    }
    out
}

fn read_descriptors(
    view: &View,
    rva: u32,
    pe32_plus: bool,
    budget: &mut usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<ImportedDll>, PeError> {
    let mut out = Vec::new();
    for i in 0..=MAX_DESCRIPTORS {
        let at = rva.checked_add(20 * i as u32).ok_or_else(|| {
            PeError::BadPe(format!("import directory at RVA 0x{rva:x} overflows"))
        })?;
        let d = view.at(at).filter(|d| d.len() >= 20).ok_or_else(|| {
            PeError::BadPe(format!(
                "import descriptor {i} at RVA 0x{at:x} is not in the file"
            ))
        })?;
        let (oft, name, ft) = (
            u32_at(d, 0).unwrap_or(0),
            u32_at(d, 12).unwrap_or(0),
            u32_at(d, 16).unwrap_or(0),
        );
        if name == 0 && ft == 0 {
            break;
        }
        if i == MAX_DESCRIPTORS {
            warnings.push(format!(
                "more than {MAX_DESCRIPTORS} import descriptors; the rest not read"
            ));
            break;
        }
        let dll = match view.name(name) {
            Ok(n) => n,
            Err(e) => {
                warnings.push(format!("import descriptor {i}: DLL {e}"));
                continue;
            }
        };
        // Old linkers leave OriginalFirstThunk 0: the IAT holds the names.
        let table = if oft != 0 { oft } else { ft };
        let symbols = read_thunks(view, &dll, table, pe32_plus, 0, budget, warnings);
        out.push(ImportedDll { dll, symbols });
    }
    Ok(out)
}

fn read_delay(
    view: &View,
    rva: u32,
    pe32_plus: bool,
    image_base: u64,
    budget: &mut usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<ImportedDll>, PeError> {
    let mut out = Vec::new();
    for i in 0..=MAX_DESCRIPTORS {
        let at = rva.checked_add(32 * i as u32).ok_or_else(|| {
            PeError::BadPe(format!("delay-import directory at RVA 0x{rva:x} overflows"))
        })?;
        let d = view.at(at).filter(|d| d.len() >= 32).ok_or_else(|| {
            PeError::BadPe(format!(
                "delay-import descriptor {i} at RVA 0x{at:x} is not in the file"
            ))
        })?;
        let attributes = u32_at(d, 0).unwrap_or(0);
        let name = u32_at(d, 4).unwrap_or(0);
        let int = u32_at(d, 16).unwrap_or(0);
        if name == 0 {
            break;
        }
        if i == MAX_DESCRIPTORS {
            warnings.push(format!(
                "more than {MAX_DESCRIPTORS} delay-import descriptors; the rest not read"
            ));
            break;
        }
        // Attributes bit 0 (dlattrRva) clear: the Visual C++ 6 form, whose
        // fields hold virtual addresses (32-bit), not RVAs.
        let va_base = if attributes & 1 == 0 { image_base } else { 0 };
        let to_rva = |v: u32| -> Option<u32> {
            u64::from(v)
                .checked_sub(va_base)
                .and_then(|r| u32::try_from(r).ok())
        };
        let dll = match to_rva(name)
            .ok_or_else(|| format!("name address 0x{name:x} is below the image base 0x{va_base:x}"))
        {
            Ok(r) => match view.name(r) {
                Ok(n) => n,
                Err(e) => {
                    warnings.push(format!("delay-import descriptor {i}: DLL {e}"));
                    continue;
                }
            },
            Err(e) => {
                warnings.push(format!("delay-import descriptor {i}: {e}"));
                continue;
            }
        };
        let symbols = match to_rva(int) {
            Some(t) if int != 0 => read_thunks(view, &dll, t, pe32_plus, va_base, budget, warnings),
            _ => {
                warnings.push(format!(
                    "delay-import descriptor {i} ({dll}): import name table address 0x{int:x} unusable"
                ));
                Vec::new()
            }
        };
        out.push(ImportedDll { dll, symbols });
    }
    Ok(out)
}

fn read_exports(
    view: &View,
    rva: u32,
    size: u32,
    warnings: &mut Vec<String>,
) -> Result<Exports, PeError> {
    let d = view.at(rva).filter(|d| d.len() >= 40).ok_or_else(|| {
        PeError::BadPe(format!(
            "export directory at RVA 0x{rva:x} is not in the file"
        ))
    })?;
    let name_rva = u32_at(d, 12).unwrap_or(0);
    let base = u32_at(d, 16).unwrap_or(0);
    let functions = u32_at(d, 20).unwrap_or(0) as usize;
    let names = u32_at(d, 24).unwrap_or(0) as usize;
    let functions_rva = u32_at(d, 28).unwrap_or(0);
    let names_rva = u32_at(d, 32).unwrap_or(0);
    let ordinals_rva = u32_at(d, 36).unwrap_or(0);
    if functions > MAX_EXPORTS || names > MAX_EXPORTS {
        return Err(PeError::BadPe(format!(
            "export directory at RVA 0x{rva:x} claims {functions} functions and {names} names, more than {MAX_EXPORTS}"
        )));
    }
    let mut ex = Exports {
        dll_name: (name_rva != 0).then(|| view.name(name_rva).ok()).flatten(),
        base,
        ..Exports::default()
    };
    let forward_range = rva..rva.saturating_add(size);
    for i in 0..functions {
        let Some(at) = functions_rva.checked_add(4 * i as u32) else {
            break;
        };
        let Some(target) = view.u32(at) else {
            warnings.push(format!(
                "export address {i} at RVA 0x{at:x} is not in the file; the rest not read"
            ));
            break;
        };
        if target == 0 {
            continue;
        }
        let Some(ordinal) = base.checked_add(i as u32) else {
            break;
        };
        let t = if forward_range.contains(&target) {
            match view.name(target) {
                Ok(s) => ExportTarget::Forward(s),
                Err(e) => {
                    warnings.push(format!("export ordinal {ordinal}: forwarder {e}"));
                    continue;
                }
            }
        } else {
            ExportTarget::Code(target)
        };
        ex.by_ordinal.insert(ordinal, t);
    }
    for i in 0..names {
        let (Some(n_at), Some(o_at)) = (
            names_rva.checked_add(4 * i as u32),
            ordinals_rva.checked_add(2 * i as u32),
        ) else {
            break;
        };
        let (Some(name_at), Some(index)) = (view.u32(n_at), view.u16(o_at)) else {
            warnings.push(format!(
                "export name {i} (RVA 0x{n_at:x}, ordinal RVA 0x{o_at:x}) is not in the file; the rest not read"
            ));
            break;
        };
        match view.name(name_at) {
            Ok(n) => {
                if let Some(ordinal) = base.checked_add(u32::from(index)) {
                    ex.by_name.entry(n).or_insert(ordinal);
                }
            }
            Err(e) => warnings.push(format!("export name {i}: {e}")),
        }
    }
    Ok(ex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pe::testpe::{TestExport, TestPe};

    fn name(s: &str) -> Symbol {
        Symbol::Name(s.into())
    }

    #[test]
    fn imports_by_name_and_ordinal_pe32_and_pe32_plus() {
        for pe32_plus in [false, true] {
            let pe = TestPe {
                pe32_plus,
                machine: if pe32_plus { 0x8664 } else { 0x14c },
                imports: vec![
                    (
                        "KERNEL32.dll".into(),
                        vec![name("GetProcAddress"), Symbol::Ordinal(7)],
                    ),
                    ("isatq.dll".into(), vec![name("AtqInitialize")]),
                ],
                ..TestPe::default()
            };
            let t = read_imports(&pe.build()).unwrap();
            assert_eq!(t.pe32_plus, pe32_plus);
            assert_eq!(t.machine, pe.machine);
            assert_eq!(t.imports.len(), 2);
            assert_eq!(t.imports[0].dll, "KERNEL32.dll");
            assert_eq!(
                t.imports[0].symbols,
                vec![name("GetProcAddress"), Symbol::Ordinal(7)]
            );
            assert_eq!(t.imports[1].symbols, vec![name("AtqInitialize")]);
            assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        }
    }

    #[test]
    fn delay_imports_in_both_forms() {
        for pe32_plus in [false, true] {
            let pe = TestPe {
                pe32_plus,
                delay: vec![
                    (
                        "old.dll".into(),
                        vec![name("OldOne"), Symbol::Ordinal(3)],
                        false,
                    ),
                    ("new.dll".into(), vec![name("NewOne")], true),
                ],
                ..TestPe::default()
            };
            let t = read_imports(&pe.build()).unwrap();
            assert_eq!(t.delay_imports.len(), 2, "{:?}", t.warnings);
            assert_eq!(t.delay_imports[0].dll, "old.dll");
            assert_eq!(
                t.delay_imports[0].symbols,
                vec![name("OldOne"), Symbol::Ordinal(3)]
            );
            assert_eq!(t.delay_imports[1].symbols, vec![name("NewOne")]);
            assert!(t.imports.is_empty());
        }
    }

    #[test]
    fn exports_unsorted_names_ordinals_and_forwarders() {
        let pe = TestPe {
            exports: Some((
                "peer.dll".into(),
                5,
                vec![
                    TestExport::code("Zeta"),
                    TestExport::code("Alpha"),
                    TestExport::unnamed(),
                    TestExport::forward("Fwd", "NTDLL.RtlAllocateHeap"),
                    TestExport::forward("FwdOrd", "other.#12"),
                    TestExport {
                        names: vec![],
                        forward: Some(String::new()),
                    },
                ],
            )),
            ..TestPe::default()
        };
        let t = read_imports(&pe.build()).unwrap();
        let ex = t.exports.unwrap();
        assert_eq!(ex.dll_name.as_deref(), Some("peer.dll"));
        assert_eq!(ex.by_name.get("Zeta"), Some(&5));
        assert_eq!(ex.by_name.get("Alpha"), Some(&6));
        assert!(matches!(
            ex.find(&name("Alpha")),
            Some(ExportTarget::Code(_))
        ));
        assert!(matches!(
            ex.find(&Symbol::Ordinal(7)),
            Some(ExportTarget::Code(_))
        ));
        assert_eq!(ex.find(&Symbol::Ordinal(4)), None);
        assert_eq!(
            ex.find(&Symbol::Ordinal(10)),
            None,
            "a hole is not exported"
        );
        assert_eq!(ex.find(&name("alpha")), None, "names are case-sensitive");
        assert_eq!(
            ex.find(&name("Fwd")),
            Some(&ExportTarget::Forward("NTDLL.RtlAllocateHeap".into()))
        );
        assert_eq!(
            parse_forwarder("NTDLL.RtlAllocateHeap"),
            Some(("NTDLL.dll".into(), name("RtlAllocateHeap")))
        );
        assert_eq!(
            parse_forwarder("other.#12"),
            Some(("other.dll".into(), Symbol::Ordinal(12)))
        );
        assert_eq!(parse_forwarder("nodot"), None);
        assert_eq!(parse_forwarder("x.#notanumber"), None);
    }

    #[test]
    fn no_tables_is_empty_not_an_error() {
        let t = read_imports(&TestPe::default().build()).unwrap();
        assert!(t.imports.is_empty() && t.delay_imports.is_empty() && t.exports.is_none());
    }

    #[test]
    fn truncations_never_panic() {
        let pe = TestPe {
            imports: vec![("a.dll".into(), vec![name("X"), Symbol::Ordinal(2)])],
            delay: vec![("b.dll".into(), vec![name("Y")], false)],
            exports: Some(("c.dll".into(), 1, vec![TestExport::code("Z")])),
            ..TestPe::default()
        };
        let bytes = pe.build();
        for cut in 0..bytes.len() {
            let _ = read_imports(&bytes[..cut]);
        }
        let mut flipped = bytes.clone();
        for i in 0..flipped.len() {
            let keep = flipped[i];
            flipped[i] ^= 0xff;
            let _ = read_imports(&flipped);
            flipped[i] = keep;
        }
    }

    #[test]
    fn absurd_export_counts_are_refused_before_allocation() {
        let pe = TestPe {
            exports: Some(("c.dll".into(), 1, vec![TestExport::code("Z")])),
            ..TestPe::default()
        };
        let mut b = pe.build();
        // NumberOfFunctions of the directory at the start of the section.
        let t = read_imports(&b).unwrap();
        assert!(t.exports.is_some());
        let dir = 0x400 + 20;
        b[dir..dir + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let err = read_imports(&b).unwrap_err().to_string();
        assert!(err.contains("more than"), "{err}");
    }

    /// Our reader against pefile's listing of the same mingw-built DLLs
    /// (testdata/build/pe_listings.py made both).
    #[test]
    fn matches_pefile_listings_of_mingw_dlls() {
        let cases: &[(&[u8], &str)] = &[
            (
                include_bytes!("testdata/imports/w3svc-delay.dll"),
                include_str!("testdata/imports/w3svc-delay.txt"),
            ),
            (
                include_bytes!("testdata/imports/kernel32.dll"),
                include_str!("testdata/imports/kernel32.txt"),
            ),
            (
                include_bytes!("testdata/imports/infocomm.dll"),
                include_str!("testdata/imports/infocomm.txt"),
            ),
            (
                include_bytes!("testdata/imports/authfilt64.dll"),
                include_str!("testdata/imports/authfilt64.txt"),
            ),
        ];
        for (bytes, want) in cases {
            let t = read_imports(bytes).unwrap();
            let mut got = vec![format!("machine 0x{:x}", t.machine)];
            for d in &t.imports {
                got.extend(d.symbols.iter().map(|s| format!("import {} {s}", d.dll)));
            }
            for d in &t.delay_imports {
                got.extend(d.symbols.iter().map(|s| format!("delay {} {s}", d.dll)));
            }
            if let Some(ex) = &t.exports {
                for (ord, target) in &ex.by_ordinal {
                    let names: Vec<&str> = ex
                        .by_name
                        .iter()
                        .filter(|(_, o)| *o == ord)
                        .map(|(n, _)| n.as_str())
                        .collect();
                    let name = names.first().copied().unwrap_or("-");
                    let mut line = format!("export {ord} {name}");
                    if let ExportTarget::Forward(f) = target {
                        line.push_str(&format!(" -> {f}"));
                    }
                    got.push(line);
                }
            }
            let want: Vec<&str> = want.lines().collect();
            assert_eq!(got, want);
            assert!(t.warnings.is_empty(), "{:?}", t.warnings);
        }
    }
}
