use orfa_wire::{DirEntry, DirEntryWriter, FileType};
use std::vec::Vec;

use crate::{DirError, DirStep, DirStream};

/// A batch of entries named by `names`, cookies counting from `first_cookie`.
fn batch(first_cookie: u64, names: &[&str]) -> Vec<u8> {
    let mut buf = [0u8; 1024];
    let mut w = DirEntryWriter::new(&mut buf);
    for (i, name) in names.iter().enumerate() {
        let cookie = first_cookie + i as u64;
        let entry = DirEntry {
            ino: cookie,
            cookie,
            file_type: FileType::DIR,
            name: name.as_bytes(),
            attr: None,
        };
        assert!(w.push(&entry));
    }
    let len = w.len();
    buf[..len].to_vec()
}

fn name(step: DirStep<'_>) -> Vec<u8> {
    match step {
        DirStep::Entry(e) => e.name.to_vec(),
        other => panic!("expected an entry, got {other:?}"),
    }
}

#[test]
fn entries_then_fetch_then_end() {
    let mut d = DirStream::new();
    assert_eq!(d.next_entry(), Ok(DirStep::Fetch(0)));
    d.fill(&batch(1, &["a", "b"]), false).unwrap();
    assert_eq!(name(d.next_entry().unwrap()), b"a");
    assert_eq!(d.tell(), 1);
    assert_eq!(name(d.next_entry().unwrap()), b"b");
    assert_eq!(d.next_entry(), Ok(DirStep::Fetch(2)));
    assert_eq!(
        d.next_entry(),
        Ok(DirStep::Fetch(2)),
        "asks again until filled"
    );
    d.fill(&batch(3, &["c"]), true).unwrap();
    assert_eq!(name(d.next_entry().unwrap()), b"c");
    assert_eq!(d.next_entry(), Ok(DirStep::End));
    assert_eq!(d.next_entry(), Ok(DirStep::End));
    assert_eq!(d.tell(), 3);
}

#[test]
fn seek_and_rewind_refetch() {
    let mut d = DirStream::new();
    d.fill(&batch(1, &["a", "b", "c"]), true).unwrap();
    name(d.next_entry().unwrap());
    let pos = d.tell();
    name(d.next_entry().unwrap());
    d.seek(pos);
    assert_eq!(d.next_entry(), Ok(DirStep::Fetch(1)));
    d.rewind();
    assert_eq!(d.tell(), 0);
    assert_eq!(d.next_entry(), Ok(DirStep::Fetch(0)));
}

#[test]
fn empty_directory_and_bad_batches() {
    let mut d = DirStream::new();
    assert_eq!(d.fill(&[], false), Err(DirError::NoProgress));
    assert_eq!(d.next_entry(), Ok(DirStep::Fetch(0)));
    assert!(matches!(d.fill(&[1; 40], true), Err(DirError::Wire(_))));
    d.fill(&[], true).unwrap();
    assert_eq!(d.next_entry(), Ok(DirStep::End));
}
