//! What can go wrong when sending a request or reading a reply.

use orfa_wire::{ErrorCode, MsgKind, OpCode, WireError};

/// Why a request was not encoded; nothing was sent and no credit was spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// Every credit is spent: wait for a reply, then
    /// [`Event::Unblocked`](crate::Event::Unblocked), and send again.
    NoCredits,
    /// A path longer than [`MAX_PATH`](orfa_wire::MAX_PATH) bytes, or a
    /// component longer than [`MAX_NAME`](orfa_wire::MAX_NAME) bytes.
    NameTooLong {
        /// The offending length.
        len: usize,
    },
    /// A path or link target with a NUL byte.
    NulByte,
    /// A read count or write payload above the session's `max_io`.
    TooLarge {
        /// The size asked for.
        len: u64,
        /// The session's limit.
        max: u64,
    },
    /// The operation is newer than the minor version the session agreed on.
    Unsupported {
        /// The operation.
        op: OpCode,
    },
    /// The connection failed earlier with a protocol error; nothing more can be sent.
    Closed,
}

impl SendError {
    /// The protocol error code a front end reports for this refusal.
    ///
    /// [`SendError::NoCredits`] maps to `AGAIN`: a front end normally waits
    /// instead of reporting it.
    pub const fn code(self) -> ErrorCode {
        match self {
            Self::NoCredits => ErrorCode::AGAIN,
            Self::NameTooLong { .. } => ErrorCode::NAMETOOLONG,
            Self::NulByte => ErrorCode::INVAL,
            Self::TooLarge { .. } => ErrorCode::TOO_LARGE,
            Self::Unsupported { .. } => ErrorCode::UNSUPPORTED,
            Self::Closed => ErrorCode::IO,
        }
    }
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::NoCredits => f.write_str("no credit left to send a request"),
            Self::NameTooLong { len } => write!(f, "path or name too long: {len} bytes"),
            Self::NulByte => f.write_str("path contains a NUL byte"),
            Self::TooLarge { len, max } => write!(f, "i/o size {len} exceeds the limit {max}"),
            Self::Unsupported { op } => write!(f, "{op} is not in the session's protocol version"),
            Self::Closed => f.write_str("connection closed after a protocol error"),
        }
    }
}

impl core::error::Error for SendError {}

/// A violation of the protocol by the server; the connection cannot be used any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A message kind that is neither `REPLY` nor `CLEAR_TO_SEND`.
    UnknownKind(MsgKind),
    /// A reply or clear-to-send for a tag with no request outstanding.
    UnknownTag(u64),
    /// A clear-to-send for a request that did not wait for one.
    UnexpectedClearToSend(u64),
    /// A clear-to-send whose accepted length is not the request's data part.
    ClearToSendLength {
        /// The request's tag.
        tag: u64,
        /// The length the server accepted.
        accepted: u64,
        /// The data part's length.
        expected: u64,
    },
    /// A data part longer than the request allows.
    DataTooLong {
        /// The request's tag.
        tag: u64,
        /// The operation.
        op: OpCode,
        /// The reply's data length.
        len: u64,
        /// The most the request allows.
        max: u64,
    },
    /// A result field that contradicts the request or the data part.
    BadValue {
        /// The request's tag.
        tag: u64,
        /// The operation.
        op: OpCode,
        /// The field's value.
        value: u64,
    },
    /// A data part that does not decode.
    Malformed {
        /// The request's tag.
        tag: u64,
        /// What was wrong.
        error: WireError,
    },
    /// Reply data handed over when no reply header announced any, or of the wrong length.
    OutOfSequence,
    /// The connection already failed.
    Closed,
}

impl ProtocolError {
    /// The protocol error code a front end reports for a request lost to this error.
    pub const fn code(self) -> ErrorCode {
        ErrorCode::IO
    }
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::UnknownKind(k) => write!(f, "unknown message kind {k}"),
            Self::UnknownTag(t) => write!(f, "reply for tag {t}, which is not outstanding"),
            Self::UnexpectedClearToSend(t) => write!(f, "unexpected clear-to-send for tag {t}"),
            Self::ClearToSendLength {
                tag,
                accepted,
                expected,
            } => write!(
                f,
                "clear-to-send for tag {tag} accepts {accepted} bytes, the request has {expected}"
            ),
            Self::DataTooLong { tag, op, len, max } => {
                write!(
                    f,
                    "{op} reply for tag {tag} carries {len} bytes, at most {max} allowed"
                )
            }
            Self::BadValue { tag, op, value } => {
                write!(
                    f,
                    "{op} reply for tag {tag} has an impossible result {value}"
                )
            }
            Self::Malformed { tag, error } => {
                write!(f, "reply for tag {tag} is malformed: {error}")
            }
            Self::OutOfSequence => f.write_str("reply data out of sequence"),
            Self::Closed => f.write_str("connection closed after a protocol error"),
        }
    }
}

impl core::error::Error for ProtocolError {}

/// Why a session could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The server hello does not parse (too short, wrong magic).
    Wire(WireError),
    /// The server speaks another major version.
    Version {
        /// The server's major version.
        major: u16,
        /// The server's minor version.
        minor: u16,
    },
    /// The server refused the session.
    Refused(ErrorCode),
    /// Limits that make the session unusable (no credit, zero `max_io`).
    BadLimits,
}

impl core::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Wire(e) => write!(f, "bad server hello: {e}"),
            Self::Version { major, minor } => write!(f, "server speaks version {major}.{minor}"),
            Self::Refused(code) => write!(f, "server refused the session: {code}"),
            Self::BadLimits => f.write_str("server announced unusable limits"),
        }
    }
}

impl core::error::Error for HandshakeError {}
