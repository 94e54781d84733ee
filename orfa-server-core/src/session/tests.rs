//! Session tests: framing, credits and rendezvous against the in-memory backend.

use alloc::vec;
use alloc::vec::Vec;

use orfa_wire::{
    Attr, ClientHello, ErrorCode, MAGIC, MsgKind, OpCode, OpenFlags, REPLY_HEADER_LEN, ReplyHeader,
    RequestHeader, SERVER_HELLO_LEN, ServerHello, VERSION_MAJOR, pack_version,
};

use super::{Config, Session, SessionError};
use crate::backend::{Context, Timestamp};
use crate::locks::LockTable;
use crate::memfs::{MemFs, MemNode};

struct Pair {
    session: Session<MemNode>,
    fs: MemFs,
    locks: LockTable,
    cx: Context<'static>,
}

fn hello(major: u16) -> Vec<u8> {
    let h = ClientHello {
        magic: MAGIC.into(),
        version: pack_version(major, 0).into(),
        ..ClientHello::default()
    };
    h.as_wire().to_vec()
}

fn request(op: OpCode, tag: u64, handle: u64, data_len: usize) -> RequestHeader {
    RequestHeader {
        op: op.0.into(),
        tag: tag.into(),
        handle: handle.into(),
        data_len: (data_len as u64).into(),
        ..RequestHeader::default()
    }
}

impl Pair {
    fn new(config: Config) -> Self {
        let cx = Context {
            now: Timestamp {
                sec: 1_700_000_000,
                nsec: 5,
            },
            uid: 0,
            gid: 0,
            ..Default::default()
        };
        let mut pair = Self {
            session: Session::new(config),
            fs: MemFs::new(cx.now),
            locks: LockTable::new(),
            cx,
        };
        pair.session
            .feed(&hello(VERSION_MAJOR))
            .expect("hello accepted");
        let out = pair.drain_raw();
        let answer = ServerHello::parse(&out).expect("server hello");
        assert_eq!(answer.status.get(), 0);
        assert_eq!(answer.credits.get(), config.credits);
        assert_eq!(out.len(), SERVER_HELLO_LEN);
        pair
    }

    fn send(&mut self, header: &RequestHeader, data: &[u8]) -> Result<(), SessionError> {
        self.session.feed(header.as_wire())?;
        self.session.feed(data)?;
        self.session
            .execute(&self.cx, &mut self.fs, &mut self.locks);
        Ok(())
    }

    fn drain_raw(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(t) = self.session.transmit() {
            let [head, body] = t.slices();
            out.extend_from_slice(head);
            out.extend_from_slice(body);
            let n = t.len();
            self.session.transmit_done(n);
        }
        out
    }

    fn replies(&mut self) -> Vec<(ReplyHeader, Vec<u8>)> {
        let raw = self.drain_raw();
        let mut rest = &raw[..];
        let mut all = Vec::new();
        while !rest.is_empty() {
            let h = ReplyHeader::parse(rest).expect("reply header");
            let len = h.data_len.get() as usize;
            let body = rest[REPLY_HEADER_LEN..REPLY_HEADER_LEN + len].to_vec();
            rest = &rest[REPLY_HEADER_LEN + len..];
            all.push((h, body));
        }
        all
    }

    fn one(&mut self, header: &RequestHeader, data: &[u8]) -> (ReplyHeader, Vec<u8>) {
        self.send(header, data).expect("request accepted");
        let mut r = self.replies();
        assert_eq!(r.len(), 1, "one reply expected");
        r.remove(0)
    }

    fn create(&mut self, path: &[u8]) -> u64 {
        let mut h = request(OpCode::OPEN, 1, 0, path.len());
        h.flags = (OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE)
            .0
            .into();
        h.mode = 0o644.into();
        let (reply, body) = self.one(&h, path);
        assert_eq!(reply.error(), ErrorCode::OK);
        assert!(Attr::parse(&body).is_ok());
        reply.value.get()
    }
}

#[test]
fn write_then_read_back() {
    let mut p = Pair::new(Config::default());
    let fh = p.create(b"/f");
    let mut w = request(OpCode::WRITE, 2, fh, 5);
    w.offset = 3.into();
    let (reply, _) = p.one(&w, b"hello");
    assert_eq!(
        (reply.value.get(), reply.aux.get(), reply.credits.get()),
        (5, 8, 1)
    );
    let mut r = request(OpCode::READ, 3, fh, 0);
    r.count = 100.into();
    let (reply, body) = p.one(&r, &[]);
    assert_eq!(reply.tag.get(), 3);
    assert_eq!(body, b"\0\0\0hello");
}

#[test]
fn refuses_other_major_version_and_bad_magic() {
    let mut s: Session<MemNode> = Session::new(Config::default());
    let err = s.feed(&hello(VERSION_MAJOR + 1)).unwrap_err();
    assert!(matches!(err, SessionError::Version { .. }));
    assert!(s.is_closed());
    let t = s.transmit().expect("a refusal is sent");
    let answer = ServerHello::parse(t.slices()[0]).expect("hello");
    assert_eq!(answer.status.get(), ErrorCode::UNSUPPORTED.0);

    let mut s: Session<MemNode> = Session::new(Config::default());
    assert!(matches!(
        s.feed(&[0xff; 64]),
        Err(SessionError::BadMagic(_))
    ));
}

#[test]
fn large_write_goes_through_rendezvous() {
    let mut p = Pair::new(Config::default());
    let fh = p.create(b"big");
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    p.send(&request(OpCode::WRITE, 9, fh, data.len()), &[])
        .expect("header accepted");
    let r = p.replies();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0.msg_kind(), MsgKind::CLEAR_TO_SEND);
    assert_eq!(
        (r[0].0.tag.get(), r[0].0.value.get(), r[0].0.credits.get()),
        (9, 200_000, 0)
    );

    // Another request may run while the data part is pending.
    let (stat, _) = p.one(&request(OpCode::STAT, 10, 0, 3), b"big");
    assert_eq!(stat.error(), ErrorCode::OK);

    p.send(&request(OpCode::DATA, 9, 0, data.len()), &data)
        .expect("data accepted");
    let r = p.replies();
    assert_eq!((r[0].0.tag.get(), r[0].0.value.get()), (9, 200_000));
    let mut read = request(OpCode::READ, 11, fh, 0);
    read.count = 300_000.into();
    let (_, body) = p.one(&read, &[]);
    assert_eq!(body, data);
}

#[test]
fn refuses_oversized_data_parts_but_keeps_the_session() {
    let config = Config {
        max_io: 100_000,
        ..Config::default()
    };
    let mut p = Pair::new(config);
    let fh = p.create(b"f");
    let (reply, _) = p.one(&request(OpCode::WRITE, 4, fh, 100_001), &[]);
    assert_eq!(reply.error(), ErrorCode::TOO_LARGE);
    let (reply, _) = p.one(&request(OpCode::STAT, 5, 0, 70_000), &[]);
    assert_eq!(reply.error(), ErrorCode::TOO_LARGE);
    let (reply, _) = p.one(&request(OpCode::STAT, 6, 0, 1), b"f");
    assert_eq!(reply.error(), ErrorCode::OK);
}

#[test]
fn data_for_an_unknown_tag_is_fatal() {
    let mut p = Pair::new(Config::default());
    let err = p
        .send(&request(OpCode::DATA, 77, 0, 10), &[0; 10])
        .unwrap_err();
    assert_eq!(err, SessionError::UnexpectedData { tag: 77 });
    assert!(p.session.is_closed());
    assert!(p.session.recv_buf().is_empty());
}

#[test]
fn credits_bound_outstanding_requests() {
    let config = Config {
        credits: 3,
        ..Config::default()
    };
    let mut p = Pair::new(config);
    for tag in 0..3 {
        p.send(&request(OpCode::STAT, tag, 0, 0), &[])
            .expect("within credits");
    }
    // Replies not yet sent: the credits are still in use.
    let err = p.send(&request(OpCode::STAT, 3, 0, 0), &[]).unwrap_err();
    assert_eq!(err, SessionError::NoCredit { tag: 3 });

    let mut p = Pair::new(config);
    for round in 0..5u64 {
        for tag in 0..3 {
            p.send(&request(OpCode::STAT, round * 3 + tag, 0, 0), &[])
                .expect("credit returned");
        }
        assert_eq!(p.replies().len(), 3);
    }
}

#[test]
fn unknown_operations_get_unsupported() {
    let mut p = Pair::new(Config::default());
    let (reply, _) = p.one(&request(OpCode(0x7777), 1, 0, 4), b"abcd");
    assert_eq!(reply.error(), ErrorCode::UNSUPPORTED);
    assert_eq!(reply.credits.get(), 1);
    let (reply, _) = p.one(&request(OpCode::READ, 2, 12345, 0), &[]);
    assert_eq!(reply.error(), ErrorCode::BADF);
}

#[test]
fn byte_by_byte_input_gives_the_same_replies() {
    let mut whole = Pair::new(Config::default());
    let mut split = Pair::new(Config::default());
    let fh = whole.create(b"x");
    assert_eq!(split.create(b"x"), fh);
    let mut stream = Vec::new();
    let w = request(OpCode::WRITE, 5, fh, 3);
    stream.extend_from_slice(w.as_wire());
    stream.extend_from_slice(b"abc");
    let mut r = request(OpCode::READ, 6, fh, 0);
    r.count = 10.into();
    stream.extend_from_slice(r.as_wire());
    whole.session.feed(&stream).expect("accepted");
    whole
        .session
        .execute(&whole.cx, &mut whole.fs, &mut whole.locks);
    for b in &stream {
        split
            .session
            .feed(core::slice::from_ref(b))
            .expect("accepted");
        split
            .session
            .execute(&split.cx, &mut split.fs, &mut split.locks);
    }
    let a: Vec<_> = whole
        .replies()
        .into_iter()
        .map(|(h, b)| (h.as_wire().to_vec(), b))
        .collect();
    let b: Vec<_> = split
        .replies()
        .into_iter()
        .map(|(h, b)| (h.as_wire().to_vec(), b))
        .collect();
    assert_eq!(a, b);
    assert_eq!(a[1].1, b"abc");
}

#[test]
fn release_closes_every_handle() {
    let mut p = Pair::new(Config::default());
    for i in 0..10u8 {
        p.create(&[b'a' + i]);
    }
    assert_eq!(p.session.handles.len(), 10);
    p.session.release(&p.cx, &mut p.fs, &mut p.locks);
    assert!(p.session.handles.is_empty());
    assert!(p.session.is_closed());
}

quickcheck::quickcheck! {
    /// Arbitrary bytes after a valid hello never panic, and what the session
    /// holds stays within its credits.
    fn garbage_never_panics(chunks: Vec<Vec<u8>>) -> bool {
        let config = Config { credits: 4, eager_limit: 1024, max_io: 4096, ..Config::default() };
        let mut p = Pair::new(config);
        for chunk in chunks {
            if p.session.feed(&chunk).is_err() {
                break;
            }
            p.session.execute(&p.cx, &mut p.fs, &mut p.locks);
            if p.session.ready.len() as u64 > config.credits
                || p.session.out.len() as u64 > 2 * config.credits
                || p.session.awaiting_data.len() as u64 > config.credits
            {
                return false;
            }
        }
        let _ = p.replies();
        true
    }
}

#[test]
fn garbage_with_valid_looking_headers() {
    // Headers with random ops, handles and lengths, and their data parts.
    let mut seed = 0x1234_5678_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200 {
        let mut p = Pair::new(Config {
            credits: 8,
            ..Config::default()
        });
        for _ in 0..50 {
            let len = (next() % 200) as usize;
            let mut h = request(OpCode(next() % 20), next(), next() % 4, len);
            h.flags = (next() % 1024).into();
            h.count = (next() % 300).into();
            h.mode = next().into();
            h.offset = next().into();
            let data = vec![(next() % 256) as u8; len];
            if p.send(&h, &data).is_err() {
                break;
            }
            let _ = p.replies();
        }
    }
}

#[test]
fn creating_the_base_itself_finds_it_exists() {
    let mut p = Pair::new(Config::default());
    for path in [&b""[..], b"/", b"//"] {
        let (reply, _) = p.one(&request(OpCode::MKDIR, 1, 0, path.len()), path);
        assert_eq!(reply.error(), ErrorCode::EXIST, "mkdir {path:?}");
        let (reply, _) = p.one(&request(OpCode::MKNOD, 2, 0, path.len()), path);
        assert_eq!(reply.error(), ErrorCode::EXIST, "mknod {path:?}");
    }
}
