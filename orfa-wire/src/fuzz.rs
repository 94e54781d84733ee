//! The body of the `wire_decode` fuzz target, shared with the test that
//! replays its corpus (feature `fuzzing`; not part of the crate's API).

use crate::{
    ATTR_LEN, Attr, ClientHello, DIR_ENTRY_HEADER_LEN, DirEntryIter, DirEntryWriter, ErrorCode,
    FsAttr, LockInfo, ReplyHeader, RequestHeader, ServerHello, SetAttr,
};

/// Reads `data` with every decoder of the crate. Panics only on a bug: a
/// panic in a decoder, or a decoded value that does not encode back to the
/// bytes it came from.
pub fn decode(data: &[u8]) {
    same_bytes(RequestHeader::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(ReplyHeader::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(ClientHello::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(ServerHello::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(Attr::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(SetAttr::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(FsAttr::parse(data).map(|v| *v.as_wire()).ok(), data);
    same_bytes(LockInfo::parse(data).map(|v| *v.as_wire()).ok(), data);
    if let Ok(h) = ReplyHeader::parse(data) {
        let code = h.error();
        let _ = (code.name(), h.msg_kind().name(), code.to_errno());
        if code.0 > 0 && code.0 < 0x1000 {
            assert_eq!(ErrorCode::from_errno(code.to_errno()), code);
        }
    }
    entries(data, false);
    entries(data, true);
}

/// Checks that a structure parsed from `data` encodes to its first bytes.
fn same_bytes<const N: usize>(encoded: Option<[u8; N]>, data: &[u8]) {
    if let Some(bytes) = encoded {
        assert_eq!(Some(&bytes[..]), data.get(..N));
    }
}

/// Decodes a directory batch and encodes each entry again: the header,
/// attributes and name come out as they went in.
fn entries(data: &[u8], with_attrs: bool) {
    let mut at = 0;
    let mut iter = DirEntryIter::of(data, with_attrs);
    while let Some(Ok(entry)) = iter.next() {
        let mut buf = [0u8; 512];
        let mut writer = if with_attrs {
            DirEntryWriter::with_attrs(&mut buf)
        } else {
            DirEntryWriter::new(&mut buf)
        };
        assert!(writer.push(&entry), "a decoded entry fits again");
        let len = writer.len();
        let meaningful =
            DIR_ENTRY_HEADER_LEN + if with_attrs { ATTR_LEN } else { 0 } + entry.name.len();
        assert_eq!(buf.get(..meaningful), data.get(at..at + meaningful));
        at += len;
        assert_eq!(data.len() - iter.remaining(), at, "entries are read whole");
    }
}
