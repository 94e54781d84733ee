//! Session handshake, request and reply headers.

use crate::codes::{ErrorCode, MsgKind, OpCode};

/// Why bytes could not be read as a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than the structure needs.
    Short {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes that were given.
        got: usize,
    },
    /// A hello whose magic is not [`MAGIC`](crate::MAGIC).
    BadMagic(u64),
    /// A length field that does not fit the message it describes.
    BadLength(u64),
}

impl core::fmt::Display for WireError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Short { needed, got } => {
                write!(f, "message too short: need {needed} bytes, got {got}")
            }
            Self::BadMagic(m) => write!(f, "not an ORFA peer: magic {m:#018x}"),
            Self::BadLength(l) => write!(f, "length field {l} out of range"),
        }
    }
}

impl core::error::Error for WireError {}

/// Declares a fixed-layout wire structure of `U64` fields, with its length
/// constant and parse/encode helpers.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $name:ident, $len_const:ident {
            $( $(#[$fmeta:meta])* $field:ident, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
        #[derive(
            zerocopy::FromBytes,
            zerocopy::IntoBytes,
            zerocopy::KnownLayout,
            zerocopy::Immutable,
            zerocopy::Unaligned,
        )]
        #[repr(C)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: zerocopy::little_endian::U64, )*
        }

        #[doc = concat!("The size of a [`", stringify!($name), "`] on the wire, in bytes.")]
        pub const $len_const: usize = core::mem::size_of::<$name>();

        impl $name {
            /// Reads the structure from the start of `bytes` (a copy; `bytes` may be unaligned).
            pub fn parse(bytes: &[u8]) -> Result<Self, $crate::WireError> {
                <Self as zerocopy::FromBytes>::read_from_prefix(bytes)
                    .map(|(v, _)| v)
                    .map_err(|_| $crate::WireError::Short { needed: $len_const, got: bytes.len() })
            }

            /// The structure's bytes.
            pub fn as_wire(&self) -> &[u8; $len_const] {
                zerocopy::transmute_ref!(self)
            }

            /// Writes the structure at the start of `out`; returns the bytes written, or
            /// the size needed if `out` is too short (nothing is written then).
            pub fn encode(&self, out: &mut [u8]) -> Result<usize, usize> {
                match out.get_mut(..$len_const) {
                    Some(dst) => {
                        dst.copy_from_slice(zerocopy::IntoBytes::as_bytes(self));
                        Ok($len_const)
                    }
                    None => Err($len_const),
                }
            }
        }
    };
}

pub(crate) use wire_struct;

wire_struct! {
    /// The first message of a session, from the client.
    ClientHello, CLIENT_HELLO_LEN {
        /// Always [`MAGIC`](crate::MAGIC).
        magic,
        /// The client's highest version, packed by [`pack_version`](crate::pack_version).
        version,
        /// Reserved; zero.
        flags,
        /// Reserved; zero.
        reserved,
    }
}

wire_struct! {
    /// The server's answer to a [`ClientHello`]: the session's limits.
    ServerHello, SERVER_HELLO_LEN {
        /// Always [`MAGIC`](crate::MAGIC).
        magic,
        /// The version both sides speak: the lower of the two.
        version,
        /// [`ErrorCode::OK`], or why the session is refused (the server then closes).
        status,
        /// The largest data part a request may carry without a rendezvous.
        eager_limit,
        /// How many requests the client may have outstanding.
        credits,
        /// The largest read count or write data part of one request.
        max_io,
        /// Reserved; zero.
        reserved0,
        /// Reserved; zero.
        reserved1,
    }
}

wire_struct! {
    /// The fixed part of every client-to-server message.
    ///
    /// Which of `offset`, `count`, `flags`, `mode`, `arg0` and `arg1` an
    /// operation uses is listed in `spec/PROTOCOL.md`; unused fields are zero.
    RequestHeader, REQUEST_HEADER_LEN {
        /// The operation, an [`OpCode`].
        op,
        /// Chosen by the client; the reply carries it back.
        tag,
        /// The handle operated on, or the base of a relative path (0: the export root).
        handle,
        /// Length of the data part that follows.
        data_len,
        /// A file offset or directory cookie.
        offset,
        /// A byte count, or the length of the first of two paths.
        count,
        /// Operation flags ([`OpenFlags`](crate::OpenFlags) or [`PathFlags`](crate::PathFlags)).
        flags,
        /// A file mode or [`AccessMode`](crate::AccessMode).
        mode,
        /// Operation specific: the second base handle of two-path operations.
        arg0,
        /// Operation specific: the device number of [`OpCode::MKNOD`].
        arg1,
    }
}

wire_struct! {
    /// The fixed part of every server-to-client message.
    ReplyHeader, REPLY_HEADER_LEN {
        /// A [`MsgKind`].
        kind,
        /// The tag of the request answered.
        tag,
        /// An [`ErrorCode`]; zero on success.
        status,
        /// Operation specific result: a handle, a byte count.
        value,
        /// Operation specific result: an offset, a cookie, an end-of-directory flag.
        aux,
        /// Length of the data part that follows.
        data_len,
        /// Credits the client regains with this message.
        credits,
    }
}

impl RequestHeader {
    /// The operation as an open code.
    pub fn opcode(&self) -> OpCode {
        OpCode(self.op.get())
    }
}

impl ReplyHeader {
    /// The message kind as an open code.
    pub fn msg_kind(&self) -> MsgKind {
        MsgKind(self.kind.get())
    }

    /// The status as an open code.
    pub fn error(&self) -> ErrorCode {
        ErrorCode(self.status.get())
    }

    /// A reply carrying an error and no data, returning one credit.
    pub fn failure(tag: u64, status: ErrorCode) -> Self {
        Self {
            kind: MsgKind::REPLY.0.into(),
            tag: tag.into(),
            status: status.0.into(),
            credits: 1.into(),
            ..Self::default()
        }
    }
}
