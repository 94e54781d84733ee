//! Unit tests of the client core; the two-core tests are in `tests/`.

mod client;
mod dir;
mod handshake;
mod path;
mod request;

use orfa_wire::{ErrorCode, MsgKind, REPLY_HEADER_LEN, ReplyHeader};

/// A reply header as a server would send it.
fn reply(
    tag: u64,
    status: ErrorCode,
    value: u64,
    aux: u64,
    data_len: u64,
) -> [u8; REPLY_HEADER_LEN] {
    *ReplyHeader {
        kind: MsgKind::REPLY.0.into(),
        tag: tag.into(),
        status: status.0.into(),
        value: value.into(),
        aux: aux.into(),
        data_len: data_len.into(),
        credits: 1.into(),
    }
    .as_wire()
}

/// A clear-to-send for `tag` accepting `len` bytes.
fn clear_to_send(tag: u64, len: u64) -> [u8; REPLY_HEADER_LEN] {
    *ReplyHeader {
        kind: MsgKind::CLEAR_TO_SEND.0.into(),
        tag: tag.into(),
        value: len.into(),
        ..ReplyHeader::default()
    }
    .as_wire()
}
