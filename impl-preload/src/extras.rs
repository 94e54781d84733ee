//! Calls on remote descriptors beyond reading and writing: `ioctl`, advice,
//! preallocation (`FALLOCATE`), data and holes (`SEEK`), and the
//! copy calls: `copy_file_range` between two remote files of one server is
//! one `COPY_RANGE` done inside it; any other copy (remote and local, two
//! servers, `sendfile`) is emulated with reads and writes, so that the
//! kernel never sees a virtual descriptor.
//!
//! A 1.0 session has none of these operations: preallocation answers
//! `EOPNOTSUPP`, a file is reported dense (data up to its size, one hole
//! there), and copies are emulated.

use core::ffi::{c_int, c_uint, c_ulong, c_void};
use std::sync::Arc;

use libc::{off_t, off64_t, size_t, ssize_t};
use orfa_wire::PathFlags;

use crate::errno::{guard, guard_code};
use crate::io;
use crate::next;
use crate::remote::Errno;
use crate::vfd::{self, OpenFile};

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

/// Preallocates, punches or zeroes a range of a remote descriptor's file.
fn fallocate_fd(fd: c_int, mode: c_int, off: i64, len: i64) -> Result<(), Errno> {
    let file = vfd::file(fd)?;
    if file.is_path_only() {
        return Err(libc::EBADF);
    }
    if off < 0 || len <= 0 {
        return Err(libc::EINVAL);
    }
    if off.checked_add(len).is_none() {
        return Err(libc::EFBIG);
    }
    if file.is_dir {
        return Err(libc::EISDIR);
    }
    if file.status() & libc::O_ACCMODE == libc::O_RDONLY {
        return Err(libc::EBADF);
    }
    let known = libc::FALLOC_FL_KEEP_SIZE | libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_ZERO_RANGE;
    if mode & !known != 0 {
        return Err(libc::EOPNOTSUPP);
    }
    let mut flags = PathFlags::NONE;
    for (bit, flag) in [
        (libc::FALLOC_FL_KEEP_SIZE, PathFlags::KEEP_SIZE),
        (libc::FALLOC_FL_PUNCH_HOLE, PathFlags::PUNCH_HOLE),
        (libc::FALLOC_FL_ZERO_RANGE, PathFlags::ZERO_RANGE),
    ] {
        if mode & bit != 0 {
            flags |= flag;
        }
    }
    if file.server.minor()? < 1 {
        return Err(libc::EOPNOTSUPP);
    }
    file.server
        .fallocate(file.handle, off as u64, len as u64, flags)
}

/// Defines `fallocate`-like functions: `FALLOCATE` on remote descriptors.
macro_rules! fallocate {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote descriptors ask the server.")]
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
            guard(-1, || fallocate_fd(fd, mode, off, len).map(|()| 0))
        }
    )*};
}

fallocate!(fallocate(off_t), fallocate64(off64_t));

/// Defines `posix_fallocate`-like functions: `FALLOCATE` without flags on
/// remote descriptors, the error returned as a number (errno untouched).
/// The C library's own fallback writes through internal calls that never
/// reach this library, so a 1.0 session answers `EOPNOTSUPP`.
macro_rules! posix_fallocate {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote descriptors ask the server.")]
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
            guard_code(|| fallocate_fd(fd, 0, off, len))
        }
    )*};
}

posix_fallocate!(posix_fallocate(off_t), posix_fallocate64(off64_t));

/// The offset `lseek` gives for `SEEK_DATA` or `SEEK_HOLE` (`hole`) from
/// `off` on a remote file: the server's answer on a 1.1 session; on a 1.0
/// one, the file is dense (data up to `size`, a hole there).
pub(crate) fn seek_data(file: &OpenFile, off: i64, hole: bool) -> Result<i64, Errno> {
    let off = u64::try_from(off).map_err(|_| libc::ENXIO)?;
    let found = if file.server.minor()? >= 1 {
        file.server.seek(file.handle, off, hole)?
    } else {
        let size = file
            .server
            .stat(file.handle, b"", PathFlags::NONE)?
            .size
            .get();
        if off >= size {
            return Err(libc::ENXIO);
        }
        if hole { size } else { off }
    };
    i64::try_from(found).map_err(|_| libc::EOVERFLOW)
}

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

/// The two open files of a copy between remote descriptors of one server
/// on a 1.1 session, checked as Linux checks them; `None` if the copy must
/// be emulated instead.
fn in_server_pair(fd_in: c_int, fd_out: c_int) -> Result<Option<[Arc<OpenFile>; 2]>, Errno> {
    let (Some(src), Some(dst)) = (vfd::get(fd_in), vfd::get(fd_out)) else {
        return Ok(None);
    };
    if !core::ptr::eq(src.server, dst.server) || Arc::ptr_eq(&src, &dst) {
        return Ok(None);
    }
    let (src, dst) = (vfd::here(&src)?, vfd::here(&dst)?);
    let (ins, outs) = (src.status(), dst.status());
    if src.is_path_only()
        || dst.is_path_only()
        || ins & libc::O_ACCMODE == libc::O_WRONLY
        || outs & libc::O_ACCMODE == libc::O_RDONLY
        || outs & libc::O_APPEND != 0
    {
        return Err(libc::EBADF);
    }
    if src.is_dir || dst.is_dir {
        return Err(libc::EISDIR);
    }
    if src.server.minor()? < 1 {
        return Ok(None);
    }
    Ok(Some([src, dst]))
}

/// One `COPY_RANGE` between two remote files; positions given by pointer
/// are used and advanced instead of the offsets.
fn copy_in_server(
    [src, dst]: [Arc<OpenFile>; 2],
    pos_in: Option<&mut i64>,
    pos_out: Option<&mut i64>,
    len: usize,
) -> Result<usize, Errno> {
    let mut in_offset = src.offset();
    let mut out_offset = dst.offset();
    let from = match &pos_in {
        Some(p) => u64::try_from(**p).map_err(|_| libc::EINVAL)?,
        None => *in_offset,
    };
    let to = match &pos_out {
        Some(p) => u64::try_from(**p).map_err(|_| libc::EINVAL)?,
        None => *out_offset,
    };
    let n = src
        .server
        .copy_range(src.handle, from, dst.handle, to, len as u64)?;
    let n = n.min(len as u64);
    match pos_in {
        Some(p) => *p += n as i64,
        None => *in_offset += n,
    }
    match pos_out {
        Some(p) => *p += n as i64,
        None => *out_offset += n,
    }
    Ok(n as usize)
}

/// `copy_file_range`: between two remote files of one server the server
/// copies (`COPY_RANGE`); when only one side is remote, or on a 1.0
/// session, the bytes are read and written through this library (never
/// `EBADF` from the kernel).
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
        let len = len.min(isize::MAX as usize);
        if let Some(pair) = in_server_pair(fd_in, fd_out)? {
            if len == 0 {
                return Ok(0);
            }
            return Ok(copy_in_server(pair, pos_in, pos_out, len)? as ssize_t);
        }
        Ok(copy(fd_in, pos_in, fd_out, pos_out, len)? as ssize_t)
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
