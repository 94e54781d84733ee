//! The kernel object behind each remote open file description.
//!
//! A remote `open` makes a small memfd holding what the description's users
//! share (the server's name, the path from the export's root, how to open it
//! again, the status flags and the file offset) and gives the program an
//! `O_PATH` descriptor of that memfd. The kernel then does for remote files
//! what it does for its own: keeps the number taken, duplicates it (`dup`,
//! `fork`), passes it across `exec` unless it is close-on-exec, and lets
//! every process that holds it share one state, since each maps the memfd
//! shared. A read or write that escapes this library (a raw system call, a
//! C-library-internal call) fails with `EBADF` on an `O_PATH` descriptor
//! instead of reading or writing the state's bytes.
//!
//! The memfd holds a [`Header`], then the server's name, then the path. Only
//! the lock, the offset, the status flags and the token change after
//! creation, and only through atomics.

use core::ffi::c_int;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};

use crate::errno::syscall_result;
use crate::remote::Errno;

/// Marks a memfd as a description of this library's.
const MAGIC: u64 = u64::from_le_bytes(*b"ORFA-FD\x01");

/// The layout's version: a process only adopts the version it knows.
const VERSION: u32 = 3;

/// What `/proc/self/fd/N` reads for a descriptor of such a memfd.
pub(crate) const LINK: &[u8] = b"/memfd:orfa-fd (deleted)";

/// Set in the lock word while other processes wait for it.
const CONTENDED: u32 = 1 << 31;

/// How long a waiter sleeps before checking that the holder still lives.
const LOCK_NAP_NS: i64 = 20_000_000;

/// The fixed part of the state.
#[repr(C)]
struct Header {
    magic: u64,
    version: u32,
    /// The process holding the offset (with [`CONTENDED`]), or 0.
    lock: AtomicU32,
    offset: AtomicU64,
    /// The file status flags, as `F_GETFL` reports them.
    status: AtomicI32,
    /// The `open` flags that open the file again (no creation, no truncation).
    reopen: c_int,
    is_dir: u32,
    name_len: u32,
    path_len: u32,
    _pad: u32,
    /// The file's inode number on the server, to tell that a re-opened
    /// path still names the same file.
    ino: u64,
    /// The server's token for the open file (`SHARE`), with which another
    /// process attaches to it; 0 until a process shares it.
    token: AtomicU64,
}

const HEADER_LEN: usize = size_of::<Header>();

/// What a new description records.
pub(crate) struct Recipe<'a> {
    /// The server's name, as after `/REMOTE@`.
    pub(crate) server: &'a [u8],
    /// The path from the export's root.
    pub(crate) path: &'a [u8],
    /// The flags the program opened with.
    pub(crate) open_flags: c_int,
    /// The status flags `F_GETFL` starts with.
    pub(crate) status: c_int,
    /// Whether the file is a directory.
    pub(crate) is_dir: bool,
    /// The file's inode number on the server.
    pub(crate) ino: u64,
}

/// One process's mapping of a description's state.
#[derive(Debug)]
pub(crate) struct Shared {
    header: NonNull<Header>,
    len: usize,
    /// The memfd's inode number: the same for every descriptor of the
    /// description, in every process.
    key: u64,
}

// SAFETY: after creation the mapping is only changed through the atomics of
// `Header`; the rest is read-only, so sharing it between threads is sound.
unsafe impl Send for Shared {}
// SAFETY: as for `Send`.
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `map` with this length and is
        // referenced by nothing else once its owner is dropped.
        unsafe { libc::munmap(self.header.as_ptr().cast(), self.len) };
    }
}

/// A raw `close`, ignoring errors (the descriptor is gone either way).
fn close(fd: c_int) {
    // SAFETY: closing a descriptor this module opened touches no memory.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// This process's id once asked for; 0 until then and in a new child.
static PID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

/// The calling process's id. Every request checks it (a forked child must
/// never write into its parent's connection), so it is kept rather than
/// asked of the kernel each time; [`forget_pid`] runs in every forked child.
pub(crate) fn pid() -> u32 {
    use core::sync::atomic::Ordering::Relaxed;
    let cached = PID.load(Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: getpid takes no argument and cannot fail.
    let pid = unsafe { libc::syscall(libc::SYS_getpid) as u32 };
    PID.store(pid, Relaxed);
    pid
}

/// Forgets the kept process id: the caller is a new child.
pub(crate) fn forget_pid() {
    PID.store(0, core::sync::atomic::Ordering::Relaxed);
}

/// Whether the kernel link `link` (a NUL-terminated `/proc/PID/fd/N`)
/// leads to a description of this library's: it reads [`LINK`].
pub(crate) fn is_description_link(link: &[u8]) -> bool {
    let mut target = [0u8; 64];
    let len = if link.last() == Some(&0) {
        // SAFETY: `link` is NUL-terminated (checked); `target` is writable
        // for its length.
        unsafe {
            libc::syscall(
                libc::SYS_readlinkat,
                libc::AT_FDCWD,
                link.as_ptr(),
                target.as_mut_ptr(),
                target.len(),
            )
        }
    } else {
        -1
    };
    usize::try_from(len)
        .ok()
        .and_then(|len| target.get(..len))
        .is_some_and(|t| t == LINK)
}

/// `/proc/self/fd/N`, NUL-terminated.
fn proc_link(fd: c_int) -> Vec<u8> {
    format!("/proc/self/fd/{fd}\0").into_bytes()
}

/// Maps `fd` (a read-write descriptor of a memfd) shared; returns the
/// mapping, its length and the memfd's inode number.
fn map(fd: c_int) -> Result<(NonNull<Header>, usize, u64), Errno> {
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `st` is a live local of the kernel's layout.
    syscall_result(unsafe { libc::syscall(libc::SYS_fstat, fd, &raw mut st) })?;
    let len = usize::try_from(st.st_size).map_err(|_| libc::EINVAL)?;
    if len < HEADER_LEN {
        return Err(libc::EINVAL);
    }
    // SAFETY: a new shared mapping of `len` bytes of `fd`; the kernel picks
    // the address, so no existing memory is affected.
    let ptr = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(crate::errno::get());
    }
    let header = NonNull::new(ptr.cast::<Header>()).ok_or(libc::ENOMEM)?;
    Ok((header, len, st.st_ino))
}

impl Shared {
    /// Makes a description: its memfd, filled with `recipe`, and an `O_PATH`
    /// descriptor of it at the lowest free number (close-on-exec if asked).
    pub(crate) fn create(recipe: &Recipe<'_>, cloexec: bool) -> Result<(Self, c_int), Errno> {
        let name_len = u32::try_from(recipe.server.len()).map_err(|_| libc::ENAMETOOLONG)?;
        let path_len = u32::try_from(recipe.path.len()).map_err(|_| libc::ENAMETOOLONG)?;
        let len = HEADER_LEN + recipe.server.len() + recipe.path.len();
        // SAFETY: the name is a C string; the flag is valid.
        let mem = unsafe {
            libc::syscall(
                libc::SYS_memfd_create,
                c"orfa-fd".as_ptr(),
                libc::MFD_CLOEXEC,
            )
        };
        let mem = c_int::try_from(syscall_result(mem)?).map_err(|_| libc::EMFILE)?;
        let made = Self::fill(mem, len, recipe, name_len, path_len)
            .and_then(|shared| Ok((shared, path_only(mem, cloexec)?)));
        if made.is_err() {
            close(mem);
        }
        made
    }

    /// Sizes and maps the new memfd `mem`, and writes the state into it.
    fn fill(
        mem: c_int,
        len: usize,
        recipe: &Recipe<'_>,
        name_len: u32,
        path_len: u32,
    ) -> Result<Self, Errno> {
        let size = i64::try_from(len).map_err(|_| libc::EINVAL)?;
        // SAFETY: ftruncate takes integers only.
        syscall_result(unsafe { libc::syscall(libc::SYS_ftruncate, mem, size) })?;
        let (header, len, key) = map(mem)?;
        let head = Header {
            magic: MAGIC,
            version: VERSION,
            lock: AtomicU32::new(0),
            offset: AtomicU64::new(0),
            status: AtomicI32::new(recipe.status),
            reopen: recipe.open_flags
                & !(libc::O_CREAT | libc::O_EXCL | libc::O_TRUNC | libc::O_CLOEXEC),
            is_dir: u32::from(recipe.is_dir),
            name_len,
            path_len,
            _pad: 0,
            ino: recipe.ino,
            token: AtomicU64::new(0),
        };
        // SAFETY: the mapping is `len` bytes, page-aligned, and nobody else
        // knows it yet: the header and both strings fit (len was sized so).
        unsafe {
            header.as_ptr().write(head);
            let bytes = header.as_ptr().cast::<u8>().add(HEADER_LEN);
            core::ptr::copy_nonoverlapping(recipe.server.as_ptr(), bytes, recipe.server.len());
            let path = bytes.add(recipe.server.len());
            core::ptr::copy_nonoverlapping(recipe.path.as_ptr(), path, recipe.path.len());
        }
        Ok(Self { header, len, key })
    }

    /// Maps the description behind an inherited descriptor `fd`, if it is one
    /// of this library's (of this layout's version).
    pub(crate) fn adopt(fd: c_int) -> Result<Self, Errno> {
        Self::adopt_link(&proc_link(fd))
    }

    /// Maps the description a `/proc/PID/fd/N` link (NUL-terminated) leads
    /// to, if it is one of this library's (of this layout's version).
    pub(crate) fn adopt_link(link: &[u8]) -> Result<Self, Errno> {
        if link.last() != Some(&0) {
            return Err(libc::EINVAL);
        }
        let flags = libc::O_RDWR | libc::O_CLOEXEC;
        // SAFETY: `link` is NUL-terminated.
        let rw = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, link.as_ptr(), flags) };
        let rw = c_int::try_from(syscall_result(rw)?).map_err(|_| libc::EMFILE)?;
        let mapped = map(rw);
        close(rw);
        let (header, len, key) = mapped?;
        let shared = Self { header, len, key };
        let head = shared.header();
        let wanted = HEADER_LEN + head.name_len as usize + head.path_len as usize;
        if head.magic != MAGIC || head.version != VERSION || wanted > len {
            return Err(libc::EINVAL);
        }
        Ok(shared)
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping holds a header (checked or written on creation)
        // and lives as long as `self`.
        unsafe { self.header.as_ref() }
    }

    /// `len` bytes of the mapping after the header, from `at`.
    fn bytes(&self, at: usize, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        // SAFETY: `adopt` and `fill` checked that the strings lie within the
        // mapping; nobody writes them after creation.
        unsafe {
            let src = self.header.as_ptr().cast::<u8>().add(HEADER_LEN + at);
            core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), len);
        }
        out
    }

    /// The server's name.
    pub(crate) fn server(&self) -> Vec<u8> {
        self.bytes(0, self.header().name_len as usize)
    }

    /// `/REMOTE@NAME/path` of the file.
    pub(crate) fn remote_text(&self) -> Vec<u8> {
        let mut text = b"/REMOTE@".to_vec();
        text.extend_from_slice(&self.server());
        let path = self.path();
        if !path.is_empty() {
            text.push(b'/');
            text.extend_from_slice(&path);
        }
        text
    }

    /// The path from the export's root.
    pub(crate) fn path(&self) -> Vec<u8> {
        let head = self.header();
        self.bytes(head.name_len as usize, head.path_len as usize)
    }

    /// The `open` flags that open the same file again.
    pub(crate) fn reopen_flags(&self) -> c_int {
        self.header().reopen
    }

    /// Whether the file is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        self.header().is_dir != 0
    }

    /// The file's inode number on the server when it was opened.
    pub(crate) fn ino(&self) -> u64 {
        self.header().ino
    }

    /// The server's token for the open file, 0 if nobody shared it yet.
    pub(crate) fn token(&self) -> u64 {
        self.header().token.load(Ordering::Acquire)
    }

    /// Records the token a process got by sharing the open file, unless
    /// another process recorded one first (either attaches to the same file).
    pub(crate) fn set_token(&self, token: u64) {
        let _ = self
            .header()
            .token
            .compare_exchange(0, token, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The memfd's inode number, which identifies the description.
    pub(crate) fn key(&self) -> u64 {
        self.key
    }

    /// The status flags.
    pub(crate) fn status(&self) -> c_int {
        self.header().status.load(Ordering::Relaxed)
    }

    /// Replaces the status flags.
    pub(crate) fn set_status(&self, flags: c_int) {
        self.header().status.store(flags, Ordering::Relaxed);
    }

    /// Takes the offset for a read, write or seek, waiting while another
    /// process holds it. A holder that died is taken over.
    pub(crate) fn lock_offset(&self) -> OffsetLock<'_> {
        let word = &self.header().lock;
        let me = pid() & !CONTENDED;
        let mut want = me;
        loop {
            let cur = match word.compare_exchange(0, want, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => break,
                Err(cur) => cur,
            };
            let holder = cur & !CONTENDED;
            if holder == me {
                // Left held by this process's former image, before an exec.
                break;
            }
            if cur & CONTENDED == 0
                && word
                    .compare_exchange(cur, cur | CONTENDED, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            want = me | CONTENDED;
            if futex_wait(word, cur | CONTENDED) && !alive(holder) {
                let _ =
                    word.compare_exchange(cur | CONTENDED, 0, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
        OffsetLock {
            shared: self,
            value: self.header().offset.load(Ordering::Acquire),
        }
    }
}

/// The offset of a description, held: dereferences to its value, which is
/// stored back and released when dropped.
pub(crate) struct OffsetLock<'a> {
    shared: &'a Shared,
    value: u64,
}

impl core::ops::Deref for OffsetLock<'_> {
    type Target = u64;
    fn deref(&self) -> &u64 {
        &self.value
    }
}

impl core::ops::DerefMut for OffsetLock<'_> {
    fn deref_mut(&mut self) -> &mut u64 {
        &mut self.value
    }
}

impl Drop for OffsetLock<'_> {
    fn drop(&mut self) {
        let head = self.shared.header();
        head.offset.store(self.value, Ordering::Release);
        if head.lock.swap(0, Ordering::Release) & CONTENDED != 0 {
            futex_wake(&head.lock);
        }
    }
}

/// Sleeps while `word` holds `expected`, for at most [`LOCK_NAP_NS`];
/// returns whether the time ran out.
fn futex_wait(word: &AtomicU32, expected: u32) -> bool {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: LOCK_NAP_NS,
    };
    // SAFETY: `word` is a live atomic in a shared mapping; `ts` is a live
    // local the kernel only reads.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &raw const ts,
        )
    };
    ret < 0 && crate::errno::get() == libc::ETIMEDOUT
}

/// Wakes every process sleeping on `word`.
fn futex_wake(word: &AtomicU32) {
    // SAFETY: `word` is a live atomic; FUTEX_WAKE reads nothing else.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, i32::MAX) };
}

/// Whether process `pid` exists.
pub(crate) fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let ret = unsafe { libc::syscall(libc::SYS_kill, pid as libc::pid_t, 0) };
    ret == 0 || crate::errno::get() != libc::ESRCH
}

/// Replaces the memfd descriptor `mem` with an `O_PATH` descriptor of the
/// same memfd, at the same number; returns that number.
fn path_only(mem: c_int, cloexec: bool) -> Result<c_int, Errno> {
    let link = proc_link(mem);
    let flags = libc::O_PATH | libc::O_CLOEXEC;
    // SAFETY: `link` is NUL-terminated.
    let path = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, link.as_ptr(), flags) };
    let path = c_int::try_from(syscall_result(path)?).map_err(|_| libc::EMFILE)?;
    let keep = if cloexec { libc::O_CLOEXEC } else { 0 };
    // SAFETY: dup3 takes two descriptors and a flag; it touches no memory.
    let moved = syscall_result(unsafe { libc::syscall(libc::SYS_dup3, path, mem, keep) });
    close(path);
    moved.map(|_| mem)
}

#[cfg(test)]
mod tests;
