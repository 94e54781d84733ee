//! `glob` and `glob64` on remote patterns.
//!
//! The C library's `glob` reads directories with its own internal calls,
//! which never reach this library, unless the caller passes
//! `GLOB_ALTDIRFUNC` with its own directory and stat functions. So a
//! pattern that names something remote is handed to the C library's `glob`
//! with this library's `opendir`, `readdir`, `closedir`, `lstat` and `stat`
//! as those functions: the matching, sorting, escaping and flags stay the C
//! library's, and every directory it reads is read through this library.

use core::ffi::{c_char, c_int, c_void};

use crate::next;
use crate::route;
use crate::{dir, stat};

/// The C library's `glob_t` (and `glob64_t`, the same layout on x86-64)
/// with the alternative directory functions the `libc` crate leaves opaque.
#[repr(C)]
struct GlobT<D, S> {
    gl_pathc: usize,
    gl_pathv: *mut *mut c_char,
    gl_offs: usize,
    gl_flags: c_int,
    gl_closedir: Option<unsafe extern "C" fn(*mut c_void)>,
    gl_readdir: Option<unsafe extern "C" fn(*mut c_void) -> *mut D>,
    gl_opendir: Option<unsafe extern "C" fn(*const c_char) -> *mut c_void>,
    gl_lstat: Option<unsafe extern "C" fn(*const c_char, *mut S) -> c_int>,
    gl_stat: Option<unsafe extern "C" fn(*const c_char, *mut S) -> c_int>,
}

type ErrFunc = Option<unsafe extern "C" fn(*const c_char, c_int) -> c_int>;

unsafe extern "C" fn alt_closedir(d: *mut c_void) {
    // SAFETY: `d` came from `alt_opendir`.
    unsafe { dir::closedir(d.cast()) };
}

unsafe extern "C" fn alt_opendir(path: *const c_char) -> *mut c_void {
    // SAFETY: the C library passes a C string.
    unsafe { dir::opendir(path) }.cast()
}

unsafe extern "C" fn alt_readdir(d: *mut c_void) -> *mut libc::dirent {
    // SAFETY: `d` came from `alt_opendir`.
    unsafe { dir::readdir(d.cast()) }
}

unsafe extern "C" fn alt_readdir64(d: *mut c_void) -> *mut libc::dirent64 {
    // SAFETY: `d` came from `alt_opendir`.
    unsafe { dir::readdir64(d.cast()) }
}

/// Whether a pattern may name something remote (so it needs this library's
/// directory functions).
///
/// # Safety
///
/// `pattern` is null or a NUL-terminated string.
unsafe fn remote_pattern(pattern: *const c_char, flags: c_int) -> bool {
    // SAFETY: forwarded contract.
    flags & libc::GLOB_ALTDIRFUNC == 0 && unsafe { route::path(pattern) }.is_some()
}

/// `glob`: remote patterns are matched by the C library over this
/// library's directory functions.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn glob(
    pattern: *const c_char,
    flags: c_int,
    errfunc: ErrFunc,
    pglob: *mut libc::glob_t,
) -> c_int {
    // SAFETY: the caller passes a C string.
    if pglob.is_null() || !unsafe { remote_pattern(pattern, flags) } {
        // SAFETY: forwarded call.
        return unsafe { next::glob(route::local(pattern).as_ptr(), flags, errfunc, pglob) };
    }
    let g = pglob.cast::<GlobT<libc::dirent, libc::stat>>();
    // SAFETY: `pglob` points to a `glob_t`, whose layout `GlobT` spells out.
    unsafe {
        (*g).gl_closedir = Some(alt_closedir);
        (*g).gl_readdir = Some(alt_readdir);
        (*g).gl_opendir = Some(alt_opendir);
        (*g).gl_lstat = Some(stat::lstat);
        (*g).gl_stat = Some(stat::stat);
        next::glob(pattern, flags | libc::GLOB_ALTDIRFUNC, errfunc, pglob)
    }
}

/// `glob64`: as `glob`.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn glob64(
    pattern: *const c_char,
    flags: c_int,
    errfunc: ErrFunc,
    pglob: *mut libc::glob64_t,
) -> c_int {
    // SAFETY: the caller passes a C string.
    if pglob.is_null() || !unsafe { remote_pattern(pattern, flags) } {
        // SAFETY: forwarded call.
        return unsafe { next::glob64(route::local(pattern).as_ptr(), flags, errfunc, pglob) };
    }
    let g = pglob.cast::<GlobT<libc::dirent64, libc::stat64>>();
    // SAFETY: `pglob` points to a `glob64_t`, whose layout `GlobT` spells out.
    unsafe {
        (*g).gl_closedir = Some(alt_closedir);
        (*g).gl_readdir = Some(alt_readdir64);
        (*g).gl_opendir = Some(alt_opendir);
        (*g).gl_lstat = Some(stat::lstat64);
        (*g).gl_stat = Some(stat::stat64);
        next::glob64(pattern, flags | libc::GLOB_ALTDIRFUNC, errfunc, pglob)
    }
}
