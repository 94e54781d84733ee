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
    crate::rawdir::names(b"/proc/self/fd")
        .iter()
        .filter(|name| is_ours(name))
        .filter_map(|name| core::str::from_utf8(name).ok()?.parse().ok())
        .collect()
}

/// Whether the link `/proc/self/fd/NAME` reads [`shared::LINK`].
fn is_ours(name: &[u8]) -> bool {
    let mut link = b"/proc/self/fd/".to_vec();
    link.extend_from_slice(name);
    link.push(0);
    shared::is_description_link(&link)
}

/// Runs the search when the library is loaded.
extern "C" fn on_load() {
    let _ = std::panic::catch_unwind(ensure_adopted);
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;
