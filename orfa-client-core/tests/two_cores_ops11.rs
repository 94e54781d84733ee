//! The operations of protocol 1.1 (other than locks) and 1.2, through the client core
//! against a server session over the in-memory file system: each request
//! encodes as the server expects and each reply decodes to its kind.

use orfa_client_core::{
    Client, Event, Reply, Request, SendError, client_hello, encode_groups, parse_server_hello,
};
use orfa_server_core::{Config, Context, LockTable, MemFs, MemNode, Session, Timestamp};
use orfa_wire::{AttrMask, ErrorCode, FileType, OpenFlags, PathFlags, SERVER_HELLO_LEN};

type Outcome = Result<Reply<Vec<u8>>, ErrorCode>;

struct Pair {
    client: Client,
    session: Session<MemNode>,
    fs: MemFs,
    locks: LockTable,
}

impl Pair {
    fn new(max_minor: u16) -> Self {
        let mut session = Session::new(Config {
            max_minor,
            ..Config::default()
        });
        session.feed(&client_hello()).expect("hello");
        let hello = drain(&mut session);
        let limits = parse_server_hello(&hello[..SERVER_HELLO_LEN]).expect("server hello");
        Self {
            client: Client::new(limits),
            session,
            fs: MemFs::new(Timestamp { sec: 1, nsec: 0 }),
            locks: LockTable::new(),
        }
    }

    fn call(&mut self, req: &Request<'_>) -> Outcome {
        let out = self.client.send(req).expect("sent");
        let cx = Context {
            now: Timestamp { sec: 2, nsec: 0 },
            ..Context::default()
        };
        for s in out.slices() {
            self.session.feed(s).expect("server accepts");
        }
        self.session.execute(&cx, &mut self.fs, &mut self.locks);
        let bytes = drain(&mut self.session);
        self.client.feed(&bytes).expect("client accepts");
        let mut done = Vec::new();
        while let Some(event) = self.client.poll_event() {
            if let Event::Reply(c) = event {
                assert_eq!(c.tag, out.tag());
                done.push(c.result);
            }
        }
        assert_eq!(done.len(), 1, "one reply");
        done.remove(0)
    }

    fn create(&mut self, path: &[u8]) -> u64 {
        let req = Request::Open {
            base: 0,
            path,
            flags: OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE,
            mode: 0o666,
        };
        match self.call(&req) {
            Ok(Reply::Open { handle, .. }) => handle,
            other => panic!("open: {other:?}"),
        }
    }

    fn write(&mut self, handle: u64, offset: u64, data: &[u8]) {
        let req = Request::Write {
            handle,
            offset,
            data,
            append: false,
        };
        assert!(matches!(self.call(&req), Ok(Reply::Write { .. })));
    }
}

fn drain(session: &mut Session<MemNode>) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(t) = session.transmit() {
        for s in t.slices() {
            out.extend_from_slice(s);
        }
        let n = t.len();
        session.transmit_done(n);
    }
    out
}

#[test]
fn context_sets_the_umask_the_server_applies() {
    let mut p = Pair::new(1);
    let groups = encode_groups(&[5, 6]);
    let req = Request::SetContext {
        uid: 0,
        gid: 0,
        umask: 0o027,
        groups: &groups,
    };
    assert_eq!(p.call(&req), Ok(Reply::Done));
    p.create(b"f");
    let stat = Request::StatX {
        base: 0,
        path: b"f",
        flags: PathFlags::NONE,
        mask: AttrMask::MODE | AttrMask::SIZE,
    };
    match p.call(&stat) {
        Ok(Reply::Attr(a)) => assert_eq!(a.mode.get() & 0o7777, 0o640),
        other => panic!("stat: {other:?}"),
    }
}

#[test]
fn extended_attributes_round_trip() {
    let mut p = Pair::new(1);
    p.create(b"f");
    let name_value = b"user.colourblue";
    let set = Request::SetXattr {
        base: 0,
        path: b"f",
        name_value,
        name_len: 11,
        flags: PathFlags::XATTR_CREATE,
    };
    assert_eq!(p.call(&set), Ok(Reply::Done));
    assert_eq!(p.call(&set), Err(ErrorCode::EXIST));
    let get = |size| Request::GetXattr {
        base: 0,
        path: b"f",
        name: b"user.colour",
        size,
        flags: PathFlags::NONE,
    };
    assert_eq!(
        p.call(&get(0)),
        Ok(Reply::Xattr {
            len: 4,
            data: Vec::new()
        })
    );
    assert_eq!(
        p.call(&get(64)),
        Ok(Reply::Xattr {
            len: 4,
            data: b"blue".to_vec()
        })
    );
    assert_eq!(p.call(&get(2)), Err(ErrorCode::RANGE));
    let list = Request::ListXattr {
        base: 0,
        path: b"f",
        size: 256,
        flags: PathFlags::NONE,
    };
    assert_eq!(
        p.call(&list),
        Ok(Reply::Xattr {
            len: 12,
            data: b"user.colour\0".to_vec()
        })
    );
    let remove = Request::RemoveXattr {
        base: 0,
        path: b"f",
        name: b"user.colour",
        flags: PathFlags::NONE,
    };
    assert_eq!(p.call(&remove), Ok(Reply::Done));
    assert_eq!(p.call(&get(64)), Err(ErrorCode::NODATA));
}

#[test]
fn readdirplus_carries_attributes() {
    let mut p = Pair::new(1);
    let h = p.create(b"a");
    p.write(h, 0, b"12345");
    let dir = match p.call(&Request::Open {
        base: 0,
        path: b"",
        flags: OpenFlags::READ | OpenFlags::DIRECTORY,
        mode: 0,
    }) {
        Ok(Reply::Open { handle, .. }) => handle,
        other => panic!("opendir: {other:?}"),
    };
    let req = Request::ReadDirPlus {
        handle: dir,
        cookie: 0,
        count: 4096,
    };
    let Ok(Reply::ReadDirPlus(batch)) = p.call(&req) else {
        panic!("not a READDIRPLUS batch");
    };
    assert!(batch.complete);
    let entries: Vec<_> = batch
        .iter_with_attrs()
        .map(|e| e.expect("decodes"))
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].name, b"a");
    let attr = entries[0].attr.expect("attributes");
    assert_eq!(attr.size.get(), 5);
    assert_eq!(FileType::from_mode(attr.mode.get()), FileType::REGULAR);
}

#[test]
fn copy_fallocate_and_seek() {
    let mut p = Pair::new(1);
    let a = p.create(b"a");
    let b = p.create(b"b");
    p.write(a, 0, b"hello world");
    let copy = Request::CopyRange {
        from: a,
        from_offset: 6,
        to: b,
        to_offset: 2,
        count: 100,
    };
    assert_eq!(p.call(&copy), Ok(Reply::Copied(5)));
    let read = Request::Read {
        handle: b,
        offset: 0,
        count: 100,
    };
    assert_eq!(p.call(&read), Ok(Reply::Read(b"\0\0world".to_vec())));
    let grow = Request::Fallocate {
        handle: b,
        offset: 0,
        len: 4096,
        flags: PathFlags::NONE,
    };
    assert_eq!(p.call(&grow), Ok(Reply::Done));
    let seek = |offset, hole| Request::Seek {
        handle: a,
        offset,
        hole,
    };
    assert_eq!(p.call(&seek(3, false)), Ok(Reply::Offset(3)));
    assert_eq!(p.call(&seek(0, true)), Ok(Reply::Offset(11)));
    assert_eq!(p.call(&seek(11, false)), Err(ErrorCode::NXIO));
}

#[test]
fn a_version_1_0_session_refuses_them_before_sending() {
    let mut p = Pair::new(0);
    let req = Request::Seek {
        handle: 1,
        offset: 0,
        hole: false,
    };
    assert!(matches!(
        p.client.send(&req),
        Err(SendError::Unsupported { .. })
    ));
    assert_eq!(p.client.sent(), 0);
    p.create(b"f");
    assert_eq!(p.client.sent(), 1);
}

#[test]
fn bad_names_are_refused_before_sending() {
    let p = Pair::new(1);
    let long = [b'u'; 256];
    let mut client = p.client;
    let get = Request::GetXattr {
        base: 0,
        path: b"f",
        name: &long,
        size: 0,
        flags: PathFlags::NONE,
    };
    assert!(matches!(
        client.send(&get),
        Err(SendError::NameTooLong { len: 256 })
    ));
    let set = Request::SetXattr {
        base: 0,
        path: b"f",
        name_value: b"user.a",
        name_len: 9,
        flags: PathFlags::NONE,
    };
    assert!(client.send(&set).is_err());
}

#[test]
fn share_and_attach_reach_an_unlinked_file_through_a_second_handle() {
    let mut p = Pair::new(2);
    let a = p.create(b"shared");
    p.write(a, 0, b"kept");
    let token = match p.call(&Request::Share { handle: a }) {
        Ok(Reply::Token(token)) => token,
        other => panic!("share: {other:?}"),
    };
    assert_ne!(token, 0);
    let unlink = Request::Unlink {
        base: 0,
        path: b"shared",
        flags: PathFlags::NONE,
    };
    assert_eq!(p.call(&unlink), Ok(Reply::Done));
    let b = match p.call(&Request::Attach { token }) {
        Ok(Reply::Open { handle, attr }) => {
            assert_eq!(attr.size.get(), 4);
            handle
        }
        other => panic!("attach: {other:?}"),
    };
    assert_ne!(a, b);
    assert_eq!(p.call(&Request::Close { handle: a }), Ok(Reply::Done));
    let read = Request::Read {
        handle: b,
        offset: 0,
        count: 10,
    };
    assert_eq!(p.call(&read), Ok(Reply::Read(b"kept".to_vec())));
    let stale = Request::Attach { token: token ^ 1 };
    assert_eq!(p.call(&stale), Err(ErrorCode::STALE));
}

#[test]
fn a_version_1_1_session_refuses_share_before_sending() {
    let mut p = Pair::new(1);
    assert!(matches!(
        p.client.send(&Request::Share { handle: 1 }),
        Err(SendError::Unsupported { .. })
    ));
}
