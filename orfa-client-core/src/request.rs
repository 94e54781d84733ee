//! Typed requests and their encoding into a header and a borrowed data part.

use orfa_wire::{
    AccessMode, MAX_NAME, MAX_PATH, OpCode, OpenFlags, PathFlags, REQUEST_HEADER_LEN,
    RequestHeader, SetAttr,
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
        }
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
            | Self::Mknod { path, .. } => [path, &[]],
            Self::Write { data, .. } => [data, &[]],
            Self::Rename { from, to, .. } | Self::Link { from, to, .. } => [from, to],
            Self::Symlink { target, path, .. } => [target, path],
            Self::SetAttr { attr, path, .. } => [attr.as_wire(), path],
            Self::Close { .. } | Self::Read { .. } | Self::ReadDir { .. } | Self::Fsync { .. } => {
                [&[], &[]]
            }
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
            | Self::Mknod { path, .. } => check_path(path),
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
            Self::Close { .. } | Self::Fsync { .. } => Ok(()),
        }
    }

    /// The most reply data this request allows (for a `READ`, its count).
    pub(crate) fn reply_limit(&self) -> u64 {
        match *self {
            Self::Open { .. } | Self::Stat { .. } | Self::SetAttr { .. } => {
                orfa_wire::ATTR_LEN as u64
            }
            Self::StatFs { .. } => orfa_wire::FS_ATTR_LEN as u64,
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
        }
        *h.as_wire()
    }
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

fn check_size(len: u64, max: u64) -> Result<(), SendError> {
    if len > max {
        return Err(SendError::TooLarge { len, max });
    }
    Ok(())
}
