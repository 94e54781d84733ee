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

    /// Releases a node. Errors are reported to the client but the node is gone.
    fn close(&mut self, cx: &Context, node: Self::Node) -> BackendResult<()>;

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
}
