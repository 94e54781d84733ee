//! Replays the committed seed corpus of the `client_replies` fuzz target
//! (`fuzz/corpus/client_replies/`) as an ordinary test, and writes the
//! seeds: `cargo test -p orfa-client-core --test fuzz_corpus -- --ignored`.
//!
//! A seed is what a real server session sends to a client that makes the
//! requests of `orfa_client_core::fuzz::request` in the order the fuzz
//! target makes them, so that its tags and lengths are right.

use std::path::PathBuf;

use orfa_client_core::fuzz::{LIMITS, ZERO_COPY, change, replies, request};
use orfa_client_core::{Client, Event, client_hello};
use orfa_server_core::{Config, Context, LockTable, MemFs, MemNode, Session, Timestamp};
use orfa_wire::SERVER_HELLO_LEN;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/client_replies")
}

#[test]
fn corpus_replays_without_panic() {
    let mut files = 0;
    for entry in std::fs::read_dir(corpus()).expect("the corpus is committed") {
        let path = entry.expect("corpus entry").path();
        replies(&std::fs::read(&path).expect("corpus file"));
        files += 1;
    }
    assert!(files >= 4, "the seeds are in the corpus");
}

#[test]
fn seeds_are_valid_reply_streams() {
    // Fed whole, a seed's every message is accepted: the client never fails.
    let messages = server_messages(52);
    assert!(messages.len() > 40, "replies and clear-to-sends");
    let mut client = Client::new(LIMITS);
    let change = change();
    let mut next = 0;
    for m in &messages {
        while client.credits() > 0 {
            client.send(&request(next, &change)).expect("sent");
            next += 1;
        }
        client.feed(m).expect("a real server's reply is accepted");
        while client.poll_event().is_some() {}
    }
}

#[test]
#[ignore = "writes the seed corpus; run by hand after changing the seeds"]
fn write_seeds() {
    let messages = server_messages(52);
    let stream = messages.concat();
    let mut one_per_chunk = vec![0];
    for m in &messages {
        for piece in m.chunks(255) {
            one_per_chunk.push(piece.len() as u8);
            one_per_chunk.extend_from_slice(piece);
        }
    }
    let mut byte_by_byte = vec![0];
    for b in &stream[..stream.len().min(2000)] {
        byte_by_byte.extend_from_slice(&[1, *b]);
    }
    let mut zero_copy = vec![ZERO_COPY];
    zero_copy.extend_from_slice(&stream);
    let mut first_reply = vec![0, messages[0].len() as u8];
    first_reply.extend_from_slice(&messages[0]);
    std::fs::create_dir_all(corpus()).expect("corpus directory");
    for (name, bytes) in [
        ("one-message-per-chunk", one_per_chunk),
        ("byte-by-byte", byte_by_byte),
        ("zero-copy", zero_copy),
        ("first-reply", first_reply),
    ] {
        std::fs::write(corpus().join(format!("seed-{name}")), bytes).expect("seed written");
    }
}

/// The messages a server sends to the fuzzed client, which sends a new
/// request whenever it has a credit, until `n` requests: each message as
/// its own byte string (header and data part).
fn server_messages(n: usize) -> Vec<Vec<u8>> {
    let cx = Context {
        now: Timestamp {
            sec: 1_700_000_000,
            nsec: 0,
        },
        ..Context::default()
    };
    let mut fs = MemFs::new(cx.now);
    let mut locks = LockTable::new();
    let mut server: Session<MemNode> = Session::new(Config {
        eager_limit: LIMITS.eager_limit,
        credits: LIMITS.credits,
        max_io: LIMITS.max_io,
        ..Config::default()
    });
    server.feed(&client_hello()).expect("hello");
    let mut client = Client::new(LIMITS);
    let change = change();
    let mut next = 0;
    let mut messages = Vec::new();
    let mut skip_hello = true;
    loop {
        while next < n && client.credits() > 0 {
            let req = request(next, &change);
            let out = client.send(&req).expect("sent");
            for s in out.slices() {
                server.feed(s).expect("server accepts");
            }
            next += 1;
        }
        server.execute(&cx, &mut fs, &mut locks);
        let mut any = false;
        while let Some(t) = server.transmit() {
            let message = t.slices().concat();
            let len = t.len();
            server.transmit_done(len);
            if skip_hello {
                assert_eq!(message.len(), SERVER_HELLO_LEN);
                skip_hello = false;
                continue;
            }
            any = true;
            client.feed(&message).expect("client accepts");
            messages.push(message);
            while let Some(event) = client.poll_event() {
                if let Event::ClearToSend(frame) = event {
                    let [a, b] = request(index(frame.tag), &change).data_parts();
                    server.feed(&frame.header).expect("data header");
                    server.feed(a).expect("data");
                    server.feed(b).expect("data");
                }
            }
            // One message at a time, as the fuzz target reads them.
            break;
        }
        // Done when the server has nothing more to say and the client
        // nothing more to send (a lock may still be waiting).
        if !any && (next >= n || client.credits() == 0) {
            return messages;
        }
    }
}

/// The index in `request` of the request with `tag` (tags count from 1).
fn index(tag: u64) -> usize {
    (tag - 1) as usize
}
