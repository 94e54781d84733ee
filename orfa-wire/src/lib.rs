//! The ORFA wire format.
//!
//! Every structure that crosses the network is built of 64-bit little-endian
//! fields, so hosts of any word size and alignment read the same bytes. The
//! layouts are `repr(C)` structures of zerocopy's unaligned little-endian
//! integers: a structure can be viewed in place over any byte slice of the
//! right length, and no layout has padding.
//!
//! A connection carries, after the [`ClientHello`] / [`ServerHello`]
//! exchange:
//!
//! - from client to server, [`RequestHeader`]s, each followed by
//!   `data_len` bytes of data part (a path, a payload to write), unless the
//!   data part is larger than the eager limit: then the header goes alone,
//!   the server answers with a clear-to-send [`ReplyHeader`], and the client
//!   sends the data part in a [`OpCode::DATA`] frame;
//! - from server to client, [`ReplyHeader`]s, each followed by `data_len`
//!   bytes (read data, attributes, directory entries, a link target).
//!
//! Nothing in this crate panics on any input: parsing functions return
//! [`WireError`] for short or malformed input.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[macro_use]
mod macros;
mod attr;
mod codes;
mod dirent;
mod errno;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
mod msg;

pub use attr::{
    ATTR_LEN, Attr, FS_ATTR_LEN, FsAttr, LOCK_INFO_LEN, LockInfo, SET_ATTR_LEN, SetAttr,
};
pub use codes::{
    AccessMode, AttrMask, ErrorCode, FileType, LockOwnerKind, LockType, MsgKind, OpCode, OpenFlags,
    PathFlags, SetAttrMask,
};
pub use dirent::{DIR_ENTRY_HEADER_LEN, DirEntry, DirEntryHeader, DirEntryIter, DirEntryWriter};
pub use msg::{
    CLIENT_HELLO_LEN, ClientHello, REPLY_HEADER_LEN, REQUEST_HEADER_LEN, ReplyHeader,
    RequestHeader, SERVER_HELLO_LEN, ServerHello, WireError,
};

/// The value of the `magic` field of both hello messages: `"ORFAwire"`.
pub const MAGIC: u64 = u64::from_le_bytes(*b"ORFAwire");

/// The protocol's major version: peers of different majors cannot talk.
pub const VERSION_MAJOR: u16 = 1;

/// The protocol's minor version: peers agree on the lower of theirs.
pub const VERSION_MINOR: u16 = 2;

/// The eager limit a server announces unless configured otherwise (64 KiB).
pub const DEFAULT_EAGER_LIMIT: u64 = 64 * 1024;

/// The number of credits a server grants unless configured otherwise.
pub const DEFAULT_CREDITS: u64 = 16;

/// The largest read or write a server accepts in one request by default (1 MiB).
pub const DEFAULT_MAX_IO: u64 = 1024 * 1024;

/// The longest path, in bytes, a request may carry (Linux's `PATH_MAX` less the NUL).
pub const MAX_PATH: usize = 4095;

/// The longest name of a single path component, in bytes.
pub const MAX_NAME: usize = 255;

/// The most supplementary groups a [`OpCode::SETCONTEXT`] may carry.
pub const MAX_GROUPS: usize = 1024;

/// The longest extended attribute name, in bytes.
pub const MAX_XATTR_NAME: usize = 255;

/// The largest extended attribute value, in bytes.
pub const MAX_XATTR_VALUE: usize = 65536;

/// The handle that names the export's root directory in path requests.
pub const ROOT_HANDLE: u64 = 0;

/// Packs a version pair into the `version` field of a hello message.
pub const fn pack_version(major: u16, minor: u16) -> u64 {
    ((major as u64) << 16) | minor as u64
}

/// Splits the `version` field of a hello message into (major, minor).
///
/// Bits above the low 32 are ignored.
pub const fn unpack_version(version: u64) -> (u16, u16) {
    ((version >> 16) as u16, version as u16)
}
