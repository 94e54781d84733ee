//! The identity a session runs with: `SETCONTEXT`, sent before the first
//! request of each connection of a 1.1 session and again before the next
//! request after the program changed its identity or umask. (Pipelined
//! `READ`s and waiting `LOCK`s go out without it: they act on handles the
//! server opened with the identity of their time.)
//!
//! The identity is the file-system one the kernel checks local files with:
//! the fsuid and fsgid (which follow the effective ids unless the program
//! called `setfsuid`/`setfsgid`), the supplementary groups, and the umask.
//! The interposed `set*id`, `setgroups` and `umask` call [`changed`]; every
//! connection compares the generation it last sent with the current one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use orfa_client_core::{Reply, Request, encode_groups};

use super::conn::{Conn, Failure};
use super::wrong_kind;

/// Bumped by every change of identity or umask.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// For each connection (by serial), the generation it last sent.
static SENT: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

/// Says that the identity or the umask changed: every connection sends its
/// context again before its next request.
pub(crate) fn changed() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// The process's file-system identity: (uid, gid, groups).
fn identity() -> (u32, u32, Vec<u32>) {
    // SAFETY: setfsuid/setfsgid with an invalid id (-1) change nothing and
    // return the current value; they touch no memory.
    let (uid, gid) = unsafe {
        (
            libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32,
            libc::syscall(libc::SYS_setfsgid, u32::MAX) as u32,
        )
    };
    let mut groups = vec![0u32; orfa_wire::MAX_GROUPS];
    // SAFETY: `groups` has room for MAX_GROUPS entries.
    let n = unsafe { libc::syscall(libc::SYS_getgroups, groups.len(), groups.as_mut_ptr()) };
    groups.truncate(usize::try_from(n).unwrap_or(0));
    (uid, gid, groups)
}

/// Sends the context on `conn` unless it already has the current one; a
/// 1.0 session has none to send (the client then applies its umask itself).
pub(super) fn sync(conn: &mut Conn) -> Result<(), Failure> {
    if conn.limits().minor < 1 {
        return Ok(());
    }
    let current = GENERATION.load(Ordering::Acquire);
    let serial = conn.serial();
    let sent = || SENT.lock().unwrap_or_else(PoisonError::into_inner);
    if sent().iter().any(|&(s, g)| s == serial && g == current) {
        return Ok(());
    }
    let (uid, gid, groups) = identity();
    let groups = encode_groups(&groups);
    let req = Request::SetContext {
        uid: uid.into(),
        gid: gid.into(),
        umask: crate::open::current_umask(),
        groups: &groups,
    };
    match conn.call(&req)? {
        Reply::Done => {}
        _ => return Err(wrong_kind()),
    }
    let mut table = sent();
    table.retain(|&(s, _)| s != serial);
    table.push((serial, current));
    Ok(())
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&SENT)
}
