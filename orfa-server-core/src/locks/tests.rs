//! Lock table tests: conflicts, ranges, owners, waiters, deadlocks, limits.

use alloc::vec;
use alloc::vec::Vec;

use orfa_wire::{ErrorCode, LockOwnerKind, LockType};

use super::{LockLimits, LockTable, Outcome, Owner, Range, SessionId};

const FILE: u128 = 7;
const OTHER_FILE: u128 = 8;
const R: LockType = LockType::READ;
const W: LockType = LockType::WRITE;
const U: LockType = LockType::UNLOCK;

fn posix(session: u64, pid: u64) -> Owner {
    Owner {
        session: SessionId(session),
        kind: LockOwnerKind::POSIX,
        id: pid,
    }
}

fn handle(session: u64, handle: u64) -> Owner {
    Owner {
        session: SessionId(session),
        kind: LockOwnerKind::HANDLE,
        id: handle,
    }
}

fn range(start: u64, len: u64) -> Range {
    Range::new(start, len).expect("valid range")
}

/// Sets without waiting.
fn set(
    t: &mut LockTable,
    owner: Owner,
    kind: LockType,
    start: u64,
    len: u64,
) -> Result<(), ErrorCode> {
    t.set(FILE, owner, kind, range(start, len), None).map(|o| {
        assert_eq!(o, Outcome::Done);
    })
}

/// Sets with `WAIT` and tag `tag`.
fn wait(
    t: &mut LockTable,
    owner: Owner,
    kind: LockType,
    start: u64,
    len: u64,
    tag: u64,
) -> Result<Outcome, ErrorCode> {
    t.set(FILE, owner, kind, range(start, len), Some(tag))
}

/// An owner's locks on `FILE` as (type, start, len), sorted by start.
fn held_by(t: &LockTable, owner: Owner) -> Vec<(LockType, u64, u64)> {
    let mut all: Vec<_> = t
        .files
        .get(&FILE)
        .map(|f| {
            f.held
                .iter()
                .filter(|h| h.owner == owner)
                .map(|h| (h.kind, h.range.start, h.range.len()))
                .collect()
        })
        .unwrap_or_default();
    all.sort_by_key(|&(_, start, _)| start);
    all
}

#[test]
fn readers_share_and_writers_exclude() {
    let mut t = LockTable::new();
    let (a, b, c) = (posix(1, 10), posix(2, 20), posix(2, 21));
    assert_eq!(set(&mut t, a, R, 0, 100), Ok(()));
    assert_eq!(set(&mut t, b, R, 50, 100), Ok(()));
    assert_eq!(set(&mut t, c, W, 90, 5), Err(ErrorCode::AGAIN));
    assert_eq!(set(&mut t, c, W, 150, 5), Ok(()), "past both read locks");
    assert_eq!(set(&mut t, a, W, 0, 10), Ok(()), "no one else reads 0..10");
    assert_eq!(set(&mut t, b, R, 5, 1), Err(ErrorCode::AGAIN));
    // Another owner of the same session conflicts like any other.
    assert_eq!(set(&mut t, b, W, 152, 1), Err(ErrorCode::AGAIN));

    let seen = t.test(FILE, b, R, range(0, 50)).expect("a's write lock");
    let info = seen.info();
    assert_eq!(LockType(info.lock_type.get()), W);
    assert_eq!(
        (info.start.get(), info.len.get(), info.pid.get()),
        (0, 10, 10)
    );
    assert_eq!(
        t.test(FILE, a, W, range(0, 10)),
        None,
        "own locks never conflict"
    );
    assert_eq!(t.test(OTHER_FILE, a, W, range(0, 0)), None);
}

#[test]
fn ranges_to_infinity_and_their_edges() {
    let mut t = LockTable::new();
    let (a, b) = (posix(1, 1), posix(2, 2));
    assert_eq!(set(&mut t, a, W, 1000, 0), Ok(()));
    assert_eq!(set(&mut t, b, W, 999, 1), Ok(()), "the byte just before");
    assert_eq!(set(&mut t, b, W, u64::MAX - 1, 1), Err(ErrorCode::AGAIN));
    assert_eq!(set(&mut t, b, R, 1000, 1), Err(ErrorCode::AGAIN));
    assert_eq!(
        t.test(FILE, b, R, range(5000, 1)).map(|h| h.range.len()),
        Some(0)
    );
    assert!(
        Range::new(u64::MAX, 2).is_none(),
        "a range past the last offset"
    );
    assert_eq!(Range::new(u64::MAX, 1).map(|r| r.len()), Some(0));
}

#[test]
fn own_locks_split_merge_upgrade_and_downgrade() {
    let mut t = LockTable::new();
    let a = posix(1, 1);
    set(&mut t, a, R, 0, 100).unwrap();
    set(&mut t, a, W, 40, 20).unwrap();
    assert_eq!(held_by(&t, a), vec![(R, 0, 40), (W, 40, 20), (R, 60, 40)]);
    // Downgrade the middle: the three pieces merge back into one.
    set(&mut t, a, R, 40, 20).unwrap();
    assert_eq!(held_by(&t, a), vec![(R, 0, 100)]);
    // Unlock a hole, then extend to infinity.
    set(&mut t, a, U, 10, 10).unwrap();
    assert_eq!(held_by(&t, a), vec![(R, 0, 10), (R, 20, 80)]);
    set(&mut t, a, R, 100, 0).unwrap();
    assert_eq!(held_by(&t, a), vec![(R, 0, 10), (R, 20, 0)]);
    // Adjacent ranges set one after the other merge.
    set(&mut t, a, R, 10, 10).unwrap();
    assert_eq!(held_by(&t, a), vec![(R, 0, 0)]);
    // Upgrade everything; then unlock from 50 on.
    set(&mut t, a, W, 0, 0).unwrap();
    set(&mut t, a, U, 50, 0).unwrap();
    assert_eq!(held_by(&t, a), vec![(W, 0, 50)]);
    assert_eq!(t.sessions[&SessionId(1)].locks, 1);
    set(&mut t, a, U, 0, 0).unwrap();
    assert!(t.files.is_empty(), "nothing left for the file");
    assert_eq!(t.sessions[&SessionId(1)].locks, 0);
}

#[test]
fn an_upgrade_that_conflicts_changes_nothing() {
    let mut t = LockTable::new();
    let (a, b) = (posix(1, 1), posix(2, 2));
    set(&mut t, a, R, 0, 10).unwrap();
    set(&mut t, b, R, 5, 10).unwrap();
    assert_eq!(set(&mut t, a, W, 0, 10), Err(ErrorCode::AGAIN));
    assert_eq!(held_by(&t, a), vec![(R, 0, 10)]);
}

#[test]
fn waiters_are_granted_in_arrival_order_once_unblocked() {
    let mut t = LockTable::new();
    let (a, b, c, d) = (posix(1, 1), posix(2, 2), posix(3, 3), posix(4, 4));
    set(&mut t, a, W, 0, 0).unwrap();
    assert_eq!(wait(&mut t, b, W, 0, 10, 100), Ok(Outcome::Waiting));
    assert_eq!(wait(&mut t, c, R, 5, 1, 200), Ok(Outcome::Waiting));
    assert_eq!(wait(&mut t, d, R, 50, 1, 300), Ok(Outcome::Waiting));
    assert!(t.take_woken().is_empty());
    assert_eq!(t.waiter_count(), 3);

    // a releases 0..20: b gets its write lock; c still conflicts (with b now).
    set(&mut t, a, U, 0, 20).unwrap();
    assert_eq!(t.take_woken(), vec![SessionId(2)]);
    assert_eq!(t.take_answers(SessionId(2)), vec![(100, ErrorCode::OK)]);
    assert_eq!(held_by(&t, b), vec![(W, 0, 10)]);
    assert!(t.take_answers(SessionId(3)).is_empty());

    // b unlocks: c proceeds. a still holds 50..: d waits on.
    set(&mut t, b, U, 0, 0).unwrap();
    assert_eq!(t.take_woken(), vec![SessionId(3)]);
    assert_eq!(t.take_answers(SessionId(3)), vec![(200, ErrorCode::OK)]);
    set(&mut t, a, U, 0, 0).unwrap();
    assert_eq!(t.take_answers(SessionId(4)), vec![(300, ErrorCode::OK)]);
    assert_eq!(t.waiter_count(), 0);
}

#[test]
fn a_downgrade_lets_readers_through() {
    let mut t = LockTable::new();
    let (a, b, c) = (posix(1, 1), posix(2, 2), posix(3, 3));
    set(&mut t, a, W, 0, 0).unwrap();
    wait(&mut t, b, R, 0, 1, 1).unwrap();
    wait(&mut t, c, W, 0, 1, 2).unwrap();
    set(&mut t, a, R, 0, 0).unwrap();
    assert_eq!(t.take_woken(), vec![SessionId(2)]);
    assert_eq!(t.take_answers(SessionId(3)), vec![]);
}

#[test]
fn two_owners_waiting_for_each_other_deadlock() {
    let mut t = LockTable::new();
    let (a, b) = (posix(1, 1), posix(2, 2));
    set(&mut t, a, W, 0, 1).unwrap();
    set(&mut t, b, W, 1, 1).unwrap();
    assert_eq!(wait(&mut t, a, W, 1, 1, 10), Ok(Outcome::Waiting));
    assert_eq!(wait(&mut t, b, W, 0, 1, 20), Err(ErrorCode::DEADLK));

    // Three owners over two files: a waits for b, b for c, c would wait for a.
    let c = posix(3, 3);
    let mut t = LockTable::new();
    t.set(FILE, a, W, range(0, 1), None).unwrap();
    t.set(FILE, b, W, range(1, 1), None).unwrap();
    t.set(OTHER_FILE, c, W, range(0, 1), None).unwrap();
    assert_eq!(
        t.set(FILE, a, W, range(1, 1), Some(1)),
        Ok(Outcome::Waiting)
    );
    assert_eq!(
        t.set(OTHER_FILE, b, R, range(0, 0), Some(2)),
        Ok(Outcome::Waiting)
    );
    assert_eq!(
        t.set(FILE, c, R, range(0, 5), Some(3)),
        Err(ErrorCode::DEADLK)
    );
    // Handle locks never count as deadlocks (as open-file-description locks).
    let h = handle(3, 9);
    assert_eq!(
        t.set(FILE, h, R, range(0, 5), Some(4)),
        Ok(Outcome::Waiting)
    );
}

#[test]
fn cancel_withdraws_a_waiter() {
    let mut t = LockTable::new();
    let (a, b) = (posix(1, 1), posix(2, 2));
    set(&mut t, a, W, 0, 0).unwrap();
    wait(&mut t, b, W, 0, 0, 5).unwrap();
    assert_eq!(
        wait(&mut t, b, W, 0, 0, 5),
        Err(ErrorCode::PROTOCOL),
        "tag reused"
    );
    assert!(!t.cancel(SessionId(1), 5), "another session's tag");
    assert!(t.cancel(SessionId(2), 5));
    assert!(!t.cancel(SessionId(2), 5), "already gone");
    set(&mut t, a, U, 0, 0).unwrap();
    assert!(t.take_woken().is_empty());
    assert!(t.files.is_empty());
}

#[test]
fn closing_a_handle_releases_its_locks_and_ends_its_waiters() {
    let mut t = LockTable::new();
    let (h1, h2, h3) = (handle(1, 1), handle(1, 2), handle(2, 1));
    set(&mut t, h1, W, 0, 0).unwrap();
    // Two handles of one session conflict, as two flock()s of one process.
    assert_eq!(set(&mut t, h2, R, 0, 0), Err(ErrorCode::AGAIN));
    wait(&mut t, h3, R, 0, 0, 7).unwrap();
    wait(&mut t, h2, W, 0, 0, 8).unwrap();
    t.release_handle(SessionId(1), 2, FILE);
    assert_eq!(t.take_answers(SessionId(1)), vec![(8, ErrorCode::BADF)]);
    t.release_handle(SessionId(1), 1, FILE);
    assert_eq!(t.take_answers(SessionId(2)), vec![(7, ErrorCode::OK)]);
    let woken = t.take_woken();
    assert!(woken.contains(&SessionId(1)) && woken.contains(&SessionId(2)));
    assert_eq!(held_by(&t, h3), vec![(R, 0, 0)]);
}

#[test]
fn the_end_of_a_session_releases_everything_it_had() {
    let mut t = LockTable::new();
    let (a, a2, b) = (posix(1, 1), handle(1, 3), posix(2, 2));
    set(&mut t, a, W, 0, 10).unwrap();
    t.set(OTHER_FILE, a2, R, range(0, 0), None).unwrap();
    wait(&mut t, b, W, 5, 1, 1).unwrap();
    t.set(OTHER_FILE, b, W, range(0, 0), Some(2)).unwrap();
    set(&mut t, b, R, 100, 1).unwrap();
    assert_eq!(
        wait(&mut t, handle(1, 4), W, 100, 1, 3),
        Ok(Outcome::Waiting)
    );

    t.release_session(SessionId(1));
    assert_eq!(t.take_woken(), vec![SessionId(2)]);
    let mut answers = t.take_answers(SessionId(2));
    answers.sort();
    assert_eq!(answers, vec![(1, ErrorCode::OK), (2, ErrorCode::OK)]);
    assert_eq!(t.lock_count(), 3, "b's three locks");
    assert_eq!(t.waiter_count(), 0);
    assert!(!t.sessions.contains_key(&SessionId(1)));
    t.release_session(SessionId(2));
    assert!(t.files.is_empty() && t.sessions.is_empty());
}

#[test]
fn locks_and_waiters_per_session_are_capped() {
    let mut t = LockTable::with_limits(LockLimits {
        max_locks: 4,
        max_waiters: 2,
    });
    let (a, b) = (posix(1, 1), posix(2, 2));
    for i in 0..4 {
        set(&mut t, a, W, i * 10, 1).unwrap();
    }
    assert_eq!(set(&mut t, a, W, 100, 1), Err(ErrorCode::NOLCK));
    // Merging into an existing record costs nothing.
    assert_eq!(set(&mut t, a, W, 1, 1), Ok(()));
    assert_eq!(set(&mut t, a, U, 0, 1), Ok(()), "shrinks, no split");
    assert_eq!(set(&mut t, a, U, 21, 0), Ok(()), "releases one");
    assert_eq!(held_by(&t, a), vec![(W, 1, 1), (W, 10, 1), (W, 20, 1)]);
    // Splitting a record costs one more: refused at the cap.
    set(&mut t, a, W, 40, 10).unwrap();
    assert_eq!(set(&mut t, a, U, 45, 1), Err(ErrorCode::NOLCK));
    assert_eq!(held_by(&t, a).len(), 4);
    // Another session has its own allowance.
    assert_eq!(set(&mut t, b, W, 200, 1), Ok(()));

    assert_eq!(wait(&mut t, b, W, 1, 1, 1), Ok(Outcome::Waiting));
    assert_eq!(wait(&mut t, b, W, 10, 1, 2), Ok(Outcome::Waiting));
    assert_eq!(wait(&mut t, b, W, 20, 1, 3), Err(ErrorCode::NOLCK));
}

#[test]
fn flock_locks_never_meet_record_locks() {
    let flock = |session: u64, id: u64| Owner {
        session: SessionId(session),
        kind: LockOwnerKind::FLOCK,
        id,
    };
    let mut t = LockTable::new();
    set(&mut t, flock(1, 1), W, 0, 0).expect("flock");
    // A record lock of another session on the same file is unaffected...
    set(&mut t, handle(2, 2), W, 0, 0).expect("record lock beside a flock");
    // ...while another flock still conflicts.
    assert_eq!(set(&mut t, flock(2, 2), R, 0, 0), Err(ErrorCode::AGAIN));
    // Closing the handle releases its flock only.
    t.release_handle(SessionId(1), 1, FILE);
    set(&mut t, flock(2, 2), R, 0, 0).expect("flock after the holder closed");
    assert_eq!(t.lock_count(), 2);
}
