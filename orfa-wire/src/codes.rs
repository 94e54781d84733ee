//! Protocol codes: operations, message kinds, error codes and flag sets.
//!
//! All are open: a value this version does not name still round-trips.

open_code! {
    /// The operation a request asks for.
    ///
    /// The meaning of each request and reply field per operation is given in
    /// `spec/PROTOCOL.md`; a server answers an operation it does not know
    /// with [`ErrorCode::UNSUPPORTED`].
    OpCode {
        /// Open a file or directory relative to a base handle; replies a handle and its attributes.
        OPEN = 1,
        /// Release a handle.
        CLOSE = 2,
        /// Read up to `count` bytes at `offset` from a file handle.
        READ = 3,
        /// Write the data part at `offset` (or at the end, with the append flag).
        WRITE = 4,
        /// Attributes of a path relative to a base handle, or of the handle itself.
        STAT = 5,
        /// A batch of directory entries from a cookie.
        READDIR = 6,
        /// Create a directory.
        MKDIR = 7,
        /// Remove a name, or an empty directory with [`PathFlags::REMOVEDIR`].
        UNLINK = 8,
        /// Rename a path to another.
        RENAME = 9,
        /// Make a hard link.
        LINK = 10,
        /// Make a symbolic link.
        SYMLINK = 11,
        /// Read a symbolic link's target.
        READLINK = 12,
        /// Change mode, owner, size or times.
        SETATTR = 13,
        /// Check access permissions.
        ACCESS = 14,
        /// Flush a file's data (and metadata) to stable storage.
        FSYNC = 15,
        /// File system statistics.
        STATFS = 16,
        /// Create a special file (FIFO, device node, socket) or an empty regular file.
        MKNOD = 17,
        /// Set the caller's identity and umask for the rest of the session (since 1.1).
        SETCONTEXT = 18,
        /// Take, change or release a record lock or a whole-file lock (since 1.1).
        LOCK = 19,
        /// Find a lock that would conflict with the one described (since 1.1).
        GETLK = 20,
        /// Read an extended attribute (since 1.1).
        GETXATTR = 21,
        /// Set an extended attribute (since 1.1).
        SETXATTR = 22,
        /// List extended attribute names (since 1.1).
        LISTXATTR = 23,
        /// Remove an extended attribute (since 1.1).
        REMOVEXATTR = 24,
        /// A batch of directory entries, each with its attributes (since 1.1).
        READDIRPLUS = 25,
        /// Copy a byte range between two open files inside the server (since 1.1).
        COPY_RANGE = 26,
        /// Allocate, or deallocate, space of a file (since 1.1).
        FALLOCATE = 27,
        /// Find the next data or hole at or after an offset (since 1.1).
        SEEK = 28,
        /// Withdraw a waiting request, named by its tag (since 1.1).
        CANCEL = 29,
        /// Make an open file attachable from the client's other sessions (since 1.2).
        SHARE = 30,
        /// A handle on an open file another session shared (since 1.2).
        ATTACH = 31,
        /// The data part of an earlier request, sent after its clear-to-send.
        DATA = 0x100,
    }
}

open_code! {
    /// What a message from the server is.
    MsgKind {
        /// The reply to a request; returns credits.
        REPLY = 1,
        /// Permission to send the data part of a request larger than the eager limit.
        CLEAR_TO_SEND = 2,
    }
}

open_code! {
    /// A protocol error code, carried in a reply's `status`.
    ///
    /// The codes below 0x1000 have the numbers of the generic Linux errno
    /// values of the same name; [`ErrorCode::to_errno`] and
    /// [`ErrorCode::from_errno`] give the fixed mapping for Linux hosts.
    /// Codes from 0x1000 are the protocol's own.
    ErrorCode {
        /// Success.
        OK = 0,
        /// Operation not permitted (EPERM).
        PERM = 1,
        /// No such file or directory (ENOENT).
        NOENT = 2,
        /// Interrupted: a waiting request was cancelled (EINTR).
        INTR = 4,
        /// Input/output error (EIO).
        IO = 5,
        /// No such device or address (ENXIO).
        NXIO = 6,
        /// Bad handle (EBADF).
        BADF = 9,
        /// Out of memory (ENOMEM).
        NOMEM = 12,
        /// Permission denied (EACCES).
        ACCES = 13,
        /// Device or resource busy (EBUSY).
        BUSY = 16,
        /// File exists (EEXIST).
        EXIST = 17,
        /// Cross-device link (EXDEV).
        XDEV = 18,
        /// No such device (ENODEV).
        NODEV = 19,
        /// Not a directory (ENOTDIR).
        NOTDIR = 20,
        /// Is a directory (EISDIR).
        ISDIR = 21,
        /// Invalid argument (EINVAL).
        INVAL = 22,
        /// Too many open files in the system (ENFILE).
        NFILE = 23,
        /// Too many open files (EMFILE).
        MFILE = 24,
        /// Text file busy (ETXTBSY).
        TXTBSY = 26,
        /// File too large (EFBIG).
        FBIG = 27,
        /// No space left on device (ENOSPC).
        NOSPC = 28,
        /// Illegal seek (ESPIPE).
        SPIPE = 29,
        /// Read-only file system (EROFS).
        ROFS = 30,
        /// Too many links (EMLINK).
        MLINK = 31,
        /// Result too large (ERANGE).
        RANGE = 34,
        /// Resource deadlock would occur (EDEADLK).
        DEADLK = 35,
        /// File name too long (ENAMETOOLONG).
        NAMETOOLONG = 36,
        /// No locks available (ENOLCK).
        NOLCK = 37,
        /// Function not implemented (ENOSYS).
        NOSYS = 38,
        /// Directory not empty (ENOTEMPTY).
        NOTEMPTY = 39,
        /// Too many levels of symbolic links (ELOOP).
        LOOP = 40,
        /// Try again (EAGAIN).
        AGAIN = 11,
        /// No data available (ENODATA).
        NODATA = 61,
        /// Value too large for defined data type (EOVERFLOW).
        OVERFLOW = 75,
        /// Operation not supported (EOPNOTSUPP).
        NOTSUP = 95,
        /// Stale file handle: a shared open file that is gone (ESTALE).
        STALE = 116,
        /// Disk quota exceeded (EDQUOT).
        DQUOT = 122,
        /// The request was malformed; the session stays usable.
        PROTOCOL = 0x1000,
        /// The operation is not known to the server.
        UNSUPPORTED = 0x1001,
        /// A data part exceeded what the server accepts (the eager limit without rendezvous, or its maximum I/O size).
        TOO_LARGE = 0x1002,
        /// The path would leave the export.
        ESCAPE = 0x1003,
    }
}

impl OpCode {
    /// The minor version of major 1 that introduced this operation; a session
    /// that agreed on an earlier minor answers it with [`ErrorCode::UNSUPPORTED`].
    pub const fn since_minor(self) -> u16 {
        if self.0 >= Self::SHARE.0 && self.0 <= Self::ATTACH.0 {
            2
        } else if self.0 >= Self::SETCONTEXT.0 && self.0 <= Self::CANCEL.0 {
            1
        } else {
            0
        }
    }
}

impl ErrorCode {
    /// Whether this is [`ErrorCode::OK`].
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }
}

bit_flags! {
    /// How to open a file; the protocol's own bits, not a host's `O_*` values.
    OpenFlags {
        /// Open for reading.
        READ = 1 << 0,
        /// Open for writing.
        WRITE = 1 << 1,
        /// Create the file if it does not exist.
        CREATE = 1 << 2,
        /// With [`OpenFlags::CREATE`], fail if the file exists.
        EXCL = 1 << 3,
        /// Truncate the file to zero length.
        TRUNC = 1 << 4,
        /// Every write goes to the end of the file, placed by the server.
        APPEND = 1 << 5,
        /// Fail unless the path names a directory.
        DIRECTORY = 1 << 6,
        /// Fail with [`ErrorCode::LOOP`] if the last component is a symbolic link.
        NOFOLLOW = 1 << 7,
        /// Open the object for reference only (as `O_PATH`): no reads or writes.
        PATH = 1 << 8,
        /// Writes are synchronous.
        SYNC = 1 << 9,
    }
}

bit_flags! {
    /// Modifiers of path operations.
    PathFlags {
        /// Do not follow a symbolic link in the last component.
        NOFOLLOW = 1 << 0,
        /// With [`OpCode::UNLINK`], remove a directory.
        REMOVEDIR = 1 << 1,
        /// With [`OpCode::FSYNC`], flush data only.
        DATASYNC = 1 << 2,
        /// With [`OpCode::RENAME`], fail if the target exists.
        NOREPLACE = 1 << 3,
        /// With [`OpCode::RENAME`], swap the two names atomically.
        EXCHANGE = 1 << 4,
        /// With [`OpCode::ACCESS`], check with the effective rather than the real identity.
        EACCESS = 1 << 5,
        /// With [`OpCode::SETXATTR`], fail if the attribute exists.
        XATTR_CREATE = 1 << 6,
        /// With [`OpCode::SETXATTR`], fail unless the attribute exists.
        XATTR_REPLACE = 1 << 7,
        /// With [`OpCode::LOCK`], wait for a conflicting lock to go instead of failing.
        WAIT = 1 << 8,
        /// With [`OpCode::FALLOCATE`], do not change the file size.
        KEEP_SIZE = 1 << 9,
        /// With [`OpCode::FALLOCATE`], deallocate the range (with `KEEP_SIZE`).
        PUNCH_HOLE = 1 << 10,
        /// With [`OpCode::FALLOCATE`], make the range read as zeros.
        ZERO_RANGE = 1 << 11,
        /// With [`OpCode::SEEK`], find a hole instead of data.
        SEEK_HOLE = 1 << 12,
    }
}

open_code! {
    /// The kind of lock of [`OpCode::LOCK`] and [`OpCode::GETLK`], in `mode`.
    LockType {
        /// Release the range.
        UNLOCK = 0,
        /// A shared (read) lock.
        READ = 1,
        /// An exclusive (write) lock.
        WRITE = 2,
    }
}

open_code! {
    /// Whose a lock is, in `arg1` of [`OpCode::LOCK`] and [`OpCode::GETLK`].
    LockOwnerKind {
        /// A POSIX record lock (`fcntl` `F_SETLK`, `lockf`): owned by a process
        /// (`arg0` is its pid); the client releases them all when the process
        /// closes any descriptor of the file.
        POSIX = 0,
        /// An open-file-description record lock (`F_OFD_SETLK`): owned by the
        /// handle, and released when the handle is closed. `arg0` is ignored.
        /// POSIX and HANDLE locks conflict with each other.
        HANDLE = 1,
        /// A whole-file lock of `flock(2)`: owned by the handle, released when
        /// the handle is closed, and independent of POSIX and HANDLE locks
        /// (neither kind ever conflicts with the other).
        FLOCK = 2,
    }
}

bit_flags! {
    /// The permissions [`OpCode::ACCESS`] checks; the empty set checks existence.
    AccessMode {
        /// Execute (search, for a directory).
        EXEC = 1,
        /// Write.
        WRITE = 2,
        /// Read.
        READ = 4,
    }
}

bit_flags! {
    /// Which fields of an [`Attr`](crate::Attr) are valid.
    AttrMask {
        /// File type bits of `mode`.
        TYPE = 1 << 0,
        /// Permission bits of `mode`.
        MODE = 1 << 1,
        /// `nlink`.
        NLINK = 1 << 2,
        /// `uid`.
        UID = 1 << 3,
        /// `gid`.
        GID = 1 << 4,
        /// `atime`.
        ATIME = 1 << 5,
        /// `mtime`.
        MTIME = 1 << 6,
        /// `ctime`.
        CTIME = 1 << 7,
        /// `ino`.
        INO = 1 << 8,
        /// `size`.
        SIZE = 1 << 9,
        /// `blocks`.
        BLOCKS = 1 << 10,
        /// `btime` (creation time).
        BTIME = 1 << 11,
    }
}

impl AttrMask {
    /// The fields of `stat(2)`, which every server fills.
    pub const BASIC: Self = Self(0x7ff);
}

bit_flags! {
    /// Which fields of a [`SetAttr`](crate::SetAttr) to apply.
    SetAttrMask {
        /// Set the permission bits to `mode`.
        MODE = 1 << 0,
        /// Set the owner to `uid`.
        UID = 1 << 1,
        /// Set the group to `gid`.
        GID = 1 << 2,
        /// Truncate or extend to `size`.
        SIZE = 1 << 3,
        /// Set the access time to `atime`.
        ATIME = 1 << 4,
        /// Set the access time to the server's current time.
        ATIME_NOW = 1 << 5,
        /// Set the modification time to `mtime`.
        MTIME = 1 << 6,
        /// Set the modification time to the server's current time.
        MTIME_NOW = 1 << 7,
    }
}

open_code! {
    /// The type of a file, as in the `S_IFMT` bits of a POSIX mode (these values are the same on every Unix).
    FileType {
        /// A FIFO.
        FIFO = 0o010000,
        /// A character device.
        CHAR = 0o020000,
        /// A directory.
        DIR = 0o040000,
        /// A block device.
        BLOCK = 0o060000,
        /// A regular file.
        REGULAR = 0o100000,
        /// A symbolic link.
        SYMLINK = 0o120000,
        /// A socket.
        SOCKET = 0o140000,
    }
}

impl FileType {
    /// The mask of the type bits in a mode.
    pub const MASK: u64 = 0o170000;

    /// The type encoded in a mode's `S_IFMT` bits.
    pub const fn from_mode(mode: u64) -> Self {
        Self(mode & Self::MASK)
    }

    /// The `d_type` value of `readdir(3)` for this type (`DT_UNKNOWN`, 0, if unknown).
    pub const fn to_dirent_type(self) -> u8 {
        (self.0 >> 12) as u8 & 0xf
    }

    /// The type for a `d_type` value of `readdir(3)`.
    pub const fn from_dirent_type(dtype: u8) -> Self {
        Self(((dtype & 0xf) as u64) << 12)
    }
}
