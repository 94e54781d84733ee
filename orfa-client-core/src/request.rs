//! Typed requests and their encoding into a header and a borrowed data part.

use orfa_wire::{
    AccessMode, AttrMask, LockOwnerKind, LockType, MAX_GROUPS, MAX_NAME, MAX_PATH, MAX_XATTR_NAME,
    MAX_XATTR_VALUE, OpCode, OpenFlags, PathFlags, REQUEST_HEADER_LEN, RequestHeader, SetAttr,
};

use crate::error::SendError;

/// One request, as a front end describes it. Byte strings are borrowed from
/// the caller and are sent from where they are.
///
/// Every `base` is a directory handle, or [`ROOT_HANDLE`](orfa_wire::ROOT_HANDLE)
/// for the export root; paths are relative to it (an empty path names the
/// base itself).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Request<'a> {
    /// Open (or create) a file or directory.
    Open {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// How to open.
        flags: OpenFlags,
        /// Permission bits of a created file.
        mode: u32,
    },
    /// Release a handle.
    Close {
        /// The handle.
        handle: u64,
    },
    /// Read up to `count` bytes at `offset`.
    Read {
        /// A file handle.
        handle: u64,
        /// Where to read.
        offset: u64,
        /// How many bytes, at most the session's `max_io`.
        count: u64,
    },
    /// Write `data` at `offset`, or at the end of file with `append`.
    Write {
        /// A file handle.
        handle: u64,
        /// Where to write (ignored with `append`).
        offset: u64,
        /// The payload, at most the session's `max_io` bytes.
        data: &'a [u8],
        /// Whether the server places the data at the end of file.
        append: bool,
    },
    /// Attributes of a path.
    Stat {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
    },
    /// The next batch of directory entries after `cookie`.
    ReadDir {
        /// A directory handle.
        handle: u64,
        /// Where to resume (0: from the start).
        cookie: u64,
        /// The largest batch wanted, in bytes (at most `max_io`).
        count: u64,
    },
    /// Create a directory.
    Mkdir {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// Permission bits.
        mode: u32,
    },
    /// Remove a name, or an empty directory with [`PathFlags::REMOVEDIR`].
    Unlink {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// [`PathFlags::REMOVEDIR`] or nothing.
        flags: PathFlags,
    },
    /// Rename `from` to `to`.
    Rename {
        /// Base handle of the source.
        from_base: u64,
        /// Source path.
        from: &'a [u8],
        /// Base handle of the target.
        to_base: u64,
        /// Target path.
        to: &'a [u8],
        /// [`PathFlags::NOREPLACE`], [`PathFlags::EXCHANGE`] or nothing.
        flags: PathFlags,
    },
    /// Make `to` a hard link to `from`.
    Link {
        /// Base handle of the existing path.
        from_base: u64,
        /// Existing path.
        from: &'a [u8],
        /// Base handle of the new name.
        to_base: u64,
        /// New name.
        to: &'a [u8],
        /// [`PathFlags::NOFOLLOW`] to link a symbolic link itself.
        flags: PathFlags,
    },
    /// Make `path` a symbolic link holding `target`.
    Symlink {
        /// The link's content.
        target: &'a [u8],
        /// Base handle of the new link.
        base: u64,
        /// Path of the new link.
        path: &'a [u8],
    },
    /// The target of a symbolic link.
    ReadLink {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
    },
    /// Change attributes.
    SetAttr {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// The change.
        attr: &'a SetAttr,
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
    },
    /// Check access permissions.
    Access {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// What to check; empty for existence.
        mode: AccessMode,
        /// [`PathFlags::NOFOLLOW`], [`PathFlags::EACCESS`] or nothing.
        flags: PathFlags,
    },
    /// Flush a file to stable storage.
    Fsync {
        /// The handle.
        handle: u64,
        /// Data only.
        datasync: bool,
    },
    /// File system statistics.
    StatFs {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
    },
    /// Create a special or empty regular file.
    Mknod {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// Type and permission bits.
        mode: u32,
        /// Device number of a device file.
        rdev: u64,
    },
    /// Set, change or release an advisory lock (since 1.1).
    Lock {
        /// A handle of the file.
        handle: u64,
        /// First byte of the range.
        start: u64,
        /// Length of the range; 0 to the end of the file and beyond.
        len: u64,
        /// Read, write, or unlock.
        lock_type: LockType,
        /// A process's POSIX lock, or the handle's own lock.
        owner_kind: LockOwnerKind,
        /// The owning process of a POSIX lock (ignored for a handle lock).
        pid: u64,
        /// Wait for a conflicting lock to go instead of failing with `AGAIN`:
        /// see the waiting locks of [`Client`](crate::Client)'s contract.
        wait: bool,
    },
    /// The first lock that would conflict with the one described (since 1.1).
    GetLk {
        /// A handle of the file.
        handle: u64,
        /// First byte of the range.
        start: u64,
        /// Length of the range; 0 to the end of the file and beyond.
        len: u64,
        /// Read or write.
        lock_type: LockType,
        /// Whose lock it would be.
        owner_kind: LockOwnerKind,
        /// The process of a POSIX lock.
        pid: u64,
    },
    /// Withdraw the waiting `LOCK` tagged `tag` (since 1.1).
    Cancel {
        /// The tag of the waiting request.
        tag: u64,
    },
    /// Attributes of a path, saying which fields are needed (a `STAT` with
    /// a mask in `count`, as `statx` asks; the server may fill more).
    StatX {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
        /// The fields wanted.
        mask: AttrMask,
    },
    /// The identity later requests run with, and the umask the server
    /// applies to created modes (since 1.1).
    SetContext {
        /// User id.
        uid: u64,
        /// Group id.
        gid: u64,
        /// The umask (0 to 0o777).
        umask: u32,
        /// The supplementary groups, each a little-endian u64 (see
        /// [`encode_groups`]; bytes past the last whole group are sent but
        /// not counted, and the server refuses them); at most [`MAX_GROUPS`].
        groups: &'a [u8],
    },
    /// The value of an extended attribute (since 1.1).
    GetXattr {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// The attribute's name.
        name: &'a [u8],
        /// The largest value wanted; 0 asks for the length only.
        size: u64,
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
    },
    /// Sets an extended attribute (since 1.1).
    SetXattr {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// The name immediately followed by the value, in one buffer: the
        /// request's data part is sent from at most two slices.
        name_value: &'a [u8],
        /// Length of the name at the start of `name_value`.
        name_len: usize,
        /// [`PathFlags::XATTR_CREATE`], [`PathFlags::XATTR_REPLACE`],
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
    },
    /// The names of a path's extended attributes (since 1.1).
    ListXattr {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// The largest list wanted; 0 asks for the length only.
        size: u64,
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
    },
    /// Removes an extended attribute (since 1.1).
    RemoveXattr {
        /// Base handle.
        base: u64,
        /// Path from the base.
        path: &'a [u8],
        /// The attribute's name.
        name: &'a [u8],
        /// [`PathFlags::NOFOLLOW`] or nothing.
        flags: PathFlags,
    },
    /// The next batch of directory entries after `cookie`, each with its
    /// attributes (since 1.1).
    ReadDirPlus {
        /// A directory handle.
        handle: u64,
        /// Where to resume (0: from the start).
        cookie: u64,
        /// The largest batch wanted, in bytes (at most `max_io`).
        count: u64,
    },
    /// Copies bytes between two files of the server, inside it (since 1.1).
    CopyRange {
        /// Source handle.
        from: u64,
        /// Where to read in the source.
        from_offset: u64,
        /// Destination handle.
        to: u64,
        /// Where to write in the destination.
        to_offset: u64,
        /// How many bytes.
        count: u64,
    },
    /// Allocates, deallocates or zeroes a range of a file (since 1.1).
    Fallocate {
        /// A file handle.
        handle: u64,
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        len: u64,
        /// [`PathFlags::KEEP_SIZE`], [`PathFlags::PUNCH_HOLE`],
        /// [`PathFlags::ZERO_RANGE`] or nothing.
        flags: PathFlags,
    },
    /// The next data, or hole, at or after `offset` (since 1.1).
    Seek {
        /// A file handle.
        handle: u64,
        /// Where to start looking.
        offset: u64,
        /// Look for a hole instead of data.
        hole: bool,
    },
    /// The token that lets the client's other sessions attach to the open
    /// file of `handle` (since 1.2).
    Share {
        /// A file or directory handle.
        handle: u64,
    },
    /// A handle of this session on the open file `token` names (since 1.2);
    /// the reply carries the file's attributes, as `OPEN`'s.
    Attach {
        /// A token from another session's [`Request::Share`].
        token: u64,
    },
}

impl<'a> Request<'a> {
    /// The operation code.
    pub const fn op(&self) -> OpCode {
        match self {
            Self::Open { .. } => OpCode::OPEN,
            Self::Close { .. } => OpCode::CLOSE,
            Self::Read { .. } => OpCode::READ,
            Self::Write { .. } => OpCode::WRITE,
            Self::Stat { .. } => OpCode::STAT,
            Self::ReadDir { .. } => OpCode::READDIR,
            Self::Mkdir { .. } => OpCode::MKDIR,
            Self::Unlink { .. } => OpCode::UNLINK,
            Self::Rename { .. } => OpCode::RENAME,
            Self::Link { .. } => OpCode::LINK,
            Self::Symlink { .. } => OpCode::SYMLINK,
            Self::ReadLink { .. } => OpCode::READLINK,
            Self::SetAttr { .. } => OpCode::SETATTR,
            Self::Access { .. } => OpCode::ACCESS,
            Self::Fsync { .. } => OpCode::FSYNC,
            Self::StatFs { .. } => OpCode::STATFS,
            Self::Mknod { .. } => OpCode::MKNOD,
            Self::Lock { .. } => OpCode::LOCK,
            Self::GetLk { .. } => OpCode::GETLK,
            Self::Cancel { .. } => OpCode::CANCEL,
            Self::StatX { .. } => OpCode::STAT,
            Self::SetContext { .. } => OpCode::SETCONTEXT,
            Self::GetXattr { .. } => OpCode::GETXATTR,
            Self::SetXattr { .. } => OpCode::SETXATTR,
            Self::ListXattr { .. } => OpCode::LISTXATTR,
            Self::RemoveXattr { .. } => OpCode::REMOVEXATTR,
            Self::ReadDirPlus { .. } => OpCode::READDIRPLUS,
            Self::CopyRange { .. } => OpCode::COPY_RANGE,
            Self::Fallocate { .. } => OpCode::FALLOCATE,
            Self::Seek { .. } => OpCode::SEEK,
            Self::Share { .. } => OpCode::SHARE,
            Self::Attach { .. } => OpCode::ATTACH,
        }
    }

    /// The same request with every handle it names (bases included, the
    /// root among them) replaced by `f`'s answer, or `f`'s first error.
    ///
    /// For a front end whose own handle numbers stand for the server's: it
    /// checks and translates them here, in one place, before sending.
    pub fn map_handles<E>(&self, mut f: impl FnMut(u64) -> Result<u64, E>) -> Result<Self, E> {
        let mut out = *self;
        match &mut out {
            Self::Open { base, .. }
            | Self::Stat { base, .. }
            | Self::Mkdir { base, .. }
            | Self::Unlink { base, .. }
            | Self::Symlink { base, .. }
            | Self::ReadLink { base, .. }
            | Self::SetAttr { base, .. }
            | Self::Access { base, .. }
            | Self::StatFs { base, .. }
            | Self::Mknod { base, .. }
            | Self::StatX { base, .. }
            | Self::GetXattr { base, .. }
            | Self::SetXattr { base, .. }
            | Self::ListXattr { base, .. }
            | Self::RemoveXattr { base, .. } => *base = f(*base)?,
            Self::Close { handle }
            | Self::Read { handle, .. }
            | Self::Write { handle, .. }
            | Self::ReadDir { handle, .. }
            | Self::Fsync { handle, .. }
            | Self::Lock { handle, .. }
            | Self::GetLk { handle, .. }
            | Self::ReadDirPlus { handle, .. }
            | Self::Fallocate { handle, .. }
            | Self::Seek { handle, .. }
            | Self::Share { handle } => *handle = f(*handle)?,
            Self::Rename {
                from_base, to_base, ..
            }
            | Self::Link {
                from_base, to_base, ..
            } => {
                *from_base = f(*from_base)?;
                *to_base = f(*to_base)?;
            }
            Self::CopyRange { from, to, .. } => {
                *from = f(*from)?;
                *to = f(*to)?;
            }
            Self::Cancel { .. } | Self::SetContext { .. } | Self::Attach { .. } => {}
        }
        Ok(out)
    }

    /// The data part, as up to two slices sent one after the other.
    pub fn data_parts(&self) -> [&'a [u8]; 2] {
        match *self {
            Self::Open { path, .. }
            | Self::Stat { path, .. }
            | Self::Mkdir { path, .. }
            | Self::Unlink { path, .. }
            | Self::ReadLink { path, .. }
            | Self::Access { path, .. }
            | Self::StatFs { path, .. }
            | Self::Mknod { path, .. }
            | Self::StatX { path, .. }
            | Self::ListXattr { path, .. } => [path, &[]],
            Self::Write { data, .. } => [data, &[]],
            Self::SetContext { groups, .. } => [groups, &[]],
            Self::GetXattr { name, path, .. } | Self::RemoveXattr { name, path, .. } => {
                [name, path]
            }
            Self::SetXattr {
                name_value, path, ..
            } => [name_value, path],
            Self::Rename { from, to, .. } | Self::Link { from, to, .. } => [from, to],
            Self::Symlink { target, path, .. } => [target, path],
            Self::SetAttr { attr, path, .. } => [attr.as_wire(), path],
            Self::Close { .. }
            | Self::Read { .. }
            | Self::ReadDir { .. }
            | Self::Fsync { .. }
            | Self::Lock { .. }
            | Self::GetLk { .. }
            | Self::Cancel { .. }
            | Self::ReadDirPlus { .. }
            | Self::CopyRange { .. }
            | Self::Fallocate { .. }
            | Self::Seek { .. }
            | Self::Share { .. }
            | Self::Attach { .. } => [&[], &[]],
        }
    }

    /// Checks what the caller asks against the protocol's limits and `max_io`.
    pub fn validate(&self, max_io: u64) -> Result<(), SendError> {
        match *self {
            Self::Open { path, .. }
            | Self::Stat { path, .. }
            | Self::Mkdir { path, .. }
            | Self::Unlink { path, .. }
            | Self::ReadLink { path, .. }
            | Self::SetAttr { path, .. }
            | Self::Access { path, .. }
            | Self::StatFs { path, .. }
            | Self::Mknod { path, .. }
            | Self::StatX { path, .. }
            | Self::ListXattr { path, .. } => check_path(path),
            Self::GetXattr { name, path, .. } | Self::RemoveXattr { name, path, .. } => {
                check_xattr_name(name)?;
                check_path(path)
            }
            Self::SetXattr {
                name_value,
                name_len,
                path,
                ..
            } => {
                let (name, value) = name_value
                    .split_at_checked(name_len)
                    .ok_or(SendError::NameTooLong { len: name_len })?;
                check_xattr_name(name)?;
                check_size(value.len() as u64, MAX_XATTR_VALUE as u64)?;
                check_path(path)
            }
            Self::SetContext { groups, .. } => {
                check_size(groups.len() as u64, (MAX_GROUPS * 8) as u64)
            }
            Self::ReadDirPlus { count, .. } => check_size(count, max_io),
            Self::Rename { from, to, .. } | Self::Link { from, to, .. } => {
                check_path(from)?;
                check_path(to)
            }
            Self::Symlink { target, path, .. } => {
                check_bytes(target)?;
                check_path(path)
            }
            Self::Read { count, .. } | Self::ReadDir { count, .. } => check_size(count, max_io),
            Self::Write { data, .. } => check_size(data.len() as u64, max_io),
            Self::Close { .. }
            | Self::Fsync { .. }
            | Self::Lock { .. }
            | Self::GetLk { .. }
            | Self::Cancel { .. }
            | Self::CopyRange { .. }
            | Self::Fallocate { .. }
            | Self::Seek { .. }
            | Self::Share { .. }
            | Self::Attach { .. } => Ok(()),
        }
    }

    /// The most reply data this request allows (for a `READ`, its count).
    pub(crate) fn reply_limit(&self) -> u64 {
        match *self {
            Self::Open { .. }
            | Self::Attach { .. }
            | Self::Stat { .. }
            | Self::SetAttr { .. }
            | Self::StatX { .. } => orfa_wire::ATTR_LEN as u64,
            Self::GetXattr { size, .. } | Self::ListXattr { size, .. } => size,
            Self::ReadDirPlus { count, .. } => count,
            Self::StatFs { .. } => orfa_wire::FS_ATTR_LEN as u64,
            Self::GetLk { .. } => orfa_wire::LOCK_INFO_LEN as u64,
            Self::Read { count, .. } | Self::ReadDir { count, .. } => count,
            Self::ReadLink { .. } => MAX_PATH as u64,
            _ => 0,
        }
    }

    /// The request header for `tag`.
    pub(crate) fn header(&self, tag: u64) -> [u8; REQUEST_HEADER_LEN] {
        let [first, second] = self.data_parts();
        let mut h = RequestHeader {
            op: self.op().0.into(),
            tag: tag.into(),
            data_len: ((first.len() + second.len()) as u64).into(),
            ..RequestHeader::default()
        };
        match *self {
            Self::Open {
                base, flags, mode, ..
            } => {
                h.handle = base.into();
                h.flags = flags.0.into();
                h.mode = u64::from(mode).into();
            }
            Self::Close { handle } => h.handle = handle.into(),
            Self::Read {
                handle,
                offset,
                count,
            } => {
                h.handle = handle.into();
                h.offset = offset.into();
                h.count = count.into();
            }
            Self::Write {
                handle,
                offset,
                append,
                ..
            } => {
                h.handle = handle.into();
                h.offset = offset.into();
                if append {
                    h.flags = OpenFlags::APPEND.0.into();
                }
            }
            Self::Stat { base, flags, .. } | Self::Unlink { base, flags, .. } => {
                h.handle = base.into();
                h.flags = flags.0.into();
            }
            Self::ReadDir {
                handle,
                cookie,
                count,
            } => {
                h.handle = handle.into();
                h.offset = cookie.into();
                h.count = count.into();
            }
            Self::Mkdir { base, mode, .. } => {
                h.handle = base.into();
                h.mode = u64::from(mode).into();
            }
            Self::Rename {
                from_base,
                from,
                to_base,
                flags,
                ..
            }
            | Self::Link {
                from_base,
                from,
                to_base,
                flags,
                ..
            } => {
                h.handle = from_base.into();
                h.arg0 = to_base.into();
                h.count = (from.len() as u64).into();
                h.flags = flags.0.into();
            }
            Self::Symlink { target, base, .. } => {
                h.handle = base.into();
                h.count = (target.len() as u64).into();
            }
            Self::ReadLink { base, .. } | Self::StatFs { base, .. } => h.handle = base.into(),
            Self::SetAttr { base, flags, .. } => {
                h.handle = base.into();
                h.flags = flags.0.into();
            }
            Self::Access {
                base, mode, flags, ..
            } => {
                h.handle = base.into();
                h.mode = mode.0.into();
                h.flags = flags.0.into();
            }
            Self::Fsync { handle, datasync } => {
                h.handle = handle.into();
                if datasync {
                    h.flags = PathFlags::DATASYNC.0.into();
                }
            }
            Self::Mknod {
                base, mode, rdev, ..
            } => {
                h.handle = base.into();
                h.mode = u64::from(mode).into();
                h.arg1 = rdev.into();
            }
            Self::Lock {
                handle,
                start,
                len,
                lock_type,
                owner_kind,
                pid,
                wait,
            } => {
                lock_fields(&mut h, handle, start, len, lock_type, owner_kind, pid);
                if wait {
                    h.flags = PathFlags::WAIT.0.into();
                }
            }
            Self::GetLk {
                handle,
                start,
                len,
                lock_type,
                owner_kind,
                pid,
            } => lock_fields(&mut h, handle, start, len, lock_type, owner_kind, pid),
            Self::Cancel { tag } => h.arg0 = tag.into(),
            Self::StatX {
                base, flags, mask, ..
            } => {
                h.handle = base.into();
                h.flags = flags.0.into();
                h.count = mask.0.into();
            }
            Self::SetContext {
                uid,
                gid,
                umask,
                groups,
            } => {
                h.arg0 = uid.into();
                h.arg1 = gid.into();
                h.mode = u64::from(umask).into();
                h.count = (groups.len() as u64 / 8).into();
            }
            Self::GetXattr {
                base,
                name,
                size,
                flags,
                ..
            } => {
                h.handle = base.into();
                h.count = (name.len() as u64).into();
                h.arg0 = size.into();
                h.flags = flags.0.into();
            }
            Self::SetXattr {
                base,
                name_value,
                name_len,
                flags,
                ..
            } => {
                h.handle = base.into();
                h.count = (name_len as u64).into();
                h.arg0 = (name_value.len().saturating_sub(name_len) as u64).into();
                h.flags = flags.0.into();
            }
            Self::ListXattr {
                base, size, flags, ..
            } => {
                h.handle = base.into();
                h.arg0 = size.into();
                h.flags = flags.0.into();
            }
            Self::RemoveXattr {
                base, name, flags, ..
            } => {
                h.handle = base.into();
                h.count = (name.len() as u64).into();
                h.flags = flags.0.into();
            }
            Self::ReadDirPlus {
                handle,
                cookie,
                count,
            } => {
                h.handle = handle.into();
                h.offset = cookie.into();
                h.count = count.into();
            }
            Self::CopyRange {
                from,
                from_offset,
                to,
                to_offset,
                count,
            } => {
                h.handle = from.into();
                h.offset = from_offset.into();
                h.arg0 = to.into();
                h.arg1 = to_offset.into();
                h.count = count.into();
            }
            Self::Fallocate {
                handle,
                offset,
                len,
                flags,
            } => {
                h.handle = handle.into();
                h.offset = offset.into();
                h.count = len.into();
                h.flags = flags.0.into();
            }
            Self::Seek {
                handle,
                offset,
                hole,
            } => {
                h.handle = handle.into();
                h.offset = offset.into();
                if hole {
                    h.flags = PathFlags::SEEK_HOLE.0.into();
                }
            }
            Self::Share { handle } => h.handle = handle.into(),
            Self::Attach { token } => h.arg0 = token.into(),
        }
        *h.as_wire()
    }
}

/// Fills the fields `LOCK` and `GETLK` share.
fn lock_fields(
    h: &mut RequestHeader,
    handle: u64,
    start: u64,
    len: u64,
    lock_type: LockType,
    owner_kind: LockOwnerKind,
    pid: u64,
) {
    h.handle = handle.into();
    h.offset = start.into();
    h.count = len.into();
    h.mode = lock_type.0.into();
    h.arg1 = owner_kind.0.into();
    h.arg0 = pid.into();
}

/// The header of the `DATA` message that carries a granted request's data part.
pub(crate) fn data_header(tag: u64, len: u64) -> [u8; REQUEST_HEADER_LEN] {
    let h = RequestHeader {
        op: OpCode::DATA.0.into(),
        tag: tag.into(),
        data_len: len.into(),
        ..RequestHeader::default()
    };
    *h.as_wire()
}

/// Checks a path: at most [`MAX_PATH`] bytes, components at most [`MAX_NAME`], no NUL.
pub fn check_path(path: &[u8]) -> Result<(), SendError> {
    check_bytes(path)?;
    match path
        .split(|&b| b == b'/')
        .map(<[u8]>::len)
        .find(|&len| len > MAX_NAME)
    {
        Some(len) => Err(SendError::NameTooLong { len }),
        None => Ok(()),
    }
}

/// Checks a byte string sent as a path or link target: length and NUL bytes.
fn check_bytes(bytes: &[u8]) -> Result<(), SendError> {
    if bytes.len() > MAX_PATH {
        return Err(SendError::NameTooLong { len: bytes.len() });
    }
    if bytes.contains(&0) {
        return Err(SendError::NulByte);
    }
    Ok(())
}

/// Checks an extended attribute's name: 1 to [`MAX_XATTR_NAME`] bytes, no NUL.
fn check_xattr_name(name: &[u8]) -> Result<(), SendError> {
    if name.is_empty() || name.len() > MAX_XATTR_NAME {
        return Err(SendError::NameTooLong { len: name.len() });
    }
    if name.contains(&0) {
        return Err(SendError::NulByte);
    }
    Ok(())
}

/// The data part of a [`Request::SetContext`] for these supplementary groups.
pub fn encode_groups(groups: &[u32]) -> alloc::vec::Vec<u8> {
    groups
        .iter()
        .flat_map(|&g| u64::from(g).to_le_bytes())
        .collect()
}

fn check_size(len: u64, max: u64) -> Result<(), SendError> {
    if len > max {
        return Err(SendError::TooLarge { len, max });
    }
    Ok(())
}
