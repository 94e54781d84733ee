//! Test support: clients of one server, each a session over one in-memory
//! file system and one lock table.

use alloc::vec::Vec;

use orfa_wire::{
    ClientHello, ErrorCode, LockOwnerKind, LockType, MAGIC, OpCode, OpenFlags, PathFlags,
    REPLY_HEADER_LEN, ReplyHeader, RequestHeader, VERSION_MAJOR, pack_version,
};

use super::{Config, Session, SessionError};
use crate::backend::{Context, Timestamp};
use crate::locks::LockTable;
use crate::memfs::{MemFs, MemNode};

/// Two clients of one server.
pub(super) struct Server {
    pub(super) fs: MemFs,
    pub(super) locks: LockTable,
    pub(super) cx: Context<'static>,
}

pub(super) struct Client {
    pub(super) session: Session<MemNode>,
    pub(super) next_tag: u64,
}

impl Server {
    pub(super) fn new() -> Self {
        let now = Timestamp { sec: 1, nsec: 0 };
        Self {
            fs: MemFs::new(now),
            locks: LockTable::new(),
            cx: Context {
                now,
                ..Context::default()
            },
        }
    }

    pub(super) fn client(&mut self, credits: u64, minor: u16) -> Client {
        self.client_with_handles(credits, minor, Config::default().max_handles)
    }

    /// A client whose session holds at most `max_handles` handles.
    pub(super) fn client_with_handles(
        &mut self,
        credits: u64,
        minor: u16,
        max_handles: usize,
    ) -> Client {
        let mut session = Session::new(Config {
            credits,
            max_handles,
            ..Config::default()
        });
        let hello = ClientHello {
            magic: MAGIC.into(),
            version: pack_version(VERSION_MAJOR, minor).into(),
            ..ClientHello::default()
        };
        session.feed(hello.as_wire()).expect("hello");
        while let Some(t) = session.transmit() {
            let n = t.len();
            session.transmit_done(n);
        }
        Client {
            session,
            next_tag: 1,
        }
    }

    /// Sends one request; returns its tag. Replies stay queued.
    pub(super) fn send(
        &mut self,
        c: &mut Client,
        mut h: RequestHeader,
        data: &[u8],
    ) -> Result<u64, SessionError> {
        let tag = c.next_tag;
        c.next_tag += 1;
        h.tag = tag.into();
        h.data_len = (data.len() as u64).into();
        c.session.feed(h.as_wire())?;
        c.session.feed(data)?;
        c.session.execute(&self.cx, &mut self.fs, &mut self.locks);
        Ok(tag)
    }

    /// Sends one request and takes its one reply.
    pub(super) fn call(
        &mut self,
        c: &mut Client,
        h: RequestHeader,
        data: &[u8],
    ) -> (ReplyHeader, Vec<u8>) {
        let tag = self.send(c, h, data).expect("accepted");
        let mut replies = replies(c);
        assert_eq!(replies.len(), 1, "one reply expected");
        let (reply, body) = replies.remove(0);
        assert_eq!(reply.tag.get(), tag);
        (reply, body)
    }

    pub(super) fn open(&mut self, c: &mut Client, path: &[u8]) -> u64 {
        let mut h = header(OpCode::OPEN, 0);
        h.flags = (OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE)
            .0
            .into();
        h.mode = 0o644.into();
        let (reply, _) = self.call(c, h, path);
        assert_eq!(reply.error(), ErrorCode::OK);
        reply.value.get()
    }

    /// Lets every session the table woke collect its answers.
    pub(super) fn wake(&mut self, clients: &mut [&mut Client]) {
        for id in self.locks.take_woken() {
            for c in clients.iter_mut().filter(|c| c.session.id() == id) {
                c.session.poll_locks(&mut self.locks);
            }
        }
    }
}

pub(super) fn header(op: OpCode, handle: u64) -> RequestHeader {
    RequestHeader {
        op: op.0.into(),
        handle: handle.into(),
        ..RequestHeader::default()
    }
}

pub(super) fn replies(c: &mut Client) -> Vec<(ReplyHeader, Vec<u8>)> {
    let mut raw = Vec::new();
    while let Some(t) = c.session.transmit() {
        let [head, body] = t.slices();
        raw.extend_from_slice(head);
        raw.extend_from_slice(body);
        let n = t.len();
        c.session.transmit_done(n);
    }
    let mut rest = &raw[..];
    let mut all = Vec::new();
    while !rest.is_empty() {
        let h = ReplyHeader::parse(rest).expect("reply header");
        let len = h.data_len.get() as usize;
        all.push((h, rest[REPLY_HEADER_LEN..REPLY_HEADER_LEN + len].to_vec()));
        rest = &rest[REPLY_HEADER_LEN + len..];
    }
    all
}

/// A `LOCK` (or with `op`, `GETLK`) request.
pub(super) fn lock(
    op: OpCode,
    handle: u64,
    kind: LockType,
    owner: LockOwnerKind,
    pid: u64,
    (start, len): (u64, u64),
    wait: bool,
) -> RequestHeader {
    let mut h = header(op, handle);
    h.mode = kind.0.into();
    h.arg1 = owner.0.into();
    h.arg0 = pid.into();
    h.offset = start.into();
    h.count = len.into();
    if wait {
        h.flags = PathFlags::WAIT.0.into();
    }
    h
}
