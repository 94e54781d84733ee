//! Signals during a lock wait: a `signalfd` that tells a blocked signal is
//! pending, and what the program does with each signal.
//!
//! The signalfds of waits in progress are listed, so that the library's
//! `close_range`, `closefrom` and `dup2` leave them alone as they leave the
//! connections (see `remote::is_transport_fd`).

use core::ptr;
use std::sync::atomic::{AtomicI32, Ordering};

use libc::{c_int, c_long};

use super::sys::{check, close, fcntl, timespec_ms};

/// The signalfds of waits in progress (-1: a free slot). A wait that finds
/// no free slot goes without one and looks at the pending signals after
/// each nap instead.
static LIVE: [AtomicI32; 16] = [const { AtomicI32::new(-1) }; 16];

/// Whether `fd` is the signalfd of a wait in progress.
pub(crate) fn is_wait_fd(fd: c_int) -> bool {
    fd >= 0 && LIVE.iter().any(|slot| slot.load(Ordering::Acquire) == fd)
}

/// Sleeps until `fd` is readable, a signal watched by `signals` is pending,
/// or `timeout_ms` pass, whichever comes first; the caller looks at both
/// afterwards, whatever ended the sleep. The signal mask stays as it is
/// (every signal blocked, in a lock wait): no handler runs here.
pub(super) fn wait_readable(fd: c_int, signals: Option<&SignalFd>, timeout_ms: u64) {
    let signal_fd = signals.and_then(SignalFd::live);
    let mut pfds = [fd, signal_fd.unwrap_or(-1)].map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    let count = if signal_fd.is_some() { 2 } else { 1 };
    let mut ts = timespec_ms(timeout_ms);
    // SAFETY: `pfds` holds at least `count` entries and `ts` is a live
    // local; the kernel writes only the entries' `revents` and the time
    // left into `ts`; a null signal mask leaves the mask unchanged.
    unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            pfds.as_mut_ptr(),
            count as libc::nfds_t,
            ptr::from_mut(&mut ts),
            ptr::null::<u64>(),
            size_of::<u64>(),
        )
    };
    let [_, signal] = pfds;
    if signal.revents & libc::POLLNVAL != 0 {
        if let Some(signals) = signals {
            signals.lost();
        }
    }
}

/// Where a [`SignalFd`] is moved, above the numbers programs use.
const SIGNAL_FD_MIN: c_long = 900;

/// A `signalfd(2)` over a set of signals, polled (never read) to learn
/// that one of them is pending while all are blocked; closed when dropped.
///
/// It lives close-on-exec at a high number. Should the program close that
/// number meanwhile (`close_range` in another thread), polling reports it
/// and the descriptor is forgotten, never closed: the number may be the
/// program's by then.
#[derive(Debug)]
pub(super) struct SignalFd {
    fd: c_int,
    lost: core::cell::Cell<bool>,
}

impl SignalFd {
    /// A signalfd for the signals of `set`; `None` if the kernel refuses
    /// one (out of descriptors), and the caller then looks at the pending
    /// signals after each nap instead.
    pub(super) fn new(set: u64) -> Option<Self> {
        // SAFETY: the kernel reads one 8-byte signal set (the size passed)
        // from a live local.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_signalfd4,
                -1,
                ptr::from_ref(&set),
                size_of::<u64>(),
                libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
            )
        };
        let low = c_int::try_from(check(ret).ok()?).ok()?;
        let fd = match fcntl(low, libc::F_DUPFD_CLOEXEC, SIGNAL_FD_MIN) {
            Ok(high) => {
                close(low);
                high
            }
            Err(_) => low,
        };
        let listed = LIVE.iter().any(|slot| {
            slot.compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        });
        if !listed {
            close(fd);
            return None;
        }
        Some(Self {
            fd,
            lost: core::cell::Cell::new(false),
        })
    }

    fn live(&self) -> Option<c_int> {
        (!self.lost.get()).then_some(self.fd)
    }

    fn lost(&self) {
        self.lost.set(true);
    }
}

impl Drop for SignalFd {
    fn drop(&mut self) {
        if !self.lost.get() {
            close(self.fd);
        }
        for slot in &LIVE {
            if slot
                .compare_exchange(self.fd, -1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break;
            }
        }
    }
}

/// The signals pending for the calling thread or its process (blocked ones
/// included): bit `n - 1` for signal `n`.
pub(super) fn pending_signals() -> u64 {
    let mut set: u64 = 0;
    // SAFETY: the kernel writes one 8-byte signal set (the size passed)
    // into a live local.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_rt_sigpending,
            ptr::from_mut(&mut set),
            size_of::<u64>(),
        )
    };
    if ret < 0 { 0 } else { set }
}

/// What the process does with a signal, as far as an interrupted wait is
/// concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disposition {
    /// A handler runs; `restart` if it was installed with `SA_RESTART`.
    Handler {
        /// Whether the interrupted call goes on after the handler.
        restart: bool,
    },
    /// Ignored, or the default action (discard, stop, terminate): no code
    /// of the program runs.
    NoHandler,
}

/// The kernel's `struct sigaction` as `rt_sigaction(2)` fills it on 64-bit
/// Linux; the C library's differs. Only the first two fields are read,
/// which every architecture lays out alike; the buffer is at least as large
/// as any of them.
#[repr(C)]
struct KernelSigaction {
    handler: usize,
    flags: libc::c_ulong,
    restorer: usize,
    mask: u64,
}

/// The disposition of signal `sig` now. The kernel's own record is asked,
/// not the C library's `sigaction`, which hides the C library's own signals.
pub(super) fn disposition(sig: c_int) -> Disposition {
    let mut old = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: a null new action only queries; the kernel writes at most
    // the size of its `struct sigaction` into `old`, a live local at least
    // that large.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            ptr::null::<KernelSigaction>(),
            ptr::from_mut(&mut old),
            size_of::<u64>(),
        )
    };
    if ret < 0 || old.handler == libc::SIG_DFL || old.handler == libc::SIG_IGN {
        return Disposition::NoHandler;
    }
    Disposition::Handler {
        restart: old.flags & libc::SA_RESTART as libc::c_ulong != 0,
    }
}
