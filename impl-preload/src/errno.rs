//! `errno`, and the boundary between C callers and the remote half of a wrapper.

use core::ffi::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::remote::{Errno, SignalsBlocked};

/// The calling thread's `errno`.
pub(crate) fn get() -> c_int {
    // SAFETY: `__errno_location` returns the calling thread's errno slot, valid
    // for the thread's lifetime.
    unsafe { *libc::__errno_location() }
}

/// Sets the calling thread's `errno`.
pub(crate) fn set(value: c_int) {
    // SAFETY: as in `get`.
    unsafe { *libc::__errno_location() = value }
}

/// Runs the remote half of a wrapper: an error sets `errno` and yields `fail`,
/// a panic is stopped here (it must never unwind into C) and reads as `EIO`.
///
/// On success `errno` is left untouched. Signals stay blocked meanwhile, so
/// that a handler making remote calls of its own never finds this library's
/// locks held or its allocations half done (see `SignalsBlocked`).
pub(crate) fn guard<T>(fail: T, work: impl FnOnce() -> Result<T, Errno>) -> T {
    let _signals = SignalsBlocked::new();
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => {
            set(e);
            fail
        }
        Err(_) => {
            set(libc::EIO);
            fail
        }
    }
}

/// Like [`guard`] for the functions that return an error number instead of
/// setting `errno` (`posix_fadvise`, `posix_fallocate`, `readdir_r`).
pub(crate) fn guard_code(work: impl FnOnce() -> Result<(), Errno>) -> c_int {
    let _signals = SignalsBlocked::new();
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => e,
        Err(_) => libc::EIO,
    }
}

/// The result of a raw `syscall(2)`: the value, or the errno it set.
pub(crate) fn syscall_result(ret: libc::c_long) -> Result<libc::c_long, Errno> {
    if ret < 0 { Err(get()) } else { Ok(ret) }
}
