//! Operations on the space of a regular file: `fallocate`, `SEEK_DATA` and
//! `SEEK_HOLE`, and copies between files that keep holes as holes.
//!
//! Argument checks and their order follow Linux's `vfs_fallocate`,
//! `lseek` and `vfs_copy_file_range`, so a program sees the same errors as
//! on a local file system.

use alloc::vec::Vec;

use orfa_wire::{ErrorCode, PathFlags};

use super::data::{FileData, MAX_FILE_SIZE, PAGE};
use super::inode::{Inode, Kind};
use super::{MemFs, MemNode};
use crate::backend::{BackendResult, Context};

/// The largest offset a host's signed `off_t` holds.
const OFF_MAX: u64 = i64::MAX as u64;

/// The flags `fallocate` accepts.
const FALLOCATE_FLAGS: PathFlags =
    PathFlags(PathFlags::KEEP_SIZE.0 | PathFlags::PUNCH_HOLE.0 | PathFlags::ZERO_RANGE.0);

/// What a `fallocate` does to its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    Allocate,
    Punch,
    Zero,
}

impl Fill {
    /// The action `flags` ask for; [`ErrorCode::NOTSUP`] for a combination
    /// Linux refuses (a punch without `KEEP_SIZE`, a punch that also zeroes).
    fn parse(flags: PathFlags) -> BackendResult<Self> {
        if !FALLOCATE_FLAGS.contains(flags) {
            return Err(ErrorCode::INVAL);
        }
        let keep = flags.contains(PathFlags::KEEP_SIZE);
        match (
            flags.contains(PathFlags::PUNCH_HOLE),
            flags.contains(PathFlags::ZERO_RANGE),
        ) {
            (true, false) if keep => Ok(Self::Punch),
            (true, _) => Err(ErrorCode::NOTSUP),
            (false, true) => Ok(Self::Zero),
            (false, false) => Ok(Self::Allocate),
        }
    }
}

/// The content of the regular file `inode`, or the error an operation on
/// another kind of object gets (`other` for neither file nor directory).
fn file_data(inode: &Inode, other: ErrorCode) -> BackendResult<&FileData> {
    match &inode.kind {
        Kind::File(f) => Ok(f),
        Kind::Dir(_) => Err(ErrorCode::ISDIR),
        _ => Err(other),
    }
}

impl MemFs {
    /// Pages the file system may still allocate.
    fn free_pages(&self) -> u64 {
        (self.limits.bytes / PAGE).saturating_sub(self.used_pages)
    }

    pub(super) fn do_fallocate(
        &mut self,
        cx: &Context,
        node: &MemNode,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> BackendResult<()> {
        if offset > OFF_MAX || len == 0 || len > OFF_MAX {
            return Err(ErrorCode::INVAL);
        }
        let fill = Fill::parse(flags)?;
        if node.path_only || !node.write {
            return Err(ErrorCode::BADF);
        }
        let free = self.free_pages();
        let inode = self.inodes.get_mut(&node.ino).ok_or(ErrorCode::IO)?;
        file_data(inode, ErrorCode::NODEV)?;
        let Kind::File(f) = &mut inode.kind else {
            return Err(ErrorCode::IO);
        };
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= MAX_FILE_SIZE)
            .ok_or(ErrorCode::FBIG)?;
        if fill != Fill::Punch && f.pages_to_allocate(offset, end) > free {
            return Err(ErrorCode::NOSPC);
        }

        let before = f.pages();
        match fill {
            Fill::Allocate => f.allocate(offset, end),
            Fill::Punch => f.punch(offset, end),
            Fill::Zero => f.zero(offset, end),
        }
        if fill != Fill::Punch && !flags.contains(PathFlags::KEEP_SIZE) {
            f.extend_to(end);
        }
        self.used_pages = self.used_pages.saturating_sub(before) + f.pages();
        inode.touch_modify(cx.now);
        inode.drop_setid_on_write(cx);
        Ok(())
    }

    pub(super) fn do_seek(&self, node: &MemNode, offset: u64, hole: bool) -> BackendResult<u64> {
        if node.path_only {
            return Err(ErrorCode::BADF);
        }
        let inode = self.inode(node.ino)?;
        let Kind::File(f) = &inode.kind else {
            return Err(ErrorCode::INVAL);
        };
        let found = if hole {
            f.next_hole(offset)
        } else {
            f.next_data(offset)
        };
        found.ok_or(ErrorCode::NXIO)
    }

    /// Copies `len` bytes as `copy_file_range(2)` does: data pieces are
    /// written, holes of the source punched in the destination, so copying a
    /// sparse file costs its data, not its size.
    pub(super) fn do_copy_range(
        &mut self,
        cx: &Context,
        from: &MemNode,
        from_offset: u64,
        to: &MemNode,
        to_offset: u64,
        len: u64,
    ) -> BackendResult<u64> {
        if from.path_only || to.path_only {
            return Err(ErrorCode::BADF);
        }
        let source = file_data(self.inode(from.ino)?, ErrorCode::INVAL)?;
        file_data(self.inode(to.ino)?, ErrorCode::INVAL)?;
        if !from.read || !to.write || to.append {
            return Err(ErrorCode::BADF);
        }
        if from_offset > OFF_MAX || to_offset > OFF_MAX {
            return Err(ErrorCode::INVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        if from_offset.saturating_add(len) > OFF_MAX || to_offset.saturating_add(len) > OFF_MAX {
            return Err(ErrorCode::OVERFLOW);
        }
        let mut count = len.min(source.size().saturating_sub(from_offset));
        if count > 0 {
            if to_offset >= MAX_FILE_SIZE {
                return Err(ErrorCode::FBIG);
            }
            count = count.min(MAX_FILE_SIZE - to_offset);
        }
        let overlaps = to_offset < from_offset + count && from_offset < to_offset + count;
        if from.ino == to.ino && overlaps {
            return Err(ErrorCode::INVAL);
        }
        if count == 0 {
            return Ok(0);
        }

        let pieces: Vec<(u64, Vec<u8>)> = source
            .pieces(from_offset, from_offset + count)
            .map(|(at, bytes)| (at - from_offset, bytes.to_vec()))
            .collect();
        let limit = self.limits.bytes / PAGE;
        let used = self.used_pages;
        let inode = self.inodes.get_mut(&to.ino).ok_or(ErrorCode::IO)?;
        let Kind::File(dest) = &mut inode.kind else {
            return Err(ErrorCode::IO);
        };
        let used_elsewhere = used.saturating_sub(dest.pages());
        let mut done = 0;
        let mut full = false;
        for (rel, bytes) in pieces {
            // The source's hole before this piece reads as zeros there too.
            dest.punch(to_offset + done, to_offset + rel);
            done = rel;
            let at = to_offset + rel;
            let need = dest.pages_needed(at, bytes.len());
            if used_elsewhere + dest.pages() + need > limit {
                full = true;
                break;
            }
            dest.write(at, &bytes);
            done = rel + bytes.len() as u64;
        }
        if !full {
            dest.punch(to_offset + done, to_offset + count);
            done = count;
        }
        dest.extend_to(to_offset + done);
        self.used_pages = used_elsewhere + dest.pages();
        if done == 0 {
            return Err(ErrorCode::NOSPC);
        }
        inode.touch_modify(cx.now);
        inode.drop_setid_on_write(cx);
        Ok(done)
    }
}
