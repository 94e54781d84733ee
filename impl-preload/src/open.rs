//! The `open` family: `open`, `openat`, `creat`, their 64-bit and fortified
//! (`__open_2`, ...) forms, and the process umask they apply.
//!
//! `open` and `openat` are variadic in C: the mode is only passed when the
//! flags contain `O_CREAT` or `O_TMPFILE`. These definitions take it as a
//! fixed third (fourth) integer argument: on x86-64 the register is there
//! either way, and its value is only used when the flags say so.

use core::ffi::{c_char, c_int, c_uint};
use core::sync::atomic::{AtomicU32, Ordering};

use orfa_wire::FileType;

use crate::errno::guard;
use crate::remote::Errno;
use crate::route::{self, RemotePath};
use crate::shared::Recipe;
use crate::vfd;
use crate::{convert, next};

/// The process umask as last set through this library, or `u32::MAX` before
/// it has been read.
static UMASK: AtomicU32 = AtomicU32::new(u32::MAX);

/// Whether `flags` carry a creation mode.
fn wants_mode(flags: c_int) -> bool {
    flags & libc::O_CREAT != 0 || flags & libc::O_TMPFILE == libc::O_TMPFILE
}

/// The process umask, read from the kernel once.
pub(crate) fn current_umask() -> u32 {
    let cached = UMASK.load(Ordering::Relaxed);
    if cached != u32::MAX {
        return cached;
    }
    let mask = umask_from_proc().unwrap_or_else(|| {
        // SAFETY: umask(2) touches no memory. Setting it twice leaves it as it
        // was; this is only reached where /proc is not mounted.
        unsafe {
            let old = libc::syscall(libc::SYS_umask, 0o022);
            libc::syscall(libc::SYS_umask, old);
            old as u32 & 0o777
        }
    });
    UMASK.store(mask, Ordering::Relaxed);
    mask
}

/// The `Umask:` line of `/proc/self/status`, read with raw system calls.
fn umask_from_proc() -> Option<u32> {
    let flags = libc::O_RDONLY | libc::O_CLOEXEC;
    let path = c"/proc/self/status";
    // SAFETY: the path is NUL-terminated.
    let fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), flags) };
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 1024];
    // SAFETY: `buf` is writable for its whole length.
    let len = unsafe { libc::syscall(libc::SYS_read, fd, buf.as_mut_ptr(), buf.len()) };
    // SAFETY: `fd` was opened above.
    unsafe { libc::syscall(libc::SYS_close, fd) };
    let text = buf.get(..usize::try_from(len).ok()?)?;
    let line = text
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"Umask:"))?;
    let digits = core::str::from_utf8(line.get(6..)?).ok()?.trim();
    u32::from_str_radix(digits, 8).ok()
}

/// Sets the process umask, remembering it for remote creations.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn umask(mask: libc::mode_t) -> libc::mode_t {
    // SAFETY: forwarded call.
    let old = unsafe { next::umask(mask) };
    UMASK.store(mask & 0o777, Ordering::Relaxed);
    crate::ident::umask_changed(mask);
    old
}

/// Opens a remote path; returns the new virtual descriptor.
pub(crate) fn open_remote(r: RemotePath, flags: c_int, mode: c_uint) -> Result<c_int, Errno> {
    if flags & libc::O_TMPFILE == libc::O_TMPFILE {
        // Unnamed files are not in the protocol; programs fall back to a name.
        return Err(libc::EOPNOTSUPP);
    }
    let flags = r.open_flags(flags)?;
    let mode = if wants_mode(flags) {
        crate::ident::create_mode(r.server, mode & 0o7777)
    } else {
        0
    };
    let (handle, attr) = r
        .server
        .open(r.base, &r.path, convert::open_flags(flags), mode)?;
    let recipe = Recipe {
        server: r.server.name(),
        path: &r.full,
        open_flags: flags,
        status: convert::status_flags(flags),
        is_dir: FileType::from_mode(attr.mode.get()) == FileType::DIR,
        ino: attr.ino.get(),
    };
    // On failure the handle is closed.
    vfd::create(
        r.server,
        handle,
        attr.ino.get(),
        &recipe,
        flags & libc::O_CLOEXEC != 0,
    )
}

/// Runs a remote open under the panic guard.
fn open_routed(r: Result<RemotePath, Errno>, flags: c_int, mode: c_uint) -> c_int {
    guard(-1, || open_remote(r?, flags, mode))
}

/// Defines an exported `open`-like function (path, flags, mode).
macro_rules! open_path {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote under `/REMOTE@`, else the C library's.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, flags: c_int, mode: c_uint) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                None => {
                    let mode = if wants_mode(flags) { mode } else { 0 };
                    // SAFETY: forwarded call.
                    unsafe { next::$name(route::local(path).as_ptr(), flags, mode) }
                }
                Some(r) => open_routed(r, flags, mode),
            }
        }
    )*};
}

open_path!(open, open64);

/// Defines an exported `openat`-like function (dirfd, path, flags, mode).
macro_rules! open_at {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote under `/REMOTE@` or a remote directory.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            dirfd: c_int,
            path: *const c_char,
            flags: c_int,
            mode: c_uint,
        ) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::at(dirfd, path, false) } {
                None => {
                    let mode = if wants_mode(flags) { mode } else { 0 };
                    // SAFETY: forwarded call.
                    unsafe { next::$name(dirfd, route::local_at(dirfd, path).as_ptr(), flags, mode) }
                }
                Some(r) => open_routed(r, flags, mode),
            }
        }
    )*};
}

open_at!(openat, openat64);

/// Defines an exported `creat`-like function.
macro_rules! creat {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `open` with `O_CREAT|O_WRONLY|O_TRUNC`.")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, mode: libc::mode_t) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(route::local(path).as_ptr(), mode) },
                Some(r) => {
                    open_routed(r, libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC, mode)
                }
            }
        }
    )*};
}

creat!(creat, creat64);

/// Defines an exported fortified open (`__open_2`: path, flags; no mode).
macro_rules! open_fortified {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: the fortified `open` (no mode argument).")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, flags: c_int) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(route::local(path).as_ptr(), flags) },
                Some(r) => open_routed(r, flags, 0),
            }
        }
    )*};
}

open_fortified!(__open_2, __open64_2);

/// Defines an exported fortified openat (`__openat_2`: dirfd, path, flags).
macro_rules! openat_fortified {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: the fortified `openat` (no mode argument).")]
        ///
        /// # Safety
        ///
        /// `path` is null or a NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(dirfd: c_int, path: *const c_char, flags: c_int) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::at(dirfd, path, false) } {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(dirfd, route::local_at(dirfd, path).as_ptr(), flags) },
                Some(r) => open_routed(r, flags, 0),
            }
        }
    )*};
}

openat_fortified!(__openat_2, __openat64_2);
