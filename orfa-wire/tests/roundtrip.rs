//! Property tests: every wire structure and directory batch round-trips
//! (encode, parse, same fields) for random field values.

mod common;

use common::{Fields, layout_of};
use orfa_wire::{
    Attr, ClientHello, DirEntry, DirEntryHeader, DirEntryIter, DirEntryWriter, FileType, FsAttr,
    LockInfo, MAX_NAME, ReplyHeader, RequestHeader, ServerHello, SetAttr,
};
use quickcheck::{QuickCheck, TestResult};

/// A structure whose fields take `values` in turn (0 when they run out).
fn from_values<T: Fields>(values: &[u64]) -> T {
    let mut v = T::default();
    for (i, (name, _)) in T::layout().into_iter().enumerate() {
        assert!(v.set(name, values.get(i).copied().unwrap_or(0)));
    }
    v
}

/// Encodes, parses and compares; also checks the bytes are the fields in
/// order, little-endian, and that a shorter input is refused.
fn round_trip<T: Fields>(values: Vec<u64>) -> bool {
    let v: T = from_values(&values);
    let bytes = v.bytes();
    let layout = layout_of(T::NAME).expect("layout");
    let fields_in_order = layout.iter().all(|(name, offset)| {
        bytes[*offset..offset + 8] == v.get(name).expect("field").to_le_bytes()
    });
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0xee; 9]);
    fields_in_order
        && T::parse(&bytes) == Some(v)
        && T::parse(&longer) == Some(v)
        && T::parse(&bytes[..bytes.len() - 1]).is_none()
}

fn check<T: Fields>() {
    QuickCheck::new()
        .tests(300)
        .quickcheck(round_trip::<T> as fn(Vec<u64>) -> bool);
}

#[test]
fn client_hello_round_trips() {
    check::<ClientHello>();
}

#[test]
fn server_hello_round_trips() {
    check::<ServerHello>();
}

#[test]
fn request_header_round_trips() {
    check::<RequestHeader>();
}

#[test]
fn reply_header_round_trips() {
    check::<ReplyHeader>();
}

#[test]
fn attr_round_trips() {
    check::<Attr>();
}

#[test]
fn set_attr_round_trips() {
    check::<SetAttr>();
}

#[test]
fn fs_attr_round_trips() {
    check::<FsAttr>();
}

#[test]
fn lock_info_round_trips() {
    check::<LockInfo>();
}

#[test]
fn dir_entry_header_round_trips() {
    check::<DirEntryHeader>();
}

/// A random entry: inode, cookie, `d_type`, name, attribute fields.
type RandomEntry = (u64, u64, u8, Vec<u8>, Option<Vec<u64>>);

/// An entry as written: inode, cookie, type, name (1 to 255 bytes), attributes.
type Entry = (u64, u64, FileType, Vec<u8>, Option<Attr>);

/// A directory batch, plain or with attributes, of random entries.
#[test]
fn directory_batches_round_trip() {
    fn prop(entries: Vec<RandomEntry>, plus: bool) -> TestResult {
        let entries: Vec<Entry> = entries
            .into_iter()
            .filter(|e| !e.3.is_empty())
            .map(|(ino, cookie, t, mut name, attr)| {
                name.truncate(MAX_NAME);
                let attr = attr.map(|a| from_values::<Attr>(&a));
                (ino, cookie, FileType::from_dirent_type(t), name, attr)
            })
            .collect();
        let mut buf = vec![0u8; 1 << 16];
        let mut w = if plus {
            DirEntryWriter::with_attrs(&mut buf)
        } else {
            DirEntryWriter::new(&mut buf)
        };
        for (ino, cookie, file_type, name, attr) in &entries {
            let pushed = w.push(&DirEntry {
                ino: *ino,
                cookie: *cookie,
                file_type: *file_type,
                name,
                attr: *attr,
            });
            if !pushed {
                return TestResult::discard();
            }
        }
        let (len, count) = (w.len(), w.count());
        if len % 8 != 0 || count != entries.len() {
            return TestResult::failed();
        }
        let decoded: Result<Vec<DirEntry<'_>>, _> = DirEntryIter::of(&buf[..len], plus).collect();
        let Ok(decoded) = decoded else {
            return TestResult::failed();
        };
        let same = decoded.len() == entries.len()
            && decoded.iter().zip(&entries).all(|(d, e)| {
                let attr = if plus {
                    Some(e.4.unwrap_or_default())
                } else {
                    None
                };
                d.ino == e.0
                    && d.cookie == e.1
                    && d.file_type == e.2
                    && d.name == &e.3[..]
                    && d.attr == attr
            });
        TestResult::from_bool(same)
    }
    QuickCheck::new()
        .tests(300)
        .quickcheck(prop as fn(Vec<(u64, u64, u8, Vec<u8>, Option<Vec<u64>>)>, bool) -> TestResult);
}
