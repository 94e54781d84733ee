//! The session handshake: the client's hello and the server's answer.

use orfa_wire::{
    CLIENT_HELLO_LEN, ClientHello, ErrorCode, MAGIC, ServerHello, VERSION_MAJOR, VERSION_MINOR,
    WireError, pack_version, unpack_version,
};

use crate::error::HandshakeError;

/// The limits of a session, announced by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest data part a request carries directly; a larger one needs a rendezvous.
    pub eager_limit: u64,
    /// How many requests may be outstanding at once.
    pub credits: u64,
    /// The largest read count or write payload of one request.
    pub max_io: u64,
    /// The minor version the session agreed on: operations introduced later
    /// (see [`OpCode::since_minor`](orfa_wire::OpCode::since_minor)) are not
    /// available, and [`Client::send`](crate::Client::send) refuses them.
    pub minor: u16,
}

impl Default for Limits {
    /// The limits a server announces unless configured otherwise.
    fn default() -> Self {
        Self {
            eager_limit: orfa_wire::DEFAULT_EAGER_LIMIT,
            credits: orfa_wire::DEFAULT_CREDITS,
            max_io: orfa_wire::DEFAULT_MAX_IO,
            minor: VERSION_MINOR,
        }
    }
}

/// The bytes of the hello a client sends first.
pub fn client_hello() -> [u8; CLIENT_HELLO_LEN] {
    let hello = ClientHello {
        magic: MAGIC.into(),
        version: pack_version(VERSION_MAJOR, VERSION_MINOR).into(),
        ..ClientHello::default()
    };
    *hello.as_wire()
}

/// Reads the server's hello (the first [`SERVER_HELLO_LEN`](orfa_wire::SERVER_HELLO_LEN) bytes it sends).
///
/// Fails unless the magic is right, the major version is ours, the status
/// is `OK`, and there is at least one credit and a non-zero `max_io`.
pub fn parse_server_hello(bytes: &[u8]) -> Result<Limits, HandshakeError> {
    let hello = ServerHello::parse(bytes).map_err(HandshakeError::Wire)?;
    if hello.magic.get() != MAGIC {
        return Err(HandshakeError::Wire(WireError::BadMagic(hello.magic.get())));
    }
    let status = ErrorCode(hello.status.get());
    let (major, minor) = unpack_version(hello.version.get());
    if !status.is_ok() {
        return Err(HandshakeError::Refused(status));
    }
    if major != VERSION_MAJOR {
        return Err(HandshakeError::Version { major, minor });
    }
    let limits = Limits {
        eager_limit: hello.eager_limit.get(),
        credits: hello.credits.get(),
        max_io: hello.max_io.get(),
        // A server answers with the lower of the two; never trust more.
        minor: minor.min(VERSION_MINOR),
    };
    if limits.credits == 0 || limits.max_io == 0 {
        return Err(HandshakeError::BadLimits);
    }
    Ok(limits)
}
