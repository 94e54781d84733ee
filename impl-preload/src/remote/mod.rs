//! Blocking calls to ORFA servers: one connection per server per process.
//!
//! Every function here performs one call and returns the result or a Linux
//! errno. A read or write larger than the server's `max_io` is split here
//! (reads pipelined up to the credits, writes one part after the other, each
//! part above the eager limit through a rendezvous). Connections are made
//! lazily on first use, use raw system calls only (never the library's own
//! wrappers), block signals for the duration of a request, and are re-made in
//! a child after `fork` (a child never writes into its parent's connection).
//!
//! CONTRACT between the interposition layer and this module (signatures are
//! fixed): errors are positive errno values. A server that cannot be reached
//! or that drops the connection gives `EIO`, with one line on standard error
//! per server and process; the next call connects again, and handles from
//! the lost connection are then unknown to the server.
//!
//! The parts: `addr` (names, `ORFA_SERVERS`, connecting), `conn` (one
//! session over the client core), `registry` (the table of servers), `sys`
//! (the raw system calls), `wait` (locks, and waiting for them without
//! holding the connection), `context` (the identity sent with `SETCONTEXT`),
//! `ops11` (the other calls of protocol 1.1), `stats` (`ORFA_STATS=1`).

mod addr;
mod conn;
mod context;
mod ops11;
mod registry;
mod sharing;
mod signals;
mod stats;
mod sys;
mod wait;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use orfa_client_core::{Reply, Request};
use orfa_wire::{AccessMode, Attr, FsAttr, OpenFlags, PathFlags, SetAttr};

use addr::Addr;
use conn::{Conn, Failure};
pub(crate) use context::changed as context_changed;
pub(crate) use sys::SignalsBlocked;
pub(crate) use wait::LockSpec;

/// A positive Linux errno value.
pub(crate) type Errno = i32;

/// The result of a remote call.
pub(crate) type RResult<T> = Result<T, Errno>;

/// How long after a failed connection attempt calls fail at once, without trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A server as named in `/REMOTE@NAME/`: `host:port`, a bare host (default
/// port), `[v6]:port`, or a name configured in `ORFA_SERVERS`.
pub(crate) struct Server {
    name: Vec<u8>,
    /// Where it listens, or why the name is not an address.
    addr: Result<Addr, String>,
    state: Mutex<State>,
    /// The connection's descriptor, or -1: readable without the lock.
    fd: AtomicI32,
    /// The process that made the connection in `fd`.
    pid: AtomicI32,
    /// Whether the line on standard error was written.
    warned: AtomicBool,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("fd", &self.fd.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    conn: Option<Conn>,
    /// When the last connection attempt failed.
    failed_at: Option<Instant>,
}

/// The server named `name` (the text between `/REMOTE@` and the next `/`),
/// connecting on first use. Fails with `EIO` (after one line on stderr naming
/// the server and why) if it cannot be reached, promptly.
pub(crate) fn server(name: &[u8]) -> RResult<&'static Server> {
    let server = registry::get_or_insert(name, || Server::new(name)).ok_or(libc::EMFILE)?;
    if server.fd.load(Ordering::Acquire) >= 0 && server.pid.load(Ordering::Acquire) == sys::getpid()
    {
        return Ok(server);
    }
    server.with_conn(|_| Ok(()))?;
    Ok(server)
}

/// Takes, without waiting, every lock of this layer (each server's
/// connection, and the tables beside them) for a `fork`; `None` if one is
/// held by another thread. See `fork_hold`.
pub(crate) fn try_hold_for_fork() -> Option<Vec<crate::fork_hold::Held>> {
    let mut held = Vec::new();
    for server in registry::all() {
        held.push(crate::fork_hold::try_take(&server.state)?);
    }
    held.push(registry::try_hold_for_fork()?);
    held.push(context::try_hold_for_fork()?);
    held.push(stats::try_hold_for_fork()?);
    Some(held)
}

/// Whether `fd` is the socket of one of this process's connections, or the
/// signalfd of a lock wait. The interposition layer keeps programs from
/// closing or reusing such a number.
pub(crate) fn is_transport_fd(fd: libc::c_int) -> bool {
    fd >= 0
        && (registry::all().any(|s| s.fd.load(Ordering::Acquire) == fd) || signals::is_wait_fd(fd))
}

/// The failure of a reply that does not match its request.
fn wrong_kind() -> Failure {
    Failure::Broken(String::from("reply of the wrong kind"))
}

impl Server {
    fn new(name: &[u8]) -> Self {
        Self {
            name: name.to_vec(),
            addr: addr::lookup(name),
            state: Mutex::new(State::default()),
            fd: AtomicI32::new(-1),
            pid: AtomicI32::new(0),
            warned: AtomicBool::new(false),
        }
    }

    /// The name this server was looked up by.
    pub(crate) fn name(&self) -> &[u8] {
        &self.name
    }

    /// Runs `f` on this process's connection, connecting first if needed,
    /// with every signal blocked and `errno` left as it was on success.
    fn with_conn<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, Failure>) -> RResult<T> {
        self.with_conn_if(true, f)
    }

    /// [`Server::with_conn`] on the connection this process has now: `EIO`
    /// rather than connecting if there is none (for calls that only make
    /// sense on handles of the current session).
    fn with_current_conn<T>(&self, f: impl FnOnce(&mut Conn) -> Result<T, Failure>) -> RResult<T> {
        self.with_conn_if(false, f)
    }

    fn with_conn_if<T>(
        &self,
        may_connect: bool,
        f: impl FnOnce(&mut Conn) -> Result<T, Failure>,
    ) -> RResult<T> {
        let saved_errno = errno();
        let _signals = sys::SignalsBlocked::new();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state
            .conn
            .as_ref()
            .is_some_and(|c| c.pid() != sys::getpid())
        {
            // Inherited across fork: the parent's stream. Close our copy only.
            self.forget(&mut state);
        }
        if state
            .conn
            .as_ref()
            .is_some_and(|c| sys::peer_closed(c.fd()))
        {
            // The server closed it (it restarted, say): no request of this
            // call has gone out yet, so a new connection serves it.
            self.forget(&mut state);
        }
        if state.conn.is_none() {
            if !may_connect {
                return Err(libc::EIO);
            }
            self.connect(&mut state)?;
        }
        let Some(conn) = state.conn.as_mut() else {
            return Err(libc::EIO);
        };
        let sent = conn.sent();
        let outcome = f(conn);
        stats::count(self, conn.sent() - sent);
        let result = match outcome {
            Ok(v) => Ok(v),
            Err(Failure::Errno(e)) => Err(e),
            Err(Failure::Broken(why)) => {
                self.forget(&mut state);
                self.warn(&why);
                Err(libc::EIO)
            }
        };
        if result.is_ok() {
            set_errno(saved_errno);
        }
        result
    }

    fn connect(&self, state: &mut State) -> RResult<()> {
        if state.failed_at.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
            return Err(libc::EIO);
        }
        let made = match &self.addr {
            Ok(addr) => Conn::open(addr),
            Err(why) => Err(why.clone()),
        };
        match made {
            Ok(conn) => {
                self.fd.store(conn.fd(), Ordering::Release);
                self.pid.store(conn.pid(), Ordering::Release);
                state.conn = Some(conn);
                state.failed_at = None;
                Ok(())
            }
            Err(why) => {
                state.failed_at = Some(Instant::now());
                self.warn(&why);
                Err(libc::EIO)
            }
        }
    }

    fn forget(&self, state: &mut State) {
        self.fd.store(-1, Ordering::Release);
        state.conn = None;
    }

    /// Writes the line naming this server and `why`, the first time only.
    fn warn(&self, why: &str) {
        if self.warned.swap(true, Ordering::AcqRel) {
            return;
        }
        let line = format!(
            "orfa: server {}: {why}\n",
            String::from_utf8_lossy(&self.name)
        );
        sys::diagnostic(line.as_bytes());
    }

    /// One request whose reply data is decoded by `f`.
    fn call<T>(&self, req: &Request<'_>, f: impl FnOnce(Reply<&[u8]>) -> Option<T>) -> RResult<T> {
        self.with_conn(|conn| {
            let reply = conn.call(req)?;
            f(reply).ok_or_else(wrong_kind)
        })
    }

    /// One request that returns nothing.
    fn call_done(&self, req: &Request<'_>) -> RResult<()> {
        self.call(req, |r| matches!(r, Reply::Done).then_some(()))
    }

    fn call_attr(&self, req: &Request<'_>) -> RResult<Attr> {
        self.call(req, |r| match r {
            Reply::Attr(a) => Some(a),
            _ => None,
        })
    }

    /// Opens `path` relative to `base` (0: the export root); returns the handle and attributes.
    pub(crate) fn open(
        &self,
        base: u64,
        path: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> RResult<(u64, Attr)> {
        self.call_open(&Request::Open {
            base,
            path,
            flags,
            mode,
        })
    }

    /// An `OPEN` or `ATTACH`: the new handle, adopted (see `Conn::adopt`),
    /// and the attributes.
    fn call_open(&self, req: &Request<'_>) -> RResult<(u64, Attr)> {
        self.with_conn(|conn| {
            let (handle, attr) = match conn.call(req)? {
                Reply::Open { handle, attr } => (handle, attr),
                _ => return Err(wrong_kind()),
            };
            Ok((conn.adopt(handle)?, attr))
        })
    }

    /// Whether `handle` belongs to this process's current connection: false
    /// once that connection was lost (or before the next one is made).
    pub(crate) fn is_live(&self, handle: u64) -> bool {
        let _signals = sys::SignalsBlocked::new();
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.conn.as_ref().is_some_and(|c| c.owns(handle))
    }

    /// Releases a handle.
    pub(crate) fn close(&self, handle: u64) -> RResult<()> {
        // A handle of a lost connection is gone with it: nothing to connect for.
        self.with_current_conn(|conn| {
            let done = conn.call(&Request::Close { handle }).map(drop);
            conn.forget_handle(handle);
            done
        })
    }

    /// Reads into `buf` at `offset` (any length: split into `max_io` requests); returns bytes read.
    pub(crate) fn read(&self, handle: u64, offset: u64, buf: &mut [u8]) -> RResult<usize> {
        self.with_conn(|conn| conn.read(handle, offset, buf))
    }

    /// Writes `data` at `offset` (or at end of file if `append`); any length (split into
    /// `max_io` requests, rendezvous above the eager limit); returns (bytes written, offset after).
    pub(crate) fn write(
        &self,
        handle: u64,
        offset: u64,
        data: &[u8],
        append: bool,
    ) -> RResult<(usize, u64)> {
        self.with_conn(|conn| {
            let max = usize::try_from(conn.limits().max_io).unwrap_or(usize::MAX);
            let mut done = 0usize;
            let mut end = offset;
            for part in data
                .chunks(max)
                .chain(data.is_empty().then_some(&data[..0]))
            {
                let req = Request::Write {
                    handle,
                    offset: offset + done as u64,
                    data: part,
                    append,
                };
                let written = match conn.call(&req) {
                    Ok(Reply::Write {
                        written,
                        end: after,
                    }) => {
                        end = after;
                        written as usize
                    }
                    Ok(_) => return Err(wrong_kind()),
                    // The parts before stay written: a short write, as write(2) reports it.
                    Err(Failure::Errno(_)) if done > 0 => break,
                    Err(e) => return Err(e),
                };
                done += written;
                if written < part.len() {
                    break;
                }
            }
            Ok((done, end))
        })
    }

    /// Attributes of `path` relative to `base` (empty path: `base` itself).
    pub(crate) fn stat(&self, base: u64, path: &[u8], flags: PathFlags) -> RResult<Attr> {
        self.call_attr(&Request::Stat { base, path, flags })
    }

    /// Creates a directory.
    pub(crate) fn mkdir(&self, base: u64, path: &[u8], mode: u32) -> RResult<()> {
        self.call_done(&Request::Mkdir { base, path, mode })
    }

    /// Creates a special or empty regular file.
    pub(crate) fn mknod(&self, base: u64, path: &[u8], mode: u32, rdev: u64) -> RResult<()> {
        self.call_done(&Request::Mknod {
            base,
            path,
            mode,
            rdev,
        })
    }

    /// Removes a name (a directory with `PathFlags::REMOVEDIR`).
    pub(crate) fn unlink(&self, base: u64, path: &[u8], flags: PathFlags) -> RResult<()> {
        self.call_done(&Request::Unlink { base, path, flags })
    }

    /// Renames (both paths on this server).
    pub(crate) fn rename(
        &self,
        from_base: u64,
        from: &[u8],
        to_base: u64,
        to: &[u8],
        flags: PathFlags,
    ) -> RResult<()> {
        self.call_done(&Request::Rename {
            from_base,
            from,
            to_base,
            to,
            flags,
        })
    }

    /// Makes a hard link.
    pub(crate) fn link(
        &self,
        from_base: u64,
        from: &[u8],
        to_base: u64,
        to: &[u8],
        flags: PathFlags,
    ) -> RResult<()> {
        self.call_done(&Request::Link {
            from_base,
            from,
            to_base,
            to,
            flags,
        })
    }

    /// Makes a symbolic link `path` holding `target`.
    pub(crate) fn symlink(&self, target: &[u8], base: u64, path: &[u8]) -> RResult<()> {
        self.call_done(&Request::Symlink { target, base, path })
    }

    /// The target of a symbolic link.
    pub(crate) fn readlink(&self, base: u64, path: &[u8]) -> RResult<Vec<u8>> {
        self.call(&Request::ReadLink { base, path }, |r| match r {
            Reply::ReadLink(target) => Some(target.to_vec()),
            _ => None,
        })
    }

    /// Changes attributes; returns them after.
    pub(crate) fn setattr(
        &self,
        base: u64,
        path: &[u8],
        attr: &SetAttr,
        flags: PathFlags,
    ) -> RResult<Attr> {
        self.call_attr(&Request::SetAttr {
            base,
            path,
            attr,
            flags,
        })
    }

    /// Checks access.
    pub(crate) fn access(
        &self,
        base: u64,
        path: &[u8],
        mode: AccessMode,
        flags: PathFlags,
    ) -> RResult<()> {
        self.call_done(&Request::Access {
            base,
            path,
            mode,
            flags,
        })
    }

    /// Flushes a file.
    pub(crate) fn fsync(&self, handle: u64, datasync: bool) -> RResult<()> {
        self.call_done(&Request::Fsync { handle, datasync })
    }

    /// File system statistics.
    pub(crate) fn statfs(&self, base: u64, path: &[u8]) -> RResult<FsAttr> {
        self.call(&Request::StatFs { base, path }, |r| match r {
            Reply::StatFs(fs) => Some(fs),
            _ => None,
        })
    }
}

/// The calling thread's `errno`.
fn errno() -> i32 {
    // SAFETY: __errno_location returns the calling thread's errno slot, valid
    // for the thread's lifetime.
    unsafe { *libc::__errno_location() }
}

/// Sets the calling thread's `errno`.
fn set_errno(value: i32) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value };
}
