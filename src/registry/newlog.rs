//! Replay of new-format transaction logs (`.LOG1`/`.LOG2`, and `.LOG` for a
//! single log; Windows 8.1 and later), in memory only.
//!
//! Layout and rules (msuhanov's "Windows registry file format specification",
//! <https://github.com/msuhanov/regf>, "New format", "Dirty state of a hive"
//! and "Multiple transaction log files: New format"; yarp's
//! `apply_new_log_files`, <https://github.com/msuhanov/yarp>, for the order):
//!
//! * sector 0: a partial copy of the base block (512 bytes), file type 6,
//!   XOR-32 checksum at 0x1FC, both sequence numbers equal; its primary
//!   sequence number is the sequence number of the log's first entry;
//! * from offset 512: log entries, each a multiple of 512 bytes: `HvLE`,
//!   size, flags, sequence number, hive bins data size, dirty page count,
//!   Hash-1 (Marvin32 of the entry from offset 40, `size - 40` bytes), Hash-2
//!   (Marvin32 of its first 32 bytes), then `(offset, size)` references and
//!   the pages themselves, back to back. A page belongs at file offset
//!   `4096 + offset`.
//!
//! What we apply, into a private copy of the primary file:
//!
//! * a log applies when its base block is sound (signature, file type 6,
//!   checksum, sequence numbers equal) and belongs to this hive: its
//!   last-written timestamp equals the hive's, as for the old format (the
//!   first hive bin's when the hive's base block is invalid: then a log not
//!   older than it), and its sequence number is not below the hive's
//!   secondary one (an older log holds writes already in the primary file);
//! * with a valid hive base block, the logs that apply are taken in the
//!   order of their sequence numbers, the first from its own sequence number
//!   (which may lie past the hive's secondary one: Windows reconciles the
//!   primary file partially when it rotates the logs twice), each next one
//!   only when it starts right after the last entry applied. With an invalid
//!   hive base block only the latest log is used, and its base block replaces
//!   the hive's (as Windows does);
//! * in each log, entries are applied while each has the expected sequence
//!   number (the previous one + 1; a stale or missing entry ends the log) and
//!   is sound: hashes right, size a multiple of 512 inside the file, hive bins
//!   data size a positive multiple of 4096, at least one page, every page
//!   512-aligned inside the hive bins data and inside the entry. The first
//!   unsound entry stops the replay; the entries before it stay applied;
//! * the hive takes the hive bins data size of the last entry applied; it
//!   only grows past the primary file's end by pages the entry holds (no
//!   allocation sized from a claim).
//!
//! The copy's base block then has file type 0, both sequence numbers set to
//! the last entry's, its hive bins data size and flag bit 0 (as yarp saves a
//! recovered hive), and its checksum recomputed.
//!
//! Why not notatin's replay (1.0.1, `with_transaction_log`): it computes
//! `size - 40` for an entry whose size field is below 40 (an overflow), grows
//! its buffer by whatever hive bins data size an entry claims (up to 4 GiB),
//! never checks that a log belongs to the hive, and applies a log whose first
//! entry lies past the hive's sequence numbers with entries missing between.
//!
//! **Limits.** Each log at most [`MAX_LOG_SIZE`](super::log::MAX_LOG_SIZE); every entry is read once
//! and hashed once (work linear in the log's size); the copy never exceeds
//! [`MAX_HIVE_SIZE`] nor the primary file plus the logs.

use super::cells::{u32_at, u64_at, BASE_BLOCK_LEN};
use super::hive::MAX_HIVE_SIZE;
use super::log::{base_block_checksum, log_head, needs_replay, HiveStamp, LogRejected};

/// Length of a log's base block and the alignment of its entries.
const SECTOR: usize = 512;
const ENTRY_HEADER: usize = 40;
const HBIN_ALIGN: usize = 4096;
/// The Marvin32 seed of log entry hashes (bytes 82 EF 4D 88 7A 4E 55 C5).
const SEED: u64 = 0x82EF_4D88_7A4E_55C5;

/// Marvin32 (the keyed hash of .NET's string hashing) of `data`, as the
/// registry computes it for log entries: 32-bit blocks mixed into two 32-bit
/// halves of the seed, a final block padded with 0x80, one more mix of zero.
pub fn marvin32(data: &[u8]) -> u64 {
    fn mix(lo: &mut u32, hi: &mut u32, v: u32) {
        *lo = lo.wrapping_add(v);
        *hi ^= *lo;
        *lo = lo.rotate_left(20).wrapping_add(*hi);
        *hi = hi.rotate_left(9) ^ *lo;
        *lo = lo.rotate_left(27).wrapping_add(*hi);
        *hi = hi.rotate_left(19);
    }
    let (mut lo, mut hi) = (SEED as u32, (SEED >> 32) as u32);
    let mut blocks = data.chunks_exact(4);
    for b in &mut blocks {
        mix(
            &mut lo,
            &mut hi,
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        );
    }
    let rest = blocks.remainder();
    let mut last = 0x80u32 << (8 * rest.len());
    for (i, &b) in rest.iter().enumerate() {
        last |= u32::from(b) << (8 * i);
    }
    mix(&mut lo, &mut hi, last);
    mix(&mut lo, &mut hi, 0);
    (u64::from(hi) << 32) | u64::from(lo)
}

/// `a` comes at or after `b` in sequence-number order (serial arithmetic:
/// the numbers wrap around at 2^32).
fn not_before(a: u32, b: u32) -> bool {
    a.wrapping_sub(b) < 0x8000_0000
}

fn field(b: &[u8], at: usize) -> u32 {
    u32_at(b, at).unwrap_or(0)
}

/// What a new-format replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReplay {
    /// The recovered hive: primary file, pages applied, base block updated.
    pub bytes: Vec<u8>,
    /// The logs whose entries were applied, in the order applied.
    pub logs: Vec<String>,
    /// Sequence numbers of the first and last entry applied.
    pub first: u32,
    pub last: u32,
    /// Entries and dirty pages applied.
    pub entries: usize,
    pub pages: usize,
    /// Why the replay stopped before the end of the last log's entries, when
    /// an entry with the expected sequence number was unsound.
    pub stopped: Option<String>,
    /// Logs given but not applied, each with why (`path: why`), in the
    /// order given.
    pub ignored: Vec<String>,
    /// Those of `ignored` left out because all they hold is older than the
    /// hive (its secondary sequence number): nothing is missing for want of
    /// them.
    pub stale: Vec<String>,
}

impl NewReplay {
    /// How the replayed state is named in reports: the logs, then what was
    /// applied (`X.LOG1, X.LOG2 (new format, log entries 2 to 5)`), why the
    /// replay stopped early and why a log was not used, if so (stale logs
    /// are not named: nothing is missing for want of them).
    pub fn describe(&self) -> String {
        let entries = match self.first == self.last {
            true => format!("log entry {}", self.first),
            false => format!("log entries {} to {}", self.first, self.last),
        };
        let stopped = match &self.stopped {
            Some(why) => format!("; then stopped: {why}"),
            None => String::new(),
        };
        // A log left out may have held entries the hive lacks: say why.
        let left: Vec<&str> = self
            .ignored
            .iter()
            .filter(|i| !self.stale.contains(i))
            .map(String::as_str)
            .collect();
        let ignored = match left.is_empty() {
            true => String::new(),
            false => format!("; not used: {}", left.join("; ")),
        };
        format!(
            "{} (new format, {entries}{stopped}{ignored})",
            self.logs.join(", ")
        )
    }
}

/// A log's base block, once found sound.
struct LogHead<'a> {
    name: &'a str,
    bytes: &'a [u8],
    seq: u32,
}

/// Checks a new-format log's own base block.
fn read_head<'a>(name: &'a str, log: &'a [u8]) -> Result<LogHead<'a>, String> {
    let seq = log_head(log, &[6], "6 (new format)")?;
    Ok(LogHead {
        name,
        bytes: log,
        seq,
    })
}

/// Why the entries of a log end.
enum End {
    /// No further entry with the expected sequence number: the normal end
    /// (remnants, stale entries, a gap, the end of the file).
    Done,
    /// An entry with the expected sequence number is unsound: recovery stops.
    Bad(String),
}

/// A sound entry: its size, flags, hive bins data size and page count.
struct Entry {
    size: usize,
    flags: u32,
    bins: usize,
    count: usize,
}

/// Reads and checks the entry at `at`, expected to carry sequence number
/// `expected`.
fn read_entry(log: &[u8], at: usize, expected: u32) -> Result<Entry, End> {
    let Some(head) = log.get(at..at.saturating_add(ENTRY_HEADER)) else {
        return Err(End::Done);
    };
    if &head[..4] != b"HvLE" || field(head, 12) != expected {
        return Err(End::Done);
    }
    let bad = |what: String| Err(End::Bad(format!("log entry {expected} at 0x{at:x} {what}")));
    let size = field(head, 4) as usize;
    if size < SECTOR || size % SECTOR != 0 {
        return bad(format!("has size {size}, not a positive multiple of 512"));
    }
    let Some(entry) = log.get(at..at.saturating_add(size)) else {
        return bad(format!(
            "has size {size}, past the log's end ({} bytes)",
            log.len()
        ));
    };
    if u64_at(head, 32) != Some(marvin32(&entry[..32])) {
        return bad("has a wrong Hash-2".into());
    }
    if u64_at(head, 24) != Some(marvin32(&entry[ENTRY_HEADER..])) {
        return bad("has a wrong Hash-1".into());
    }
    let bins = field(head, 16) as usize;
    if bins == 0 || bins % HBIN_ALIGN != 0 {
        return bad(format!(
            "says the hive bins data is {bins} bytes, not a positive multiple of 4096"
        ));
    }
    if BASE_BLOCK_LEN + bins > MAX_HIVE_SIZE {
        return bad(format!(
            "says the hive bins data is {bins} bytes, more than a hive may have here"
        ));
    }
    let count = field(head, 20) as usize;
    let refs_end = (count as u64) * 8 + ENTRY_HEADER as u64;
    if count == 0 || refs_end > size as u64 {
        return bad(format!(
            "has {count} dirty pages, which do not fit its {size} bytes"
        ));
    }
    let mut data = refs_end as usize;
    for i in 0..count {
        let (off, len) = (
            field(entry, ENTRY_HEADER + 8 * i) as usize,
            field(entry, ENTRY_HEADER + 8 * i + 4) as usize,
        );
        let inside = off.checked_add(len).is_some_and(|end| end <= bins);
        if len == 0 || off % SECTOR != 0 || len % SECTOR != 0 || !inside {
            return bad(format!(
                "has a dirty page of {len} bytes at 0x{off:x}, not 512-aligned inside the hive bins data (0x{bins:x} bytes)"
            ));
        }
        data += len;
        if data > size {
            return bad(format!(
                "has dirty pages beyond its {size} bytes (page {i} of {count})"
            ));
        }
    }
    Ok(Entry {
        size,
        flags: field(head, 8),
        bins,
        count,
    })
}

/// Whether the pages of `entry` (at `at` in `log`) cover the hive bins data
/// from `from` to `to`: a hive only grows by pages the log holds.
fn covers(log: &[u8], at: usize, entry: &Entry, from: usize, to: usize) -> bool {
    let mut spans: Vec<(usize, usize)> = (0..entry.count)
        .map(|i| {
            let r = at + ENTRY_HEADER + 8 * i;
            let off = field(log, r) as usize;
            (off, off + field(log, r + 4) as usize)
        })
        .filter(|&(s, e)| e > from && s < to)
        .collect();
    spans.sort_unstable();
    let mut reached = from;
    for (s, e) in spans {
        if s > reached {
            return false;
        }
        reached = reached.max(e);
    }
    reached >= to
}

/// The replay in progress: the copy and what was applied so far.
struct Progress {
    copy: Vec<u8>,
    bins: usize,
    flags: u32,
    first: Option<u32>,
    last: u32,
    entries: usize,
    pages: usize,
}

/// Applies the entries of `log` from its first one (sequence number
/// `log.seq`) while they are sound and in sequence. Returns how many were
/// applied and, when an unsound one stopped the replay, why.
fn apply_log(p: &mut Progress, log: &LogHead) -> Result<usize, String> {
    let (bytes, mut at, mut expected) = (log.bytes, SECTOR, log.seq);
    let mut applied = 0;
    loop {
        let entry = match read_entry(bytes, at, expected) {
            Ok(e) => e,
            Err(End::Done) => return Ok(applied),
            Err(End::Bad(why)) => return Err(why),
        };
        // Grow the copy when the hive grew, only by pages the entry holds.
        let total = BASE_BLOCK_LEN + entry.bins;
        if total > p.copy.len() {
            let have = p.copy.len().saturating_sub(BASE_BLOCK_LEN);
            if !covers(bytes, at, &entry, have, entry.bins) {
                return Err(format!(
                    "log entry {expected} at 0x{at:x} grows the hive bins data to 0x{:x} bytes without the pages past 0x{have:x}",
                    entry.bins
                ));
            }
            p.copy.resize(total, 0);
        }
        let mut data = at + ENTRY_HEADER + 8 * entry.count;
        for i in 0..entry.count {
            let r = at + ENTRY_HEADER + 8 * i;
            let (off, len) = (field(bytes, r) as usize, field(bytes, r + 4) as usize);
            let to = BASE_BLOCK_LEN + off;
            // Bounds were checked by read_entry and the growth above.
            if let (Some(dst), Some(src)) =
                (p.copy.get_mut(to..to + len), bytes.get(data..data + len))
            {
                dst.copy_from_slice(src);
            }
            data += len;
        }
        p.bins = entry.bins;
        p.flags = entry.flags;
        p.first.get_or_insert(expected);
        p.last = expected;
        p.entries += 1;
        p.pages += entry.count;
        applied += 1;
        at += entry.size;
        expected = expected.wrapping_add(1);
    }
}

/// Replays the new-format logs `logs` (`(path, bytes)`; others are ignored
/// with their reason) over a private copy of the primary file `hive`.
/// Neither input is changed. `Err` says, log by log, why none applied.
pub fn replay_new_logs(hive: &[u8], logs: &[(&str, &[u8])]) -> Result<NewReplay, LogRejected> {
    let refuse = |why: &str| {
        let names: Vec<&str> = logs.iter().map(|l| l.0).collect();
        Err(LogRejected(match names.is_empty() {
            true => why.to_string(),
            false => format!("{}: {why}", names.join(", ")),
        }))
    };
    if hive.len() < BASE_BLOCK_LEN || &hive[..4] != b"regf" {
        return refuse("the hive has no regf base block");
    }
    if hive.len() > MAX_HIVE_SIZE {
        return refuse("the hive is larger than a hive may be here");
    }
    if !needs_replay(hive) {
        return refuse("the hive is not dirty: nothing to replay");
    }
    let stamp = HiveStamp::of(hive);
    let hive_valid = stamp.valid;
    let secondary = field(hive, 8);
    let mut ignored = Vec::new();
    let mut stale = Vec::new();
    let mut heads = Vec::new();
    for &(name, bytes) in logs {
        let head = match read_head(name, bytes) {
            Ok(h) => h,
            Err(why) => {
                ignored.push(format!("{name}: {why}"));
                continue;
            }
        };
        if let Err(why) = stamp.matches(bytes) {
            ignored.push(format!("{name}: {why}"));
            continue;
        }
        if hive_valid && !not_before(head.seq, secondary) {
            let why = format!(
                "{name}: its entries start at sequence number {}, before the hive's secondary sequence number {secondary}: already in the primary file",
                head.seq
            );
            ignored.push(why.clone());
            stale.push(why);
            continue;
        }
        heads.push(head);
    }
    // The order of application: by sequence number from the hive's secondary
    // one (a total order: every log left starts at or after it). With an
    // invalid hive base block, the latest log alone.
    if hive_valid {
        heads.sort_by_key(|h| h.seq.wrapping_sub(secondary));
    } else if let Some(latest) = heads
        .iter()
        .enumerate()
        .fold(None::<(usize, u32)>, |best, (i, h)| match best {
            Some((_, s)) if !not_before(h.seq, s) || h.seq == s => best,
            _ => Some((i, h.seq)),
        })
        .map(|(i, _)| i)
    {
        for (i, h) in heads.iter().enumerate() {
            if i != latest {
                ignored.push(format!(
                    "{}: the hive's base block is invalid, so only the latest log is used",
                    h.name
                ));
            }
        }
        let keep = heads.swap_remove(latest);
        heads = vec![keep];
    }
    if heads.is_empty() {
        return Err(LogRejected(match ignored.is_empty() {
            true => "no new-format log given".into(),
            false => ignored.join("; "),
        }));
    }
    let mut p = Progress {
        copy: hive.to_vec(),
        bins: field(hive, 40) as usize,
        flags: field(hive, 144),
        first: None,
        last: 0,
        entries: 0,
        pages: 0,
    };
    let mut used = Vec::new();
    let mut stopped = None;
    let mut base_log: Option<&[u8]> = None;
    for head in &heads {
        if stopped.is_some() {
            ignored.push(format!(
                "{}: not applied: the replay stopped before it",
                head.name
            ));
            continue;
        }
        if p.first.is_some() && head.seq != p.last.wrapping_add(1) {
            ignored.push(format!(
                "{}: starts at log entry {}, not right after the last one applied ({}): not applied",
                head.name, head.seq, p.last
            ));
            continue;
        }
        let before = p.entries;
        let result = apply_log(&mut p, head);
        if p.entries > before {
            used.push(head.name.to_string());
            base_log = Some(head.bytes);
        }
        match result {
            Ok(0) => {
                ignored.push(format!(
                    "{}: holds no log entry {} (the first it should hold)",
                    head.name, head.seq
                ));
                // A later log would miss what this one should have held.
                stopped = Some(String::new());
            }
            Ok(_) => {}
            Err(why) if p.entries > before => stopped = Some(format!("{}: {why}", head.name)),
            Err(why) => {
                ignored.push(format!("{}: {why}", head.name));
                // Entries after a bad one would miss its changes.
                stopped = Some(String::new());
            }
        }
    }
    let (Some(first), Some(log_base)) = (p.first, base_log) else {
        let why = match ignored.is_empty() {
            true => "no new-format log entry applies".to_string(),
            false => ignored.join("; "),
        };
        return Err(LogRejected(why));
    };
    // The recovered base block: the hive's own when valid, else the log's.
    let copy = &mut p.copy;
    if !hive_valid {
        copy[..SECTOR].copy_from_slice(&log_base[..SECTOR]);
    }
    // Version and root cell as the newest in-memory base block had them.
    copy[20..28].copy_from_slice(&log_base[20..28]);
    copy[36..40].copy_from_slice(&log_base[36..40]);
    copy[4..8].copy_from_slice(&p.last.to_le_bytes());
    copy[8..12].copy_from_slice(&p.last.to_le_bytes());
    copy[28..32].copy_from_slice(&0u32.to_le_bytes());
    copy[40..44].copy_from_slice(&(p.bins as u32).to_le_bytes());
    let flags = (field(copy, 144) & !1) | (p.flags & 1);
    copy[144..148].copy_from_slice(&flags.to_le_bytes());
    let sum = base_block_checksum(copy).unwrap_or(0);
    copy[0x1FC..0x200].copy_from_slice(&sum.to_le_bytes());
    Ok(NewReplay {
        bytes: p.copy,
        logs: used,
        first,
        last: p.last,
        entries: p.entries,
        pages: p.pages,
        stopped: stopped.filter(|s| !s.is_empty()),
        ignored,
        stale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small hive: base block + one 4 KiB bin, dirty (sequence 3/2).
    fn hive() -> Vec<u8> {
        let mut h = vec![0u8; 8192];
        h[..4].copy_from_slice(b"regf");
        h[4..8].copy_from_slice(&3u32.to_le_bytes());
        h[8..12].copy_from_slice(&2u32.to_le_bytes());
        h[12..20].copy_from_slice(&77u64.to_le_bytes());
        h[40..44].copy_from_slice(&4096u32.to_le_bytes());
        h[4096..4100].copy_from_slice(b"hbin");
        h[4104..4108].copy_from_slice(&4096u32.to_le_bytes());
        let s = base_block_checksum(&h).unwrap();
        h[508..512].copy_from_slice(&s.to_le_bytes());
        h
    }

    /// A log entry with sequence `seq` writing `pages` (offset, fill byte,
    /// length) into a hive of `bins` bytes of hive bins data.
    fn entry(seq: u32, bins: u32, pages: &[(u32, u8, u32)]) -> Vec<u8> {
        let mut e = vec![0u8; ENTRY_HEADER];
        e[..4].copy_from_slice(b"HvLE");
        e[12..16].copy_from_slice(&seq.to_le_bytes());
        e[16..20].copy_from_slice(&bins.to_le_bytes());
        e[20..24].copy_from_slice(&(pages.len() as u32).to_le_bytes());
        for &(off, _, len) in pages {
            e.extend(off.to_le_bytes());
            e.extend(len.to_le_bytes());
        }
        for &(_, fill, len) in pages {
            e.extend(std::iter::repeat_n(fill, len as usize));
        }
        e.resize(e.len().div_ceil(SECTOR) * SECTOR, 0);
        let size = e.len() as u32;
        e[4..8].copy_from_slice(&size.to_le_bytes());
        let h1 = marvin32(&e[ENTRY_HEADER..]);
        e[24..32].copy_from_slice(&h1.to_le_bytes());
        let h2 = marvin32(&e[..32]);
        e[32..40].copy_from_slice(&h2.to_le_bytes());
        e
    }

    fn log(seq: u32, entries: &[Vec<u8>]) -> Vec<u8> {
        let mut l = hive()[..SECTOR].to_vec();
        l[4..8].copy_from_slice(&seq.to_le_bytes());
        l[8..12].copy_from_slice(&seq.to_le_bytes());
        l[28..32].copy_from_slice(&6u32.to_le_bytes());
        let s = base_block_checksum(&l).unwrap();
        l[508..512].copy_from_slice(&s.to_le_bytes());
        for e in entries {
            l.extend(e);
        }
        l
    }

    /// Hash-2 of a real entry header (yarp's `NewDirtyHive1.LOG2`, entry 5
    /// at 0x8000): Marvin32 of its first 32 bytes, stored at offset 32.
    #[test]
    fn marvin32_matches_a_real_log_entry() {
        let hex =
            "48764c450020000000000000050000000050000001000000ebbbcd2def7a144a56a5bee5a8956336";
        let b: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(Some(marvin32(&b[..32])), u64_at(&b, 32));
        // The padding of a partial last block counts.
        assert_ne!(marvin32(b""), marvin32(b"\0"));
    }

    #[test]
    fn two_logs_apply_in_sequence_order() {
        let h = hive();
        let l1 = log(2, &[entry(2, 4096, &[(0, 0x11, 512)])]);
        let l2 = log(3, &[entry(3, 4096, &[(512, 0x22, 512)])]);
        // Given in reverse order: still 2 then 3.
        let r = replay_new_logs(&h, &[("b.LOG2", &l2), ("b.LOG1", &l1)]).unwrap();
        assert_eq!((r.first, r.last, r.entries), (2, 3, 2));
        assert_eq!(r.logs, ["b.LOG1", "b.LOG2"]);
        assert_eq!(r.bytes[4096], 0x11);
        assert_eq!(r.bytes[4096 + 512], 0x22);
        assert!(!needs_replay(&r.bytes));
        assert_eq!(
            r.describe(),
            "b.LOG1, b.LOG2 (new format, log entries 2 to 3)"
        );
        assert_eq!(&h, &hive(), "the primary is unchanged");
    }

    #[test]
    fn a_bad_hash_stops_the_replay_and_a_gap_ends_it() {
        let h = hive();
        let mut bad = entry(3, 4096, &[(0, 0x33, 512)]);
        bad[100] ^= 1;
        let l = log(2, &[entry(2, 4096, &[(0, 0x11, 512)]), bad]);
        let r = replay_new_logs(&h, &[("x", &l)]).unwrap();
        assert_eq!((r.first, r.last), (2, 2));
        assert!(r.stopped.unwrap().contains("Hash-1"));
        // A gap: entry 4 after 2 is not applied.
        let l = log(
            2,
            &[
                entry(2, 4096, &[(0, 0x11, 512)]),
                entry(4, 4096, &[(0, 0x44, 512)]),
            ],
        );
        let r = replay_new_logs(&h, &[("x", &l)]).unwrap();
        assert_eq!((r.last, r.bytes[4096]), (2, 0x11));
        // The second log does not continue the first: ignored.
        let l2 = log(5, &[entry(5, 4096, &[(0, 0x55, 512)])]);
        let r = replay_new_logs(&h, &[("x", &l), ("y", &l2)]).unwrap();
        assert_eq!(r.last, 2);
        assert!(
            r.ignored[0].starts_with("y: starts at log entry 5"),
            "{:?}",
            r.ignored
        );
    }

    #[test]
    fn stale_logs_and_bad_first_entries_are_refused() {
        let h = hive();
        let stale = log(1, &[entry(1, 4096, &[(0, 0x11, 512)])]);
        let why = replay_new_logs(&h, &[("s", &stale)]).unwrap_err();
        assert!(why.0.contains("already in the primary"), "{why}");
        let mut first = entry(2, 4096, &[(0, 0x11, 512)]);
        first[30] ^= 1;
        let l1 = log(2, &[first]);
        let l2 = log(3, &[entry(3, 4096, &[(0, 0x11, 512)])]);
        // Entry 2 is bad: entry 3 would miss its changes.
        let why = replay_new_logs(&h, &[("a", &l1), ("b", &l2)]).unwrap_err();
        assert!(why.0.contains("a: log entry 2"), "{why}");
        assert!(why.0.contains("b: not applied"), "{why}");
    }

    #[test]
    fn no_log_is_refused_with_a_reason() {
        let why = replay_new_logs(&hive(), &[]).unwrap_err();
        assert!(!why.0.is_empty());
    }

    #[test]
    fn an_empty_earlier_log_blocks_the_later_ones() {
        let h = hive();
        let empty = log(2, &[]);
        let l2 = log(3, &[entry(3, 4096, &[(0, 0x11, 512)])]);
        let why = replay_new_logs(&h, &[("a", &empty), ("b", &l2)]).unwrap_err();
        assert!(why.0.contains("a: holds no log entry 2"), "{why}");
        assert!(why.0.contains("b: not applied"), "{why}");
    }

    #[test]
    fn growth_needs_the_pages() {
        let h = hive();
        // Claims 64 KiB of bins with one page: refused.
        let l = log(2, &[entry(2, 65536, &[(0, 0x11, 512)])]);
        let why = replay_new_logs(&h, &[("g", &l)]).unwrap_err();
        assert!(why.0.contains("without the pages"), "{why}");
        // Grows by one bin it holds: accepted.
        let l = log(2, &[entry(2, 8192, &[(4096, 0x66, 4096)])]);
        let r = replay_new_logs(&h, &[("g", &l)]).unwrap();
        assert_eq!(r.bytes.len(), 4096 + 8192);
        assert_eq!(u32_at(&r.bytes, 40), Some(8192));
    }

    #[test]
    fn hostile_entry_fields_are_refused_without_panic() {
        let h = hive();
        for (at, v) in [
            (4usize, 0u32),
            (4, 39),
            (4, u32::MAX),
            (16, 0),
            (16, 100),
            (20, 0),
            (20, u32::MAX),
            (40, 3),
            (44, u32::MAX),
        ] {
            let mut e = entry(2, 4096, &[(0, 0x11, 512)]);
            e[at..at + 4].copy_from_slice(&v.to_le_bytes());
            // Hashes made right again, so the field itself is judged.
            if at != 4 {
                let h1 = marvin32(&e[ENTRY_HEADER..]);
                e[24..32].copy_from_slice(&h1.to_le_bytes());
                let h2 = marvin32(&e[..32]);
                e[32..40].copy_from_slice(&h2.to_le_bytes());
            }
            let l = log(2, &[e]);
            assert!(replay_new_logs(&h, &[("h", &l)]).is_err(), "{at} = {v}");
        }
    }
}
