//! The client core driven against the server core in memory: no sockets, no
//! clock, both byte streams cut at arbitrary points.

use std::collections::HashMap;

use orfa_client_core::{
    Client, Event, Reply, Request, SendError, client_hello, parse_server_hello,
};
use orfa_server_core::{Config, Context, LockTable, MemFs, MemNode, Session, Timestamp};
use orfa_wire::{
    AccessMode, Attr, ErrorCode, FileType, OpenFlags, PathFlags, SERVER_HELLO_LEN, SetAttr,
    SetAttrMask,
};
use quickcheck::{QuickCheck, TestResult};

type Outcome = Result<Reply<Vec<u8>>, ErrorCode>;

/// A client and a server core joined by two in-memory streams.
struct Pair {
    client: Client,
    server: Session<MemNode>,
    fs: MemFs,
    locks: LockTable,
    cx: Context<'static>,
    /// Bytes sent by the client, not yet taken by the server.
    to_server: Vec<u8>,
    /// Bytes sent by the server, not yet taken by the client.
    to_client: Vec<u8>,
    /// Sizes of the successive pieces each stream is cut into, used in turn.
    cuts: Vec<usize>,
    next_cut: usize,
    /// Sends refused for lack of credits, and `Unblocked` events seen.
    refusals: usize,
    unblocked: usize,
    /// Data parts sent through a rendezvous.
    rendezvous: usize,
}

impl Pair {
    fn new(config: Config, cuts: Vec<usize>) -> Self {
        let cx = Context {
            now: Timestamp {
                sec: 1_700_000_000,
                nsec: 0,
            },
            uid: 0,
            gid: 0,
            ..Default::default()
        };
        let mut pair = Self {
            client: Client::new(Default::default()),
            server: Session::new(config),
            fs: MemFs::new(cx.now),
            locks: LockTable::new(),
            cx,
            to_server: client_hello().to_vec(),
            to_client: Vec::new(),
            cuts: if cuts.is_empty() {
                vec![usize::MAX]
            } else {
                cuts
            },
            next_cut: 0,
            refusals: 0,
            unblocked: 0,
            rendezvous: 0,
        };
        while pair.to_client.len() < SERVER_HELLO_LEN {
            pair.pump_server();
        }
        let limits = parse_server_hello(&pair.to_client).expect("server hello");
        assert_eq!(limits.credits, config.credits);
        pair.to_client.drain(..SERVER_HELLO_LEN);
        pair.client = Client::new(limits);
        pair
    }

    fn cut(&mut self) -> usize {
        let n = self.cuts[self.next_cut % self.cuts.len()];
        self.next_cut += 1;
        n
    }

    /// Moves one piece of the client's bytes into the server, runs what is
    /// ready, and moves one piece of the server's output out.
    fn pump_server(&mut self) {
        let n = self.cut().min(self.to_server.len());
        let taken = self
            .server
            .feed(&self.to_server[..n])
            .expect("server accepts the client");
        self.to_server.drain(..taken);
        self.server.execute(&self.cx, &mut self.fs, &mut self.locks);
        let mut budget = self.cut();
        while budget > 0 {
            let Some(tx) = self.server.transmit() else {
                break;
            };
            let mut sent = 0;
            for slice in tx.slices() {
                let take = slice.len().min(budget - sent);
                self.to_client.extend_from_slice(&slice[..take]);
                sent += take;
            }
            self.server.transmit_done(sent);
            budget -= sent;
        }
    }

    /// Moves one piece of the server's bytes into the client.
    fn pump_client(&mut self) {
        let n = self.cut().min(self.to_client.len());
        self.client
            .feed(&self.to_client[..n])
            .expect("client accepts the server");
        self.to_client.drain(..n);
    }

    /// Runs `ops` concurrently (as many at once as the credits allow) to completion.
    fn run(&mut self, ops: &[Request<'_>]) -> Vec<Outcome> {
        let mut results: Vec<Option<Outcome>> = vec![None; ops.len()];
        let mut tags: HashMap<u64, usize> = HashMap::new();
        let mut next = 0;
        let mut blocked = false;
        let mut steps = 0u64;
        while results.iter().any(Option::is_none) {
            while next < ops.len() && !blocked {
                match self.client.send(&ops[next]) {
                    Ok(out) => {
                        tags.insert(out.tag(), next);
                        for s in out.slices() {
                            self.to_server.extend_from_slice(s);
                        }
                        next += 1;
                    }
                    Err(SendError::NoCredits) => {
                        self.refusals += 1;
                        blocked = true;
                    }
                    Err(e) => {
                        results[next] = Some(Err(e.code()));
                        next += 1;
                    }
                }
            }
            self.pump_server();
            self.pump_client();
            while let Some(event) = self.client.poll_event() {
                match event {
                    Event::Unblocked => {
                        assert!(blocked, "unblocked without a refusal");
                        self.unblocked += 1;
                        blocked = false;
                    }
                    Event::ClearToSend(frame) => {
                        let [a, b] = ops[tags[&frame.tag]].data_parts();
                        assert_eq!(frame.len as usize, a.len() + b.len());
                        self.to_server.extend_from_slice(&frame.header);
                        self.to_server.extend_from_slice(a);
                        self.to_server.extend_from_slice(b);
                        self.rendezvous += 1;
                    }
                    Event::Reply(done) => {
                        let i = tags.remove(&done.tag).expect("reply for a request sent");
                        assert!(results[i].is_none(), "two replies for one request");
                        results[i] = Some(done.result);
                    }
                }
            }
            steps += 1;
            assert!(steps < 5_000_000, "no progress");
        }
        assert!(self.server.transmit().is_none() && self.to_client.is_empty());
        results.into_iter().map(Option::unwrap).collect()
    }

    /// Runs one request.
    fn one(&mut self, op: Request<'_>) -> Outcome {
        self.run(&[op]).remove(0)
    }
}

fn attr(outcome: &Outcome) -> Attr {
    match outcome {
        Ok(Reply::Attr(a)) | Ok(Reply::Open { attr: a, .. }) => *a,
        other => panic!("expected attributes, got {other:?}"),
    }
}

fn handle(outcome: &Outcome) -> u64 {
    match outcome {
        Ok(Reply::Open { handle, .. }) => *handle,
        other => panic!("expected a handle, got {other:?}"),
    }
}

/// A payload whose every byte depends on its position.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

const RW_CREATE: OpenFlags =
    OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0 | OpenFlags::CREATE.0);

/// Every request kind, with rendezvous-sized writes and more requests at
/// once than there are credits.
fn scenario(pair: &mut Pair) {
    let none = PathFlags::NONE;

    // Creation: more requests than credits in one go.
    let names: Vec<Vec<u8>> = (0..20)
        .map(|i| format!("d/sub{i:02}").into_bytes())
        .collect();
    assert_eq!(
        pair.one(Request::Mkdir {
            base: 0,
            path: b"d",
            mode: 0o755
        }),
        Ok(Reply::Done)
    );
    let mkdirs: Vec<Request<'_>> = names
        .iter()
        .map(|n| Request::Mkdir {
            base: 0,
            path: n,
            mode: 0o700,
        })
        .collect();
    for r in pair.run(&mkdirs) {
        assert_eq!(r, Ok(Reply::Done));
    }
    let created = pair.run(&[
        Request::Open {
            base: 0,
            path: b"d/small",
            flags: RW_CREATE,
            mode: 0o644,
        },
        Request::Open {
            base: 0,
            path: b"/big",
            flags: RW_CREATE,
            mode: 0o600,
        },
        Request::Symlink {
            target: b"d/small",
            base: 0,
            path: b"link",
        },
        Request::Mknod {
            base: 0,
            path: b"fifo",
            mode: 0o10644,
            rdev: 0,
        },
        Request::Open {
            base: 0,
            path: b"d",
            flags: OpenFlags::READ | OpenFlags::DIRECTORY,
            mode: 0,
        },
    ]);
    let small = handle(&created[0]);
    let big = handle(&created[1]);
    assert_eq!(created[2], Ok(Reply::Done));
    assert_eq!(created[3], Ok(Reply::Done));
    let dir = handle(&created[4]);
    assert_eq!(
        FileType::from_mode(attr(&created[4]).mode.get()),
        FileType::DIR
    );

    // Writes: one eager, two through a rendezvous (above the 64 KiB eager limit).
    let payload = pattern(200 * 1024, 7);
    let tail = pattern(70 * 1024, 99);
    let rendezvous_before = pair.rendezvous;
    let wrote = pair.run(&[
        Request::Write {
            handle: small,
            offset: 0,
            data: b"hello world",
            append: false,
        },
        Request::Write {
            handle: big,
            offset: 0,
            data: &payload,
            append: false,
        },
    ]);
    assert_eq!(
        wrote[0],
        Ok(Reply::Write {
            written: 11,
            end: 11
        })
    );
    assert_eq!(
        wrote[1],
        Ok(Reply::Write {
            written: payload.len() as u64,
            end: payload.len() as u64
        })
    );
    let appended = pair.one(Request::Write {
        handle: big,
        offset: 0,
        data: &tail,
        append: true,
    });
    let total = (payload.len() + tail.len()) as u64;
    assert_eq!(
        appended,
        Ok(Reply::Write {
            written: tail.len() as u64,
            end: total
        })
    );
    assert_eq!(pair.rendezvous - rendezvous_before, 2);

    // Reads, stat, readlink, access, statfs.
    let read = pair.run(&[
        Request::Read {
            handle: big,
            offset: 0,
            count: total + 100,
        },
        Request::Read {
            handle: small,
            offset: 6,
            count: 100,
        },
        Request::Stat {
            base: 0,
            path: b"link",
            flags: none,
        },
        Request::Stat {
            base: 0,
            path: b"link",
            flags: PathFlags::NOFOLLOW,
        },
        Request::ReadLink {
            base: 0,
            path: b"link",
        },
        Request::Access {
            base: 0,
            path: b"d/small",
            mode: AccessMode::READ,
            flags: none,
        },
        Request::StatFs { base: 0, path: b"" },
        Request::Stat {
            base: dir,
            path: b"missing",
            flags: none,
        },
    ]);
    let Ok(Reply::Read(bytes)) = &read[0] else {
        panic!("{:?}", read[0])
    };
    assert_eq!(bytes.len() as u64, total);
    assert_eq!(&bytes[..payload.len()], &payload[..]);
    assert_eq!(&bytes[payload.len()..], &tail[..]);
    assert_eq!(read[1], Ok(Reply::Read(b"world".to_vec())));
    assert_eq!(attr(&read[2]).size.get(), 11);
    assert_eq!(
        FileType::from_mode(attr(&read[3]).mode.get()),
        FileType::SYMLINK
    );
    assert_eq!(read[4], Ok(Reply::ReadLink(b"d/small".to_vec())));
    assert_eq!(read[5], Ok(Reply::Done));
    assert!(matches!(read[6], Ok(Reply::StatFs(_))));
    assert_eq!(read[7], Err(ErrorCode::NOENT));

    // Attribute changes, links, renames, sync.
    let change = SetAttr {
        valid: SetAttrMask::SIZE.0.into(),
        size: 5.into(),
        ..SetAttr::default()
    };
    let changed = pair.run(&[
        Request::SetAttr {
            base: 0,
            path: b"d/small",
            attr: &change,
            flags: none,
        },
        Request::Link {
            from_base: 0,
            from: b"d/small",
            to_base: dir,
            to: b"hard",
            flags: none,
        },
        Request::Fsync {
            handle: big,
            datasync: true,
        },
    ]);
    assert_eq!(attr(&changed[0]).size.get(), 5);
    assert_eq!(changed[1], Ok(Reply::Done));
    assert_eq!(changed[2], Ok(Reply::Done));
    assert_eq!(
        pair.one(Request::Rename {
            from_base: dir,
            from: b"hard",
            to_base: 0,
            to: b"moved",
            flags: none
        }),
        Ok(Reply::Done)
    );
    let moved = pair.one(Request::Stat {
        base: 0,
        path: b"moved",
        flags: none,
    });
    assert_eq!((attr(&moved).size.get(), attr(&moved).nlink.get()), (5, 2));

    // Listing: small batches force several READDIRs.
    let mut listed = Vec::new();
    let mut cookie = 0;
    loop {
        let batch = pair.one(Request::ReadDir {
            handle: dir,
            cookie,
            count: 200,
        });
        let Ok(Reply::ReadDir(batch)) = batch else {
            panic!("{batch:?}")
        };
        for entry in batch.iter() {
            let entry = entry.expect("entry decodes");
            listed.push(entry.name.to_vec());
            cookie = entry.cookie;
        }
        if batch.complete {
            break;
        }
    }
    listed.sort();
    let mut expected: Vec<Vec<u8>> = names.iter().map(|n| n[2..].to_vec()).collect();
    expected.push(b"small".to_vec());
    expected.sort();
    assert_eq!(listed, expected);

    // Removal and closing; errors travel back as codes.
    let removed = pair.run(&[
        Request::Unlink {
            base: 0,
            path: b"moved",
            flags: none,
        },
        Request::Unlink {
            base: 0,
            path: b"d",
            flags: PathFlags::REMOVEDIR,
        },
        Request::Unlink {
            base: 0,
            path: b"fifo",
            flags: none,
        },
        Request::Close { handle: small },
        Request::Close { handle: big },
        Request::Close { handle: dir },
    ]);
    assert_eq!(removed[0], Ok(Reply::Done));
    assert_eq!(removed[1], Err(ErrorCode::NOTEMPTY));
    assert!(removed[2..].iter().all(|r| *r == Ok(Reply::Done)));
    assert_eq!(
        pair.one(Request::Close { handle: small }),
        Err(ErrorCode::BADF)
    );

    // A request the client refuses never reaches the server.
    let long = vec![b'x'; 256];
    assert_eq!(
        pair.one(Request::Stat {
            base: 0,
            path: &long,
            flags: none
        }),
        Err(ErrorCode::NAMETOOLONG)
    );
}

fn config() -> Config {
    Config {
        credits: 4,
        ..Config::default()
    }
}

fn check(cuts: Vec<usize>) {
    let mut pair = Pair::new(config(), cuts);
    scenario(&mut pair);
    assert!(pair.refusals > 0, "the scenario must run out of credits");
    assert_eq!(pair.refusals, pair.unblocked);
    assert_eq!(pair.client.outstanding(), 0);
    assert_eq!(pair.client.credits(), 4);
}

#[test]
fn whole_messages() {
    check(vec![]);
}

#[test]
fn byte_by_byte_small_requests() {
    let mut pair = Pair::new(config(), vec![1]);
    let r = pair.run(&[
        Request::Mkdir {
            base: 0,
            path: b"a",
            mode: 0o755,
        },
        Request::Open {
            base: 0,
            path: b"a/f",
            flags: RW_CREATE,
            mode: 0o644,
        },
    ]);
    assert_eq!(r[0], Ok(Reply::Done));
    let h = handle(&r[1]);
    let w = pair.one(Request::Write {
        handle: h,
        offset: 0,
        data: b"xyz",
        append: false,
    });
    assert_eq!(w, Ok(Reply::Write { written: 3, end: 3 }));
    assert_eq!(
        pair.one(Request::Read {
            handle: h,
            offset: 0,
            count: 10
        }),
        Ok(Reply::Read(b"xyz".to_vec()))
    );
}

#[test]
fn streams_cut_at_random_points() {
    fn prop(cuts: Vec<u16>) -> TestResult {
        // Mostly small pieces, some large, so a run cuts headers and data parts alike.
        let cuts: Vec<usize> = cuts
            .into_iter()
            .take(64)
            .map(|c| {
                if c % 4 == 0 {
                    usize::from(c) * 4 + 1
                } else {
                    usize::from(c % 97) + 1
                }
            })
            .collect();
        check(cuts);
        TestResult::passed()
    }
    QuickCheck::new()
        .tests(25)
        .quickcheck(prop as fn(Vec<u16>) -> TestResult);
}

#[test]
fn max_io_is_enforced_by_the_client_and_reached_exactly() {
    let mut pair = Pair::new(
        Config {
            max_io: 1 << 20,
            credits: 2,
            ..Config::default()
        },
        vec![333],
    );
    let h = handle(&pair.one(Request::Open {
        base: 0,
        path: b"f",
        flags: RW_CREATE,
        mode: 0o644,
    }));
    // The client enforces max_io itself, so nothing oversized reaches the wire.
    let huge = vec![0u8; (1 << 20) + 1];
    assert_eq!(
        pair.one(Request::Write {
            handle: h,
            offset: 0,
            data: &huge,
            append: false
        }),
        Err(ErrorCode::TOO_LARGE)
    );
    let exact = pattern(1 << 20, 3);
    assert_eq!(
        pair.one(Request::Write {
            handle: h,
            offset: 0,
            data: &exact,
            append: false
        }),
        Ok(Reply::Write {
            written: 1 << 20,
            end: 1 << 20
        })
    );
    let back = pair.one(Request::Read {
        handle: h,
        offset: 0,
        count: 1 << 20,
    });
    assert_eq!(back, Ok(Reply::Read(exact)));
}

#[test]
fn server_refusing_a_rendezvous_answers_the_tag() {
    let mut pair = Pair::new(
        Config {
            eager_limit: 64,
            credits: 2,
            ..Config::default()
        },
        vec![7],
    );
    let long = vec![b'n'; 100];
    // Only writes may use a rendezvous: the server refuses this one with a reply.
    assert_eq!(
        pair.one(Request::Mkdir {
            base: 0,
            path: &long,
            mode: 0o755
        }),
        Err(ErrorCode::TOO_LARGE)
    );
    assert_eq!(pair.rendezvous, 0);
    assert_eq!(
        pair.one(Request::Mkdir {
            base: 0,
            path: b"ok",
            mode: 0o755
        }),
        Ok(Reply::Done)
    );
    assert_eq!(pair.client.credits(), 2);
}
