//! `realpath` and `canonicalize_file_name` on remote paths.
//!
//! The C library resolves paths with its own internal `lstat` and
//! `readlink`, which never reach this library, so remote paths are answered
//! here: the lexically simplified `/REMOTE@NAME/path`, once the server has
//! confirmed that it exists. FIXME(#4): symbolic links inside the export are
//! not resolved (the protocol can read them; this needs a loop with a limit).

use core::ffi::c_char;

use orfa_wire::PathFlags;

use crate::errno::guard;
use crate::next;
use crate::remote::Errno;
use crate::route::{self, RemotePath};

/// The canonical text of a remote path that exists.
fn canonical(r: RemotePath) -> Result<Vec<u8>, Errno> {
    r.server.stat(r.base, &r.path, PathFlags::NONE)?;
    let mut text = b"/REMOTE@".to_vec();
    text.extend_from_slice(r.server.name());
    if !r.full.is_empty() {
        text.push(b'/');
        text.extend_from_slice(&r.full);
    }
    if text.len() >= libc::PATH_MAX as usize {
        return Err(libc::ENAMETOOLONG);
    }
    text.push(0);
    Ok(text)
}

/// Copies `text` (NUL included) into `out`, or into a new `malloc` buffer.
///
/// # Safety
///
/// `out` is null or valid for `PATH_MAX` bytes.
unsafe fn deliver(text: &[u8], out: *mut c_char) -> Result<*mut c_char, Errno> {
    let out = if out.is_null() {
        // SAFETY: malloc has no preconditions; the caller frees the result.
        let p = unsafe { libc::malloc(text.len()) }.cast::<c_char>();
        if p.is_null() {
            return Err(libc::ENOMEM);
        }
        p
    } else {
        out
    };
    // SAFETY: `out` holds at least `text.len()` bytes (at most PATH_MAX).
    unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len()) };
    Ok(out)
}

/// `realpath`: remote paths are simplified and checked on the server.
///
/// # Safety
///
/// `path` is null or a C string; `resolved` is null or `PATH_MAX` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn realpath(path: *const c_char, resolved: *mut c_char) -> *mut c_char {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::path(path) } {
        // SAFETY: forwarded call.
        None => unsafe { next::realpath(route::local(path).as_ptr(), resolved) },
        Some(r) => guard(core::ptr::null_mut(), || {
            let text = canonical(r?)?;
            // SAFETY: the caller's contract on `resolved`.
            unsafe { deliver(&text, resolved) }
        }),
    }
}

/// `canonicalize_file_name`: `realpath` with an allocated result.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn canonicalize_file_name(path: *const c_char) -> *mut c_char {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::path(path) } {
        // SAFETY: forwarded call.
        None => unsafe { next::canonicalize_file_name(route::local(path).as_ptr()) },
        Some(r) => guard(core::ptr::null_mut(), || {
            let text = canonical(r?)?;
            // SAFETY: a null buffer asks for an allocation.
            unsafe { deliver(&text, core::ptr::null_mut()) }
        }),
    }
}
