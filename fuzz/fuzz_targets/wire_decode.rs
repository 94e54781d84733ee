//! Every decoder of `orfa-wire` on arbitrary bytes: no panic, and what
//! decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orfa_wire::{Attr, ClientHello, DirEntryIter, FsAttr, ReplyHeader, RequestHeader, ServerHello};

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = RequestHeader::parse(data) {
        assert_eq!(&h.as_wire()[..], &data[..h.as_wire().len()]);
    }
    if let Ok(h) = ReplyHeader::parse(data) {
        assert_eq!(&h.as_wire()[..], &data[..h.as_wire().len()]);
    }
    let _ = ClientHello::parse(data);
    let _ = ServerHello::parse(data);
    let _ = Attr::parse(data);
    let _ = FsAttr::parse(data);
    for entry in DirEntryIter::new(data) {
        if entry.is_err() {
            break;
        }
    }
});
