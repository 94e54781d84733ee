//! Thin, safe wrappers over the Linux system calls the native backend makes.
//!
//! Each wrapper takes borrowed descriptors and C strings, makes one call
//! (retried on `EINTR`) and turns a failure into an [`Errno`]. No wrapper
//! decides anything about the jail: that is [`super::resolve`]'s job.
//! Extended attributes, file space and thread credentials have their own
//! child modules.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

use orfa_wire::ErrorCode;

pub(super) mod creds;
pub(super) mod space;
pub(super) mod xattr;

/// `fchmodat2(2)`, whose number is the same on every architecture (the
/// tables were unified from 424 on); not every `libc` target names it.
const SYS_FCHMODAT2: libc::c_long = 452;

/// A failed system call's `errno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Errno(pub(super) i32);

impl Errno {
    /// The calling thread's current `errno`.
    fn last() -> Self {
        Self(
            io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }
}

impl From<Errno> for ErrorCode {
    fn from(e: Errno) -> Self {
        ErrorCode::from_errno(e.0)
    }
}

/// The result of a wrapped call.
pub(super) type SysResult<T> = Result<T, Errno>;

/// Runs `call` until it stops failing with `EINTR`; a negative return is an error.
fn retry(mut call: impl FnMut() -> i64) -> SysResult<i64> {
    loop {
        let ret = call();
        if ret >= 0 {
            return Ok(ret);
        }
        let err = Errno::last();
        if err.0 != libc::EINTR {
            return Err(err);
        }
    }
}

/// Runs `call` until it stops failing with `EINTR`, for calls returning 0 or -1.
fn retry_unit(call: impl FnMut() -> i64) -> SysResult<()> {
    retry(call).map(drop)
}

/// Takes ownership of a descriptor a successful call returned.
fn owned(fd: i64) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful open-like call, so it is
    // a valid descriptor that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// The empty path, for the `AT_EMPTY_PATH` forms.
const EMPTY: &CStr = c"";

/// `openat2(2)`: opens `path` relative to `dir` with the `RESOLVE_*` bits `resolve`.
pub(super) fn openat2(
    dir: BorrowedFd<'_>,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> SysResult<OwnedFd> {
    // SAFETY: `open_how` is plain integers, for which all zero bits are valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u32 as u64;
    // openat2 refuses a mode without a creating flag, and mode bits beyond 0o7777.
    if flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE {
        how.mode = u64::from(mode & 0o7777);
    }
    how.resolve = resolve;
    let how_ptr: *mut libc::open_how = &mut how;
    retry(|| {
        // SAFETY: `path` is NUL-terminated, `how` is a valid `open_how` that
        // outlives the call, and the size passed is its size.
        unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                how_ptr,
                std::mem::size_of::<libc::open_how>(),
            )
        }
    })
    .map(owned)
}

/// `openat(2)` of a `/proc/self/fd/N` path: a new open file description of the
/// object `fd` refers to, whatever `fd`'s own mode is.
pub(super) fn reopen(fd: BorrowedFd<'_>, flags: i32) -> SysResult<OwnedFd> {
    let path = proc_fd_path(fd);
    retry(|| {
        // SAFETY: `path` is NUL-terminated and outlives the call.
        i64::from(unsafe { libc::openat(libc::AT_FDCWD, path.as_ptr(), flags | libc::O_CLOEXEC) })
    })
    .map(owned)
}

/// The `/proc/self/fd/N` path of a descriptor.
pub(super) fn proc_fd_path(fd: BorrowedFd<'_>) -> std::ffi::CString {
    let text = format!("/proc/self/fd/{}", fd.as_raw_fd());
    // A formatted number holds no NUL, so this never fails; an empty path
    // would only make the later call fail with ENOENT.
    std::ffi::CString::new(text).unwrap_or_default()
}

/// `statx(2)` of the object `fd` refers to (`AT_EMPTY_PATH`).
pub(super) fn statx(fd: BorrowedFd<'_>) -> SysResult<libc::statx> {
    let mut out = std::mem::MaybeUninit::<libc::statx>::zeroed();
    let mask = libc::STATX_BASIC_STATS | libc::STATX_BTIME;
    retry_unit(|| {
        // SAFETY: the empty path is NUL-terminated and `out` is valid for
        // writes of a whole `statx` structure.
        i64::from(unsafe {
            libc::statx(
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                libc::AT_EMPTY_PATH,
                mask,
                out.as_mut_ptr(),
            )
        })
    })?;
    // SAFETY: the structure was zeroed (a valid `statx`) and the kernel
    // filled it on success.
    Ok(unsafe { out.assume_init() })
}

/// `statx(2)` of `name` in the directory `dir`, not following a final
/// symbolic link.
pub(super) fn statx_at(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<libc::statx> {
    let mut out = std::mem::MaybeUninit::<libc::statx>::zeroed();
    let mask = libc::STATX_BASIC_STATS | libc::STATX_BTIME;
    retry_unit(|| {
        // SAFETY: `name` is NUL-terminated and `out` is valid for writes of
        // a whole `statx` structure.
        i64::from(unsafe {
            libc::statx(
                dir.as_raw_fd(),
                name.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
                mask,
                out.as_mut_ptr(),
            )
        })
    })?;
    // SAFETY: the structure was zeroed (a valid `statx`) and the kernel
    // filled it on success.
    Ok(unsafe { out.assume_init() })
}

/// `fstatvfs(3)` of the file system holding `fd`'s object (O_PATH descriptors work).
pub(super) fn fstatvfs(fd: BorrowedFd<'_>) -> SysResult<libc::statvfs> {
    let mut out = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    retry_unit(|| {
        // SAFETY: `out` is valid for writes of a whole `statvfs` structure.
        i64::from(unsafe { libc::fstatvfs(fd.as_raw_fd(), out.as_mut_ptr()) })
    })?;
    // SAFETY: zeroed memory is a valid `statvfs`, filled by the call on success.
    Ok(unsafe { out.assume_init() })
}

/// `getdents64(2)`: reads directory records at the current position into `buf`.
pub(super) fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<usize> {
    retry(|| {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        }
    })
    .map(|n| n as usize)
}

/// `lseek(2)`.
pub(super) fn lseek(fd: BorrowedFd<'_>, offset: i64, whence: i32) -> SysResult<u64> {
    // SAFETY: lseek takes no pointer; a bad descriptor or offset is an error.
    retry(|| unsafe { libc::lseek(fd.as_raw_fd(), offset, whence) }).map(|o| o as u64)
}

/// `pread(2)`, or `read(2)` for an object without positions (a FIFO, a
/// character device), whose data has no offset.
pub(super) fn pread(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> SysResult<usize> {
    let offset = i64::try_from(offset).map_err(|_| Errno(libc::EINVAL))?;
    let positioned = retry(|| {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        unsafe { libc::pread(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), offset) as i64 }
    });
    match positioned {
        Err(Errno(libc::ESPIPE)) => retry(|| {
            // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
            unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) as i64 }
        }),
        other => other,
    }
    .map(|n| n as usize)
}

/// `pwrite(2)`, or `write(2)` for an object without positions.
pub(super) fn pwrite(fd: BorrowedFd<'_>, data: &[u8], offset: u64) -> SysResult<usize> {
    let offset = i64::try_from(offset).map_err(|_| Errno(libc::EINVAL))?;
    let positioned = retry(|| {
        // SAFETY: `data` is valid for reads of `data.len()` bytes.
        unsafe { libc::pwrite(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), offset) as i64 }
    });
    match positioned {
        Err(Errno(libc::ESPIPE)) => write(fd, data),
        other => other.map(|n| n as usize),
    }
}

/// `write(2)` at the descriptor's position (the end of file with `O_APPEND`).
pub(super) fn write(fd: BorrowedFd<'_>, data: &[u8]) -> SysResult<usize> {
    retry(|| {
        // SAFETY: `data` is valid for reads of `data.len()` bytes.
        unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) as i64 }
    })
    .map(|n| n as usize)
}

/// `fsync(2)`, or `fdatasync(2)` with `datasync`.
pub(super) fn fsync(fd: BorrowedFd<'_>, datasync: bool) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: neither call takes a pointer.
        i64::from(unsafe {
            if datasync {
                libc::fdatasync(fd.as_raw_fd())
            } else {
                libc::fsync(fd.as_raw_fd())
            }
        })
    })
}

/// `ftruncate(2)`.
pub(super) fn ftruncate(fd: BorrowedFd<'_>, size: u64) -> SysResult<()> {
    let size = i64::try_from(size).map_err(|_| Errno(libc::EFBIG))?;
    // SAFETY: ftruncate takes no pointer.
    retry_unit(|| i64::from(unsafe { libc::ftruncate(fd.as_raw_fd(), size) }))
}

/// `fcntl(F_GETFL)`.
pub(super) fn get_status_flags(fd: BorrowedFd<'_>) -> SysResult<i32> {
    // SAFETY: F_GETFL takes no argument.
    retry(|| i64::from(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })).map(|f| f as i32)
}

/// `fcntl(F_SETFL)`.
pub(super) fn set_status_flags(fd: BorrowedFd<'_>, flags: i32) -> SysResult<()> {
    // SAFETY: F_SETFL takes an integer argument.
    retry_unit(|| i64::from(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) }))
}

/// Closes a descriptor, reporting the error `close(2)` gives (NFS reports
/// write-back failures there).
pub(super) fn close(fd: OwnedFd) -> SysResult<()> {
    let raw = fd.into_raw_fd();
    // SAFETY: `raw` came from an `OwnedFd` given up just above, so it is
    // open and closed exactly once here. EINTR is not retried: the
    // descriptor is released whatever close returns.
    if unsafe { libc::close(raw) } == 0 {
        Ok(())
    } else {
        Err(Errno::last())
    }
}

/// `mkdirat(2)`.
pub(super) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: `name` is NUL-terminated.
        i64::from(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) })
    })
}

/// `mknodat(2)`.
pub(super) fn mknodat(dir: BorrowedFd<'_>, name: &CStr, mode: u32, rdev: u64) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: `name` is NUL-terminated.
        i64::from(unsafe { libc::mknodat(dir.as_raw_fd(), name.as_ptr(), mode, rdev) })
    })
}

/// `unlinkat(2)`.
pub(super) fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: i32) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: `name` is NUL-terminated.
        i64::from(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) })
    })
}

/// `renameat2(2)`.
pub(super) fn renameat2(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
    flags: u32,
) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: both names are NUL-terminated.
        i64::from(unsafe {
            libc::renameat2(
                from_dir.as_raw_fd(),
                from.as_ptr(),
                to_dir.as_raw_fd(),
                to.as_ptr(),
                flags,
            )
        })
    })
}

/// `linkat(2)` of the object `from` refers to (through its `/proc/self/fd`
/// path, which needs no privilege, unlike `AT_EMPTY_PATH`).
pub(super) fn link_fd(from: BorrowedFd<'_>, to_dir: BorrowedFd<'_>, to: &CStr) -> SysResult<()> {
    let path = proc_fd_path(from);
    retry_unit(|| {
        // SAFETY: both paths are NUL-terminated.
        i64::from(unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                path.as_ptr(),
                to_dir.as_raw_fd(),
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        })
    })
}

/// `symlinkat(2)`.
pub(super) fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: both strings are NUL-terminated.
        i64::from(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) })
    })
}

/// `readlinkat(2)` of the symbolic link `fd` refers to (an `O_PATH|O_NOFOLLOW` descriptor).
pub(super) fn readlink_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<usize> {
    retry(|| {
        // SAFETY: the empty path is NUL-terminated and `buf` is valid for
        // writes of `buf.len()` bytes.
        unsafe {
            libc::readlinkat(
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            ) as i64
        }
    })
    .map(|n| n as usize)
}

/// Changes the permission bits of the object `fd` refers to.
///
/// `fchmodat2(2)` with `AT_EMPTY_PATH` works on `O_PATH` descriptors; older
/// kernels fall back to the descriptor's `/proc/self/fd` path.
pub(super) fn chmod_fd(fd: BorrowedFd<'_>, mode: u32) -> SysResult<()> {
    let direct = retry_unit(|| {
        // SAFETY: the empty path is NUL-terminated.
        unsafe {
            libc::syscall(
                SYS_FCHMODAT2,
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                mode,
                libc::AT_EMPTY_PATH,
            )
        }
    });
    match direct {
        Err(Errno(libc::ENOSYS)) => {
            let path = proc_fd_path(fd);
            retry_unit(|| {
                // SAFETY: `path` is NUL-terminated.
                i64::from(unsafe { libc::fchmodat(libc::AT_FDCWD, path.as_ptr(), mode, 0) })
            })
        }
        other => other,
    }
}

/// `fchownat(2)` of the object `fd` refers to (`AT_EMPTY_PATH`); `u32::MAX` keeps a field.
pub(super) fn chown_fd(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: the empty path is NUL-terminated.
        i64::from(unsafe {
            libc::fchownat(
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                uid,
                gid,
                libc::AT_EMPTY_PATH,
            )
        })
    })
}

/// `utimensat(2)` of the object `fd` refers to (`AT_EMPTY_PATH`).
pub(super) fn utimens_fd(fd: BorrowedFd<'_>, times: &[libc::timespec; 2]) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: the empty path is NUL-terminated and `times` points to two
        // valid `timespec`s.
        i64::from(unsafe {
            libc::utimensat(
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                times.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        })
    })
}

/// `faccessat2(2)` of the object `fd` refers to (`AT_EMPTY_PATH`); `flags` may add `AT_EACCESS`.
pub(super) fn access_fd(fd: BorrowedFd<'_>, mode: i32, flags: i32) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: the empty path is NUL-terminated.
        unsafe {
            libc::syscall(
                libc::SYS_faccessat2,
                fd.as_raw_fd(),
                EMPTY.as_ptr(),
                mode,
                flags | libc::AT_EMPTY_PATH,
            )
        }
    })
}

/// Sets the process's file creation mask, returning the previous one.
pub(crate) fn set_umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail and takes no pointer.
    unsafe { libc::umask(mask) }
}

/// Raises the soft limit on open descriptors to the hard limit, as every
/// open handle of a native export holds one; returns the limit now in force.
pub(crate) fn raise_fd_limit() -> io::Result<u64> {
    let os_error = |e: Errno| io::Error::from_raw_os_error(e.0);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is valid for writes of one `rlimit`.
    retry_unit(|| i64::from(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }))
        .map_err(os_error)?;
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit` for reads.
        retry_unit(|| i64::from(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }))
            .map_err(os_error)?;
    }
    Ok(limit.rlim_cur)
}
