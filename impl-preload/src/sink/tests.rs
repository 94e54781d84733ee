//! The spelling of a remote directory in a sink's path.

use super::{CHUNK, spell, spelt, unspell};

/// `remote` repeated into a deep path below a server.
fn deep() -> Vec<u8> {
    let mut remote = b"/REMOTE@h:1".to_vec();
    for _ in 0..1000 {
        remote.extend_from_slice(b"/d");
    }
    remote
}

/// The sink path the kernel reports for `remote`, as `/proc/self/cwd` reads.
fn sink_of(remote: &[u8]) -> Vec<u8> {
    let mut path = b"/tmp/.orfa-cwd-0/12-3".to_vec();
    for chunk in spell(remote) {
        path.push(b'/');
        path.extend_from_slice(&chunk);
    }
    path.extend_from_slice(b" (deleted)");
    path
}

#[test]
fn spelt_paths_read_back() {
    let odd = b"/REMOTE@srv/a\x01b/\x02/..x/+/ (deleted)".to_vec();
    for remote in [
        b"/REMOTE@srv".to_vec(),
        b"/REMOTE@srv/a/b".to_vec(),
        deep(),
        odd,
    ] {
        assert_eq!(spelt(&sink_of(&remote)), Some(remote));
    }
}

#[test]
fn chunks_are_few_short_names_never_dots() {
    let remote = deep();
    let chunks = spell(&remote);
    assert!(
        chunks.len() <= remote.len() / (CHUNK - 1) + 1,
        "{} chunks",
        chunks.len()
    );
    for chunk in &chunks {
        assert!(chunk.len() <= CHUNK && chunk.len() > 1);
        assert!(!chunk.contains(&b'/') && !chunk.contains(&0));
        assert_eq!(chunk.first(), Some(&b'+'));
    }
}

#[test]
fn escapes_are_not_split_between_chunks() {
    // Byte 1 of a name takes two bytes; some fall across chunk boundaries.
    let remote: Vec<u8> = (0..2000)
        .map(|i| if i % 3 == 0 { 1 } else { b'x' })
        .collect();
    let mut rest = Vec::new();
    for chunk in spell(&remote) {
        rest.push(b'/');
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(unspell(&rest), Some(remote));
}

#[test]
fn paths_not_spelt_by_a_sink_are_refused() {
    assert_eq!(spelt(b"/tmp/.orfa-cwd-0/1-0/+\x01home (deleted)"), None);
    assert_eq!(spelt(b"/tmp/.orfa-cwd-0/1-0/REMOTE@x (deleted)"), None);
    assert_eq!(spelt(b"/tmp/.orfa-cwd-0 (deleted)"), None);
    assert_eq!(spelt(b"/home/user"), None);
}
