//! `freopen` and `freopen64` on remote files and remote streams.
//!
//! The C library's `freopen` opens the new file with its internal `open`,
//! which never reaches this library, and it cannot re-target one of this
//! library's custom streams (it would leave the old descriptor open behind
//! the stream). So when the new path is remote, or the stream is a remote
//! one, the stream is reopened here:
//!
//! - `stdin`, `stdout` and `stderr` keep their descriptor numbers, as with
//!   the C library: the new file is opened and moved onto descriptor 0, 1
//!   or 2 with `dup2`, which points the C library's global stream at a
//!   custom stream over it (or back at its own stream for a local file,
//!   see `std_streams`). The returned pointer is the new value of the
//!   global (`stdout`, ...), which programs read anew on each use.
//! - a remote stream of this library's (a custom stream) is pointed at the
//!   new file, local or remote, and the same pointer returned, as POSIX
//!   wants: its buffer is dropped, its error and end-of-file marks cleared,
//!   and its read and write permissions set from the new mode.
//! - a stream of the C library's own, reopened on a remote file, is closed
//!   and a new (custom) one returned: the old pointer is no longer valid.
//!   The C library's stream reads and writes through its internal calls,
//!   so only a custom stream can carry a remote file.
//!
//! `freopen(NULL, mode, stream)` on a remote stream opens the stream's file
//! again with the new mode, as the C library does through `/proc/self/fd`.
//!
//! Two differences remain: a standard stream moved onto a remote file takes
//! the mode `std_streams` gives it (read for `stdin`, write for the others)
//! rather than the one asked for, though the descriptor has the asked one;
//! and if the new file cannot be opened, a standard stream stays open on
//! its old file instead of being closed.

use core::ffi::{CStr, c_char, c_int};

use libc::FILE;

use crate::errno;
use crate::{next, route, stdio, vfd};

unsafe extern "C" {
    /// Drops what a stream has buffered (glibc's `<stdio_ext.h>`).
    fn __fpurge(stream: *mut FILE);
    /// Takes a stream's lock.
    fn flockfile(stream: *mut FILE);
    /// Releases a stream's lock.
    fn funlockfile(stream: *mut FILE);
    /// glibc's standard input stream pointer.
    static mut stdin: *mut FILE;
    /// glibc's standard output stream pointer.
    static mut stdout: *mut FILE;
    /// glibc's standard error stream pointer.
    static mut stderr: *mut FILE;
}

/// The standard descriptor whose global stream is `stream`, if any.
fn standard(stream: *mut FILE) -> Option<c_int> {
    // SAFETY: the globals are the C library's, valid for the process's life.
    let globals = unsafe { [stdin, stdout, stderr] };
    (0..3).find(|&i| globals.get(i as usize) == Some(&stream))
}

/// The current global stream of standard descriptor `fd`.
fn global(fd: c_int) -> *mut FILE {
    // SAFETY: as in `standard`.
    unsafe {
        match fd {
            0 => stdin,
            1 => stdout,
            _ => stderr,
        }
    }
}

/// The `/REMOTE@NAME/path` text of the file behind virtual descriptor `fd`,
/// NUL-terminated.
fn remote_text(fd: c_int) -> Option<Vec<u8>> {
    let mut text = vfd::remote_text(fd)?;
    text.push(0);
    Some(text)
}

/// Opens `path` (through this library's `open`) with the flags of `mode`.
///
/// # Safety
///
/// `path` and `mode` are NUL-terminated strings.
unsafe fn open_with_mode(path: *const c_char, mode: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let bytes = unsafe { CStr::from_ptr(mode) }.to_bytes();
    let flags = match stdio::mode_flags(bytes) {
        Ok(flags) => flags,
        Err(e) => {
            errno::set(e);
            return -1;
        }
    };
    // SAFETY: `path` is a C string; `open` is this library's own wrapper.
    unsafe { libc::open(path, flags, 0o666) }
}

/// Closes `fd` (through this library's `close`), keeping `errno`.
fn close_quietly(fd: c_int) {
    let saved = errno::get();
    // SAFETY: `fd` is a descriptor this module opened.
    unsafe { libc::close(fd) };
    errno::set(saved);
}

/// Reopens `stream` on `path` (or, if null, on the stream's own remote
/// file), when the path is remote or the stream is.
///
/// # Safety
///
/// As the C function: `mode` is a C string, `path` one or null, `stream`
/// an open stream.
unsafe fn reopen(path: *const c_char, mode: *const c_char, stream: *mut FILE) -> *mut FILE {
    if mode.is_null() || stream.is_null() {
        errno::set(libc::EINVAL);
        return core::ptr::null_mut();
    }
    // SAFETY: `fileno` is this library's own wrapper; `stream` is open.
    let old_fd = unsafe { libc::fileno(stream) };
    // SAFETY: the caller's contract.
    unsafe { libc::fflush(stream) };
    let text;
    let target = if path.is_null() {
        let Some(t) = remote_text(old_fd) else {
            errno::set(libc::EBADF);
            return core::ptr::null_mut();
        };
        text = t;
        text.as_ptr().cast::<c_char>()
    } else {
        path
    };
    // SAFETY: both are C strings.
    let new_fd = unsafe { open_with_mode(target, mode) };
    if let Some(std_fd) = standard(stream) {
        if new_fd < 0 {
            return core::ptr::null_mut();
        }
        // SAFETY: `dup2` is this library's own wrapper, which swaps the
        // C library's global stream as descriptor `std_fd` changes.
        let moved = unsafe { libc::dup2(new_fd, std_fd) };
        close_quietly(new_fd);
        if moved < 0 {
            return core::ptr::null_mut();
        }
        return global(std_fd);
    }
    if new_fd >= 0 {
        // SAFETY: `stream` is open; `mode` is a C string.
        if let Some(same) = unsafe { reopen_in_place(stream, new_fd, mode) } {
            return same;
        }
    }
    // SAFETY: `stream` is open and not used after; `fclose` closes its
    // descriptor (through the custom stream's callback for a remote one).
    unsafe { libc::fclose(stream) };
    if new_fd < 0 {
        return core::ptr::null_mut();
    }
    let file = if vfd::is_virtual(new_fd) {
        // SAFETY: `mode` is a C string.
        match unsafe { stdio::stream(new_fd, mode) } {
            Ok(file) => file,
            Err(e) => {
                errno::set(e);
                core::ptr::null_mut()
            }
        }
    } else {
        // SAFETY: forwarded call on a local descriptor just opened.
        unsafe { next::fdopen(new_fd, mode) }
    };
    if file.is_null() {
        close_quietly(new_fd);
    }
    file
}

/// The bits of glibc's `FILE::_flags` (the structure's first field, public
/// in `<bits/types/struct_FILE.h>`) that say what a stream may do.
const NO_READS: c_int = 0x4;
const NO_WRITES: c_int = 0x8;
const IS_APPENDING: c_int = 0x1000;

/// Points `stream`, if it is one of this library's custom streams, at the
/// newly opened `fd` with the permissions of `mode`, and closes its old
/// descriptor; `None` (nothing done) for any other stream.
///
/// # Safety
///
/// `stream` is an open stream; `mode` a C string.
unsafe fn reopen_in_place(stream: *mut FILE, fd: c_int, mode: *const c_char) -> Option<*mut FILE> {
    // SAFETY: the caller's contract.
    let mode = unsafe { CStr::from_ptr(mode) }.to_bytes();
    let flags = stdio::mode_flags(mode).ok()?;
    // SAFETY: the stream is open; its lock keeps other threads' I/O out.
    unsafe { flockfile(stream) };
    let old = stdio::retarget(stream, fd);
    if old.is_some() {
        let allowed = match flags & libc::O_ACCMODE {
            libc::O_RDONLY => NO_WRITES,
            libc::O_WRONLY => NO_READS,
            _ => 0,
        };
        let appending = if flags & libc::O_APPEND != 0 {
            IS_APPENDING
        } else {
            0
        };
        // SAFETY: the stream is open and locked; `_flags` is the first
        // field of glibc's `FILE`, and only the permission bits change.
        unsafe {
            __fpurge(stream);
            libc::clearerr(stream);
            let word = stream.cast::<c_int>();
            *word = (*word & !(NO_READS | NO_WRITES | IS_APPENDING)) | allowed | appending;
        }
    }
    // SAFETY: locked just above.
    unsafe { funlockfile(stream) };
    close_quietly(old?);
    Some(stream)
}

/// Whether `freopen` must be done here: the path is remote, or the stream is.
///
/// # Safety
///
/// `path` is null or a C string; `stream` null or an open stream.
unsafe fn ours(path: *const c_char, stream: *mut FILE) -> bool {
    // SAFETY: the caller's contract.
    if !path.is_null() && unsafe { route::path(path) }.is_some() {
        return true;
    }
    // SAFETY: `fileno` is this library's own wrapper; `stream` is open.
    !stream.is_null() && vfd::is_virtual(unsafe { libc::fileno(stream) })
}

/// `freopen`: remote paths and remote streams are reopened here.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn freopen(
    path: *const c_char,
    mode: *const c_char,
    stream: *mut FILE,
) -> *mut FILE {
    // SAFETY: the caller's contract.
    if unsafe { ours(path, stream) } {
        // SAFETY: the caller's contract.
        return unsafe { reopen(path, mode, stream) };
    }
    // SAFETY: forwarded call.
    unsafe { next::freopen(route::local(path).as_ptr(), mode, stream) }
}

/// `freopen64`: as `freopen`.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn freopen64(
    path: *const c_char,
    mode: *const c_char,
    stream: *mut FILE,
) -> *mut FILE {
    // SAFETY: the caller's contract.
    if unsafe { ours(path, stream) } {
        // SAFETY: the caller's contract.
        return unsafe { reopen(path, mode, stream) };
    }
    // SAFETY: forwarded call.
    unsafe { next::freopen64(route::local(path).as_ptr(), mode, stream) }
}
