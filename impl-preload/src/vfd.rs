//! Virtual descriptors: kernel descriptor numbers that stand for remote files.
//!
//! Each remote open file description is a kernel object of its own (see
//! `shared`): the program's descriptor is an `O_PATH` descriptor of a memfd
//! that holds the description's shared state. The kernel therefore keeps
//! descriptor numbers, `dup` and `dup2`, close-on-exec, and inheritance
//! across `fork` and `exec` exactly as for local files, and every process
//! that holds the description shares its offset and status flags.
//!
//! What the kernel cannot share is the server's handle: each process has its
//! own connection, so each holds its own handle ([`OpenFile`]) for the
//! descriptions it uses, attached on first use. Before this process hands
//! its descriptors on (a `fork`, an `exec`, a spawn), every description it
//! attached is shared: the server gives a token for the open file, kept in
//! the description. A process that inherited the description attaches to
//! the same open file with it, so it reads what its parent had open even if
//! the file was renamed over or unlinked since (see the protocol's `SHARE`
//! and `ATTACH`). A forked child finds its parent's table and attaches anew;
//! an exec'd program finds the descriptors at load (see `inherit`).
//!
//! Without a token (a server older than protocol 1.2, an `execl` the
//! library cannot see, a token whose grace period ended), attaching opens
//! the path again (without creating or truncating) and checks that it names
//! the same file: `ESTALE` if it now names another.
//!
//! A process-wide table maps each number to its description and, once
//! attached, to its [`OpenFile`], shared by every descriptor of the
//! description. A bitmap of the numbers in use answers "is this descriptor
//! remote?" with one atomic load, which is all a local descriptor pays.
//!
//! `flock` and OFD locks taken through a shared open file are the open
//! file's (the server keeps them until its last handle closes), so a child
//! and its parent hold them together, as on Linux.

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::errno::syscall_result;
use crate::remote::{self, Errno, Server, SignalsBlocked};
use crate::shared::{self, OffsetLock, Recipe, Shared};

/// Descriptors at or above this number are never virtual.
const LIMIT: usize = 65536;

/// The status flags `F_SETFL` may change (as Linux allows).
const SETFL_MASK: c_int = libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT;

/// One bit per descriptor number below [`LIMIT`]: set while it is virtual.
static BITS: [AtomicU64; LIMIT / 64] = [const { AtomicU64::new(0) }; LIMIT / 64];

/// The table of virtual descriptors, indexed by number.
static TABLE: Mutex<Vec<Option<Slot>>> = Mutex::new(Vec::new());

/// One virtual descriptor.
#[derive(Clone)]
struct Slot {
    /// The description.
    shared: Arc<Shared>,
    /// Its handle, once attached (possibly by another process, before a fork).
    file: Option<Arc<OpenFile>>,
}

/// An open remote file or directory as one process uses it: its server
/// handle, and the description it belongs to.
#[derive(Debug)]
pub(crate) struct OpenFile {
    /// The server holding the file.
    pub(crate) server: &'static Server,
    /// The server's handle, valid on this process's connection.
    pub(crate) handle: u64,
    /// Whether the handle names a directory.
    pub(crate) is_dir: bool,
    /// The path from the export's root, as opened.
    pub(crate) path: Vec<u8>,
    /// The file's inode number on the server: with the server, the
    /// identity of the file its POSIX locks belong to.
    pub(crate) ino: u64,
    /// The description's shared state.
    shared: Arc<Shared>,
    /// Serialises this process's threads on the offset.
    local: Mutex<()>,
    /// The process whose connection the handle belongs to.
    owner: u32,
    /// Set once the handle has been closed on the server.
    released: AtomicBool,
}

impl OpenFile {
    fn new(server: &'static Server, handle: u64, ino: u64, shared: Arc<Shared>) -> Self {
        Self {
            server,
            handle,
            is_dir: shared.is_dir(),
            path: shared.path(),
            ino,
            shared,
            local: Mutex::new(()),
            owner: shared::pid(),
            released: AtomicBool::new(false),
        }
    }

    /// The file status flags, as `F_GETFL` reports them.
    pub(crate) fn status(&self) -> c_int {
        self.shared.status()
    }

    /// Whether this is an `O_PATH` descriptor (no I/O allowed).
    pub(crate) fn is_path_only(&self) -> bool {
        self.status() & libc::O_PATH != 0
    }

    /// The offset, held against the process's other threads and the other
    /// processes sharing the description.
    pub(crate) fn offset(&self) -> Offset<'_> {
        let local = self.local.lock().unwrap_or_else(PoisonError::into_inner);
        Offset {
            shared: self.shared.lock_offset(),
            _local: local,
        }
    }

    /// Fails with `EBADF` when the handle belongs to another process: an
    /// open file kept across a `fork` without going through the table.
    pub(crate) fn usable(&self) -> Result<(), Errno> {
        if self.owner == shared::pid() {
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

/// The offset of an open file, held until dropped (see [`OpenFile::offset`]).
pub(crate) struct Offset<'a> {
    shared: OffsetLock<'a>,
    _local: MutexGuard<'a, ()>,
}

impl core::ops::Deref for Offset<'_> {
    type Target = u64;
    fn deref(&self) -> &u64 {
        &self.shared
    }
}

impl core::ops::DerefMut for Offset<'_> {
    fn deref_mut(&mut self) -> &mut u64 {
        &mut self.shared
    }
}

/// Whether `fd` is a virtual descriptor: one atomic load (and, once per
/// process, the search for inherited descriptors).
#[inline]
pub(crate) fn is_virtual(fd: c_int) -> bool {
    let Ok(n) = usize::try_from(fd) else {
        return false;
    };
    crate::inherit::ensure_adopted();
    match BITS.get(n / 64) {
        Some(word) => word.load(Ordering::Acquire) & (1 << (n % 64)) != 0,
        None => false,
    }
}

/// The descriptor table, locked, with signals blocked so that a handler
/// that uses a descriptor never finds the table locked by its own thread.
struct Table {
    slots: MutexGuard<'static, Vec<Option<Slot>>>,
    // Dropped after `slots`: the lock is released before signals come back.
    _signals: SignalsBlocked,
}

impl core::ops::Deref for Table {
    type Target = Vec<Option<Slot>>;
    fn deref(&self) -> &Self::Target {
        &self.slots
    }
}

impl core::ops::DerefMut for Table {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.slots
    }
}

fn table() -> Table {
    let signals = SignalsBlocked::new();
    Table {
        slots: TABLE.lock().unwrap_or_else(PoisonError::into_inner),
        _signals: signals,
    }
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

fn slot(fd: c_int) -> Option<Slot> {
    if !is_virtual(fd) {
        return None;
    }
    let n = usize::try_from(fd).ok()?;
    table().get(n)?.clone()
}

/// The open file behind a virtual descriptor, attached to this process's
/// connection; `None` if `fd` is not virtual or cannot be attached.
pub(crate) fn get(fd: c_int) -> Option<Arc<OpenFile>> {
    file(fd).ok()
}

/// The open file behind a virtual descriptor, attached to this process's
/// connection (`EBADF` if `fd` is not virtual).
pub(crate) fn file(fd: c_int) -> Result<Arc<OpenFile>, Errno> {
    let slot = slot(fd).ok_or(libc::EBADF)?;
    match slot.file {
        Some(file) if file.owner == shared::pid() => Ok(file),
        _ => attach(&slot.shared),
    }
}

/// `file` itself, or, if its handle is another process's (it was kept
/// across a `fork`), this process's open file of the same description.
pub(crate) fn here(file: &Arc<OpenFile>) -> Result<Arc<OpenFile>, Errno> {
    if file.owner == shared::pid() {
        return Ok(Arc::clone(file));
    }
    attach(&file.shared)
}

/// Opens this process's handle for a description, and gives it to every
/// descriptor of the description (unless another thread was quicker).
fn attach(shared: &Arc<Shared>) -> Result<Arc<OpenFile>, Errno> {
    let me = shared::pid();
    let server = remote::server(&shared.server())?;
    let token = shared.token();
    let attached = match token {
        0 => None,
        token => server.attach(token).ok(),
    };
    let (handle, attr) = match attached {
        Some(found) => found,
        None => reopen(server, shared)?,
    };
    let file = Arc::new(OpenFile::new(
        server,
        handle,
        attr.ino.get(),
        Arc::clone(shared),
    ));
    let mut table = table();
    let theirs = table
        .iter()
        .flatten()
        .filter(|s| s.shared.key() == shared.key())
        .find_map(|s| s.file.clone().filter(|f| f.owner == me));
    if let Some(theirs) = theirs {
        // Another thread attached first; ours closes its handle when dropped.
        drop(table);
        return Ok(theirs);
    }
    for slot in table.iter_mut().flatten() {
        if slot.shared.key() == shared.key() {
            slot.file = Some(Arc::clone(&file));
        }
    }
    drop(table);
    Ok(file)
}

/// A new handle for `file`, whose own belongs to a connection that was lost
/// (the server restarted, say): the description's path opened again on the
/// current connection, as long as it names the same file. Every descriptor
/// of the description gets it.
pub(crate) fn renew(file: &Arc<OpenFile>) -> Result<Arc<OpenFile>, Errno> {
    let (handle, attr) = reopen(file.server, &file.shared)?;
    let fresh = Arc::new(OpenFile::new(
        file.server,
        handle,
        attr.ino.get(),
        Arc::clone(&file.shared),
    ));
    for slot in table().iter_mut().flatten() {
        if slot.file.as_ref().is_some_and(|f| Arc::ptr_eq(f, file)) {
            slot.file = Some(Arc::clone(&fresh));
        }
    }
    Ok(fresh)
}

/// Opens a description's path again, as long as it names the same file.
fn reopen(server: &'static Server, shared: &Shared) -> Result<(u64, orfa_wire::Attr), Errno> {
    let flags = crate::convert::open_flags(shared.reopen_flags());
    let (handle, attr) = server
        .open(orfa_wire::ROOT_HANDLE, &shared.path(), flags, 0)
        // The file that was open is no longer under its name.
        .map_err(|e| if e == libc::ENOENT { libc::ESTALE } else { e })?;
    if attr.ino.get() != shared.ino() {
        // The path now names another file (renamed over or replaced since
        // the description was opened): better an error than its bytes.
        let _ = server.close(handle);
        return Err(libc::ESTALE);
    }
    Ok((handle, attr))
}

/// Whether any descriptor was ever made virtual in this process: until
/// then, handing descriptors on costs nothing.
static EVER: AtomicBool = AtomicBool::new(false);

/// Shares every description this process attached and nobody has shared
/// yet, so that processes it hands its descriptors to attach to the same
/// open files. Runs before a `fork`, an `exec` and a spawn. A server that
/// cannot share (older than protocol 1.2, unreachable) leaves the
/// description without a token: its inheritors open the path again.
pub(crate) fn share_all() {
    if !EVER.load(Ordering::Acquire) {
        return;
    }
    for file in attached() {
        if file.shared.token() == 0 && !file.released.load(Ordering::Acquire) {
            if let Ok(token) = file.server.share(file.handle) {
                file.shared.set_token(token);
            }
        }
    }
}

/// The open files this process has attached, one per description.
pub(crate) fn attached() -> Vec<Arc<OpenFile>> {
    let me = shared::pid();
    let mut files: Vec<Arc<OpenFile>> = table()
        .iter()
        .flatten()
        .filter_map(|s| s.file.clone())
        .filter(|f| f.owner == me)
        .collect();
    files.sort_by_key(|f| f.shared.key());
    files.dedup_by_key(|f| f.shared.key());
    files
}

/// The file status flags of a virtual descriptor (`F_GETFL`), from its
/// description: no server is asked, so this works even when the file can
/// no longer be reached.
pub(crate) fn status(fd: c_int) -> Result<c_int, Errno> {
    Ok(slot(fd).ok_or(libc::EBADF)?.shared.status())
}

/// `F_SETFL` on a virtual descriptor's description.
pub(crate) fn set_status(fd: c_int, flags: c_int) -> Result<(), Errno> {
    let shared = slot(fd).ok_or(libc::EBADF)?.shared;
    let old = shared.status();
    shared.set_status((old & !SETFL_MASK) | (flags & SETFL_MASK));
    Ok(())
}

/// Whether any descriptor of this process was ever virtual.
pub(crate) fn ever() -> bool {
    EVER.load(Ordering::Acquire)
}

/// `/REMOTE@NAME/path` of the file a virtual descriptor was opened on,
/// from its description (no server is asked).
pub(crate) fn remote_text(fd: c_int) -> Option<Vec<u8>> {
    Some(slot(fd)?.shared.remote_text())
}

/// Whether `fd` is on the close-on-exec list (of the kernel, which keeps it).
pub(crate) fn cloexec(fd: c_int) -> Option<bool> {
    // SAFETY: F_GETFD takes no argument.
    let flags = unsafe { libc::syscall(libc::SYS_fcntl, fd, libc::F_GETFD) };
    (flags >= 0).then_some(flags & libc::FD_CLOEXEC as libc::c_long != 0)
}

/// Sets the close-on-exec flag of a virtual descriptor.
pub(crate) fn set_cloexec(fd: c_int, on: bool) -> Result<(), Errno> {
    let flag = if on { libc::FD_CLOEXEC } else { 0 };
    // SAFETY: F_SETFD takes an int argument.
    syscall_result(unsafe { libc::syscall(libc::SYS_fcntl, fd, libc::F_SETFD, flag) }).map(drop)
}

/// Records `fd` as a virtual descriptor; returns what it replaced.
fn register(fd: c_int, slot: Slot) -> Option<Slot> {
    let n = usize::try_from(fd).ok()?;
    let old = {
        let mut table = table();
        if table.len() <= n {
            table.resize_with(n + 1, || None);
        }
        let old = table.get_mut(n)?.replace(slot);
        set_bit(n, true);
        EVER.store(true, Ordering::Release);
        old
    };
    crate::std_streams::attach(fd);
    old
}

/// Records an inherited descriptor of `shared`, not yet attached.
pub(crate) fn adopt(fd: c_int, shared: Arc<Shared>) {
    drop(register(fd, Slot { shared, file: None }));
}

/// Forgets a virtual descriptor without touching the kernel's; returns its
/// open file if this process had attached it.
///
/// A standard stream on `fd` is flushed and given back first, and the
/// process's POSIX locks on the file go, as with any close. The bit is
/// cleared before the caller closes the kernel descriptor, so that no other
/// thread can see the number as virtual once the kernel reuses it.
pub(crate) fn unregister(fd: c_int) -> Option<Arc<OpenFile>> {
    if !is_virtual(fd) {
        return None;
    }
    crate::std_streams::detach(fd);
    let n = usize::try_from(fd).ok()?;
    let slot = {
        let mut table = table();
        set_bit(n, false);
        table.get_mut(n)?.take()
    };
    let file = slot?.file.filter(|f| f.owner == shared::pid())?;
    crate::locks::closing(&file);
    Some(file)
}

/// Makes a new description for a handle this process just opened; returns
/// its descriptor, the lowest free number.
pub(crate) fn create(
    server: &'static Server,
    handle: u64,
    ino: u64,
    recipe: &Recipe<'_>,
    cloexec: bool,
) -> Result<c_int, Errno> {
    let made = Shared::create(recipe, cloexec);
    let (shared, fd) = match made {
        Ok(made) => made,
        Err(e) => {
            let _ = server.close(handle);
            return Err(e);
        }
    };
    let shared = Arc::new(shared);
    let file = Arc::new(OpenFile::new(server, handle, ino, Arc::clone(&shared)));
    if usize::try_from(fd).map_or(true, |n| n >= LIMIT) {
        close_kernel(fd);
        return Err(libc::EMFILE);
    }
    // A number the kernel just handed out cannot be registered already.
    drop(register(
        fd,
        Slot {
            shared,
            file: Some(file),
        },
    ));
    Ok(fd)
}

/// `dup` and `F_DUPFD`: a new descriptor of `fd`'s description, the lowest
/// free number at or above `min`.
pub(crate) fn dup(fd: c_int, min: c_int, cloexec: bool) -> Result<c_int, Errno> {
    let slot = slot(fd).ok_or(libc::EBADF)?;
    let cmd = if cloexec {
        libc::F_DUPFD_CLOEXEC
    } else {
        libc::F_DUPFD
    };
    // SAFETY: F_DUPFD takes an int argument and touches no memory.
    let new = syscall_result(unsafe { libc::syscall(libc::SYS_fcntl, fd, cmd, min) })?;
    let new = c_int::try_from(new).map_err(|_| libc::EMFILE)?;
    if usize::try_from(new).map_or(true, |n| n >= LIMIT) {
        close_kernel(new);
        return Err(libc::EMFILE);
    }
    drop(register(new, slot));
    Ok(new)
}

/// `dup2` and `dup3` from a virtual `old` onto another number `new`, which
/// is closed first whatever it was.
pub(crate) fn dup_onto(old: c_int, new: c_int, cloexec: bool) -> Result<c_int, Errno> {
    if usize::try_from(new).map_or(true, |n| n >= LIMIT) {
        return Err(libc::EBADF);
    }
    let slot = slot(old).ok_or(libc::EBADF)?;
    let replaced = unregister(new);
    let flags = if cloexec { libc::O_CLOEXEC } else { 0 };
    // SAFETY: dup3 takes two descriptors and a flag; it touches no memory.
    syscall_result(unsafe { libc::syscall(libc::SYS_dup3, old, new, flags) })?;
    drop(register(new, slot));
    drop(replaced);
    Ok(new)
}

/// Closes a virtual descriptor: the kernel's number, and this process's
/// handle if this was its last descriptor of the description.
pub(crate) fn close(fd: c_int) -> Result<(), Errno> {
    if !is_virtual(fd) {
        return Err(libc::EBADF);
    }
    let file = unregister(fd);
    close_kernel(fd);
    match file.and_then(Arc::into_inner) {
        Some(last) => last.release(),
        None => Ok(()),
    }
}

/// Closes a kernel descriptor of this library's own, ignoring errors.
fn close_kernel(fd: c_int) {
    // SAFETY: closing a descriptor this library owns touches no memory.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&TABLE)
}
