//! The space of open files: `fallocate`, `SEEK_DATA`/`SEEK_HOLE`, and
//! copies made by the kernel with `copy_file_range(2)`.
//!
//! Seeking moves the handle's descriptor position, which nothing else
//! relies on: file data moves with `pread`/`pwrite` at explicit offsets, a
//! directory listing seeks to its cookie before every read, and an append
//! sets the position itself.

use std::os::fd::{AsFd, BorrowedFd};

use orfa_wire::{ErrorCode, PathFlags};

use orfa_server_core::BackendResult;

use super::sys::{self, Errno};
use super::{NativeNode, attr, transfer};

/// The `FALLOC_FL_*` bit of each protocol flag.
const FALLOCATE_BITS: [(PathFlags, i32); 3] = [
    (PathFlags::KEEP_SIZE, libc::FALLOC_FL_KEEP_SIZE),
    (PathFlags::PUNCH_HOLE, libc::FALLOC_FL_PUNCH_HOLE),
    (PathFlags::ZERO_RANGE, libc::FALLOC_FL_ZERO_RANGE),
];

/// `fallocate(2)` on the node's descriptor. Flags other than the three the
/// protocol names are [`ErrorCode::INVAL`]; the kernel judges the rest.
pub(super) fn fallocate(
    node: &NativeNode,
    offset: u64,
    len: u64,
    flags: PathFlags,
) -> BackendResult<()> {
    let mut mode = 0;
    let mut known = PathFlags::NONE;
    for (flag, bit) in FALLOCATE_BITS {
        known |= flag;
        if flags.contains(flag) {
            mode |= bit;
        }
    }
    if !known.contains(flags) {
        return Err(ErrorCode::INVAL);
    }
    Ok(sys::space::fallocate(node.fd.as_fd(), mode, offset, len)?)
}

/// `lseek(2)` with `SEEK_HOLE` or `SEEK_DATA`; an offset past what `off_t`
/// holds is past the end of file.
pub(super) fn seek(node: &NativeNode, offset: u64, hole: bool) -> BackendResult<u64> {
    let offset = i64::try_from(offset).map_err(|_| ErrorCode::NXIO)?;
    let whence = if hole {
        libc::SEEK_HOLE
    } else {
        libc::SEEK_DATA
    };
    Ok(sys::lseek(node.fd.as_fd(), offset, whence)?)
}

/// Copies up to `len` bytes with `copy_file_range(2)`, or by reading and
/// writing `chunk` bytes at a time where the kernel cannot copy between
/// these files (different file systems, a file system without support).
pub(super) fn copy_range(
    from: &NativeNode,
    from_offset: u64,
    to: &NativeNode,
    to_offset: u64,
    len: u64,
    chunk: usize,
) -> BackendResult<u64> {
    let (src, dst) = (from.fd.as_fd(), to.fd.as_fd());
    let total = usize::try_from(len).unwrap_or(usize::MAX);
    let first = sys::space::copy_file_range(src, from_offset, dst, to_offset, total);
    let done = match first {
        Ok(n) => n,
        Err(e) if may_fall_back(e, src, from_offset, dst, to_offset, len)? => {
            return copy_by_reading(src, from_offset, dst, to_offset, total, chunk);
        }
        Err(e) => return Err(e.into()),
    };
    if done == 0 {
        return Ok(0);
    }
    let rest = transfer(total - done, |more| {
        let step = (done + more) as u64;
        let (at, out) = (
            from_offset.saturating_add(step),
            to_offset.saturating_add(step),
        );
        sys::space::copy_file_range(src, at, dst, out, total - done - more)
    })?;
    Ok((done + rest) as u64)
}

/// Whether a `copy_file_range` that failed with `e` may be done by reading
/// and writing instead: the kernel could not copy between these files, as
/// opposed to refusing the copy itself (overlapping ranges of one file,
/// objects that are not regular files), which `EINVAL` also reports.
fn may_fall_back(
    e: Errno,
    src: BorrowedFd<'_>,
    from_offset: u64,
    dst: BorrowedFd<'_>,
    to_offset: u64,
    len: u64,
) -> BackendResult<bool> {
    match e.0 {
        libc::EXDEV | libc::EOPNOTSUPP | libc::ENOSYS => Ok(true),
        libc::EINVAL => {
            if from_offset > i64::MAX as u64 || to_offset > i64::MAX as u64 {
                return Ok(false);
            }
            let (a, b) = (attr::attr_of(src)?, attr::attr_of(dst)?);
            let regular = |mode: u64| mode & 0o170000 == 0o100000;
            let same = (a.dev.get(), a.ino.get()) == (b.dev.get(), b.ino.get());
            let overlap = to_offset < from_offset.saturating_add(len)
                && from_offset < to_offset.saturating_add(len);
            Ok(regular(a.mode.get()) && regular(b.mode.get()) && !(same && overlap))
        }
        _ => Ok(false),
    }
}

/// Copies `total` bytes by `pread` and `pwrite` in pieces of `chunk` bytes;
/// stops short at the end of the source, or at an error after some progress.
pub(super) fn copy_by_reading(
    src: BorrowedFd<'_>,
    from_offset: u64,
    dst: BorrowedFd<'_>,
    to_offset: u64,
    total: usize,
    chunk: usize,
) -> BackendResult<u64> {
    let mut buf = vec![0u8; total.min(chunk).max(1)];
    let mut done = 0usize;
    while done < total {
        let want = (total - done).min(buf.len());
        let at = from_offset.saturating_add(done as u64);
        let piece = buf.get_mut(..want).unwrap_or_default();
        let n = match transfer(want, |got| {
            sys::pread(
                src,
                piece.get_mut(got..).unwrap_or_default(),
                at.saturating_add(got as u64),
            )
        }) {
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        if n == 0 {
            break;
        }
        let data = buf.get(..n).unwrap_or_default();
        let out = to_offset.saturating_add(done as u64);
        let written = match transfer(n, |put| {
            sys::pwrite(
                dst,
                data.get(put..).unwrap_or_default(),
                out.saturating_add(put as u64),
            )
        }) {
            Ok(w) => w,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        done += written;
        if written < n {
            break;
        }
    }
    Ok(done as u64)
}
