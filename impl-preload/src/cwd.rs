//! A remote current directory: `chdir`, `fchdir` and `getcwd`.
//!
//! The kernel cannot hold a remote directory as a process's current
//! directory, so this library holds it: relative paths taken from the
//! current directory then go to the server, and `getcwd` answers
//! `/REMOTE@NAME/path`.
//!
//! Meanwhile the kernel's current directory is moved to a "sink" (see
//! `sink`): a removed directory whose path spells the remote one. Anything
//! that reaches the kernel with a relative path (a C-library-internal call,
//! a raw system call) then fails with `ENOENT` instead of silently reading,
//! creating or deleting local files of the same name; and a program exec'd
//! from a remote directory reads the remote directory back from
//! `/proc/self/cwd` when the library loads, and adopts it.
//!
//! After a `fork`, the child opens its own handle of the directory on first
//! use (see `vfd`).

use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::errno::guard;
use crate::remote::Errno;
use crate::vfd::{self, OpenFile};
use crate::{next, open};
use crate::{route, sink};

/// Whether the current directory is remote: the one load local paths pay.
static REMOTE: AtomicBool = AtomicBool::new(false);

/// The remote current directory, when there is one.
static CWD: Mutex<Option<Arc<OpenFile>>> = Mutex::new(None);

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
    let here = if dir.usable().is_err() {
        vfd::here(&dir).ok()?
    } else if !dir.server.is_live(dir.handle) {
        // Its connection was lost: the directory is opened again by its
        // path, so that a shell left in it goes on working.
        vfd::renew(&dir).ok()?
    } else {
        return Some(dir);
    };
    let mut slot = cwd();
    if slot.as_ref().is_some_and(|d| Arc::ptr_eq(d, &dir)) {
        *slot = Some(Arc::clone(&here));
    }
    Some(here)
}

/// Makes `dir` the current directory.
fn set_remote(dir: Arc<OpenFile>) -> Result<(), Errno> {
    if !dir.is_dir {
        return Err(libc::ENOTDIR);
    }
    sink::enter(&remote_text(&dir))?;
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
    let Some(remote) = sink::spelt(&buf) else {
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
            let dir = vfd::file(fd)?;
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

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&CWD)
}
