//! The index sets behind reserved file space.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use super::super::ranges::Ranges;

fn indices(r: &Ranges) -> BTreeSet<u64> {
    r.overlapping(0, u64::MAX).flat_map(|(s, e)| s..e).collect()
}

#[test]
fn insert_merges_and_remove_splits() {
    let mut r = Ranges::default();
    r.insert(10, 20);
    r.insert(20, 25);
    r.insert(5, 8);
    assert_eq!(
        r.overlapping(0, 100).collect::<Vec<_>>(),
        [(5, 8), (10, 25)]
    );
    assert_eq!(r.len(), 18);
    let has = |r: &Ranges, i: u64| r.count_in(i, i + 1) == 1;
    assert!(has(&r, 24) && !has(&r, 25) && !has(&r, 8) && has(&r, 5));
    assert_eq!(r.remove(12, 14), 2);
    assert_eq!(r.count_in(0, 100), 16);
    assert_eq!(r.count_in(11, 13), 1);
    assert_eq!(r.count_in(13, 11), 0);
    r.insert(0, 100);
    assert_eq!(r.overlapping(0, u64::MAX).count(), 1);
    assert_eq!(r.remove(0, u64::MAX), 100);
    assert_eq!(r.len(), 0);
    r.insert(u64::MAX - 1, u64::MAX);
    assert!(has(&r, u64::MAX - 1));
    r.insert(7, 3);
    assert_eq!(r.len(), 1);
}

/// Random operations agree with a plain set of indices, and ranges never touch.
#[test]
fn agrees_with_a_plain_set() {
    let mut seed = 0x1234_5678_u64;
    let mut next = move |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let mut r = Ranges::default();
    let mut model = BTreeSet::new();
    for _ in 0..2000 {
        let s = next(64);
        let e = s + next(12);
        if next(2) == 0 {
            r.insert(s, e);
            model.extend(s..e);
        } else {
            let before = model.len();
            model.retain(|i| !(s..e).contains(i));
            assert_eq!(r.remove(s, e), (before - model.len()) as u64);
        }
        assert_eq!(indices(&r), model);
        assert_eq!(r.len(), model.len() as u64);
        let (a, b) = (next(70), next(70));
        let expected = model.iter().filter(|i| (a..b).contains(*i)).count();
        assert_eq!(r.count_in(a, b), expected as u64);
        let all: Vec<_> = r.overlapping(0, u64::MAX).collect();
        for pair in all.windows(2) {
            assert!(pair[0].1 < pair[1].0, "ranges touch: {pair:?}");
        }
    }
}
