//! Batches of directory entries, as carried by [`OpCode::READDIR`](crate::OpCode::READDIR) replies.
//!
//! A batch is a sequence of entries, each a [`DirEntryHeader`] followed by
//! `name_len` bytes of name and zero padding up to a multiple of 8 bytes. In
//! a [`OpCode::READDIRPLUS`](crate::OpCode::READDIRPLUS) batch, an
//! [`Attr`] sits between the header and the name; its `mask` is 0 when the
//! server could not read the entry's attributes.

use crate::attr::{ATTR_LEN, Attr};
use crate::codes::FileType;
use crate::msg::{WireError, wire_struct};

wire_struct! {
    /// The fixed part of one directory entry.
    DirEntryHeader, DIR_ENTRY_HEADER_LEN {
        /// Inode number.
        ino,
        /// The cookie that resumes the listing after this entry.
        cookie,
        /// The entry's [`FileType`], or zero if unknown.
        file_type,
        /// Length of the name in bytes (1 to [`MAX_NAME`](crate::MAX_NAME)).
        name_len,
    }
}

/// One decoded directory entry, borrowing its name from the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// Inode number.
    pub ino: u64,
    /// The cookie that resumes the listing after this entry.
    pub cookie: u64,
    /// The entry's type ([`FileType`]`(0)` if unknown).
    pub file_type: FileType,
    /// The name, without NUL.
    pub name: &'a [u8],
    /// The entry's attributes: in a batch with attributes, `Some` (with a
    /// zero `mask` if the server could not read them); otherwise `None`.
    pub attr: Option<Attr>,
}

const fn encoded_len(name_len: usize, with_attrs: bool) -> usize {
    let attr = if with_attrs { ATTR_LEN } else { 0 };
    DIR_ENTRY_HEADER_LEN + attr + name_len.div_ceil(8) * 8
}

/// Appends entries to a caller's buffer.
#[derive(Debug)]
pub struct DirEntryWriter<'a> {
    out: &'a mut [u8],
    len: usize,
    count: usize,
    with_attrs: bool,
}

impl<'a> DirEntryWriter<'a> {
    /// A writer of a plain batch that fills `out` from its start.
    pub fn new(out: &'a mut [u8]) -> Self {
        Self {
            out,
            len: 0,
            count: 0,
            with_attrs: false,
        }
    }

    /// A writer of a batch with attributes that fills `out` from its start.
    pub fn with_attrs(out: &'a mut [u8]) -> Self {
        Self {
            out,
            len: 0,
            count: 0,
            with_attrs: true,
        }
    }

    /// Whether entries carry attributes: a backend then fills [`DirEntry::attr`].
    pub fn wants_attrs(&self) -> bool {
        self.with_attrs
    }

    /// Appends an entry; returns `false`, writing nothing, if it does not fit.
    ///
    /// In a batch with attributes, an entry without them is written with a
    /// zero `mask`; in a plain batch, attributes are left out.
    pub fn push(&mut self, entry: &DirEntry<'_>) -> bool {
        let need = encoded_len(entry.name.len(), self.with_attrs);
        let Some(dst) = self.out.get_mut(self.len..self.len + need) else {
            return false;
        };
        let header = DirEntryHeader {
            ino: entry.ino.into(),
            cookie: entry.cookie.into(),
            file_type: entry.file_type.0.into(),
            name_len: (entry.name.len() as u64).into(),
        };
        let (head, mut rest) = dst.split_at_mut(DIR_ENTRY_HEADER_LEN);
        head.copy_from_slice(header.as_wire());
        if self.with_attrs {
            let (attr, tail) = rest.split_at_mut(ATTR_LEN);
            attr.copy_from_slice(entry.attr.unwrap_or_default().as_wire());
            rest = tail;
        }
        let (name, pad) = rest.split_at_mut(entry.name.len());
        name.copy_from_slice(entry.name);
        pad.fill(0);
        self.len += need;
        self.count += 1;
        true
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Entries written so far.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// Iterates over the entries of a batch; stops with an error at the first malformed entry.
#[derive(Debug, Clone)]
pub struct DirEntryIter<'a> {
    rest: &'a [u8],
    with_attrs: bool,
}

impl<'a> DirEntryIter<'a> {
    /// An iterator over the plain batch `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            with_attrs: false,
        }
    }

    /// An iterator over the batch with attributes `bytes`.
    pub fn with_attrs(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            with_attrs: true,
        }
    }

    /// An iterator over `bytes`, with attributes or not.
    pub fn of(bytes: &'a [u8], with_attrs: bool) -> Self {
        Self {
            rest: bytes,
            with_attrs,
        }
    }

    /// The bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}

impl<'a> Iterator for DirEntryIter<'a> {
    type Item = Result<DirEntry<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let item = DirEntryHeader::parse(self.rest).and_then(|h| {
            let name_len = h.name_len.get();
            let bad = WireError::BadLength(name_len);
            if name_len == 0 || name_len > crate::MAX_NAME as u64 {
                return Err(bad);
            }
            let total = encoded_len(name_len as usize, self.with_attrs);
            let entry_bytes = self.rest.get(..total).ok_or(bad)?;
            let mut body = &entry_bytes[DIR_ENTRY_HEADER_LEN..];
            let mut attr = None;
            if self.with_attrs {
                attr = Some(Attr::parse(body)?);
                body = &body[ATTR_LEN..];
            }
            let name = &body[..name_len as usize];
            self.rest = &self.rest[total..];
            Ok(DirEntry {
                ino: h.ino.get(),
                cookie: h.cookie.get(),
                file_type: FileType(h.file_type.get()),
                name,
                attr,
            })
        });
        if item.is_err() {
            self.rest = &[];
        }
        Some(item)
    }
}
