//! The `stat` family: `stat`, `lstat`, `fstat`, `fstatat`, their 64-bit
//! forms, `statx`, and the `__xstat` entry points that binaries built against
//! glibc before 2.33 import. All give the same answer for a remote file.
//!
//! The entries of a directory a stream of this process has just read are
//! answered from the directory read-ahead (see `ahead`) without a request.
//! A path that ends with `/` follows a final symbolic link and must name a
//! directory (`ENOTDIR` otherwise), as on Linux.

use core::ffi::{c_char, c_int, c_uint};

use orfa_wire::{Attr, AttrMask, FileType, PathFlags};

use crate::errno::guard;
use crate::remote::Errno;
use crate::route::{self, RemotePath, Route};
use crate::vfd;
use crate::{ahead, convert, next};

/// The attributes of a remote path; `mask` names the fields needed (`None`:
/// those of `stat(2)`).
fn stat_remote(r: &RemotePath, flags: PathFlags, mask: Option<AttrMask>) -> Result<Attr, Errno> {
    let flags = if r.must_be_dir {
        PathFlags::NONE
    } else {
        flags
    };
    let follow = !flags.contains(PathFlags::NOFOLLOW);
    let attr = match ahead::lookup(r.server, &r.full, follow) {
        Some(attr) => attr,
        None => match mask {
            None => r.server.stat(r.base, &r.path, flags)?,
            Some(mask) => r.server.stat_mask(r.base, &r.path, flags, mask)?,
        },
    };
    if r.must_be_dir && FileType::from_mode(attr.mode.get()) != FileType::DIR {
        return Err(libc::ENOTDIR);
    }
    Ok(attr)
}

/// The attributes a route leads to.
fn stat_route(route: Route, flags: PathFlags) -> Option<Result<Attr, Errno>> {
    route.map(|r| r.and_then(|r| stat_remote(&r, flags, None)))
}

/// The attributes of a remote descriptor.
fn stat_fd(fd: c_int) -> Result<Attr, Errno> {
    let file = vfd::file(fd)?;
    file.server.stat(file.handle, b"", PathFlags::NONE)
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
    // SAFETY: the caller's contract; `write` does not read the old value.
    unsafe { out.write(value) };
    Ok(0)
}

/// Defines `stat`/`lstat`-like functions on a path.
macro_rules! stat_path {
    ($($name:ident($buf:ty, $conv:path, $flags:expr)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote paths ask the server.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a C string; `buf` is valid for writing.
        #[unsafe(no_mangle)]
        pub(crate) unsafe extern "C" fn $name(path: *const c_char, buf: *mut $buf) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match stat_route(unsafe { route::path(path) }, $flags) {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(route::local(path).as_ptr(), buf) },
                // SAFETY: the caller's contract on `buf`.
                Some(r) => guard(-1, || unsafe { store(buf, $conv(&r?)) }),
            }
        }
    )*};
}

stat_path!(
    stat(libc::stat, convert::to_stat, PathFlags::NONE),
    stat64(libc::stat64, convert::to_stat64, PathFlags::NONE),
    lstat(libc::stat, convert::to_stat, PathFlags::NOFOLLOW),
    lstat64(libc::stat64, convert::to_stat64, PathFlags::NOFOLLOW)
);

/// Defines `fstat`-like functions.
macro_rules! stat_fd {
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
            guard(-1, || unsafe { store(buf, $conv(&stat_fd(fd)?)) })
        }
    )*};
}

stat_fd!(
    fstat(libc::stat, convert::to_stat),
    fstat64(libc::stat64, convert::to_stat64)
);

/// Defines `fstatat`-like functions.
macro_rules! stat_at {
    ($($name:ident($buf:ty, $conv:path)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote paths and directories ask the server.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a C string; `buf` is valid for writing.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            dirfd: c_int,
            path: *const c_char,
            buf: *mut $buf,
            flags: c_int,
        ) -> c_int {
            let empty_ok = flags & libc::AT_EMPTY_PATH != 0;
            // SAFETY: the caller passes a C string or null.
            let route = unsafe { route::at(dirfd, path, empty_ok) };
            match stat_route(route, convert::path_flags(flags)) {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(dirfd, route::local_at(dirfd, path).as_ptr(), buf, flags) },
                // SAFETY: the caller's contract on `buf`.
                Some(r) => guard(-1, || unsafe { store(buf, $conv(&r?)) }),
            }
        }
    )*};
}

stat_at!(
    fstatat(libc::stat, convert::to_stat),
    fstatat64(libc::stat64, convert::to_stat64)
);

/// `statx`: remote paths and directories fill every field the server gave.
///
/// # Safety
///
/// `path` is null or a C string; `buf` is valid for writing.
#[unsafe(no_mangle)]
unsafe extern "C" fn statx(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mask: c_uint,
    buf: *mut libc::statx,
) -> c_int {
    let empty_ok = flags & libc::AT_EMPTY_PATH != 0;
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, empty_ok) };
    let wanted = Some(AttrMask(u64::from(mask) & AttrMask::ALL.0));
    let pflags = convert::path_flags(flags);
    let attr = route.map(|r| r.and_then(|r| stat_remote(&r, pflags, wanted)));
    match attr {
        // SAFETY: forwarded call.
        None => unsafe {
            next::statx(
                dirfd,
                route::local_at(dirfd, path).as_ptr(),
                flags,
                mask,
                buf,
            )
        },
        // SAFETY: the caller's contract on `buf`.
        Some(r) => guard(-1, || unsafe { store(buf, convert::to_statx(&r?)) }),
    }
}

// The `__xstat` family: glibc before 2.33 compiled `stat()` into these, with
// a structure version first (always `_STAT_VER_LINUX` on x86-64, where the
// kernel's structure is the C library's). Newer glibc keeps them only for
// old binaries and `dlsym` cannot find them, so they are answered through
// the current functions.

/// `__xstat`: `stat` with a structure version.
///
/// # Safety
///
/// As `stat`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __xstat(_ver: c_int, path: *const c_char, buf: *mut libc::stat) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { stat(path, buf) }
}

/// `__xstat64`: `stat64` with a structure version.
///
/// # Safety
///
/// As `stat64`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __xstat64(_ver: c_int, path: *const c_char, buf: *mut libc::stat64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { stat64(path, buf) }
}

/// `__lxstat`: `lstat` with a structure version.
///
/// # Safety
///
/// As `lstat`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __lxstat(_ver: c_int, path: *const c_char, buf: *mut libc::stat) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { lstat(path, buf) }
}

/// `__lxstat64`: `lstat64` with a structure version.
///
/// # Safety
///
/// As `lstat64`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __lxstat64(_ver: c_int, path: *const c_char, buf: *mut libc::stat64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { lstat64(path, buf) }
}

/// `__fxstat`: `fstat` with a structure version.
///
/// # Safety
///
/// As `fstat`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __fxstat(_ver: c_int, fd: c_int, buf: *mut libc::stat) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { fstat(fd, buf) }
}

/// `__fxstat64`: `fstat64` with a structure version.
///
/// # Safety
///
/// As `fstat64`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __fxstat64(_ver: c_int, fd: c_int, buf: *mut libc::stat64) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { fstat64(fd, buf) }
}

/// `__fxstatat`: `fstatat` with a structure version.
///
/// # Safety
///
/// As `fstatat`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __fxstatat(
    _ver: c_int,
    dirfd: c_int,
    path: *const c_char,
    buf: *mut libc::stat,
    flags: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { fstatat(dirfd, path, buf, flags) }
}

/// `__fxstatat64`: `fstatat64` with a structure version.
///
/// # Safety
///
/// As `fstatat64`.
#[unsafe(no_mangle)]
unsafe extern "C" fn __fxstatat64(
    _ver: c_int,
    dirfd: c_int,
    path: *const c_char,
    buf: *mut libc::stat64,
    flags: c_int,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { fstatat64(dirfd, path, buf, flags) }
}
