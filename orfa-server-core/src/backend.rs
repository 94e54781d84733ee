//! The storage interface a session drives.

use orfa_wire::{
    AccessMode, Attr, DirEntryWriter, ErrorCode, FsAttr, OpenFlags, PathFlags, SetAttr,
};

/// A point in time: seconds since the epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    /// Seconds since 1970-01-01 00:00:00 UTC (negative before).
    pub sec: i64,
    /// Nanoseconds, below 1,000,000,000.
    pub nsec: u32,
}

/// What a backend call may need from outside the core: the time, and who asks.
///
/// A front end gives the time and the identity clients act as until they
/// say who they are; a session replaces the identity with the one its
/// client set with `SETCONTEXT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Context<'a> {
    /// The current time, for the timestamps a change sets.
    pub now: Timestamp,
    /// The caller's user id.
    pub uid: u32,
    /// The caller's group id.
    pub gid: u32,
    /// The caller's supplementary groups.
    pub groups: &'a [u32],
    /// The caller's file mode creation mask. The session has already applied
    /// it to the modes it passes to a backend.
    pub umask: u32,
}

impl Context<'_> {
    /// Whether the caller is in group `gid`, as primary or supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid == gid || self.groups.contains(&gid)
    }
}

/// Copies an attribute value or name list `src` into a caller's `buf` by the
/// rules of [`Backend::getxattr`] and [`Backend::listxattr`]: an empty `buf`
/// asks for the length only, a shorter one is [`ErrorCode::RANGE`]. Returns
/// the full length.
pub fn copy_xattr_out(src: &[u8], buf: &mut [u8]) -> BackendResult<usize> {
    if !buf.is_empty() {
        buf.get_mut(..src.len())
            .ok_or(ErrorCode::RANGE)?
            .copy_from_slice(src);
    }
    Ok(src.len())
}

/// Where a path operation starts: the export root or an open directory.
pub type Base<'a, N> = Option<&'a N>;

/// The result of a backend call: a value or a protocol error code.
pub type BackendResult<T> = Result<T, ErrorCode>;

/// A file system a session serves: the in-memory one of this crate, a native
/// directory, or anything else.
///
/// Every path is relative to `base` (`None`: the export root) and has been
/// checked by the session: at most [`MAX_PATH`](orfa_wire::MAX_PATH) bytes,
/// no NUL byte. A leading `/` and repeated slashes may remain; an empty path
/// names `base` itself. An implementation must keep every lookup inside its
/// export (no `..` or symbolic link may leave it; such lookups fail with
/// [`ErrorCode::ESCAPE`]), check component lengths
/// ([`ErrorCode::NAMETOOLONG`]) and limit symbolic link chains to 40
/// ([`ErrorCode::LOOP`]).
///
/// Calls return protocol error codes; they must not panic on any argument.
pub trait Backend {
    /// An open file or directory. The session keeps nodes in its handle table
    /// and gives each back to [`Backend::close`] exactly once.
    type Node;

    /// Opens a file or directory; with [`OpenFlags::CREATE`], creates a
    /// regular file with permission bits `mode` (the umask already applied).
    fn open(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> BackendResult<(Self::Node, Attr)>;

    /// A number naming the file `node` is open on, the same for every node of
    /// the same file and distinct between files: the key of its locks.
    fn file_key(&mut self, node: &Self::Node) -> BackendResult<u128>;

    /// Releases a node. Errors are reported to the client but the node is gone.
    fn close(&mut self, cx: &Context, node: Self::Node) -> BackendResult<()>;

    /// Makes the open file of `node` attachable from other sessions
    /// (`SHARE`): keeps a node of it under a new token (see
    /// [`ShareTable`](crate::ShareTable)), counted as held once, by `node`'s
    /// handle. The session calls this once per handle and
    /// [`Backend::unshare`] when that handle goes.
    ///
    /// The default refuses with [`ErrorCode::UNSUPPORTED`]: the client then
    /// opens files again by path.
    fn share(&mut self, cx: &Context, node: &Self::Node) -> BackendResult<u64> {
        let _ = (cx, node);
        Err(ErrorCode::UNSUPPORTED)
    }

    /// A new node on the open file `token` names (`ATTACH`), counted as one
    /// more holder: with the same access and `APPEND` as the shared node,
    /// whatever became of the file's names. [`ErrorCode::STALE`] if the
    /// token names nothing kept.
    fn attach(&mut self, cx: &Context, token: u64) -> BackendResult<Self::Node> {
        let _ = (cx, token);
        Err(ErrorCode::UNSUPPORTED)
    }

    /// A handle that shared or attached to `token` is gone (closed, or its
    /// session ended): one holder fewer. Returns whether no handle holds the
    /// open file any more (the session then drops its locks). The node
    /// itself goes to [`Backend::close`] as usual.
    fn unshare(&mut self, cx: &Context, token: u64) -> bool {
        let _ = (cx, token);
        false
    }

    /// Reads at `offset` into `buf`; returns the bytes read (fewer only at end of file).
    fn read(
        &mut self,
        cx: &Context,
        node: &Self::Node,
        offset: u64,
        buf: &mut [u8],
    ) -> BackendResult<usize>;

    /// Writes `data` at `offset`, or at the end of file if `append`; returns the
    /// bytes written and the offset just past them.
    fn write(
        &mut self,
        cx: &Context,
        node: &Self::Node,
        offset: u64,
        data: &[u8],
        append: bool,
    ) -> BackendResult<(usize, u64)>;

    /// Attributes of a path; with [`PathFlags::NOFOLLOW`], of a final symbolic link itself.
    fn stat(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<Attr>;

    /// Appends the directory's entries after `cookie` (0: from the start) to
    /// `out` until it is full; returns whether the listing is complete. `.`
    /// and `..` are not listed. Cookies stay valid while entries are added or
    /// removed; no remaining entry is skipped or listed twice.
    fn readdir(
        &mut self,
        cx: &Context,
        dir: &Self::Node,
        cookie: u64,
        out: &mut DirEntryWriter<'_>,
    ) -> BackendResult<bool>;

    /// Creates a directory.
    fn mkdir(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        mode: u32,
    ) -> BackendResult<()>;

    /// Creates a FIFO, socket, device node or empty regular file; `mode` holds the type bits.
    fn mknod(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> BackendResult<()>;

    /// Removes a name, or with [`PathFlags::REMOVEDIR`] an empty directory.
    fn unlink(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()>;

    /// Renames `from` to `to`, replacing `to` as `rename(2)` does unless
    /// [`PathFlags::NOREPLACE`]; [`PathFlags::EXCHANGE`] swaps them.
    fn rename(
        &mut self,
        cx: &Context,
        from_base: Base<'_, Self::Node>,
        from: &[u8],
        to_base: Base<'_, Self::Node>,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()>;

    /// Makes `to` a new hard link to `from` (following a final symbolic link
    /// of `from` unless [`PathFlags::NOFOLLOW`]).
    fn link(
        &mut self,
        cx: &Context,
        from_base: Base<'_, Self::Node>,
        from: &[u8],
        to_base: Base<'_, Self::Node>,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()>;

    /// Makes `path` a symbolic link holding `target` (stored as given).
    fn symlink(
        &mut self,
        cx: &Context,
        target: &[u8],
        base: Base<'_, Self::Node>,
        path: &[u8],
    ) -> BackendResult<()>;

    /// Copies the target of the symbolic link `path` into `buf`; returns its
    /// length ([`ErrorCode::INVAL`] if not a link).
    fn readlink(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        buf: &mut [u8],
    ) -> BackendResult<usize>;

    /// Applies the fields `attr.valid` names; returns the attributes after.
    fn setattr(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        attr: &SetAttr,
        flags: PathFlags,
    ) -> BackendResult<Attr>;

    /// Checks that the caller may access `path` as `mode` asks.
    fn access(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
        mode: AccessMode,
        flags: PathFlags,
    ) -> BackendResult<()>;

    /// Flushes a node to stable storage (data only with `datasync`).
    fn fsync(&mut self, cx: &Context, node: &Self::Node, datasync: bool) -> BackendResult<()>;

    /// Statistics of the file system holding `path`.
    fn statfs(
        &mut self,
        cx: &Context,
        base: Base<'_, Self::Node>,
        path: &[u8],
    ) -> BackendResult<FsAttr>;

    /// Copies the value of extended attribute `name` of `path` into `buf`;
    /// returns the value's length. An empty `buf` asks for the length only; a
    /// non-empty one too short for the value gives [`ErrorCode::RANGE`].
    fn getxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, Self::Node>,
        path: &[u8],
        name: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        let _ = (cx, base, path, name, buf, flags);
        Err(ErrorCode::NOTSUP)
    }

    /// Sets extended attribute `name` of `path` to `value`
    /// ([`PathFlags::XATTR_CREATE`], [`PathFlags::XATTR_REPLACE`] as `setxattr(2)`).
    fn setxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, Self::Node>,
        path: &[u8],
        name: &[u8],
        value: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let _ = (cx, base, path, name, value, flags);
        Err(ErrorCode::NOTSUP)
    }

    /// Copies the names of the extended attributes of `path`, each followed
    /// by a NUL byte, into `buf`; returns the list's length, with the same
    /// rules for `buf` as [`Backend::getxattr`].
    fn listxattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, Self::Node>,
        path: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        let _ = (cx, base, path, buf, flags);
        Err(ErrorCode::NOTSUP)
    }

    /// Removes extended attribute `name` of `path` ([`ErrorCode::NODATA`] if absent).
    fn removexattr(
        &mut self,
        cx: &Context<'_>,
        base: Base<'_, Self::Node>,
        path: &[u8],
        name: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let _ = (cx, base, path, name, flags);
        Err(ErrorCode::NOTSUP)
    }

    /// Allocates (or with [`PathFlags::PUNCH_HOLE`] deallocates, or with
    /// [`PathFlags::ZERO_RANGE`] zeroes) `len` bytes at `offset`, as `fallocate(2)`.
    fn fallocate(
        &mut self,
        cx: &Context<'_>,
        node: &Self::Node,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> BackendResult<()> {
        let _ = (cx, node, offset, len, flags);
        Err(ErrorCode::NOTSUP)
    }

    /// The first offset at or after `offset` that holds data (or, with
    /// `hole`, that is in a hole; the end of file counts as a hole);
    /// [`ErrorCode::NXIO`] at or past the end of file.
    ///
    /// The default knows no holes: data up to the size, one hole after it.
    fn seek(
        &mut self,
        cx: &Context<'_>,
        node: &Self::Node,
        offset: u64,
        hole: bool,
    ) -> BackendResult<u64> {
        let size = self.stat(cx, Some(node), b"", PathFlags::NONE)?.size.get();
        match (offset < size, hole) {
            (false, _) => Err(ErrorCode::NXIO),
            (true, false) => Ok(offset),
            (true, true) => Ok(size),
        }
    }

    /// Copies up to `len` bytes from `from` at `from_offset` to `to` at
    /// `to_offset`; returns the bytes copied (fewer only at the end of `from`).
    ///
    /// The default reads and writes through this backend in pieces of at
    /// most `chunk` bytes.
    #[allow(clippy::too_many_arguments)]
    fn copy_range(
        &mut self,
        cx: &Context<'_>,
        from: &Self::Node,
        from_offset: u64,
        to: &Self::Node,
        to_offset: u64,
        len: u64,
        chunk: usize,
    ) -> BackendResult<u64> {
        let mut buf = alloc::vec![0; (len.min(chunk as u64) as usize).max(1)];
        let mut done = 0u64;
        while done < len {
            let want = (len - done).min(buf.len() as u64) as usize;
            let at = from_offset.checked_add(done).ok_or(ErrorCode::INVAL)?;
            let n = self.read(cx, from, at, &mut buf[..want])?;
            if n == 0 {
                break;
            }
            let mut written = 0;
            while written < n {
                let at = to_offset
                    .checked_add(done + written as u64)
                    .ok_or(ErrorCode::FBIG)?;
                let (w, _) = self.write(cx, to, at, &buf[written..n], false)?;
                if w == 0 {
                    return Err(ErrorCode::IO);
                }
                written += w;
            }
            done += n as u64;
        }
        Ok(done)
    }
}
