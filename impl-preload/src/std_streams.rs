//! The C library's `stdin`, `stdout` and `stderr` on remote descriptors.
//!
//! glibc's standard streams read and write descriptors 0, 1 and 2 with its
//! internal calls, which never reach this library: on a remote descriptor
//! (a shell's `> /REMOTE@srv/f`, found at load or made by `dup2`) they would
//! fail with `EBADF` and lose the output. So while one of those descriptors
//! is remote, the C library's global stream pointer (`stdout`, ...) is
//! pointed at a custom stream over it (see `stdio`), and pointed back at the
//! original when the descriptor stops being remote (`dup2` of a local
//! descriptor onto it, `close`).
//!
//! Output waiting in a stream's buffer when the descriptor changes goes to
//! the descriptor's new file, as the C library would send it on its next
//! flush: it moves into the other stream's buffer. The replacement is fully
//! buffered for `stdin` and `stdout`, unbuffered for `stderr`, as glibc's
//! own streams are for regular files; glibc flushes it at exit with every
//! other stream.

use core::ffi::{c_char, c_int};
use std::sync::{Mutex, PoisonError};

use libc::{FILE, size_t};

unsafe extern "C" {
    /// glibc's standard input stream pointer.
    static mut stdin: *mut FILE;
    /// glibc's standard output stream pointer.
    static mut stdout: *mut FILE;
    /// glibc's standard error stream pointer.
    static mut stderr: *mut FILE;
    /// Bytes waiting in a stream's output buffer.
    fn __fpending(file: *mut FILE) -> size_t;
    /// Discards a stream's buffered bytes.
    fn __fpurge(file: *mut FILE);
}

/// The start of glibc's `struct _IO_FILE`, a stable part of its ABI.
#[repr(C)]
struct FileHead {
    flags: c_int,
    read_ptr: *mut c_char,
    read_end: *mut c_char,
    read_base: *mut c_char,
    write_base: *mut c_char,
    write_ptr: *mut c_char,
}

/// A standard stream pointed at a custom stream: both addresses.
#[derive(Clone, Copy)]
struct Swap {
    original: usize,
    replacement: usize,
}

/// The swaps of descriptors 0, 1 and 2.
static SWAPS: Mutex<[Option<Swap>; 3]> = Mutex::new([None; 3]);

fn swaps() -> std::sync::MutexGuard<'static, [Option<Swap>; 3]> {
    SWAPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The C library's global pointer for standard descriptor `fd`.
fn global(fd: c_int) -> Option<*mut *mut FILE> {
    match fd {
        0 => Some(&raw mut stdin),
        1 => Some(&raw mut stdout),
        2 => Some(&raw mut stderr),
        _ => None,
    }
}

/// Moves the output waiting in `from`'s buffer to `to`'s.
///
/// # Safety
///
/// Both are open streams.
unsafe fn move_pending(from: *mut FILE, to: *mut FILE) {
    // SAFETY: the caller's contract.
    let pending = unsafe { __fpending(from) };
    if pending == 0 {
        return;
    }
    // SAFETY: `from` is a glibc stream, whose struct starts with `FileHead`;
    // with output pending, `write_base` points at `pending` buffered bytes.
    unsafe {
        let base = (*from.cast::<FileHead>()).write_base;
        libc::fwrite(base.cast(), 1, pending, to);
        __fpurge(from);
    }
}

/// Called once `fd` is a virtual descriptor: if it is 0, 1 or 2, its
/// standard stream now goes through a custom stream.
pub(crate) fn attach(fd: c_int) {
    let Some(global) = global(fd) else {
        return;
    };
    let index = fd as usize;
    let mut swaps = swaps();
    if swaps.get(index).copied().flatten().is_some() {
        return;
    }
    let mode = if fd == 0 { c"r" } else { c"w" };
    // SAFETY: `mode` is a C string.
    let Ok(replacement) = (unsafe { crate::stdio::stream(fd, mode.as_ptr()) }) else {
        return;
    };
    // SAFETY: the globals are the C library's, valid for the process's life;
    // the streams are open.
    unsafe {
        if fd == 2 {
            libc::setvbuf(replacement, core::ptr::null_mut(), libc::_IONBF, 0);
        }
        let original = global.read();
        if !original.is_null() && fd != 0 {
            move_pending(original, replacement);
        }
        global.write(replacement);
        if let Some(slot) = swaps.get_mut(index) {
            *slot = Some(Swap {
                original: original as usize,
                replacement: replacement as usize,
            });
        }
    }
}

/// Called before `fd` stops being virtual: its standard stream goes back to
/// the C library's own, taking the output still waiting.
pub(crate) fn detach(fd: c_int) {
    let Some(global) = global(fd) else {
        return;
    };
    let Some(swap) = swaps().get_mut(fd as usize).and_then(Option::take) else {
        return;
    };
    let original = swap.original as *mut FILE;
    let replacement = swap.replacement as *mut FILE;
    // SAFETY: as in `attach`; the replacement is still open (its close
    // would have removed the swap).
    unsafe {
        if global.read() == replacement {
            global.write(original);
        }
        if fd != 0 && !original.is_null() {
            move_pending(replacement, original);
        }
        crate::stdio::give_up(replacement);
    }
}

/// Called when a custom stream is closed: if it was a standard stream, the
/// C library's pointer goes back to the original.
pub(crate) fn closed(file: usize) {
    let mut swaps = swaps();
    for (fd, slot) in swaps.iter_mut().enumerate() {
        let Some(swap) = *slot else {
            continue;
        };
        if swap.replacement != file {
            continue;
        }
        *slot = None;
        if let Some(global) = global(fd as c_int) {
            // SAFETY: as in `attach`.
            unsafe {
                if global.read() as usize == file {
                    global.write(swap.original as *mut FILE);
                }
            }
        }
    }
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&SWAPS)
}
