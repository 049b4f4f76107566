//! Windows FILETIME values (100 ns ticks since 1601-01-01 UTC), as NTFS and
//! the registry store them, shown as RFC 3339 UTC.

use std::fmt;

/// A FILETIME. Zero means "not set".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileTime(pub u64);

/// Ticks between 1601-01-01 and 1970-01-01.
const UNIX_EPOCH_TICKS: u64 = 116_444_736_000_000_000;

impl FileTime {
    /// `None` for the zero time, which Windows writes for "never".
    pub fn new(ticks: u64) -> Option<FileTime> {
        (ticks != 0).then_some(FileTime(ticks))
    }

    /// The same instant cut to whole seconds: what reports show.
    pub fn whole_seconds(self) -> FileTime {
        FileTime(self.0 - self.0 % 10_000_000)
    }

    /// The instant `minutes` later (earlier when negative); `None` when
    /// that leaves the FILETIME range or is the zero time.
    pub fn plus_minutes(self, minutes: i32) -> Option<FileTime> {
        let ticks = i128::from(self.0) + i128::from(minutes) * 600_000_000;
        FileTime::new(u64::try_from(ticks).ok()?)
    }

    /// Whole seconds since the Unix epoch (negative before 1970).
    pub fn unix_seconds(self) -> i64 {
        (self.0 as i128 - UNIX_EPOCH_TICKS as i128).div_euclid(10_000_000) as i64
    }
}

impl fmt::Display for FileTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match chrono::DateTime::from_timestamp(self.unix_seconds(), 0) {
            Some(t) => write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            None => write!(f, "filetime:{}", self.0),
        }
    }
}

impl serde::Serialize for FileTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(
            FileTime(UNIX_EPOCH_TICKS).to_string(),
            "1970-01-01T00:00:00Z"
        );
        // 2001-08-15T10:00:00Z = 997869600 s after the Unix epoch.
        let t = FileTime(UNIX_EPOCH_TICKS + 997_869_600 * 10_000_000);
        assert_eq!(t.to_string(), "2001-08-15T10:00:00Z");
        assert_eq!(FileTime::new(0), None);
        // The largest FILETIME must not panic.
        let _ = FileTime(u64::MAX).to_string();
    }

    #[test]
    fn plus_minutes_shifts_both_ways_and_stays_in_range() {
        let t = FileTime(UNIX_EPOCH_TICKS + 997_869_600 * 10_000_000);
        assert_eq!(
            t.plus_minutes(480).unwrap().to_string(),
            "2001-08-15T18:00:00Z"
        );
        assert_eq!(
            t.plus_minutes(-60).unwrap().to_string(),
            "2001-08-15T09:00:00Z"
        );
        assert_eq!(FileTime(1).plus_minutes(-1), None);
        assert_eq!(FileTime(u64::MAX).plus_minutes(1), None);
        assert_eq!(
            FileTime(600_000_000).plus_minutes(-1),
            None,
            "zero is no time"
        );
    }
}
