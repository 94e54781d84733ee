//! Reading, writing and seeking: `read`, `write`, `pread`, `pwrite`, their
//! vector forms, and `lseek`.
//!
//! A read or write that uses the file offset holds the description's offset
//! for its duration, so two threads or processes sharing a descriptor never
//! read the same bytes twice, and each write goes to the server at the
//! shared offset before the next one starts. A write with `O_APPEND` is placed by the server, and the
//! offset becomes the end the server reports.

use core::ffi::{c_int, c_void};

use libc::{iovec, off_t, off64_t, size_t, ssize_t};

use crate::errno::guard;
use crate::next;
use crate::remote::Errno;
use crate::vfd::{self, OpenFile};

/// The most Linux transfers in one call.
const MAX_RW: usize = 0x7fff_f000;

/// The most `iovec`s one vector call may pass.
const IOV_MAX: c_int = 1024;

/// A byte range the caller handed in.
pub(crate) enum Buf<'a> {
    /// Bytes to fill (a read).
    In(&'a mut [u8]),
    /// Bytes to send (a write).
    Out(&'a [u8]),
}

/// The caller's buffer as a slice.
///
/// # Safety
///
/// `ptr` is valid for `len` bytes (writable if `out` is false), or `len` is 0.
unsafe fn buf<'a>(ptr: *mut c_void, len: usize, out: bool) -> Result<Buf<'a>, Errno> {
    let len = len.min(MAX_RW);
    if len == 0 {
        return Ok(if out { Buf::Out(&[]) } else { Buf::In(&mut []) });
    }
    if ptr.is_null() {
        return Err(libc::EFAULT);
    }
    Ok(if out {
        // SAFETY: the caller's contract.
        Buf::Out(unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) })
    } else {
        // SAFETY: the caller's contract.
        Buf::In(unsafe { core::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) })
    })
}

/// The caller's `iovec`s as buffers.
///
/// # Safety
///
/// `iov` points to `cnt` valid `iovec`s, each valid as `buf` requires.
unsafe fn iovecs<'a>(iov: *const iovec, cnt: c_int, out: bool) -> Result<Vec<Buf<'a>>, Errno> {
    if !(0..=IOV_MAX).contains(&cnt) {
        return Err(libc::EINVAL);
    }
    let cnt = cnt as usize;
    if cnt == 0 {
        return Ok(Vec::new());
    }
    if iov.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: the caller's contract.
    let list = unsafe { core::slice::from_raw_parts(iov, cnt) };
    // SAFETY: the caller's contract, for each element.
    list.iter()
        .map(|v| unsafe { buf(v.iov_base, v.iov_len, out) })
        .collect()
}

/// Checks that `file` may be read.
fn readable(file: &OpenFile) -> Result<(), Errno> {
    file.usable()?;
    let mode = file.status() & libc::O_ACCMODE;
    if file.is_path_only() || mode == libc::O_WRONLY {
        return Err(libc::EBADF);
    }
    if file.is_dir {
        return Err(libc::EISDIR);
    }
    Ok(())
}

/// Checks that `file` may be written.
fn writable(file: &OpenFile) -> Result<(), Errno> {
    file.usable()?;
    let mode = file.status() & libc::O_ACCMODE;
    if file.is_path_only() || mode == libc::O_RDONLY || file.is_dir {
        return Err(libc::EBADF);
    }
    Ok(())
}

/// A position argument: `None` means "the file offset".
fn position(off: i64) -> Result<u64, Errno> {
    u64::try_from(off).map_err(|_| libc::EINVAL)
}

/// Transfers `bufs` in order at `pos` (or the file offset), stopping at the
/// first short transfer. An error after some bytes moved reports the bytes.
pub(crate) fn transfer(
    file: &OpenFile,
    bufs: Vec<Buf<'_>>,
    pos: Option<u64>,
) -> Result<usize, Errno> {
    let writing = matches!(bufs.first(), Some(Buf::Out(_)));
    if writing {
        writable(file)?
    } else {
        readable(file)?
    }
    let append = writing && file.status() & libc::O_APPEND != 0;
    let mut offset = if pos.is_none() {
        Some(file.offset())
    } else {
        None
    };
    let start = match (&offset, pos) {
        (Some(guard), _) => **guard,
        (None, Some(p)) => p,
        (None, None) => 0,
    };
    let mut done = 0usize;
    let mut end = start;
    for buf in bufs {
        let at = start + done as u64;
        let (want, result) = match buf {
            Buf::In([]) | Buf::Out([]) => continue,
            Buf::In(b) => (
                b.len(),
                file.server
                    .read(file.handle, at, b)
                    .map(|n| (n, at + n as u64)),
            ),
            Buf::Out(b) => (b.len(), file.server.write(file.handle, at, b, append)),
        };
        match result {
            Ok((n, after)) => {
                done += n;
                end = after;
                if n < want {
                    break;
                }
            }
            Err(_) if done > 0 => break,
            Err(e) => return Err(e),
        }
    }
    if let Some(guard) = offset.as_mut() {
        **guard = end;
    }
    Ok(done)
}

/// Reads at `pos` (or the offset) from a remote descriptor into a buffer.
pub(crate) fn read_fd(fd: c_int, buf: &mut [u8], pos: Option<u64>) -> Result<usize, Errno> {
    transfer(&*vfd::file(fd)?, vec![Buf::In(buf)], pos)
}

/// Writes at `pos` (or the offset) to a remote descriptor from a buffer.
pub(crate) fn write_fd(fd: c_int, buf: &[u8], pos: Option<u64>) -> Result<usize, Errno> {
    transfer(&*vfd::file(fd)?, vec![Buf::Out(buf)], pos)
}

/// The remote half of the single-buffer calls.
///
/// # Safety
///
/// `ptr` is valid for `len` bytes as the C function requires.
unsafe fn single(fd: c_int, ptr: *mut c_void, len: size_t, out: bool, pos: Option<i64>) -> ssize_t {
    guard(-1, || {
        let file = vfd::file(fd)?;
        let pos = pos.map(position).transpose()?;
        // SAFETY: the caller's contract.
        let b = unsafe { buf(ptr, len, out) }?;
        Ok(transfer(&file, vec![b], pos)? as ssize_t)
    })
}

/// The remote half of the vector calls.
///
/// # Safety
///
/// `iov` points to `cnt` `iovec`s as the C function requires.
unsafe fn vector(fd: c_int, iov: *const iovec, cnt: c_int, out: bool, pos: Option<i64>) -> ssize_t {
    guard(-1, || {
        let file = vfd::file(fd)?;
        let pos = pos.map(position).transpose()?;
        // SAFETY: the caller's contract.
        let bufs = unsafe { iovecs(iov, cnt, out) }?;
        if bufs.is_empty() {
            if out {
                writable(&file)?
            } else {
                readable(&file)?
            }
            return Ok(0);
        }
        Ok(transfer(&file, bufs, pos)? as ssize_t)
    })
}

/// `read`: remote descriptors read from the server at the file offset.
///
/// # Safety
///
/// `buf` is valid for `count` writable bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::read(fd, buf, count) };
    }
    // SAFETY: forwarded contract.
    unsafe { single(fd, buf, count, false, None) }
}

/// `write`: remote descriptors write to the server at the file offset.
///
/// # Safety
///
/// `buf` is valid for `count` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::write(fd, buf, count) };
    }
    // SAFETY: forwarded contract; the buffer is only read.
    unsafe { single(fd, buf.cast_mut(), count, true, None) }
}

/// Defines `pread`/`pwrite`-like functions.
macro_rules! positioned {
    ($($name:ident($ptr:ty, $off:ty, $out:expr)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: a transfer at an explicit offset.")]
        ///
        /// # Safety
        ///
        /// `buf` is valid for `count` bytes.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, buf: $ptr, count: size_t, off: $off) -> ssize_t {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, buf, count, off) };
            }
            // SAFETY: forwarded contract.
            unsafe { single(fd, buf as *mut c_void, count, $out, Some(off)) }
        }
    )*};
}

positioned!(
    pread(*mut c_void, off_t, false),
    pread64(*mut c_void, off64_t, false),
    pwrite(*const c_void, off_t, true),
    pwrite64(*const c_void, off64_t, true)
);

/// `readv`: remote descriptors fill the buffers in order from the offset.
///
/// # Safety
///
/// `iov` points to `cnt` valid `iovec`s.
#[unsafe(no_mangle)]
unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::readv(fd, iov, cnt) };
    }
    // SAFETY: forwarded contract.
    unsafe { vector(fd, iov, cnt, false, None) }
}

/// `writev`: remote descriptors write the buffers in order at the offset.
///
/// # Safety
///
/// `iov` points to `cnt` valid `iovec`s.
#[unsafe(no_mangle)]
unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::writev(fd, iov, cnt) };
    }
    // SAFETY: forwarded contract.
    unsafe { vector(fd, iov, cnt, true, None) }
}

/// Defines `preadv`/`pwritev`-like functions.
macro_rules! positioned_vector {
    ($($name:ident($off:ty, $out:expr)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: a vector transfer at an explicit offset.")]
        ///
        /// # Safety
        ///
        /// `iov` points to `cnt` valid `iovec`s.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(fd: c_int, iov: *const iovec, cnt: c_int, off: $off) -> ssize_t {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, iov, cnt, off) };
            }
            // SAFETY: forwarded contract.
            unsafe { vector(fd, iov, cnt, $out, Some(off)) }
        }
    )*};
}

positioned_vector!(
    preadv(off_t, false),
    preadv64(off64_t, false),
    pwritev(off_t, true),
    pwritev64(off64_t, true)
);

/// Defines `preadv2`/`pwritev2`: an offset of -1 means the file offset; the
/// `RWF_*` flags are hints a remote file ignores.
macro_rules! vector2 {
    ($($name:ident($out:expr)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: `-1` as offset means the file offset.")]
        ///
        /// # Safety
        ///
        /// `iov` points to `cnt` valid `iovec`s.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            fd: c_int,
            iov: *const iovec,
            cnt: c_int,
            off: off_t,
            flags: c_int,
        ) -> ssize_t {
            if !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(fd, iov, cnt, off, flags) };
            }
            let pos = if off == -1 { None } else { Some(off) };
            // SAFETY: forwarded contract.
            unsafe { vector(fd, iov, cnt, $out, pos) }
        }
    )*};
}

vector2!(preadv2(false), pwritev2(true));

/// Moves the offset of a remote descriptor; returns the new offset.
pub(crate) fn seek(fd: c_int, off: i64, whence: c_int) -> Result<i64, Errno> {
    let file = vfd::file(fd)?;
    file.usable()?;
    if file.is_path_only() {
        return Err(libc::EBADF);
    }
    let size = || -> Result<i64, Errno> {
        let attr = file
            .server
            .stat(file.handle, b"", orfa_wire::PathFlags::NONE)?;
        i64::try_from(attr.size.get()).map_err(|_| libc::EOVERFLOW)
    };
    let mut offset = file.offset();
    let current = i64::try_from(*offset).map_err(|_| libc::EOVERFLOW)?;
    let new = match whence {
        libc::SEEK_SET => Some(off),
        libc::SEEK_CUR => current.checked_add(off),
        libc::SEEK_END => size()?.checked_add(off),
        libc::SEEK_DATA | libc::SEEK_HOLE => Some(crate::extras::seek_data(
            &file,
            off,
            whence == libc::SEEK_HOLE,
        )?),
        _ => return Err(libc::EINVAL),
    };
    let new = new.ok_or(libc::EOVERFLOW)?;
    let new_u = u64::try_from(new).map_err(|_| libc::EINVAL)?;
    *offset = new_u;
    Ok(new)
}

/// `lseek`: remote descriptors move their shared offset; `SEEK_END` asks the
/// server for the size.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn lseek(fd: c_int, off: off_t, whence: c_int) -> off_t {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::lseek(fd, off, whence) };
    }
    guard(-1, || seek(fd, off, whence))
}

/// `lseek64`: as `lseek`.
///
/// # Safety
///
/// None beyond the C function's.
#[unsafe(no_mangle)]
unsafe extern "C" fn lseek64(fd: c_int, off: off64_t, whence: c_int) -> off64_t {
    if !vfd::is_virtual(fd) {
        // SAFETY: forwarded call.
        return unsafe { next::lseek64(fd, off, whence) };
    }
    guard(-1, || seek(fd, off, whence))
}
