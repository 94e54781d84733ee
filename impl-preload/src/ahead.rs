//! Directory read-ahead of attributes: the one thing this client keeps
//! between calls besides the entries of an open directory stream.
//!
//! A remote directory stream of a 1.1 session reads its entries with
//! `READDIRPLUS`, which brings each entry's attributes along. Many programs
//! stat each entry right after reading it (`ls -l`, Python's `os.scandir`),
//! so the attributes of the batch a stream has just read are kept and
//! answer those calls without a request: `ls -l` of a directory then costs
//! one request per batch, not one per entry. Programs that close the
//! stream before they stat the entries (`du`, `os.listdir` then `os.stat`)
//! still pay a request per entry.
//!
//! The read-ahead is kept short-lived so that a program sees what it would
//! have seen by asking:
//!
//! - only the last batch of each open stream of this process is kept, and
//!   only entries of that batch are answered;
//! - it is dropped when its stream is closed, rewound or moved with
//!   `seekdir`;
//! - everything is dropped before any request of this process that may
//!   change a file (writes, creations, renames, attribute changes, ...);
//! - a batch older than [`MAX_AGE`] is not used.
//!
//! Changes made meanwhile by other clients are seen after at most
//! [`MAX_AGE`], as a listing read just before them would show them too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use orfa_client_core::Request;
use orfa_wire::{Attr, FileType, OpenFlags};

use crate::remote::Server;

/// How long a batch's attributes may answer.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(1);

/// The attributes of one batch of one stream.
struct Batch {
    /// The stream that read it (its address).
    stream: usize,
    /// The server (its address).
    server: usize,
    /// The directory's path from the export root.
    dir: Vec<u8>,
    /// Name to attributes.
    attrs: HashMap<Vec<u8>, Attr>,
    /// When it was read.
    at: Instant,
}

static BATCHES: Mutex<Vec<Batch>> = Mutex::new(Vec::new());

/// How many batches are kept: while 0, nothing takes the lock.
static KEPT: AtomicUsize = AtomicUsize::new(0);

fn batches() -> MutexGuard<'static, Vec<Batch>> {
    BATCHES.lock().unwrap_or_else(PoisonError::into_inner)
}

fn addr(server: &Server) -> usize {
    core::ptr::from_ref(server) as usize
}

fn update_count(list: &[Batch]) {
    KEPT.store(list.len(), Ordering::Release);
}

/// Keeps the attributes of the batch `stream` just read from directory
/// `dir` (its path from the export root) of `server`, replacing the
/// stream's previous batch.
pub(crate) fn keep<'a>(
    stream: usize,
    server: &Server,
    dir: &[u8],
    entries: impl Iterator<Item = (&'a [u8], Attr)>,
) {
    let attrs: HashMap<Vec<u8>, Attr> = entries.map(|(n, a)| (n.to_vec(), a)).collect();
    let mut list = batches();
    list.retain(|b| b.stream != stream && b.at.elapsed() < MAX_AGE);
    if !attrs.is_empty() {
        list.push(Batch {
            stream,
            server: addr(server),
            dir: dir.to_vec(),
            attrs,
            at: Instant::now(),
        });
    }
    update_count(&list);
}

/// Drops what `stream` read ahead (closed, rewound or moved).
pub(crate) fn forget_stream(stream: usize) {
    if KEPT.load(Ordering::Acquire) == 0 {
        return;
    }
    let mut list = batches();
    list.retain(|b| b.stream != stream);
    update_count(&list);
}

/// Drops everything.
pub(crate) fn forget_all() {
    if KEPT.load(Ordering::Acquire) == 0 {
        return;
    }
    let mut list = batches();
    list.clear();
    update_count(&list);
}

/// The attributes read ahead for `full` (a path from the export root of
/// `server`), if a stream's recent batch has them. With `follow`, a
/// symbolic link is not answered (its target's attributes are not known).
pub(crate) fn lookup(server: &Server, full: &[u8], follow: bool) -> Option<Attr> {
    if KEPT.load(Ordering::Acquire) == 0 {
        return None;
    }
    let (dir, name) = match full.iter().rposition(|&b| b == b'/') {
        Some(slash) => (full.get(..slash)?, full.get(slash + 1..)?),
        None => (&full[..0], full),
    };
    let list = batches();
    let attr = list
        .iter()
        .filter(|b| b.server == addr(server) && b.dir == dir && b.at.elapsed() < MAX_AGE)
        .find_map(|b| b.attrs.get(name))?;
    if follow && FileType::from_mode(attr.mode.get()) == FileType::SYMLINK {
        return None;
    }
    Some(*attr)
}

/// Called before every request this process sends: one that may change a
/// file drops the read-ahead.
pub(crate) fn before_request(req: &Request<'_>) {
    if KEPT.load(Ordering::Acquire) != 0 && may_change(req) {
        forget_all();
    }
}

/// Whether a request may change a file's attributes or a directory.
fn may_change(req: &Request<'_>) -> bool {
    match req {
        Request::Open { flags, .. } => flags.intersects(OpenFlags::CREATE | OpenFlags::TRUNC),
        Request::Close { .. }
        | Request::Read { .. }
        | Request::Stat { .. }
        | Request::StatX { .. }
        | Request::ReadDir { .. }
        | Request::ReadDirPlus { .. }
        | Request::ReadLink { .. }
        | Request::Access { .. }
        | Request::Fsync { .. }
        | Request::StatFs { .. }
        | Request::GetXattr { .. }
        | Request::ListXattr { .. }
        | Request::Lock { .. }
        | Request::GetLk { .. }
        | Request::Cancel { .. }
        | Request::Seek { .. }
        | Request::SetContext { .. } => false,
        _ => true,
    }
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&BATCHES)
}

#[cfg(test)]
mod tests {
    use orfa_client_core::Request;
    use orfa_wire::{OpenFlags, PathFlags};

    use super::may_change;

    #[test]
    fn reading_requests_keep_the_read_ahead() {
        let stat = Request::Stat {
            base: 0,
            path: b"f",
            flags: PathFlags::NONE,
        };
        assert!(!may_change(&stat));
        let open = |flags| Request::Open {
            base: 0,
            path: b"f",
            flags,
            mode: 0,
        };
        assert!(!may_change(&open(OpenFlags::READ | OpenFlags::WRITE)));
        assert!(may_change(&open(OpenFlags::WRITE | OpenFlags::TRUNC)));
        assert!(may_change(&open(OpenFlags::WRITE | OpenFlags::CREATE)));
        let write = Request::Write {
            handle: 1,
            offset: 0,
            data: b"x",
            append: false,
        };
        assert!(may_change(&write));
        let unlink = Request::Unlink {
            base: 0,
            path: b"f",
            flags: PathFlags::NONE,
        };
        assert!(may_change(&unlink));
    }
}
