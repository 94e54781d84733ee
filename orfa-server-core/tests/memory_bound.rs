//! A session never holds more memory than its credits allow: at most
//! `credits x (header + max(eager_limit, max_io))` bytes for requests and
//! replies, plus a small constant, whatever the client sends.
//!
//! A counting global allocator measures the bytes live in the test's
//! thread while adversarial but well-formed streams are fed to a session
//! over a backend that keeps no data of its own, so that everything counted
//! is the session's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use orfa_server_core::{
    Backend, BackendResult, Base, Config, Context, LockTable, Session, Timestamp,
};
use orfa_wire::{
    AccessMode, Attr, ClientHello, DirEntry, DirEntryWriter, FileType, FsAttr, MAGIC, OpCode,
    OpenFlags, PathFlags, REQUEST_HEADER_LEN, RequestHeader, SetAttr, VERSION_MAJOR, VERSION_MINOR,
    pack_version,
};

/// Counts the bytes allocated and not freed by each thread, and their peak.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    // `try_with`: the counters may be gone while a thread ends.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + n;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// counting touches only thread-local cells that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: the caller's layout contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: as for `dealloc`, and `new_size` is the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The session's limits: small, so the bound is tight.
const CONFIG: Config = Config {
    credits: 4,
    eager_limit: 4096,
    max_io: 16384,
    max_handles: 16,
    max_minor: VERSION_MINOR,
};

/// What the session may hold for requests and replies, and the slack for
/// its fixed structures (queues, the handle table, the current header).
const BOUND: isize = (CONFIG.credits * (REQUEST_HEADER_LEN as u64 + CONFIG.max_io)) as isize;
const SLACK: isize = 8192;

/// A backend that stores nothing and answers every call at full size:
/// reads fill the buffer, listings fill the batch, attribute values are
/// a few bytes long.
struct Void;

impl Backend for Void {
    type Node = ();

    fn open(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: OpenFlags,
        _: u32,
    ) -> BackendResult<((), Attr)> {
        Ok(((), Attr::default()))
    }
    fn file_key(&mut self, _: &()) -> BackendResult<u128> {
        Ok(1)
    }
    fn close(&mut self, _: &Context, _: ()) -> BackendResult<()> {
        Ok(())
    }
    fn read(&mut self, _: &Context, _: &(), _: u64, buf: &mut [u8]) -> BackendResult<usize> {
        buf.fill(7);
        Ok(buf.len())
    }
    fn write(
        &mut self,
        _: &Context,
        _: &(),
        offset: u64,
        data: &[u8],
        _: bool,
    ) -> BackendResult<(usize, u64)> {
        Ok((data.len(), offset + data.len() as u64))
    }
    fn stat(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: PathFlags,
    ) -> BackendResult<Attr> {
        Ok(Attr::default())
    }
    fn readdir(
        &mut self,
        _: &Context,
        _: &(),
        cookie: u64,
        out: &mut DirEntryWriter<'_>,
    ) -> BackendResult<bool> {
        let mut c = cookie;
        loop {
            c += 1;
            let entry = DirEntry {
                ino: c,
                cookie: c,
                file_type: FileType::REGULAR,
                name: b"an-entry-name",
                attr: None,
            };
            if !out.push(&entry) {
                return Ok(false);
            }
        }
    }
    fn mkdir(&mut self, _: &Context, _: Base<'_, ()>, _: &[u8], _: u32) -> BackendResult<()> {
        Ok(())
    }
    fn mknod(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: u32,
        _: u64,
    ) -> BackendResult<()> {
        Ok(())
    }
    fn unlink(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: PathFlags,
    ) -> BackendResult<()> {
        Ok(())
    }
    fn rename(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: Base<'_, ()>,
        _: &[u8],
        _: PathFlags,
    ) -> BackendResult<()> {
        Ok(())
    }
    fn link(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: Base<'_, ()>,
        _: &[u8],
        _: PathFlags,
    ) -> BackendResult<()> {
        Ok(())
    }
    fn symlink(&mut self, _: &Context, _: &[u8], _: Base<'_, ()>, _: &[u8]) -> BackendResult<()> {
        Ok(())
    }
    fn readlink(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        buf: &mut [u8],
    ) -> BackendResult<usize> {
        let n = buf.len().min(100);
        buf[..n].fill(b'x');
        Ok(n)
    }
    fn setattr(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: &SetAttr,
        _: PathFlags,
    ) -> BackendResult<Attr> {
        Ok(Attr::default())
    }
    fn access(
        &mut self,
        _: &Context,
        _: Base<'_, ()>,
        _: &[u8],
        _: AccessMode,
        _: PathFlags,
    ) -> BackendResult<()> {
        Ok(())
    }
    fn fsync(&mut self, _: &Context, _: &(), _: bool) -> BackendResult<()> {
        Ok(())
    }
    fn statfs(&mut self, _: &Context, _: Base<'_, ()>, _: &[u8]) -> BackendResult<FsAttr> {
        Ok(FsAttr::default())
    }
    fn getxattr(
        &mut self,
        _: &Context<'_>,
        _: Base<'_, ()>,
        _: &[u8],
        _: &[u8],
        buf: &mut [u8],
        _: PathFlags,
    ) -> BackendResult<usize> {
        let n = buf.len().min(16);
        buf[..n].fill(b'v');
        Ok(16)
    }
    fn listxattr(
        &mut self,
        _: &Context<'_>,
        _: Base<'_, ()>,
        _: &[u8],
        buf: &mut [u8],
        _: PathFlags,
    ) -> BackendResult<usize> {
        let n = buf.len().min(8);
        buf[..n].copy_from_slice(&b"user.a\0\0"[..n]);
        Ok(8)
    }
}

/// A request header with `data_len` set to `len`, then `data` (which may
/// be shorter: the rest is sent later or never).
fn req(op: OpCode, tag: u64, len: usize, f: impl FnOnce(&mut RequestHeader)) -> Vec<u8> {
    let mut h = RequestHeader {
        op: op.0.into(),
        tag: tag.into(),
        handle: 1.into(),
        data_len: (len as u64).into(),
        ..RequestHeader::default()
    };
    f(&mut h);
    h.as_wire().to_vec()
}

/// How the test drives the session between pieces of input.
#[derive(Clone, Copy, Debug)]
enum Drive {
    /// Never executes nor transmits: requests pile up.
    Idle,
    /// Executes, never transmits: replies pile up.
    NoTransmit,
    /// Executes and transmits everything.
    Flow,
}

/// Feeds `stream` in pieces of `piece` bytes and returns the most bytes the
/// session held at once above what it held after the handshake.
fn peak(stream: &[u8], piece: usize, drive: Drive) -> isize {
    let cx = Context {
        now: Timestamp { sec: 1, nsec: 0 },
        ..Context::default()
    };
    let mut locks = LockTable::new();
    let mut session: Session<()> = Session::new(CONFIG);
    let hello = ClientHello {
        magic: MAGIC.into(),
        version: pack_version(VERSION_MAJOR, VERSION_MINOR).into(),
        ..ClientHello::default()
    };
    session.feed(hello.as_wire()).expect("hello");
    while let Some(t) = session.transmit() {
        let n = t.len();
        session.transmit_done(n);
    }
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    for chunk in stream.chunks(piece) {
        let fed = session.feed(chunk);
        if !matches!(drive, Drive::Idle) {
            session.execute(&cx, &mut Void, &mut locks);
        }
        if matches!(drive, Drive::Flow) {
            while let Some(t) = session.transmit() {
                let n = t.len();
                session.transmit_done(n);
            }
        }
        if fed.is_err() {
            break;
        }
    }
    let peak = PEAK.with(Cell::get) - base;
    session.release(&cx, &mut Void, &mut locks);
    peak
}

/// Runs `stream` every way and checks the bound.
fn check(name: &str, stream: &[u8]) {
    for drive in [Drive::Idle, Drive::NoTransmit, Drive::Flow] {
        for piece in [usize::MAX, 80, 7] {
            let held = peak(stream, piece.min(stream.len().max(1)), drive);
            assert!(
                held <= BOUND + SLACK,
                "{name} ({drive:?}, pieces of {piece}): the session held {held} bytes, \
                 over {BOUND} + {SLACK}"
            );
        }
    }
}

/// The prefix every stream starts with: handle 1 open.
fn open() -> Vec<u8> {
    let mut out = req(OpCode::OPEN, 1, 1, |h| {
        h.handle = 0.into();
        h.flags = OpenFlags::READ.0.into();
    });
    out.push(b'f');
    out
}

#[test]
fn writes_with_eager_data_parts() {
    let mut s = open();
    for tag in 2..40 {
        s.extend(req(OpCode::WRITE, tag, 4096, |_| {}));
        s.extend(std::iter::repeat_n(0xab, 4096));
    }
    check("eager writes", &s);
}

#[test]
fn rendezvous_grants_never_followed_by_data() {
    let mut s = open();
    for tag in 2..40 {
        s.extend(req(OpCode::WRITE, tag, 16384, |_| {}));
    }
    check("rendezvous without data", &s);
}

#[test]
fn rendezvous_data_sent_in_full_and_in_part() {
    let mut s = open();
    for tag in 2..20 {
        s.extend(req(OpCode::WRITE, tag, 16384, |_| {}));
        s.extend(req(OpCode::DATA, tag, 16384, |h| h.handle = 0.into()));
        s.extend(std::iter::repeat_n(
            0xcd,
            if tag % 3 == 0 { 100 } else { 16384 },
        ));
    }
    check("rendezvous data", &s);
}

#[test]
fn full_size_reads_never_transmitted() {
    let mut s = open();
    for tag in 2..40 {
        s.extend(req(OpCode::READ, tag, 0, |h| h.count = u64::MAX.into()));
    }
    check("reads", &s);
}

#[test]
fn full_size_listings_never_transmitted() {
    let mut s = open();
    for tag in 2..40 {
        let op = if tag % 2 == 0 {
            OpCode::READDIR
        } else {
            OpCode::READDIRPLUS
        };
        s.extend(req(op, tag, 0, |h| h.count = u64::MAX.into()));
    }
    check("listings", &s);
}

#[test]
fn path_requests_with_long_paths() {
    let mut s = open();
    let path = vec![b'p'; 4095];
    for tag in 2..40 {
        s.extend(req(OpCode::READLINK, tag, path.len(), |h| {
            h.handle = 0.into()
        }));
        s.extend_from_slice(&path);
    }
    check("paths", &s);
}

// The session sizes the reply buffer of GETXATTR and LISTXATTR by
// MAX_XATTR_VALUE (64 KiB), not by max_io: with credits 4 and max_io 16 KiB
// it holds about 197 KiB.
#[test]
fn extended_attribute_reads_with_large_buffers() {
    let mut s = open();
    for tag in 2..40 {
        if tag % 2 == 0 {
            s.extend(req(OpCode::GETXATTR, tag, 6, |h| {
                h.handle = 0.into();
                h.count = 6.into();
                h.arg0 = u64::MAX.into();
            }));
            s.extend_from_slice(b"user.a");
        } else {
            s.extend(req(OpCode::LISTXATTR, tag, 0, |h| {
                h.handle = 0.into();
                h.arg0 = u64::MAX.into();
            }));
        }
    }
    check("xattr reads", &s);
}
