//! What the tests of `orfa-wire` share: field access by name to every wire
//! structure, with its layout as the compiler sees it.

#![allow(dead_code)]

use orfa_wire::{
    Attr, ClientHello, DirEntryHeader, FsAttr, LockInfo, ReplyHeader, RequestHeader, ServerHello,
    SetAttr,
};

/// A wire structure whose fields can be read and written by name.
pub(crate) trait Fields: Default + Copy + core::fmt::Debug + PartialEq {
    /// The structure's name, as the spec spells it.
    const NAME: &'static str;
    /// The fields, in declaration order, with their byte offsets.
    fn layout() -> Vec<(&'static str, usize)>;
    /// The value of field `name`.
    fn get(&self, name: &str) -> Option<u64>;
    /// Sets field `name`; false if there is no such field.
    fn set(&mut self, name: &str, value: u64) -> bool;
    /// The encoded bytes.
    fn bytes(&self) -> Vec<u8>;
    /// Parses from the start of `bytes`.
    fn parse(bytes: &[u8]) -> Option<Self>;
}

macro_rules! fields {
    ($($ty:ident { $($field:ident),* $(,)? })*) => {$(
        impl Fields for $ty {
            const NAME: &'static str = stringify!($ty);
            fn layout() -> Vec<(&'static str, usize)> {
                vec![$((stringify!($field), core::mem::offset_of!($ty, $field))),*]
            }
            fn get(&self, name: &str) -> Option<u64> {
                match name {
                    $(stringify!($field) => Some(self.$field.get()),)*
                    _ => None,
                }
            }
            fn set(&mut self, name: &str, value: u64) -> bool {
                match name {
                    $(stringify!($field) => {
                        self.$field = value.into();
                        true
                    })*
                    _ => false,
                }
            }
            fn bytes(&self) -> Vec<u8> {
                self.as_wire().to_vec()
            }
            fn parse(bytes: &[u8]) -> Option<Self> {
                $ty::parse(bytes).ok()
            }
        }
        // Every field is listed: the named fields fill the whole structure.
        const _: () = assert!(
            [$(stringify!($field)),*].len() * 8 == core::mem::size_of::<$ty>()
        );
    )*};
}

fields! {
    ClientHello { magic, version, flags, reserved }
    ServerHello { magic, version, status, eager_limit, credits, max_io, reserved0, reserved1 }
    RequestHeader { op, tag, handle, data_len, offset, count, flags, mode, arg0, arg1 }
    ReplyHeader { kind, tag, status, value, aux, data_len, credits }
    Attr {
        mask, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, dev, attributes,
        atime_sec, atime_nsec, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec, btime_sec,
        btime_nsec,
    }
    SetAttr {
        valid, mode, uid, gid, size, atime_sec, atime_nsec, mtime_sec, mtime_nsec, reserved,
    }
    FsAttr { bsize, frsize, blocks, bfree, bavail, files, ffree, namemax, fsid, flags }
    LockInfo { lock_type, start, len, owner_kind, pid }
    DirEntryHeader { ino, cookie, file_type, name_len }
}

/// The size of each wire structure, by name, from the crate's constants.
pub(crate) fn size_of(name: &str) -> Option<usize> {
    Some(match name {
        "ClientHello" => orfa_wire::CLIENT_HELLO_LEN,
        "ServerHello" => orfa_wire::SERVER_HELLO_LEN,
        "RequestHeader" => orfa_wire::REQUEST_HEADER_LEN,
        "ReplyHeader" => orfa_wire::REPLY_HEADER_LEN,
        "Attr" => orfa_wire::ATTR_LEN,
        "SetAttr" => orfa_wire::SET_ATTR_LEN,
        "FsAttr" => orfa_wire::FS_ATTR_LEN,
        "LockInfo" => orfa_wire::LOCK_INFO_LEN,
        "DirEntryHeader" => orfa_wire::DIR_ENTRY_HEADER_LEN,
        _ => return None,
    })
}

/// The layout of each wire structure, by name.
pub(crate) fn layout_of(name: &str) -> Option<Vec<(&'static str, usize)>> {
    Some(match name {
        "ClientHello" => ClientHello::layout(),
        "ServerHello" => ServerHello::layout(),
        "RequestHeader" => RequestHeader::layout(),
        "ReplyHeader" => ReplyHeader::layout(),
        "Attr" => Attr::layout(),
        "SetAttr" => SetAttr::layout(),
        "FsAttr" => FsAttr::layout(),
        "LockInfo" => LockInfo::layout(),
        "DirEntryHeader" => DirEntryHeader::layout(),
        _ => return None,
    })
}

/// The names of the wire structures.
pub(crate) const STRUCTS: [&str; 9] = [
    "ClientHello",
    "ServerHello",
    "RequestHeader",
    "ReplyHeader",
    "Attr",
    "SetAttr",
    "FsAttr",
    "LockInfo",
    "DirEntryHeader",
];
