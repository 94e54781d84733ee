//! Calls that remote files answer simply: extended attributes (not in the
//! protocol yet), `ioctl`, advice, preallocation and `mmap`; and the copy
//! calls (`copy_file_range`, `sendfile`), emulated so that the kernel never
//! sees a virtual descriptor.

use core::ffi::{c_char, c_int, c_uint, c_ulong, c_void};

use libc::{off_t, off64_t, size_t, ssize_t};

use crate::errno::{guard, guard_code};
use crate::io;
use crate::next;
use crate::remote::Errno;
use crate::route;
use crate::vfd;

/// Defines extended-attribute functions on a path: FIXME(#3) extended
/// attributes are not in the protocol yet, so remote paths answer `ENOTSUP`
/// (which `cp -a`, `tar --xattrs` and `ls` take as "none").
macro_rules! xattr_path {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `ENOTSUP` on remote paths.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(path: *const c_char, $($arg: $ty),*) -> $ret {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                // SAFETY: forwarded call.
                None => unsafe { next::$name(path, $($arg),*) },
                Some(r) => guard(-1, || r.and_then(|_| Err(libc::ENOTSUP))),
            }
        }
    )*};
}

xattr_path! {
    getxattr(name: *const c_char, value: *mut c_void, size: size_t) -> ssize_t;
    lgetxattr(name: *const c_char, value: *mut c_void, size: size_t) -> ssize_t;
    listxattr(list: *mut c_char, size: size_t) -> ssize_t;
    llistxattr(list: *mut c_char, size: size_t) -> ssize_t;
    setxattr(name: *const c_char, value: *const c_void, size: size_t, flags: c_int) -> c_int;
    lsetxattr(name: *const c_char, value: *const c_void, size: size_t, flags: c_int) -> c_int;
    removexattr(name: *const c_char) -> c_int;
    lremovexattr(name: *const c_char) -> c_int;
}

/// Defines extended-attribute functions on a descriptor (`ENOTSUP` remotely).
macro_rules! xattr_fd {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `ENOTSUP` on remote descriptors.")]
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
            guard(-1, || Err(libc::ENOTSUP))
        }
    )*};
}

xattr_fd! {
    fgetxattr(name: *const c_char, value: *mut c_void, size: size_t) -> ssize_t;
    flistxattr(list: *mut c_char, size: size_t) -> ssize_t;
    fsetxattr(name: *const c_char, value: *const c_void, size: size_t, flags: c_int) -> c_int;
    fremovexattr(name: *const c_char) -> c_int;
}

/// `ioctl`: remote descriptors answer `ENOTTY` (`FICLONE` from `cp` among
/// others: it then copies the bytes itself).
///
/// # Safety
///
/// `arg` is what the request expects.
#[unsafe(no_mangle)]
unsafe extern "C" fn ioctl(fd: c_int, request: c_ulong, arg: c_ulong) -> c_int {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::ioctl(fd, request, arg) };
    }
    guard(-1, || Err(libc::ENOTTY))
}

/// Defines `posix_fadvise`-like functions: advice is accepted and ignored.
macro_rules! fadvise {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: advice on remote descriptors is ignored.")]
        ///
        /// # Safety
        ///
        /// None beyond the C function's.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, off: $off, len: $off, advice: c_int) -> c_int {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, off, len, advice) };
            }
            guard_code(|| Ok(()))
        }
    )*};
}

fadvise!(posix_fadvise(off_t), posix_fadvise64(off64_t));

/// Defines `fallocate`-like functions: not supported on remote descriptors.
macro_rules! fallocate {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `EOPNOTSUPP` on remote descriptors.")]
        ///
        /// # Safety
        ///
        /// None beyond the C function's.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, mode: c_int, off: $off, len: $off) -> c_int {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, mode, off, len) };
            }
            guard(-1, || Err(libc::EOPNOTSUPP))
        }
    )*};
}

fallocate!(fallocate(off_t), fallocate64(off64_t));

/// Defines `posix_fallocate`-like functions. The C library's fallback would
/// write through its own internal calls, which never reach this library, so
/// remote descriptors answer `EOPNOTSUPP` (as an error number, not in errno).
macro_rules! posix_fallocate {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `EOPNOTSUPP` on remote descriptors.")]
        ///
        /// # Safety
        ///
        /// None beyond the C function's.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, off: $off, len: $off) -> c_int {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, off, len) };
            }
            guard_code(|| Err(libc::EOPNOTSUPP))
        }
    )*};
}

posix_fallocate!(posix_fallocate(off_t), posix_fallocate64(off64_t));

/// Defines `mmap`-like functions: a remote descriptor cannot be mapped
/// (`ENODEV`); the placeholder behind it must never be.
macro_rules! mmap {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `ENODEV` on remote descriptors.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            addr: *mut c_void,
            len: size_t,
            prot: c_int,
            flags: c_int,
            fd: c_int,
            off: $off,
        ) -> *mut c_void {
            if flags & libc::MAP_ANONYMOUS != 0 || !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(addr, len, prot, flags, fd, off) };
            }
            guard(libc::MAP_FAILED, || Err(libc::ENODEV))
        }
    )*};
}

mmap!(mmap(off_t), mmap64(off64_t));

/// The size of the buffer the copy emulation moves bytes through.
const COPY_CHUNK: usize = 1 << 20;

/// Reads from any descriptor, at `pos` or its offset.
fn read_any(fd: c_int, buf: &mut [u8], pos: Option<u64>) -> Result<usize, Errno> {
    if vfd::is_virtual(fd) {
        return io::read_fd(fd, buf, pos);
    }
    let ptr = buf.as_mut_ptr().cast::<c_void>();
    // SAFETY: `buf` is writable for its length.
    let n = unsafe {
        match pos {
            Some(p) => next::pread64(fd, ptr, buf.len(), p as off64_t),
            None => next::read(fd, ptr, buf.len()),
        }
    };
    usize::try_from(n).map_err(|_| crate::errno::get())
}

/// Writes all of `data` to any descriptor, at `pos` or its offset; returns
/// what was written before an error, or the error if nothing was.
fn write_all_any(fd: c_int, data: &[u8], pos: Option<u64>) -> Result<usize, Errno> {
    let mut done = 0;
    while done < data.len() {
        let rest = data.get(done..).unwrap_or_default();
        let at = pos.map(|p| p + done as u64);
        let n = if vfd::is_virtual(fd) {
            io::write_fd(fd, rest, at)
        } else {
            let ptr = rest.as_ptr().cast::<c_void>();
            // SAFETY: `rest` is readable for its length.
            let n = unsafe {
                match at {
                    Some(p) => next::pwrite64(fd, ptr, rest.len(), p as off64_t),
                    None => next::write(fd, ptr, rest.len()),
                }
            };
            usize::try_from(n).map_err(|_| crate::errno::get())
        };
        match n {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Copies up to `len` bytes between descriptors by reading and writing, as
/// `copy_file_range` and `sendfile` would; positions given by pointer are
/// used and advanced instead of the offsets.
fn copy(
    fd_in: c_int,
    mut pos_in: Option<&mut i64>,
    fd_out: c_int,
    mut pos_out: Option<&mut i64>,
    len: usize,
) -> Result<usize, Errno> {
    let mut buf = vec![0u8; len.clamp(1, COPY_CHUNK)];
    let mut total = 0usize;
    while total < len {
        let want = (len - total).min(buf.len());
        let at_in = pos_in
            .as_deref()
            .map(|&p| u64::try_from(p))
            .transpose()
            .map_err(|_| libc::EINVAL)?;
        let chunk = buf.get_mut(..want).unwrap_or_default();
        let n = match read_any(fd_in, chunk, at_in) {
            Ok(0) => break,
            Ok(n) => n,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e),
        };
        let at_out = pos_out
            .as_deref()
            .map(|&p| u64::try_from(p))
            .transpose()
            .map_err(|_| libc::EINVAL)?;
        let data = chunk.get(..n).unwrap_or_default();
        let written = match write_all_any(fd_out, data, at_out) {
            Ok(w) => w,
            Err(_) if total > 0 => break,
            Err(e) => return Err(e),
        };
        if let Some(p) = pos_in.as_deref_mut() {
            *p += written as i64;
        } else if written < n {
            // Give back what was read but not written.
            let back = written as i64 - n as i64;
            if vfd::is_virtual(fd_in) {
                let _ = io::seek(fd_in, back, libc::SEEK_CUR);
            } else {
                // SAFETY: lseek touches no memory.
                unsafe { next::lseek64(fd_in, back, libc::SEEK_CUR) };
            }
        }
        if let Some(p) = pos_out.as_deref_mut() {
            *p += written as i64;
        }
        total += written;
        if written < n {
            break;
        }
    }
    Ok(total)
}

/// `copy_file_range`: when either side is remote, the bytes are read and
/// written through this library (never `EBADF` from the kernel).
///
/// # Safety
///
/// The offset pointers are null or valid for reading and writing.
#[unsafe(no_mangle)]
unsafe extern "C" fn copy_file_range(
    fd_in: c_int,
    off_in: *mut off64_t,
    fd_out: c_int,
    off_out: *mut off64_t,
    len: size_t,
    flags: c_uint,
) -> ssize_t {
    if !vfd::is_virtual(fd_in) && !vfd::is_virtual(fd_out) {
        // SAFETY: forwarded call.
        return unsafe { next::copy_file_range(fd_in, off_in, fd_out, off_out, len, flags) };
    }
    guard(-1, || {
        if flags != 0 {
            return Err(libc::EINVAL);
        }
        // SAFETY: the caller's contract: null or valid.
        let (pos_in, pos_out) = unsafe { (off_in.as_mut(), off_out.as_mut()) };
        Ok(copy(fd_in, pos_in, fd_out, pos_out, len.min(isize::MAX as usize))? as ssize_t)
    })
}

/// `sendfile`: when either side is remote, emulated as `copy_file_range`.
///
/// # Safety
///
/// `off` is null or valid for reading and writing.
#[unsafe(no_mangle)]
unsafe extern "C" fn sendfile(
    out_fd: c_int,
    in_fd: c_int,
    off: *mut off_t,
    count: size_t,
) -> ssize_t {
    if !vfd::is_virtual(in_fd) && !vfd::is_virtual(out_fd) {
        // SAFETY: forwarded call.
        return unsafe { next::sendfile(out_fd, in_fd, off, count) };
    }
    // SAFETY: the caller's contract: null or valid.
    let pos = unsafe { off.as_mut() };
    guard(-1, || {
        Ok(copy(in_fd, pos, out_fd, None, count.min(0x7fff_f000))? as ssize_t)
    })
}

/// `sendfile64`: as `sendfile`.
///
/// # Safety
///
/// `off` is null or valid for reading and writing.
#[unsafe(no_mangle)]
unsafe extern "C" fn sendfile64(
    out_fd: c_int,
    in_fd: c_int,
    off: *mut off64_t,
    count: size_t,
) -> ssize_t {
    if !vfd::is_virtual(in_fd) && !vfd::is_virtual(out_fd) {
        // SAFETY: forwarded call.
        return unsafe { next::sendfile64(out_fd, in_fd, off, count) };
    }
    // SAFETY: the caller's contract: null or valid.
    let pos = unsafe { off.as_mut() };
    guard(-1, || {
        Ok(copy(in_fd, pos, out_fd, None, count.min(0x7fff_f000))? as ssize_t)
    })
}
