//! Directory listing with `getdents64(2)`.
//!
//! A cookie is the kernel's `d_off` of the entry last sent: the directory
//! position just after it. Each call seeks the handle's descriptor to the
//! cookie and reads from there, so an entry that did not fit in one reply is
//! read again for the next. File systems keep these positions valid while
//! entries come and go (ext4 and xfs use name hashes, tmpfs stable indexes).
//!
//! For `READDIRPLUS`, each entry also carries its attributes, read with
//! `statx` relative to the directory and without following a final link, so
//! a listing never looks outside the directory.

use std::ffi::CString;
use std::os::fd::BorrowedFd;

use orfa_server_core::BackendResult;
use orfa_wire::{Attr, DirEntry, DirEntryWriter, FileType};

use super::{attr, sys};

/// The size of the buffer one `getdents64` call fills.
const BUF_LEN: usize = 16 * 1024;

/// The fixed part of a `linux_dirent64` record: `d_ino` (8 bytes), `d_off`
/// (8), `d_reclen` (2), `d_type` (1), then the NUL-terminated name.
const RECORD_HEAD: usize = 19;

/// One record of a `getdents64` buffer.
struct Record<'a> {
    ino: u64,
    off: u64,
    dtype: u8,
    name: &'a [u8],
}

/// Appends the entries of the directory `fd` after `cookie` to `out` until it
/// is full; returns whether the listing is complete.
pub(super) fn read_dir(
    fd: BorrowedFd<'_>,
    cookie: u64,
    out: &mut DirEntryWriter<'_>,
) -> BackendResult<bool> {
    let mut buf = vec![0u8; BUF_LEN];
    sys::lseek(fd, cookie as i64, libc::SEEK_SET)?;
    loop {
        let len = match sys::getdents64(fd, &mut buf) {
            Ok(len) => len,
            // A directory removed while open lists as empty, as the C
            // library's readdir reports it.
            Err(sys::Errno(libc::ENOENT)) => 0,
            Err(e) => return Err(e.into()),
        };
        if len == 0 {
            return Ok(true);
        }
        let mut rest = buf.get(..len).unwrap_or_default();
        while let Some((record, tail)) = next_record(rest) {
            rest = tail;
            if record.name.is_empty() || record.name == b"." || record.name == b".." {
                continue;
            }
            let entry = DirEntry {
                ino: record.ino,
                cookie: record.off,
                file_type: FileType::from_dirent_type(record.dtype),
                name: record.name,
                attr: if out.wants_attrs() {
                    entry_attr(fd, record.name)
                } else {
                    None
                },
            };
            if !out.push(&entry) {
                return Ok(false);
            }
        }
    }
}

/// The attributes of the entry `name` of the directory `fd`, or `None` if
/// they cannot be read (the entry vanished, the caller may not search the
/// directory): the client then asks with `STAT`.
fn entry_attr(fd: BorrowedFd<'_>, name: &[u8]) -> Option<Attr> {
    let name = CString::new(name).ok()?;
    attr::attr_at(fd, &name).ok()
}

/// Splits the first record off a `getdents64` buffer; `None` at its end or
/// at a record that does not fit in it.
fn next_record(buf: &[u8]) -> Option<(Record<'_>, &[u8])> {
    let head = buf.get(..RECORD_HEAD)?;
    let ino = u64::from_ne_bytes(head.get(0..8)?.try_into().ok()?);
    let off = u64::from_ne_bytes(head.get(8..16)?.try_into().ok()?);
    let reclen = usize::from(u16::from_ne_bytes(head.get(16..18)?.try_into().ok()?));
    let dtype = *head.get(18)?;
    if reclen <= RECORD_HEAD {
        return None;
    }
    let record = buf.get(..reclen)?;
    let name_area = record.get(RECORD_HEAD..)?;
    let name_len = name_area
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(name_area.len());
    let name = name_area.get(..name_len)?;
    Some((
        Record {
            ino,
            off,
            dtype,
            name,
        },
        buf.get(reclen..)?,
    ))
}
