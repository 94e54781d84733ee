//! Conversions between the host's C types and the protocol's.

use core::ffi::c_int;

use orfa_wire::{AccessMode, Attr, FsAttr, OpenFlags, PathFlags};

/// The `f_type` reported by `statfs` for a remote file system: "ORFA".
pub(crate) const ORFA_MAGIC: i64 = 0x4f52_4641;

/// The least `st_blksize` reported for a remote file.
///
/// `st_blksize` tells programs (stdio, `cp`, `cmp`, `sha256sum`) how much to
/// read or write at once. The server reports its own disk's block size,
/// which is right for its disk; for this client each read or write is a
/// round trip, so small blocks cost a request each. The client, which alone
/// knows that, raises the value when converting: 128 KiB is well under any
/// session's `max_io` in practice (1 MiB by default), so one such read
/// is one request, and it makes stdio and coreutils move large blocks.
pub(crate) const REMOTE_BLKSIZE: u64 = 128 * 1024;

/// The `st_blksize` reported for `a`.
fn blksize(a: &Attr) -> u64 {
    a.blksize.get().max(REMOTE_BLKSIZE)
}

/// The protocol's open flags for Linux `open(2)` flags.
pub(crate) fn open_flags(flags: c_int) -> OpenFlags {
    let mut out = OpenFlags::NONE;
    if flags & libc::O_PATH != 0 {
        // Linux ignores everything but these with O_PATH.
        out |= OpenFlags::PATH;
        if flags & libc::O_DIRECTORY != 0 {
            out |= OpenFlags::DIRECTORY;
        }
        if flags & libc::O_NOFOLLOW != 0 {
            out |= OpenFlags::NOFOLLOW;
        }
        return out;
    }
    out |= match flags & libc::O_ACCMODE {
        libc::O_RDONLY => OpenFlags::READ,
        libc::O_WRONLY => OpenFlags::WRITE,
        _ => OpenFlags::READ | OpenFlags::WRITE,
    };
    let pairs = [
        (libc::O_CREAT, OpenFlags::CREATE),
        (libc::O_TRUNC, OpenFlags::TRUNC),
        (libc::O_APPEND, OpenFlags::APPEND),
        (libc::O_DIRECTORY, OpenFlags::DIRECTORY),
        (libc::O_NOFOLLOW, OpenFlags::NOFOLLOW),
        (libc::O_DSYNC, OpenFlags::SYNC),
    ];
    for (bit, flag) in pairs {
        if flags & bit != 0 {
            out |= flag;
        }
    }
    if flags & (libc::O_CREAT | libc::O_EXCL) == libc::O_CREAT | libc::O_EXCL {
        out |= OpenFlags::EXCL;
    }
    out
}

/// The status flags `F_GETFL` reports for a descriptor opened with `flags`.
pub(crate) fn status_flags(flags: c_int) -> c_int {
    let kept = libc::O_ACCMODE
        | libc::O_APPEND
        | libc::O_NONBLOCK
        | libc::O_SYNC
        | libc::O_DSYNC
        | libc::O_DIRECT
        | libc::O_NOATIME
        | libc::O_PATH
        | libc::O_ASYNC;
    if flags & libc::O_PATH != 0 {
        libc::O_PATH
    } else {
        (flags & kept) | libc::O_LARGEFILE
    }
}

/// The protocol's path flags for the `AT_SYMLINK_NOFOLLOW` of `AT_*` flags.
///
/// The other `AT_*` bits mean different things to different calls
/// (`AT_REMOVEDIR` and `AT_EACCESS` are the same bit), so each call maps
/// its own: see [`unlink_flags`] and [`access_flags`].
pub(crate) fn path_flags(at_flags: c_int) -> PathFlags {
    if at_flags & libc::AT_SYMLINK_NOFOLLOW != 0 {
        PathFlags::NOFOLLOW
    } else {
        PathFlags::NONE
    }
}

/// The protocol's path flags for the flags of `unlinkat`.
pub(crate) fn unlink_flags(at_flags: c_int) -> PathFlags {
    if at_flags & libc::AT_REMOVEDIR != 0 {
        PathFlags::REMOVEDIR
    } else {
        PathFlags::NONE
    }
}

/// The protocol's path flags for the flags of `faccessat`.
pub(crate) fn access_flags(at_flags: c_int) -> PathFlags {
    let mut out = path_flags(at_flags);
    if at_flags & libc::AT_EACCESS != 0 {
        out |= PathFlags::EACCESS;
    }
    out
}

/// The protocol's access mode for `access(2)` bits (`R_OK` and friends).
pub(crate) fn access_mode(mode: c_int) -> AccessMode {
    // The protocol uses the same bit values as Linux.
    AccessMode(u64::from(mode as u32 & 7))
}

/// The major number of a Linux device number.
pub(crate) fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// The minor number of a Linux device number.
pub(crate) fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

/// Fills a `struct stat` or `struct stat64` (the same layout on x86-64).
macro_rules! fill_stat {
    ($st:expr, $a:expr) => {{
        let st = $st;
        let a: &Attr = $a;
        st.st_dev = a.dev.get();
        st.st_ino = a.ino.get();
        st.st_nlink = a.nlink.get();
        st.st_mode = a.mode.get() as u32;
        st.st_uid = a.uid.get() as u32;
        st.st_gid = a.gid.get() as u32;
        st.st_rdev = a.rdev.get();
        st.st_size = a.size.get() as i64;
        st.st_blksize = blksize(a) as i64;
        st.st_blocks = a.blocks.get() as i64;
        (st.st_atime, st.st_atime_nsec) = (a.atime().0, i64::from(a.atime().1));
        (st.st_mtime, st.st_mtime_nsec) = (a.mtime().0, i64::from(a.mtime().1));
        (st.st_ctime, st.st_ctime_nsec) = (a.ctime().0, i64::from(a.ctime().1));
    }};
}

/// A `struct stat` for `a`.
pub(crate) fn to_stat(a: &Attr) -> libc::stat {
    // SAFETY: `struct stat` is plain integers, for which zero is valid.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    fill_stat!(&mut st, a);
    st
}

/// A `struct stat64` for `a`.
pub(crate) fn to_stat64(a: &Attr) -> libc::stat64 {
    // SAFETY: `struct stat64` is plain integers, for which zero is valid.
    let mut st: libc::stat64 = unsafe { core::mem::zeroed() };
    fill_stat!(&mut st, a);
    st
}

fn timestamp((sec, nsec): (i64, u32)) -> libc::statx_timestamp {
    // SAFETY: `statx_timestamp` is plain integers, for which zero is valid.
    let mut ts: libc::statx_timestamp = unsafe { core::mem::zeroed() };
    ts.tv_sec = sec;
    ts.tv_nsec = nsec;
    ts
}

/// A `struct statx` for `a`: every field the server filled, named in `stx_mask`.
pub(crate) fn to_statx(a: &Attr) -> libc::statx {
    // SAFETY: `struct statx` is plain integers, for which zero is valid.
    let mut sx: libc::statx = unsafe { core::mem::zeroed() };
    // The protocol's mask bits are those of STATX_TYPE ... STATX_BTIME.
    sx.stx_mask = (a.mask.get() & 0xfff) as u32;
    sx.stx_blksize = blksize(a) as u32;
    sx.stx_attributes = a.attributes.get();
    sx.stx_nlink = a.nlink.get() as u32;
    sx.stx_uid = a.uid.get() as u32;
    sx.stx_gid = a.gid.get() as u32;
    sx.stx_mode = a.mode.get() as u16;
    sx.stx_ino = a.ino.get();
    sx.stx_size = a.size.get();
    sx.stx_blocks = a.blocks.get();
    sx.stx_atime = timestamp(a.atime());
    sx.stx_btime = timestamp(a.btime());
    sx.stx_ctime = timestamp(a.ctime());
    sx.stx_mtime = timestamp(a.mtime());
    sx.stx_rdev_major = dev_major(a.rdev.get());
    sx.stx_rdev_minor = dev_minor(a.rdev.get());
    sx.stx_dev_major = dev_major(a.dev.get());
    sx.stx_dev_minor = dev_minor(a.dev.get());
    sx
}

/// The two halves of a file system identifier.
fn fsid(f: &FsAttr) -> libc::fsid_t {
    let id = f.fsid.get();
    let halves = [id as u32 as i32, (id >> 32) as u32 as i32];
    // SAFETY: `fsid_t` is `struct { int __val[2]; }`, the layout of `[i32; 2]`.
    unsafe { core::mem::transmute::<[i32; 2], libc::fsid_t>(halves) }
}

/// Fills a `struct statfs` or `struct statfs64` (the same layout on x86-64).
macro_rules! fill_statfs {
    ($st:expr, $f:expr) => {{
        let st = $st;
        let f: &FsAttr = $f;
        st.f_type = ORFA_MAGIC;
        st.f_bsize = f.bsize.get() as i64;
        st.f_blocks = f.blocks.get();
        st.f_bfree = f.bfree.get();
        st.f_bavail = f.bavail.get();
        st.f_files = f.files.get();
        st.f_ffree = f.ffree.get();
        st.f_fsid = fsid(f);
        st.f_namelen = f.namemax.get() as i64;
        st.f_frsize = f.frsize.get() as i64;
        // The libc crate names the kernel's `f_flags` as the first spare word,
        // right after `f_frsize`.
        let flags = (&raw mut st.f_frsize).wrapping_add(1);
        // SAFETY: the structure has five spare words after `f_frsize`.
        unsafe { flags.write((f.flags.get() as i64) | ST_VALID) };
    }};
}

/// `ST_VALID`: `f_flags` is meaningful.
const ST_VALID: i64 = 0x20;

/// A `struct statfs` for `f`.
pub(crate) fn to_statfs(f: &FsAttr) -> libc::statfs {
    // SAFETY: `struct statfs` is plain integers, for which zero is valid.
    let mut st: libc::statfs = unsafe { core::mem::zeroed() };
    fill_statfs!(&mut st, f);
    st
}

/// A `struct statfs64` for `f`.
pub(crate) fn to_statfs64(f: &FsAttr) -> libc::statfs64 {
    // SAFETY: `struct statfs64` is plain integers, for which zero is valid.
    let mut st: libc::statfs64 = unsafe { core::mem::zeroed() };
    fill_statfs!(&mut st, f);
    st
}

/// Fills a `struct statvfs` or `struct statvfs64` (the same layout on x86-64).
macro_rules! fill_statvfs {
    ($st:expr, $f:expr) => {{
        let st = $st;
        let f: &FsAttr = $f;
        st.f_bsize = f.bsize.get();
        st.f_frsize = f.frsize.get();
        st.f_blocks = f.blocks.get();
        st.f_bfree = f.bfree.get();
        st.f_bavail = f.bavail.get();
        st.f_files = f.files.get();
        st.f_ffree = f.ffree.get();
        st.f_favail = f.ffree.get();
        st.f_fsid = f.fsid.get();
        st.f_flag = f.flags.get();
        st.f_namemax = f.namemax.get();
    }};
}

/// A `struct statvfs` for `f`.
pub(crate) fn to_statvfs(f: &FsAttr) -> libc::statvfs {
    // SAFETY: `struct statvfs` is plain integers, for which zero is valid.
    let mut st: libc::statvfs = unsafe { core::mem::zeroed() };
    fill_statvfs!(&mut st, f);
    st
}

/// A `struct statvfs64` for `f`.
pub(crate) fn to_statvfs64(f: &FsAttr) -> libc::statvfs64 {
    // SAFETY: `struct statvfs64` is plain integers, for which zero is valid.
    let mut st: libc::statvfs64 = unsafe { core::mem::zeroed() };
    fill_statvfs!(&mut st, f);
    st
}

#[cfg(test)]
mod tests;
