//! The native-directory backend: a directory of the host served as the export.
//!
//! Every client path is looked up inside the directory by [`resolve`]'s jail;
//! the operations themselves are the Linux `*at` system calls on what the
//! jail returned, so no path string from a client ever reaches a system call
//! that would resolve it without `RESOLVE_BENEATH`.
//!
//! Files are created with exactly the mode the client sends: the session has
//! applied the client's umask, so the server process must run with a umask
//! of 0 (`main` sets it before serving).
//!
//! A server running as root makes each call as the client's user (see
//! [`identity`]): the kernel checks permissions and sets owners as it would
//! for that user. A server running as anyone else acts as itself.

mod attr;
mod dir;
mod identity;
mod resolve;
mod share;
mod space;
mod sys;
mod xattr;

#[cfg(test)]
mod tests;

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use orfa_server_core::{Backend, BackendResult, Base, Context, ShareLimits};
use orfa_wire::{
    AccessMode, Attr, DirEntryWriter, ErrorCode, FileType, FsAttr, OpenFlags, PathFlags, SetAttr,
};

pub(crate) use identity::act_as_server;
pub(crate) use sys::{raise_fd_limit, set_umask};

/// The longest symbolic link target read back (Linux's `PATH_MAX`).
const LINK_MAX: usize = 4096;

/// A host directory served as an export. Cloning is cheap: clones share the
/// directory's descriptor.
#[derive(Debug, Clone)]
pub(crate) struct NativeFs {
    /// An `O_PATH` descriptor of the export root; every lookup starts here
    /// or at a handle below it.
    root: Arc<OwnedFd>,
    /// Open files shared between sessions (`SHARE`, `ATTACH`).
    shares: share::Shares,
}

/// An open file or directory of a [`NativeFs`].
#[derive(Debug)]
pub(crate) struct NativeNode {
    /// The descriptor, opened with the client's flags (`O_PATH` for a
    /// reference-only handle); a directory's position is its listing cursor.
    fd: OwnedFd,
    /// Whether the handle was opened with [`OpenFlags::APPEND`].
    append: bool,
}

impl NativeFs {
    /// Serves the directory `dir`, sharing open files within `shares`.
    pub(crate) fn new(dir: &Path, shares: ShareLimits) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(dir)?;
        Ok(Self {
            root: Arc::new(OwnedFd::from(file)),
            shares: share::Shares::new(shares),
        })
    }

    /// Looks up `path` as an `O_PATH` descriptor, of a final symbolic link
    /// itself with [`PathFlags::NOFOLLOW`].
    fn lookup_path(
        &self,
        base: Base<'_, NativeNode>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<OwnedFd> {
        let nofollow = if flags.contains(PathFlags::NOFOLLOW) {
            libc::O_NOFOLLOW
        } else {
            0
        };
        self.lookup(base, path, libc::O_PATH | nofollow, 0)
    }
}

/// The `open(2)` flags for the protocol's open flags.
fn open_flags(flags: OpenFlags) -> BackendResult<i32> {
    if flags.unknown_bits() != 0 {
        return Err(ErrorCode::INVAL);
    }
    let has = |f| flags.contains(f);
    if has(OpenFlags::PATH) {
        // openat2 refuses O_PATH with any flag but these.
        let mut out = libc::O_PATH;
        if has(OpenFlags::DIRECTORY) {
            out |= libc::O_DIRECTORY;
        }
        if has(OpenFlags::NOFOLLOW) {
            out |= libc::O_NOFOLLOW;
        }
        return Ok(out);
    }
    let mut out = match (has(OpenFlags::READ), has(OpenFlags::WRITE)) {
        (_, false) => libc::O_RDONLY,
        (false, true) => libc::O_WRONLY,
        (true, true) => libc::O_RDWR,
    };
    let table = [
        (OpenFlags::CREATE, libc::O_CREAT),
        (OpenFlags::EXCL, libc::O_EXCL),
        (OpenFlags::TRUNC, libc::O_TRUNC),
        (OpenFlags::APPEND, libc::O_APPEND),
        (OpenFlags::DIRECTORY, libc::O_DIRECTORY),
        (OpenFlags::NOFOLLOW, libc::O_NOFOLLOW),
        (OpenFlags::SYNC, libc::O_SYNC),
    ];
    for (flag, bit) in table {
        if has(flag) {
            out |= bit;
        }
    }
    // A FIFO or device must not block the server in open or read: such
    // handles answer EAGAIN instead. Regular files and directories ignore it.
    Ok(out | libc::O_NOCTTY | libc::O_NONBLOCK)
}

/// Runs `step` until `total` bytes are done or it makes no progress; an error
/// after some progress ends the loop with the count so far.
fn transfer(
    total: usize,
    mut step: impl FnMut(usize) -> sys::SysResult<usize>,
) -> BackendResult<usize> {
    let mut done = 0;
    while done < total {
        match step(done) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if done == 0 => return Err(e.into()),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// Writes `data` at the end of file through `fd`; returns the bytes written
/// and the offset just past them.
fn append_write(
    fd: BorrowedFd<'_>,
    data: &[u8],
    opened_append: bool,
) -> BackendResult<(usize, u64)> {
    // pwrite ignores the offset of an O_APPEND descriptor on Linux, and a
    // write at the position of one lands at the end atomically: the position
    // after it is the end of the bytes written.
    let saved = if opened_append {
        None
    } else {
        let flags = sys::get_status_flags(fd)?;
        sys::set_status_flags(fd, flags | libc::O_APPEND)?;
        Some(flags)
    };
    let written = transfer(data.len(), |done| {
        sys::write(fd, data.get(done..).unwrap_or_default())
    });
    if let Some(flags) = saved {
        sys::set_status_flags(fd, flags)?;
    }
    let written = written?;
    let end = if written == 0 {
        attr::attr_of(fd)?.size.get()
    } else {
        sys::lseek(fd, 0, libc::SEEK_CUR)?
    };
    Ok((written, end))
}

impl Backend for NativeFs {
    type Node = NativeNode;

    /// The device and inode numbers: the export may span several file systems.
    fn file_key(&mut self, node: &NativeNode) -> BackendResult<u128> {
        let attr = attr::attr_of(node.fd.as_fd())?;
        Ok((u128::from(attr.dev.get()) << 64) | u128::from(attr.ino.get()))
    }

    fn open(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> BackendResult<(NativeNode, Attr)> {
        identity::act_as(cx)?;
        let fd = self.lookup(base, path, open_flags(flags)?, mode)?;
        let attr = attr::attr_of(fd.as_fd())?;
        let append = flags.contains(OpenFlags::APPEND) && !flags.contains(OpenFlags::PATH);
        Ok((NativeNode { fd, append }, attr))
    }

    fn share(&mut self, cx: &Context, node: &NativeNode) -> BackendResult<u64> {
        self.shares.share(cx, node)
    }

    fn attach(&mut self, cx: &Context, token: u64) -> BackendResult<NativeNode> {
        self.shares.attach(cx, token)
    }

    fn unshare(&mut self, cx: &Context, token: u64) -> bool {
        self.shares.unshare(cx, token)
    }

    fn close(&mut self, _cx: &Context, node: NativeNode) -> BackendResult<()> {
        sys::close(node.fd).map_err(ErrorCode::from)
    }

    fn read(
        &mut self,
        cx: &Context,
        node: &NativeNode,
        offset: u64,
        buf: &mut [u8],
    ) -> BackendResult<usize> {
        identity::act_as(cx)?;
        let fd = node.fd.as_fd();
        let total = buf.len();
        transfer(total, |done| {
            let at = offset
                .checked_add(done as u64)
                .ok_or(sys::Errno(libc::EINVAL))?;
            sys::pread(fd, buf.get_mut(done..).unwrap_or_default(), at)
        })
    }

    fn write(
        &mut self,
        cx: &Context,
        node: &NativeNode,
        offset: u64,
        data: &[u8],
        append: bool,
    ) -> BackendResult<(usize, u64)> {
        identity::act_as(cx)?;
        let fd = node.fd.as_fd();
        if append || node.append {
            return append_write(fd, data, node.append);
        }
        let written = transfer(data.len(), |done| {
            let at = offset
                .checked_add(done as u64)
                .ok_or(sys::Errno(libc::EFBIG))?;
            sys::pwrite(fd, data.get(done..).unwrap_or_default(), at)
        })?;
        Ok((written, offset.saturating_add(written as u64)))
    }

    fn stat(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<Attr> {
        identity::act_as(cx)?;
        let fd = self.lookup_path(base, path, flags)?;
        attr::attr_of(fd.as_fd())
    }

    fn readdir(
        &mut self,
        cx: &Context,
        dir: &NativeNode,
        cookie: u64,
        out: &mut DirEntryWriter<'_>,
    ) -> BackendResult<bool> {
        identity::act_as(cx)?;
        dir::read_dir(dir.fd.as_fd(), cookie, out)
    }

    fn mkdir(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        mode: u32,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        let (dir, name) = self.lookup_parent(base, path)?;
        Ok(sys::mkdirat(dir.as_fd(), &name, mode & 0o7777)?)
    }

    fn mknod(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        let (dir, name) = self.lookup_parent(base, path)?;
        Ok(sys::mknodat(dir.as_fd(), &name, mode, rdev)?)
    }

    fn unlink(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        let (dir, name) = self.lookup_parent(base, path)?;
        let at = if flags.contains(PathFlags::REMOVEDIR) {
            libc::AT_REMOVEDIR
        } else {
            0
        };
        Ok(sys::unlinkat(dir.as_fd(), &name, at)?)
    }

    fn rename(
        &mut self,
        cx: &Context,
        from_base: Base<'_, NativeNode>,
        from: &[u8],
        to_base: Base<'_, NativeNode>,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        let (from_dir, from_name) = self.lookup_parent(from_base, from)?;
        let (to_dir, to_name) = self.lookup_parent(to_base, to)?;
        let mut how = 0;
        if flags.contains(PathFlags::NOREPLACE) {
            how |= libc::RENAME_NOREPLACE;
        }
        if flags.contains(PathFlags::EXCHANGE) {
            how |= libc::RENAME_EXCHANGE;
        }
        Ok(sys::renameat2(
            from_dir.as_fd(),
            &from_name,
            to_dir.as_fd(),
            &to_name,
            how,
        )?)
    }

    fn link(
        &mut self,
        cx: &Context,
        from_base: Base<'_, NativeNode>,
        from: &[u8],
        to_base: Base<'_, NativeNode>,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        // The source is resolved whole by the jail (following a final link
        // unless NOFOLLOW), then linked through its descriptor.
        let source = self.lookup_path(from_base, from, flags)?;
        let (to_dir, to_name) = self.lookup_parent(to_base, to)?;
        Ok(sys::link_fd(source.as_fd(), to_dir.as_fd(), &to_name)?)
    }

    fn symlink(
        &mut self,
        cx: &Context,
        target: &[u8],
        base: Base<'_, NativeNode>,
        path: &[u8],
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        let target = resolve::c_string(target)?;
        let (dir, name) = self.lookup_parent(base, path)?;
        Ok(sys::symlinkat(&target, dir.as_fd(), &name)?)
    }

    fn readlink(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        buf: &mut [u8],
    ) -> BackendResult<usize> {
        identity::act_as(cx)?;
        let fd = self.lookup_path(base, path, PathFlags::NOFOLLOW)?;
        let kind = FileType::from_mode(attr::attr_of(fd.as_fd())?.mode.get());
        if kind != FileType::SYMLINK {
            return Err(ErrorCode::INVAL);
        }
        let mut target = [0u8; LINK_MAX];
        let len = sys::readlink_fd(fd.as_fd(), &mut target)?;
        let target = target.get(..len).ok_or(ErrorCode::NAMETOOLONG)?;
        let dst = buf.get_mut(..len).ok_or(ErrorCode::RANGE)?;
        dst.copy_from_slice(target);
        Ok(len)
    }

    fn setattr(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        attr: &SetAttr,
        flags: PathFlags,
    ) -> BackendResult<Attr> {
        identity::act_as(cx)?;
        let fd = self.lookup_path(base, path, flags)?;
        attr::apply(fd.as_fd(), attr)?;
        attr::attr_of(fd.as_fd())
    }

    fn access(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
        mode: AccessMode,
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        if mode.unknown_bits() != 0 {
            return Err(ErrorCode::INVAL);
        }
        let fd = self.lookup_path(base, path, flags)?;
        // The protocol's access bits are the values of R_OK, W_OK and X_OK.
        // A root server acting as the caller checks the ids it set, not its
        // own real ones.
        let at = if flags.contains(PathFlags::EACCESS) || identity::server_is_root() {
            libc::AT_EACCESS
        } else {
            0
        };
        Ok(sys::access_fd(fd.as_fd(), mode.0 as i32, at)?)
    }

    fn fsync(&mut self, cx: &Context, node: &NativeNode, datasync: bool) -> BackendResult<()> {
        identity::act_as(cx)?;
        Ok(sys::fsync(node.fd.as_fd(), datasync)?)
    }

    fn statfs(
        &mut self,
        cx: &Context,
        base: Base<'_, NativeNode>,
        path: &[u8],
    ) -> BackendResult<FsAttr> {
        identity::act_as(cx)?;
        let fd = self.lookup_path(base, path, PathFlags::NONE)?;
        attr::fs_attr_of(fd.as_fd())
    }

    fn getxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        name: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        identity::act_as(cx)?;
        self.do_getxattr(cx, base, path, name, buf, flags)
    }

    fn setxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        name: &[u8],
        value: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        self.do_setxattr(cx, base, path, name, value, flags)
    }

    fn listxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        identity::act_as(cx)?;
        self.do_listxattr(cx, base, path, buf, flags)
    }

    fn removexattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        name: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        self.do_removexattr(cx, base, path, name, flags)
    }

    fn fallocate(
        &mut self,
        cx: &Context<'_>,
        node: &NativeNode,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> BackendResult<()> {
        identity::act_as(cx)?;
        space::fallocate(node, offset, len, flags)
    }

    fn seek(
        &mut self,
        cx: &Context<'_>,
        node: &NativeNode,
        offset: u64,
        hole: bool,
    ) -> BackendResult<u64> {
        identity::act_as(cx)?;
        space::seek(node, offset, hole)
    }

    fn copy_range(
        &mut self,
        cx: &Context<'_>,
        from: &NativeNode,
        from_offset: u64,
        to: &NativeNode,
        to_offset: u64,
        len: u64,
        chunk: usize,
    ) -> BackendResult<u64> {
        identity::act_as(cx)?;
        space::copy_range(from, from_offset, to, to_offset, len, chunk)
    }
}
