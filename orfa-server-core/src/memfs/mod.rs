//! The in-memory file system backend.
//!
//! [`MemFs`] is a POSIX file system held in memory, behaving as Linux's ext4
//! does where programs can tell: directories, sparse regular files, symbolic
//! and hard links, FIFOs, sockets and device nodes (inert: they hold
//! attributes only), owners and permission bits, nanosecond times. Inodes
//! live in a table keyed by their number, which is never reused; an inode
//! goes when its last name is removed and its last open node is closed, so
//! an open file stays readable after it is unlinked or renamed over.
//!
//! The code is split by concern: `inode` (what an object holds, the
//! permission rule), `data` (sparse file content), `dir` (entries and
//! readdir cookies), `lookup` (path resolution inside the export), `file`
//! (operations on open nodes and attributes), `namespace` (operations that
//! add or remove names), `rename`, `space` (`fallocate`, `SEEK_DATA` and
//! `SEEK_HOLE`, copies that keep holes), `ranges` (the index sets behind
//! reserved space) and `xattr` (extended attributes).
//!
//! Permissions follow the owner, group and other bits of the caller's
//! [`Context`] (its supplementary groups count), with the superuser (uid 0)
//! bypassing read and write checks. Times are never updated by reads (as a
//! `noatime` mount). FIFOs, sockets and device nodes can be created, listed,
//! stat'ed and removed, but opening one other than with
//! [`OpenFlags::PATH`] fails with [`ErrorCode::NXIO`]: nothing is behind them.

use alloc::collections::BTreeMap;

use orfa_wire::{
    AccessMode, Attr, DirEntryWriter, ErrorCode, FsAttr, OpenFlags, PathFlags, SetAttr,
};

use crate::backend::{Backend, BackendResult, Base, Context, Timestamp};
use crate::shares::{ShareLimits, ShareTable};

mod data;
mod dir;
mod file;
mod inode;
mod lookup;
mod namespace;
mod ranges;
mod rename;
mod share;
mod space;
#[cfg(test)]
mod tests;
mod xattr;

use dir::Dir;
use inode::{Inode, Kind};

/// The inode number of the export's root directory.
const ROOT: u64 = 1;

/// A node open on a [`MemFs`]: the inode it names and what it was opened for.
///
/// It is made by [`Backend::open`] and given back to [`Backend::close`]; it is
/// deliberately not `Clone`, since every node counts as one open of its inode.
#[derive(Debug, PartialEq, Eq)]
pub struct MemNode {
    ino: u64,
    read: bool,
    write: bool,
    append: bool,
    path_only: bool,
}

impl MemNode {
    /// The inode number of the object this node names.
    pub fn ino(&self) -> u64 {
        self.ino
    }
}

/// Limits that keep a file system's memory bounded.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Bytes of file data ([`data::PAGE`] units) the file system may hold.
    bytes: u64,
    /// Inodes it may hold.
    inodes: u64,
}

/// A file system held in memory; see the [module documentation](self).
///
/// ```
/// use orfa_server_core::{Backend, Context, MemFs, Timestamp};
/// use orfa_wire::OpenFlags;
///
/// let now = Timestamp { sec: 1_700_000_000, nsec: 5 };
/// let cx = Context { now, uid: 1000, gid: 1000, ..Context::default() };
/// let mut fs = MemFs::with_owner(now, 1000, 1000);
/// let flags = OpenFlags::WRITE | OpenFlags::CREATE;
/// let (node, attr) = fs.open(&cx, None, b"hello.txt", flags, 0o644).unwrap();
/// assert_eq!(attr.mode.get(), 0o100644);
/// assert_eq!(fs.write(&cx, &node, 0, b"hi", false), Ok((2, 2)));
/// fs.close(&cx, node).unwrap();
/// ```
#[derive(Debug)]
pub struct MemFs {
    inodes: BTreeMap<u64, Inode>,
    next_ino: u64,
    /// Data pages held by all regular files.
    used_pages: u64,
    limits: Limits,
    /// Open files shared between sessions (`SHARE`, `ATTACH`).
    shares: ShareTable<MemNode>,
}

impl MemFs {
    /// An empty file system whose root directory (mode 0755) belongs to root.
    pub fn new(now: Timestamp) -> Self {
        Self::with_owner(now, 0, 0)
    }

    /// An empty file system whose root directory (mode 0755) belongs to `uid`
    /// and `gid`.
    pub fn with_owner(now: Timestamp, uid: u32, gid: u32) -> Self {
        let root = Inode::new(0o040755, uid, gid, now, Kind::Dir(Dir::new(ROOT)));
        let mut inodes = BTreeMap::new();
        inodes.insert(ROOT, root);
        Self {
            inodes,
            next_ino: ROOT + 1,
            used_pages: 0,
            limits: Limits {
                bytes: 1 << 40,
                inodes: 1 << 32,
            },
            shares: ShareTable::new(now.sec as u64 ^ u64::from(now.nsec) << 32),
        }
    }

    /// Limits the file data to about `bytes` (counted in 4 KiB pages) and the
    /// number of files, directories and links to `inodes`; past them, changes
    /// fail with [`ErrorCode::NOSPC`]. The defaults are 1 TiB and 2^32.
    pub fn set_limits(&mut self, bytes: u64, inodes: u64) {
        self.limits = Limits { bytes, inodes };
    }

    /// Sets how many open files may be shared between sessions at once, and
    /// for how long one stays once no handle holds it (4096 and 60 s by
    /// default).
    pub fn set_share_limits(&mut self, limits: ShareLimits) {
        self.shares.set_limits(limits);
    }

    /// The inode numbered `ino`.
    fn inode(&self, ino: u64) -> BackendResult<&Inode> {
        // Every number reachable from a name or an open node is in the table.
        self.inodes.get(&ino).ok_or(ErrorCode::IO)
    }

    fn inode_mut(&mut self, ino: u64) -> BackendResult<&mut Inode> {
        self.inodes.get_mut(&ino).ok_or(ErrorCode::IO)
    }

    /// Adds `inode` to the table; returns its new number.
    fn add_inode(&mut self, inode: Inode) -> BackendResult<u64> {
        if self.inodes.len() as u64 >= self.limits.inodes {
            return Err(ErrorCode::NOSPC);
        }
        let ino = self.next_ino;
        self.next_ino += 1;
        self.inodes.insert(ino, inode);
        Ok(ino)
    }

    /// Drops the inode if no name and no open node refers to it any more.
    fn release(&mut self, ino: u64) {
        let unused = self
            .inodes
            .get(&ino)
            .is_some_and(|i| i.nlink == 0 && i.opens == 0);
        if unused && ino != ROOT {
            if let Some(inode) = self.inodes.remove(&ino) {
                self.used_pages = self.used_pages.saturating_sub(inode.pages());
            }
        }
    }

    /// Counts one open node of its inode fewer, dropping the inode if that
    /// was all that kept it.
    fn close_node(&mut self, node: &MemNode) -> BackendResult<()> {
        let inode = self.inode_mut(node.ino)?;
        inode.opens = inode.opens.saturating_sub(1);
        self.release(node.ino);
        Ok(())
    }

    /// The inode a path operation starts from.
    fn start(base: Base<'_, MemNode>) -> u64 {
        base.map_or(ROOT, |n| n.ino)
    }
}

impl Backend for MemFs {
    type Node = MemNode;

    fn file_key(&mut self, node: &MemNode) -> BackendResult<u128> {
        Ok(u128::from(node.ino))
    }

    fn open(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> BackendResult<(MemNode, Attr)> {
        self.do_open(cx, Self::start(base), path, flags, mode)
    }

    fn share(&mut self, cx: &Context, node: &MemNode) -> BackendResult<u64> {
        self.share_node(cx, node)
    }

    fn attach(&mut self, cx: &Context, token: u64) -> BackendResult<MemNode> {
        self.attach_node(cx, token)
    }

    fn unshare(&mut self, cx: &Context, token: u64) -> bool {
        self.unshare_token(cx, token)
    }

    fn close(&mut self, _cx: &Context, node: MemNode) -> BackendResult<()> {
        self.close_node(&node)
    }

    fn read(
        &mut self,
        _cx: &Context,
        node: &MemNode,
        offset: u64,
        buf: &mut [u8],
    ) -> BackendResult<usize> {
        self.do_read(node, offset, buf)
    }

    fn write(
        &mut self,
        cx: &Context,
        node: &MemNode,
        offset: u64,
        data: &[u8],
        append: bool,
    ) -> BackendResult<(usize, u64)> {
        self.do_write(cx, node, offset, data, append)
    }

    fn stat(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<Attr> {
        let follow = !flags.contains(PathFlags::NOFOLLOW);
        let ino = self.resolve(cx, Self::start(base), path, follow)?;
        Ok(self.inode(ino)?.attr(ino))
    }

    fn readdir(
        &mut self,
        _cx: &Context,
        dir: &MemNode,
        cookie: u64,
        out: &mut DirEntryWriter<'_>,
    ) -> BackendResult<bool> {
        self.do_readdir(dir, cookie, out)
    }

    fn mkdir(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        mode: u32,
    ) -> BackendResult<()> {
        self.do_mkdir(cx, Self::start(base), path, mode)
    }

    fn mknod(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> BackendResult<()> {
        self.do_mknod(cx, Self::start(base), path, mode, rdev)
    }

    fn unlink(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        self.do_unlink(cx, Self::start(base), path, flags)
    }

    fn rename(
        &mut self,
        cx: &Context,
        from_base: Base<'_, MemNode>,
        from: &[u8],
        to_base: Base<'_, MemNode>,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let (from_start, to_start) = (Self::start(from_base), Self::start(to_base));
        self.do_rename(cx, from_start, from, to_start, to, flags)
    }

    fn link(
        &mut self,
        cx: &Context,
        from_base: Base<'_, MemNode>,
        from: &[u8],
        to_base: Base<'_, MemNode>,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let (from_start, to_start) = (Self::start(from_base), Self::start(to_base));
        self.do_link(cx, from_start, from, to_start, to, flags)
    }

    fn symlink(
        &mut self,
        cx: &Context,
        target: &[u8],
        base: Base<'_, MemNode>,
        path: &[u8],
    ) -> BackendResult<()> {
        self.do_symlink(cx, target, Self::start(base), path)
    }

    fn readlink(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        buf: &mut [u8],
    ) -> BackendResult<usize> {
        let ino = self.resolve(cx, Self::start(base), path, false)?;
        let Kind::Symlink(target) = &self.inode(ino)?.kind else {
            return Err(ErrorCode::INVAL);
        };
        let n = target.len().min(buf.len());
        buf[..n].copy_from_slice(&target[..n]);
        Ok(n)
    }

    fn setattr(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        attr: &SetAttr,
        flags: PathFlags,
    ) -> BackendResult<Attr> {
        self.do_setattr(cx, base, path, attr, flags)
    }

    fn access(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        mode: AccessMode,
        flags: PathFlags,
    ) -> BackendResult<()> {
        if mode.unknown_bits() != 0 {
            return Err(ErrorCode::INVAL);
        }
        let follow = !flags.contains(PathFlags::NOFOLLOW);
        let ino = self.resolve(cx, Self::start(base), path, follow)?;
        if self.inode(ino)?.permits(cx, mode) {
            Ok(())
        } else {
            Err(ErrorCode::ACCES)
        }
    }

    fn fsync(&mut self, _cx: &Context, node: &MemNode, _datasync: bool) -> BackendResult<()> {
        self.inode(node.ino).map(|_| ())
    }

    fn statfs(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
    ) -> BackendResult<FsAttr> {
        self.resolve(cx, Self::start(base), path, true)?;
        Ok(self.fs_attr())
    }

    fn getxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, MemNode>,
        path: &[u8],
        name: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        self.do_getxattr(cx, Self::start(base), path, name, buf, flags)
    }

    fn setxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, MemNode>,
        path: &[u8],
        name: &[u8],
        value: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        self.do_setxattr(cx, Self::start(base), path, name, value, flags)
    }

    fn listxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, MemNode>,
        path: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        self.do_listxattr(cx, Self::start(base), path, buf, flags)
    }

    fn removexattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, MemNode>,
        path: &[u8],
        name: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        self.do_removexattr(cx, Self::start(base), path, name, flags)
    }

    fn fallocate(
        &mut self,
        cx: &Context<'_>,
        node: &MemNode,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> BackendResult<()> {
        self.do_fallocate(cx, node, offset, len, flags)
    }

    fn seek(
        &mut self,
        _cx: &Context<'_>,
        node: &MemNode,
        offset: u64,
        hole: bool,
    ) -> BackendResult<u64> {
        self.do_seek(node, offset, hole)
    }

    /// Copies data and punches holes, ignoring `chunk`: no buffer of the
    /// whole length is ever made.
    fn copy_range(
        &mut self,
        cx: &Context<'_>,
        from: &MemNode,
        from_offset: u64,
        to: &MemNode,
        to_offset: u64,
        len: u64,
        _chunk: usize,
    ) -> BackendResult<u64> {
        self.do_copy_range(cx, from, from_offset, to, to_offset, len)
    }
}
