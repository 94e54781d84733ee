//! Directory streams: `opendir`, `fdopendir`, `readdir`, `closedir`, `dirfd`
//! and friends.
//!
//! glibc's `DIR` is opaque, so a remote stream is a pointer to this library's
//! own [`RemoteDir`], and a registry of those pointers tells them apart from
//! the C library's; while no remote stream is open, a counter answers
//! "local" without taking the registry's lock.
//!
//! Entries are read ahead in batches, one request per batch: `READDIRPLUS`
//! on a 1.1 session, whose attributes go to the read-ahead of `ahead` (so
//! that stat calls on the entries just read need no request), `READDIR` on
//! a 1.0 one. The server does not send `.` and `..`; the stream puts them
//! first, as Linux does.
//! Positions (`d_off`, `telldir`) are 1 after `.`, 2 after `..`, and 3 plus
//! the server's cookie after an entry from the server.

use core::ffi::{c_char, c_int, c_long};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use libc::{DIR, dirent, dirent64};

use crate::errno::{guard, guard_code};
use crate::remote::Errno;
use crate::route;
use crate::vfd::{self, OpenFile};
use crate::{ahead, next, open};

/// The addresses of the open remote streams.
static REGISTRY: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// How many remote streams are open.
static OPEN: AtomicUsize = AtomicUsize::new(0);

/// Position after the synthesised `..`, where the server's listing starts.
const SERVER_START: u64 = 2;

/// A remote directory stream.
struct RemoteDir {
    /// The virtual descriptor the stream owns.
    fd: c_int,
    /// The open directory.
    file: Arc<OpenFile>,
    /// The inode number of the directory, for `.` and `..`.
    ino: u64,
    /// Position after the last entry handed out.
    pos: u64,
    /// Entries read ahead: (ino, position after it, d_type, name).
    ahead: VecDeque<(u64, u64, u8, Vec<u8>)>,
    /// The server has no entries after those read ahead.
    eof: bool,
    /// The entry `readdir` returned last; its address is what the caller gets.
    entry: dirent64,
}

fn registry() -> MutexGuard<'static, Vec<usize>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The remote stream behind `dir`, if it is one.
fn remote(dir: *mut DIR) -> Option<*mut RemoteDir> {
    if OPEN.load(Ordering::Acquire) == 0 || dir.is_null() {
        return None;
    }
    let addr = dir as usize;
    registry()
        .contains(&addr)
        .then_some(dir.cast::<RemoteDir>())
}

/// Makes a stream over the remote directory descriptor `fd`.
fn stream(fd: c_int) -> Result<*mut DIR, Errno> {
    let file = vfd::file(fd)?;
    if file.is_path_only() {
        return Err(libc::EBADF);
    }
    if !file.is_dir {
        return Err(libc::ENOTDIR);
    }
    let ino = file
        .server
        .stat(file.handle, b"", orfa_wire::PathFlags::NONE)?
        .ino
        .get();
    let dir = Box::new(RemoteDir {
        fd,
        file,
        ino,
        pos: 0,
        ahead: VecDeque::new(),
        eof: false,
        // SAFETY: `dirent64` is plain integers and bytes, for which zero is valid.
        entry: unsafe { core::mem::zeroed() },
    });
    let ptr = Box::into_raw(dir);
    registry().push(ptr as usize);
    OPEN.fetch_add(1, Ordering::AcqRel);
    Ok(ptr.cast::<DIR>())
}

impl RemoteDir {
    /// This stream's identity for the read-ahead of attributes.
    fn id(&self) -> usize {
        core::ptr::from_ref(self) as usize
    }

    /// Moves to position `pos`, dropping what was read ahead.
    fn seek(&mut self, pos: u64) {
        self.pos = pos;
        self.ahead.clear();
        self.eof = false;
        ahead::forget_stream(self.id());
    }

    /// Reads the next batch after the server's `cookie` into `ahead`.
    fn fetch(&mut self, cookie: u64) -> Result<(), Errno> {
        let server = self.file.server;
        let batch = server.list(self.file.handle, cookie)?;
        let with_attrs = batch
            .entries
            .iter()
            .filter_map(|e| Some((e.name.as_slice(), e.attr?)));
        ahead::keep(self.id(), server, &self.file.path, with_attrs);
        let eof = batch.eof;
        let entries: Vec<_> = batch
            .entries
            .into_iter()
            .map(|e| (e.ino, e.cookie, e.dtype, e.name))
            .collect();
        if entries.is_empty() && !eof {
            // The server made no progress; better an error than a loop.
            return Err(libc::EIO);
        }
        self.eof = eof;
        self.ahead
            .extend(entries.into_iter().map(|(ino, cookie, dtype, name)| {
                (ino, cookie.saturating_add(SERVER_START + 1), dtype, name)
            }));
        Ok(())
    }

    /// The next entry, `None` at the end of the listing.
    fn next(&mut self) -> Result<Option<*mut dirent64>, Errno> {
        // A child forked while the stream was open reads with its own handle.
        self.file = vfd::here(&self.file)?;
        if self.pos < SERVER_START {
            let (name, pos): (&[u8], u64) = if self.pos == 0 { (b".", 1) } else { (b"..", 2) };
            self.fill(self.ino, pos, libc::DT_DIR, name);
            return Ok(Some(&raw mut self.entry));
        }
        if self.ahead.is_empty() && !self.eof {
            self.fetch(self.pos.saturating_sub(SERVER_START + 1))?;
        }
        let Some((ino, pos, dtype, name)) = self.ahead.pop_front() else {
            return Ok(None);
        };
        self.fill(ino, pos, dtype, &name);
        Ok(Some(&raw mut self.entry))
    }

    /// Makes `entry` describe one directory entry and moves past it.
    fn fill(&mut self, ino: u64, pos: u64, dtype: u8, name: &[u8]) {
        let e = &mut self.entry;
        let len = name.len().min(e.d_name.len() - 1);
        for (dst, &src) in e.d_name.iter_mut().zip(name.iter().take(len)) {
            *dst = src as c_char;
        }
        if let Some(nul) = e.d_name.get_mut(len) {
            *nul = 0;
        }
        let header = core::mem::offset_of!(dirent64, d_name);
        e.d_ino = ino;
        e.d_off = i64::try_from(pos).unwrap_or(i64::MAX);
        e.d_reclen = ((header + len + 1 + 7) & !7) as u16;
        e.d_type = dtype;
        self.pos = pos;
    }
}

/// `opendir`: remote paths open a remote stream.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn opendir(path: *const c_char) -> *mut DIR {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::path(path) } {
        // SAFETY: forwarded call.
        None => unsafe { next::opendir(route::local(path).as_ptr()) },
        Some(r) => guard(core::ptr::null_mut(), || {
            let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
            let fd = open::open_remote(r?, flags, 0)?;
            stream(fd).inspect_err(|_| {
                let _ = vfd::close(fd);
            })
        }),
    }
}

/// `fdopendir`: a remote directory descriptor becomes a remote stream.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn fdopendir(fd: c_int) -> *mut DIR {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::fdopendir(fd) };
    }
    guard(core::ptr::null_mut(), || stream(fd))
}

/// The next entry of a remote stream, or null (errno set on error only).
fn next_remote(dir: *mut RemoteDir) -> *mut dirent64 {
    guard(core::ptr::null_mut(), || {
        // SAFETY: `dir` is registered, so it is a live `RemoteDir` that the
        // caller does not use from another thread at the same time (POSIX).
        let dir = unsafe { &mut *dir };
        Ok(dir.next()?.unwrap_or(core::ptr::null_mut()))
    })
}

/// `readdir`: the next entry of a remote stream.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn readdir(dir: *mut DIR) -> *mut dirent {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::readdir(dir) },
        // `struct dirent` and `struct dirent64` have one layout on x86-64.
        Some(r) => next_remote(r).cast::<dirent>(),
    }
}

/// `readdir64`: the next entry of a remote stream.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn readdir64(dir: *mut DIR) -> *mut dirent64 {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::readdir64(dir) },
        Some(r) => next_remote(r),
    }
}

/// The reentrant form: copies the entry into the caller's.
///
/// # Safety
///
/// `entry` and `result` are valid for writing.
unsafe fn next_remote_r(
    dir: *mut RemoteDir,
    entry: *mut dirent64,
    result: *mut *mut dirent64,
) -> c_int {
    guard_code(|| {
        // SAFETY: as in `next_remote`.
        let found = unsafe { &mut *dir }.next()?;
        let out = match found {
            Some(e) => {
                // SAFETY: `e` points into the live stream; `entry` is the
                // caller's buffer for one entry.
                unsafe { entry.write(e.read()) };
                entry
            }
            None => core::ptr::null_mut(),
        };
        // SAFETY: the caller's contract.
        unsafe { result.write(out) };
        Ok(())
    })
}

/// `readdir_r`: the deprecated reentrant `readdir`.
///
/// # Safety
///
/// As the C function: `entry` and `result` valid for writing.
#[unsafe(no_mangle)]
unsafe extern "C" fn readdir_r(
    dir: *mut DIR,
    entry: *mut dirent,
    result: *mut *mut dirent,
) -> c_int {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::readdir_r(dir, entry, result) },
        // SAFETY: forwarded contract; the two structures share one layout.
        Some(r) => unsafe { next_remote_r(r, entry.cast(), result.cast()) },
    }
}

/// `readdir64_r`: the deprecated reentrant `readdir64`.
///
/// # Safety
///
/// As the C function: `entry` and `result` valid for writing.
#[unsafe(no_mangle)]
unsafe extern "C" fn readdir64_r(
    dir: *mut DIR,
    entry: *mut dirent64,
    result: *mut *mut dirent64,
) -> c_int {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::readdir64_r(dir, entry, result) },
        // SAFETY: forwarded contract.
        Some(r) => unsafe { next_remote_r(r, entry, result) },
    }
}

/// `closedir`: frees a remote stream and closes its descriptor.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`, not used afterwards.
#[unsafe(no_mangle)]
pub(crate) unsafe extern "C" fn closedir(dir: *mut DIR) -> c_int {
    let Some(r) = remote(dir) else {
        // SAFETY: forwarded call.
        return unsafe { next::closedir(dir) };
    };
    guard(-1, || {
        registry().retain(|&a| a != r as usize);
        OPEN.fetch_sub(1, Ordering::AcqRel);
        // SAFETY: `r` came from `Box::into_raw` in `stream` and has just left
        // the registry, so nothing else will free it.
        let stream = unsafe { Box::from_raw(r) };
        ahead::forget_stream(stream.id());
        let fd = stream.fd;
        drop(stream);
        vfd::close(fd)?;
        Ok(0)
    })
}

/// `dirfd`: the virtual descriptor of a remote stream.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`.
#[unsafe(no_mangle)]
unsafe extern "C" fn dirfd(dir: *mut DIR) -> c_int {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::dirfd(dir) },
        // SAFETY: registered, so live.
        Some(r) => unsafe { (*r).fd },
    }
}

/// `rewinddir`: back to the start of a remote listing.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`.
#[unsafe(no_mangle)]
unsafe extern "C" fn rewinddir(dir: *mut DIR) {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::rewinddir(dir) },
        // SAFETY: registered, so live.
        Some(r) => unsafe { (*r).seek(0) },
    }
}

/// `telldir`: the position after the last entry of a remote stream.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`.
#[unsafe(no_mangle)]
unsafe extern "C" fn telldir(dir: *mut DIR) -> c_long {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::telldir(dir) },
        // SAFETY: registered, so live.
        Some(r) => i64::try_from(unsafe { (*r).pos }).unwrap_or(c_long::MAX),
    }
}

/// `seekdir`: back to a position `telldir` gave.
///
/// # Safety
///
/// `dir` is a stream from `opendir` or `fdopendir`.
#[unsafe(no_mangle)]
unsafe extern "C" fn seekdir(dir: *mut DIR, pos: c_long) {
    match remote(dir) {
        // SAFETY: forwarded call.
        None => unsafe { next::seekdir(dir, pos) },
        // SAFETY: registered, so live.
        Some(r) => unsafe { (*r).seek(u64::try_from(pos).unwrap_or(0)) },
    }
}

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&REGISTRY)
}
