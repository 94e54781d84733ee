use alloc::vec;
use alloc::vec::Vec;

use super::{ShareLimits, ShareTable};
use crate::backend::{Context, Timestamp};
use orfa_wire::ErrorCode;

fn at(sec: i64, uid: u32) -> Context<'static> {
    Context {
        now: Timestamp { sec, nsec: 0 },
        uid,
        ..Context::default()
    }
}

fn table(max_entries: usize) -> ShareTable<&'static str> {
    ShareTable::with_limits(
        0x1234,
        ShareLimits {
            max_entries,
            grace_secs: 10,
        },
    )
}

#[test]
fn tokens_are_distinct_nonzero_and_not_sequential() {
    let mut t = table(100);
    let tokens: Vec<u64> = (0..50)
        .map(|_| t.insert(&at(0, 1), "f").map_err(|e| e.0).unwrap().0)
        .collect();
    let mut sorted = tokens.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 50);
    assert!(!tokens.contains(&0));
    assert!(tokens.windows(2).all(|w| w[1].abs_diff(w[0]) > 1));
}

#[test]
fn an_entry_outlives_its_holders_for_the_grace_period_only() {
    let mut t = table(8);
    let (token, gone) = t.insert(&at(100, 7), "file").map_err(|e| e.0).unwrap();
    assert!(gone.is_empty());
    t.hold(token);
    assert_eq!(
        t.let_go(token, Timestamp { sec: 101, nsec: 0 }),
        (false, vec![])
    );
    // One holder left: no grace period runs, however long it lasts.
    assert_eq!(t.get(&at(500, 7), token), Ok(&"file"));
    assert_eq!(
        t.let_go(token, Timestamp { sec: 500, nsec: 0 }),
        (true, vec![])
    );
    assert_eq!(t.get(&at(509, 7), token), Ok(&"file"));
    assert_eq!(t.get(&at(510, 7), token), Err(ErrorCode::STALE));
    assert_eq!(t.expire(Timestamp { sec: 510, nsec: 0 }), vec!["file"]);
    assert!(t.is_empty());
}

#[test]
fn attaching_again_stops_the_grace_period() {
    let mut t = table(8);
    let (token, _) = t.insert(&at(0, 7), "file").map_err(|e| e.0).unwrap();
    assert_eq!(
        t.let_go(token, Timestamp { sec: 1, nsec: 0 }),
        (true, vec![])
    );
    assert!(t.get(&at(5, 7), token).is_ok());
    t.hold(token);
    assert!(t.expire(Timestamp { sec: 100, nsec: 0 }).is_empty());
    assert!(t.get(&at(100, 7), token).is_ok());
}

#[test]
fn only_the_same_user_or_root_attaches() {
    let mut t = table(8);
    let (token, _) = t.insert(&at(0, 1000), "file").map_err(|e| e.0).unwrap();
    assert_eq!(t.get(&at(0, 1001), token), Err(ErrorCode::ACCES));
    assert!(t.get(&at(0, 0), token).is_ok());
    assert!(t.get(&at(0, 1000), token).is_ok());
    assert_eq!(t.get(&at(0, 1000), token ^ 1), Err(ErrorCode::STALE));
}

#[test]
fn a_full_table_drops_the_longest_idle_entry_or_refuses() {
    let mut t = table(2);
    let (a, _) = t.insert(&at(0, 1), "a").map_err(|e| e.0).unwrap();
    let (b, _) = t.insert(&at(0, 1), "b").map_err(|e| e.0).unwrap();
    assert_eq!(
        t.insert(&at(1, 1), "c").map_err(|e| e.0),
        Err(ErrorCode::NFILE)
    );
    assert_eq!(t.let_go(b, Timestamp { sec: 2, nsec: 0 }), (true, vec![]));
    assert_eq!(t.let_go(a, Timestamp { sec: 3, nsec: 0 }), (true, vec![]));
    let (c, gone) = t.insert(&at(4, 1), "c").map_err(|e| e.0).unwrap();
    assert_eq!(gone, vec!["b"]);
    assert_eq!(t.get(&at(4, 1), b), Err(ErrorCode::STALE));
    assert!(t.get(&at(4, 1), a).is_ok());
    assert!(t.get(&at(4, 1), c).is_ok());
    assert_eq!(t.len(), 2);
    let mut all = t.drain();
    all.sort_unstable();
    assert_eq!(all, vec!["a", "c"]);
}
