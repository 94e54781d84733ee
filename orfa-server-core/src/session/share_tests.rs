//! Session tests of `SHARE` and `ATTACH`: an open file reached from another
//! session after its name changed, for a grace period after its last handle
//! went, and only by its user.

use alloc::vec::Vec;

use orfa_wire::{
    Attr, ErrorCode, FsAttr, LockInfo, LockOwnerKind, LockType, OpCode, RequestHeader,
};

use super::two_clients::{Client, Server, header, lock, replies};
use crate::backend::Timestamp;

fn share(s: &mut Server, c: &mut Client, handle: u64) -> Result<u64, ErrorCode> {
    let (reply, _) = s.call(c, header(OpCode::SHARE, handle), &[]);
    match reply.error() {
        ErrorCode::OK => Ok(reply.value.get()),
        e => Err(e),
    }
}

fn attach(s: &mut Server, c: &mut Client, token: u64) -> Result<(u64, Attr), ErrorCode> {
    let mut h = header(OpCode::ATTACH, 0);
    h.arg0 = token.into();
    let (reply, body) = s.call(c, h, &[]);
    match reply.error() {
        ErrorCode::OK => {
            let attr = Attr::parse(&body).expect("attributes of the attached file");
            Ok((reply.value.get(), attr))
        }
        e => Err(e),
    }
}

fn write(s: &mut Server, c: &mut Client, handle: u64, bytes: &[u8]) {
    let (reply, _) = s.call(c, header(OpCode::WRITE, handle), bytes);
    assert_eq!(reply.error(), ErrorCode::OK);
}

fn read(s: &mut Server, c: &mut Client, handle: u64) -> Vec<u8> {
    let mut h = header(OpCode::READ, handle);
    h.count = 100.into();
    let (reply, body) = s.call(c, h, &[]);
    assert_eq!(reply.error(), ErrorCode::OK);
    body
}

fn close(s: &mut Server, c: &mut Client, handle: u64) {
    let (reply, _) = s.call(c, header(OpCode::CLOSE, handle), &[]);
    assert_eq!(reply.error(), ErrorCode::OK);
}

fn path_op(s: &mut Server, c: &mut Client, h: RequestHeader, data: &[u8]) -> ErrorCode {
    s.call(c, h, data).0.error()
}

/// The number of inodes the file system holds.
fn inodes_used(s: &mut Server, c: &mut Client) -> u64 {
    let (reply, body) = s.call(c, header(OpCode::STATFS, 0), &[]);
    assert_eq!(reply.error(), ErrorCode::OK);
    let fs = FsAttr::parse(&body).expect("file system statistics");
    fs.files.get() - fs.ffree.get()
}

/// `mv new old` over the export root.
fn rename(s: &mut Server, c: &mut Client, from: &[u8], to: &[u8]) {
    let mut h = header(OpCode::RENAME, 0);
    h.count = (from.len() as u64).into();
    let data = [from, to].concat();
    assert_eq!(path_op(s, c, h, &data), ErrorCode::OK);
}

fn set_identity(s: &mut Server, c: &mut Client, uid: u64) {
    let mut h = header(OpCode::SETCONTEXT, 0);
    h.arg0 = uid.into();
    h.arg1 = uid.into();
    h.mode = 0o022.into();
    assert_eq!(s.call(c, h, &[]).0.error(), ErrorCode::OK);
}

#[test]
fn an_attached_handle_reads_the_file_renamed_over() {
    let mut s = Server::new();
    let (mut parent, mut child) = (s.client(4, 2), s.client(4, 2));
    let old = s.open(&mut parent, b"c");
    write(&mut s, &mut parent, old, b"old");
    let token = share(&mut s, &mut parent, old).expect("shared");
    assert_eq!(
        share(&mut s, &mut parent, old),
        Ok(token),
        "one token per handle"
    );

    let new = s.open(&mut parent, b"c.lock");
    write(&mut s, &mut parent, new, b"new");
    rename(&mut s, &mut parent, b"c.lock", b"c");

    let (mine, attr) = attach(&mut s, &mut child, token).expect("attached");
    assert_eq!(attr.size.get(), 3);
    assert_eq!(read(&mut s, &mut child, mine), b"old");
    assert_eq!(
        share(&mut s, &mut child, mine),
        Ok(token),
        "attached shares the same token"
    );

    // The parent closes its handle and then ends: the child's handle stays good.
    close(&mut s, &mut parent, old);
    parent.session.release(&s.cx, &mut s.fs, &mut s.locks);
    assert_eq!(read(&mut s, &mut child, mine), b"old");
}

#[test]
fn an_unlinked_shared_file_is_freed_after_the_grace_period() {
    let mut s = Server::new();
    let (mut a, mut b) = (s.client(4, 2), s.client(4, 2));
    let h = s.open(&mut a, b"gone");
    write(&mut s, &mut a, h, b"still here");
    let token = share(&mut s, &mut a, h).expect("shared");
    assert_eq!(
        path_op(&mut s, &mut a, header(OpCode::UNLINK, 0), b"gone"),
        ErrorCode::OK
    );
    // The only handle goes with its session (as an exec closes it).
    a.session.release(&s.cx, &mut s.fs, &mut s.locks);

    // Within the grace period a new session attaches, then lets go.
    s.cx.now.sec += 30;
    let (mine, _) = attach(&mut s, &mut b, token).expect("attached within the grace period");
    assert_eq!(read(&mut s, &mut b, mine), b"still here");
    close(&mut s, &mut b, mine);

    s.cx.now = Timestamp {
        sec: s.cx.now.sec + 61,
        nsec: 0,
    };
    assert_eq!(attach(&mut s, &mut b, token), Err(ErrorCode::STALE));
    // The next change of the table sweeps: the unlinked file's inode goes.
    let other = s.open(&mut b, b"other");
    let with_gone = inodes_used(&mut s, &mut b);
    share(&mut s, &mut b, other).expect("shared");
    assert_eq!(inodes_used(&mut s, &mut b), with_gone - 1);
    assert_eq!(attach(&mut s, &mut b, token), Err(ErrorCode::STALE));
}

#[test]
fn only_the_sharing_user_or_root_may_attach() {
    let mut s = Server::new();
    let (mut a, mut b, mut root) = (s.client(4, 2), s.client(4, 2), s.client(4, 2));
    let h = s.open(&mut a, b"f");
    set_identity(&mut s, &mut a, 1000);
    set_identity(&mut s, &mut b, 1001);
    let token = share(&mut s, &mut a, h).expect("shared");
    assert_eq!(attach(&mut s, &mut b, token), Err(ErrorCode::ACCES));
    assert!(attach(&mut s, &mut root, token).is_ok());
    assert_eq!(attach(&mut s, &mut a, token ^ 0x55), Err(ErrorCode::STALE));
}

#[test]
fn an_older_session_does_not_know_share_and_attach() {
    let mut s = Server::new();
    let mut old = s.client(4, 1);
    let h = s.open(&mut old, b"f");
    assert_eq!(share(&mut s, &mut old, h), Err(ErrorCode::UNSUPPORTED));
    assert_eq!(attach(&mut s, &mut old, 1), Err(ErrorCode::UNSUPPORTED));
    assert_eq!(share(&mut s, &mut old, 999), Err(ErrorCode::UNSUPPORTED));
}

#[test]
fn bad_handles_and_a_full_handle_table_are_refused() {
    let mut s = Server::new();
    let mut a = s.client(4, 2);
    assert_eq!(share(&mut s, &mut a, 42), Err(ErrorCode::BADF));
    let h = s.open(&mut a, b"f");
    let token = share(&mut s, &mut a, h).expect("shared");
    let mut small = s.client_with_handles(4, 2, 1);
    let first = s.open(&mut small, b"g");
    assert_eq!(attach(&mut s, &mut small, token), Err(ErrorCode::MFILE));
    close(&mut s, &mut small, first);
    assert!(attach(&mut s, &mut small, token).is_ok());
}

/// A whole-file `flock` request of `handle` (`kind` `UNLOCK` releases).
fn flock(handle: u64, kind: LockType, wait: bool) -> RequestHeader {
    lock(
        OpCode::LOCK,
        handle,
        kind,
        LockOwnerKind::FLOCK,
        0,
        (0, 0),
        wait,
    )
}

#[test]
fn a_flock_taken_by_a_child_stays_with_the_open_file_until_its_last_handle_goes() {
    // `exec 9>lock; flock 9; ...`: flock(1) locks the shell's open file and
    // exits; the lock stays until the shell closes descriptor 9.
    let mut s = Server::new();
    let (mut shell, mut tool, mut other) = (s.client(4, 2), s.client(4, 2), s.client(4, 2));
    let nine = s.open(&mut shell, b"lock");
    let token = share(&mut s, &mut shell, nine).expect("shared");
    let (mine, _) = attach(&mut s, &mut tool, token).expect("attached");
    let (reply, _) = s.call(&mut tool, flock(mine, LockType::WRITE, false), &[]);
    assert_eq!(reply.error(), ErrorCode::OK);
    tool.session.release(&s.cx, &mut s.fs, &mut s.locks);

    let theirs = s.open(&mut other, b"lock");
    let (reply, _) = s.call(&mut other, flock(theirs, LockType::WRITE, false), &[]);
    assert_eq!(reply.error(), ErrorCode::AGAIN, "the shell still holds it");
    // Through the shell's own handle, the lock is its own: no conflict.
    let (reply, _) = s.call(&mut shell, flock(nine, LockType::READ, false), &[]);
    assert_eq!(reply.error(), ErrorCode::OK);

    // Another session waits; the shell's close (the last handle) grants it.
    let tag = s
        .send(&mut other, flock(theirs, LockType::WRITE, true), &[])
        .expect("accepted");
    assert!(replies(&mut other).is_empty(), "waits");
    close(&mut s, &mut shell, nine);
    s.wake(&mut [&mut other]);
    let got: Vec<_> = replies(&mut other)
        .into_iter()
        .map(|(h, _)| (h.tag.get(), h.error()))
        .collect();
    assert_eq!(got, [(tag, ErrorCode::OK)]);
}

#[test]
fn locks_taken_before_sharing_become_the_open_files() {
    let mut s = Server::new();
    let (mut parent, mut child, mut other) = (s.client(4, 2), s.client(4, 2), s.client(4, 2));
    let h = s.open(&mut parent, b"f");
    let ofd = lock(
        OpCode::LOCK,
        h,
        LockType::WRITE,
        LockOwnerKind::HANDLE,
        0,
        (0, 10),
        false,
    );
    assert_eq!(s.call(&mut parent, ofd, &[]).0.error(), ErrorCode::OK);
    assert_eq!(
        s.call(&mut parent, flock(h, LockType::WRITE, false), &[])
            .0
            .error(),
        ErrorCode::OK
    );
    let token = share(&mut s, &mut parent, h).expect("shared");
    let (mine, _) = attach(&mut s, &mut child, token).expect("attached");
    // The child's descriptor is of the same open file: its locks are its own.
    assert_eq!(
        s.call(&mut child, flock(mine, LockType::READ, false), &[])
            .0
            .error(),
        ErrorCode::OK
    );
    let mut probe = lock(
        OpCode::GETLK,
        mine,
        LockType::WRITE,
        LockOwnerKind::HANDLE,
        0,
        (0, 0),
        false,
    );
    let (reply, body) = s.call(&mut child, probe, &[]);
    assert_eq!(reply.error(), ErrorCode::OK);
    let info = LockInfo::parse(&body).expect("lock info");
    assert_eq!(
        info.lock_type.get(),
        LockType::UNLOCK.0,
        "no conflict with itself"
    );
    let theirs = s.open(&mut other, b"f");
    probe.handle = theirs.into();
    let (_, body) = s.call(&mut other, probe, &[]);
    let info = LockInfo::parse(&body).expect("lock info");
    assert_eq!(
        info.lock_type.get(),
        LockType::WRITE.0,
        "the shared OFD lock"
    );
    // The parent's session ends; the child's handle still holds both.
    // (The child's read flock replaced the write one: the same owner.)
    parent.session.release(&s.cx, &mut s.fs, &mut s.locks);
    assert_eq!(
        s.call(&mut other, flock(theirs, LockType::WRITE, false), &[])
            .0
            .error(),
        ErrorCode::AGAIN
    );
    child.session.release(&s.cx, &mut s.fs, &mut s.locks);
    assert_eq!(
        s.call(&mut other, flock(theirs, LockType::WRITE, false), &[])
            .0
            .error(),
        ErrorCode::OK
    );
    assert_eq!(s.locks.lock_count(), 1, "only other's lock is left");
}
