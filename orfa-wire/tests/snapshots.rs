//! Snapshot tests (insta): the layout of every wire structure and the
//! `Debug` of sample messages, against the committed `snapshots/*.snap`.
//!
//! A mismatch fails the test whatever the environment. Outside CI, insta
//! also writes the new output next to the old as `.snap.new`; with `CI`
//! set (as in `.ci/run`) or `INSTA_UPDATE=no` it writes nothing. After an
//! intended change, accept the new snapshots with
//! `INSTA_UPDATE=always cargo test -p orfa-wire --test snapshots` and
//! commit them with the change of `spec/`.

mod common;

use std::fmt::Write as _;

use common::{STRUCTS, layout_of, size_of};
use orfa_wire::{
    AccessMode, Attr, AttrMask, ClientHello, DirEntry, DirEntryIter, DirEntryWriter, ErrorCode,
    FileType, LockInfo, LockOwnerKind, LockType, MAGIC, MsgKind, OpCode, OpenFlags, PathFlags,
    ReplyHeader, RequestHeader, ServerHello, SetAttr, SetAttrMask, pack_version,
};

#[test]
fn layouts() {
    let mut out = String::new();
    for name in STRUCTS {
        let size = size_of(name).expect("size");
        writeln!(out, "{name} ({size} bytes)").expect("write");
        for (field, offset) in layout_of(name).expect("layout") {
            writeln!(out, "  {offset:>3} {field} (8 bytes, u64 little-endian)").expect("write");
        }
    }
    insta::assert_snapshot!("layouts", out);
}

#[test]
fn codes_debug() {
    let codes = (
        [
            OpCode::OPEN,
            OpCode::CANCEL,
            OpCode::ATTACH,
            OpCode::DATA,
            OpCode(0x7f),
        ],
        [MsgKind::REPLY, MsgKind::CLEAR_TO_SEND, MsgKind(9)],
        [
            ErrorCode::OK,
            ErrorCode::NOENT,
            ErrorCode::STALE,
            ErrorCode::ESCAPE,
            ErrorCode(0x1234),
        ],
        OpenFlags::READ | OpenFlags::CREATE | OpenFlags(1 << 40),
        PathFlags::NOFOLLOW | PathFlags::SEEK_HOLE,
        PathFlags::NONE,
        AccessMode::READ | AccessMode::EXEC,
        AttrMask::BASIC,
        SetAttrMask::ATIME_NOW | SetAttrMask::MTIME,
        [LockType::WRITE, LockType(7)],
        [
            LockOwnerKind::POSIX,
            LockOwnerKind::HANDLE,
            LockOwnerKind::FLOCK,
        ],
        [FileType::REGULAR, FileType::SYMLINK, FileType(0)],
    );
    insta::assert_debug_snapshot!("codes", codes);
}

#[test]
fn messages_debug() {
    let hello = ClientHello {
        magic: MAGIC.into(),
        version: pack_version(1, 1).into(),
        ..ClientHello::default()
    };
    let server = ServerHello {
        magic: MAGIC.into(),
        version: pack_version(1, 1).into(),
        eager_limit: 65536.into(),
        credits: 16.into(),
        max_io: (1u64 << 20).into(),
        ..ServerHello::default()
    };
    let rename = RequestHeader {
        op: OpCode::RENAME.0.into(),
        tag: 15.into(),
        handle: 4.into(),
        data_len: 10.into(),
        count: 5.into(),
        flags: PathFlags::NOREPLACE.0.into(),
        arg0: 9.into(),
        ..RequestHeader::default()
    };
    let reply = ReplyHeader {
        kind: MsgKind::REPLY.0.into(),
        tag: 15.into(),
        value: 7.into(),
        aux: 1.into(),
        data_len: 160.into(),
        credits: 1.into(),
        ..ReplyHeader::default()
    };
    let failure = ReplyHeader::failure(16, ErrorCode::NOENT);
    let change = SetAttr {
        valid: (SetAttrMask::SIZE | SetAttrMask::MODE).0.into(),
        mode: 0o600.into(),
        size: 4096.into(),
        ..SetAttr::default()
    };
    let lock = LockInfo {
        lock_type: LockType::WRITE.0.into(),
        start: 100.into(),
        len: 50.into(),
        owner_kind: LockOwnerKind::POSIX.0.into(),
        pid: 4242.into(),
    };
    insta::assert_debug_snapshot!(
        "messages",
        (hello, server, rename, reply, failure, change, lock)
    );
}

#[test]
fn directory_batch_debug() {
    let attr = Attr {
        mask: AttrMask::BASIC.0.into(),
        ino: 1042.into(),
        mode: (FileType::REGULAR.0 | 0o644).into(),
        nlink: 1.into(),
        size: 13.into(),
        ..Attr::default()
    };
    let mut buf = [0u8; 1024];
    let mut w = DirEntryWriter::with_attrs(&mut buf);
    for (ino, name, attr) in [(1042, &b"notes.txt"[..], Some(attr)), (77, b"lnk", None)] {
        assert!(w.push(&DirEntry {
            ino,
            cookie: ino + 1,
            file_type: FileType::from_mode(attr.map_or(0, |a| a.mode.get())),
            name,
            attr,
        }));
    }
    let len = w.len();
    let entries: Vec<_> = DirEntryIter::with_attrs(&buf[..len]).collect();
    insta::assert_debug_snapshot!("directory_batch", (len, entries));
}
