//! Virtual descriptors: kernel descriptor numbers that stand for remote files.
//!
//! A remote open returns a real descriptor number, so that the kernel never
//! hands the same number to something else while the program uses it. Each
//! one is a duplicate of one placeholder per process: an `O_PATH` descriptor
//! of an empty memfd. A call that escapes this library (a raw system call, a
//! C-library-internal call) on such a number fails with `EBADF` rather than
//! reading or writing the wrong bytes.
//!
//! A process-wide table maps each number to its [`OpenFile`], shared by every
//! descriptor `dup`licated from it (they share the offset, as POSIX requires).
//! A bitmap of the numbers in use answers "is this descriptor remote?" with
//! one atomic load, which is all a local descriptor pays.
//!
//! FIXME(#4): virtual descriptors are not inherited. The kernel descriptors
//! all carry `FD_CLOEXEC` (the program's own close-on-exec wish is kept in the
//! table), an exec'd program does not find them, and a forked child cannot use
//! its parent's server handles (it gets `EBADF`).

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::errno::syscall_result;
use crate::remote::{Errno, Server};

/// Descriptors at or above this number are never virtual.
const LIMIT: usize = 65536;

/// Where the placeholder is moved, out of the way of the numbers programs
/// choose themselves (shells pick 10 and up for their own copies).
const PLACEHOLDER_MIN: c_int = 1000;

/// The status flags `F_SETFL` may change (as Linux allows).
const SETFL_MASK: c_int = libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT;

/// One bit per descriptor number below [`LIMIT`]: set while it is virtual.
static BITS: [AtomicU64; LIMIT / 64] = [const { AtomicU64::new(0) }; LIMIT / 64];

/// The table of virtual descriptors, indexed by number.
static TABLE: Mutex<Vec<Option<Slot>>> = Mutex::new(Vec::new());

/// The placeholder descriptor, or -1 before the first remote open.
static PLACEHOLDER: AtomicI32 = AtomicI32::new(-1);

/// Serialises the creation of the placeholder.
static PLACEHOLDER_LOCK: Mutex<()> = Mutex::new(());

/// One virtual descriptor.
#[derive(Debug)]
struct Slot {
    file: Arc<OpenFile>,
    /// The program asked for close-on-exec (`O_CLOEXEC`, `FD_CLOEXEC`).
    cloexec: bool,
}

/// An open remote file or directory: what the descriptors duplicated from
/// one open share.
#[derive(Debug)]
pub(crate) struct OpenFile {
    /// The server holding the file.
    pub(crate) server: &'static Server,
    /// The server's handle.
    pub(crate) handle: u64,
    /// Whether the handle names a directory.
    pub(crate) is_dir: bool,
    /// The path from the export's root, as opened.
    pub(crate) path: Vec<u8>,
    /// The file status flags (`O_ACCMODE`, `O_APPEND`, `O_PATH`, ...).
    status: AtomicI32,
    /// The file offset; held during a read or write that uses it.
    offset: Mutex<u64>,
    /// The process that opened the handle.
    owner: u32,
    /// Set once the handle has been closed on the server.
    released: AtomicBool,
}

impl OpenFile {
    /// An open file of this process.
    pub(crate) fn new(
        server: &'static Server,
        handle: u64,
        is_dir: bool,
        path: Vec<u8>,
        status: c_int,
    ) -> Self {
        Self {
            server,
            handle,
            is_dir,
            path,
            status: AtomicI32::new(status),
            offset: Mutex::new(0),
            owner: std::process::id(),
            released: AtomicBool::new(false),
        }
    }

    /// The file status flags, as `F_GETFL` reports them.
    pub(crate) fn status(&self) -> c_int {
        self.status.load(Ordering::Relaxed)
    }

    /// Changes the flags `F_SETFL` may change, leaving the others.
    pub(crate) fn set_status(&self, flags: c_int) {
        let old = self.status();
        self.status.store(
            (old & !SETFL_MASK) | (flags & SETFL_MASK),
            Ordering::Relaxed,
        );
    }

    /// Whether this is an `O_PATH` descriptor (no I/O allowed).
    pub(crate) fn is_path_only(&self) -> bool {
        self.status() & libc::O_PATH != 0
    }

    /// The offset, locked.
    pub(crate) fn offset(&self) -> MutexGuard<'_, u64> {
        self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fails with `EBADF` in a forked child: the handle belongs to the
    /// parent's connection (FIXME(#4): children attach to their own).
    pub(crate) fn usable(&self) -> Result<(), Errno> {
        if self.owner == std::process::id() {
            Ok(())
        } else {
            Err(libc::EBADF)
        }
    }

    /// Closes the handle on the server, once.
    pub(crate) fn release(&self) -> Result<(), Errno> {
        if self.released.swap(true, Ordering::AcqRel) || self.usable().is_err() {
            return Ok(());
        }
        self.server.close(self.handle)
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        // Nobody is left to report the error to.
        let _ = self.release();
    }
}

/// Whether `fd` is a virtual descriptor: one atomic load.
#[inline]
pub(crate) fn is_virtual(fd: c_int) -> bool {
    let Ok(n) = usize::try_from(fd) else {
        return false;
    };
    match BITS.get(n / 64) {
        Some(word) => word.load(Ordering::Acquire) & (1 << (n % 64)) != 0,
        None => false,
    }
}

fn table() -> MutexGuard<'static, Vec<Option<Slot>>> {
    TABLE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn set_bit(n: usize, on: bool) {
    if let Some(word) = BITS.get(n / 64) {
        if on {
            word.fetch_or(1 << (n % 64), Ordering::AcqRel);
        } else {
            word.fetch_and(!(1 << (n % 64)), Ordering::AcqRel);
        }
    }
}

/// The open file behind a virtual descriptor.
pub(crate) fn get(fd: c_int) -> Option<Arc<OpenFile>> {
    if !is_virtual(fd) {
        return None;
    }
    let n = usize::try_from(fd).ok()?;
    table().get(n)?.as_ref().map(|slot| Arc::clone(&slot.file))
}

/// The program's close-on-exec flag of a virtual descriptor.
pub(crate) fn cloexec(fd: c_int) -> Option<bool> {
    let n = usize::try_from(fd).ok()?;
    table().get(n)?.as_ref().map(|slot| slot.cloexec)
}

/// Sets the program's close-on-exec flag of a virtual descriptor.
pub(crate) fn set_cloexec(fd: c_int, on: bool) -> Result<(), Errno> {
    let n = usize::try_from(fd).map_err(|_| libc::EBADF)?;
    match table().get_mut(n).and_then(Option::as_mut) {
        Some(slot) => {
            slot.cloexec = on;
            Ok(())
        }
        None => Err(libc::EBADF),
    }
}

/// Records `fd` as a virtual descriptor of `file`; returns what it replaced.
fn register(fd: c_int, file: Arc<OpenFile>, cloexec: bool) -> Option<Arc<OpenFile>> {
    let n = usize::try_from(fd).ok()?;
    let mut table = table();
    if table.len() <= n {
        table.resize_with(n + 1, || None);
    }
    let old = table.get_mut(n)?.replace(Slot { file, cloexec });
    set_bit(n, true);
    old.map(|slot| slot.file)
}

/// Forgets a virtual descriptor without touching the kernel's; returns its file.
///
/// The bit is cleared before the caller closes the kernel descriptor, so that
/// no other thread can see the number as virtual once the kernel reuses it.
pub(crate) fn unregister(fd: c_int) -> Option<Arc<OpenFile>> {
    if !is_virtual(fd) {
        return None;
    }
    let n = usize::try_from(fd).ok()?;
    let mut table = table();
    set_bit(n, false);
    table.get_mut(n)?.take().map(|slot| slot.file)
}

/// Gives `file` a new virtual descriptor, the lowest free number at or above
/// `min`, as `open` and `F_DUPFD` do.
pub(crate) fn install(file: Arc<OpenFile>, min: c_int, cloexec: bool) -> Result<c_int, Errno> {
    let placeholder = placeholder()?;
    // SAFETY: F_DUPFD_CLOEXEC takes an int argument and touches no memory.
    let fd = syscall_result(unsafe {
        libc::syscall(libc::SYS_fcntl, placeholder, libc::F_DUPFD_CLOEXEC, min)
    })?;
    let fd = c_int::try_from(fd).map_err(|_| libc::EMFILE)?;
    if usize::try_from(fd).map_or(true, |n| n >= LIMIT) {
        close_kernel(fd);
        return Err(libc::EMFILE);
    }
    // A number the kernel just handed out cannot have been registered.
    drop(register(fd, file, cloexec));
    Ok(fd)
}

/// Makes `fd` a virtual descriptor of `file`, closing whatever `fd` was, as
/// `dup2` and `dup3` do.
pub(crate) fn install_at(fd: c_int, file: Arc<OpenFile>, cloexec: bool) -> Result<c_int, Errno> {
    if usize::try_from(fd).map_or(true, |n| n >= LIMIT) {
        return Err(libc::EBADF);
    }
    forget_placeholder(fd);
    let placeholder = placeholder()?;
    // SAFETY: dup3 takes two descriptors and a flag; it touches no memory.
    syscall_result(unsafe { libc::syscall(libc::SYS_dup3, placeholder, fd, libc::O_CLOEXEC) })?;
    let replaced = register(fd, file, cloexec);
    drop(replaced);
    Ok(fd)
}

/// Closes a virtual descriptor: the kernel's number, and the server's handle
/// if this was the last descriptor of its open file.
pub(crate) fn close(fd: c_int) -> Result<(), Errno> {
    let file = unregister(fd).ok_or(libc::EBADF)?;
    close_kernel(fd);
    match Arc::into_inner(file) {
        Some(last) => last.release(),
        None => Ok(()),
    }
}

/// Closes a kernel descriptor of this library's own, ignoring errors.
fn close_kernel(fd: c_int) {
    // SAFETY: closing a descriptor this library owns touches no memory.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// Called before the program closes or replaces descriptor `fd`: if it is the
/// placeholder, a new one will be made when next needed.
#[inline]
pub(crate) fn forget_placeholder(fd: c_int) {
    if fd >= 0 && fd == PLACEHOLDER.load(Ordering::Relaxed) {
        let _ = PLACEHOLDER.compare_exchange(fd, -1, Ordering::AcqRel, Ordering::Relaxed);
    }
}

/// The placeholder descriptor, made on first use.
fn placeholder() -> Result<c_int, Errno> {
    let fd = PLACEHOLDER.load(Ordering::Acquire);
    if fd >= 0 {
        return Ok(fd);
    }
    let _creating = PLACEHOLDER_LOCK
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let fd = PLACEHOLDER.load(Ordering::Acquire);
    if fd >= 0 {
        return Ok(fd);
    }
    // Making it may fail on the way (no memfd, a low descriptor limit) and
    // still succeed: the caller's errno must not show it.
    let saved = crate::errno::get();
    let fd = make_placeholder()?;
    crate::errno::set(saved);
    PLACEHOLDER.store(fd, Ordering::Release);
    Ok(fd)
}

/// Opens a new placeholder: an `O_PATH` descriptor of an empty memfd (or of
/// `/` where memfds are not available), moved above [`PLACEHOLDER_MIN`] when
/// the descriptor limit allows.
fn make_placeholder() -> Result<c_int, Errno> {
    let flags = libc::O_PATH | libc::O_CLOEXEC;
    // SAFETY: the name is a NUL-terminated string; the flag is valid.
    let mem = unsafe {
        libc::syscall(
            libc::SYS_memfd_create,
            c"orfa-remote".as_ptr(),
            libc::MFD_CLOEXEC,
        )
    };
    let mut fd = -1;
    if mem >= 0 {
        let link = format!("/proc/self/fd/{mem}\0");
        // SAFETY: `link` is NUL-terminated.
        fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, link.as_ptr(), flags) };
        close_kernel(mem as c_int);
    }
    if fd < 0 {
        // SAFETY: the path is NUL-terminated.
        fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, c"/".as_ptr(), flags) };
    }
    let fd = c_int::try_from(syscall_result(fd)?).map_err(|_| libc::EMFILE)?;
    // SAFETY: F_DUPFD_CLOEXEC takes an int argument and touches no memory.
    let high =
        unsafe { libc::syscall(libc::SYS_fcntl, fd, libc::F_DUPFD_CLOEXEC, PLACEHOLDER_MIN) };
    match c_int::try_from(high) {
        Ok(high) if high >= 0 => {
            close_kernel(fd);
            Ok(high)
        }
        _ => Ok(fd),
    }
}
