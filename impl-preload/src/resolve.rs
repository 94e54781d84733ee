//! `realpath` and `canonicalize_file_name` on remote paths.
//!
//! The C library resolves paths with its own internal `lstat` and
//! `readlink`, which never reach this library, so remote paths are resolved
//! here, from the lexically simplified `/REMOTE@NAME/path`: component by
//! component from the export's root, each symbolic link replaced by its
//! target, at most [`MAX_LINKS`] of them (`ELOOP`). An absolute target
//! fails with `EACCES`, as the server refuses to follow one (it would leave
//! the export).

use core::ffi::c_char;
use std::collections::VecDeque;

use orfa_wire::{FileType, PathFlags, ROOT_HANDLE};

use crate::errno::guard;
use crate::next;
use crate::remote::{Errno, Server};
use crate::route::{self, RemotePath};

/// How many symbolic links one resolution follows, as Linux.
const MAX_LINKS: usize = 40;

/// Pushes the components of `path` in front of `todo`, in order.
fn push_front(todo: &mut VecDeque<Vec<u8>>, path: &[u8]) {
    for c in path.split(|&b| b == b'/').rev() {
        todo.push_front(c.to_vec());
    }
}

/// The path from the export's root that `full` names once every symbolic
/// link is resolved; it must exist.
fn resolve(server: &Server, full: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut done: Vec<u8> = Vec::new();
    let mut todo = VecDeque::new();
    push_front(&mut todo, full);
    let mut links = 0;
    while let Some(c) = todo.pop_front() {
        match c.as_slice() {
            b"" | b"." => continue,
            b".." => {
                let parent = done.iter().rposition(|&b| b == b'/').unwrap_or(0);
                done.truncate(parent);
                continue;
            }
            _ => {}
        }
        let mut next = done.clone();
        if !next.is_empty() {
            next.push(b'/');
        }
        next.extend_from_slice(&c);
        let attr = server.stat(ROOT_HANDLE, &next, PathFlags::NOFOLLOW)?;
        match FileType::from_mode(attr.mode.get()) {
            FileType::SYMLINK => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(libc::ELOOP);
                }
                let target = server.readlink(ROOT_HANDLE, &next)?;
                if target.first() == Some(&b'/') {
                    return Err(libc::EACCES);
                }
                push_front(&mut todo, &target);
            }
            FileType::DIR => done = next,
            _ if todo.iter().any(|c| !c.is_empty()) => return Err(libc::ENOTDIR),
            _ => done = next,
        }
    }
    Ok(done)
}

/// The canonical text of a remote path that exists.
fn canonical(r: RemotePath) -> Result<Vec<u8>, Errno> {
    r.check_dir()?;
    let full = resolve(r.server, &r.full)?;
    let mut text = b"/REMOTE@".to_vec();
    text.extend_from_slice(r.server.name());
    if !full.is_empty() {
        text.push(b'/');
        text.extend_from_slice(&full);
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
