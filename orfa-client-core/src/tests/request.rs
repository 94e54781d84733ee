use orfa_wire::{
    AccessMode, MAX_NAME, MAX_PATH, OpCode, OpenFlags, PathFlags, RequestHeader, SetAttr,
};
use std::vec;

use crate::{Request, SendError, check_path};

fn header(req: &Request<'_>) -> RequestHeader {
    RequestHeader::parse(&req.header(9)).unwrap()
}

#[test]
fn open_header_fields() {
    let req = Request::Open {
        base: 4,
        path: b"d/f",
        flags: OpenFlags::READ,
        mode: 0o640,
    };
    let h = header(&req);
    assert_eq!(h.opcode(), OpCode::OPEN);
    assert_eq!(h.tag.get(), 9);
    assert_eq!(h.handle.get(), 4);
    assert_eq!(h.data_len.get(), 3);
    assert_eq!(h.flags.get(), OpenFlags::READ.0);
    assert_eq!(h.mode.get(), 0o640);
    assert_eq!(req.data_parts(), [&b"d/f"[..], &[][..]]);
}

#[test]
fn two_path_requests_put_the_first_length_in_count() {
    let req = Request::Rename {
        from_base: 1,
        from: b"old",
        to_base: 2,
        to: b"new/name",
        flags: PathFlags::NOREPLACE,
    };
    let h = header(&req);
    assert_eq!((h.handle.get(), h.arg0.get(), h.count.get()), (1, 2, 3));
    assert_eq!(h.data_len.get(), 11);
    assert_eq!(h.flags.get(), PathFlags::NOREPLACE.0);
    assert_eq!(req.data_parts(), [&b"old"[..], &b"new/name"[..]]);

    let req = Request::Symlink {
        target: b"../t",
        base: 5,
        path: b"l",
    };
    let h = header(&req);
    assert_eq!(
        (h.opcode(), h.handle.get(), h.count.get(), h.data_len.get()),
        (OpCode::SYMLINK, 5, 4, 5)
    );
}

#[test]
fn setattr_data_is_the_structure_then_the_path() {
    let attr = SetAttr {
        size: 77.into(),
        valid: 8.into(),
        ..SetAttr::default()
    };
    let req = Request::SetAttr {
        base: 0,
        path: b"f",
        attr: &attr,
        flags: PathFlags::NOFOLLOW,
    };
    let [first, second] = req.data_parts();
    assert_eq!(SetAttr::parse(first).unwrap(), attr);
    assert_eq!(second, b"f");
    assert_eq!(header(&req).data_len.get(), 81);
}

#[test]
fn io_and_handle_requests() {
    let h = header(&Request::Read {
        handle: 3,
        offset: 100,
        count: 4096,
    });
    assert_eq!(
        (
            h.handle.get(),
            h.offset.get(),
            h.count.get(),
            h.data_len.get()
        ),
        (3, 100, 4096, 0)
    );
    let h = header(&Request::Write {
        handle: 3,
        offset: 7,
        data: b"abc",
        append: true,
    });
    assert_eq!(
        (h.offset.get(), h.data_len.get(), h.flags.get()),
        (7, 3, OpenFlags::APPEND.0)
    );
    let h = header(&Request::ReadDir {
        handle: 6,
        cookie: 42,
        count: 8192,
    });
    assert_eq!(
        (h.opcode(), h.offset.get(), h.count.get()),
        (OpCode::READDIR, 42, 8192)
    );
    let h = header(&Request::Fsync {
        handle: 6,
        datasync: true,
    });
    assert_eq!(h.flags.get(), PathFlags::DATASYNC.0);
    let h = header(&Request::Mknod {
        base: 0,
        path: b"p",
        mode: 0o10644,
        rdev: 0x801,
    });
    assert_eq!((h.mode.get(), h.arg1.get()), (0o10644, 0x801));
    let h = header(&Request::Access {
        base: 0,
        path: b"p",
        mode: AccessMode::READ | AccessMode::WRITE,
        flags: PathFlags::EACCESS,
    });
    assert_eq!((h.mode.get(), h.flags.get()), (6, PathFlags::EACCESS.0));
    let h = header(&Request::Close { handle: 12 });
    assert_eq!(
        (h.opcode(), h.handle.get(), h.data_len.get()),
        (OpCode::CLOSE, 12, 0)
    );
}

#[test]
fn path_limits() {
    let name = vec![b'x'; MAX_NAME];
    assert_eq!(check_path(&name), Ok(()));
    let long_name = vec![b'x'; MAX_NAME + 1];
    assert_eq!(
        check_path(&long_name),
        Err(SendError::NameTooLong { len: MAX_NAME + 1 })
    );
    let mut deep = b"a/".repeat(MAX_PATH / 2 + 1);
    deep.truncate(MAX_PATH);
    assert_eq!(check_path(&deep), Ok(()));
    deep.push(b'a');
    assert_eq!(
        check_path(&deep),
        Err(SendError::NameTooLong { len: MAX_PATH + 1 })
    );
    assert_eq!(check_path(b"a\0b"), Err(SendError::NulByte));
    assert_eq!(check_path(b""), Ok(()));
}

#[test]
fn validate_checks_every_string_and_size() {
    let long = vec![b'y'; 300];
    let bad = Request::Link {
        from_base: 0,
        from: b"ok",
        to_base: 0,
        to: &long,
        flags: PathFlags::NONE,
    };
    assert_eq!(
        bad.validate(1 << 20),
        Err(SendError::NameTooLong { len: 300 })
    );
    let bad = Request::Symlink {
        target: b"t\0",
        base: 0,
        path: b"l",
    };
    assert_eq!(bad.validate(1 << 20), Err(SendError::NulByte));
    let ok = Request::Symlink {
        target: &long,
        base: 0,
        path: b"l",
    };
    assert_eq!(ok.validate(1 << 20), Ok(()));
    let big = Request::Read {
        handle: 1,
        offset: 0,
        count: 1025,
    };
    assert_eq!(
        big.validate(1024),
        Err(SendError::TooLarge {
            len: 1025,
            max: 1024
        })
    );
    let data = vec![0u8; 1025];
    let big = Request::Write {
        handle: 1,
        offset: 0,
        data: &data,
        append: false,
    };
    assert_eq!(
        big.validate(1024),
        Err(SendError::TooLarge {
            len: 1025,
            max: 1024
        })
    );
    assert_eq!(big.validate(1025), Ok(()));
}

#[test]
fn lock_requests_fill_the_lock_fields() {
    use orfa_wire::{LockOwnerKind, LockType};
    let req = Request::Lock {
        handle: 3,
        start: 100,
        len: 0,
        lock_type: LockType::WRITE,
        owner_kind: LockOwnerKind::POSIX,
        pid: 4242,
        wait: true,
    };
    let h = header(&req);
    assert_eq!(h.opcode(), OpCode::LOCK);
    assert_eq!((h.handle.get(), h.offset.get(), h.count.get()), (3, 100, 0));
    assert_eq!((h.mode.get(), h.arg1.get(), h.arg0.get()), (2, 0, 4242));
    assert_eq!((h.flags.get(), h.data_len.get()), (PathFlags::WAIT.0, 0));

    let req = Request::GetLk {
        handle: 3,
        start: 1,
        len: 2,
        lock_type: LockType::READ,
        owner_kind: LockOwnerKind::HANDLE,
        pid: 0,
    };
    let h = header(&req);
    assert_eq!(
        (h.opcode(), h.offset.get(), h.count.get()),
        (OpCode::GETLK, 1, 2)
    );
    assert_eq!((h.mode.get(), h.arg1.get(), h.flags.get()), (1, 1, 0));
    assert_eq!(req.reply_limit(), orfa_wire::LOCK_INFO_LEN as u64);

    let h = header(&Request::Cancel { tag: 77 });
    assert_eq!(
        (h.opcode(), h.arg0.get(), h.handle.get()),
        (OpCode::CANCEL, 77, 0)
    );
}

#[test]
fn map_handles_reaches_every_handle_and_only_handles() {
    let plus = |h: u64| Ok::<u64, ()>(h + 100);
    let rename = Request::Rename {
        from_base: 1,
        from: b"a",
        to_base: 2,
        to: b"b",
        flags: PathFlags::NONE,
    };
    let h = header(&rename.map_handles(plus).unwrap());
    assert_eq!((h.handle.get(), h.arg0.get(), h.count.get()), (101, 102, 1));
    let copy = Request::CopyRange {
        from: 3,
        from_offset: 7,
        to: 4,
        to_offset: 8,
        count: 9,
    };
    let h = header(&copy.map_handles(plus).unwrap());
    assert_eq!(
        (h.handle.get(), h.arg0.get(), h.offset.get()),
        (103, 104, 7)
    );
    let attach = Request::Attach { token: 5 };
    let h = header(&attach.map_handles(plus).unwrap());
    assert_eq!(h.arg0.get(), 5, "a token is not a handle");
    let read = Request::Read {
        handle: 6,
        offset: 0,
        count: 1,
    };
    assert_eq!(
        read.map_handles(|_| Err::<u64, &str>("stale")).err(),
        Some("stale")
    );
}
