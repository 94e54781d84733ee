use std::string::String;
use std::vec::Vec;

use crate::path::{join, simplify, split_remote};

fn s(p: &str) -> String {
    String::from_utf8(simplify(p.as_bytes())).unwrap()
}

fn j(cwd: &str, p: &str) -> String {
    String::from_utf8(join(cwd.as_bytes(), p.as_bytes())).unwrap()
}

fn split(p: &str) -> Option<(&str, &str)> {
    split_remote(p.as_bytes()).map(|(n, r)| {
        (
            core::str::from_utf8(n).unwrap(),
            core::str::from_utf8(r).unwrap(),
        )
    })
}

#[test]
fn simplify_resolves_dots_and_slashes() {
    assert_eq!(s("/"), "/");
    assert_eq!(s(""), "/");
    assert_eq!(s("//a///b//"), "/a/b");
    assert_eq!(s("/a/./b/."), "/a/b");
    assert_eq!(s("/a/b/../c"), "/a/c");
    assert_eq!(s("/a/b/../../.."), "/");
    assert_eq!(s("/../../x"), "/x");
    assert_eq!(s("/a/..b/.c/..."), "/a/..b/.c/...");
    assert_eq!(s("a/b"), "/a/b");
}

#[test]
fn dotdot_crosses_the_remote_prefix_lexically() {
    assert_eq!(s("/REMOTE@srv/.."), "/");
    assert_eq!(s("/REMOTE@srv/a/b/../../f"), "/REMOTE@srv/f");
    assert_eq!(j("/REMOTE@srv/a", ".."), "/REMOTE@srv");
    assert_eq!(j("/REMOTE@srv", "../etc"), "/etc");
}

#[test]
fn join_relative_and_absolute() {
    assert_eq!(j("/home/u", "x/y"), "/home/u/x/y");
    assert_eq!(j("/home/u", "../v/./w/"), "/home/v/w");
    assert_eq!(j("/home/u", "/abs//p"), "/abs/p");
    assert_eq!(j("/", "."), "/");
    assert_eq!(j("/REMOTE@h:1/a/b", "../../f"), "/REMOTE@h:1/f");
    assert_eq!(j("/a", ""), "/a");
}

#[test]
fn split_remote_exact_prefix() {
    assert_eq!(split("/REMOTE@srv"), Some(("srv", "")));
    assert_eq!(split("/REMOTE@srv/a/b"), Some(("srv", "a/b")));
    assert_eq!(
        split("/REMOTE@127.0.0.1:7000/f"),
        Some(("127.0.0.1:7000", "f"))
    );
    assert_eq!(split("/REMOTE@[::1]:7000/d/f"), Some(("[::1]:7000", "d/f")));
    assert_eq!(split("/REMOTE@"), None);
    assert_eq!(split("/REMOTE@/x"), None);
    assert_eq!(split("/REMOTEfoo"), None);
    assert_eq!(split("/remote@x"), None);
    assert_eq!(split("/x/REMOTE@y"), None);
    assert_eq!(split("REMOTE@y"), None);
}

#[test]
fn simplified_remote_paths_have_no_dot_components() {
    for p in [
        "/REMOTE@s/./a/../b/.",
        "/REMOTE@s//..//REMOTE@s/x/",
        "/REMOTE@s/a/.../..",
    ] {
        let simple = simplify(p.as_bytes());
        if let Some((_, rest)) = split_remote(&simple) {
            for c in rest.split(|&b| b == b'/') {
                assert!(c != b"." && c != b".." && !c.is_empty(), "{p}: {c:?}");
            }
        }
    }
}

quickcheck::quickcheck! {
    fn simplify_is_idempotent_and_clean(parts: Vec<u8>) -> bool {
        let alphabet: &[&[u8]] = &[b"/", b".", b"..", b"a", b"REMOTE@s", b"//", b"b/"];
        let path: Vec<u8> = parts
            .iter()
            .flat_map(|&i| alphabet[usize::from(i) % alphabet.len()].iter().copied())
            .collect();
        let once = simplify(&path);
        let twice = simplify(&once);
        let clean = once
            .split(|&b| b == b'/')
            .skip(1)
            .all(|c| c != b"." && c != b".." && (!c.is_empty() || once == b"/"));
        once == twice && once.first() == Some(&b'/') && clean
    }
}
