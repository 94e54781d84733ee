//! The body of the `server_session` fuzz target, shared with the test that
//! replays its corpus (feature `fuzzing`; not part of the crate's API).

use orfa_wire::{
    ClientHello, MAGIC, MsgKind, REPLY_HEADER_LEN, ReplyHeader, VERSION_MAJOR, VERSION_MINOR,
    pack_version,
};

use crate::{Config, Context, LockTable, MemFs, Session, Timestamp};

/// The limits of a fuzzed session: small, so that credits run out.
pub const CONFIG: Config = Config {
    credits: 4,
    eager_limit: 4096,
    max_io: 65536,
    max_handles: 64,
    max_minor: VERSION_MINOR,
};

/// Input flag (first byte): the client says minor version 1 rather than 0.
pub const MINOR_1: u8 = 1;
/// Input flag (first byte): replies are sent only once the input is used up.
pub const HOLD_REPLIES: u8 = 2;
/// Input flag (first byte): the client says minor version 2 (over [`MINOR_1`]).
pub const MINOR_2: u8 = 4;

/// Runs a session over the in-memory file system on `data`: its first byte
/// holds flags ([`MINOR_1`], [`MINOR_2`], [`HOLD_REPLIES`]); the rest is a sequence of
/// chunks, each a length byte and up to that many bytes of client stream,
/// fed after a valid hello. Panics only on a bug: a panic in the session, or
/// an output message that is not a well-formed reply.
pub fn session(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let cx = Context {
        now: Timestamp { sec: 1, nsec: 0 },
        ..Context::default()
    };
    let mut fs = MemFs::new(cx.now);
    fs.set_limits(1 << 20, 256);
    let mut locks = LockTable::new();
    let mut session = Session::new(CONFIG);
    let minor = if flags & MINOR_2 != 0 {
        2
    } else if flags & MINOR_1 != 0 {
        1
    } else {
        0
    };
    let hello = ClientHello {
        magic: MAGIC.into(),
        version: pack_version(VERSION_MAJOR, minor).into(),
        ..ClientHello::default()
    };
    if session.feed(hello.as_wire()).is_err() {
        return;
    }
    let mut first = true;
    while let Some((&len, tail)) = rest.split_first() {
        let (chunk, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        let fed = session.feed(chunk);
        session.execute(&cx, &mut fs, &mut locks);
        if flags & HOLD_REPLIES == 0 || fed.is_err() {
            drain(&mut session, &mut first);
        }
        if fed.is_err() {
            break;
        }
    }
    session.execute(&cx, &mut fs, &mut locks);
    drain(&mut session, &mut first);
    session.release(&cx, &mut fs, &mut locks);
}

/// Sends everything queued, checking that each message is a well-formed
/// reply or clear-to-send (the first one the server hello).
fn drain<N>(session: &mut Session<N>, first: &mut bool) {
    while let Some(t) = session.transmit() {
        let [head, body] = t.slices();
        if *first {
            *first = false;
        } else {
            let h = ReplyHeader::parse(head).expect("a reply header leads each message");
            assert_eq!(head.len(), REPLY_HEADER_LEN);
            assert_eq!(h.data_len.get(), body.len() as u64, "data_len is the body");
            let kind = h.msg_kind();
            assert!(kind == MsgKind::REPLY || kind == MsgKind::CLEAR_TO_SEND);
            assert!(kind == MsgKind::REPLY || body.is_empty());
        }
        let n = t.len();
        session.transmit_done(n);
    }
}
