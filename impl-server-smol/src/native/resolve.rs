//! The jail: every lookup of a client's path, confined to the export.
//!
//! All lookups go through `openat2(2)` with `RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS`: the kernel refuses, with `EXDEV`, any `..`,
//! absolute symbolic link or relative symbolic link whose resolution leaves
//! the starting directory, and refuses `/proc` magic links outright. That
//! `EXDEV` becomes [`ErrorCode::ESCAPE`].
//!
//! A relative path starts at its base handle. `RESOLVE_BENEATH` confines it
//! to that directory, which is narrower than the export: `../x` from a
//! handle on `a/b`, or a symbolic link `a/b/l -> ../c`, are inside the
//! export but above the base. Such a lookup is retried from the export root
//! with the base's current path (read from `/proc/self/fd`) prefixed, still
//! under `RESOLVE_BENEATH`. Reading the path at that moment, rather than
//! remembering the path the handle was opened with, keeps the answer right
//! after the base directory was renamed; a rename racing with the lookup
//! itself can at worst make it resolve the old place, still inside the jail.
//!
//! Operations on a final name (create, remove, rename) resolve only the
//! parent directory this way and then call the `*at` system call on the last
//! component, which never follows a final symbolic link.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use orfa_server_core::{BackendResult, Base};
use orfa_wire::ErrorCode;

use super::sys::{self, Errno};
use super::{NativeFs, NativeNode};

/// The `RESOLVE_*` flags of every lookup.
const RESOLVE: u64 = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;

/// How often a lookup is retried when the kernel saw a concurrent rename
/// (`EAGAIN`, which `RESOLVE_BENEATH` lookups may give).
const RENAME_RETRIES: usize = 8;

/// A client's byte string as a C string; an embedded NUL is invalid.
pub(super) fn c_string(bytes: &[u8]) -> BackendResult<CString> {
    CString::new(bytes).map_err(|_| ErrorCode::INVAL)
}

/// The error code of a failed lookup: leaving the jail is [`ErrorCode::ESCAPE`].
fn lookup_error(e: Errno) -> ErrorCode {
    if e.0 == libc::EXDEV {
        ErrorCode::ESCAPE
    } else {
        e.into()
    }
}

/// Where a path starts: the handle it is relative to (`None`: the export root)
/// and the path without its leading slashes. An absolute path starts at the
/// root whatever its base, as with `openat(2)`.
fn start<'a, 'n>(base: Base<'n, NativeNode>, path: &'a [u8]) -> (Base<'n, NativeNode>, &'a [u8]) {
    let rel = trim_leading_slashes(path);
    if rel.len() == path.len() {
        (base, rel)
    } else {
        (None, rel)
    }
}

fn trim_leading_slashes(path: &[u8]) -> &[u8] {
    let skip = path.iter().take_while(|&&b| b == b'/').count();
    path.get(skip..).unwrap_or_default()
}

fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let keep = path.len() - path.iter().rev().take_while(|&&b| b == b'/').count();
    path.get(..keep).unwrap_or_default()
}

impl NativeFs {
    /// The export root's descriptor.
    pub(super) fn root_fd(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Opens `path` relative to `base` inside the export, with `open(2)`
    /// flags `flags` (and `mode` if they create). A final symbolic link is
    /// followed (jailed) unless `flags` has `O_NOFOLLOW`. An empty path
    /// names `base` itself.
    pub(super) fn lookup(
        &self,
        base: Base<'_, NativeNode>,
        path: &[u8],
        flags: i32,
        mode: u32,
    ) -> BackendResult<OwnedFd> {
        let (base, rel) = start(base, path);
        if rel.is_empty() {
            return self.lookup_self(base, flags);
        }
        let rel_c = c_string(rel)?;
        let Some(node) = base else {
            return self
                .openat2(self.root_fd(), &rel_c, flags, mode)
                .map_err(lookup_error);
        };
        match self.openat2(node.fd.as_fd(), &rel_c, flags, mode) {
            Err(Errno(libc::EXDEV)) => {
                let mut joined = self.path_in_export(node.fd.as_fd())?;
                if !joined.is_empty() {
                    joined.push(b'/');
                }
                joined.extend_from_slice(rel);
                let joined = c_string(&joined)?;
                self.openat2(self.root_fd(), &joined, flags, mode)
                    .map_err(lookup_error)
            }
            other => other.map_err(lookup_error),
        }
    }

    /// The directory holding the final component of `path`, and that
    /// component's name. An empty name (the path names its base) is
    /// [`ErrorCode::NOENT`].
    pub(super) fn lookup_parent(
        &self,
        base: Base<'_, NativeNode>,
        path: &[u8],
    ) -> BackendResult<(OwnedFd, CString)> {
        let (base, rel) = start(base, path);
        let trimmed = trim_trailing_slashes(rel);
        let (parent, name) = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(i) => (
                trimmed.get(..i).unwrap_or_default(),
                trimmed.get(i + 1..).unwrap_or_default(),
            ),
            None => (&[][..], trimmed),
        };
        if name.is_empty() {
            return Err(ErrorCode::NOENT);
        }
        // One trailing slash is kept: the kernel then requires a directory
        // (unlink of "file/" fails with ENOTDIR) and still follows nothing.
        let mut name = name.to_vec();
        if trimmed.len() < rel.len() {
            name.push(b'/');
        }
        let name = c_string(&name)?;
        // `parent` keeps no leading slash, so it stays relative to `base`.
        let dir = self.lookup(base, parent, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        Ok((dir, name))
    }

    /// A new descriptor of `base`'s own object (the empty path).
    fn lookup_self(&self, base: Base<'_, NativeNode>, flags: i32) -> BackendResult<OwnedFd> {
        let Some(node) = base else {
            return self
                .openat2(self.root_fd(), c".", flags, 0)
                .map_err(lookup_error);
        };
        if flags & libc::O_PATH != 0 {
            return node
                .fd
                .try_clone()
                .map_err(|e| ErrorCode::from_errno(e.raw_os_error().unwrap_or(libc::EIO)));
        }
        // A handle's object is inside the export: reopening it through its
        // /proc entry (a new open file description with the wanted mode)
        // cannot leave the jail. Creation flags mean nothing here, and
        // O_NOFOLLOW would refuse the /proc link itself.
        let flags = flags & !(libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW);
        sys::reopen(node.fd.as_fd(), flags).map_err(ErrorCode::from)
    }

    /// `openat2(2)` under the jail's resolve flags, retried while the kernel
    /// reports a concurrent rename.
    fn openat2(
        &self,
        dir: BorrowedFd<'_>,
        path: &CStr,
        flags: i32,
        mode: u32,
    ) -> Result<OwnedFd, Errno> {
        let mut tries = 0;
        loop {
            match sys::openat2(dir, path, flags, mode, RESOLVE) {
                Err(Errno(libc::EAGAIN)) if tries < RENAME_RETRIES => tries += 1,
                other => return other,
            }
        }
    }

    /// The path of the directory `fd` refers to, relative to the export
    /// root ("" for the root itself). A directory no longer below the root
    /// is [`ErrorCode::ESCAPE`].
    fn path_in_export(&self, fd: BorrowedFd<'_>) -> BackendResult<Vec<u8>> {
        let root = fd_path(self.root_fd())?;
        let dir = fd_path(fd)?;
        if dir == root {
            return Ok(Vec::new());
        }
        let prefix: &[u8] = if root == b"/" { b"" } else { &root };
        match dir.strip_prefix(prefix).and_then(|r| r.strip_prefix(b"/")) {
            Some(rel) => Ok(rel.to_vec()),
            None => Err(ErrorCode::ESCAPE),
        }
    }
}

/// The absolute path the kernel gives for a descriptor.
fn fd_path(fd: BorrowedFd<'_>) -> BackendResult<Vec<u8>> {
    let link = sys::proc_fd_path(fd);
    let os = std::ffi::OsStr::from_bytes(link.as_bytes());
    match std::fs::read_link(os) {
        Ok(path) => Ok(path.into_os_string().into_encoded_bytes()),
        Err(e) => Err(ErrorCode::from_errno(e.raw_os_error().unwrap_or(libc::EIO))),
    }
}
