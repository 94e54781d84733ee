//! File and file system attributes, and attribute changes.

use zerocopy::little_endian::U64;

use crate::msg::wire_struct;

wire_struct! {
    /// The attributes of a file: the fields Linux's `statx` fills, times in
    /// seconds (two's complement, so before 1970 is negative) and nanoseconds.
    Attr, ATTR_LEN {
        /// Which fields are valid, an [`AttrMask`](crate::AttrMask).
        mask,
        /// Inode number, unique within the export.
        ino,
        /// File type and permission bits, as a POSIX `st_mode`.
        mode,
        /// Number of hard links.
        nlink,
        /// Owner.
        uid,
        /// Group.
        gid,
        /// Device number of a device file (Linux encoding of `makedev`).
        rdev,
        /// Size in bytes.
        size,
        /// Preferred I/O block size.
        blksize,
        /// Number of 512-byte blocks allocated.
        blocks,
        /// Device number of the file system holding the file (Linux encoding).
        dev,
        /// `statx` attribute flags (`STATX_ATTR_*`).
        attributes,
        /// Last access, seconds since the epoch (as `i64`).
        atime_sec,
        /// Last access, nanoseconds.
        atime_nsec,
        /// Last modification, seconds since the epoch (as `i64`).
        mtime_sec,
        /// Last modification, nanoseconds.
        mtime_nsec,
        /// Last status change, seconds since the epoch (as `i64`).
        ctime_sec,
        /// Last status change, nanoseconds.
        ctime_nsec,
        /// Creation, seconds since the epoch (as `i64`).
        btime_sec,
        /// Creation, nanoseconds.
        btime_nsec,
    }
}

wire_struct! {
    /// A change of attributes: the fields named by `valid` are applied.
    SetAttr, SET_ATTR_LEN {
        /// Which fields to apply, a [`SetAttrMask`](crate::SetAttrMask).
        valid,
        /// New permission bits (the type bits are ignored).
        mode,
        /// New owner.
        uid,
        /// New group.
        gid,
        /// New size.
        size,
        /// New access time, seconds (as `i64`).
        atime_sec,
        /// New access time, nanoseconds.
        atime_nsec,
        /// New modification time, seconds (as `i64`).
        mtime_sec,
        /// New modification time, nanoseconds.
        mtime_nsec,
        /// Reserved; zero.
        reserved,
    }
}

wire_struct! {
    /// File system statistics, as `statvfs(3)`.
    FsAttr, FS_ATTR_LEN {
        /// Block size.
        bsize,
        /// Fragment size (the unit of the block counts).
        frsize,
        /// Total blocks.
        blocks,
        /// Free blocks.
        bfree,
        /// Free blocks available to unprivileged users.
        bavail,
        /// Total inodes.
        files,
        /// Free inodes.
        ffree,
        /// Longest file name.
        namemax,
        /// File system identifier.
        fsid,
        /// Mount flags (`ST_RDONLY` = 1, `ST_NOSUID` = 2).
        flags,
    }
}

wire_struct! {
    /// A lock that conflicts, as [`OpCode::GETLK`](crate::OpCode::GETLK) reports it.
    LockInfo, LOCK_INFO_LEN {
        /// A [`LockType`](crate::LockType); `UNLOCK` if nothing conflicts.
        lock_type,
        /// First byte of the range.
        start,
        /// Length of the range; 0 means to the end of the file and beyond.
        len,
        /// A [`LockOwnerKind`](crate::LockOwnerKind).
        owner_kind,
        /// The owning process id of a POSIX lock, as its client gave it; `u64::MAX` for a handle lock.
        pid,
    }
}

impl Attr {
    /// A time field pair as (seconds, nanoseconds).
    fn time(sec: U64, nsec: U64) -> (i64, u32) {
        (sec.get() as i64, nsec.get() as u32)
    }

    /// Last access time.
    pub fn atime(&self) -> (i64, u32) {
        Self::time(self.atime_sec, self.atime_nsec)
    }

    /// Last modification time.
    pub fn mtime(&self) -> (i64, u32) {
        Self::time(self.mtime_sec, self.mtime_nsec)
    }

    /// Last status change time.
    pub fn ctime(&self) -> (i64, u32) {
        Self::time(self.ctime_sec, self.ctime_nsec)
    }

    /// Creation time.
    pub fn btime(&self) -> (i64, u32) {
        Self::time(self.btime_sec, self.btime_nsec)
    }
}

// The sizes are part of the protocol; a change here is a protocol change.
const _: () = assert!(ATTR_LEN == 160);
const _: () = assert!(SET_ATTR_LEN == 80);
const _: () = assert!(FS_ATTR_LEN == 80);
const _: () = assert!(LOCK_INFO_LEN == 40);
const _: () = assert!(crate::msg::REQUEST_HEADER_LEN == 80);
const _: () = assert!(crate::msg::REPLY_HEADER_LEN == 56);
