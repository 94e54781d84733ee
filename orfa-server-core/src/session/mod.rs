//! One client's session: framing, credits, rendezvous and handles.

mod dispatch;
#[cfg(test)]
mod lock_tests;
mod locking;
#[cfg(test)]
mod share_tests;
mod sharing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod two_clients;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use orfa_wire::{
    CLIENT_HELLO_LEN, ClientHello, ErrorCode, MAGIC, MsgKind, OpCode, REPLY_HEADER_LEN,
    REQUEST_HEADER_LEN, ReplyHeader, RequestHeader, SERVER_HELLO_LEN, ServerHello, VERSION_MAJOR,
    VERSION_MINOR, pack_version, unpack_version,
};

use crate::backend::{Backend, Context};
use crate::locks::{LockAccess, SessionId};

/// The limits a server announces to each client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The largest data part a request may carry without a rendezvous.
    pub eager_limit: u64,
    /// How many requests a client may have outstanding.
    pub credits: u64,
    /// The largest read count or write payload of one request.
    pub max_io: u64,
    /// The most handles one session may hold open at once.
    pub max_handles: usize,
    /// The highest minor version of major 1 offered to clients (at most
    /// [`VERSION_MINOR`]); a lower one makes the server behave as an older one.
    pub max_minor: u16,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            eager_limit: orfa_wire::DEFAULT_EAGER_LIMIT,
            credits: orfa_wire::DEFAULT_CREDITS,
            max_io: orfa_wire::DEFAULT_MAX_IO,
            max_handles: 4096,
            max_minor: VERSION_MINOR,
        }
    }
}

/// Why a session ended. Each of these is the client's fault; the front end
/// logs it, flushes what [`Session::transmit`] still holds and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The client's hello did not start with the ORFA magic.
    BadMagic(u64),
    /// The client speaks another major version.
    Version {
        /// The client's major version.
        major: u16,
        /// The client's minor version.
        minor: u16,
    },
    /// A request arrived while the client had no credit left.
    NoCredit {
        /// The request's tag.
        tag: u64,
    },
    /// A data part larger than the server accepts.
    TooLarge {
        /// The request's tag.
        tag: u64,
        /// The announced length.
        len: u64,
    },
    /// A `DATA` message for a tag that was not granted a rendezvous, or with
    /// another length than the request announced.
    UnexpectedData {
        /// The tag of the `DATA` message.
        tag: u64,
    },
    /// A rendezvous request reused the tag of one still waiting for its data.
    DuplicateTag {
        /// The reused tag.
        tag: u64,
    },
    /// Input arrived after the session ended.
    Closed,
}

impl core::fmt::Display for SessionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::BadMagic(m) => write!(f, "not an ORFA client: hello magic {m:#018x}"),
            Self::Version { major, minor } => write!(
                f,
                "client speaks protocol {major}.{minor}, server speaks {VERSION_MAJOR}.{VERSION_MINOR}"
            ),
            Self::NoCredit { tag } => write!(f, "request tag {tag} sent without credit"),
            Self::TooLarge { tag, len } => {
                write!(
                    f,
                    "request tag {tag} announces a {len}-byte data part, over the limit"
                )
            }
            Self::UnexpectedData { tag } => {
                write!(f, "data part for tag {tag} that was not cleared to send")
            }
            Self::DuplicateTag { tag } => {
                write!(f, "tag {tag} reused while still waiting for data")
            }
            Self::Closed => f.write_str("session already closed"),
        }
    }
}

impl core::error::Error for SessionError {}

/// The bytes of one message to send: a header and an optional body.
///
/// [`Transmit::slices`] gives what is left to send of it, for one vectored write.
#[derive(Debug)]
pub struct Transmit<'a> {
    head: &'a [u8],
    body: &'a [u8],
}

impl<'a> Transmit<'a> {
    /// The unsent rest of the message: header bytes, then body bytes (either may be empty).
    pub fn slices(&self) -> [&'a [u8]; 2] {
        [self.head, self.body]
    }

    /// The number of bytes left to send.
    pub fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Whether nothing is left to send.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A message waiting to be sent.
#[derive(Debug)]
struct Outgoing {
    head: [u8; SERVER_HELLO_LEN],
    head_len: usize,
    body: Vec<u8>,
    /// Whether sending it gives the client back a credit.
    returns_credit: bool,
}

impl Outgoing {
    fn reply(header: &ReplyHeader, body: Vec<u8>) -> Self {
        let mut head = [0; SERVER_HELLO_LEN];
        head[..REPLY_HEADER_LEN].copy_from_slice(header.as_wire());
        let returns_credit = header.msg_kind() == MsgKind::REPLY;
        Self {
            head,
            head_len: REPLY_HEADER_LEN,
            body,
            returns_credit,
        }
    }

    fn hello(hello: &ServerHello) -> Self {
        Self {
            head: *hello.as_wire(),
            head_len: SERVER_HELLO_LEN,
            body: Vec::new(),
            returns_credit: false,
        }
    }

    fn len(&self) -> usize {
        self.head_len + self.body.len()
    }
}

/// A request whose data part is complete, waiting to be executed.
#[derive(Debug)]
struct Ready {
    header: RequestHeader,
    data: Vec<u8>,
}

/// What the next received bytes are.
#[derive(Debug)]
enum Recv {
    Hello {
        buf: [u8; CLIENT_HELLO_LEN],
        filled: usize,
    },
    Header {
        buf: [u8; REQUEST_HEADER_LEN],
        filled: usize,
    },
    Data {
        header: RequestHeader,
        buf: Vec<u8>,
        filled: usize,
    },
    Closed,
}

/// A client's session on the server.
///
/// # Driving contract
///
/// A front end owns the connection and repeats, in this order:
///
/// 1. **Input.** Read from the connection into [`Session::recv_buf`] and
///    report the count with [`Session::recv_done`] (or hand over bytes already
///    read with [`Session::feed`]). An `Err` is fatal: send what
///    [`Session::transmit`] still holds, then close.
/// 2. **Execution.** Call [`Session::execute`] with the backend and the
///    server's lock table: every request whose data part is complete runs,
///    and its reply is queued, except a `LOCK` with `WAIT` that conflicts:
///    it stays outstanding (holding its credit) until it is granted,
///    cancelled or found to deadlock.
/// 3. **Output.** While [`Session::transmit`] gives a message, write its
///    slices and report what was written with [`Session::transmit_done`].
///
/// Another session's unlock can grant this session's waiting `LOCK` at any
/// time. The table then names this session in
/// [`LockTable::take_woken`](crate::LockTable::take_woken): the front end
/// wakes the connection, which calls [`Session::poll_locks`] to queue the
/// answers, then goes on with step 3. [`Session::id`] is the name the table
/// uses.
///
/// When the connection ends for any reason, call [`Session::release`] so the
/// backend gets every open node back and the table drops the session's
/// locks. Once [`Session::is_closed`] is true, flush the output and close.
///
/// Memory held for one session is bounded by the credits: at most
/// `credits` requests with their data parts and `credits` replies; the
/// lock table bounds the locks it holds.
#[derive(Debug)]
pub struct Session<N> {
    config: Config,
    recv: Recv,
    /// Requests received and not yet answered by a sent reply.
    outstanding: u64,
    ready: VecDeque<Ready>,
    /// Rendezvous requests cleared to send, waiting for their `DATA`.
    awaiting_data: BTreeMap<u64, RequestHeader>,
    out: VecDeque<Outgoing>,
    /// Bytes of `out.front()` already sent.
    sent: usize,
    handles: BTreeMap<u64, N>,
    next_handle: u64,
    /// The minor version agreed in the handshake.
    minor: u16,
    /// Who the client said it is, once it has.
    identity: Option<Identity>,
    /// This session's name in the lock table.
    id: SessionId,
    /// Whether the client ever asked for a lock: only then does the session
    /// reach the lock table outside `LOCK` and `GETLK`.
    uses_locks: bool,
    /// Handles that asked for a `HANDLE` or `FLOCK` lock, with the key of their file:
    /// closing one releases its locks.
    lock_handles: BTreeMap<u64, u128>,
    /// Handles shared with `SHARE` or made by `ATTACH`, with their token.
    links: BTreeMap<u64, u64>,
}

/// A client's identity and umask, as set by `SETCONTEXT`.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) groups: Arc<[u32]>,
    pub(crate) umask: u32,
}

impl<N> Session<N> {
    /// A session waiting for the client's hello.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            recv: Recv::Hello {
                buf: [0; CLIENT_HELLO_LEN],
                filled: 0,
            },
            outstanding: 0,
            ready: VecDeque::new(),
            awaiting_data: BTreeMap::new(),
            out: VecDeque::new(),
            sent: 0,
            handles: BTreeMap::new(),
            next_handle: 1,
            minor: 0,
            identity: None,
            id: SessionId::next(),
            uses_locks: false,
            lock_handles: BTreeMap::new(),
            links: BTreeMap::new(),
        }
    }

    /// The name of this session in the lock table, unique in the process.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The minor version agreed with the client (0 before the handshake).
    pub fn minor_version(&self) -> u16 {
        self.minor
    }

    /// The limits this session announces.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the next bytes from the client go. Empty only once the session is closed.
    pub fn recv_buf(&mut self) -> &mut [u8] {
        match &mut self.recv {
            Recv::Hello { buf, filled } => &mut buf[*filled..],
            Recv::Header { buf, filled } => &mut buf[*filled..],
            Recv::Data { buf, filled, .. } => &mut buf[*filled..],
            Recv::Closed => &mut [],
        }
    }

    /// Records that `n` bytes were written at the start of [`Session::recv_buf`].
    ///
    /// `n` larger than that buffer is treated as its length.
    pub fn recv_done(&mut self, n: usize) -> Result<(), SessionError> {
        let complete = match &mut self.recv {
            Recv::Hello { buf, filled } => advance(filled, buf.len(), n),
            Recv::Header { buf, filled } => advance(filled, buf.len(), n),
            Recv::Data { buf, filled, .. } => advance(filled, buf.len(), n),
            Recv::Closed => return Err(SessionError::Closed),
        };
        if !complete {
            return Ok(());
        }
        let result = self.on_complete();
        if result.is_err() {
            self.recv = Recv::Closed;
        }
        result
    }

    /// Takes as many of `bytes` as the session accepts; returns how many.
    ///
    /// Stops early only on a fatal error.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<usize, SessionError> {
        let total = bytes.len();
        while !bytes.is_empty() {
            let dst = self.recv_buf();
            if dst.is_empty() {
                return Err(SessionError::Closed);
            }
            let n = dst.len().min(bytes.len());
            dst[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.recv_done(n)?;
        }
        Ok(total)
    }

    /// Whether the session has ended; the front end flushes the output and closes.
    pub fn is_closed(&self) -> bool {
        matches!(self.recv, Recv::Closed)
    }

    /// The next message to send, or `None` if there is nothing to send.
    pub fn transmit(&self) -> Option<Transmit<'_>> {
        let msg = self.out.front()?;
        let head = &msg.head[..msg.head_len];
        let (head, body) = if self.sent < head.len() {
            (&head[self.sent..], &msg.body[..])
        } else {
            (&[][..], &msg.body[self.sent - head.len()..])
        };
        Some(Transmit { head, body })
    }

    /// Records that `n` bytes of the current [`Session::transmit`] were sent.
    pub fn transmit_done(&mut self, n: usize) {
        let Some(msg) = self.out.front() else {
            return;
        };
        self.sent = (self.sent + n).min(msg.len());
        if self.sent == msg.len() {
            if msg.returns_credit {
                self.outstanding = self.outstanding.saturating_sub(1);
            }
            self.out.pop_front();
            self.sent = 0;
        }
    }

    /// Runs every request whose data part is complete and queues the replies.
    ///
    /// `cx` gives the time, and the identity requests run with until the
    /// client sets its own. `locks` reaches the table of the server's locks;
    /// it is used only by lock requests, closes of locked handles, and to
    /// collect answers to this session's waiting requests.
    pub fn execute<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        cx: &Context<'_>,
        backend: &mut B,
        locks: &mut L,
    ) {
        while let Some(req) = self.ready.pop_front() {
            let identity = self.identity.clone();
            let cx = match &identity {
                Some(id) => Context {
                    now: cx.now,
                    uid: id.uid,
                    gid: id.gid,
                    groups: &id.groups,
                    umask: id.umask,
                },
                None => *cx,
            };
            if let Some((reply, body)) = self.dispatch(&cx, backend, locks, &req.header, &req.data)
            {
                self.out.push_back(Outgoing::reply(&reply, body));
            }
        }
        self.poll_locks(locks);
    }

    /// Closes every handle the client left open and drops the session's
    /// locks and waiting requests. Call once the connection is gone.
    pub fn release<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        cx: &Context<'_>,
        backend: &mut B,
        locks: &mut L,
    ) {
        if self.uses_locks {
            let id = self.id;
            locks.with(|t| t.release_session(id));
            self.lock_handles.clear();
        }
        self.unlink_all(cx, backend, locks);
        for (_, node) in core::mem::take(&mut self.handles) {
            // The client is gone: there is no one to report a close error to.
            let _ = backend.close(cx, node);
        }
        self.recv = Recv::Closed;
        self.ready.clear();
        self.awaiting_data.clear();
    }

    /// Handles a completely received hello, header or data part.
    fn on_complete(&mut self) -> Result<(), SessionError> {
        match core::mem::replace(&mut self.recv, Recv::Closed) {
            Recv::Hello { buf, .. } => self.on_hello(&buf),
            Recv::Header { buf, .. } => match RequestHeader::parse(&buf) {
                Ok(header) => self.on_header(header),
                Err(_) => Err(SessionError::Closed),
            },
            Recv::Data { header, buf, .. } => {
                self.ready.push_back(Ready { header, data: buf });
                self.expect_header();
                Ok(())
            }
            Recv::Closed => Err(SessionError::Closed),
        }
    }

    fn expect_header(&mut self) {
        self.recv = Recv::Header {
            buf: [0; REQUEST_HEADER_LEN],
            filled: 0,
        };
    }

    fn on_hello(&mut self, buf: &[u8; CLIENT_HELLO_LEN]) -> Result<(), SessionError> {
        let hello = ClientHello::parse(buf).map_err(|_| SessionError::Closed)?;
        if hello.magic.get() != MAGIC {
            return Err(SessionError::BadMagic(hello.magic.get()));
        }
        let (major, minor) = unpack_version(hello.version.get());
        self.minor = common_minor(minor, self.config.max_minor.min(VERSION_MINOR));
        let mut answer = ServerHello {
            magic: MAGIC.into(),
            version: pack_version(VERSION_MAJOR, self.minor).into(),
            eager_limit: self.config.eager_limit.into(),
            credits: self.config.credits.into(),
            max_io: self.config.max_io.into(),
            ..ServerHello::default()
        };
        if major != VERSION_MAJOR {
            answer.status = ErrorCode::UNSUPPORTED.0.into();
            self.out.push_back(Outgoing::hello(&answer));
            return Err(SessionError::Version { major, minor });
        }
        self.out.push_back(Outgoing::hello(&answer));
        self.expect_header();
        Ok(())
    }

    fn on_header(&mut self, header: RequestHeader) -> Result<(), SessionError> {
        let tag = header.tag.get();
        let len = header.data_len.get();
        if header.opcode() == OpCode::DATA {
            return self.on_data_header(tag, len);
        }
        if self.outstanding >= self.config.credits {
            return Err(SessionError::NoCredit { tag });
        }
        self.outstanding += 1;
        if len > self.config.eager_limit {
            return self.on_rendezvous(header);
        }
        if len == 0 {
            self.ready.push_back(Ready {
                header,
                data: Vec::new(),
            });
            self.expect_header();
        } else {
            // `len` is at most the eager limit, which the operator chose to fit in memory.
            self.recv = Recv::Data {
                header,
                buf: vec![0; len as usize],
                filled: 0,
            };
        }
        Ok(())
    }

    /// A request too large to send eagerly: clear it to send, or refuse it.
    fn on_rendezvous(&mut self, header: RequestHeader) -> Result<(), SessionError> {
        let tag = header.tag.get();
        let len = header.data_len.get();
        self.expect_header();
        let op = header.opcode();
        if !(op == OpCode::WRITE || op == OpCode::SETXATTR) || len > self.config.max_io {
            let reply = ReplyHeader::failure(tag, ErrorCode::TOO_LARGE);
            self.out.push_back(Outgoing::reply(&reply, Vec::new()));
            return Ok(());
        }
        if self.awaiting_data.insert(tag, header).is_some() {
            return Err(SessionError::DuplicateTag { tag });
        }
        let cts = ReplyHeader {
            kind: MsgKind::CLEAR_TO_SEND.0.into(),
            tag: tag.into(),
            value: len.into(),
            ..ReplyHeader::default()
        };
        self.out.push_back(Outgoing::reply(&cts, Vec::new()));
        Ok(())
    }

    fn on_data_header(&mut self, tag: u64, len: u64) -> Result<(), SessionError> {
        let Some(header) = self.awaiting_data.remove(&tag) else {
            return Err(SessionError::UnexpectedData { tag });
        };
        if header.data_len.get() != len {
            return Err(SessionError::UnexpectedData { tag });
        }
        // Checked against `max_io` when the rendezvous was granted.
        self.recv = Recv::Data {
            header,
            buf: vec![0; len as usize],
            filled: 0,
        };
        Ok(())
    }
}

/// The minor version two peers of the same major both speak.
fn common_minor(client: u16, server: u16) -> u16 {
    if client < server { client } else { server }
}

/// Adds `n` to `filled`, capped at `cap`; returns whether the buffer is full.
fn advance(filled: &mut usize, cap: usize, n: usize) -> bool {
    *filled = (*filled + n).min(cap);
    *filled == cap
}
