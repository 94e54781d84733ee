//! Request counts for tests and for the curious: with `ORFA_STATS=1` in the
//! environment, a process writes at exit one line per server it used to
//! standard error:
//!
//! ```text
//! orfa-stats: pid 1234 server 127.0.0.1:4000 requests 17
//! ```
//!
//! `requests` counts the requests sent to that server by this process (each
//! a round trip, whatever its size; `DATA` messages of a rendezvous are not
//! counted). A forked child counts its own requests only, and a process
//! that ends with `_exit` (or by a signal) writes nothing.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, PoisonError};

use super::{Server, registry, sys};

/// Requests per server (by address), for the process [`OWNER`].
static COUNTS: Mutex<Vec<(usize, u64)>> = Mutex::new(Vec::new());

/// The process the counts belong to (a forked child starts again at zero).
static OWNER: AtomicI32 = AtomicI32::new(0);

/// Whether the exit handler is registered in this image.
static REGISTERED: AtomicBool = AtomicBool::new(false);

/// Where the report goes: a copy of standard error made at registration.
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);

fn enabled() -> bool {
    std::env::var_os("ORFA_STATS").is_some_and(|v| v == "1")
}

/// Adds `n` requests sent to `server`.
pub(super) fn count(server: &Server, n: u64) {
    if n == 0 || !enabled() {
        return;
    }
    if !REGISTERED.swap(true, Ordering::AcqRel) {
        // The report runs after the program's own exit handlers when the
        // first request came before `main` (an inherited remote directory),
        // and those may have closed standard error (coreutils do): keep a
        // copy of it for the report.
        REPORT_FD.store(sys::copy_of_stderr(), Ordering::Release);
        // SAFETY: `report` is an `extern "C" fn()` that lives as long as the
        // process image.
        unsafe { libc::atexit(report) };
    }
    let pid = sys::getpid();
    let mut counts = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
    if OWNER.swap(pid, Ordering::AcqRel) != pid {
        counts.clear();
    }
    let key = core::ptr::from_ref(server) as usize;
    match counts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, total)) => *total += n,
        None => counts.push((key, n)),
    }
}

/// Writes the counts of this process at exit.
extern "C" fn report() {
    let pid = sys::getpid();
    if OWNER.load(Ordering::Acquire) != pid {
        return;
    }
    let counts = COUNTS.lock().unwrap_or_else(PoisonError::into_inner);
    for server in registry::all() {
        let key = core::ptr::from_ref(server) as usize;
        if let Some((_, n)) = counts.iter().find(|(k, _)| *k == key) {
            let line = format!(
                "orfa-stats: pid {pid} server {} requests {n}\n",
                String::from_utf8_lossy(server.name())
            );
            match REPORT_FD.load(Ordering::Acquire) {
                -1 => sys::diagnostic(line.as_bytes()),
                fd => sys::diagnostic_on(fd, line.as_bytes()),
            }
        }
    }
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&COUNTS)
}
