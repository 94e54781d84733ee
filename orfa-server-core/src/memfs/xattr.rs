//! Extended attributes: a small map of names to values on every inode.
//!
//! Names must start with one of the namespaces `user.`, `trusted.`,
//! `security.` or `system.` (others fail with [`ErrorCode::NOTSUP`]). The
//! checks are Linux's: `user.` attributes live only on regular files and
//! directories and need read or write permission; `trusted.` ones are the
//! superuser's alone (hidden from others' lists); `security.` ones may be
//! read by anyone and written by the superuser; `system.` ones (POSIX ACLs
//! on Linux) may be written by the owner. ACLs are stored as given, not
//! enforced.
//!
//! An inode holds at most [`MAX_BYTES_PER_INODE`] bytes of names and values
//! ([`ErrorCode::NOSPC`] past it); they count, in pages, toward the file
//! system's data limit.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use orfa_wire::{AccessMode, ErrorCode, MAX_XATTR_NAME, MAX_XATTR_VALUE, PathFlags};

use super::MemFs;
use super::data::PAGE;
use super::inode::{Inode, Kind, S_ISVTX};
use crate::backend::{BackendResult, Context, copy_xattr_out};

/// The most bytes of names and values one inode holds.
pub(super) const MAX_BYTES_PER_INODE: usize = 64 * 1024;

/// `E2BIG`: a value longer than any attribute may hold.
const TOO_BIG: ErrorCode = ErrorCode(7);

/// The extended attributes of one inode.
#[derive(Debug, Default)]
pub(super) struct Xattrs {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Bytes of every name and value held.
    bytes: usize,
}

impl Xattrs {
    /// Pages the attributes take from the file system's data limit.
    pub(super) fn pages(&self) -> u64 {
        (self.bytes as u64).div_ceil(PAGE)
    }

    /// The bytes held if `name` were set to a value of `len` bytes.
    fn bytes_with(&self, name: &[u8], len: usize) -> usize {
        let old = self.map.get(name).map_or(0, |v| name.len() + v.len());
        self.bytes - old + name.len() + len
    }
}

/// The namespace an attribute name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Namespace {
    User,
    Trusted,
    Security,
    System,
}

impl Namespace {
    const ALL: [(&'static [u8], Self); 4] = [
        (b"user.", Self::User),
        (b"trusted.", Self::Trusted),
        (b"security.", Self::Security),
        (b"system.", Self::System),
    ];

    /// The namespace of `name`: [`ErrorCode::NOTSUP`] for an unknown one,
    /// [`ErrorCode::INVAL`] for a bare prefix, [`ErrorCode::RANGE`] for a
    /// name that is empty or too long.
    fn of(name: &[u8]) -> BackendResult<Self> {
        if name.is_empty() || name.len() > MAX_XATTR_NAME {
            return Err(ErrorCode::RANGE);
        }
        let (prefix, ns) = Self::ALL
            .into_iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .ok_or(ErrorCode::NOTSUP)?;
        if name.len() == prefix.len() {
            return Err(ErrorCode::INVAL);
        }
        Ok(ns)
    }

    /// Whether `cx` may see attributes of this namespace at all.
    fn visible_to(self, cx: &Context) -> bool {
        self != Self::Trusted || cx.uid == 0
    }

    /// Checks that `cx` may read (or with `write`, change) an attribute of
    /// this namespace on `inode`.
    fn check(self, cx: &Context, inode: &Inode, write: bool) -> BackendResult<()> {
        let refuse = if write {
            ErrorCode::PERM
        } else {
            ErrorCode::NODATA
        };
        match self {
            Self::Trusted if cx.uid != 0 => Err(refuse),
            Self::Security if write && cx.uid != 0 => Err(ErrorCode::PERM),
            Self::System if write && !inode.owned_by(cx) => Err(ErrorCode::PERM),
            Self::User => {
                if !matches!(inode.kind, Kind::File(_) | Kind::Dir(_)) {
                    return Err(refuse);
                }
                let sticky_dir = inode.is_dir() && inode.mode & S_ISVTX != 0;
                if write && sticky_dir && !inode.owned_by(cx) {
                    return Err(ErrorCode::PERM);
                }
                let want = if write {
                    AccessMode::WRITE
                } else {
                    AccessMode::READ
                };
                if inode.permits(cx, want) {
                    Ok(())
                } else {
                    Err(ErrorCode::ACCES)
                }
            }
            _ => Ok(()),
        }
    }
}

impl MemFs {
    /// The inode an attribute operation names.
    fn xattr_target(
        &self,
        cx: &Context,
        start: u64,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<u64> {
        self.resolve(cx, start, path, !flags.contains(PathFlags::NOFOLLOW))
    }

    pub(super) fn do_getxattr(
        &self,
        cx: &Context,
        start: u64,
        path: &[u8],
        name: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        let ino = self.xattr_target(cx, start, path, flags)?;
        let ns = Namespace::of(name)?;
        let inode = self.inode(ino)?;
        ns.check(cx, inode, false)?;
        let value = inode.xattrs.map.get(name).ok_or(ErrorCode::NODATA)?;
        copy_xattr_out(value, buf)
    }

    pub(super) fn do_listxattr(
        &self,
        cx: &Context,
        start: u64,
        path: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        let ino = self.xattr_target(cx, start, path, flags)?;
        let mut list = Vec::new();
        for name in self.inode(ino)?.xattrs.map.keys() {
            if Namespace::of(name).is_ok_and(|ns| ns.visible_to(cx)) {
                list.extend_from_slice(name);
                list.push(0);
            }
        }
        copy_xattr_out(&list, buf)
    }

    pub(super) fn do_setxattr(
        &mut self,
        cx: &Context,
        start: u64,
        path: &[u8],
        name: &[u8],
        value: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        if value.len() > MAX_XATTR_VALUE {
            return Err(TOO_BIG);
        }
        let ino = self.xattr_target(cx, start, path, flags)?;
        let ns = Namespace::of(name)?;
        let free = (self.limits.bytes / PAGE).saturating_sub(self.used_pages);
        let inode = self.inodes.get_mut(&ino).ok_or(ErrorCode::IO)?;
        ns.check(cx, inode, true)?;
        let xattrs = &mut inode.xattrs;
        let exists = xattrs.map.contains_key(name);
        if exists && flags.contains(PathFlags::XATTR_CREATE) {
            return Err(ErrorCode::EXIST);
        }
        if !exists && flags.contains(PathFlags::XATTR_REPLACE) {
            return Err(ErrorCode::NODATA);
        }
        let bytes = xattrs.bytes_with(name, value.len());
        let (old_pages, new_pages) = (xattrs.pages(), (bytes as u64).div_ceil(PAGE));
        if bytes > MAX_BYTES_PER_INODE || new_pages.saturating_sub(old_pages) > free {
            return Err(ErrorCode::NOSPC);
        }
        xattrs.map.insert(name.to_vec(), value.to_vec());
        xattrs.bytes = bytes;
        self.used_pages = self.used_pages.saturating_sub(old_pages) + new_pages;
        inode.touch_change(cx.now);
        Ok(())
    }

    pub(super) fn do_removexattr(
        &mut self,
        cx: &Context,
        start: u64,
        path: &[u8],
        name: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let ino = self.xattr_target(cx, start, path, flags)?;
        let ns = Namespace::of(name)?;
        let inode = self.inodes.get_mut(&ino).ok_or(ErrorCode::IO)?;
        ns.check(cx, inode, true)?;
        let xattrs = &mut inode.xattrs;
        let value = xattrs.map.remove(name).ok_or(ErrorCode::NODATA)?;
        let old_pages = xattrs.pages();
        xattrs.bytes -= name.len() + value.len();
        self.used_pages = self.used_pages.saturating_sub(old_pages) + xattrs.pages();
        inode.touch_change(cx.now);
        Ok(())
    }
}
