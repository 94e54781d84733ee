//! Advisory locks: set, test, and wait for a lock without holding the
//! connection.
//!
//! A `LOCK` that may wait is sent with the connection held, like any
//! request; then the connection is let go, so that other threads (and
//! signal handlers) of the process keep using it while the lock waits.
//! Whoever reads the answer of a waiting lock from the socket parks it in
//! the connection; the waiting thread looks there after each wake-up, and
//! at least every [`NAP_MS`], for when another thread read it.
//!
//! Signals are handled as Linux handles them in a blocked `F_SETLKW` or
//! `flock`. Every signal stays blocked through the wait; the thread sleeps
//! in `ppoll` on the socket and on a `signalfd` of the signals the program
//! lets through, which tells it that one is pending without taking it.
//! Then, by the signal's disposition:
//!
//! - no handler (ignored, or a default action that discards the signal,
//!   stops the process or ends it): the signal takes effect at once and
//!   the wait goes on;
//! - a handler: the thread sends `CANCEL` for its tag and takes the final
//!   answer (`INTR`, or the lock if it was granted first). With nothing
//!   waiting on the server, the handler runs; then the `LOCK` is sent
//!   again if the handler was installed with `SA_RESTART` (the kernel
//!   restarts the call), and the call fails with `EINTR` if not.
//!
//! A handler thus never runs while the request waits on the server: one
//! that leaves with `siglongjmp` abandons no request that could later
//! grant a lock nobody waits for.

use orfa_client_core::{Reply, Request};
use orfa_wire::{LockInfo, LockOwnerKind, LockType};

use super::conn::Failure;
use super::signals::{self, Disposition, SignalFd};
use super::sys::{self, SignalsBlocked};
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

    /// Sets a lock, waiting for conflicting ones to go, with the signal
    /// semantics of the module's description; waiting into a deadlock
    /// fails with `EDEADLK`.
    pub(crate) fn lock_wait(&self, spec: &LockSpec) -> RResult<()> {
        // Kept blocked throughout, so that no signal is taken unseen: one
        // that comes stays pending until this function decides its fate.
        let blocked = SignalsBlocked::new();
        let watched = !blocked.caller_mask() & !(bit(libc::SIGKILL) | bit(libc::SIGSTOP));
        let signals = SignalFd::new(watched);
        loop {
            // Nothing waits on the server here: every pending signal may act.
            let pending = Pending::now(watched);
            sys::deliver(pending.quiet | pending.restart);
            if sys::deliver(pending.interrupt) {
                return Err(libc::EINTR);
            }
            if self.wait_once(spec, watched, signals.as_ref())? {
                return Ok(());
            }
        }
    }

    /// Sends `spec` as a waiting `LOCK` and waits for the answer: true once
    /// the lock is set, false once the request is withdrawn because a
    /// signal with a handler is pending.
    fn wait_once(
        &self,
        spec: &LockSpec,
        watched: u64,
        signals: Option<&SignalFd>,
    ) -> RResult<bool> {
        let (serial, fd, tag) = self.with_conn(|conn| {
            let tag = conn.send_waiting(&spec.lock(true))?;
            Ok((conn.serial(), conn.fd(), tag))
        })?;
        let mut withdraw = false;
        let mut cancelled = false;
        loop {
            // A handler's signal stays pending until the request is gone:
            // meanwhile only the socket can end the sleep.
            let watch = if withdraw { None } else { signals };
            signals::wait_readable(fd, watch, NAP_MS);
            if !cancelled {
                let pending = Pending::now(watched);
                sys::deliver(pending.quiet);
                withdraw = pending.handlers() != 0;
            }
            let answer = self.with_conn(|conn| {
                if conn.serial() != serial {
                    // The connection was lost, and the request with it.
                    return Err(Failure::Errno(libc::EIO));
                }
                if let Some(done) = conn.poll_answer(tag)? {
                    return Ok(Some(done));
                }
                // CANCEL needs a credit; without one, wait for the answer.
                if withdraw && !cancelled && conn.credits() > 0 {
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
            match answer {
                Some(Err(libc::EINTR)) if cancelled => return Ok(false),
                Some(done) => return done.map(|()| true),
                None => {}
            }
        }
    }
}

/// The bit of signal `sig` in a kernel signal set.
fn bit(sig: libc::c_int) -> u64 {
    1 << (sig - 1)
}

/// The signals pending for this thread among those watched, by what
/// letting them through does.
#[derive(Debug, Default, Clone, Copy)]
struct Pending {
    /// No handler runs: the signal is ignored or has its default action.
    quiet: u64,
    /// Handlers installed with `SA_RESTART`.
    restart: u64,
    /// Other handlers, after which the call fails with `EINTR`.
    interrupt: u64,
}

impl Pending {
    /// The pending signals of `watched` now, sorted by their disposition.
    fn now(watched: u64) -> Self {
        let mut sorted = Self::default();
        let mut rest = signals::pending_signals() & watched;
        while rest != 0 {
            let sig = rest.trailing_zeros() as libc::c_int + 1;
            rest &= rest - 1;
            let group = match signals::disposition(sig) {
                Disposition::NoHandler => &mut sorted.quiet,
                Disposition::Handler { restart: true } => &mut sorted.restart,
                Disposition::Handler { restart: false } => &mut sorted.interrupt,
            };
            *group |= bit(sig);
        }
        sorted
    }

    /// The pending signals that have a handler.
    fn handlers(&self) -> u64 {
        self.restart | self.interrupt
    }
}
