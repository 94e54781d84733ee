//! The raw system calls the transport makes.
//!
//! This library interposes `read`, `write`, `close`, `connect` and friends,
//! so the transport never calls the C library's wrappers for its own I/O:
//! every call here is `syscall(2)` with the kernel's number. Each returns a
//! positive errno on failure and retries `EINTR` where a retry is safe.

use core::ffi::c_void;
use core::ptr;

use libc::{c_int, c_long, socklen_t};

/// A positive errno value.
pub(super) type Errno = i32;

/// The calling thread's errno after a failed system call.
fn last_errno() -> Errno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Turns a raw system call result into a value or an errno.
pub(super) fn check(ret: c_long) -> Result<c_long, Errno> {
    if ret < 0 { Err(last_errno()) } else { Ok(ret) }
}

/// `socket(2)`.
pub(super) fn socket(domain: c_int, ty: c_int) -> Result<c_int, Errno> {
    // SAFETY: socket takes three integers and touches no memory of ours.
    let fd = check(unsafe { libc::syscall(libc::SYS_socket, domain, ty, 0) })?;
    Ok(fd as c_int)
}

/// `connect(2)` to the socket address at `addr`, `len` bytes long.
///
/// # Safety
///
/// `addr` must point to `len` readable bytes of a socket address.
pub(super) unsafe fn connect(
    fd: c_int,
    addr: *const libc::sockaddr,
    len: socklen_t,
) -> Result<(), Errno> {
    // SAFETY: the caller guarantees `addr` points to `len` readable bytes; the
    // kernel only reads them.
    check(unsafe { libc::syscall(libc::SYS_connect, fd, addr, len) }).map(drop)
}

/// `close(2)`; the descriptor is gone whatever the result, so it is ignored.
pub(super) fn close(fd: c_int) {
    // SAFETY: close takes an integer; closing a descriptor this module owns
    // (the only use) cannot affect memory safety.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// `fcntl(2)` with an integer argument.
pub(super) fn fcntl(fd: c_int, cmd: c_int, arg: c_long) -> Result<c_int, Errno> {
    // SAFETY: the commands used here (F_DUPFD_CLOEXEC, F_GETFL, F_SETFL) take
    // an integer argument and touch no memory of ours.
    let ret = check(unsafe { libc::syscall(libc::SYS_fcntl, fd, cmd, arg) })?;
    Ok(ret as c_int)
}

/// `setsockopt(2)` with a plain value.
pub(super) fn setsockopt<T>(fd: c_int, level: c_int, name: c_int, value: &T) -> Result<(), Errno> {
    let len = size_of::<T>() as socklen_t;
    // SAFETY: `value` is a live reference to `len` bytes the kernel only reads.
    check(unsafe {
        libc::syscall(
            libc::SYS_setsockopt,
            fd,
            level,
            name,
            ptr::from_ref(value),
            len,
        )
    })
    .map(drop)
}

/// The pending error of a socket (`SO_ERROR`), 0 if none.
pub(super) fn socket_error(fd: c_int) -> Result<Errno, Errno> {
    let mut value: c_int = 0;
    let mut len = size_of::<c_int>() as socklen_t;
    // SAFETY: `value` and `len` are live locals of the sizes the kernel is told.
    check(unsafe {
        libc::syscall(
            libc::SYS_getsockopt,
            fd,
            libc::SOL_SOCKET,
            libc::SO_ERROR,
            ptr::from_mut(&mut value),
            ptr::from_mut(&mut len),
        )
    })?;
    Ok(value)
}

/// Waits until `fd` is ready for `events` or `timeout_ms` pass; returns whether it became ready.
pub(super) fn poll_one(fd: c_int, events: i16, timeout_ms: u64) -> Result<bool, Errno> {
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let mut ts = timespec_ms(timeout_ms);
    loop {
        // SAFETY: `pfd` and `ts` are live locals; the kernel writes only
        // `pfd.revents` and the time left into `ts` (so that a retry after
        // `EINTR` waits only for the rest); a null signal mask leaves the
        // mask unchanged.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_ppoll,
                ptr::from_mut(&mut pfd),
                1 as libc::nfds_t,
                ptr::from_mut(&mut ts),
                ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        match check(ret) {
            Ok(n) => return Ok(n > 0),
            Err(libc::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A `timespec` of `ms` milliseconds.
pub(super) fn timespec_ms(ms: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_nsec: ((ms % 1000) * 1_000_000) as c_long,
    }
}

/// Lets the pending signals of `set` take effect now: their handlers run,
/// ignored ones are discarded, default actions happen (the process may
/// stop, or end). Returns whether a handler ran. Signals outside `set`
/// stay blocked, and so does every signal again on return.
///
/// A `ppoll(2)` of no descriptor with a zero timeout and the mask `!set`:
/// it fails with `EINTR` exactly when a handler ran during it.
pub(super) fn deliver(set: u64) -> bool {
    if set == 0 {
        return false;
    }
    let mask = !set;
    let mut ts = timespec_ms(0);
    // A handler that runs here is outside every holder of
    // `SignalsBlocked`: its own remote calls start afresh, and if it never
    // returns (`siglongjmp`) the count stays right.
    let held = HELD.replace((0, 0));
    // SAFETY: no descriptors (a null array of length 0); `ts` and `mask`
    // are live locals; the kernel reads one 8-byte signal set (the size
    // passed).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_ppoll,
            ptr::null_mut::<libc::pollfd>(),
            0 as libc::nfds_t,
            ptr::from_mut(&mut ts),
            ptr::from_ref(&mask),
            size_of::<u64>(),
        )
    };
    HELD.set(held);
    check(ret) == Err(libc::EINTR)
}

/// A one-byte `MSG_PEEK | MSG_DONTWAIT` receive on `fd`: what is there now,
/// leaving it in the socket.
fn peek(fd: c_int) -> Result<c_long, Errno> {
    let mut byte = 0u8;
    // SAFETY: one writable byte; MSG_PEEK leaves it in the socket; null
    // address arguments ask for no peer address.
    check(unsafe {
        libc::syscall(
            libc::SYS_recvfrom,
            fd,
            ptr::from_mut(&mut byte),
            1usize,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
            ptr::null_mut::<libc::sockaddr>(),
            ptr::null_mut::<socklen_t>(),
        )
    })
}

/// Whether a read from `fd` would not block: input, end of stream or an error.
pub(super) fn has_input(fd: c_int) -> bool {
    !matches!(peek(fd), Err(libc::EAGAIN | libc::EINTR))
}

/// Whether the peer of `fd` has closed the connection (end of stream or a
/// reset waiting to be read), without taking anything from the socket.
pub(super) fn peer_closed(fd: c_int) -> bool {
    matches!(peek(fd), Ok(0) | Err(libc::ECONNRESET | libc::EPIPE))
}

/// Sends every byte of `slices`, in order, with as few `sendmsg(2)` calls as
/// the kernel allows. `MSG_NOSIGNAL`: a closed peer is an `EPIPE`, not a
/// `SIGPIPE` that would kill the program.
pub(super) fn send_all(fd: c_int, slices: &[&[u8]]) -> Result<(), Errno> {
    const MAX: usize = 4;
    let mut iov = [libc::iovec {
        iov_base: ptr::null_mut(),
        iov_len: 0,
    }; MAX];
    let mut n = 0;
    for s in slices.iter().filter(|s| !s.is_empty()) {
        let Some(slot) = iov.get_mut(n) else {
            return Err(libc::EINVAL);
        };
        *slot = libc::iovec {
            iov_base: s.as_ptr() as *mut c_void,
            iov_len: s.len(),
        };
        n += 1;
    }
    let mut first = 0;
    while first < n {
        let Some(live) = iov.get_mut(first..n) else {
            return Err(libc::EINVAL);
        };
        // SAFETY: an all-zero msghdr is valid (no address, no control data).
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_iov = live.as_mut_ptr();
        msg.msg_iovlen = live.len() as _;
        // SAFETY: `msg` points at `live`, iovecs over slices borrowed for this
        // whole call; the kernel only reads them.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_sendmsg,
                fd,
                ptr::from_ref(&msg),
                libc::MSG_NOSIGNAL,
            )
        };
        let mut sent = match check(ret) {
            Ok(sent) => sent as usize,
            Err(libc::EINTR) => continue,
            Err(e) => return Err(e),
        };
        for v in live.iter_mut() {
            if sent == 0 {
                break;
            }
            let take = sent.min(v.iov_len);
            // SAFETY: `take` is at most the iovec's length, so the advanced
            // pointer stays within (or one past) the same slice.
            v.iov_base = unsafe { v.iov_base.cast::<u8>().add(take) }.cast();
            v.iov_len -= take;
            sent -= take;
        }
        while first < n && iov.get(first).is_some_and(|v| v.iov_len == 0) {
            first += 1;
        }
    }
    Ok(())
}

/// Fills `buf` from `fd`; `ECONNRESET` if the peer closes first.
pub(super) fn recv_exact(fd: c_int, mut buf: &mut [u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes; null
        // address arguments ask for no peer address.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_recvfrom,
                fd,
                buf.as_mut_ptr(),
                buf.len(),
                0,
                ptr::null_mut::<libc::sockaddr>(),
                ptr::null_mut::<socklen_t>(),
            )
        };
        match check(ret) {
            Ok(0) => return Err(libc::ECONNRESET),
            Ok(n) => {
                let rest = core::mem::take(&mut buf);
                buf = rest.get_mut(n as usize..).unwrap_or_default();
            }
            Err(libc::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The process id, kept up to date across forks (see [`crate::shared::pid`]).
pub(super) fn getpid() -> i32 {
    crate::shared::pid() as i32
}

/// The device and inode of an open descriptor, to recognise it later.
pub(super) fn identity(fd: c_int) -> Option<(u64, u64)> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `st` is a live local of the kernel's `struct stat` layout.
    let ret = unsafe { libc::syscall(libc::SYS_fstat, fd, ptr::from_mut(&mut st)) };
    check(ret).ok()?;
    Some((st.st_dev, st.st_ino))
}

/// Writes one diagnostic line to the standard error descriptor, unless that
/// descriptor is a deleted or anonymous regular file (the kernel object
/// behind a remote descriptor: writing there would not reach the user).
pub(super) fn diagnostic(line: &[u8]) {
    diagnostic_on(2, line);
}

/// Writes a diagnostic line to `fd`, a copy of standard error, on the same
/// terms as [`diagnostic`].
pub(super) fn diagnostic_on(fd: c_int, line: &[u8]) {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `st` is a live local of the kernel's `struct stat` layout.
    let ret = unsafe { libc::syscall(libc::SYS_fstat, fd, ptr::from_mut(&mut st)) };
    if ret < 0 || (st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_nlink == 0) {
        return;
    }
    let _ = write_all(fd, line);
}

/// A close-on-exec copy of standard error at a high number, or -1.
pub(super) fn copy_of_stderr() -> c_int {
    // SAFETY: F_DUPFD_CLOEXEC takes an integer and touches no memory.
    let fd = unsafe { libc::syscall(libc::SYS_fcntl, 2, libc::F_DUPFD_CLOEXEC, 900) };
    c_int::try_from(fd).unwrap_or(-1)
}

/// Writes all of `buf` to a descriptor that need not be a socket.
fn write_all(fd: c_int, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        // SAFETY: `buf` is a live slice the kernel only reads.
        let ret = unsafe { libc::syscall(libc::SYS_write, fd, buf.as_ptr(), buf.len()) };
        match check(ret) {
            Ok(n) => buf = buf.get(n as usize..).unwrap_or_default(),
            Err(libc::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Every signal blocked on the calling thread until dropped, then the old mask back.
///
/// A request holds one, so that a signal handler that itself makes a remote
/// call can never run while this thread is halfway through a message; so do
/// the remote half of every wrapper, a remote path and the descriptor table,
/// so that such a handler never finds a lock of this library held, or the
/// allocator in use, by the code it interrupted. They nest, and need not be
/// dropped in the order they were made: the program's own mask comes back
/// when the last one goes.
#[derive(Debug)]
pub(crate) struct SignalsBlocked {
    _private: (),
}

std::thread_local! {
    /// How many [`SignalsBlocked`] the thread holds, and the program's own
    /// mask from before the first of them.
    static HELD: core::cell::Cell<(u32, u64)> = const { core::cell::Cell::new((0, 0)) };
}

/// Sets the thread's signal mask to `new`; returns the old one.
fn set_mask(new: u64) -> u64 {
    let mut old: u64 = 0;
    // SAFETY: the kernel reads and writes one 8-byte signal set (the size
    // passed), both live locals.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            ptr::from_ref(&new),
            ptr::from_mut(&mut old),
            size_of::<u64>(),
        )
    };
    old
}

impl SignalsBlocked {
    /// Blocks every signal (the kernel ignores the request for `SIGKILL` and `SIGSTOP`).
    pub(crate) fn new() -> Self {
        match HELD.get() {
            (0, _) => HELD.set((1, set_mask(!0))),
            (depth, caller) => HELD.set((depth.saturating_add(1), caller)),
        }
        Self { _private: () }
    }

    /// The mask the program had before the first holder blocked signals.
    pub(super) fn caller_mask(&self) -> u64 {
        HELD.get().1
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        match HELD.get() {
            (0 | 1, caller) => {
                HELD.set((0, caller));
                set_mask(caller);
            }
            (depth, caller) => HELD.set((depth - 1, caller)),
        }
    }
}
