//! Locks across connections: a waiting `LOCK` is answered when another
//! client unlocks or leaves, while every connection keeps being served.

mod common;

use common::{Client, Server};
use orfa_wire::{
    ErrorCode, LockInfo, LockOwnerKind, LockType, MsgKind, OpCode, OpenFlags, PathFlags,
    RequestHeader,
};

/// Opens (creating) `path` for reading and writing; returns the handle.
fn open(client: &mut Client, path: &str) -> u64 {
    let reply = client.open(
        path,
        OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE,
        0o644,
    );
    assert_eq!(reply.status(), ErrorCode::OK);
    reply.value()
}

/// A whole-file POSIX `LOCK` (or `GETLK`) header for process `pid`.
fn lock(
    client: &mut Client,
    op: OpCode,
    handle: u64,
    kind: LockType,
    pid: u64,
    wait: bool,
) -> RequestHeader {
    let mut h = client.header(op, handle, 0);
    h.mode = kind.0.into();
    h.arg1 = LockOwnerKind::POSIX.0.into();
    h.arg0 = pid.into();
    if wait {
        h.flags = PathFlags::WAIT.0.into();
    }
    h
}

/// A memory export and a native one, with the directory the latter serves.
fn servers() -> (tempfile::TempDir, Vec<Server>) {
    let dir = common::temp_dir();
    let export = dir.path().to_str().expect("utf-8 path").to_owned();
    let servers = vec![
        Server::start(&["--listen", "127.0.0.1:0", "--memory"]),
        Server::start(&["--listen", "127.0.0.1:0", "--export", &export]),
    ];
    (dir, servers)
}

#[test]
fn a_blocked_lock_waits_without_stalling_anyone_and_is_granted_on_unlock() {
    let (_dir, servers) = servers();
    for server in servers {
        let (mut a, mut b, mut c) = (server.client(0), server.client(0), server.client(0));
        let fa = open(&mut a, "db");
        let fb = open(&mut b, "db");

        let h = lock(&mut a, OpCode::LOCK, fa, LockType::WRITE, 41, false);
        assert_eq!(a.call(h, &[]).status(), ErrorCode::OK);
        let h = lock(&mut b, OpCode::LOCK, fb, LockType::READ, 42, false);
        assert_eq!(b.call(h, &[]).status(), ErrorCode::AGAIN);
        let h = lock(&mut b, OpCode::GETLK, fb, LockType::READ, 42, false);
        let info = LockInfo::parse(&b.call(h, &[]).data).expect("lock info");
        assert_eq!(
            (info.lock_type.get(), info.pid.get()),
            (LockType::WRITE.0, 41)
        );

        // b waits; its own other requests and other clients are still served.
        let waiting = lock(&mut b, OpCode::LOCK, fb, LockType::WRITE, 42, true);
        b.request(&waiting, &[]);
        assert_eq!(b.stat("db").status(), ErrorCode::OK);
        common::exercise(&mut c, "other");

        let h = lock(&mut a, OpCode::LOCK, fa, LockType::UNLOCK, 41, false);
        assert_eq!(a.call(h, &[]).status(), ErrorCode::OK);
        let granted = b.reply();
        assert_eq!(granted.header.tag.get(), waiting.tag.get());
        assert_eq!(granted.header.msg_kind(), MsgKind::REPLY);
        assert_eq!(granted.status(), ErrorCode::OK);
        let h = lock(&mut a, OpCode::LOCK, fa, LockType::READ, 41, false);
        assert_eq!(a.call(h, &[]).status(), ErrorCode::AGAIN, "b holds it now");
    }
}

#[test]
fn cancel_and_disconnect_end_waits() {
    let server = Server::start(&["--listen", "127.0.0.1:0", "--memory"]);
    let (mut a, mut b) = (server.client(0), server.client(0));
    let fa = open(&mut a, "f");
    let fb = open(&mut b, "f");
    let h = lock(&mut a, OpCode::LOCK, fa, LockType::WRITE, 1, false);
    assert_eq!(a.call(h, &[]).status(), ErrorCode::OK);

    let waiting = lock(&mut b, OpCode::LOCK, fb, LockType::WRITE, 2, true);
    b.request(&waiting, &[]);
    let mut cancel = b.header(OpCode::CANCEL, 0, 0);
    cancel.arg0 = waiting.tag;
    b.request(&cancel, &[]);
    let first = b.reply();
    assert_eq!(
        (first.header.tag.get(), first.status()),
        (waiting.tag.get(), ErrorCode::INTR)
    );
    let second = b.reply();
    assert_eq!(
        (second.header.tag.get(), second.status()),
        (cancel.tag.get(), ErrorCode::OK)
    );

    // a leaves without unlocking: the server drops its locks and b gets its turn.
    let waiting = lock(&mut b, OpCode::LOCK, fb, LockType::WRITE, 2, true);
    b.request(&waiting, &[]);
    a.shutdown_write();
    drop(a);
    let granted = b.reply();
    assert_eq!(
        (granted.header.tag.get(), granted.status()),
        (waiting.tag.get(), ErrorCode::OK)
    );
}
