//! The client state machine: tags, credits, rendezvous and reply framing.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use orfa_wire::{ErrorCode, MsgKind, OpCode, REPLY_HEADER_LEN, REQUEST_HEADER_LEN, ReplyHeader};

use crate::error::{ProtocolError, SendError};
use crate::handshake::Limits;
use crate::reply::{Completion, Reply, ReplyHead, decode};
use crate::request::{Request, data_header};

/// The sans-IO state of one ORFA connection, from the client's side.
///
/// A `Client` owns no socket: a front end moves the bytes. Its contract:
///
/// 1. **Handshake.** Send [`client_hello`](crate::client_hello), read the
///    server's 64-byte hello, pass it to
///    [`parse_server_hello`](crate::parse_server_hello), and build the client
///    with [`Client::new`] from the limits it returns.
/// 2. **Send.** [`Client::send`] checks a [`Request`], spends a credit,
///    allocates a tag and returns an [`Outgoing`]: write
///    [`Outgoing::slices`] (the header, then the data part unless the
///    request needs a rendezvous) to the stream, whole and in order, before
///    sending anything else. [`SendError::NoCredits`] means the request was
///    not sent: read replies until [`Event::Unblocked`] comes out of
///    [`Client::poll_event`], then send it again. Any other [`SendError`] is
///    the request's own failure.
/// 3. **Receive**, zero-copy: read exactly [`REPLY_HEADER_LEN`] bytes and
///    give them to [`Client::on_header`]. An [`Incoming::ClearToSend`] asks
///    for the request's `DATA` message: write [`DataFrame::header`], then the
///    request's data part ([`Outgoing::parts`]), as one message. An
///    [`Incoming::Reply`] announces `data_len` bytes: read exactly that many
///    into the buffer meant for the reply's tag (for a `READ`, the caller's
///    own buffer) and give them to [`Client::on_data`], which returns the
///    decoded [`Completion`]; do so even when `data_len` is zero. No other
///    call to `on_header` may come between the two.
/// 4. **Receive**, buffered (tests, fuzzers, front ends that read in chunks):
///    give whatever bytes arrived to [`Client::feed`], in any pieces, and
///    drain [`Client::poll_event`]; completions come out as
///    [`Event::Reply`] with their data copied, rendezvous grants as
///    [`Event::ClearToSend`]. Do not mix the two ways of receiving within
///    one reply.
/// 5. **Events.** After receiving, drain [`Client::poll_event`]:
///    [`Event::Unblocked`] says credits came back after a refusal. A reply's
///    credit comes back once its data part is in (at [`Client::on_data`]),
///    when the server has certainly finished sending it.
/// 6. **Waiting locks.** A [`Request::Lock`] with `wait` is answered only
///    when the lock is granted (or refused): until then it is outstanding
///    and holds its credit, and replies to later requests come first. To
///    give up, send [`Request::Cancel`] with its tag; that request needs a
///    credit of its own. The lock's own reply still comes (with
///    [`ErrorCode::INTR`](orfa_wire::ErrorCode::INTR), or success if it was
///    granted first), before the cancel's.
///
/// A [`ProtocolError`] is fatal: the server broke the protocol, the core
/// stops (every later call fails with [`ProtocolError::Closed`] or
/// [`SendError::Closed`]) and the front end drops the connection. Nothing in
/// the core panics on what the server sends.
#[derive(Debug)]
pub struct Client {
    limits: Limits,
    /// Credits available now.
    credits: u64,
    /// A send was refused for lack of credits; the next credit raises an event.
    blocked: bool,
    next_tag: u64,
    pending: BTreeMap<u64, Pending>,
    /// The reply whose data part is expected next, if any, and the credits it returns.
    current: Option<(ReplyHead, u64)>,
    failed: bool,
    events: VecDeque<Event>,
    /// Bytes of a partly fed reply header.
    head_buf: [u8; REPLY_HEADER_LEN],
    head_len: usize,
    /// Bytes of a partly fed data part.
    data_buf: Vec<u8>,
    /// Requests sent so far (`DATA` messages not counted).
    sent: u64,
}

/// What the core remembers of an outstanding request.
#[derive(Debug, Clone, Copy)]
struct Pending {
    op: OpCode,
    /// The most reply data the request allows.
    reply_limit: u64,
    /// Length of the request's data part.
    data_len: u64,
    rendezvous: Rendezvous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rendezvous {
    /// Sent whole.
    None,
    /// Header sent; waiting for a clear-to-send.
    Waiting,
    /// Clear-to-send received; the data part has been handed to the front end.
    Granted,
}

/// A request encoded for sending: the header and the data part it borrows.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    tag: u64,
    header: [u8; REQUEST_HEADER_LEN],
    parts: [&'a [u8]; 2],
    rendezvous: bool,
}

impl<'a> Outgoing<'a> {
    /// The tag the reply will carry.
    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// The request header.
    pub fn header(&self) -> &[u8; REQUEST_HEADER_LEN] {
        &self.header
    }

    /// The request's whole data part, sent now or after the clear-to-send.
    pub fn parts(&self) -> [&'a [u8]; 2] {
        self.parts
    }

    /// Whether the data part waits for a clear-to-send.
    pub fn is_rendezvous(&self) -> bool {
        self.rendezvous
    }

    /// What to write now, in order: the header and, unless this is a
    /// rendezvous, the data part (slices may be empty).
    pub fn slices(&self) -> [&[u8]; 3] {
        if self.rendezvous {
            [&self.header, &[], &[]]
        } else {
            [&self.header, self.parts[0], self.parts[1]]
        }
    }

    /// Bytes [`Outgoing::slices`] add up to.
    pub fn len(&self) -> usize {
        self.slices().iter().map(|s| s.len()).sum()
    }

    /// Always false: there is at least a header.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// The `DATA` message a clear-to-send asks for: this header, then the
/// request's data part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFrame {
    /// The request's tag.
    pub tag: u64,
    /// The header of the `DATA` message.
    pub header: [u8; REQUEST_HEADER_LEN],
    /// Length of the data part to send after it.
    pub len: u64,
}

/// What a reply header announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming {
    /// The server is ready for a request's data part: send the `DATA` message.
    ClearToSend(DataFrame),
    /// A reply: `data_len` bytes follow, to be given to [`Client::on_data`].
    Reply(ReplyHead),
}

/// Something the front end learns by draining [`Client::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Credits came back after a send was refused: sending may resume.
    Unblocked,
    /// Fed bytes held a clear-to-send (buffered receiving only).
    ClearToSend(DataFrame),
    /// Fed bytes completed a reply (buffered receiving only).
    Reply(Completion<Vec<u8>>),
}

impl Client {
    /// A client for a session with the given limits (from the handshake).
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            credits: limits.credits,
            blocked: false,
            next_tag: 1,
            pending: BTreeMap::new(),
            current: None,
            failed: false,
            events: VecDeque::new(),
            head_buf: [0; REPLY_HEADER_LEN],
            head_len: 0,
            data_buf: Vec::new(),
            sent: 0,
        }
    }

    /// The session's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Credits available now: how many requests can be sent before a reply.
    pub fn credits(&self) -> u64 {
        self.credits
    }

    /// Requests encoded by [`Client::send`] so far in this session (the
    /// round trips a front end made; `DATA` messages are not counted).
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Requests sent and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Whether a protocol error stopped the connection.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Encodes a request: checks it, spends a credit and allocates a tag.
    ///
    /// See the type's documentation for what to do with the result.
    pub fn send<'a>(&mut self, req: &Request<'a>) -> Result<Outgoing<'a>, SendError> {
        if self.failed {
            return Err(SendError::Closed);
        }
        req.validate(self.limits.max_io)?;
        if req.op().since_minor() > self.limits.minor {
            return Err(SendError::Unsupported { op: req.op() });
        }
        if self.credits == 0 {
            self.blocked = true;
            return Err(SendError::NoCredits);
        }
        let tag = self.allocate_tag();
        let parts = req.data_parts();
        let data_len = (parts[0].len() + parts[1].len()) as u64;
        let rendezvous = data_len > self.limits.eager_limit;
        self.pending.insert(
            tag,
            Pending {
                op: req.op(),
                reply_limit: req.reply_limit(),
                data_len,
                rendezvous: if rendezvous {
                    Rendezvous::Waiting
                } else {
                    Rendezvous::None
                },
            },
        );
        self.credits -= 1;
        self.sent += 1;
        Ok(Outgoing {
            tag,
            header: req.header(tag),
            parts,
            rendezvous,
        })
    }

    fn allocate_tag(&mut self) -> u64 {
        // At most `credits` tags are outstanding, so this loop ends quickly.
        while self.next_tag == 0 || self.pending.contains_key(&self.next_tag) {
            self.next_tag = self.next_tag.wrapping_add(1);
        }
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        tag
    }

    /// Takes a reply header (zero-copy receiving); see the type's documentation.
    pub fn on_header(&mut self, bytes: &[u8; REPLY_HEADER_LEN]) -> Result<Incoming, ProtocolError> {
        if self.failed {
            return Err(ProtocolError::Closed);
        }
        if self.current.is_some() {
            return Err(self.fail(ProtocolError::OutOfSequence));
        }
        match self.check_header(bytes) {
            Ok(incoming) => Ok(incoming),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn check_header(&mut self, bytes: &[u8; REPLY_HEADER_LEN]) -> Result<Incoming, ProtocolError> {
        let h = ReplyHeader::parse(bytes)
            .map_err(|error| ProtocolError::Malformed { tag: 0, error })?;
        let tag = h.tag.get();
        let Some(pending) = self.pending.get_mut(&tag) else {
            return Err(ProtocolError::UnknownTag(tag));
        };
        match h.msg_kind() {
            MsgKind::CLEAR_TO_SEND => {
                if pending.rendezvous != Rendezvous::Waiting || h.data_len.get() != 0 {
                    return Err(ProtocolError::UnexpectedClearToSend(tag));
                }
                if h.value.get() != pending.data_len {
                    return Err(ProtocolError::ClearToSendLength {
                        tag,
                        accepted: h.value.get(),
                        expected: pending.data_len,
                    });
                }
                pending.rendezvous = Rendezvous::Granted;
                let len = pending.data_len;
                Ok(Incoming::ClearToSend(DataFrame {
                    tag,
                    header: data_header(tag, len),
                    len,
                }))
            }
            MsgKind::REPLY => {
                let head = ReplyHead {
                    tag,
                    op: pending.op,
                    status: ErrorCode(h.status.get()),
                    value: h.value.get(),
                    aux: h.aux.get(),
                    data_len: h.data_len.get(),
                };
                let max = if head.status.is_ok() {
                    pending.reply_limit
                } else {
                    0
                };
                if head.data_len > max {
                    return Err(ProtocolError::DataTooLong {
                        tag,
                        op: head.op,
                        len: head.data_len,
                        max,
                    });
                }
                if head.op == OpCode::WRITE && head.status.is_ok() && head.value > pending.data_len
                {
                    return Err(ProtocolError::BadValue {
                        tag,
                        op: head.op,
                        value: head.value,
                    });
                }
                self.pending.remove(&tag);
                self.current = Some((head, h.credits.get()));
                Ok(Incoming::Reply(head))
            }
            kind => Err(ProtocolError::UnknownKind(kind)),
        }
    }

    fn return_credits(&mut self, n: u64) {
        let ceiling = self
            .limits
            .credits
            .saturating_sub(self.pending.len() as u64);
        let before = self.credits;
        self.credits = self.credits.saturating_add(n).min(ceiling);
        if self.blocked && self.credits > before {
            self.blocked = false;
            self.events.push_back(Event::Unblocked);
        }
    }

    /// Takes the data part of the reply the last [`Client::on_header`]
    /// announced: exactly `data_len` bytes, possibly none.
    pub fn on_data<'d>(&mut self, data: &'d [u8]) -> Result<Completion<&'d [u8]>, ProtocolError> {
        if self.failed {
            return Err(ProtocolError::Closed);
        }
        let Some((head, credits)) = self.current.take() else {
            return Err(self.fail(ProtocolError::OutOfSequence));
        };
        if data.len() as u64 != head.data_len {
            return Err(self.fail(ProtocolError::OutOfSequence));
        }
        let result = if head.status.is_ok() {
            match decode(&head, data) {
                Ok(reply) => Ok(reply),
                Err(e) => return Err(self.fail(e)),
            }
        } else {
            Err(head.status)
        };
        // The credit comes back with the whole reply, not its header: the
        // server may still be sending the data part until then.
        self.return_credits(credits);
        Ok(Completion {
            tag: head.tag,
            result,
        })
    }

    /// Takes bytes from the server in any pieces (buffered receiving);
    /// completed messages come out of [`Client::poll_event`].
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), ProtocolError> {
        if self.failed {
            return Err(ProtocolError::Closed);
        }
        while !bytes.is_empty() || self.data_complete() {
            match self.current {
                None => {
                    let want = REPLY_HEADER_LEN - self.head_len;
                    let take = want.min(bytes.len());
                    let (now, rest) = bytes.split_at(take);
                    self.head_buf[self.head_len..][..take].copy_from_slice(now);
                    self.head_len += take;
                    bytes = rest;
                    if self.head_len < REPLY_HEADER_LEN {
                        break;
                    }
                    self.head_len = 0;
                    let head_buf = self.head_buf;
                    if let Incoming::ClearToSend(frame) = self.on_header(&head_buf)? {
                        self.events.push_back(Event::ClearToSend(frame));
                    }
                }
                Some((head, _)) => {
                    let want = (head.data_len as usize).saturating_sub(self.data_buf.len());
                    let take = want.min(bytes.len());
                    let (now, rest) = bytes.split_at(take);
                    self.data_buf.extend_from_slice(now);
                    bytes = rest;
                    if !self.data_complete() {
                        break;
                    }
                    let data = core::mem::take(&mut self.data_buf);
                    let done = self.on_data(&data).map(|c| Completion {
                        tag: c.tag,
                        result: c.result.map(|r| Reply::to_owned(&r)),
                    })?;
                    self.events.push_back(Event::Reply(done));
                    self.data_buf = data;
                    self.data_buf.clear();
                }
            }
        }
        Ok(())
    }

    /// Whether the buffered data part of the current reply is all there.
    fn data_complete(&self) -> bool {
        self.current
            .is_some_and(|(h, _)| self.data_buf.len() as u64 == h.data_len)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn fail(&mut self, e: ProtocolError) -> ProtocolError {
        self.failed = true;
        self.current = None;
        self.pending.clear();
        e
    }
}
