//! Session tests of `LOCK`, `GETLK` and `CANCEL`: two sessions over one
//! in-memory file system and one lock table.

use orfa_wire::{ErrorCode, LockInfo, LockOwnerKind, LockType, OpCode, PathFlags};

use alloc::vec::Vec;

use super::SessionError;
use super::two_clients::{Server, header, lock, replies};

const POSIX: LockOwnerKind = LockOwnerKind::POSIX;
const HANDLE: LockOwnerKind = LockOwnerKind::HANDLE;
const ALL: (u64, u64) = (0, 0);

#[test]
fn a_waiting_lock_is_answered_after_another_sessions_unlock() {
    let mut s = Server::new();
    let (mut a, mut b) = (s.client(2, 1), s.client(2, 1));
    let fa = s.open(&mut a, b"f");
    let fb = s.open(&mut b, b"f");

    let set = lock(
        OpCode::LOCK,
        fa,
        LockType::WRITE,
        POSIX,
        100,
        (0, 10),
        false,
    );
    assert_eq!(s.call(&mut a, set, &[]).0.error(), ErrorCode::OK);
    let try_b = lock(OpCode::LOCK, fb, LockType::READ, POSIX, 200, (5, 1), false);
    assert_eq!(s.call(&mut b, try_b, &[]).0.error(), ErrorCode::AGAIN);

    let (reply, body) = s.call(
        &mut b,
        lock(OpCode::GETLK, fb, LockType::READ, POSIX, 200, ALL, false),
        &[],
    );
    assert_eq!(reply.error(), ErrorCode::OK);
    let info = LockInfo::parse(&body).expect("lock info");
    assert_eq!(LockType(info.lock_type.get()), LockType::WRITE);
    assert_eq!(
        (info.start.get(), info.len.get(), info.pid.get()),
        (0, 10, 100)
    );
    assert_eq!(LockOwnerKind(info.owner_kind.get()), POSIX);

    // b waits: no reply, and the request holds its credit.
    let waiting = s
        .send(
            &mut b,
            lock(OpCode::LOCK, fb, LockType::WRITE, POSIX, 200, ALL, true),
            &[],
        )
        .expect("accepted");
    assert!(replies(&mut b).is_empty());
    assert_eq!(b.session.outstanding, 1);
    s.call(&mut b, header(OpCode::STAT, 0), &[]);
    assert_eq!(b.session.outstanding, 1);

    let unlock = lock(OpCode::LOCK, fa, LockType::UNLOCK, POSIX, 100, ALL, false);
    assert_eq!(s.call(&mut a, unlock, &[]).0.error(), ErrorCode::OK);
    s.wake(&mut [&mut a, &mut b]);
    let answers = replies(&mut b);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0.tag.get(), waiting);
    assert_eq!(answers[0].0.error(), ErrorCode::OK);
    assert_eq!(answers[0].0.credits.get(), 1);
}

#[test]
fn a_waiting_lock_keeps_its_credit_until_answered() {
    let mut s = Server::new();
    let (mut a, mut b) = (s.client(4, 1), s.client(1, 1));
    let fa = s.open(&mut a, b"f");
    let fb = s.open(&mut b, b"f");
    let set = lock(OpCode::LOCK, fa, LockType::READ, HANDLE, 0, ALL, false);
    assert_eq!(s.call(&mut a, set, &[]).0.error(), ErrorCode::OK);
    s.send(
        &mut b,
        lock(OpCode::LOCK, fb, LockType::WRITE, HANDLE, 0, ALL, true),
        &[],
    )
    .expect("accepted");
    let tag = b.next_tag;
    assert_eq!(
        s.send(&mut b, header(OpCode::STAT, 0), &[]),
        Err(SessionError::NoCredit { tag })
    );
}

#[test]
fn cancel_answers_the_waiting_lock_with_intr_first() {
    let mut s = Server::new();
    let (mut a, mut b) = (s.client(4, 1), s.client(2, 1));
    let fa = s.open(&mut a, b"f");
    let fb = s.open(&mut b, b"f");
    let set = lock(OpCode::LOCK, fa, LockType::WRITE, POSIX, 1, ALL, false);
    assert_eq!(s.call(&mut a, set, &[]).0.error(), ErrorCode::OK);
    let waiting = s
        .send(
            &mut b,
            lock(OpCode::LOCK, fb, LockType::READ, POSIX, 2, ALL, true),
            &[],
        )
        .expect("accepted");
    let mut cancel = header(OpCode::CANCEL, 0);
    cancel.arg0 = waiting.into();
    let cancel_tag = s.send(&mut b, cancel, &[]).expect("cancel has a credit");
    let answers = replies(&mut b);
    let got: Vec<_> = answers
        .iter()
        .map(|(h, _)| (h.tag.get(), h.error()))
        .collect();
    assert_eq!(
        got,
        [(waiting, ErrorCode::INTR), (cancel_tag, ErrorCode::OK)]
    );
    assert_eq!(b.session.outstanding, 0);

    // Cancelling what is no longer waiting is a no-op; the unlock grants nothing.
    assert_eq!(s.call(&mut b, cancel, &[]).0.error(), ErrorCode::OK);
    let unlock = lock(OpCode::LOCK, fa, LockType::UNLOCK, POSIX, 1, ALL, false);
    assert_eq!(s.call(&mut a, unlock, &[]).0.error(), ErrorCode::OK);
    assert!(s.locks.take_woken().is_empty());
}

#[test]
fn deadlock_between_two_sessions_is_refused() {
    let mut s = Server::new();
    let (mut a, mut b) = (s.client(4, 1), s.client(4, 1));
    let fa = s.open(&mut a, b"f");
    let fb = s.open(&mut b, b"f");
    let a0 = lock(OpCode::LOCK, fa, LockType::WRITE, POSIX, 1, (0, 1), false);
    let b1 = lock(OpCode::LOCK, fb, LockType::WRITE, POSIX, 2, (1, 1), false);
    assert_eq!(s.call(&mut a, a0, &[]).0.error(), ErrorCode::OK);
    assert_eq!(s.call(&mut b, b1, &[]).0.error(), ErrorCode::OK);
    let a1 = lock(OpCode::LOCK, fa, LockType::WRITE, POSIX, 1, (1, 1), true);
    s.send(&mut a, a1, &[]).expect("accepted");
    assert!(replies(&mut a).is_empty());
    let b0 = lock(OpCode::LOCK, fb, LockType::WRITE, POSIX, 2, (0, 1), true);
    assert_eq!(s.call(&mut b, b0, &[]).0.error(), ErrorCode::DEADLK);
}

#[test]
fn close_and_session_end_release_locks() {
    let mut s = Server::new();
    let (mut a, mut b, mut c) = (s.client(4, 1), s.client(4, 1), s.client(4, 1));
    let fa = s.open(&mut a, b"f");
    let fb = s.open(&mut b, b"f");
    let fc = s.open(&mut c, b"f");

    // A flock-style lock goes with its handle.
    let flock = lock(OpCode::LOCK, fa, LockType::WRITE, HANDLE, 0, ALL, false);
    assert_eq!(s.call(&mut a, flock, &[]).0.error(), ErrorCode::OK);
    let tag = s
        .send(
            &mut b,
            lock(OpCode::LOCK, fb, LockType::WRITE, HANDLE, 0, ALL, true),
            &[],
        )
        .expect("accepted");
    assert_eq!(
        s.call(&mut a, header(OpCode::CLOSE, fa), &[]).0.error(),
        ErrorCode::OK
    );
    s.wake(&mut [&mut a, &mut b]);
    let got: Vec<_> = replies(&mut b)
        .iter()
        .map(|(h, _)| (h.tag.get(), h.error()))
        .collect();
    assert_eq!(got, [(tag, ErrorCode::OK)]);

    // b now holds it; c waits with a POSIX lock, and b's session ends.
    let tag = s
        .send(
            &mut c,
            lock(OpCode::LOCK, fc, LockType::READ, POSIX, 9, (3, 4), true),
            &[],
        )
        .expect("accepted");
    b.session.release(&s.cx, &mut s.fs, &mut s.locks);
    s.wake(&mut [&mut c]);
    let got: Vec<_> = replies(&mut c)
        .iter()
        .map(|(h, _)| (h.tag.get(), h.error()))
        .collect();
    assert_eq!(got, [(tag, ErrorCode::OK)]);
    assert_eq!(s.locks.lock_count(), 1, "only c's lock is left");
}

#[test]
fn lock_requests_are_checked() {
    let mut s = Server::new();
    let mut a = s.client(4, 1);
    let fa = s.open(&mut a, b"f");
    let cases = [
        (
            lock(OpCode::LOCK, fa, LockType(3), POSIX, 1, ALL, false),
            ErrorCode::INVAL,
        ),
        (
            lock(
                OpCode::LOCK,
                fa,
                LockType::READ,
                LockOwnerKind(3),
                1,
                ALL,
                false,
            ),
            ErrorCode::INVAL,
        ),
        (
            lock(
                OpCode::LOCK,
                fa,
                LockType::READ,
                POSIX,
                1,
                (u64::MAX, 2),
                false,
            ),
            ErrorCode::INVAL,
        ),
        (
            lock(OpCode::LOCK, 999, LockType::READ, POSIX, 1, ALL, false),
            ErrorCode::BADF,
        ),
        (
            lock(OpCode::GETLK, fa, LockType::UNLOCK, POSIX, 1, ALL, false),
            ErrorCode::INVAL,
        ),
    ];
    for (h, want) in cases {
        assert_eq!(s.call(&mut a, h, &[]).0.error(), want, "{h:?}");
    }
    let mut bad_flags = lock(OpCode::LOCK, fa, LockType::READ, POSIX, 1, ALL, false);
    bad_flags.flags = PathFlags::NOFOLLOW.0.into();
    assert_eq!(s.call(&mut a, bad_flags, &[]).0.error(), ErrorCode::INVAL);

    // A 1.0 session knows none of these operations.
    let mut old = s.client(4, 0);
    let fo = s.open(&mut old, b"f");
    let h = lock(OpCode::LOCK, fo, LockType::READ, POSIX, 1, ALL, false);
    assert_eq!(s.call(&mut old, h, &[]).0.error(), ErrorCode::UNSUPPORTED);
    assert_eq!(
        s.call(&mut old, header(OpCode::CANCEL, 0), &[]).0.error(),
        ErrorCode::UNSUPPORTED
    );
}
