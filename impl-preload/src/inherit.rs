//! Remote descriptors inherited across `exec`.
//!
//! A program started by `exec` from a process that held remote descriptors
//! (a shell's `> /REMOTE@srv/f`, a `posix_spawn` file action, a pipe of
//! `tar` into `gzip`) holds them too: the kernel kept the `O_PATH`
//! descriptors of their memfds (see `shared`). When the library loads, it
//! lists `/proc/self/fd`, recognises those descriptors by what their links
//! read, maps their state and records them in the table, not yet attached
//! (see `vfd`): the first call that uses one opens this process's handle.
//!
//! The search runs from the library's constructor, or from the first
//! wrapper that asks whether a descriptor is remote if that comes earlier
//! (another library's constructor). It uses raw system calls only.

use core::ffi::c_int;
use core::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use crate::shared::{self, Shared};

/// Not searched yet.
const PENDING: u8 = 0;
/// Searching, or searched.
const STARTED: u8 = 1;

static STATE: AtomicU8 = AtomicU8::new(PENDING);

/// Records the inherited remote descriptors, the first time it is called.
#[inline]
pub(crate) fn ensure_adopted() {
    if STATE.load(Ordering::Acquire) == PENDING {
        adopt_all();
    }
}

#[cold]
fn adopt_all() {
    if STATE
        .compare_exchange(PENDING, STARTED, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return;
    }
    let saved = crate::errno::get();
    let mut seen: Vec<Arc<Shared>> = Vec::new();
    for fd in candidates() {
        let Ok(found) = Shared::adopt(fd) else {
            continue;
        };
        let shared = match seen.iter().find(|s| s.key() == found.key()) {
            Some(known) => Arc::clone(known),
            None => {
                let new = Arc::new(found);
                seen.push(Arc::clone(&new));
                new
            }
        };
        crate::vfd::adopt(fd, shared);
    }
    crate::errno::set(saved);
}

/// The descriptors whose `/proc/self/fd` link names this library's memfd.
fn candidates() -> Vec<c_int> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
    // SAFETY: the path is NUL-terminated.
    let dir = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, c"/proc/self/fd".as_ptr(), flags) };
    let Ok(dir) = c_int::try_from(dir) else {
        return Vec::new();
    };
    if dir < 0 {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: `buf` is writable for its whole length.
        let len = unsafe { libc::syscall(libc::SYS_getdents64, dir, buf.as_mut_ptr(), buf.len()) };
        let Ok(len) = usize::try_from(len) else {
            break;
        };
        if len == 0 {
            break;
        }
        let mut at = 0;
        while let Some(entry) = buf.get(at..len) {
            let Some(reclen) = entry.get(16..18).map(|b| u16::from_ne_bytes([b[0], b[1]])) else {
                break;
            };
            let name = entry.get(19..).unwrap_or_default();
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            if let Some(fd) = number(name).filter(|&fd| fd != dir && is_ours(dir, name)) {
                found.push(fd);
            }
            if reclen == 0 {
                break;
            }
            at += usize::from(reclen);
        }
    }
    // SAFETY: `dir` was opened above.
    unsafe { libc::syscall(libc::SYS_close, dir) };
    found
}

/// A descriptor number spelt in decimal.
fn number(name: &[u8]) -> Option<c_int> {
    core::str::from_utf8(name).ok()?.parse().ok()
}

/// Whether the link `name` in the directory `dir` reads [`shared::LINK`].
fn is_ours(dir: c_int, name: &[u8]) -> bool {
    let mut c_name = name.to_vec();
    c_name.push(0);
    let mut target = [0u8; 64];
    // SAFETY: `c_name` is NUL-terminated; `target` is writable for its length.
    let len = unsafe {
        libc::syscall(
            libc::SYS_readlinkat,
            dir,
            c_name.as_ptr(),
            target.as_mut_ptr(),
            target.len(),
        )
    };
    usize::try_from(len)
        .ok()
        .and_then(|len| target.get(..len))
        .is_some_and(|t| t == shared::LINK)
}

/// Runs the search when the library is loaded.
extern "C" fn on_load() {
    let _ = std::panic::catch_unwind(ensure_adopted);
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;
