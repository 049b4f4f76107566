//! Replay of old-format transaction logs (`<hive>.LOG`, NT 4.0 to Windows 7;
//! Vista and 7 also write this format to `.LOG1`/`.LOG2`), in memory only.
//!
//! Layout (msuhanov's "Windows registry file format specification",
//! <https://github.com/msuhanov/regf>, "Format of transaction log files: Old
//! format" and "Dirty state of a hive"):
//!
//! * sector 0: a partial copy of the base block as it was in memory (file type
//!   1, or 2 for an alternate log), whose primary sequence number is
//!   incremented before the dirty data is logged and whose secondary one is
//!   incremented after: the log is complete when both are equal. Its XOR-32
//!   checksum at 0x1FC covers the 508 bytes before it;
//! * from the second sector: `DIRT` and a bitmap with one bit per 512-byte
//!   page of the hive bins data (hive bins data size / 512 bits, taken from
//!   the log's base block), least significant bit first;
//! * from the next sector boundary: one 512-byte page per set bit, in bit
//!   order; the page of bit `i` belongs at file offset `4096 + 512 * i`.
//!   Remnant pages may follow the last one.
//! * A log applies to its hive when the hive is dirty (sequence numbers differ
//!   or its checksum is wrong) and the log's last-written timestamp equals the
//!   hive's (the first hive bin's timestamp when the hive's base block is
//!   invalid: then a log not older than it applies, as in yarp's
//!   `apply_old_log_file`, <https://github.com/msuhanov/yarp>). Windows checks every hive bin the dirty pages touch (signature,
//!   offset) and aborts recovery when one is wrong.
//!
//! After the pages are applied, the copy's base block is the log's (the
//! newer, in-memory one) with file type 0, both sequence numbers equal and the
//! checksum recomputed, as Windows leaves a recovered hive.
//!
//! We also require the log's sequence number to equal the hive's primary
//! sequence number when the hive's base block is valid: Windows increments the
//! hive's primary sequence number to the log's value when it starts writing
//! the hive, so any other value is a log of another write.
//!
//! **Limits.** Logs larger than [`MAX_LOG_SIZE`] are refused; the replayed
//! copy never exceeds [`MAX_HIVE_SIZE`] nor the primary file plus the log's
//! pages (a hive bins data size beyond the primary's end must be covered by
//! dirty pages); one pass over the bitmap, one over the hive bins, no
//! recursion.

use super::cells::{u32_at, u64_at, BASE_BLOCK_LEN};
use super::hive::{Hive, MAX_HIVE_SIZE};
use super::newlog::replay_new_logs;
use super::RegistryError;

/// Largest transaction log read, in bytes (256 MiB). A log holds at most a
/// copy of the hive bins data that changed between two flushes.
pub const MAX_LOG_SIZE: usize = 256 << 20;

const SECTOR: usize = 512;
const HBIN_ALIGN: usize = 4096;

/// What the base block's checksum field must hold for these 508 bytes.
pub(crate) fn base_block_checksum(b: &[u8]) -> Option<u32> {
    let mut sum = 0u32;
    for at in (0..508).step_by(4) {
        sum ^= u32_at(b, at)?;
    }
    Some(match sum {
        0 => 1,
        u32::MAX => u32::MAX - 1,
        s => s,
    })
}

fn checksum_ok(b: &[u8]) -> bool {
    base_block_checksum(b).is_some_and(|c| u32_at(b, 0x1FC) == Some(c))
}

/// Whether the primary file's base block says the hive was not written
/// completely: its sequence numbers differ or its checksum is wrong (the
/// specification's definition of a dirty hive).
pub fn needs_replay(hive: &[u8]) -> bool {
    if hive.len() < SECTOR || &hive[..4] != b"regf" {
        return false;
    }
    u32_at(hive, 4) != u32_at(hive, 8) || !checksum_ok(hive)
}

/// Why a log was not replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRejected(pub String);

impl std::fmt::Display for LogRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn reject<T>(what: impl Into<String>) -> Result<T, LogRejected> {
    Err(LogRejected(what.into()))
}

/// The file type of a log's base block: 1 or 2 for the old format, 6 for the
/// new one (HvLE entries, replayed by `newlog.rs`). `None` if it is no regf block.
pub fn log_file_type(log: &[u8]) -> Option<u32> {
    if log.len() < SECTOR || &log[..4] != b"regf" {
        return None;
    }
    u32_at(log, 28)
}

/// Checks a log's own base block, shared by both formats: size cap, `regf`,
/// a file type in `types` (`expected` says which, for the reason), checksum
/// and equal sequence numbers. Returns the log's sequence number.
pub(crate) fn log_head(log: &[u8], types: &[u32], expected: &str) -> Result<u32, String> {
    if log.len() > MAX_LOG_SIZE {
        return Err(format!(
            "log is {} bytes, more than the {MAX_LOG_SIZE} a log may have here",
            log.len()
        ));
    }
    if log.len() < SECTOR {
        return Err(format!(
            "log is {} bytes, less than its base block",
            log.len()
        ));
    }
    if &log[..4] != b"regf" {
        return Err("log has no regf signature".into());
    }
    let field = |at| u32_at(log, at).unwrap_or(0);
    match field(28) {
        t if types.contains(&t) => {}
        6 => return Err("a new-format log (file type 6): see replay_new_logs".into()),
        t => return Err(format!("log file type is {t}, expected {expected}")),
    }
    if !checksum_ok(log) {
        return Err("log base block checksum is wrong".into());
    }
    let (seq, seq2) = (field(4), field(8));
    if seq != seq2 {
        return Err(format!(
            "log is incomplete: its sequence numbers differ ({seq}, {seq2})"
        ));
    }
    Ok(seq)
}

/// The write a log must belong to: the hive's last-written time, or, when
/// its base block is invalid, the copy in the first hive bin (which may be
/// older than the last write).
pub(crate) struct HiveStamp {
    /// The base block's checksum holds.
    pub valid: bool,
    pub time: Option<u64>,
}

impl HiveStamp {
    pub(crate) fn of(hive: &[u8]) -> Self {
        let valid = checksum_ok(hive);
        let time = if valid {
            u64_at(hive, 12)
        } else {
            (hive.get(BASE_BLOCK_LEN..BASE_BLOCK_LEN + 4) == Some(b"hbin"))
                .then(|| u64_at(hive, BASE_BLOCK_LEN + 20))
                .flatten()
        };
        HiveStamp { valid, time }
    }

    /// Whether `log` was written with this hive (yarp only refuses a log
    /// older than the first bin's copy), or why not.
    pub(crate) fn matches(&self, log: &[u8]) -> Result<(), String> {
        let log_time = u64_at(log, 12).unwrap_or(0);
        match self.time {
            Some(t) if t == log_time || (!self.valid && log_time > t) => Ok(()),
            Some(t) => Err(format!(
                "log was written at another time than the hive (FILETIME {log_time} vs {t}): it belongs to another hive or write"
            )),
            None => Err(
                "the hive's base block and first hive bin are unreadable: cannot match the log"
                    .into(),
            ),
        }
    }
}

/// Replays the old-format transaction log `log` over a private copy of the
/// primary file `hive` and returns the recovered bytes. Neither input is
/// changed. `Err` says why the log does not apply or is damaged.
pub fn replay_old_log(hive: &[u8], log: &[u8]) -> Result<Vec<u8>, LogRejected> {
    if hive.len() < BASE_BLOCK_LEN || &hive[..4] != b"regf" {
        return reject("the hive has no regf base block");
    }
    if !needs_replay(hive) {
        return reject("the hive is not dirty: nothing to replay");
    }
    let log_seq = log_head(log, &[1, 2], "1 or 2").map_err(LogRejected)?;
    // Does it belong to this hive, to this write?
    let stamp = HiveStamp::of(hive);
    stamp.matches(log).map_err(LogRejected)?;
    let hive_valid = stamp.valid;
    let field = |b: &[u8], at| u32_at(b, at).unwrap_or(0);
    if hive_valid && log_seq != field(hive, 4) {
        return reject(format!(
            "log sequence number {log_seq} is not the hive's primary sequence number {}",
            field(hive, 4)
        ));
    }
    let bins_size = field(log, 40) as usize;
    if bins_size == 0 || bins_size % HBIN_ALIGN != 0 {
        return reject(format!(
            "log says the hive bins data is {bins_size} bytes, not a positive multiple of 4096"
        ));
    }
    let total = BASE_BLOCK_LEN + bins_size;
    if total > MAX_HIVE_SIZE {
        return reject(format!(
            "log says the hive bins data is {bins_size} bytes, more than a hive may have here"
        ));
    }
    // The dirty vector: at the second sector (the sector size is the
    // clustering factor times 512).
    let clustering = field(log, 44) as usize;
    let sector = [SECTOR, clustering.saturating_mul(SECTOR)]
        .into_iter()
        .filter(|&s| (SECTOR..=8 * SECTOR).contains(&s))
        .find(|&s| log.get(s..s + 4) == Some(b"DIRT"));
    let Some(sector) = sector else {
        return reject("log has no dirty vector (no \"DIRT\" at its second sector)");
    };
    let pages = bins_size / SECTOR;
    let bitmap_len = pages / 8;
    let bitmap_start = sector + 4;
    let Some(bitmap) = log.get(bitmap_start..bitmap_start + bitmap_len) else {
        return reject(format!(
            "log is truncated: its dirty vector needs {bitmap_len} bytes of bitmap"
        ));
    };
    let first_page = (bitmap_start + bitmap_len).div_ceil(sector) * sector;
    let dirty: Vec<usize> = (0..pages)
        .filter(|&i| bitmap[i / 8] & (1 << (i % 8)) != 0)
        .collect();
    if dirty.is_empty() {
        return reject("log's dirty vector marks no page dirty");
    }
    let needed = first_page + dirty.len() * SECTOR;
    if log.len() < needed {
        return reject(format!(
            "log is truncated: {} dirty pages need {needed} bytes, the log has {}",
            dirty.len(),
            log.len()
        ));
    }
    // A hive that grew since the primary file was last written: every page
    // past the primary's end must come from the log (so the copy is never
    // larger than the primary plus the log: no allocation sized from a claim).
    let grown_from = hive.len().saturating_sub(BASE_BLOCK_LEN).div_ceil(SECTOR);
    if grown_from < pages {
        let covered = dirty.iter().filter(|&&p| p >= grown_from).count();
        if covered != pages - grown_from {
            return reject(format!(
                "log says the hive bins data is {bins_size} bytes, but the primary file has {} and the log does not hold the pages in between",
                hive.len().saturating_sub(BASE_BLOCK_LEN)
            ));
        }
    }
    // The private copy, as long as the log says the hive is.
    let mut copy = vec![0u8; total.max(hive.len().min(MAX_HIVE_SIZE))];
    let keep = hive.len().min(copy.len());
    copy[..keep].copy_from_slice(&hive[..keep]);
    for (n, &page) in dirty.iter().enumerate() {
        let from = first_page + n * SECTOR;
        let to = BASE_BLOCK_LEN + page * SECTOR;
        copy[to..to + SECTOR].copy_from_slice(&log[from..from + SECTOR]);
    }
    check_dirty_bins(&copy, bins_size, &dirty)?;
    // The base block of a recovered hive: the log's, as a primary file.
    copy[..508].copy_from_slice(&log[..508]);
    copy[28..32].copy_from_slice(&0u32.to_le_bytes());
    copy[8..12].copy_from_slice(&log_seq.to_le_bytes());
    let sum = base_block_checksum(&copy).unwrap_or(0);
    copy[0x1FC..0x200].copy_from_slice(&sum.to_le_bytes());
    Ok(copy)
}

/// Every hive bin that holds a dirty page must be sound after the replay:
/// signature `hbin`, its offset where it lies, a size that keeps it inside
/// the hive bins data. One pass over the bins (each at least 4 KiB).
fn check_dirty_bins(copy: &[u8], bins_size: usize, dirty: &[usize]) -> Result<(), LogRejected> {
    let mut next_dirty = dirty.iter().map(|&p| p * SECTOR).peekable();
    let mut at = 0usize;
    while at < bins_size {
        let Some(&d) = next_dirty.peek() else {
            return Ok(());
        };
        let abs = BASE_BLOCK_LEN + at;
        let sig_ok = copy.get(abs..abs + 4) == Some(b"hbin");
        let off = u32_at(copy, abs + 4).unwrap_or(u32::MAX) as usize;
        let size = u32_at(copy, abs + 8).unwrap_or(0) as usize;
        let sound = sig_ok
            && off == at
            && size >= HBIN_ALIGN
            && size % HBIN_ALIGN == 0
            && at + size <= bins_size;
        if !sound {
            // Bins from here on cannot be located; only a problem when a
            // dirty page lies here or later.
            return reject(format!(
                "after replay the hive bin at offset 0x{at:x} is invalid (dirty page at 0x{d:x}): recovery aborted"
            ));
        }
        while next_dirty.peek().is_some_and(|&d| d < at + size) {
            next_dirty.next();
        }
        at += size;
    }
    match next_dirty.peek() {
        Some(d) => reject(format!(
            "dirty page at 0x{d:x} lies past the hive bins (0x{bins_size:x} bytes)"
        )),
        None => Ok(()),
    }
}

/// Which state of a hive [`open_with_logs`] opened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HiveState {
    /// The primary file was clean and read as it is.
    Primary,
    /// The primary file was dirty; its log was replayed into a private copy,
    /// which was read. `log` is the old-format log's path, or for new-format
    /// logs their paths in the order applied followed by what was applied:
    /// `X.LOG1, X.LOG2 (new format, log entries 2 to 5)` (and, when an
    /// unsound entry stopped the replay early, `; then stopped: why`).
    Replayed { log: String },
    /// The primary file was dirty and read as stored: `reason` says why no log
    /// was replayed (none found, or each one ignored and why).
    Dirty { reason: String },
}

/// Opens a hive from its primary file and, when that is dirty, the candidate
/// transaction logs beside it (`(path, bytes)`), in memory: the new-format
/// ones (file type 6) together first (`newlog.rs`), else the old-format ones
/// in the order given (the first that applies). A log that does not apply is
/// ignored and its reason kept in [`HiveState::Dirty`]. Errors are those of
/// [`Hive::from_bytes`] on the primary file.
pub fn open_with_logs(
    name: &str,
    primary: Vec<u8>,
    logs: &[(String, Vec<u8>)],
) -> Result<(Hive, HiveState), RegistryError> {
    if !needs_replay(&primary) {
        return Ok((Hive::from_bytes(name, primary)?, HiveState::Primary));
    }
    let mut reasons = Vec::new();
    let (new, old): (Vec<_>, Vec<_>) = logs
        .iter()
        .partition(|(_, log)| log_file_type(log) == Some(6));
    if !new.is_empty() {
        let given: Vec<(&str, &[u8])> = new.iter().map(|(p, l)| (p.as_str(), &l[..])).collect();
        let replayed = crate::panic::contain_payload(|| replay_new_logs(&primary, &given))
            .unwrap_or_else(|m| Err(LogRejected(format!("replay panicked: {m}"))));
        match replayed {
            Ok(r) => {
                let log = r.describe();
                match Hive::from_bytes(name, r.bytes) {
                    Ok(hive) => return Ok((hive, HiveState::Replayed { log })),
                    Err(e) => reasons.push(format!(
                        "{}: the replayed hive could not be opened: {e}",
                        r.logs.join(", ")
                    )),
                }
            }
            Err(why) => reasons.push(why.0),
        }
    }
    for (path, log) in old {
        let replayed = crate::panic::contain_payload(|| replay_old_log(&primary, log))
            .unwrap_or_else(|m| Err(LogRejected(format!("replay panicked: {m}"))));
        match replayed.map_err(|r| r.0).and_then(|bytes| {
            Hive::from_bytes(name, bytes)
                .map_err(|e| format!("the replayed hive could not be opened: {e}"))
        }) {
            Ok(hive) => return Ok((hive, HiveState::Replayed { log: path.clone() })),
            Err(why) => reasons.push(format!("{path}: {why}")),
        }
    }
    let reason = if reasons.is_empty() {
        "no transaction log beside it".to_string()
    } else {
        format!("log ignored: {}", reasons.join("; "))
    };
    Ok((
        Hive::from_bytes(name, primary)?,
        HiveState::Dirty { reason },
    ))
}
