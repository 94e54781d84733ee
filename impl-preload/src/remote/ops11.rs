//! The blocking calls of protocol 1.1 (besides locks): extended attributes,
//! listings with attributes, in-server copies, preallocation, data and
//! holes, and `STAT` with a mask.
//!
//! Each fails with `ENOSYS` on a 1.0 session (the client core refuses to
//! send it); callers ask [`Server::minor`] first where they have a fallback.

use orfa_client_core::{Reply, Request};
use orfa_wire::{Attr, AttrMask, DirEntryIter, PathFlags};

use super::{RResult, Server, wrong_kind};

/// The largest directory batch asked for at once.
const READDIR_BATCH: u64 = 32 * 1024;

/// The largest `READDIRPLUS` batch asked for at once: an entry with its
/// attributes takes about 200 bytes, so this is about 1,300 entries, and
/// `ls -l` of 10,000 files costs 8 requests.
const PLUS_BATCH: u64 = 256 * 1024;

/// One directory entry, decoded and owned.
#[derive(Debug)]
pub(crate) struct DirEntry {
    /// Inode number.
    pub(crate) ino: u64,
    /// The cookie after this entry.
    pub(crate) cookie: u64,
    /// `d_type`.
    pub(crate) dtype: u8,
    /// The name.
    pub(crate) name: Vec<u8>,
    /// The attributes, if the batch carried them and the server could read them.
    pub(crate) attr: Option<Attr>,
}

/// One batch of directory entries.
#[derive(Debug, Default)]
pub(crate) struct DirBatch {
    /// The entries, in order.
    pub(crate) entries: Vec<DirEntry>,
    /// Whether the directory has no more entries after these.
    pub(crate) eof: bool,
}

impl Server {
    /// The minor protocol version of this process's session with the server.
    pub(crate) fn minor(&self) -> RResult<u16> {
        self.with_conn(|conn| Ok(conn.limits().minor))
    }

    /// Attributes of `path`, saying which fields are needed.
    pub(crate) fn stat_mask(
        &self,
        base: u64,
        path: &[u8],
        flags: PathFlags,
        mask: AttrMask,
    ) -> RResult<Attr> {
        self.call_attr(&Request::StatX {
            base,
            path,
            flags,
            mask,
        })
    }

    /// An extended attribute: its length, and its value if at most `size`
    /// bytes were asked for and it fits (`size` 0: the length only).
    pub(crate) fn getxattr(
        &self,
        base: u64,
        path: &[u8],
        name: &[u8],
        size: u64,
        flags: PathFlags,
    ) -> RResult<(u64, Vec<u8>)> {
        let req = Request::GetXattr {
            base,
            path,
            name,
            size,
            flags,
        };
        self.call(&req, |r| match r {
            Reply::Xattr { len, data } => Some((len, data.to_vec())),
            _ => None,
        })
    }

    /// The names of the extended attributes, each followed by a NUL, as
    /// [`Server::getxattr`] answers.
    pub(crate) fn listxattr(
        &self,
        base: u64,
        path: &[u8],
        size: u64,
        flags: PathFlags,
    ) -> RResult<(u64, Vec<u8>)> {
        let req = Request::ListXattr {
            base,
            path,
            size,
            flags,
        };
        self.call(&req, |r| match r {
            Reply::Xattr { len, data } => Some((len, data.to_vec())),
            _ => None,
        })
    }

    /// Sets an extended attribute.
    pub(crate) fn setxattr(
        &self,
        base: u64,
        path: &[u8],
        name: &[u8],
        value: &[u8],
        flags: PathFlags,
    ) -> RResult<()> {
        let mut name_value = Vec::with_capacity(name.len() + value.len());
        name_value.extend_from_slice(name);
        name_value.extend_from_slice(value);
        self.call_done(&Request::SetXattr {
            base,
            path,
            name_value: &name_value,
            name_len: name.len(),
            flags,
        })
    }

    /// Removes an extended attribute.
    pub(crate) fn removexattr(
        &self,
        base: u64,
        path: &[u8],
        name: &[u8],
        flags: PathFlags,
    ) -> RResult<()> {
        self.call_done(&Request::RemoveXattr {
            base,
            path,
            name,
            flags,
        })
    }

    /// The next batch of entries of directory `handle` after `cookie`: with
    /// their attributes (`READDIRPLUS`) when the session has version 1.1,
    /// without (`READDIR`) on a 1.0 session.
    pub(crate) fn list(&self, handle: u64, cookie: u64) -> RResult<DirBatch> {
        self.with_conn(|conn| {
            let plus = conn.limits().minor >= 1;
            let count = if plus { PLUS_BATCH } else { READDIR_BATCH }.min(conn.limits().max_io);
            let request = if plus {
                Request::ReadDirPlus {
                    handle,
                    cookie,
                    count,
                }
            } else {
                Request::ReadDir {
                    handle,
                    cookie,
                    count,
                }
            };
            let batch = match conn.call(&request)? {
                Reply::ReadDirPlus(batch) | Reply::ReadDir(batch) => batch,
                _ => return Err(wrong_kind()),
            };
            // The core checked that every entry decodes.
            let entries = DirEntryIter::of(batch.bytes, plus)
                .flatten()
                .map(|e| DirEntry {
                    ino: e.ino,
                    cookie: e.cookie,
                    dtype: e.file_type.to_dirent_type(),
                    name: e.name.to_vec(),
                    attr: e.attr.filter(|a| a.mask.get() != 0),
                })
                .collect();
            Ok(DirBatch {
                entries,
                eof: batch.complete,
            })
        })
    }

    /// Copies up to `count` bytes inside the server; returns bytes copied.
    pub(crate) fn copy_range(
        &self,
        from: u64,
        from_offset: u64,
        to: u64,
        to_offset: u64,
        count: u64,
    ) -> RResult<u64> {
        let req = Request::CopyRange {
            from,
            from_offset,
            to,
            to_offset,
            count,
        };
        self.call(&req, |r| match r {
            Reply::Copied(n) => Some(n),
            _ => None,
        })
    }

    /// Allocates, deallocates or zeroes a range.
    pub(crate) fn fallocate(
        &self,
        handle: u64,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> RResult<()> {
        self.call_done(&Request::Fallocate {
            handle,
            offset,
            len,
            flags,
        })
    }

    /// The next data (or hole) at or after `offset`.
    pub(crate) fn seek(&self, handle: u64, offset: u64, hole: bool) -> RResult<u64> {
        let req = Request::Seek {
            handle,
            offset,
            hole,
        };
        self.call(&req, |r| match r {
            Reply::Offset(at) => Some(at),
            _ => None,
        })
    }
}
