//! The name space: creating, removing, renaming and linking names.

use core::ffi::{c_char, c_int, c_uint};

use libc::{mode_t, size_t, ssize_t};
use orfa_wire::PathFlags;

use crate::errno::guard;
use crate::remote::Errno;
use crate::route::{self, RemotePath, Route};
use crate::{convert, ident, next};

/// Runs `work` on a remote route; `None` for a local one.
fn on_route<T>(
    route: Route,
    fail: T,
    work: impl FnOnce(RemotePath) -> Result<T, Errno>,
) -> Option<T> {
    route.map(|r| guard(fail, || work(r?)))
}

/// Creates a directory with `mode` less the umask.
fn mkdir_remote(r: RemotePath, mode: mode_t) -> Result<c_int, Errno> {
    r.server
        .mkdir(r.base, &r.path, ident::create_mode(r.server, mode & 0o7777))?;
    Ok(0)
}

/// `mkdir`: remote paths create on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mkdir(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    // SAFETY: forwarded call.
    on_route(route, -1, |r| mkdir_remote(r, mode))
        .unwrap_or_else(|| unsafe { next::mkdir(route::local(path).as_ptr(), mode) })
}

/// `mkdirat`: remote paths and directories create on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mkdirat(dirfd: c_int, path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, false) };
    on_route(route, -1, |r| mkdir_remote(r, mode))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe {
            next::mkdirat(dirfd, route::local_at(dirfd, path).as_ptr(), mode)
        })
}

/// Removes a name on the server.
fn unlink_remote(r: RemotePath, flags: PathFlags) -> Result<c_int, Errno> {
    if !flags.contains(PathFlags::REMOVEDIR) {
        r.check_dir()?;
    }
    r.server.unlink(r.base, &r.path, flags)?;
    Ok(0)
}

/// `rmdir`: remote paths remove an empty directory on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn rmdir(path: *const c_char) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, -1, |r| unlink_remote(r, PathFlags::REMOVEDIR))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::rmdir(route::local(path).as_ptr()) })
}

/// `unlink`: remote paths remove a name on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn unlink(path: *const c_char) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, -1, |r| unlink_remote(r, PathFlags::NONE))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::unlink(route::local(path).as_ptr()) })
}

/// `unlinkat`: `AT_REMOVEDIR` removes a directory.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn unlinkat(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, false) };
    on_route(route, -1, |r| {
        unlink_remote(r, convert::unlink_flags(flags))
    })
    // SAFETY: forwarded call.
    .unwrap_or_else(|| unsafe {
        next::unlinkat(dirfd, route::local_at(dirfd, path).as_ptr(), flags)
    })
}

/// Two routes of one call (rename, link): `None` if both are local.
fn both(from: Route, to: Route) -> Option<Result<(RemotePath, RemotePath), Errno>> {
    match (from, to) {
        (None, None) => None,
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
        (Some(Ok(a)), Some(Ok(b))) if core::ptr::eq(a.server, b.server) => {
            // A trailing slash on either name needs a directory source.
            let mut a = a;
            a.must_be_dir |= b.must_be_dir;
            Some(a.check_dir().map(|()| (a, b)))
        }
        // Between a local and a remote name, or two servers.
        _ => Some(Err(libc::EXDEV)),
    }
}

/// Renames on the server.
fn rename_remote(pair: Result<(RemotePath, RemotePath), Errno>, flags: c_uint) -> c_int {
    guard(-1, || {
        let (a, b) = pair?;
        let mut pf = PathFlags::NONE;
        if flags & libc::RENAME_NOREPLACE != 0 {
            pf |= PathFlags::NOREPLACE;
        }
        if flags & libc::RENAME_EXCHANGE != 0 {
            pf |= PathFlags::EXCHANGE;
        }
        if flags & !(libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE) != 0 {
            return Err(libc::EINVAL);
        }
        a.server.rename(a.base, &a.path, b.base, &b.path, pf)?;
        Ok(0)
    })
}

/// `rename`: both names on one server rename there; else `EXDEV`.
///
/// # Safety
///
/// The paths are null or NUL-terminated strings.
#[unsafe(no_mangle)]
unsafe extern "C" fn rename(from: *const c_char, to: *const c_char) -> c_int {
    // SAFETY: the caller passes C strings or null.
    match both(unsafe { route::path(from) }, unsafe { route::path(to) }) {
        // SAFETY: forwarded call.
        None => unsafe { next::rename(route::local(from).as_ptr(), route::local(to).as_ptr()) },
        Some(pair) => rename_remote(pair, 0),
    }
}

/// `renameat`: as `rename`, relative to directories.
///
/// # Safety
///
/// The paths are null or NUL-terminated strings.
#[unsafe(no_mangle)]
unsafe extern "C" fn renameat(
    fromfd: c_int,
    from: *const c_char,
    tofd: c_int,
    to: *const c_char,
) -> c_int {
    // SAFETY: the caller passes C strings or null.
    let pair = unsafe { both(route::at(fromfd, from, false), route::at(tofd, to, false)) };
    match pair {
        // SAFETY: forwarded call.
        None => unsafe {
            next::renameat(
                fromfd,
                route::local_at(fromfd, from).as_ptr(),
                tofd,
                route::local_at(tofd, to).as_ptr(),
            )
        },
        Some(pair) => rename_remote(pair, 0),
    }
}

/// `renameat2`: `RENAME_NOREPLACE` and `RENAME_EXCHANGE` go to the server.
///
/// # Safety
///
/// The paths are null or NUL-terminated strings.
#[unsafe(no_mangle)]
unsafe extern "C" fn renameat2(
    fromfd: c_int,
    from: *const c_char,
    tofd: c_int,
    to: *const c_char,
    flags: c_uint,
) -> c_int {
    // SAFETY: the caller passes C strings or null.
    let pair = unsafe { both(route::at(fromfd, from, false), route::at(tofd, to, false)) };
    match pair {
        // SAFETY: forwarded call.
        None => unsafe {
            next::renameat2(
                fromfd,
                route::local_at(fromfd, from).as_ptr(),
                tofd,
                route::local_at(tofd, to).as_ptr(),
                flags,
            )
        },
        Some(pair) => rename_remote(pair, flags),
    }
}

/// Makes a hard link on the server.
fn link_remote(pair: Result<(RemotePath, RemotePath), Errno>, flags: PathFlags) -> c_int {
    guard(-1, || {
        let (a, b) = pair?;
        a.server.link(a.base, &a.path, b.base, &b.path, flags)?;
        Ok(0)
    })
}

/// `link`: both names on one server link there; a symbolic link source is
/// not followed, as on Linux.
///
/// # Safety
///
/// The paths are null or NUL-terminated strings.
#[unsafe(no_mangle)]
unsafe extern "C" fn link(from: *const c_char, to: *const c_char) -> c_int {
    // SAFETY: the caller passes C strings or null.
    match both(unsafe { route::path(from) }, unsafe { route::path(to) }) {
        // SAFETY: forwarded call.
        None => unsafe { next::link(route::local(from).as_ptr(), route::local(to).as_ptr()) },
        Some(pair) => link_remote(pair, PathFlags::NOFOLLOW),
    }
}

/// `linkat`: `AT_SYMLINK_FOLLOW` follows a symbolic link source;
/// `AT_EMPTY_PATH` links the file of a descriptor.
///
/// # Safety
///
/// The paths are null or NUL-terminated strings.
#[unsafe(no_mangle)]
unsafe extern "C" fn linkat(
    fromfd: c_int,
    from: *const c_char,
    tofd: c_int,
    to: *const c_char,
    flags: c_int,
) -> c_int {
    let empty_ok = flags & libc::AT_EMPTY_PATH != 0;
    // SAFETY: the caller passes C strings or null.
    let pair = unsafe {
        both(
            route::at(fromfd, from, empty_ok),
            route::at(tofd, to, false),
        )
    };
    let follow = if flags & libc::AT_SYMLINK_FOLLOW != 0 {
        PathFlags::NONE
    } else {
        PathFlags::NOFOLLOW
    };
    match pair {
        // SAFETY: forwarded call.
        None => unsafe {
            next::linkat(
                fromfd,
                route::local_at(fromfd, from).as_ptr(),
                tofd,
                route::local_at(tofd, to).as_ptr(),
                flags,
            )
        },
        Some(pair) => link_remote(pair, follow),
    }
}

/// The bytes of a C string the server stores as it is (a link target).
///
/// # Safety
///
/// `s` is null or a NUL-terminated string.
unsafe fn c_bytes<'a>(s: *const c_char) -> Result<&'a [u8], Errno> {
    if s.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { core::ffi::CStr::from_ptr(s) }.to_bytes())
}

/// `symlink`: a link created on the server when the new name is remote.
///
/// # Safety
///
/// The strings are null or NUL-terminated.
#[unsafe(no_mangle)]
unsafe extern "C" fn symlink(target: *const c_char, path: *const c_char) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, -1, |r| {
        // SAFETY: the caller's contract.
        let target = unsafe { c_bytes(target) }?;
        r.server.symlink(target, r.base, &r.path)?;
        Ok(0)
    })
    // SAFETY: forwarded call.
    .unwrap_or_else(|| unsafe { next::symlink(target, route::local(path).as_ptr()) })
}

/// `symlinkat`: as `symlink`, relative to a directory.
///
/// # Safety
///
/// The strings are null or NUL-terminated.
#[unsafe(no_mangle)]
unsafe extern "C" fn symlinkat(target: *const c_char, dirfd: c_int, path: *const c_char) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, false) };
    on_route(route, -1, |r| {
        // SAFETY: the caller's contract.
        let target = unsafe { c_bytes(target) }?;
        r.server.symlink(target, r.base, &r.path)?;
        Ok(0)
    })
    // SAFETY: forwarded call.
    .unwrap_or_else(|| unsafe {
        next::symlinkat(target, dirfd, route::local_at(dirfd, path).as_ptr())
    })
}

/// Reads a link target into the caller's buffer, truncated, without a NUL.
///
/// # Safety
///
/// `buf` is valid for `size` writable bytes.
unsafe fn readlink_remote(r: RemotePath, buf: *mut c_char, size: size_t) -> Result<ssize_t, Errno> {
    if size == 0 || size > isize::MAX as usize {
        return Err(libc::EINVAL);
    }
    let target = r.server.readlink(r.base, &r.path)?;
    let n = target.len().min(size);
    if buf.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: `buf` holds `size` >= `n` bytes; the source is our own vector.
    unsafe { core::ptr::copy_nonoverlapping(target.as_ptr(), buf.cast::<u8>(), n) };
    Ok(n as ssize_t)
}

/// `readlink`: remote links are read on the server.
///
/// # Safety
///
/// `path` is null or a C string; `buf` is valid for `size` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn readlink(path: *const c_char, buf: *mut c_char, size: size_t) -> ssize_t {
    // SAFETY: the caller's contract.
    if let Some(n) = unsafe { descriptor_link_target(path, buf, size) } {
        return n;
    }
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    // SAFETY: the caller's contract on `buf`.
    on_route(route, -1, |r| unsafe { readlink_remote(r, buf, size) })
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::readlink(route::local(path).as_ptr(), buf, size) })
}

/// `readlink` of a kernel link to a virtual descriptor (see
/// `route::descriptor_link`): `/REMOTE@NAME/path`, truncated to `size` as
/// `readlink` truncates. `None` for any other path.
///
/// # Safety
///
/// `path` is null or a C string; `buf` is valid for `size` bytes.
unsafe fn descriptor_link_target(
    path: *const c_char,
    buf: *mut c_char,
    size: size_t,
) -> Option<ssize_t> {
    if path.is_null() || !crate::vfd::ever() {
        return None;
    }
    // SAFETY: a non-null C string, by the caller's contract.
    let bytes = unsafe { core::ffi::CStr::from_ptr(path) }.to_bytes();
    let text = route::descriptor_link_text(bytes)?;
    let n = text.len().min(size);
    // SAFETY: `buf` is valid for `size` bytes, and `n` is at most that.
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n) };
    Some(n as ssize_t)
}

/// `readlinkat`: as `readlink`, relative to a directory (`""` with a link's
/// `O_PATH|O_NOFOLLOW` descriptor reads that link).
///
/// # Safety
///
/// `path` is null or a C string; `buf` is valid for `size` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn readlinkat(
    dirfd: c_int,
    path: *const c_char,
    buf: *mut c_char,
    size: size_t,
) -> ssize_t {
    // SAFETY: the caller's contract (the link paths are absolute).
    if let Some(n) = unsafe { descriptor_link_target(path, buf, size) } {
        return n;
    }
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, true) };
    // SAFETY: the caller's contract on `buf`.
    on_route(route, -1, |r| unsafe { readlink_remote(r, buf, size) })
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe {
            next::readlinkat(dirfd, route::local_at(dirfd, path).as_ptr(), buf, size)
        })
}

/// Creates a special or regular file with `mode` less the umask.
fn mknod_remote(r: RemotePath, mode: mode_t, dev: u64) -> Result<c_int, Errno> {
    let mode = ident::create_mode(r.server, mode & (libc::S_IFMT | 0o7777));
    let mode = if mode & libc::S_IFMT == 0 {
        mode | libc::S_IFREG
    } else {
        mode
    };
    r.server.mknod(r.base, &r.path, mode, dev)?;
    Ok(0)
}

/// `mknod`: remote paths create on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mknod(path: *const c_char, mode: mode_t, dev: libc::dev_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, -1, |r| mknod_remote(r, mode, dev))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe { next::mknod(route::local(path).as_ptr(), mode, dev) })
}

/// `mknodat`: as `mknod`, relative to a directory.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mknodat(
    dirfd: c_int,
    path: *const c_char,
    mode: mode_t,
    dev: libc::dev_t,
) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, false) };
    on_route(route, -1, |r| mknod_remote(r, mode, dev))
        // SAFETY: forwarded call.
        .unwrap_or_else(|| unsafe {
            next::mknodat(dirfd, route::local_at(dirfd, path).as_ptr(), mode, dev)
        })
}

/// `mkfifo`: a FIFO made on the server.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mkfifo(path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::path(path) };
    on_route(route, -1, |r| {
        mknod_remote(r, libc::S_IFIFO | (mode & 0o7777), 0)
    })
    // SAFETY: forwarded call.
    .unwrap_or_else(|| unsafe { next::mkfifo(route::local(path).as_ptr(), mode) })
}

/// `mkfifoat`: as `mkfifo`, relative to a directory.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mkfifoat(dirfd: c_int, path: *const c_char, mode: mode_t) -> c_int {
    // SAFETY: the caller passes a C string or null.
    let route = unsafe { route::at(dirfd, path, false) };
    on_route(route, -1, |r| {
        mknod_remote(r, libc::S_IFIFO | (mode & 0o7777), 0)
    })
    // SAFETY: forwarded call.
    .unwrap_or_else(|| unsafe {
        next::mkfifoat(dirfd, route::local_at(dirfd, path).as_ptr(), mode)
    })
}
