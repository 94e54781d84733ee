//! Extended attribute calls on the object a descriptor refers to.
//!
//! `fgetxattr(2)` and its kin refuse `O_PATH` descriptors, and the `*xattrat`
//! calls of Linux 6.13 do too, so these go through the descriptor's
//! `/proc/self/fd/N` path with the calls that follow a final link: following
//! that magic link lands on the descriptor's own object, a symbolic link
//! itself when the descriptor was opened with `O_PATH | O_NOFOLLOW`. (The
//! `l*xattr` forms would act on the `/proc` link instead.)

use std::ffi::CStr;
use std::os::fd::BorrowedFd;

use super::{SysResult, proc_fd_path, retry, retry_unit};

/// `getxattr(2)`: copies the value of `name` into `buf` (an empty `buf` asks
/// for the length); returns the value's length.
pub(in super::super) fn get(fd: BorrowedFd<'_>, name: &CStr, buf: &mut [u8]) -> SysResult<usize> {
    let path = proc_fd_path(fd);
    retry(|| {
        // SAFETY: both strings are NUL-terminated and `buf` is valid for
        // writes of `buf.len()` bytes.
        unsafe {
            libc::getxattr(
                path.as_ptr(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            ) as i64
        }
    })
    .map(|n| n as usize)
}

/// `setxattr(2)` with `XATTR_*` flags.
pub(in super::super) fn set(
    fd: BorrowedFd<'_>,
    name: &CStr,
    value: &[u8],
    flags: i32,
) -> SysResult<()> {
    let path = proc_fd_path(fd);
    retry_unit(|| {
        // SAFETY: both strings are NUL-terminated and `value` is valid for
        // reads of `value.len()` bytes.
        i64::from(unsafe {
            libc::setxattr(
                path.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                flags,
            )
        })
    })
}

/// `listxattr(2)`: copies the NUL-terminated names into `buf`; returns the
/// list's length.
pub(in super::super) fn list(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<usize> {
    let path = proc_fd_path(fd);
    retry(|| {
        // SAFETY: `path` is NUL-terminated and `buf` is valid for writes of
        // `buf.len()` bytes.
        unsafe { libc::listxattr(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) as i64 }
    })
    .map(|n| n as usize)
}

/// `removexattr(2)`.
pub(in super::super) fn remove(fd: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    let path = proc_fd_path(fd);
    retry_unit(|| {
        // SAFETY: both strings are NUL-terminated.
        i64::from(unsafe { libc::removexattr(path.as_ptr(), name.as_ptr()) })
    })
}
