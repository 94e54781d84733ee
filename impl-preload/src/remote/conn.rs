//! One blocking connection to a server: the handshake, and requests framed
//! by the client core, sent and received with raw system calls.

use core::sync::atomic::{AtomicU64, Ordering};
use std::collections::BTreeMap;

use libc::c_int;
use orfa_client_core::{
    Client, Incoming, Limits, REPLY_HEADER_LEN, Reply, ReplyHead, Request, SERVER_HELLO_LEN,
    SendError, client_hello, parse_server_hello,
};
use orfa_wire::ErrorCode;

use super::addr::{self, Addr};
use super::sys::{self, Errno};

/// How long the server may take to answer the hello.
const HELLO_TIMEOUT_SECS: libc::time_t = 3;

/// How long a request may wait for the server, unless `ORFA_TIMEOUT` says
/// otherwise (in seconds; 0 waits for ever).
const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// The longest a blocking send or receive waits for the server: past it the
/// connection is given up and the call fails with `EIO`, so that a server
/// that stopped answering (stopped, or its host gone) cannot hang a program.
/// A lock that waits on the server is not bounded by it.
fn request_timeout_secs() -> u64 {
    std::env::var("ORFA_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_TIMEOUT_SECS)
}

/// Why a call did not succeed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The request failed; the connection is fine.
    Errno(Errno),
    /// The connection is unusable (closed, reset, out of step); drop it.
    Broken(String),
}

impl Failure {
    fn io(errno: Errno) -> Self {
        match errno {
            libc::ECONNRESET => Self::Broken(String::from("connection lost")),
            libc::EAGAIN => Self::Broken(format!(
                "no answer within {} s (ORFA_TIMEOUT): giving the connection up",
                request_timeout_secs()
            )),
            e => Self::Broken(format!("connection lost: {}", addr::describe(e))),
        }
    }

    fn remote(code: ErrorCode) -> Self {
        Self::Errno(code.to_errno())
    }
}

impl From<SendError> for Failure {
    fn from(e: SendError) -> Self {
        match e {
            // One request at a time never runs out of credits: being out is a bug or a
            // server that returns none, and the connection cannot go on either way.
            SendError::NoCredits | SendError::Closed => Self::Broken(e.to_string()),
            other => Self::remote(other.code()),
        }
    }
}

impl From<orfa_client_core::ProtocolError> for Failure {
    fn from(e: orfa_client_core::ProtocolError) -> Self {
        Self::Broken(format!("protocol error: {e}"))
    }
}

/// Numbers each connection this process makes, so that a wait can tell
/// whether the connection it started on is still the one in use.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

/// A connected, greeted session.
///
/// Every call sends its request and reads replies until its own, all while
/// the caller holds the connection. The exception is a `LOCK` that waits:
/// its reply may come at any time later, so it is registered with
/// [`Conn::send_waiting`], and whichever call reads it parks the answer for
/// the waiting thread to collect with [`Conn::poll_answer`].
pub(super) struct Conn {
    fd: c_int,
    serial: u64,
    /// The process that made the connection.
    pid: i32,
    /// The socket's (device, inode), to recognise it before closing it.
    identity: Option<(u64, u64)>,
    core: Client,
    /// Receives reply data that does not go to a caller's buffer.
    scratch: Vec<u8>,
    /// Tags of waiting `LOCK`s whose answer has not been read.
    waiting: Vec<u64>,
    /// Answers read for waiting `LOCK`s, not yet collected: (tag, result).
    parked: Vec<(u64, Result<(), Errno>)>,
    /// The server's handles, by the number this library gives each (see
    /// [`Conn::adopt`]).
    handles: BTreeMap<u32, u64>,
    /// The number the next adopted handle gets.
    next_handle: u32,
}

impl Conn {
    /// Connects to `addr` and runs the handshake.
    pub(super) fn open(addr: &Addr) -> Result<Self, String> {
        let fd = addr::connect(addr)?;
        let mut conn = Self {
            fd,
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            pid: sys::getpid(),
            identity: sys::identity(fd),
            core: Client::new(Limits::default()),
            scratch: Vec::new(),
            waiting: Vec::new(),
            parked: Vec::new(),
            handles: BTreeMap::new(),
            next_handle: 1,
        };
        conn.core = Client::new(conn.handshake()?);
        Ok(conn)
    }

    fn handshake(&mut self) -> Result<Limits, String> {
        let fail = |e: Errno| format!("handshake: {}", addr::describe(e));
        sys::send_all(self.fd, &[&client_hello()]).map_err(fail)?;
        let timeout = libc::timeval {
            tv_sec: HELLO_TIMEOUT_SECS,
            tv_usec: 0,
        };
        sys::setsockopt(self.fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout).map_err(fail)?;
        let mut hello = [0u8; SERVER_HELLO_LEN];
        sys::recv_exact(self.fd, &mut hello).map_err(|e| match e {
            libc::EAGAIN => String::from("handshake: no answer from the server"),
            e => fail(e),
        })?;
        let limit = libc::timeval {
            tv_sec: libc::time_t::try_from(request_timeout_secs()).unwrap_or(0),
            tv_usec: 0,
        };
        sys::setsockopt(self.fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &limit).map_err(fail)?;
        sys::setsockopt(self.fd, libc::SOL_SOCKET, libc::SO_SNDTIMEO, &limit).map_err(fail)?;
        parse_server_hello(&hello).map_err(|e| e.to_string())
    }

    /// The descriptor of the socket.
    pub(super) fn fd(&self) -> c_int {
        self.fd
    }

    /// The process that made the connection.
    pub(super) fn pid(&self) -> i32 {
        self.pid
    }

    /// The session's limits.
    pub(super) fn limits(&self) -> Limits {
        self.core.limits()
    }

    /// Requests sent on this connection so far.
    pub(super) fn sent(&self) -> u64 {
        self.core.sent()
    }

    /// This connection's number, distinct from every other of the process.
    pub(super) fn serial(&self) -> u64 {
        self.serial
    }

    /// Credits available now.
    pub(super) fn credits(&self) -> u64 {
        self.core.credits()
    }

    /// The number the rest of the library uses for the server's handle
    /// `handle` of this session: this connection's serial in the high half,
    /// a count in the low half. A number kept from a connection that was
    /// lost can thus never name a handle of the next one: using it fails
    /// with `EIO` (see [`Conn::on_wire`]), where the server's own numbers,
    /// which start again in each session, could name another file.
    pub(super) fn adopt(&mut self, handle: u64) -> Result<u64, Failure> {
        let n = self.next_handle;
        self.next_handle = n.checked_add(1).ok_or(Failure::Errno(libc::EMFILE))?;
        self.handles.insert(n, handle);
        Ok((u64::from(self.serial as u32) << 32) | u64::from(n))
    }

    /// The count part of an adopted number, if it was adopted by this
    /// connection (its high half is this connection's serial).
    fn index(&self, id: u64) -> Option<u32> {
        (id >> 32 == u64::from(self.serial as u32)).then_some(id as u32)
    }

    /// Whether `id` names a handle of this connection's session.
    pub(super) fn owns(&self, id: u64) -> bool {
        self.index(id)
            .is_some_and(|n| self.handles.contains_key(&n))
    }

    /// Forgets an adopted handle (closed).
    pub(super) fn forget_handle(&mut self, id: u64) {
        if let Some(n) = self.index(id) {
            self.handles.remove(&n);
        }
    }

    /// The server's handle for an adopted number (0, the root, stays 0).
    fn server_handle(&self, id: u64) -> Result<u64, Failure> {
        if id == orfa_wire::ROOT_HANDLE {
            return Ok(id);
        }
        // Not this connection's: opened on one that was lost, whose session
        // is gone.
        let n = self.index(id).ok_or(Failure::Errno(libc::EIO))?;
        self.handles
            .get(&n)
            .copied()
            .ok_or(Failure::Errno(libc::EBADF))
    }

    /// `req` with the server's handles in place of this library's numbers.
    fn on_wire<'a>(&self, req: &Request<'a>) -> Result<Request<'a>, Failure> {
        req.map_handles(|id| self.server_handle(id))
    }

    /// Sends a `LOCK` that may wait, without reading its answer; returns its tag.
    ///
    /// One credit always stays free for the calls of other threads and for
    /// a `CANCEL`: with every other credit held by waiting locks, a new
    /// wait fails with `ENOLCK`.
    pub(super) fn send_waiting(&mut self, req: &Request<'_>) -> Result<u64, Failure> {
        if self.core.credits() < 2 {
            return Err(Failure::Errno(libc::ENOLCK));
        }
        let req = self.on_wire(req)?;
        let out = self.core.send(&req)?;
        sys::send_all(self.fd, &out.slices()).map_err(Failure::io)?;
        self.waiting.push(out.tag());
        Ok(out.tag())
    }

    /// Collects the answer to the waiting request `tag`, if it was read.
    pub(super) fn take_parked(&mut self, tag: u64) -> Option<Result<(), Errno>> {
        let at = self.parked.iter().position(|(t, _)| *t == tag)?;
        Some(self.parked.swap_remove(at).1)
    }

    /// The answer to the waiting request `tag` if it has come: parked, or
    /// the next message on the socket if one is there now (an answer for
    /// another waiting request is parked for its own thread).
    pub(super) fn poll_answer(&mut self, tag: u64) -> Result<Option<Result<(), Errno>>, Failure> {
        if let Some(done) = self.take_parked(tag) {
            return Ok(Some(done));
        }
        if !sys::has_input(self.fd) {
            return Ok(None);
        }
        let head = self.recv_header()?;
        let Incoming::Reply(head) = self.core.on_header(&head)? else {
            return Err(Failure::Broken(String::from(
                "clear-to-send with no request waiting",
            )));
        };
        if !self.park(head)? {
            return Err(Failure::Broken(format!("reply for tag {}", head.tag)));
        }
        Ok(self.take_parked(tag))
    }

    /// Reads the data part of a reply to a waiting request and parks the
    /// answer; returns false (reading nothing) if `head` is not for one.
    fn park(&mut self, head: ReplyHead) -> Result<bool, Failure> {
        let Some(at) = self.waiting.iter().position(|t| *t == head.tag) else {
            return Ok(false);
        };
        self.waiting.swap_remove(at);
        let len = usize::try_from(head.data_len).map_err(|_| Failure::io(libc::EPROTO))?;
        self.scratch.resize(len, 0);
        let data = self.scratch.get_mut(..len).unwrap_or_default();
        sys::recv_exact(self.fd, data).map_err(Failure::io)?;
        let done = self
            .core
            .on_data(self.scratch.get(..len).unwrap_or_default())?;
        let result = match done.result {
            Ok(Reply::Done) => Ok(()),
            Ok(_) => Err(libc::EPROTO),
            Err(code) => Err(code.to_errno()),
        };
        self.parked.push((head.tag, result));
        Ok(true)
    }

    /// Sends one request and waits for its reply. Reply data lands in an
    /// internal buffer the result borrows.
    pub(super) fn call(&mut self, req: &Request<'_>) -> Result<Reply<&[u8]>, Failure> {
        crate::ahead::before_request(req);
        if !matches!(req, Request::SetContext { .. }) {
            super::context::sync(self)?;
        }
        let req = self.on_wire(req)?;
        let out = self.core.send(&req)?;
        sys::send_all(self.fd, &out.slices()).map_err(Failure::io)?;
        loop {
            let head = self.recv_header()?;
            match self.core.on_header(&head)? {
                Incoming::ClearToSend(frame) => {
                    let [first, second] = out.parts();
                    sys::send_all(self.fd, &[&frame.header, first, second]).map_err(Failure::io)?;
                }
                Incoming::Reply(head) if head.tag != out.tag() && self.park(head)? => {}
                Incoming::Reply(head) => {
                    let len =
                        usize::try_from(head.data_len).map_err(|_| Failure::io(libc::EPROTO))?;
                    self.scratch.resize(len, 0);
                    let data = self.scratch.get_mut(..len).unwrap_or_default();
                    sys::recv_exact(self.fd, data).map_err(Failure::io)?;
                    let done = self
                        .core
                        .on_data(self.scratch.get(..len).unwrap_or_default())?;
                    if done.tag != out.tag() {
                        return Err(Failure::Broken(format!("reply for tag {}", done.tag)));
                    }
                    return done.result.map_err(Failure::remote);
                }
            }
        }
    }

    fn recv_header(&mut self) -> Result<[u8; REPLY_HEADER_LEN], Failure> {
        let mut head = [0u8; REPLY_HEADER_LEN];
        sys::recv_exact(self.fd, &mut head).map_err(Failure::io)?;
        Ok(head)
    }

    /// Reads into `buf` at `offset`: one `READ` per `max_io` bytes, as many
    /// in flight as the credits allow, each reply received straight into its
    /// part of `buf`. Returns the bytes read up to the first short part.
    pub(super) fn read(
        &mut self,
        handle: u64,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, Failure> {
        let handle = self.server_handle(handle)?;
        let max = usize::try_from(self.core.limits().max_io).unwrap_or(usize::MAX);
        let count = buf.len().div_ceil(max).max(1);
        let mut parts: Vec<ReadPart> = Vec::with_capacity(count.min(self.core.credits() as usize));
        let mut waiting = 0usize;
        let mut stop = false;
        loop {
            while parts.len() < count && !stop && self.core.credits() > 0 {
                let start = parts.len() * max;
                let asked = max.min(buf.len() - start);
                let req = Request::Read {
                    handle,
                    offset: offset + start as u64,
                    count: asked as u64,
                };
                let out = self.core.send(&req)?;
                sys::send_all(self.fd, &out.slices()).map_err(Failure::io)?;
                parts.push(ReadPart {
                    tag: out.tag(),
                    start,
                    asked,
                    outcome: None,
                });
                waiting += 1;
            }
            if waiting == 0 {
                break;
            }
            let head = self.recv_header()?;
            let Incoming::Reply(head) = self.core.on_header(&head)? else {
                return Err(Failure::Broken(String::from("clear-to-send for a read")));
            };
            if self.park(head)? {
                continue;
            }
            let Some(part) = parts.iter_mut().find(|p| p.tag == head.tag) else {
                return Err(Failure::Broken(format!("reply for tag {}", head.tag)));
            };
            // The core checked that data_len is at most the count asked.
            let end = part.start + head.data_len as usize;
            let dst = buf
                .get_mut(part.start..end)
                .ok_or_else(|| Failure::io(libc::EPROTO))?;
            sys::recv_exact(self.fd, dst).map_err(Failure::io)?;
            let outcome = match self.core.on_data(dst)?.result {
                Ok(Reply::Read(data)) => Ok(data.len()),
                Ok(_) => Err(libc::EPROTO),
                Err(code) => Err(code.to_errno()),
            };
            // Past a short or failed part the file has ended: ask no more.
            stop |= outcome != Ok(part.asked);
            part.outcome = Some(outcome);
            waiting -= 1;
        }
        let mut total = 0;
        for part in &parts {
            match part.outcome {
                Some(Ok(n)) => {
                    total += n;
                    if n < part.asked {
                        break;
                    }
                }
                Some(Err(e)) if total == 0 => return Err(Failure::Errno(e)),
                _ => break,
            }
        }
        Ok(total)
    }
}

/// One `READ` of a split read.
struct ReadPart {
    tag: u64,
    /// Where its data goes in the caller's buffer.
    start: usize,
    /// Bytes asked.
    asked: usize,
    /// Bytes read or the errno, once answered.
    outcome: Option<Result<usize, Errno>>,
}

impl Drop for Conn {
    /// Closes the socket, but only if the descriptor is still this socket: in
    /// a child after `fork` the number may have been closed and reused.
    fn drop(&mut self) {
        if self.identity.is_some() && sys::identity(self.fd) == self.identity {
            sys::close(self.fd);
        }
    }
}
