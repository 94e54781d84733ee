//! Advisory locks on remote files: `fcntl` record locks (`F_SETLK`,
//! `F_SETLKW`, `F_GETLK`) and open-file-description locks (`F_OFD_*`),
//! `flock`, `lockf` and `lockf64`.
//!
//! The server keeps the locks. A POSIX record lock is owned by this
//! process (its pid, on its connection); an open-file-description lock or
//! a `flock` lock by the server handle, which every descriptor duplicated
//! from one open shares. POSIX also says that a process loses all its
//! record locks on a file when it closes any descriptor of that file: the
//! server cannot know which handles are the same file for this process, so
//! this module remembers the files (server and inode) on which the process
//! set record locks, and [`closing`] sends one unlock of the whole file
//! when a descriptor of one of them is closed. Closing other files costs
//! one atomic load.
//!
//! A session of protocol 1.0 has no locks: every lock call fails with
//! `ENOLCK`, which programs read as "locking unavailable".

use core::ffi::{c_int, c_ulong};
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use orfa_wire::{LockOwnerKind, LockType, PathFlags};

use crate::errno::guard;
use crate::next;
use crate::remote::{Errno, LockSpec, Server, SignalsBlocked};
use crate::vfd::{self, OpenFile};

/// The files on which this process may hold POSIX record locks.
struct Locked {
    /// The process the list is about; a forked child starts empty.
    pid: u32,
    /// (server, inode) pairs.
    files: Vec<(usize, u64)>,
}

static LOCKED: Mutex<Locked> = Mutex::new(Locked {
    pid: 0,
    files: Vec::new(),
});

/// Whether `LOCKED` may hold anything: the fast path of [`closing`].
static ANY_LOCKED: AtomicBool = AtomicBool::new(false);

/// The key of a file in `LOCKED`.
fn file_key(file: &OpenFile) -> (usize, u64) {
    (
        core::ptr::from_ref::<Server>(file.server) as usize,
        file.ino,
    )
}

/// Runs `f` on this process's list, with signals blocked so that a handler
/// that closes a descriptor never finds the list locked by its own thread.
fn with_locked<R>(f: impl FnOnce(&mut Vec<(usize, u64)>) -> R) -> R {
    let _signals = SignalsBlocked::new();
    let mut locked = LOCKED.lock().unwrap_or_else(PoisonError::into_inner);
    let pid = std::process::id();
    if locked.pid != pid {
        locked.pid = pid;
        locked.files.clear();
    }
    let result = f(&mut locked.files);
    ANY_LOCKED.store(!locked.files.is_empty(), Ordering::Release);
    result
}

/// Releases the process's record locks as it exits, so that a process that
/// waited for this one finds them gone, as with a local file. The server
/// releases them anyway when the connection closes, but a moment later;
/// that moment remains after `_exit` or a kill. Descriptors and `flock`
/// locks are left alone: the C library still flushes streams after this.
extern "C" fn at_exit() {
    if !ANY_LOCKED.load(Ordering::Acquire) {
        return;
    }
    let mut keys = with_locked(core::mem::take);
    for file in vfd::attached() {
        let key = file_key(&file);
        if let Some(i) = keys.iter().position(|k| *k == key) {
            keys.swap_remove(i);
            release_record_locks(&file);
        }
    }
}

#[used]
#[unsafe(link_section = ".fini_array")]
static AT_EXIT: extern "C" fn() = at_exit;

/// Called when a descriptor of `file` is closed (or replaced): releases the
/// process's record locks on the file if it set any.
pub(crate) fn closing(file: &OpenFile) {
    if !ANY_LOCKED.load(Ordering::Acquire) || file.usable().is_err() {
        return;
    }
    let key = file_key(file);
    let had = with_locked(|files| {
        let before = files.len();
        files.retain(|k| *k != key);
        files.len() != before
    });
    if had {
        release_record_locks(file);
    }
}

/// Unlocks the whole of `file` for this process's record locks. The close
/// or exit that asks succeeds whatever the server says.
fn release_record_locks(file: &OpenFile) {
    let spec = spec(file, LockType::UNLOCK, (0, 0), LockOwnerKind::POSIX);
    let _ = file.server.lock(&spec);
}

/// This process's id, as the owner of its record locks.
fn pid() -> u64 {
    u64::from(std::process::id())
}

fn spec(
    file: &OpenFile,
    lock_type: LockType,
    (start, len): (u64, u64),
    owner_kind: LockOwnerKind,
) -> LockSpec {
    LockSpec {
        handle: file.handle,
        start,
        len,
        lock_type,
        owner_kind,
        pid: if owner_kind == LockOwnerKind::POSIX {
            pid()
        } else {
            0
        },
    }
}

/// A lock request's errors as the C calls report them: a server without
/// locks (`ENOSYS`, protocol 1.0) means "no locks available".
fn lock_errno(e: Errno) -> Errno {
    if e == libc::ENOSYS { libc::ENOLCK } else { e }
}

/// The remote open file behind a descriptor, if locks may be taken on it.
fn lockable(fd: c_int) -> Result<std::sync::Arc<OpenFile>, Errno> {
    let file = vfd::file(fd)?;
    if file.is_path_only() {
        return Err(libc::EBADF);
    }
    Ok(file)
}

/// Sets, changes or releases a lock, waiting if `wait`; remembers the file
/// when the process sets a record lock on it.
fn set(file: &OpenFile, spec: &LockSpec, wait: bool) -> Result<(), Errno> {
    let result = if wait && spec.lock_type != LockType::UNLOCK {
        file.server.lock_wait(spec)
    } else {
        file.server.lock(spec)
    };
    result.map_err(lock_errno)?;
    if spec.owner_kind == LockOwnerKind::POSIX && spec.lock_type != LockType::UNLOCK {
        let key = file_key(file);
        with_locked(|files| {
            if !files.contains(&key) {
                files.push(key);
            }
        });
    }
    Ok(())
}

/// Checks that the descriptor's access mode allows `lock_type`, as Linux
/// does for record locks: reading for a read lock, writing for a write lock.
fn check_access(file: &OpenFile, lock_type: LockType) -> Result<(), Errno> {
    let mode = file.status() & libc::O_ACCMODE;
    let ok = match lock_type {
        LockType::READ => mode != libc::O_WRONLY,
        LockType::WRITE => mode != libc::O_RDONLY,
        _ => true,
    };
    if ok { Ok(()) } else { Err(libc::EBADF) }
}

/// The absolute range of a `struct flock`: `start` relative to `whence`
/// (the file's start, the descriptor's offset, or the file's end), and a
/// length that may be negative (the bytes before `start`) or 0 (to
/// infinity). Returns (start, length) with length 0 for infinity.
fn absolute_range(
    file: &OpenFile,
    whence: c_int,
    start: i64,
    len: i64,
) -> Result<(u64, u64), Errno> {
    let base = match whence {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => i64::try_from(*file.offset()).map_err(|_| libc::EOVERFLOW)?,
        libc::SEEK_END => {
            let attr = file.server.stat(file.handle, b"", PathFlags::NONE)?;
            i64::try_from(attr.size.get()).map_err(|_| libc::EOVERFLOW)?
        }
        _ => return Err(libc::EINVAL),
    };
    let start = base.checked_add(start).ok_or(libc::EOVERFLOW)?;
    let (start, len) = match len {
        0 => (start, 0),
        len if len > 0 => {
            // The last byte, start + len - 1, must be an offset.
            if len - 1 > i64::MAX - start.max(0) {
                return Err(libc::EOVERFLOW);
            }
            (start, len)
        }
        len => (
            start.checked_add(len).ok_or(libc::EINVAL)?,
            len.checked_neg().ok_or(libc::EINVAL)?,
        ),
    };
    if start < 0 {
        return Err(libc::EINVAL);
    }
    Ok((start as u64, len as u64))
}

/// A `struct flock` lock type as the protocol's.
fn lock_type(l_type: c_int) -> Result<LockType, Errno> {
    match l_type {
        libc::F_RDLCK => Ok(LockType::READ),
        libc::F_WRLCK => Ok(LockType::WRITE),
        libc::F_UNLCK => Ok(LockType::UNLOCK),
        _ => Err(libc::EINVAL),
    }
}

/// The lock commands of `fcntl` on a remote descriptor; `arg` points to a
/// `struct flock` (the same as `struct flock64` on this platform).
pub(crate) fn fcntl_lock(fd: c_int, cmd: c_int, arg: c_ulong) -> Result<c_int, Errno> {
    let file = lockable(fd)?;
    let ptr = arg as *mut libc::flock;
    if ptr.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: for these commands the caller passes a pointer to a `struct flock`.
    let mut fl = unsafe { ptr.read() };
    let ofd = matches!(
        cmd,
        libc::F_OFD_GETLK | libc::F_OFD_SETLK | libc::F_OFD_SETLKW
    );
    if ofd && fl.l_pid != 0 {
        return Err(libc::EINVAL);
    }
    let owner = if ofd {
        LockOwnerKind::HANDLE
    } else {
        LockOwnerKind::POSIX
    };
    let kind = lock_type(c_int::from(fl.l_type))?;
    let range = absolute_range(&file, c_int::from(fl.l_whence), fl.l_start, fl.l_len)?;
    let spec = spec(&file, kind, range, owner);
    match cmd {
        libc::F_GETLK | libc::F_OFD_GETLK => {
            if kind == LockType::UNLOCK {
                return Err(libc::EINVAL);
            }
            let info = file.server.getlk(&spec).map_err(lock_errno)?;
            let found = LockType(info.lock_type.get());
            if found == LockType::UNLOCK {
                fl.l_type = libc::F_UNLCK as i16;
            } else {
                fl.l_type = (if found == LockType::WRITE {
                    libc::F_WRLCK
                } else {
                    libc::F_RDLCK
                }) as i16;
                fl.l_whence = libc::SEEK_SET as i16;
                fl.l_start = info.start.get() as i64;
                fl.l_len = info.len.get() as i64;
                // An open-file-description lock has no process: -1, as Linux says.
                fl.l_pid = if LockOwnerKind(info.owner_kind.get()) == LockOwnerKind::POSIX {
                    info.pid.get() as libc::pid_t
                } else {
                    -1
                };
            }
            // SAFETY: as above; the caller's structure is writable.
            unsafe { ptr.write(fl) };
            Ok(0)
        }
        _ => {
            check_access(&file, kind)?;
            let wait = matches!(cmd, libc::F_SETLKW | libc::F_OFD_SETLKW);
            set(&file, &spec, wait)?;
            Ok(0)
        }
    }
}

/// `flock` on a remote descriptor: a whole-file lock of the open file.
fn flock_remote(fd: c_int, op: c_int) -> Result<c_int, Errno> {
    let file = lockable(fd)?;
    let kind = match op & !libc::LOCK_NB {
        libc::LOCK_SH => LockType::READ,
        libc::LOCK_EX => LockType::WRITE,
        libc::LOCK_UN => LockType::UNLOCK,
        _ => return Err(libc::EINVAL),
    };
    let spec = spec(&file, kind, (0, 0), LockOwnerKind::FLOCK);
    set(&file, &spec, op & libc::LOCK_NB == 0)?;
    Ok(0)
}

/// `flock`.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn flock(fd: c_int, op: c_int) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::flock(fd, op) };
    }
    guard(-1, || flock_remote(fd, op))
}

/// `lockf` on a remote descriptor: a POSIX write lock of `len` bytes from
/// the offset (before it if negative, to infinity if 0), or a test.
fn lockf_remote(fd: c_int, cmd: c_int, len: i64) -> Result<c_int, Errno> {
    let file = lockable(fd)?;
    let range = absolute_range(&file, libc::SEEK_CUR, 0, len)?;
    let (kind, wait) = match cmd {
        libc::F_ULOCK => (LockType::UNLOCK, false),
        libc::F_LOCK => (LockType::WRITE, true),
        libc::F_TLOCK => (LockType::WRITE, false),
        libc::F_TEST => {
            let info = file
                .server
                .getlk(&spec(&file, LockType::READ, range, LockOwnerKind::POSIX))
                .map_err(lock_errno)?;
            let free = LockType(info.lock_type.get()) == LockType::UNLOCK;
            return if free { Ok(0) } else { Err(libc::EACCES) };
        }
        _ => return Err(libc::EINVAL),
    };
    check_access(&file, kind)?;
    set(&file, &spec(&file, kind, range, LockOwnerKind::POSIX), wait)?;
    Ok(0)
}

/// `lockf`.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn lockf(fd: c_int, cmd: c_int, len: libc::off_t) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::lockf(fd, cmd, len) };
    }
    guard(-1, || lockf_remote(fd, cmd, len))
}

/// `lockf64`: as `lockf`.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn lockf64(fd: c_int, cmd: c_int, len: libc::off64_t) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::lockf64(fd, cmd, len) };
    }
    guard(-1, || lockf_remote(fd, cmd, len))
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&LOCKED)
}
