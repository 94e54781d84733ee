//! Calls on the space of an open file: `fallocate`, `SEEK_DATA`/`SEEK_HOLE`
//! (through [`super::lseek`]) and `copy_file_range`.

use std::os::fd::{AsRawFd, BorrowedFd};

use super::{Errno, SysResult, retry, retry_unit};

/// `fallocate(2)` with `FALLOC_FL_*` bits `mode`.
pub(in super::super) fn fallocate(
    fd: BorrowedFd<'_>,
    mode: i32,
    offset: u64,
    len: u64,
) -> SysResult<()> {
    let offset = i64::try_from(offset).map_err(|_| Errno(libc::EINVAL))?;
    let len = i64::try_from(len).map_err(|_| Errno(libc::EINVAL))?;
    // SAFETY: fallocate takes no pointer.
    retry_unit(|| i64::from(unsafe { libc::fallocate(fd.as_raw_fd(), mode, offset, len) }))
}

/// `copy_file_range(2)` of up to `len` bytes between explicit offsets;
/// returns the bytes copied (0 at the end of `from`).
pub(in super::super) fn copy_file_range(
    from: BorrowedFd<'_>,
    from_offset: u64,
    to: BorrowedFd<'_>,
    to_offset: u64,
    len: usize,
) -> SysResult<usize> {
    let mut off_in = i64::try_from(from_offset).map_err(|_| Errno(libc::EINVAL))?;
    let mut off_out = i64::try_from(to_offset).map_err(|_| Errno(libc::EINVAL))?;
    retry(|| {
        // SAFETY: both offsets are valid `loff_t`s for the call to update.
        unsafe {
            libc::copy_file_range(
                from.as_raw_fd(),
                &mut off_in,
                to.as_raw_fd(),
                &mut off_out,
                len,
                0,
            ) as i64
        }
    })
    .map(|n| n as usize)
}
