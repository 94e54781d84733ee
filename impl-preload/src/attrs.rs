//! Changing and checking attributes: `chmod`, `chown`, `utimensat` and
//! friends, `truncate`, and the `access` family.
//!
//! Every change is one `SETATTR` request, on a path or (with an empty path)
//! on the handle of a descriptor.

use core::ffi::{c_char, c_int};

use libc::{gid_t, mode_t, off_t, off64_t, timespec, timeval, uid_t, utimbuf};
use orfa_wire::{PathFlags, SetAttr, SetAttrMask};

use crate::errno::guard;
use crate::remote::Errno;
use crate::route::{self, RemotePath, Route};
use crate::vfd;
use crate::{convert, next};

/// Applies `change` to a route's target.
fn apply(r: RemotePath, change: Result<SetAttr, Errno>, flags: PathFlags) -> Result<c_int, Errno> {
    r.check_dir()?;
    r.server.setattr(r.base, &r.path, &change?, flags)?;
    Ok(0)
}

/// Applies `change` to a remote descriptor's file.
fn apply_fd(fd: c_int, change: Result<SetAttr, Errno>) -> Result<c_int, Errno> {
    let file = vfd::file(fd)?;
    file.server
        .setattr(file.handle, b"", &change?, PathFlags::NONE)?;
    Ok(0)
}

/// Runs a change on a route under the guard; `None` for a local route.
fn on_route(route: Route, change: Result<SetAttr, Errno>, flags: PathFlags) -> Option<c_int> {
    route.map(|r| guard(-1, || apply(r?, change, flags)))
}

/// A change of permission bits.
fn mode_change(mode: mode_t) -> Result<SetAttr, Errno> {
    Ok(SetAttr {
        valid: SetAttrMask::MODE.0.into(),
        mode: u64::from(mode & 0o7777).into(),
        ..SetAttr::default()
    })
}

/// A change of owner and group; `-1` leaves one as it is.
fn owner_change(uid: uid_t, gid: gid_t) -> Result<SetAttr, Errno> {
    let mut s = SetAttr::default();
    let mut valid = SetAttrMask::NONE;
    if uid != uid_t::MAX {
        valid |= SetAttrMask::UID;
        s.uid = u64::from(uid).into();
    }
    if gid != gid_t::MAX {
        valid |= SetAttrMask::GID;
        s.gid = u64::from(gid).into();
    }
    s.valid = valid.0.into();
    Ok(s)
}

/// A change of size.
fn size_change(len: i64) -> Result<SetAttr, Errno> {
    Ok(SetAttr {
        valid: SetAttrMask::SIZE.0.into(),
        size: u64::try_from(len).map_err(|_| libc::EINVAL)?.into(),
        ..SetAttr::default()
    })
}

/// One time of a change: `UTIME_NOW`, `UTIME_OMIT`, or a value.
enum Time {
    Now,
    Omit,
    At(i64, u32),
}

/// A change of access and modification times; `None` means both now.
fn times_change(times: Option<[Time; 2]>) -> Result<SetAttr, Errno> {
    let [atime, mtime] = times.unwrap_or([Time::Now, Time::Now]);
    let mut s = SetAttr::default();
    let mut valid = SetAttrMask::NONE;
    match atime {
        Time::Now => valid |= SetAttrMask::ATIME_NOW,
        Time::Omit => {}
        Time::At(sec, nsec) => {
            valid |= SetAttrMask::ATIME;
            (s.atime_sec, s.atime_nsec) = ((sec as u64).into(), u64::from(nsec).into());
        }
    }
    match mtime {
        Time::Now => valid |= SetAttrMask::MTIME_NOW,
        Time::Omit => {}
        Time::At(sec, nsec) => {
            valid |= SetAttrMask::MTIME;
            (s.mtime_sec, s.mtime_nsec) = ((sec as u64).into(), u64::from(nsec).into());
        }
    }
    s.valid = valid.0.into();
    Ok(s)
}

/// The times of a `timespec[2]` (null: both now).
///
/// # Safety
///
/// `times` is null or points to two `timespec`s.
unsafe fn from_timespecs(times: *const timespec) -> Result<Option<[Time; 2]>, Errno> {
    if times.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract.
    let ts = unsafe { core::slice::from_raw_parts(times, 2) };
    let one = |t: &timespec| match t.tv_nsec {
        libc::UTIME_NOW => Ok(Time::Now),
        libc::UTIME_OMIT => Ok(Time::Omit),
        n if (0..1_000_000_000).contains(&n) => Ok(Time::At(t.tv_sec, n as u32)),
        _ => Err(libc::EINVAL),
    };
    match ts {
        [a, m] => Ok(Some([one(a)?, one(m)?])),
        _ => Err(libc::EFAULT),
    }
}

/// The times of a `timeval[2]` (null: both now).
///
/// # Safety
///
/// `times` is null or points to two `timeval`s.
unsafe fn from_timevals(times: *const timeval) -> Result<Option<[Time; 2]>, Errno> {
    if times.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract.
    let tv = unsafe { core::slice::from_raw_parts(times, 2) };
    let one = |t: &timeval| {
        if (0..1_000_000).contains(&t.tv_usec) {
            Ok(Time::At(t.tv_sec, (t.tv_usec * 1000) as u32))
        } else {
            Err(libc::EINVAL)
        }
    };
    match tv {
        [a, m] => Ok(Some([one(a)?, one(m)?])),
        _ => Err(libc::EFAULT),
    }
}

/// `chmod`: remote paths change mode on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn chmod(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    // SAFETY: forwarded call.
    on_route(route, mode_change(mode), PathFlags::NONE)
        .unwrap_or_else(|| unsafe { next::chmod(route::local(path).as_ptr(), mode) })
}

/// `lchmod`: as `chmod`, without following a final symbolic link (which
/// Linux refuses with `EOPNOTSUPP`, as the server does).
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn lchmod(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, mode_change(mode), PathFlags::NOFOLLOW)
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::lchmod(route::local(path).as_ptr(), mode) })
}

/// `fchmod`: remote descriptors change mode on the server.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn fchmod(fd: c_int, mode: mode_t) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fchmod(fd, mode) };
    }
    guard(-1, || apply_fd(fd, mode_change(mode)))
}

/// `fchmodat`: `AT_SYMLINK_NOFOLLOW` goes to the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn fchmodat(
    dirfd: c_int,
    path: *const c_char,
    mode: mode_t,
    flags: c_int,
) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, flags & libc::AT_EMPTY_PATH != 0) };
    on_route(route, mode_change(mode), convert::path_flags(flags))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe {
            next::fchmodat(dirfd, route::local_at(dirfd, path).as_ptr(), mode, flags)
        })
}

/// `chown`: remote paths change owner on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn chown(path: *const c_char, uid: uid_t, gid: gid_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, owner_change(uid, gid), PathFlags::NONE)
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::chown(route::local(path).as_ptr(), uid, gid) })
}

/// `lchown`: as `chown`, without following a final symbolic link.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn lchown(path: *const c_char, uid: uid_t, gid: gid_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, owner_change(uid, gid), PathFlags::NOFOLLOW)
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::lchown(route::local(path).as_ptr(), uid, gid) })
}

/// `fchown`: remote descriptors change owner on the server.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn fchown(fd: c_int, uid: uid_t, gid: gid_t) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fchown(fd, uid, gid) };
    }
    guard(-1, || apply_fd(fd, owner_change(uid, gid)))
}

/// `fchownat`: `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH` as on Linux.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn fchownat(
    dirfd: c_int,
    path: *const c_char,
    uid: uid_t,
    gid: gid_t,
    flags: c_int,
) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, flags & libc::AT_EMPTY_PATH != 0) };
    on_route(route, owner_change(uid, gid), convert::path_flags(flags))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe {
            next::fchownat(
                dirfd,
                route::local_at(dirfd, path).as_ptr(),
                uid,
                gid,
                flags,
            )
        })
}

/// `utimensat`: nanosecond times, `UTIME_NOW` and `UTIME_OMIT`; a null path
/// (a Linux extension) names the descriptor itself.
///
/// # Safety
///
/// `path` is null or a C string; `times` is null or two `timespec`s.
#[unsafe(no_mangle)]
unsafe extern "C" fn utimensat(
    dirfd: c_int,
    path: *const c_char,
    times: *const timespec,
    flags: c_int,
) -> c_int {
    if path.is_null() && vfd::is_virtual(dirfd) {
        // SAFETY: the caller's contract on `times`.
        let change = unsafe { from_timespecs(times) }.and_then(times_change);
        return guard(-1, || apply_fd(dirfd, change));
    }
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, flags & libc::AT_EMPTY_PATH != 0) };
    let Some(route) = route else {
        // SAFETY: forwarded call.
        return unsafe {
            next::utimensat(dirfd, route::local_at(dirfd, path).as_ptr(), times, flags)
        };
    };
    // SAFETY: the caller's contract on `times`.
    let change = unsafe { from_timespecs(times) }.and_then(times_change);
    guard(-1, || apply(route?, change, convert::path_flags(flags)))
}

/// `futimens`: as `utimensat` on a descriptor.
///
/// # Safety
///
/// `times` is null or two `timespec`s.
#[unsafe(no_mangle)]
unsafe extern "C" fn futimens(fd: c_int, times: *const timespec) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::futimens(fd, times) };
    }
    // SAFETY: the caller's contract on `times`.
    let change = unsafe { from_timespecs(times) }.and_then(times_change);
    guard(-1, || apply_fd(fd, change))
}

/// Defines `utimes`/`lutimes` (microsecond times on a path).
macro_rules! utimes_path {
    ($($name:ident($flags:expr)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: microsecond times on a path.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a C string; `times` is null or two `timeval`s.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, times: *const timeval) -> c_int {
            // SAFETY: the caller passes a C string or null.
            let Some(route) = (unsafe { route::path(path) }) else {
                // SAFETY: forwarded call.
                return unsafe { next::$name(route::local(path).as_ptr(), times) };
            };
            // SAFETY: the caller's contract on `times`.
            let change = unsafe { from_timevals(times) }.and_then(times_change);
            guard(-1, || apply(route?, change, $flags))
        }
    )*};
}

utimes_path!(utimes(PathFlags::NONE), lutimes(PathFlags::NOFOLLOW));

/// `futimes`: microsecond times on a descriptor.
///
/// # Safety
///
/// `times` is null or two `timeval`s.
#[unsafe(no_mangle)]
unsafe extern "C" fn futimes(fd: c_int, times: *const timeval) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::futimes(fd, times) };
    }
    // SAFETY: the caller's contract on `times`.
    let change = unsafe { from_timevals(times) }.and_then(times_change);
    guard(-1, || apply_fd(fd, change))
}

/// `utime`: second times on a path.
///
/// # Safety
///
/// `path` is null or a C string; `times` is null or a `utimbuf`.
#[unsafe(no_mangle)]
unsafe extern "C" fn utime(path: *const c_char, times: *const utimbuf) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let Some(route) = (unsafe { route::path(path) }) else {
        // SAFETY: forwarded call.
        return unsafe { next::utime(route::local(path).as_ptr(), times) };
    };
    // SAFETY: the caller's contract: null or a valid `utimbuf`.
    let change = match unsafe { times.as_ref() } {
        None => times_change(None),
        Some(t) => times_change(Some([Time::At(t.actime, 0), Time::At(t.modtime, 0)])),
    };
    guard(-1, || apply(route?, change, PathFlags::NONE))
}

/// Defines `truncate`-like functions.
macro_rules! truncate_path {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote paths change size on the server.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, len: $off) -> c_int {
            // SAFETY: the caller passes a C string or null.
            let route = unsafe { route::path(path) };
            on_route(route, size_change(len), PathFlags::NONE)
                // SAFETY: forwarded call.
                .unwrap_or_else(|| unsafe { next::$name(route::local(path).as_ptr(), len) })
        }
    )*};
}

truncate_path!(truncate(off_t), truncate64(off64_t));

/// Defines `ftruncate`-like functions.
macro_rules! truncate_fd {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote descriptors open for writing change size.")]
        ///
        /// # Safety
        ///
        /// None beyond the C function's.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, len: $off) -> c_int {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, len) };
            }
            guard(-1, || {
                let file = vfd::file(fd)?;
                let mode = file.status() & libc::O_ACCMODE;
                if file.is_path_only() {
                    return Err(libc::EBADF);
                }
                if mode == libc::O_RDONLY || file.is_dir {
                    return Err(libc::EINVAL);
                }
                apply_fd(fd, size_change(len))
            })
        }
    )*};
}

truncate_fd!(ftruncate(off_t), ftruncate64(off64_t));

/// Checks access on the server.
fn access_remote(r: RemotePath, mode: c_int, flags: PathFlags) -> Result<c_int, Errno> {
    if mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0 {
        return Err(libc::EINVAL);
    }
    r.check_dir()?;
    r.server
        .access(r.base, &r.path, convert::access_mode(mode), flags)?;
    Ok(0)
}

/// Defines `access`-like functions on a path.
macro_rules! access_path {
    ($($name:ident($flags:expr)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote paths are checked by the server.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, mode: c_int) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(route::local(path).as_ptr(), mode) },
                Some(r) => guard(-1, || access_remote(r?, mode, $flags)),
            }
        }
    )*};
}

access_path!(
    access(PathFlags::NONE),
    euidaccess(PathFlags::EACCESS),
    eaccess(PathFlags::EACCESS)
);

/// `faccessat`: `AT_EACCESS`, `AT_SYMLINK_NOFOLLOW` and `AT_EMPTY_PATH`.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn faccessat(
    dirfd: c_int,
    path: *const c_char,
    mode: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::at(dirfd, path, flags & libc::AT_EMPTY_PATH != 0) } {
        // SAFETY: forwarded call.
        None => unsafe {
            next::faccessat(dirfd, route::local_at(dirfd, path).as_ptr(), mode, flags)
        },
        Some(r) => guard(-1, || access_remote(r?, mode, convert::access_flags(flags))),
    }
}
