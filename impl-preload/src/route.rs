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
//! A path that names something local only after simplification
//! (`/REMOTE@srv/../etc/hostname`, or `../tmp` from a remote current
//! directory) must reach the C library simplified, since the kernel knows
//! nothing of `/REMOTE@srv`: a wrapper passes [`local`] (or [`local_at`]) of
//! its path on, never the path as given.
//!
//! A path that ends with `/` (or whose last component is `.` or `..`) names
//! a directory: [`RemotePath::must_be_dir`] keeps that after simplification,
//! and the wrappers check it as Linux does (`ENOTDIR` for `stat("f/")`).
//!
//! The common case must cost next to nothing: a path that does not contain
//! `REMOTE@` anywhere, taken relative to the current directory or to a local
//! descriptor, is local without any allocation or system call.

use core::ffi::{CStr, c_char, c_int};
use std::ffi::CString;
use std::sync::Arc;

use orfa_client_core::path;
use orfa_wire::{FileType, PathFlags};

use crate::cwd;
use crate::remote::{self, Errno, Server, SignalsBlocked};
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
    /// The path as given ended with `/` (or `.`, `..`): it must name a
    /// directory (or a symbolic link to one).
    pub(crate) must_be_dir: bool,
    /// The open directory `base` belongs to, kept open for the call.
    _base_file: Option<Arc<OpenFile>>,
    /// Signals stay blocked while the call uses the path (see `errno::guard`).
    _signals: SignalsBlocked,
}

impl RemotePath {
    /// Fails with `ENOTDIR` if the path must name a directory and does not
    /// (one `STAT`, only for such paths); `ENOENT` if it names nothing.
    pub(crate) fn check_dir(&self) -> Result<(), Errno> {
        if !self.must_be_dir {
            return Ok(());
        }
        let attr = self.server.stat(self.base, &self.path, PathFlags::NONE)?;
        if FileType::from_mode(attr.mode.get()) != FileType::DIR {
            return Err(libc::ENOTDIR);
        }
        Ok(())
    }

    /// The `open(2)` flags for this path: a path that must name a directory
    /// is opened with `O_DIRECTORY`, and cannot be created (`EISDIR`).
    pub(crate) fn open_flags(&self, flags: c_int) -> Result<c_int, Errno> {
        if !self.must_be_dir {
            return Ok(flags);
        }
        if flags & libc::O_CREAT != 0 {
            return Err(libc::EISDIR);
        }
        Ok(flags | libc::O_DIRECTORY)
    }
}

/// Whether a path as given names a directory by its form: it ends with `/`,
/// or its last component is `.` or `..`.
fn names_dir(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && matches!(
            bytes.rsplit(|&b| b == b'/').next(),
            Some(b"" | b"." | b"..")
        )
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
        if !vfd::ever() {
            return None;
        }
        // SAFETY: as above.
        let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
        let text = descriptor_link_text(bytes)?;
        let _signals = SignalsBlocked::new();
        return absolute(&text, false);
    }
    // Routing allocates: a handler that makes remote calls must not run
    // meanwhile (see `errno::guard`).
    let _signals = SignalsBlocked::new();
    // SAFETY: as above.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    if bytes.len() >= libc::PATH_MAX as usize {
        // As the kernel counts: the path as given, `/REMOTE@NAME` included.
        return Some(Err(libc::ENAMETOOLONG));
    }
    if bytes.first() == Some(&b'/') {
        return absolute(bytes, names_dir(bytes));
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
    let mut joined = if dirfd == libc::AT_FDCWD {
        current_dir()?
    } else {
        // A local directory, and a path that names `REMOTE@` somewhere: the
        // path may lead into a server all the same (rsync walks from `/`
        // one component at a time, relative to a descriptor of `/`).
        descriptor_path(dirfd)?
    };
    joined.push(b'/');
    joined.extend_from_slice(bytes);
    absolute(&joined, names_dir(bytes))
}

/// The descriptor a path names through the kernel's links to open files
/// (`/dev/stdin`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`,
/// `/proc/self/fd/N`, `/proc/thread-self/fd/N`, `/proc/PID/fd/N` of this
/// process), if it is a virtual one. The kernel would open the library's
/// memfd there; the file it stands for is opened instead, as Linux opens
/// the file behind such a link anew.
pub(crate) fn descriptor_link(bytes: &[u8]) -> Option<c_int> {
    let number = match bytes {
        b"/dev/stdin" => Some(0),
        b"/dev/stdout" => Some(1),
        b"/dev/stderr" => Some(2),
        _ => None,
    };
    let fd = match number {
        Some(fd) => fd,
        None => {
            let rest = if let Some(rest) = bytes.strip_prefix(b"/dev/fd/") {
                rest
            } else {
                let rest = bytes.strip_prefix(b"/proc/")?;
                let slash = rest.iter().position(|&b| b == b'/')?;
                let (who, rest) = rest.split_at(slash);
                let me = std::process::id().to_string();
                if who != b"self" && who != b"thread-self" && who != me.as_bytes() {
                    return None;
                }
                // `/proc/self/task/TID/fd/N` is the process's table too.
                let rest = match rest.strip_prefix(b"/task/") {
                    Some(task) => &task[task.iter().position(|&b| b == b'/')?..],
                    None => rest,
                };
                rest.strip_prefix(b"/fd/")?
            };
            if rest.is_empty() || rest.len() > 9 || !rest.iter().all(u8::is_ascii_digit) {
                return None;
            }
            core::str::from_utf8(rest).ok()?.parse().ok()?
        }
    };
    vfd::is_virtual(fd).then_some(fd)
}

/// `/REMOTE@NAME/path` of the remote file a kernel link to an open file
/// stands for: one of this process's virtual descriptors (see
/// [`descriptor_link`]), or, through `/proc/PID/fd/N` of another process
/// (a parent's, say), a description of this library's there.
pub(crate) fn descriptor_link_text(bytes: &[u8]) -> Option<Vec<u8>> {
    if let Some(fd) = descriptor_link(bytes) {
        return vfd::remote_text(fd);
    }
    let rest = bytes.strip_prefix(b"/proc/")?;
    if !rest.first()?.is_ascii_digit() || !rest.windows(4).any(|w| w == b"/fd/") {
        return None;
    }
    let mut link = bytes.to_vec();
    link.push(0);
    if !crate::shared::is_description_link(&link) {
        return None;
    }
    let shared = crate::shared::Shared::adopt_link(&link).ok()?;
    Some(shared.remote_text())
}

/// The route of an absolute path.
fn absolute(bytes: &[u8], must_be_dir: bool) -> Route {
    let simple = path::simplify(bytes);
    let (name, rest) = path::split_remote(&simple)?;
    Some(remote::server(name).map(|server| RemotePath {
        server,
        base: orfa_wire::ROOT_HANDLE,
        full: rest.to_vec(),
        path: rest.to_vec(),
        must_be_dir,
        _base_file: None,
        _signals: SignalsBlocked::new(),
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
            must_be_dir: false,
            _base_file: Some(dir),
            _signals: SignalsBlocked::new(),
        }));
    }
    if !dir.is_dir {
        return Some(Err(libc::ENOTDIR));
    }
    if bytes.split(|&b| b == b'/').any(|c| c == b"..") {
        return absolute(&path::join(&dir_text(&dir), bytes), names_dir(bytes));
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
        must_be_dir: names_dir(bytes),
        _base_file: Some(dir),
        _signals: SignalsBlocked::new(),
    }))
}

/// The text `/REMOTE@NAME/path` of an open remote directory.
fn dir_text(dir: &OpenFile) -> Vec<u8> {
    let mut abs = path::REMOTE_PREFIX.to_vec();
    abs.extend_from_slice(dir.server.name());
    abs.push(b'/');
    abs.extend_from_slice(&dir.path);
    abs
}

/// The path a wrapper passes to the C library for a path that [`path()`] or
/// [`at`] found local: the caller's own, or its simplified text when it
/// went through a remote name on its way out.
#[derive(Debug)]
pub(crate) struct LocalPath {
    original: *const c_char,
    simplified: Option<CString>,
}

impl LocalPath {
    /// The C string to pass on; valid while `self` lives.
    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.simplified
            .as_ref()
            .map_or(self.original, |s| s.as_ptr())
    }
}

/// The path to pass to the C library for a local `path` taken relative to
/// the current directory (see [`LocalPath`]).
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
pub(crate) unsafe fn local(path: *const c_char) -> LocalPath {
    // SAFETY: forwarded contract.
    unsafe { local_at(libc::AT_FDCWD, path) }
}

/// The path to pass to the C library for a local `path` taken relative to
/// `dirfd` (see [`LocalPath`]). A rewritten path is absolute, so `dirfd`
/// no longer matters to the C library.
///
/// # Safety
///
/// `path` is null or a NUL-terminated string.
pub(crate) unsafe fn local_at(dirfd: c_int, path: *const c_char) -> LocalPath {
    let keep = LocalPath {
        original: path,
        simplified: None,
    };
    if path.is_null() {
        return keep;
    }
    let remote_dir = vfd::is_virtual(dirfd);
    let remote_cwd = dirfd == libc::AT_FDCWD && cwd::is_remote();
    // SAFETY: `path` is a non-null NUL-terminated string.
    if !remote_dir && !remote_cwd && !unsafe { mentions_prefix(path) } {
        return keep;
    }
    // SAFETY: as above.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    let abs = if bytes.first() == Some(&b'/') {
        bytes.to_vec()
    } else if remote_dir || remote_cwd {
        let dir = if remote_dir {
            vfd::get(dirfd)
        } else {
            cwd::get()
        };
        match dir {
            Some(dir) => path::join(&dir_text(&dir), bytes),
            None => return keep,
        }
    } else if dirfd != libc::AT_FDCWD {
        return keep;
    } else {
        let Some(mut joined) = current_dir() else {
            return keep;
        };
        joined.push(b'/');
        joined.extend_from_slice(bytes);
        joined
    };
    if !remote_dir && !remote_cwd && !enters_remote(&abs) {
        return keep;
    }
    let mut simple = path::simplify(&abs);
    if path::split_remote(&simple).is_some() {
        return keep;
    }
    if names_dir(bytes) && simple != b"/" {
        simple.push(b'/');
    }
    LocalPath {
        original: path,
        simplified: CString::new(simple).ok(),
    }
}

/// Whether the absolute path `abs`, read component by component, is at some
/// point inside `/REMOTE@NAME` (and so only this library can make sense of
/// it). A local path that merely contains `REMOTE@` deeper down is left to
/// the kernel, which resolves its symbolic links and `..` itself.
fn enters_remote(abs: &[u8]) -> bool {
    let mut depth = 0usize;
    for component in abs.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => depth = depth.saturating_sub(1),
            name => {
                if depth == 0
                    && name
                        .strip_prefix(&path::REMOTE_PREFIX[1..])
                        .is_some_and(|n| !n.is_empty())
                {
                    return true;
                }
                depth += 1;
            }
        }
    }
    false
}

/// The path of the local directory descriptor `fd`, from the kernel; `None`
/// if it has none (not a directory, or removed).
fn descriptor_path(fd: c_int) -> Option<Vec<u8>> {
    let link = format!("/proc/self/fd/{fd}\0");
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `link` is NUL-terminated and `buf` writable for its length.
    let len = unsafe {
        libc::syscall(
            libc::SYS_readlinkat,
            libc::AT_FDCWD,
            link.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    buf.truncate(usize::try_from(len).ok()?);
    (buf.first() == Some(&b'/') && !buf.ends_with(b" (deleted)")).then_some(buf)
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
