//! Descriptor operations: `close`, `dup`, `fcntl`, `fsync`, and file system
//! statistics (`statfs`, `statvfs`).

use core::ffi::{c_char, c_int, c_uint, c_ulong};

use orfa_wire::FsAttr;

use crate::errno::guard;
use crate::remote::{self, Errno};
use crate::route::{self, Route};
use crate::vfd;
use crate::{convert, next};

/// `close`: a remote descriptor is forgotten, and its handle closed on the
/// server when it was the last descriptor of its open file. The socket of a
/// connection to a server is this library's, not the program's: closing it
/// is a no-op that reports success.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn close(fd: c_int) -> c_int {
    if !vfd::is_virtual(fd) {
        if remote::is_transport_fd(fd) {
            return 0;
        }
        // SAFETY: forwarded call.
        return unsafe { next::close(fd) };
    }
    guard(-1, || vfd::close(fd).map(|()| 0))
}

/// Forgets the virtual descriptors and the placeholder in `first..=last`,
/// before the kernel closes them all; returns the connection sockets in the
/// range, which must stay open.
fn forget_range(first: c_uint, last: c_uint) -> Vec<c_uint> {
    let mut keep = Vec::new();
    for fd in first..=last.min(LAST_TRACKED) {
        let fd = fd as c_int;
        if vfd::is_virtual(fd) {
            // The kernel closes the number; the handle goes with the last file.
            drop(vfd::unregister(fd));
        } else if remote::is_transport_fd(fd) {
            keep.push(fd as c_uint);
        }
    }
    keep
}

/// The highest descriptor number this library tracks.
const LAST_TRACKED: c_uint = 65535;

/// Closes `first..=last` except the numbers in `keep` (sorted), one
/// `close_range` per gap.
///
/// # Safety
///
/// None beyond `close_range`'s.
unsafe fn close_ranges_except(first: c_uint, last: c_uint, keep: &[c_uint], flags: c_int) -> c_int {
    let mut start = first;
    for &k in keep {
        if k > start {
            // SAFETY: forwarded call.
            let ret = unsafe { next::close_range(start, k - 1, flags) };
            if ret < 0 {
                return ret;
            }
        }
        start = k + 1;
    }
    if start > last {
        return 0;
    }
    // SAFETY: forwarded call.
    unsafe { next::close_range(start, last, flags) }
}

/// `close_range`: remote descriptors in the range are forgotten first, and
/// connection sockets are left open.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    // CLOSE_RANGE_CLOEXEC only marks descriptors: nothing is closed.
    if flags & libc::CLOSE_RANGE_CLOEXEC as c_int != 0 || first > last {
        // SAFETY: forwarded call.
        return unsafe { next::close_range(first, last, flags) };
    }
    let keep = forget_range(first, last);
    // SAFETY: forwarded contract.
    unsafe { close_ranges_except(first, last, &keep, flags) }
}

/// `closefrom`: remote descriptors from `first` are forgotten first, and
/// connection sockets are left open.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn closefrom(first: c_int) {
    let first = first.max(0) as c_uint;
    let keep = forget_range(first, c_uint::MAX);
    if keep.is_empty() {
        // SAFETY: forwarded call.
        return unsafe { next::closefrom(first as c_int) };
    }
    // SAFETY: forwarded contract.
    unsafe { close_ranges_except(first, c_uint::MAX, &keep, 0) };
}

/// `dup`: a new descriptor sharing the remote open file.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn dup(fd: c_int) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::dup(fd) };
    }
    guard(-1, || vfd::dup(fd, 0, false))
}

/// `dup2` and `dup3`: a remote `old` makes `new` share its open file; a
/// remote `new` is forgotten before the kernel replaces it.
///
/// # Safety
///
/// None beyond the C function's.
unsafe fn dup_onto(old: c_int, new: c_int, flags: c_int, three: bool) -> c_int {
    if remote::is_transport_fd(new) {
        // The number is taken by a connection of this library's.
        crate::errno::set(libc::EBUSY);
        return -1;
    }
    let old_remote = vfd::is_virtual(old);
    if !old_remote && !vfd::is_virtual(new) {
        // SAFETY: forwarded call.
        return unsafe {
            if three {
                next::dup3(old, new, flags)
            } else {
                next::dup2(old, new)
            }
        };
    }
    guard(-1, || {
        if three && (old == new || flags & !libc::O_CLOEXEC != 0) {
            return Err(libc::EINVAL);
        }
        if !old_remote {
            // A local descriptor replaces a remote one.
            drop(vfd::unregister(new));
            // SAFETY: forwarded call.
            let ret = unsafe {
                if three {
                    next::dup3(old, new, flags)
                } else {
                    next::dup2(old, new)
                }
            };
            return if ret < 0 {
                Err(crate::errno::get())
            } else {
                Ok(ret)
            };
        }
        if old == new {
            return Ok(new);
        }
        vfd::dup_onto(old, new, flags & libc::O_CLOEXEC != 0)
    })
}

/// `dup2`.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { dup_onto(old, new, 0, false) }
}

/// `dup3`.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { dup_onto(old, new, flags, true) }
}

/// `fcntl` on a remote descriptor.
///
/// Duplication, descriptor flags and status flags are kept by this library;
/// locks are the server's (see `locks`).
/// Only the lock commands need the server: the others act on the kernel's
/// descriptor or the description, and work even when the file can no
/// longer be reached.
fn fcntl_remote(fd: c_int, cmd: c_int, arg: c_ulong) -> Result<c_int, Errno> {
    match cmd {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            let min = c_int::try_from(arg).map_err(|_| libc::EINVAL)?;
            vfd::dup(fd, min, cmd == libc::F_DUPFD_CLOEXEC)
        }
        libc::F_GETFD => Ok(if vfd::cloexec(fd).ok_or(libc::EBADF)? {
            libc::FD_CLOEXEC
        } else {
            0
        }),
        libc::F_SETFD => {
            vfd::set_cloexec(fd, arg as c_int & libc::FD_CLOEXEC != 0)?;
            Ok(0)
        }
        libc::F_GETFL => vfd::status(fd),
        libc::F_SETFL => vfd::set_status(fd, arg as c_int).map(|()| 0),
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | libc::F_OFD_GETLK
        | libc::F_OFD_SETLK
        | libc::F_OFD_SETLKW => crate::locks::fcntl_lock(fd, cmd, arg),
        _ => Err(libc::EINVAL),
    }
}

/// `fcntl`: the argument is passed on as an integer register, whatever its
/// C type (an int or a pointer, by command).
///
/// # Safety
///
/// `arg` is what the command expects.
#[unsafe(no_mangle)]
unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fcntl(fd, cmd, arg) };
    }
    guard(-1, || fcntl_remote(fd, cmd, arg))
}

/// `fcntl64`: as `fcntl`.
///
/// # Safety
///
/// `arg` is what the command expects.
#[unsafe(no_mangle)]
unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fcntl64(fd, cmd, arg) };
    }
    guard(-1, || fcntl_remote(fd, cmd, arg))
}

/// Flushes a remote descriptor's file on the server.
fn sync_remote(fd: c_int, datasync: bool) -> Result<c_int, Errno> {
    let file = vfd::file(fd)?;
    if file.is_path_only() {
        return Err(libc::EBADF);
    }
    file.server.fsync(file.handle, datasync)?;
    Ok(0)
}

/// `fsync`: flushes on the server (directories included).
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn fsync(fd: c_int) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fsync(fd) };
    }
    guard(-1, || sync_remote(fd, false))
}

/// `fdatasync`: flushes data on the server.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn fdatasync(fd: c_int) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fdatasync(fd) };
    }
    guard(-1, || sync_remote(fd, true))
}

/// File system statistics of a route's target.
fn statfs_route(route: Route) -> Option<Result<FsAttr, Errno>> {
    route.map(|r| r.and_then(|r| r.server.statfs(r.base, &r.path)))
}

/// File system statistics of a remote descriptor's file.
fn statfs_fd(fd: c_int) -> Result<FsAttr, Errno> {
    let file = vfd::file(fd)?;
    file.server.statfs(file.handle, b"")
}

/// Stores a result through a caller's pointer.
///
/// # Safety
///
/// `out` is null or valid for writing a `T`.
unsafe fn store<T>(out: *mut T, value: T) -> Result<c_int, Errno> {
    if out.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: the caller's contract.
    unsafe { out.write(value) };
    Ok(0)
}

/// Defines `statfs`-like functions on a path.
macro_rules! statfs_path {
    ($($name:ident($buf:ty, $conv:path)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote paths ask the server.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a C string; `buf` is valid for writing.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, buf: *mut $buf) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match statfs_route(unsafe { route::path(path) }) {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(route::local(path).as_ptr(), buf) },
                // SAFETY: the caller's contract on `buf`.
                Some(r) => guard(-1, || unsafe { store(buf, $conv(&r?)) }),
            }
        }
    )*};
}

statfs_path!(
    statfs(libc::statfs, convert::to_statfs),
    statfs64(libc::statfs64, convert::to_statfs64),
    statvfs(libc::statvfs, convert::to_statvfs),
    statvfs64(libc::statvfs64, convert::to_statvfs64)
);

/// Defines `fstatfs`-like functions.
macro_rules! statfs_fd {
    ($($name:ident($buf:ty, $conv:path)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote descriptors ask the server.")]
        ///
        /// # Safety
        ///
        /// `buf` is valid for writing.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, buf: *mut $buf) -> c_int {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, buf) };
            }
            // SAFETY: the caller's contract on `buf`.
            guard(-1, || unsafe { store(buf, $conv(&statfs_fd(fd)?)) })
        }
    )*};
}

statfs_fd!(
    fstatfs(libc::statfs, convert::to_statfs),
    fstatfs64(libc::statfs64, convert::to_statfs64),
    fstatvfs(libc::statvfs, convert::to_statvfs),
    fstatvfs64(libc::statvfs64, convert::to_statvfs64)
);
