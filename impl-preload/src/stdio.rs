//! Standard I/O streams on remote files: `fopen`, `fopen64` and `fdopen`.
//!
//! The C library's own streams call its internal `read` and `write`, which
//! no preloaded library can reach, so a remote stream is a custom one made
//! with `fopencookie`, whose callbacks go through the virtual descriptor.
//! `fileno` of such a stream is that descriptor (the C library would say -1,
//! and programs such as `sort` then fail to `fstat` it). The same streams
//! stand in for `stdin`, `stdout` and `stderr` on remote descriptors (see
//! `std_streams`), which give them up without closing the descriptor.

use core::ffi::{c_char, c_int, c_void};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use libc::{FILE, off64_t, size_t, ssize_t};

use crate::errno::{self, guard};
use crate::remote::Errno;
use crate::route;
use crate::{io, next, open, vfd};

/// The callbacks of a custom stream (`cookie_io_functions_t`).
#[repr(C)]
struct CookieIoFunctions {
    read: Option<unsafe extern "C" fn(*mut c_void, *mut c_char, size_t) -> ssize_t>,
    write: Option<unsafe extern "C" fn(*mut c_void, *const c_char, size_t) -> ssize_t>,
    seek: Option<unsafe extern "C" fn(*mut c_void, *mut off64_t, c_int) -> c_int>,
    close: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
}

unsafe extern "C" {
    /// glibc's custom stream constructor.
    fn fopencookie(cookie: *mut c_void, mode: *const c_char, funcs: CookieIoFunctions)
    -> *mut FILE;
}

/// The open remote streams: (stream, descriptor, cookie) addresses.
static STREAMS: Mutex<Vec<(usize, c_int, usize)>> = Mutex::new(Vec::new());

/// How many remote streams are open: `fileno` of any stream checks this first.
static OPEN: AtomicUsize = AtomicUsize::new(0);

fn streams() -> std::sync::MutexGuard<'static, Vec<(usize, c_int, usize)>> {
    STREAMS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records a remote stream.
fn remember(file: *mut FILE, fd: c_int, cookie: *mut Cookie) {
    streams().push((file as usize, fd, cookie as usize));
    OPEN.fetch_add(1, Ordering::AcqRel);
}

/// Forgets a remote stream.
fn forget(file: usize) {
    let mut streams = streams();
    let before = streams.len();
    streams.retain(|&(f, _, _)| f != file);
    let gone = before - streams.len();
    OPEN.fetch_sub(gone, Ordering::AcqRel);
}

/// The descriptor of a remote stream.
fn descriptor(file: *mut FILE) -> Option<c_int> {
    if OPEN.load(Ordering::Acquire) == 0 {
        return None;
    }
    streams()
        .iter()
        .find(|&&(f, _, _)| f == file as usize)
        .map(|&(_, fd, _)| fd)
}

/// `fileno`: the virtual descriptor of a remote stream.
///
/// # Safety
///
/// `file` is an open stream.
#[unsafe(no_mangle)]
unsafe extern "C" fn fileno(file: *mut FILE) -> c_int {
    match descriptor(file) {
        Some(fd) => fd,
        // SAFETY: forwarded call.
        None => unsafe { next::fileno(file) },
    }
}

/// `fileno_unlocked`: as `fileno`.
///
/// # Safety
///
/// `file` is an open stream.
#[unsafe(no_mangle)]
unsafe extern "C" fn fileno_unlocked(file: *mut FILE) -> c_int {
    match descriptor(file) {
        Some(fd) => fd,
        // SAFETY: forwarded call.
        None => unsafe { next::fileno_unlocked(file) },
    }
}

/// The cookie of a remote stream: the descriptor it uses, virtual or (after
/// a `freopen` onto a local file) the kernel's.
struct Cookie {
    fd: AtomicI32,
    /// Whether closing the stream leaves the descriptor open.
    keep_fd: AtomicBool,
}

/// The descriptor behind a cookie.
///
/// # Safety
///
/// `cookie` came from `Box::into_raw` in `stream` and is not yet closed.
unsafe fn fd_of(cookie: *mut c_void) -> c_int {
    // SAFETY: the caller's contract.
    unsafe { (*cookie.cast::<Cookie>()).fd.load(Ordering::Acquire) }
}

/// Read callback: -1 and errno on error, as glibc expects.
unsafe extern "C" fn cookie_read(cookie: *mut c_void, buf: *mut c_char, size: size_t) -> ssize_t {
    // SAFETY: glibc passes the cookie given to `fopencookie`.
    let fd = unsafe { fd_of(cookie) };
    guard(-1, || {
        if size == 0 {
            return Ok(0);
        }
        // SAFETY: glibc passes its buffer of `size` bytes.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), size) };
        if !vfd::is_virtual(fd) {
            // SAFETY: `buf` is writable for its length.
            let n = unsafe { next::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            return if n < 0 { Err(errno::get()) } else { Ok(n) };
        }
        Ok(io::read_fd(fd, buf, None)? as ssize_t)
    })
}

/// Write callback: the bytes written, 0 (and errno) on error, as glibc expects.
unsafe extern "C" fn cookie_write(
    cookie: *mut c_void,
    buf: *const c_char,
    size: size_t,
) -> ssize_t {
    // SAFETY: glibc passes the cookie given to `fopencookie`.
    let fd = unsafe { fd_of(cookie) };
    guard(0, || {
        if size == 0 {
            return Ok(0);
        }
        // SAFETY: glibc passes its buffer of `size` bytes.
        let buf = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), size) };
        if !vfd::is_virtual(fd) {
            // SAFETY: `buf` is readable for its length.
            let n = unsafe { next::write(fd, buf.as_ptr().cast(), buf.len()) };
            return if n < 0 { Err(errno::get()) } else { Ok(n) };
        }
        Ok(io::write_fd(fd, buf, None)? as ssize_t)
    })
}

/// Seek callback: stores the new offset.
unsafe extern "C" fn cookie_seek(cookie: *mut c_void, off: *mut off64_t, whence: c_int) -> c_int {
    // SAFETY: glibc passes the cookie given to `fopencookie`.
    let fd = unsafe { fd_of(cookie) };
    guard(-1, || {
        // SAFETY: glibc passes a valid offset to read and update.
        let off = unsafe { off.as_mut() }.ok_or(libc::EFAULT)?;
        if !vfd::is_virtual(fd) {
            // SAFETY: lseek64 takes integers only.
            let at = unsafe { next::lseek64(fd, *off, whence) };
            *off = if at < 0 { return Err(errno::get()) } else { at };
            return Ok(0);
        }
        *off = io::seek(fd, *off, whence)?;
        Ok(0)
    })
}

/// Close callback: closes the descriptor (unless the stream was given up
/// with [`give_up`]) and frees the cookie.
unsafe extern "C" fn cookie_close(cookie: *mut c_void) -> c_int {
    let file = streams()
        .iter()
        .find(|&&(_, _, c)| c == cookie as usize)
        .map(|&(f, _, _)| f);
    // SAFETY: glibc calls this once, with the cookie from `Box::into_raw`.
    let cookie = unsafe { Box::from_raw(cookie.cast::<Cookie>()) };
    if let Some(file) = file {
        forget(file);
        crate::std_streams::closed(file);
    }
    if cookie.keep_fd.load(Ordering::Acquire) {
        return 0;
    }
    let fd = cookie.fd.load(Ordering::Acquire);
    if !vfd::is_virtual(fd) {
        // SAFETY: the stream owned this kernel descriptor since `retarget`.
        return unsafe { next::close(fd) };
    }
    guard(-1, || vfd::close(fd).map(|()| 0))
}

/// A custom stream over the virtual descriptor `fd`; closing the stream
/// closes the descriptor.
///
/// # Safety
///
/// `mode` is a NUL-terminated string.
pub(crate) unsafe fn stream(fd: c_int, mode: *const c_char) -> Result<*mut FILE, Errno> {
    let funcs = CookieIoFunctions {
        read: Some(cookie_read),
        write: Some(cookie_write),
        seek: Some(cookie_seek),
        close: Some(cookie_close),
    };
    let cookie = Box::into_raw(Box::new(Cookie {
        fd: AtomicI32::new(fd),
        keep_fd: AtomicBool::new(false),
    }));
    // SAFETY: `mode` is a C string; the callbacks match glibc's prototypes.
    let file = unsafe { fopencookie(cookie.cast(), mode, funcs) };
    if file.is_null() {
        let e = errno::get();
        // SAFETY: glibc did not take the cookie; it is still ours.
        drop(unsafe { Box::from_raw(cookie) });
        return Err(if e == 0 { libc::ENOMEM } else { e });
    }
    remember(file, fd, cookie);
    Ok(file)
}

/// Points a stream made by [`stream`] at descriptor `fd` (virtual or not),
/// which it then owns; returns the descriptor it used, which the caller
/// closes. `None` if `file` is not such a stream.
///
/// The caller holds the stream's lock (`flockfile`), so that no other
/// thread reads or writes through it meanwhile.
pub(crate) fn retarget(file: *mut FILE, fd: c_int) -> Option<c_int> {
    let mut streams = streams();
    let entry = streams.iter_mut().find(|(f, _, _)| *f == file as usize)?;
    entry.1 = fd;
    // SAFETY: the cookie lives until the stream's close callback runs, and
    // the stream is open.
    let cookie = unsafe { &*(entry.2 as *const Cookie) };
    Some(cookie.fd.swap(fd, Ordering::AcqRel))
}

/// Closes a stream made by [`stream`], leaving its descriptor open.
///
/// # Safety
///
/// `file` is an open stream made by [`stream`].
pub(crate) unsafe fn give_up(file: *mut FILE) {
    let cookie = streams()
        .iter()
        .find(|&&(f, _, _)| f == file as usize)
        .map(|&(_, _, c)| c);
    if let Some(cookie) = cookie {
        // SAFETY: the cookie lives until the stream's close callback runs.
        unsafe {
            (*(cookie as *const Cookie))
                .keep_fd
                .store(true, Ordering::Release)
        };
    }
    // SAFETY: the caller's contract.
    unsafe { libc::fclose(file) };
}

/// The `open` flags of an `fopen` mode string (`r`, `w`, `a`, `+`, `x`, `e`).
pub(crate) fn mode_flags(mode: &[u8]) -> Result<c_int, Errno> {
    let mut flags = match mode.first() {
        Some(b'r') => libc::O_RDONLY,
        Some(b'w') => libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
        Some(b'a') => libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND,
        _ => return Err(libc::EINVAL),
    };
    for &c in mode.iter().skip(1).take_while(|&&c| c != b',') {
        match c {
            b'+' => flags = (flags & !libc::O_ACCMODE) | libc::O_RDWR,
            b'x' => flags |= libc::O_EXCL,
            b'e' => flags |= libc::O_CLOEXEC,
            _ => {}
        }
    }
    Ok(flags)
}

/// Opens a remote stream on a route.
///
/// # Safety
///
/// `mode` is null or a NUL-terminated string.
unsafe fn fopen_remote(r: Result<route::RemotePath, Errno>, mode: *const c_char) -> *mut FILE {
    guard(core::ptr::null_mut(), || {
        if mode.is_null() {
            return Err(libc::EINVAL);
        }
        // SAFETY: the caller's contract.
        let bytes = unsafe { core::ffi::CStr::from_ptr(mode) }.to_bytes();
        let fd = open::open_remote(r?, mode_flags(bytes)?, 0o666)?;
        // SAFETY: `mode` is a C string.
        unsafe { stream(fd, mode) }.inspect_err(|_| {
            let _ = vfd::close(fd);
        })
    })
}

/// `fopen`: remote paths give a custom stream.
///
/// # Safety
///
/// The strings are null or NUL-terminated.
#[unsafe(no_mangle)]
unsafe extern "C" fn fopen(path: *const c_char, mode: *const c_char) -> *mut FILE {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::path(path) } {
        // SAFETY: forwarded call.
        None => unsafe { next::fopen(route::local(path).as_ptr(), mode) },
        // SAFETY: the caller's contract on `mode`.
        Some(r) => unsafe { fopen_remote(r, mode) },
    }
}

/// `fopen64`: as `fopen`.
///
/// # Safety
///
/// The strings are null or NUL-terminated.
#[unsafe(no_mangle)]
unsafe extern "C" fn fopen64(path: *const c_char, mode: *const c_char) -> *mut FILE {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::path(path) } {
        // SAFETY: forwarded call.
        None => unsafe { next::fopen64(route::local(path).as_ptr(), mode) },
        // SAFETY: the caller's contract on `mode`.
        Some(r) => unsafe { fopen_remote(r, mode) },
    }
}

/// `fdopen`: a remote descriptor gives a custom stream that owns it.
///
/// # Safety
///
/// `mode` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn fdopen(fd: c_int, mode: *const c_char) -> *mut FILE {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fdopen(fd, mode) };
    }
    guard(core::ptr::null_mut(), || {
        if mode.is_null() {
            return Err(libc::EINVAL);
        }
        // SAFETY: `mode` is a C string.
        unsafe { stream(fd, mode) }
    })
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&STREAMS)
}
