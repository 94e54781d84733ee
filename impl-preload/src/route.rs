//! Local or remote: where a path, relative to a directory descriptor, leads.
//!
//! A path is remote when, made absolute with the current directory and
//! simplified lexically (repeated slashes, `.`, `..`), its first component is
//! `REMOTE@NAME`; the rest names a file in the export of server `NAME`.
//! Simplification is lexical as in the shell: `/REMOTE@srv/..` is `/`, a
//! local path, and no `..` ever reaches a server. A relative path is also
//! remote when it is taken relative to a remote directory descriptor, or to
//! a remote current directory (see `cwd`).
//!
//! The common case must cost next to nothing: a path that does not contain
//! `REMOTE@` anywhere, taken relative to the current directory or to a local
//! descriptor, is local without any allocation or system call.

use core::ffi::{CStr, c_char, c_int};
use std::sync::Arc;

use orfa_client_core::path;

use crate::cwd;
use crate::remote::{self, Errno, Server};
use crate::vfd::{self, OpenFile};

/// A path on a server: a base handle and a path relative to it.
#[derive(Debug)]
pub(crate) struct RemotePath {
    /// The server holding the file.
    pub(crate) server: &'static Server,
    /// The base handle (`0`: the export's root).
    pub(crate) base: u64,
    /// The path relative to `base`, simplified; empty names `base` itself.
    pub(crate) path: Vec<u8>,
    /// The path from the export's root, for diagnostics and for later `..`.
    pub(crate) full: Vec<u8>,
    /// The open directory `base` belongs to, kept open for the call.
    _base_file: Option<Arc<OpenFile>>,
}

/// Where a path leads: `None` for a local path, else the remote path or why it
/// cannot be used.
pub(crate) type Route = Option<Result<RemotePath, Errno>>;

/// Whether the C string may name something remote, without reading it twice.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
unsafe fn mentions_prefix(path: *const c_char) -> bool {
    // SAFETY: both are NUL-terminated strings.
    !unsafe { libc::strstr(path, c"REMOTE@".as_ptr()) }.is_null()
}

/// Where `path` leads, taken relative to the current directory.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
pub(crate) unsafe fn path(path: *const c_char) -> Route {
    // SAFETY: forwarded contract.
    unsafe { at(libc::AT_FDCWD, path, false) }
}

/// Where `path` leads, taken relative to `dirfd` as the `*at` functions do.
/// With `empty_ok` (`AT_EMPTY_PATH`), an empty path names `dirfd` itself.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
pub(crate) unsafe fn at(dirfd: c_int, path: *const c_char, empty_ok: bool) -> Route {
    if path.is_null() {
        return None;
    }
    let remote_dir = vfd::is_virtual(dirfd);
    let remote_cwd = dirfd == libc::AT_FDCWD && cwd::is_remote();
    // SAFETY: `path` is a non-null NUL-terminated string.
    if !remote_dir && !remote_cwd && !unsafe { mentions_prefix(path) } {
        return None;
    }
    // SAFETY: as above.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    if bytes.first() == Some(&b'/') {
        return absolute(bytes);
    }
    if remote_dir {
        return match vfd::get(dirfd) {
            Some(dir) => relative_to(dir, bytes, empty_ok),
            None => Some(Err(libc::EBADF)),
        };
    }
    if remote_cwd {
        return match cwd::get() {
            Some(dir) => relative_to(dir, bytes, empty_ok),
            None => Some(Err(libc::ENOENT)),
        };
    }
    if dirfd != libc::AT_FDCWD {
        // Relative to a local directory: local, whatever the names say.
        return None;
    }
    let mut joined = current_dir()?;
    joined.push(b'/');
    joined.extend_from_slice(bytes);
    absolute(&joined)
}

/// The route of an absolute path.
fn absolute(bytes: &[u8]) -> Route {
    let simple = path::simplify(bytes);
    let (name, rest) = path::split_remote(&simple)?;
    Some(remote::server(name).map(|server| RemotePath {
        server,
        base: orfa_wire::ROOT_HANDLE,
        full: rest.to_vec(),
        path: rest.to_vec(),
        _base_file: None,
    }))
}

/// The route of a relative path taken from the remote directory `dir`.
///
/// A path without `..` goes to the server relative to `dir`'s handle; one
/// with `..` is resolved lexically from `dir`'s own path, as for any other
/// absolute path (so it may even lead out of the export, to a local path).
fn relative_to(dir: Arc<OpenFile>, bytes: &[u8], empty_ok: bool) -> Route {
    if bytes.is_empty() {
        if !empty_ok {
            return Some(Err(libc::ENOENT));
        }
        return Some(Ok(RemotePath {
            server: dir.server,
            base: dir.handle,
            path: Vec::new(),
            full: dir.path.clone(),
            _base_file: Some(dir),
        }));
    }
    if !dir.is_dir {
        return Some(Err(libc::ENOTDIR));
    }
    if bytes.split(|&b| b == b'/').any(|c| c == b"..") {
        let mut abs = path::REMOTE_PREFIX.to_vec();
        abs.extend_from_slice(dir.server.name());
        abs.push(b'/');
        abs.extend_from_slice(&dir.path);
        return absolute(&path::join(&abs, bytes));
    }
    let inner = path::simplify(bytes);
    let inner = inner.strip_prefix(b"/").unwrap_or(&inner).to_vec();
    let mut full = dir.path.clone();
    if !full.is_empty() && !inner.is_empty() {
        full.push(b'/');
    }
    full.extend_from_slice(&inner);
    Some(Ok(RemotePath {
        server: dir.server,
        base: dir.handle,
        path: inner,
        full,
        _base_file: Some(dir),
    }))
}

/// The current directory of the process, from the kernel (never through the C
/// library, whose `getcwd` could be wrapped); `None` if it has none.
fn current_dir() -> Option<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize + 1];
    // SAFETY: `buf` is writable for its whole length.
    let len = unsafe { libc::syscall(libc::SYS_getcwd, buf.as_mut_ptr(), buf.len()) };
    // The kernel returns the length including the NUL.
    let len = usize::try_from(len).ok()?.checked_sub(1)?;
    buf.truncate(len);
    (buf.first() == Some(&b'/')).then_some(buf)
}
