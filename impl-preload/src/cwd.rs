//! A remote current directory: `chdir`, `fchdir` and `getcwd`.
//!
//! The kernel cannot hold a remote directory as a process's current
//! directory, so this library holds it: relative paths taken from the
//! current directory then go to the server, and `getcwd` answers
//! `/REMOTE@NAME/path`.
//!
//! Meanwhile the kernel's current directory is moved to a "sink": an empty
//! directory of this library's own that has been removed. Anything that
//! reaches the kernel with a relative path (a C-library-internal call, a raw
//! system call) then fails with `ENOENT` instead of silently reading,
//! creating or deleting local files of the same name.
//!
//! The sink's path spells the remote directory, which is how a program
//! exec'd from a remote directory finds it: when the library loads in a
//! process whose current directory was removed, it reads that path back
//! from `/proc/self/cwd` and adopts the remote directory. The remote path is
//! written in a few long names rather than one directory per component, so
//! that entering a sink costs a handful of `mkdir`s however deep the remote
//! directory is: `/tmp/.orfa-cwd-PID-N/+CHUNK/+CHUNK...`, where the chunks
//! together are `/REMOTE@NAME/path` with every `/` written as byte 1 (and a
//! byte 1 or 2 of a name written after an escape byte 2). The directories
//! are removed as soon as the process is in the deepest, so a killed process
//! leaves nothing behind. A remote path too long to be spelt so gets a plain
//! sink, and exec'd programs stay in it (FIXME(#4)).
//!
//! After a `fork`, the child opens its own handle of the directory on first
//! use (see `vfd`).

use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::errno::{guard, syscall_result};
use crate::remote::Errno;
use crate::route;
use crate::vfd::{self, OpenFile};
use crate::{next, open};

/// Whether the current directory is remote: the one load local paths pay.
static REMOTE: AtomicBool = AtomicBool::new(false);

/// The remote current directory, when there is one.
static CWD: Mutex<Option<Arc<OpenFile>>> = Mutex::new(None);

/// Makes the names of sink directories unique within the process.
static SINKS: AtomicU32 = AtomicU32::new(0);

fn cwd() -> MutexGuard<'static, Option<Arc<OpenFile>>> {
    CWD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether the current directory is remote.
#[inline]
pub(crate) fn is_remote() -> bool {
    REMOTE.load(Ordering::Acquire)
}

/// The remote current directory, open on this process's connection (a
/// child after `fork` opens its own handle here).
pub(crate) fn get() -> Option<Arc<OpenFile>> {
    if !is_remote() {
        return None;
    }
    let dir = cwd().clone()?;
    if dir.usable().is_ok() {
        return Some(dir);
    }
    let here = vfd::here(&dir).ok()?;
    let mut slot = cwd();
    if slot.as_ref().is_some_and(|d| Arc::ptr_eq(d, &dir)) {
        *slot = Some(Arc::clone(&here));
    }
    Some(here)
}

/// The name that starts a sink's path below its temporary directory.
const SINK_TAG: &str = ".orfa-cwd-";

/// Makes `dir` the current directory.
fn set_remote(dir: Arc<OpenFile>) -> Result<(), Errno> {
    if !dir.is_dir {
        return Err(libc::ENOTDIR);
    }
    enter_sink(&remote_text(&dir))?;
    let old = cwd().replace(dir);
    REMOTE.store(true, Ordering::Release);
    drop(old);
    Ok(())
}

/// Forgets the remote directory after the kernel's current directory changed.
fn set_local() {
    if !is_remote() {
        return;
    }
    REMOTE.store(false, Ordering::Release);
    let old = cwd().take();
    drop(old);
}

/// A raw system call on a NUL-terminated path.
fn path_call(nr: libc::c_long, path: &[u8], arg: libc::c_long) -> Result<(), Errno> {
    // SAFETY: every caller passes a NUL-terminated path; the kernel only reads it.
    syscall_result(unsafe { libc::syscall(nr, path.as_ptr(), arg) }).map(drop)
}

/// Moves the kernel's current directory into a removed directory whose path
/// spells `remote` (or, if that cannot be made, into a plain one).
fn enter_sink(remote: &[u8]) -> Result<(), Errno> {
    let pid = std::process::id();
    let n = SINKS.fetch_add(1, Ordering::Relaxed);
    let chunks = spell(remote);
    let mut last = libc::EACCES;
    for base in ["/tmp", "/dev/shm", "/var/tmp"] {
        let top = format!("{base}/{SINK_TAG}{pid}-{n}").into_bytes();
        let fits = top.len() + chunks.iter().map(|c| c.len() + 1).sum::<usize>() <= MAX_SINK;
        for spelt in [fits, false] {
            match make_sink(&top, if spelt { &chunks } else { &[] }) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// The longest sink path: `/proc/self/cwd` must read back whole.
const MAX_SINK: usize = libc::PATH_MAX as usize - 64;

/// The longest chunk of a spelt path (a name is at most 255 bytes).
const CHUNK: usize = 240;

/// Starts each chunk, so that none reads `.` or `..`.
const CHUNK_MARK: u8 = b'+';

/// Stands for `/` in a spelt path.
const SLASH: u8 = 1;

/// Escapes a byte [`SLASH`] or [`ESCAPE`] of the remote path.
const ESCAPE: u8 = 2;

/// The names of the directories below a sink's top that spell `remote`.
fn spell(remote: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut chunk = vec![CHUNK_MARK];
    for &b in remote {
        let token: &[u8] = match b {
            b'/' => &[SLASH],
            SLASH => &[ESCAPE, SLASH],
            ESCAPE => &[ESCAPE, ESCAPE],
            _ => core::slice::from_ref(&b),
        };
        if chunk.len() + token.len() > CHUNK {
            chunks.push(core::mem::replace(&mut chunk, vec![CHUNK_MARK]));
        }
        chunk.extend_from_slice(token);
    }
    if chunk.len() > 1 {
        chunks.push(chunk);
    }
    chunks
}

/// The remote path that the names below a sink's top (`rest`, starting with
/// `/`) spell.
fn unspell(rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(rest.len());
    let mut escaped = false;
    for chunk in rest.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        for &b in chunk.strip_prefix(&[CHUNK_MARK])? {
            match (escaped, b) {
                (false, ESCAPE) => escaped = true,
                (false, SLASH) => out.push(b'/'),
                (_, b) => {
                    escaped = false;
                    out.push(b);
                }
            }
        }
    }
    Some(out)
}

/// Makes `top` and `chunks` below it, one in the other, enters the deepest,
/// and removes them all again.
fn make_sink(top: &[u8], chunks: &[Vec<u8>]) -> Result<(), Errno> {
    let mut made: Vec<Vec<u8>> = Vec::new();
    let mut path = top.to_vec();
    let mut result = Ok(());
    for chunk in core::iter::once(&Vec::new()).chain(chunks) {
        if !chunk.is_empty() {
            path.push(b'/');
            path.extend_from_slice(chunk);
        }
        let mut c_path = path.clone();
        c_path.push(0);
        result = path_call(libc::SYS_mkdir, &c_path, 0o700);
        if result.is_err() {
            break;
        }
        made.push(c_path);
    }
    if result.is_ok() {
        if let Some(deepest) = made.last() {
            result = path_call(libc::SYS_chdir, deepest, 0);
        }
    }
    for dir in made.iter().rev() {
        let _ = path_call(libc::SYS_rmdir, dir, 0);
    }
    result
}

/// Adopts the remote directory of the program that exec'd this one: the
/// kernel's current directory is a removed sink whose path spells it.
fn inherit() {
    let mut probe = [0u8; 1];
    // SAFETY: `probe` is writable for its length.
    let ret = unsafe { libc::syscall(libc::SYS_getcwd, probe.as_mut_ptr(), probe.len()) };
    // ENOENT: the current directory was removed, as a sink is.
    if ret >= 0 || crate::errno::get() != libc::ENOENT {
        return;
    }
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 32];
    let link = c"/proc/self/cwd";
    // SAFETY: `link` is NUL-terminated; `buf` is writable for its length.
    let len = unsafe {
        libc::syscall(
            libc::SYS_readlinkat,
            libc::AT_FDCWD,
            link.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    let Ok(len) = usize::try_from(len) else {
        return;
    };
    buf.truncate(len);
    let Some(remote) = spelt_remote(&buf) else {
        return;
    };
    let Ok(path) = std::ffi::CString::new(remote) else {
        return;
    };
    // SAFETY: `path` is a C string.
    if let Some(Ok(r)) = unsafe { route::path(path.as_ptr()) } {
        let _ = chdir_remote(r);
    }
}

/// The remote directory a sink's path spells: `…/.orfa-cwd-PID-N/+CHUNK…`
/// followed by the kernel's ` (deleted)`.
fn spelt_remote(sink: &[u8]) -> Option<Vec<u8>> {
    let tag = SINK_TAG.as_bytes();
    let at = sink.windows(tag.len()).position(|w| w == tag)?;
    let rest = sink.get(at..)?;
    let slash = rest.iter().position(|&b| b == b'/')?;
    let rest = rest.get(slash..)?;
    let rest = rest.strip_suffix(b" (deleted)").unwrap_or(rest);
    let remote = unspell(rest)?;
    remote.starts_with(b"/REMOTE@").then_some(remote)
}

/// Runs [`inherit`] when the library is loaded; any failure leaves the
/// process in the sink, where relative paths fail with `ENOENT`.
extern "C" fn on_load() {
    let saved = crate::errno::get();
    let _ = std::panic::catch_unwind(inherit);
    crate::errno::set(saved);
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;

/// Opens a remote directory to become the current one.
fn chdir_remote(r: route::RemotePath) -> Result<c_int, Errno> {
    let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC;
    let fd = open::open_remote(r, flags, 0)?;
    let dir = vfd::get(fd);
    // The descriptor was only a way to the open file.
    let _ = vfd::close(fd);
    set_remote(dir.ok_or(libc::EBADF)?)?;
    Ok(0)
}

/// `chdir`: a remote directory becomes the current directory of this library.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn chdir(path: *const c_char) -> c_int {
    // SAFETY: the caller passes a C string or null.
    match unsafe { route::path(path) } {
        Some(r) => guard(-1, || chdir_remote(r?)),
        None => {
            // SAFETY: forwarded call.
            let ret = unsafe { next::chdir(route::local(path).as_ptr()) };
            if ret == 0 {
                set_local();
            }
            ret
        }
    }
}

/// `fchdir`: a remote directory descriptor becomes the current directory.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn fchdir(fd: c_int) -> c_int {
    if vfd::is_virtual(fd) {
        return guard(-1, || {
            let dir = vfd::get(fd).ok_or(libc::EBADF)?;
            dir.usable()?;
            set_remote(dir)?;
            Ok(0)
        });
    }
    // SAFETY: forwarded call.
    let ret = unsafe { next::fchdir(fd) };
    if ret == 0 {
        set_local();
    }
    ret
}

/// The text `getcwd` gives for the remote directory `dir`.
fn remote_text(dir: &OpenFile) -> Vec<u8> {
    let mut text = b"/REMOTE@".to_vec();
    text.extend_from_slice(dir.server.name());
    if !dir.path.is_empty() {
        text.push(b'/');
        text.extend_from_slice(&dir.path);
    }
    text
}

/// `getcwd`: the remote directory as `/REMOTE@NAME/path`; a null buffer is
/// allocated with `malloc` (of `size` bytes, or as needed if `size` is 0).
///
/// # Safety
///
/// `buf` is null or valid for `size` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn getcwd(buf: *mut c_char, size: libc::size_t) -> *mut c_char {
    let Some(dir) = get() else {
        // SAFETY: forwarded call.
        return unsafe { next::getcwd(buf, size) };
    };
    guard(core::ptr::null_mut(), || {
        let text = remote_text(&dir);
        let needed = text.len() + 1;
        let (out, room) = if buf.is_null() {
            let room = if size == 0 { needed } else { size };
            // SAFETY: malloc has no preconditions; the caller frees the result.
            let p = unsafe { libc::malloc(room) }.cast::<c_char>();
            if p.is_null() {
                return Err(libc::ENOMEM);
            }
            (p, room)
        } else if size == 0 {
            return Err(libc::EINVAL);
        } else {
            (buf, size)
        };
        if room < needed {
            if buf.is_null() {
                // SAFETY: allocated just above.
                unsafe { libc::free(out.cast()) };
            }
            return Err(libc::ERANGE);
        }
        // SAFETY: `out` holds `room` >= `needed` bytes.
        unsafe {
            core::ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len());
            out.add(text.len()).write(0);
        }
        Ok(out)
    })
}

/// `get_current_dir_name`: as `getcwd` with an allocated buffer.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn get_current_dir_name() -> *mut c_char {
    if !is_remote() {
        // SAFETY: forwarded call.
        return unsafe { next::get_current_dir_name() };
    }
    // SAFETY: a null buffer is allowed.
    unsafe { getcwd(core::ptr::null_mut(), 0) }
}

#[cfg(test)]
mod tests;
