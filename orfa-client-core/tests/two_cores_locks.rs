//! Locks through the client core against two server sessions sharing one
//! file system and one lock table, in memory: a waiting `LOCK` keeps its
//! credit, `CANCEL` spends one, and the answers come in the promised order.

use orfa_client_core::{
    Client, Event, Reply, Request, SendError, client_hello, parse_server_hello,
};
use orfa_server_core::{Config, Context, LockTable, MemFs, MemNode, Session, Timestamp};
use orfa_wire::{ErrorCode, LockOwnerKind, LockType, OpenFlags, SERVER_HELLO_LEN};

type Outcome = Result<Reply<Vec<u8>>, ErrorCode>;

/// One client core joined to one server session.
struct Peer {
    client: Client,
    session: Session<MemNode>,
}

struct World {
    fs: MemFs,
    locks: LockTable,
    cx: Context<'static>,
}

impl World {
    fn new() -> Self {
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

    fn connect(&mut self, credits: u64, max_minor: u16) -> Peer {
        let mut session = Session::new(Config {
            credits,
            max_minor,
            ..Config::default()
        });
        session.feed(&client_hello()).expect("hello");
        let hello = drain(&mut session);
        let limits = parse_server_hello(&hello[..SERVER_HELLO_LEN]).expect("server hello");
        Peer {
            client: Client::new(limits),
            session,
        }
    }

    /// Sends `req` from `peer`; returns its tag.
    fn send(&mut self, peer: &mut Peer, req: &Request<'_>) -> Result<u64, SendError> {
        let out = peer.client.send(req)?;
        for s in out.slices() {
            peer.session.feed(s).expect("server accepts");
        }
        peer.session
            .execute(&self.cx, &mut self.fs, &mut self.locks);
        Ok(out.tag())
    }

    /// Lets the sessions the table woke collect their answers.
    fn wake(&mut self, peers: &mut [&mut Peer]) {
        for id in self.locks.take_woken() {
            for p in peers.iter_mut().filter(|p| p.session.id() == id) {
                p.session.poll_locks(&mut self.locks);
            }
        }
    }

    fn call(&mut self, peer: &mut Peer, req: &Request<'_>) -> Outcome {
        let tag = self.send(peer, req).expect("sent");
        let done = receive(peer);
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].0, tag);
        done[0].1.clone()
    }

    fn open(&mut self, peer: &mut Peer, path: &[u8]) -> u64 {
        let req = Request::Open {
            base: 0,
            path,
            flags: OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE,
            mode: 0o600,
        };
        match self.call(peer, &req) {
            Ok(Reply::Open { handle, .. }) => handle,
            other => panic!("open: {other:?}"),
        }
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

/// Everything the session sent, through the client core: (tag, outcome).
fn receive(peer: &mut Peer) -> Vec<(u64, Outcome)> {
    let bytes = drain(&mut peer.session);
    peer.client.feed(&bytes).expect("client accepts");
    let mut done = Vec::new();
    while let Some(event) = peer.client.poll_event() {
        if let Event::Reply(c) = event {
            done.push((c.tag, c.result));
        }
    }
    done
}

fn posix_lock(handle: u64, lock_type: LockType, pid: u64, wait: bool) -> Request<'static> {
    Request::Lock {
        handle,
        start: 0,
        len: 0,
        lock_type,
        owner_kind: LockOwnerKind::POSIX,
        pid,
        wait,
    }
}

#[test]
fn waiting_lock_holds_a_credit_and_is_answered_after_the_unlock() {
    let mut w = World::new();
    let (mut a, mut b) = (w.connect(2, 1), w.connect(2, 1));
    let fa = w.open(&mut a, b"f");
    let fb = w.open(&mut b, b"f");
    assert_eq!(
        w.call(&mut a, &posix_lock(fa, LockType::WRITE, 7, false)),
        Ok(Reply::Done)
    );

    let getlk = Request::GetLk {
        handle: fb,
        start: 10,
        len: 1,
        lock_type: LockType::READ,
        owner_kind: LockOwnerKind::POSIX,
        pid: 8,
    };
    match w.call(&mut b, &getlk) {
        Ok(Reply::GetLk(info)) => {
            assert_eq!(info.lock_type.get(), LockType::WRITE.0);
            assert_eq!(
                (info.start.get(), info.len.get(), info.pid.get()),
                (0, 0, 7)
            );
        }
        other => panic!("getlk: {other:?}"),
    }

    let waiting = w
        .send(&mut b, &posix_lock(fb, LockType::READ, 8, true))
        .expect("sent");
    assert!(receive(&mut b).is_empty());
    assert_eq!((b.client.outstanding(), b.client.credits()), (1, 1));
    // The second credit serves other requests, one at a time.
    let stat = Request::Stat {
        base: fb,
        path: b"",
        flags: Default::default(),
    };
    assert!(w.call(&mut b, &stat).is_ok());
    w.send(&mut b, &stat).expect("the last credit");
    assert_eq!(w.send(&mut b, &stat), Err(SendError::NoCredits));
    assert_eq!(receive(&mut b).len(), 1);

    assert_eq!(
        w.call(&mut a, &posix_lock(fa, LockType::UNLOCK, 7, false)),
        Ok(Reply::Done)
    );
    w.wake(&mut [&mut a, &mut b]);
    assert_eq!(receive(&mut b), [(waiting, Ok(Reply::Done))]);
    assert_eq!(b.client.credits(), 2);
}

#[test]
fn cancel_spends_its_own_credit_and_comes_after_the_intr() {
    let mut w = World::new();
    let (mut a, mut b) = (w.connect(4, 1), w.connect(2, 1));
    let fa = w.open(&mut a, b"f");
    let fb = w.open(&mut b, b"f");
    assert_eq!(
        w.call(&mut a, &posix_lock(fa, LockType::READ, 1, false)),
        Ok(Reply::Done)
    );
    let waiting = w
        .send(&mut b, &posix_lock(fb, LockType::WRITE, 2, true))
        .expect("sent");
    let cancel = w
        .send(&mut b, &Request::Cancel { tag: waiting })
        .expect("sent");
    assert_eq!(b.client.credits(), 0);
    assert_eq!(
        receive(&mut b),
        [(waiting, Err(ErrorCode::INTR)), (cancel, Ok(Reply::Done))]
    );
    assert_eq!(b.client.credits(), 2);
}

#[test]
fn a_one_zero_session_has_no_locks() {
    let mut w = World::new();
    let mut old = w.connect(2, 0);
    assert_eq!(old.client.limits().minor, 0);
    let f = w.open(&mut old, b"f");
    assert_eq!(
        w.send(&mut old, &posix_lock(f, LockType::READ, 1, false)),
        Err(SendError::Unsupported {
            op: orfa_wire::OpCode::LOCK
        })
    );
    assert_eq!(w.connect(2, 1).client.limits().minor, 1);
}
