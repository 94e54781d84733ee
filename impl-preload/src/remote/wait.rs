//! Advisory locks: set, test, and wait for a lock without holding the
//! connection.
//!
//! A `LOCK` that may wait is sent with the connection held, like any
//! request; then the connection is let go, so that other threads (and
//! signal handlers) of the process keep using it while the lock waits.
//! The waiting thread sleeps in `ppoll` on the socket with the caller's
//! signal mask: a signal handler that runs ends the sleep, and the thread
//! sends `CANCEL` for its tag and takes the final answer (`INTR`, or the
//! lock if it was granted first). Whoever reads the answer of a waiting
//! lock from the socket parks it in the connection; the waiting thread
//! looks there after each wake-up, and at least every [`NAP_MS`], for when
//! another thread read it.
//!
//! Linux restarts an interrupted `F_SETLKW` or `flock` after a handler
//! installed with `SA_RESTART`; here any handler ends the wait with `EINTR`
//! (which handler ran is not known), as it does without `SA_RESTART`.
//! Programs that wait for locks retry `EINTR` themselves.

use orfa_client_core::{Reply, Request};
use orfa_wire::{LockInfo, LockOwnerKind, LockType};

use super::conn::Failure;
use super::sys::{self, SignalsBlocked, Wait};
use super::{RResult, Server, wrong_kind};

/// The longest sleep between two looks at the parked answers.
const NAP_MS: u64 = 50;

/// A lock as `LOCK` and `GETLK` describe it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockSpec {
    /// A handle of the file.
    pub(crate) handle: u64,
    /// First byte.
    pub(crate) start: u64,
    /// Length; 0 to infinity.
    pub(crate) len: u64,
    /// Read, write or unlock.
    pub(crate) lock_type: LockType,
    /// A process's lock or the handle's.
    pub(crate) owner_kind: LockOwnerKind,
    /// The process of a POSIX lock.
    pub(crate) pid: u64,
}

impl LockSpec {
    fn lock(&self, wait: bool) -> Request<'static> {
        Request::Lock {
            handle: self.handle,
            start: self.start,
            len: self.len,
            lock_type: self.lock_type,
            owner_kind: self.owner_kind,
            pid: self.pid,
            wait,
        }
    }
}

impl Server {
    /// Sets (or releases) a lock; a conflict fails with `EAGAIN`.
    pub(crate) fn lock(&self, spec: &LockSpec) -> RResult<()> {
        self.call_done(&spec.lock(false))
    }

    /// The first lock in the way of `spec` (of type `UNLOCK` if none).
    pub(crate) fn getlk(&self, spec: &LockSpec) -> RResult<LockInfo> {
        let req = Request::GetLk {
            handle: spec.handle,
            start: spec.start,
            len: spec.len,
            lock_type: spec.lock_type,
            owner_kind: spec.owner_kind,
            pid: spec.pid,
        };
        self.call(&req, |r| match r {
            Reply::GetLk(info) => Some(info),
            _ => None,
        })
    }

    /// Sets a lock, waiting for conflicting ones to go. A signal handler
    /// that runs meanwhile ends the wait with `EINTR` (unless the lock was
    /// granted first); waiting into a deadlock fails with `EDEADLK`.
    pub(crate) fn lock_wait(&self, spec: &LockSpec) -> RResult<()> {
        // Kept blocked outside the sleeps, so that a signal is never taken
        // between two looks and missed: it stays pending until the next sleep.
        let blocked = SignalsBlocked::new();
        let (serial, fd, tag) = self.with_conn(|conn| {
            let tag = conn.send_waiting(&spec.lock(true))?;
            Ok((conn.serial(), conn.fd(), tag))
        })?;
        let mut cancelled = false;
        loop {
            let interrupted = match sys::wait_readable(fd, NAP_MS, blocked.caller_mask()) {
                Ok(wait) => wait == Wait::Interrupted,
                // Not expected on a live socket; look again after the nap.
                Err(_) => false,
            };
            let answer = self.with_conn(|conn| {
                if conn.serial() != serial {
                    // The connection was lost, and the request with it.
                    return Err(Failure::Errno(libc::EIO));
                }
                if let Some(done) = conn.poll_answer(tag)? {
                    return Ok(Some(done));
                }
                // CANCEL needs a credit; without one, wait for the answer.
                if interrupted && !cancelled && conn.credits() > 0 {
                    cancelled = true;
                    match conn.call(&Request::Cancel { tag }) {
                        Ok(Reply::Done) | Err(Failure::Errno(_)) => {}
                        Ok(_) => return Err(wrong_kind()),
                        Err(broken) => return Err(broken),
                    }
                    // The server answers the lock before the cancel.
                    return Ok(conn.take_parked(tag));
                }
                Ok(None)
            })?;
            if let Some(done) = answer {
                return done;
            }
        }
    }
}
