use orfa_wire::{
    ATTR_LEN, Attr, DirEntry, DirEntryWriter, ErrorCode, FileType, FsAttr, MsgKind, OpCode,
    OpenFlags, PathFlags, ReplyHeader, RequestHeader,
};
use std::vec;
use std::vec::Vec;

use super::{clear_to_send, reply};
use crate::{
    Client, Completion, DataFrame, Event, Incoming, Limits, ProtocolError, Reply, Request,
    SendError,
};

fn client(credits: u64) -> Client {
    Client::new(Limits {
        eager_limit: 100,
        credits,
        max_io: 4096,
        minor: orfa_wire::VERSION_MINOR,
    })
}

/// Feeds a header then its data through the zero-copy path.
fn deliver<'d>(c: &mut Client, head: [u8; 56], data: &'d [u8]) -> Completion<&'d [u8]> {
    match c.on_header(&head).unwrap() {
        Incoming::Reply(h) => assert_eq!(h.data_len, data.len() as u64),
        other => panic!("unexpected {other:?}"),
    }
    c.on_data(data).unwrap()
}

#[test]
fn open_reply_gives_handle_and_attr() {
    let mut c = client(4);
    let out = c
        .send(&Request::Open {
            base: 0,
            path: b"f",
            flags: OpenFlags::READ,
            mode: 0,
        })
        .unwrap();
    assert!(!out.is_rendezvous());
    assert_eq!(out.len(), 81);
    let attr = Attr {
        size: 5.into(),
        mode: 0o100644.into(),
        ..Attr::default()
    };
    let done = deliver(
        &mut c,
        reply(out.tag(), ErrorCode::OK, 17, 0, 160),
        attr.as_wire(),
    );
    assert_eq!(done.tag, out.tag());
    assert_eq!(done.result, Ok(Reply::Open { handle: 17, attr }));
    assert_eq!((c.credits(), c.outstanding()), (4, 0));
}

#[test]
fn read_data_lands_in_the_callers_buffer() {
    let mut c = client(4);
    let out = c
        .send(&Request::Read {
            handle: 3,
            offset: 0,
            count: 10,
        })
        .unwrap();
    let Incoming::Reply(head) = c
        .on_header(&reply(out.tag(), ErrorCode::OK, 4, 0, 4))
        .unwrap()
    else {
        panic!("not a reply");
    };
    let mut user = [0u8; 10];
    user[..head.data_len as usize].copy_from_slice(b"abcd");
    let done = c.on_data(&user[..4]).unwrap();
    assert_eq!(done.result, Ok(Reply::Read(&b"abcd"[..])));
}

#[test]
fn error_reply_carries_the_code_and_returns_the_credit() {
    let mut c = client(1);
    let out = c
        .send(&Request::Stat {
            base: 0,
            path: b"nope",
            flags: PathFlags::NONE,
        })
        .unwrap();
    assert_eq!(c.credits(), 0);
    let done = deliver(&mut c, reply(out.tag(), ErrorCode::NOENT, 0, 0, 0), &[]);
    assert_eq!(done.result, Err(ErrorCode::NOENT));
    assert_eq!(c.credits(), 1);
}

#[test]
fn readdir_readlink_statfs_write_replies() {
    let mut c = client(8);
    let mut buf = [0u8; 256];
    let mut w = DirEntryWriter::new(&mut buf);
    for (i, name) in [&b"a"[..], b"bcdefghij"].iter().enumerate() {
        let e = DirEntry {
            ino: 10 + i as u64,
            cookie: 1 + i as u64,
            file_type: FileType::REGULAR,
            name,
            attr: None,
        };
        assert!(w.push(&e));
    }
    let len = w.len();
    let out = c
        .send(&Request::ReadDir {
            handle: 2,
            cookie: 0,
            count: 256,
        })
        .unwrap();
    let done = deliver(
        &mut c,
        reply(out.tag(), ErrorCode::OK, 2, 1, len as u64),
        &buf[..len],
    );
    let Ok(Reply::ReadDir(batch)) = done.result else {
        panic!("{done:?}")
    };
    assert!(batch.complete);
    let names: Vec<_> = batch.iter().map(|e| e.unwrap().name.to_vec()).collect();
    assert_eq!(names, [b"a".to_vec(), b"bcdefghij".to_vec()]);

    let out = c
        .send(&Request::ReadLink {
            base: 0,
            path: b"l",
        })
        .unwrap();
    let done = deliver(&mut c, reply(out.tag(), ErrorCode::OK, 0, 0, 6), b"target");
    assert_eq!(done.result, Ok(Reply::ReadLink(&b"target"[..])));

    let fs = FsAttr {
        bsize: 4096.into(),
        namemax: 255.into(),
        ..FsAttr::default()
    };
    let out = c.send(&Request::StatFs { base: 0, path: b"" }).unwrap();
    let done = deliver(
        &mut c,
        reply(out.tag(), ErrorCode::OK, 0, 0, 80),
        fs.as_wire(),
    );
    assert_eq!(done.result, Ok(Reply::StatFs(fs)));

    let out = c
        .send(&Request::Write {
            handle: 1,
            offset: 5,
            data: b"xyz",
            append: false,
        })
        .unwrap();
    let done = deliver(&mut c, reply(out.tag(), ErrorCode::OK, 3, 8, 0), &[]);
    assert_eq!(done.result, Ok(Reply::Write { written: 3, end: 8 }));

    let out = c
        .send(&Request::Mkdir {
            base: 0,
            path: b"d",
            mode: 0o755,
        })
        .unwrap();
    let done = deliver(&mut c, reply(out.tag(), ErrorCode::OK, 0, 0, 0), &[]);
    assert_eq!(done.result, Ok(Reply::Done));
}

#[test]
fn credits_refuse_then_unblock() {
    let mut c = client(2);
    let req = Request::Close { handle: 1 };
    let a = c.send(&req).unwrap();
    let b = c.send(&req).unwrap();
    assert_ne!(a.tag(), b.tag());
    assert_eq!(c.send(&req).unwrap_err(), SendError::NoCredits);
    assert_eq!(c.poll_event(), None);
    deliver(&mut c, reply(b.tag(), ErrorCode::OK, 0, 0, 0), &[]);
    assert_eq!(c.poll_event(), Some(Event::Unblocked));
    assert_eq!(c.poll_event(), None);
    let again = c.send(&req).unwrap();
    assert!(again.tag() != a.tag());
    deliver(&mut c, reply(a.tag(), ErrorCode::OK, 0, 0, 0), &[]);
    assert_eq!(c.poll_event(), None, "no refusal since the last event");
}

#[test]
fn credits_never_exceed_the_grant() {
    let mut c = client(2);
    let a = c.send(&Request::Close { handle: 1 }).unwrap();
    let mut h = ReplyHeader::parse(&reply(a.tag(), ErrorCode::OK, 0, 0, 0)).unwrap();
    h.credits = 50.into();
    deliver(&mut c, *h.as_wire(), &[]);
    assert_eq!(c.credits(), 2);
}

#[test]
fn rendezvous_sends_header_alone_then_data_frame() {
    let mut c = client(4);
    let data = vec![7u8; 1000];
    let out = c
        .send(&Request::Write {
            handle: 1,
            offset: 0,
            data: &data,
            append: false,
        })
        .unwrap();
    assert!(out.is_rendezvous());
    assert_eq!(out.len(), 80);
    assert_eq!(out.parts()[0].len(), 1000);
    let header = RequestHeader::parse(out.header()).unwrap();
    assert_eq!(header.data_len.get(), 1000);

    let Incoming::ClearToSend(frame) = c.on_header(&clear_to_send(out.tag(), 1000)).unwrap() else {
        panic!("no clear-to-send");
    };
    assert_eq!((frame.tag, frame.len), (out.tag(), 1000));
    let dh = RequestHeader::parse(&frame.header).unwrap();
    assert_eq!(
        (dh.opcode(), dh.tag.get(), dh.data_len.get()),
        (OpCode::DATA, out.tag(), 1000)
    );
    assert_eq!(
        (dh.handle.get(), dh.offset.get(), dh.count.get()),
        (0, 0, 0)
    );
    assert_eq!(c.credits(), 3, "a clear-to-send returns no credit");

    // A second grant for the same tag is a violation.
    let mut c2 = client(4);
    let out2 = c2
        .send(&Request::Write {
            handle: 1,
            offset: 0,
            data: &data,
            append: false,
        })
        .unwrap();
    c2.on_header(&clear_to_send(out2.tag(), 1000)).unwrap();
    assert_eq!(
        c2.on_header(&clear_to_send(out2.tag(), 1000)),
        Err(ProtocolError::UnexpectedClearToSend(out2.tag()))
    );

    let done = deliver(&mut c, reply(out.tag(), ErrorCode::OK, 1000, 1000, 0), &[]);
    assert_eq!(
        done.result,
        Ok(Reply::Write {
            written: 1000,
            end: 1000
        })
    );
}

#[test]
fn rendezvous_refused_with_an_error_reply() {
    let mut c = client(4);
    let data = vec![1u8; 101];
    let out = c
        .send(&Request::Write {
            handle: 1,
            offset: 0,
            data: &data,
            append: true,
        })
        .unwrap();
    assert!(out.is_rendezvous());
    let done = deliver(&mut c, reply(out.tag(), ErrorCode::TOO_LARGE, 0, 0, 0), &[]);
    assert_eq!(done.result, Err(ErrorCode::TOO_LARGE));
    assert_eq!(c.outstanding(), 0);
}

#[test]
fn eager_limit_is_inclusive() {
    let mut c = client(4);
    let data = vec![1u8; 100];
    let out = c
        .send(&Request::Write {
            handle: 1,
            offset: 0,
            data: &data,
            append: false,
        })
        .unwrap();
    assert!(!out.is_rendezvous());
    assert_eq!(out.len(), 180);
}

fn violation(setup: impl FnOnce(&mut Client) -> Result<(), ProtocolError>) -> ProtocolError {
    let mut c = client(4);
    let err = setup(&mut c).unwrap_err();
    assert!(c.is_failed());
    assert_eq!(
        c.send(&Request::Close { handle: 1 }).unwrap_err(),
        SendError::Closed
    );
    assert_eq!(
        c.on_header(&reply(1, ErrorCode::OK, 0, 0, 0)),
        Err(ProtocolError::Closed)
    );
    err
}

#[test]
fn protocol_violations_are_fatal_errors() {
    let e = violation(|c| c.on_header(&reply(99, ErrorCode::OK, 0, 0, 0)).map(drop));
    assert_eq!(e, ProtocolError::UnknownTag(99));

    let e = violation(|c| {
        let t = c.send(&Request::Close { handle: 1 }).unwrap().tag();
        let mut h = ReplyHeader::parse(&reply(t, ErrorCode::OK, 0, 0, 0)).unwrap();
        h.kind = 7.into();
        c.on_header(h.as_wire()).map(drop)
    });
    assert_eq!(e, ProtocolError::UnknownKind(MsgKind(7)));

    let e = violation(|c| {
        let t = c
            .send(&Request::Read {
                handle: 1,
                offset: 0,
                count: 10,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::OK, 11, 0, 11)).map(drop)
    });
    assert!(matches!(
        e,
        ProtocolError::DataTooLong {
            len: 11,
            max: 10,
            ..
        }
    ));

    let e = violation(|c| {
        let t = c.send(&Request::Close { handle: 1 }).unwrap().tag();
        c.on_header(&reply(t, ErrorCode::OK, 0, 0, 1)).map(drop)
    });
    assert!(matches!(e, ProtocolError::DataTooLong { max: 0, .. }));

    let e = violation(|c| {
        let t = c
            .send(&Request::Stat {
                base: 0,
                path: b"",
                flags: PathFlags::NONE,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::NOENT, 0, 0, 8)).map(drop)
    });
    assert!(matches!(e, ProtocolError::DataTooLong { max: 0, .. }));

    let e = violation(|c| {
        let t = c.send(&Request::Close { handle: 1 }).unwrap().tag();
        c.on_header(&clear_to_send(t, 0)).map(drop)
    });
    assert!(matches!(e, ProtocolError::UnexpectedClearToSend(_)));

    let e = violation(|c| {
        let data = vec![0; 200];
        let t = c
            .send(&Request::Write {
                handle: 1,
                offset: 0,
                data: &data,
                append: false,
            })
            .unwrap()
            .tag();
        c.on_header(&clear_to_send(t, 150)).map(drop)
    });
    assert!(matches!(
        e,
        ProtocolError::ClearToSendLength {
            accepted: 150,
            expected: 200,
            ..
        }
    ));

    let e = violation(|c| {
        let t = c
            .send(&Request::Read {
                handle: 1,
                offset: 0,
                count: 10,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::OK, 3, 0, 4))?;
        c.on_data(b"abcd").map(drop)
    });
    assert!(matches!(e, ProtocolError::BadValue { value: 3, .. }));

    let e = violation(|c| {
        let t = c
            .send(&Request::Write {
                handle: 1,
                offset: 0,
                data: b"ab",
                append: false,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::OK, 3, 0, 0)).map(drop)
    });
    assert!(matches!(e, ProtocolError::BadValue { value: 3, .. }));

    let e = violation(|c| {
        let t = c
            .send(&Request::Stat {
                base: 0,
                path: b"",
                flags: PathFlags::NONE,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::OK, 0, 0, 100))?;
        c.on_data(&[0; 100]).map(drop)
    });
    assert!(matches!(e, ProtocolError::Malformed { .. }));

    let e = violation(|c| {
        let t = c
            .send(&Request::ReadDir {
                handle: 1,
                cookie: 0,
                count: 100,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::OK, 1, 0, 40))?;
        c.on_data(&[0; 40]).map(drop)
    });
    assert!(matches!(e, ProtocolError::Malformed { .. }));

    let e = violation(|c| c.on_data(&[]).map(drop));
    assert_eq!(e, ProtocolError::OutOfSequence);

    let e = violation(|c| {
        let t = c
            .send(&Request::Read {
                handle: 1,
                offset: 0,
                count: 10,
            })
            .unwrap()
            .tag();
        c.on_header(&reply(t, ErrorCode::OK, 4, 0, 4))?;
        c.on_data(b"abc").map(drop)
    });
    assert_eq!(e, ProtocolError::OutOfSequence);
}

#[test]
fn feed_byte_by_byte_produces_the_same_events() {
    let mut c = client(4);
    let open = c
        .send(&Request::Open {
            base: 0,
            path: b"f",
            flags: OpenFlags::READ,
            mode: 0,
        })
        .unwrap()
        .tag();
    let data = vec![9u8; 300];
    let write = c
        .send(&Request::Write {
            handle: 1,
            offset: 0,
            data: &data,
            append: false,
        })
        .unwrap()
        .tag();
    let close = c.send(&Request::Close { handle: 1 }).unwrap().tag();

    let attr = Attr {
        ino: 5.into(),
        ..Attr::default()
    };
    let mut stream = Vec::new();
    stream.extend_from_slice(&reply(open, ErrorCode::OK, 44, 0, ATTR_LEN as u64));
    stream.extend_from_slice(attr.as_wire());
    stream.extend_from_slice(&clear_to_send(write, 300));
    stream.extend_from_slice(&reply(close, ErrorCode::BADF, 0, 0, 0));
    stream.extend_from_slice(&reply(write, ErrorCode::OK, 300, 300, 0));
    for b in &stream {
        c.feed(core::slice::from_ref(b)).unwrap();
    }
    let events: Vec<Event> = core::iter::from_fn(|| c.poll_event()).collect();
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[0],
        Event::Reply(Completion {
            tag: open,
            result: Ok(Reply::Open { handle: 44, attr })
        })
    );
    let Event::ClearToSend(DataFrame { tag, len, .. }) = events[1] else {
        panic!("{events:?}")
    };
    assert_eq!((tag, len), (write, 300));
    assert_eq!(
        events[2],
        Event::Reply(Completion {
            tag: close,
            result: Err(ErrorCode::BADF)
        })
    );
    assert_eq!(
        events[3],
        Event::Reply(Completion {
            tag: write,
            result: Ok(Reply::Write {
                written: 300,
                end: 300
            })
        })
    );
    assert_eq!(c.outstanding(), 0);
}

#[test]
fn feed_reports_a_violation_once_then_closed() {
    let mut c = client(4);
    assert_eq!(
        c.feed(&reply(3, ErrorCode::OK, 0, 0, 0)),
        Err(ProtocolError::UnknownTag(3))
    );
    assert_eq!(c.feed(&[0]), Err(ProtocolError::Closed));
}

#[test]
fn tags_skip_outstanding_ones_and_zero() {
    let mut c = client(3);
    let tags: Vec<u64> = (0..3)
        .map(|_| c.send(&Request::Close { handle: 1 }).unwrap().tag())
        .collect();
    assert!(tags.iter().all(|&t| t != 0));
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
}

quickcheck::quickcheck! {
    /// Whatever the server sends, the core answers with events or an error, never a panic.
    fn arbitrary_server_bytes_never_panic(chunks: Vec<Vec<u8>>, tagged: Vec<u8>) -> bool {
        let mut c = client(8);
        let data = vec![0u8; 300];
        let reqs = [
            Request::Read { handle: 1, offset: 0, count: 64 },
            Request::Write { handle: 1, offset: 0, data: &data, append: false },
            Request::ReadDir { handle: 2, cookie: 0, count: 512 },
            Request::Stat { base: 0, path: b"x", flags: PathFlags::NONE },
        ];
        for r in &reqs {
            c.send(r).unwrap();
        }
        // Headers that name real tags reach deeper than random bytes alone.
        let mut stream = Vec::new();
        for (i, b) in tagged.iter().enumerate() {
            let tag = u64::from(b % 5);
            let kind_cts = b & 0x80 != 0;
            let head = if kind_cts { clear_to_send(tag, 300) } else { reply(tag, ErrorCode::OK, i as u64 % 3, 0, u64::from(b % 40)) };
            stream.extend_from_slice(&head);
            stream.extend(core::iter::repeat_n(*b, usize::from(b % 40)));
        }
        for chunk in &chunks {
            stream.extend_from_slice(chunk);
        }
        for piece in stream.chunks(7) {
            if c.feed(piece).is_err() {
                return c.is_failed();
            }
            while c.poll_event().is_some() {}
        }
        true
    }
}
