//! Replies: the header's results and the decoded data part.

use alloc::vec::Vec;

use orfa_wire::{Attr, DirEntryIter, ErrorCode, FsAttr, LockInfo, OpCode};

use crate::error::ProtocolError;

/// The fixed part of a reply, checked against its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHead {
    /// The request's tag.
    pub tag: u64,
    /// The request's operation.
    pub op: OpCode,
    /// [`ErrorCode::OK`] or why the request failed.
    pub status: ErrorCode,
    /// First result field.
    pub value: u64,
    /// Second result field.
    pub aux: u64,
    /// Bytes of data part that follow the header.
    pub data_len: u64,
}

/// A completed request: its tag and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion<D> {
    /// The request's tag.
    pub tag: u64,
    /// The decoded reply, or the error the server reported.
    pub result: Result<Reply<D>, ErrorCode>,
}

/// A successful reply, decoded; `D` holds the data part (a borrowed slice, or
/// a vector in the buffered events).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply<D> {
    /// `OPEN` and `ATTACH`: the new handle and the attributes of the object.
    Open {
        /// The new handle.
        handle: u64,
        /// Attributes of the object.
        attr: Attr,
    },
    /// `READ`: the bytes read (fewer than asked only at end of file).
    Read(D),
    /// `WRITE`: bytes written and the offset just past them.
    Write {
        /// Bytes written.
        written: u64,
        /// Offset after the written bytes.
        end: u64,
    },
    /// `STAT` and `SETATTR`: attributes.
    Attr(Attr),
    /// `READDIR`: a batch of entries.
    ReadDir(DirBatch<D>),
    /// `READLINK`: the link's target.
    ReadLink(D),
    /// `STATFS`: file system statistics.
    StatFs(FsAttr),
    /// `GETLK`: the first conflicting lock, or one of type `UNLOCK` if none.
    GetLk(LockInfo),
    /// `READDIRPLUS`: a batch of entries, each with its attributes.
    ReadDirPlus(DirBatch<D>),
    /// `GETXATTR` and `LISTXATTR`: the full length of the value (or list),
    /// and the bytes if the request allowed that many (else none).
    Xattr {
        /// The length of the whole value or list.
        len: u64,
        /// The value or list; empty when only the length was asked.
        data: D,
    },
    /// `COPY_RANGE`: bytes copied.
    Copied(u64),
    /// `SEEK`: the offset found.
    Offset(u64),
    /// `SHARE`: the token other sessions attach with.
    Token(u64),
    /// Any other operation: success, nothing returned.
    Done,
}

impl<D: AsRef<[u8]>> Reply<D> {
    /// The same reply with its data part converted (to an owned copy, say).
    pub fn map_data<E>(self, f: impl FnOnce(D) -> E) -> Reply<E> {
        match self {
            Self::Open { handle, attr } => Reply::Open { handle, attr },
            Self::Read(d) => Reply::Read(f(d)),
            Self::Write { written, end } => Reply::Write { written, end },
            Self::Attr(a) => Reply::Attr(a),
            Self::ReadDir(b) => Reply::ReadDir(DirBatch {
                count: b.count,
                complete: b.complete,
                bytes: f(b.bytes),
            }),
            Self::ReadLink(d) => Reply::ReadLink(f(d)),
            Self::StatFs(s) => Reply::StatFs(s),
            Self::GetLk(l) => Reply::GetLk(l),
            Self::ReadDirPlus(b) => Reply::ReadDirPlus(DirBatch {
                count: b.count,
                complete: b.complete,
                bytes: f(b.bytes),
            }),
            Self::Xattr { len, data } => Reply::Xattr { len, data: f(data) },
            Self::Copied(n) => Reply::Copied(n),
            Self::Offset(at) => Reply::Offset(at),
            Self::Token(token) => Reply::Token(token),
            Self::Done => Reply::Done,
        }
    }
}

impl Reply<&[u8]> {
    /// The reply with its data part copied.
    pub fn to_owned(&self) -> Reply<Vec<u8>> {
        self.clone().map_data(<[u8]>::to_vec)
    }
}

/// A batch of directory entries as received: already checked to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirBatch<D> {
    /// Number of entries.
    pub count: u64,
    /// Whether the listing ends with this batch.
    pub complete: bool,
    /// The encoded entries.
    pub bytes: D,
}

impl<D: AsRef<[u8]>> DirBatch<D> {
    /// The entries, in order, of a `READDIR` batch.
    pub fn iter(&self) -> DirEntryIter<'_> {
        DirEntryIter::new(self.bytes.as_ref())
    }

    /// The entries, in order, of a `READDIRPLUS` batch (with attributes).
    pub fn iter_with_attrs(&self) -> DirEntryIter<'_> {
        DirEntryIter::with_attrs(self.bytes.as_ref())
    }
}

/// Decodes the data part of a successful reply.
pub(crate) fn decode<'d>(
    head: &ReplyHead,
    data: &'d [u8],
) -> Result<Reply<&'d [u8]>, ProtocolError> {
    let tag = head.tag;
    let malformed = |error| ProtocolError::Malformed { tag, error };
    let bad_value = |value| ProtocolError::BadValue {
        tag,
        op: head.op,
        value,
    };
    let reply = match head.op {
        OpCode::OPEN | OpCode::ATTACH => Reply::Open {
            handle: head.value,
            attr: Attr::parse(data).map_err(malformed)?,
        },
        OpCode::READ => {
            if head.value != data.len() as u64 {
                return Err(bad_value(head.value));
            }
            Reply::Read(data)
        }
        OpCode::WRITE => Reply::Write {
            written: head.value,
            end: head.aux,
        },
        OpCode::STAT | OpCode::SETATTR => Reply::Attr(Attr::parse(data).map_err(malformed)?),
        OpCode::READDIR | OpCode::READDIRPLUS => {
            let plus = head.op == OpCode::READDIRPLUS;
            let mut n = 0u64;
            for entry in DirEntryIter::of(data, plus) {
                entry.map_err(malformed)?;
                n += 1;
            }
            if n != head.value {
                return Err(bad_value(head.value));
            }
            let batch = DirBatch {
                count: n,
                complete: head.aux != 0,
                bytes: data,
            };
            if plus {
                Reply::ReadDirPlus(batch)
            } else {
                Reply::ReadDir(batch)
            }
        }
        OpCode::GETXATTR | OpCode::LISTXATTR => {
            // Either the whole value, or nothing when only the length was asked.
            if !data.is_empty() && head.value != data.len() as u64 {
                return Err(bad_value(head.value));
            }
            Reply::Xattr {
                len: head.value,
                data,
            }
        }
        OpCode::COPY_RANGE => Reply::Copied(head.value),
        OpCode::SEEK => Reply::Offset(head.value),
        OpCode::SHARE => Reply::Token(head.value),
        OpCode::READLINK => Reply::ReadLink(data),
        OpCode::STATFS => Reply::StatFs(FsAttr::parse(data).map_err(malformed)?),
        OpCode::GETLK => Reply::GetLk(LockInfo::parse(data).map_err(malformed)?),
        _ => Reply::Done,
    };
    Ok(reply)
}
