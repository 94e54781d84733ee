//! The body of the `client_replies` fuzz target, shared with the test that
//! replays its corpus (feature `fuzzing`; not part of the crate's API).

use alloc::collections::BTreeMap;

use orfa_wire::{
    AccessMode, AttrMask, LockOwnerKind, LockType, OpenFlags, PathFlags, REPLY_HEADER_LEN, SetAttr,
    SetAttrMask,
};

use crate::{Client, Completion, Event, Incoming, Limits, Reply, Request};

/// The limits the fuzzed client got from its server.
pub const LIMITS: Limits = Limits {
    eager_limit: 4096,
    credits: 4,
    max_io: 65536,
    minor: orfa_wire::VERSION_MINOR,
};

/// Input flag (first byte): receive with [`Client::on_header`] and
/// [`Client::on_data`] instead of [`Client::feed`].
pub const ZERO_COPY: u8 = 1;

/// A payload larger than [`LIMITS`]' eager limit: its write needs a rendezvous.
static BIG: [u8; 5000] = [0x5a; 5000];

/// The supplementary groups of the fuzzed client's `SETCONTEXT`: 4 and 27.
static GROUPS: [u8; 16] = [4, 0, 0, 0, 0, 0, 0, 0, 27, 0, 0, 0, 0, 0, 0, 0];

/// The attribute change the fuzzed client asks for.
pub fn change() -> SetAttr {
    SetAttr {
        valid: (SetAttrMask::SIZE.0 | SetAttrMask::MODE.0).into(),
        mode: 0o640.into(),
        size: 3.into(),
        ..SetAttr::default()
    }
}

/// The requests the fuzzed client sends, in a cycle: every kind, on the
/// handles 1 (file `f`) and 2 (directory `d`) that a server gives first. The
/// lock of index 17 (tag 18 in the first cycle) conflicts with the one of
/// index 15, so it waits until index 19 cancels it.
pub fn request(i: usize, change: &SetAttr) -> Request<'_> {
    let rw = OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0 | OpenFlags::CREATE.0);
    let none = PathFlags::NONE;
    let lock = |owner_kind, wait| Request::Lock {
        handle: 1,
        start: 0,
        len: 0,
        lock_type: LockType::WRITE,
        owner_kind,
        pid: 42,
        wait,
    };
    match i % 33 {
        0 => Request::Open {
            base: 0,
            path: b"f",
            flags: rw,
            mode: 0o644,
        },
        1 => Request::Mkdir {
            base: 0,
            path: b"d",
            mode: 0o755,
        },
        2 => Request::Write {
            handle: 1,
            offset: 0,
            data: b"hello",
            append: false,
        },
        3 => Request::Write {
            handle: 1,
            offset: 5,
            data: &BIG,
            append: true,
        },
        4 => Request::Read {
            handle: 1,
            offset: 0,
            count: 100,
        },
        5 => Request::Stat {
            base: 0,
            path: b"f",
            flags: none,
        },
        6 => Request::Symlink {
            target: b"f",
            base: 0,
            path: b"l",
        },
        7 => Request::ReadLink {
            base: 0,
            path: b"l",
        },
        8 => Request::Open {
            base: 0,
            path: b"d",
            flags: OpenFlags::READ | OpenFlags::DIRECTORY,
            mode: 0,
        },
        9 => Request::ReadDir {
            handle: 2,
            cookie: 0,
            count: 256,
        },
        10 => Request::SetAttr {
            base: 0,
            path: b"f",
            attr: change,
            flags: none,
        },
        11 => Request::StatFs { base: 0, path: b"" },
        12 => Request::Access {
            base: 0,
            path: b"f",
            mode: AccessMode::READ,
            flags: none,
        },
        13 => Request::Link {
            from_base: 0,
            from: b"f",
            to_base: 2,
            to: b"g",
            flags: none,
        },
        14 => Request::Rename {
            from_base: 2,
            from: b"g",
            to_base: 2,
            to: b"h",
            flags: PathFlags::NOREPLACE,
        },
        15 => lock(LockOwnerKind::POSIX, false),
        16 => Request::Fsync {
            handle: 1,
            datasync: true,
        },
        17 => lock(LockOwnerKind::HANDLE, true),
        18 => Request::GetLk {
            handle: 1,
            start: 0,
            len: 10,
            lock_type: LockType::READ,
            owner_kind: LockOwnerKind::HANDLE,
            pid: 0,
        },
        19 => Request::Cancel { tag: i as u64 - 1 },
        20 => Request::SetContext {
            uid: 0,
            gid: 0,
            umask: 0o022,
            groups: &GROUPS,
        },
        21 => Request::SetXattr {
            base: 0,
            path: b"f",
            name_value: b"user.kindvalue",
            name_len: 9,
            flags: none,
        },
        22 => Request::GetXattr {
            base: 0,
            path: b"f",
            name: b"user.kind",
            size: 64,
            flags: none,
        },
        23 => Request::ListXattr {
            base: 0,
            path: b"f",
            size: 64,
            flags: none,
        },
        24 => Request::RemoveXattr {
            base: 0,
            path: b"f",
            name: b"user.kind",
            flags: none,
        },
        25 => Request::ReadDirPlus {
            handle: 2,
            cookie: 0,
            count: 1024,
        },
        26 => Request::StatX {
            base: 0,
            path: b"f",
            flags: none,
            mask: AttrMask::BASIC | AttrMask::BTIME,
        },
        27 => Request::CopyRange {
            from: 1,
            from_offset: 0,
            to: 1,
            to_offset: 100,
            count: 10,
        },
        28 => Request::Fallocate {
            handle: 1,
            offset: 0,
            len: 8192,
            flags: PathFlags::KEEP_SIZE,
        },
        29 => Request::Seek {
            handle: 1,
            offset: 0,
            hole: true,
        },
        30 => Request::Share { handle: 1 },
        31 => Request::Attach { token: 7 },
        _ => Request::Unlink {
            base: 2,
            path: b"h",
            flags: none,
        },
    }
}

/// Feeds `data` to a client that has sent requests of [`request`], as the
/// server's replies: its first byte holds flags ([`ZERO_COPY`]); the rest is
/// a sequence of chunks, each a length byte and that many bytes of server
/// stream. The client sends the next request whenever it has a credit.
/// Panics only on a bug: a panic in the client, or a broken invariant of
/// its credits, tags or decoded replies.
pub fn replies(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut fuzz = Fuzzed {
        client: Client::new(LIMITS),
        sent: BTreeMap::new(),
        next: 0,
        change: change(),
    };
    fuzz.send_while_credits();
    if flags & ZERO_COPY != 0 {
        fuzz.zero_copy(rest);
        return;
    }
    while let Some((&len, tail)) = rest.split_first() {
        let (chunk, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        let fed = fuzz.client.feed(chunk);
        while let Some(event) = fuzz.client.poll_event() {
            fuzz.check_event(event);
        }
        fuzz.check_credits();
        if fed.is_err() {
            assert!(fuzz.client.is_failed());
            assert!(
                fuzz.client.feed(b"x").is_err(),
                "a failed client stays closed"
            );
            return;
        }
        fuzz.send_while_credits();
    }
}

/// The length of a reply's data part.
fn data_len<D: AsRef<[u8]>>(reply: &Reply<D>) -> usize {
    match reply {
        Reply::Read(d) | Reply::ReadLink(d) => d.as_ref().len(),
        Reply::ReadDir(batch) | Reply::ReadDirPlus(batch) => batch.bytes.as_ref().len(),
        Reply::Xattr { data, .. } => data.as_ref().len(),
        _ => 0,
    }
}

/// A client under test and what it was asked.
struct Fuzzed {
    client: Client,
    /// Tags of the requests sent and not answered, with their index in [`request`].
    sent: BTreeMap<u64, usize>,
    next: usize,
    change: SetAttr,
}

impl Fuzzed {
    fn send_while_credits(&mut self) {
        while self.client.credits() > 0 {
            let req = request(self.next, &self.change);
            let out = self.client.send(&req).expect("a valid request is sent");
            assert!(
                self.sent.insert(out.tag(), self.next).is_none(),
                "fresh tag"
            );
            assert_eq!(
                out.is_rendezvous(),
                matches!(req, Request::Write { data, .. } if data.len() > 4096)
            );
            self.next += 1;
        }
    }

    fn check_credits(&self) {
        let credits = self.client.credits();
        assert!(credits + self.client.outstanding() as u64 <= LIMITS.credits);
    }

    fn check_event(&mut self, event: Event) {
        match event {
            Event::Unblocked => {}
            Event::ClearToSend(frame) => {
                let i = self
                    .sent
                    .get(&frame.tag)
                    .copied()
                    .expect("granted tag was sent");
                let [a, b] = request(i, &self.change).data_parts();
                assert_eq!(frame.len, (a.len() + b.len()) as u64);
            }
            Event::Reply(done) => {
                let len = done.result.as_ref().map_or(0, data_len);
                self.check_completion(done.tag, &done.result.map(|_| ()), len);
            }
        }
    }

    fn check_completion(
        &mut self,
        tag: u64,
        result: &Result<(), orfa_wire::ErrorCode>,
        len: usize,
    ) {
        let i = self
            .sent
            .remove(&tag)
            .expect("a reply answers a request sent");
        let limit = match request(i, &self.change) {
            Request::Read { count, .. }
            | Request::ReadDir { count, .. }
            | Request::ReadDirPlus { count, .. } => count as usize,
            Request::GetXattr { size, .. } | Request::ListXattr { size, .. } => size as usize,
            Request::ReadLink { .. } => orfa_wire::MAX_PATH,
            _ => 0,
        };
        assert!(len <= limit, "reply data within what was asked");
        assert!(result.is_ok() || len == 0);
    }

    /// Receives zero-copy: a header, then exactly its data part.
    fn zero_copy(&mut self, mut stream: &[u8]) {
        while let Some(head) = stream.get(..REPLY_HEADER_LEN) {
            stream = &stream[REPLY_HEADER_LEN..];
            let Ok(head) = <&[u8; REPLY_HEADER_LEN]>::try_from(head) else {
                return;
            };
            match self.client.on_header(head) {
                Err(_) => {
                    assert!(self.client.is_failed());
                    return;
                }
                Ok(Incoming::ClearToSend(frame)) => self.check_event(Event::ClearToSend(frame)),
                Ok(Incoming::Reply(reply)) => {
                    let Some(data) = usize::try_from(reply.data_len)
                        .ok()
                        .and_then(|n| stream.get(..n))
                    else {
                        return;
                    };
                    stream = &stream[data.len()..];
                    match self.client.on_data(data) {
                        Ok(Completion { tag, result }) => {
                            let len = result.as_ref().map_or(0, data_len);
                            self.check_completion(tag, &result.map(|_| ()), len);
                        }
                        Err(_) => {
                            assert!(self.client.is_failed());
                            return;
                        }
                    }
                }
            }
            self.check_credits();
            self.send_while_credits();
        }
    }
}
