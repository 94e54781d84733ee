//! The server session over the in-memory file system, fed a valid hello and
//! then arbitrary bytes in arbitrary chunks: no panic, bounded output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use orfa_server_core::{Config, Context, MemFs, Session, Timestamp};
use orfa_wire::{pack_version, ClientHello, MAGIC, VERSION_MAJOR};

fuzz_target!(|data: &[u8]| {
    let cx = Context { now: Timestamp { sec: 1, nsec: 0 }, uid: 0, gid: 0, ..Context::default() };
    let mut fs = MemFs::new(cx.now);
    let config = Config { credits: 4, eager_limit: 4096, max_io: 65536, ..Config::default() };
    let mut session = Session::new(config);
    let hello = ClientHello {
        magic: MAGIC.into(),
        version: pack_version(VERSION_MAJOR, 0).into(),
        ..ClientHello::default()
    };
    if session.feed(hello.as_wire()).is_err() {
        return;
    }
    // The first byte of each chunk gives the next chunk's length.
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let n = (len as usize).min(tail.len());
        let (chunk, tail) = tail.split_at(n);
        rest = tail;
        if session.feed(chunk).is_err() {
            break;
        }
        session.execute(&cx, &mut fs);
        while let Some(t) = session.transmit() {
            let n = t.len();
            session.transmit_done(n);
        }
    }
    session.release(&cx, &mut fs);
});
