//! A `Disk` over a third-party `Read + Seek` reader that needs `&mut self`.
//!
//! Instead of one reader behind a lock (which would serialise every worker),
//! the disk keeps a small pool of readers: a read takes one out (a lock held
//! for a `Vec::pop`), reads without any lock, and puts it back. When the pool
//! is empty a new reader is opened, so with N workers there are at most N
//! readers; opening costs a header parse, once per worker. A reader that
//! failed a read is dropped rather than returned (its state is unknown).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{check_range, Disk};

/// Opens a fresh reader; the message of an error names what failed.
pub(crate) type Opener<R> = Box<dyn Fn() -> Result<R, String> + Send + Sync>;

/// Readers kept idle at most (more can exist while busy).
const MAX_IDLE: usize = 64;

pub(crate) struct PooledDisk<R> {
    path: PathBuf,
    size: u64,
    what: &'static str,
    open: Opener<R>,
    idle: Mutex<Vec<R>>,
}

impl<R: Read + Seek + Send> PooledDisk<R> {
    /// `first` is the reader already opened while recognising the image.
    pub(crate) fn new(
        path: &Path,
        size: u64,
        what: &'static str,
        first: R,
        open: Opener<R>,
    ) -> Self {
        PooledDisk {
            path: path.to_path_buf(),
            size,
            what,
            open,
            idle: Mutex::new(vec![first]),
        }
    }

    fn take(&self) -> std::io::Result<R> {
        let popped = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        match popped {
            Some(r) => Ok(r),
            None => (self.open)().map_err(|e| {
                std::io::Error::other(format!(
                    "{}: cannot open another {} reader: {e}",
                    self.path.display(),
                    self.what
                ))
            }),
        }
    }

    fn give_back(&self, r: R) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(r);
        }
    }
}

impl<R: Read + Seek + Send> Disk for PooledDisk<R> {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        check_range(&self.path, offset, buf.len(), self.size)?;
        if buf.is_empty() {
            return Ok(());
        }
        let mut r = self.take()?;
        // A third-party parser may panic on crafted bytes: turn that into an
        // error for this read (the reader is dropped with the panic).
        let result = crate::panic::contain_payload(|| {
            let res = r
                .seek(SeekFrom::Start(offset))
                .and_then(|_| r.read_exact(buf));
            (res, r)
        });
        match result {
            Ok((Ok(()), r)) => {
                self.give_back(r);
                Ok(())
            }
            Err(_) => Err(super::io_err(
                &self.path,
                offset,
                format!(
                    "the {} reader panicked on this read (damaged container?)",
                    self.what
                ),
            )),
            Ok((Err(e), _)) => Err(std::io::Error::new(
                e.kind(),
                format!(
                    "{}: {} read of {} bytes at offset {offset} failed: {e}",
                    self.path.display(),
                    self.what,
                    buf.len()
                ),
            )),
        }
    }
}
