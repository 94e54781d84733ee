//! Extended attributes: the `getxattr`, `setxattr`, `listxattr` and
//! `removexattr` families on paths (`l*`: without following a final
//! symbolic link) and descriptors (`f*`: the handle as base, empty path).
//!
//! Names in the `security.` and `system.` namespaces are not sent: they
//! hold SELinux labels, capabilities and POSIX ACLs, which the kernel that
//! holds the file enforces, and the server, not this host's kernel, checks
//! access to remote files. They are answered `ENOTSUP` here, and left out
//! of lists, as a file system without them would; `ls -l` takes that as
//! "none" and stops asking, so a listing costs no request per entry for
//! them. A 1.0 session has no extended attributes at all (`ENOTSUP`).

use core::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Arc;

use libc::{size_t, ssize_t};
use orfa_wire::{MAX_XATTR_NAME, MAX_XATTR_VALUE, PathFlags};

use crate::errno::guard;
use crate::next;
use crate::remote::{Errno, Server};
use crate::route::{self, RemotePath};
use crate::vfd::{self, OpenFile};

/// The largest list of names the kernel returns (`XATTR_LIST_MAX`).
const LIST_MAX: u64 = 65536;

/// What a call names: a path, or an open file's handle (kept open).
struct Target {
    server: &'static Server,
    base: u64,
    path: Vec<u8>,
    flags: PathFlags,
    _file: Option<Arc<OpenFile>>,
    _route: Option<RemotePath>,
}

impl Target {
    fn of_path(r: RemotePath, flags: PathFlags) -> Result<Self, Errno> {
        r.check_dir()?;
        Ok(Self {
            server: r.server,
            base: r.base,
            path: r.path.clone(),
            flags,
            _file: None,
            _route: Some(r),
        })
    }

    fn of_fd(fd: c_int) -> Result<Self, Errno> {
        let file = vfd::file(fd)?;
        if file.is_path_only() {
            return Err(libc::EBADF);
        }
        Ok(Self {
            server: file.server,
            base: file.handle,
            path: Vec::new(),
            flags: PathFlags::NONE,
            _file: Some(file),
            _route: None,
        })
    }

    /// Fails with `ENOTSUP` unless the session has extended attributes.
    fn supported(&self) -> Result<(), Errno> {
        if self.server.minor()? < 1 {
            return Err(libc::ENOTSUP);
        }
        Ok(())
    }
}

/// Whether a name belongs to a namespace this client does not send.
fn local_only(name: &[u8]) -> bool {
    name.starts_with(b"security.") || name.starts_with(b"system.")
}

/// The attribute name a caller passed, checked as Linux does.
///
/// # Safety
///
/// `name` is null or a NUL-terminated string.
unsafe fn attr_name<'a>(name: *const c_char) -> Result<&'a [u8], Errno> {
    if name.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: the caller's contract.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    if name.is_empty() || name.len() > MAX_XATTR_NAME {
        return Err(libc::ERANGE);
    }
    if local_only(name) {
        return Err(libc::ENOTSUP);
    }
    Ok(name)
}

/// Copies `data` into the caller's buffer of `size` bytes, or answers the
/// length alone when `size` is 0.
///
/// # Safety
///
/// `out` is valid for `size` bytes.
unsafe fn deliver(data: &[u8], out: *mut c_void, size: size_t) -> Result<ssize_t, Errno> {
    if size != 0 {
        if data.len() > size {
            return Err(libc::ERANGE);
        }
        if out.is_null() {
            return Err(libc::EFAULT);
        }
        // SAFETY: `out` holds `size` bytes, at least `data.len()`.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), out.cast::<u8>(), data.len()) };
    }
    Ok(data.len() as ssize_t)
}

/// `getxattr` on a target.
///
/// # Safety
///
/// As [`attr_name`] and [`deliver`].
unsafe fn get(
    t: Target,
    name: *const c_char,
    out: *mut c_void,
    size: size_t,
) -> Result<ssize_t, Errno> {
    // SAFETY: forwarded contract.
    let name = unsafe { attr_name(name) }?;
    t.supported()?;
    let ask = (size as u64).min(MAX_XATTR_VALUE as u64);
    let (len, value) = t.server.getxattr(t.base, &t.path, name, ask, t.flags)?;
    if size == 0 {
        return Ok(len as ssize_t);
    }
    // SAFETY: forwarded contract.
    unsafe { deliver(&value, out, size) }
}

/// `listxattr` on a target: the server's list less the local-only names.
///
/// # Safety
///
/// As [`deliver`].
unsafe fn list_names(t: Target, out: *mut c_char, size: size_t) -> Result<ssize_t, Errno> {
    t.supported()?;
    let (_, names) = t.server.listxattr(t.base, &t.path, LIST_MAX, t.flags)?;
    let kept: Vec<u8> = names
        .split_inclusive(|&b| b == 0)
        .filter(|n| !local_only(n))
        .flatten()
        .copied()
        .collect();
    // SAFETY: forwarded contract.
    unsafe { deliver(&kept, out.cast(), size) }
}

/// `setxattr` on a target.
///
/// # Safety
///
/// `name` as [`attr_name`]; `value` valid for `size` bytes.
unsafe fn set(
    t: Target,
    name: *const c_char,
    value: *const c_void,
    size: size_t,
    flags: c_int,
) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    let name = unsafe { attr_name(name) }?;
    if size > MAX_XATTR_VALUE {
        return Err(libc::E2BIG);
    }
    let mut pflags = t.flags;
    match flags {
        0 => {}
        libc::XATTR_CREATE => pflags |= PathFlags::XATTR_CREATE,
        libc::XATTR_REPLACE => pflags |= PathFlags::XATTR_REPLACE,
        _ => return Err(libc::EINVAL),
    }
    let value = if size == 0 {
        &[][..]
    } else if value.is_null() {
        return Err(libc::EFAULT);
    } else {
        // SAFETY: the caller's contract.
        unsafe { core::slice::from_raw_parts(value.cast::<u8>(), size) }
    };
    t.supported()?;
    t.server.setxattr(t.base, &t.path, name, value, pflags)?;
    Ok(0)
}

/// `removexattr` on a target.
///
/// # Safety
///
/// As [`attr_name`].
unsafe fn remove(t: Target, name: *const c_char) -> Result<c_int, Errno> {
    // SAFETY: forwarded contract.
    let name = unsafe { attr_name(name) }?;
    t.supported()?;
    t.server.removexattr(t.base, &t.path, name, t.flags)?;
    Ok(0)
}

/// Defines the path forms: `$call` runs on the target of a remote path.
macro_rules! xattr_path {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident, $flags:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote paths ask the server.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, $($arg: $ty),*) -> $ret {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                // SAFETY: forwarded call, with the path simplified if it left a server.
                None => unsafe { next::$name(route::local(path).as_ptr(), $($arg),*) },
                Some(r) => guard(-1, || {
                    let t = Target::of_path(r?, $flags)?;
                    // SAFETY: the caller's contract on the other arguments.
                    unsafe { $call(t, $($arg),*) }
                }),
            }
        }
    )*};
}

xattr_path! {
    getxattr(name: *const c_char, value: *mut c_void, size: size_t) -> ssize_t
        = get, PathFlags::NONE;
    lgetxattr(name: *const c_char, value: *mut c_void, size: size_t) -> ssize_t
        = get, PathFlags::NOFOLLOW;
    listxattr(list: *mut c_char, size: size_t) -> ssize_t = list_names, PathFlags::NONE;
    llistxattr(list: *mut c_char, size: size_t) -> ssize_t = list_names, PathFlags::NOFOLLOW;
    setxattr(name: *const c_char, value: *const c_void, size: size_t, flags: c_int) -> c_int
        = set, PathFlags::NONE;
    lsetxattr(name: *const c_char, value: *const c_void, size: size_t, flags: c_int) -> c_int
        = set, PathFlags::NOFOLLOW;
    removexattr(name: *const c_char) -> c_int = remove, PathFlags::NONE;
    lremovexattr(name: *const c_char) -> c_int = remove, PathFlags::NOFOLLOW;
}

/// Defines the descriptor forms: `$call` runs on the descriptor's handle.
macro_rules! xattr_fd {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:ident;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote descriptors ask the server.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, $($arg: $ty),*) -> $ret {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, $($arg),*) };
            }
            guard(-1, || {
                let t = Target::of_fd(fd)?;
                // SAFETY: the caller's contract on the other arguments.
                unsafe { $call(t, $($arg),*) }
            })
        }
    )*};
}

xattr_fd! {
    fgetxattr(name: *const c_char, value: *mut c_void, size: size_t) -> ssize_t = get;
    flistxattr(list: *mut c_char, size: size_t) -> ssize_t = list_names;
    fsetxattr(name: *const c_char, value: *const c_void, size: size_t, flags: c_int) -> c_int
        = set;
    fremovexattr(name: *const c_char) -> c_int = remove;
}
