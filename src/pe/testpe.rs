//! A builder of small synthetic PE images for tests: headers, one section
//! holding the import, delay-import and export tables the test asks for.
//! Public (hidden) so integration tests and the fuzz seeds can use it.

use super::imports::Symbol;

/// What a synthetic PE holds.
#[derive(Debug, Clone)]
pub struct TestPe {
    pub pe32_plus: bool,
    pub machine: u16,
    pub dll: bool,
    pub image_base: u64,
    pub imports: Vec<(String, Vec<Symbol>)>,
    /// (DLL, symbols, RVA form: `Attributes` bit 0 set; else VAs)
    pub delay: Vec<(String, Vec<Symbol>, bool)>,
    /// (name of the DLL, ordinal base, entries: (name, forwarder or code))
    pub exports: Option<(String, u32, Vec<TestExport>)>,
}

/// One export-address-table entry (ordinal = base + index).
#[derive(Debug, Clone)]
pub struct TestExport {
    /// Names pointing at this entry (any order; the builder does not sort).
    pub names: Vec<String>,
    /// `Some("NTDLL.RtlX")`: a forwarder; `None`: code. An empty
    /// `Some("")` leaves a hole (RVA 0).
    pub forward: Option<String>,
}

impl TestExport {
    pub fn code(name: &str) -> TestExport {
        TestExport {
            names: vec![name.into()],
            forward: None,
        }
    }
    pub fn unnamed() -> TestExport {
        TestExport {
            names: Vec::new(),
            forward: None,
        }
    }
    pub fn forward(name: &str, to: &str) -> TestExport {
        TestExport {
            names: vec![name.into()],
            forward: Some(to.into()),
        }
    }
}

impl Default for TestPe {
    fn default() -> Self {
        TestPe {
            pe32_plus: false,
            machine: 0x14c,
            dll: true,
            image_base: 0x1000_0000,
            imports: Vec::new(),
            delay: Vec::new(),
            exports: None,
        }
    }
}

const SECTION_RVA: u32 = 0x1000;
const SECTION_RAW: u32 = 0x400;

struct Section {
    data: Vec<u8>,
}

impl Section {
    fn rva(&self) -> u32 {
        SECTION_RVA + self.data.len() as u32
    }
    fn put(&mut self, b: &[u8]) -> u32 {
        while self.data.len() % 4 != 0 {
            self.data.push(0);
        }
        let r = self.rva();
        self.data.extend_from_slice(b);
        r
    }
    fn cstr(&mut self, s: &str) -> u32 {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.put(&b)
    }
    fn set32(&mut self, rva: u32, v: u32) {
        let o = (rva - SECTION_RVA) as usize;
        self.data[o..o + 4].copy_from_slice(&v.to_le_bytes());
    }
}

impl TestPe {
    /// The image's bytes.
    pub fn build(&self) -> Vec<u8> {
        let mut s = Section { data: Vec::new() };
        let thunk = |s: &mut Section, syms: &[Symbol], base: u64, p64: bool| -> u32 {
            let mut vals = Vec::new();
            for sym in syms {
                vals.push(match sym {
                    Symbol::Ordinal(o) => u64::from(*o) | if p64 { 1 << 63 } else { 1 << 31 },
                    Symbol::Name(n) => {
                        let mut b = vec![0u8, 0];
                        b.extend_from_slice(n.as_bytes());
                        b.push(0);
                        u64::from(s.put(&b)) + base
                    }
                });
            }
            vals.push(0);
            let mut b = Vec::new();
            for v in vals {
                if p64 {
                    b.extend_from_slice(&v.to_le_bytes());
                } else {
                    b.extend_from_slice(&(v as u32).to_le_bytes());
                }
            }
            s.put(&b)
        };
        let mut dirs = [(0u32, 0u32); 16];
        if !self.imports.is_empty() {
            let mut descs = Vec::new();
            for (dll, syms) in &self.imports {
                let name = s.cstr(dll);
                let int = thunk(&mut s, syms, 0, self.pe32_plus);
                let iat = thunk(&mut s, syms, 0, self.pe32_plus);
                descs.push((int, name, iat));
            }
            let mut b = Vec::new();
            for (int, name, iat) in &descs {
                for v in [*int, 0, 0, *name, *iat] {
                    b.extend_from_slice(&v.to_le_bytes());
                }
            }
            b.extend_from_slice(&[0u8; 20]);
            let r = s.put(&b);
            dirs[1] = (r, b.len() as u32);
        }
        if !self.delay.is_empty() {
            let mut descs = Vec::new();
            for (dll, syms, rva_form) in &self.delay {
                let base = if *rva_form { 0 } else { self.image_base };
                let name = u64::from(s.cstr(dll)) + base;
                let int = u64::from(thunk(&mut s, syms, base, self.pe32_plus)) + base;
                let iat = u64::from(thunk(&mut s, syms, base, self.pe32_plus)) + base;
                descs.push((u32::from(*rva_form), name as u32, iat as u32, int as u32));
            }
            let mut b = Vec::new();
            for (attr, name, iat, int) in &descs {
                for v in [*attr, *name, 0, *iat, *int, 0, 0, 0] {
                    b.extend_from_slice(&v.to_le_bytes());
                }
            }
            b.extend_from_slice(&[0u8; 32]);
            let r = s.put(&b);
            dirs[13] = (r, b.len() as u32);
        }
        if let Some((name, base, entries)) = &self.exports {
            let dir = s.put(&[0u8; 40]);
            let name_rva = s.cstr(name);
            let mut funcs = Vec::new();
            let mut names = Vec::new();
            for (i, e) in entries.iter().enumerate() {
                let target = match e.forward.as_deref() {
                    Some("") => 0,
                    Some(f) => s.cstr(f),
                    None => 0x10 + i as u32,
                };
                funcs.push(target);
                for n in &e.names {
                    names.push((s.cstr(n), i as u16));
                }
            }
            let f_rva = s.put(
                &funcs
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect::<Vec<_>>(),
            );
            let n_rva = s.put(
                &names
                    .iter()
                    .flat_map(|(r, _)| r.to_le_bytes())
                    .collect::<Vec<_>>(),
            );
            let o_rva = s.put(
                &names
                    .iter()
                    .flat_map(|(_, o)| o.to_le_bytes())
                    .collect::<Vec<_>>(),
            );
            let end = s.rva();
            s.set32(dir + 12, name_rva);
            s.set32(dir + 16, *base);
            s.set32(dir + 20, funcs.len() as u32);
            s.set32(dir + 24, names.len() as u32);
            s.set32(dir + 28, f_rva);
            s.set32(dir + 32, n_rva);
            s.set32(dir + 36, o_rva);
            // The directory spans the names and forwarder strings, as
            // linkers lay it out; code RVAs (0x10+) fall outside it.
            dirs[0] = (dir, end - dir);
        }
        while s.data.len() % 0x200 != 0 || s.data.is_empty() {
            s.data.push(0);
        }
        let mut f = vec![0u8; SECTION_RAW as usize];
        f[0] = b'M';
        f[1] = b'Z';
        let nt = 0x80usize;
        f[0x3c..0x40].copy_from_slice(&(nt as u32).to_le_bytes());
        f[nt..nt + 4].copy_from_slice(b"PE\0\0");
        let fh = nt + 4;
        let opt_size: u16 = if self.pe32_plus { 240 } else { 224 };
        let w16 = |f: &mut Vec<u8>, o: usize, v: u16| f[o..o + 2].copy_from_slice(&v.to_le_bytes());
        let w32 = |f: &mut Vec<u8>, o: usize, v: u32| f[o..o + 4].copy_from_slice(&v.to_le_bytes());
        w16(&mut f, fh, self.machine);
        w16(&mut f, fh + 2, 1);
        w16(&mut f, fh + 16, opt_size);
        w16(&mut f, fh + 18, if self.dll { 0x2102 } else { 0x0102 });
        let oh = fh + 20;
        w16(&mut f, oh, if self.pe32_plus { 0x20b } else { 0x10b });
        if self.pe32_plus {
            f[oh + 24..oh + 32].copy_from_slice(&self.image_base.to_le_bytes());
        } else {
            w32(&mut f, oh + 28, self.image_base as u32);
        }
        w32(&mut f, oh + 32, 0x1000);
        w32(&mut f, oh + 36, 0x200);
        w16(&mut f, oh + 40, 4);
        w16(&mut f, oh + 48, 4);
        let image_size = SECTION_RVA + (s.data.len() as u32).next_multiple_of(0x1000);
        w32(&mut f, oh + 56, image_size);
        w32(&mut f, oh + 60, SECTION_RAW);
        w16(&mut f, oh + 68, 2);
        let (count_at, dd) = if self.pe32_plus {
            (oh + 108, oh + 112)
        } else {
            (oh + 92, oh + 96)
        };
        w32(&mut f, count_at, 16);
        for (i, (r, n)) in dirs.iter().enumerate() {
            w32(&mut f, dd + 8 * i, *r);
            w32(&mut f, dd + 8 * i + 4, *n);
        }
        let st = oh + opt_size as usize;
        f[st..st + 5].copy_from_slice(b".data");
        w32(&mut f, st + 8, s.data.len() as u32);
        w32(&mut f, st + 12, SECTION_RVA);
        w32(&mut f, st + 16, s.data.len() as u32);
        w32(&mut f, st + 20, SECTION_RAW);
        w32(&mut f, st + 36, 0xc000_0040);
        f.extend_from_slice(&s.data);
        f
    }
}
