//! The table of servers this process has named, one entry per name, never freed.
//!
//! Lookups read an append-only array of atomic pointers without taking a
//! lock, so the path of every remote call costs a short scan; only the
//! first use of a name takes the insertion lock.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};

use super::Server;
use super::sys::SignalsBlocked;

/// How many distinct server names one process may use.
const MAX_SERVERS: usize = 64;

static SLOTS: [AtomicPtr<Server>; MAX_SERVERS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_SERVERS];

/// Serialises insertions.
static INSERT: Mutex<()> = Mutex::new(());

/// The servers known so far.
pub(super) fn all() -> impl Iterator<Item = &'static Server> {
    SLOTS.iter().map_while(|slot| {
        let p = slot.load(Ordering::Acquire);
        // SAFETY: a non-null slot holds a pointer from `Box::leak`, never freed.
        (!p.is_null()).then(|| unsafe { &*p })
    })
}

/// The entry for `name`, made by `make` on first use; `None` if the table is full.
pub(super) fn get_or_insert(name: &[u8], make: impl FnOnce() -> Server) -> Option<&'static Server> {
    if let Some(found) = all().find(|s| s.name() == name) {
        return Some(found);
    }
    // A signal handler that names a new server must not find the lock held by
    // the code it interrupted.
    let _signals = SignalsBlocked::new();
    let _guard = INSERT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = all().find(|s| s.name() == name) {
        return Some(found);
    }
    let slot = SLOTS
        .iter()
        .find(|slot| slot.load(Ordering::Acquire).is_null())?;
    let server: &'static Server = Box::leak(Box::new(make()));
    slot.store(core::ptr::from_ref(server).cast_mut(), Ordering::Release);
    Some(server)
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&INSERT)
}
