//! The sans-IO ORFA client.
//!
//! [`Client`] turns typed [`Request`]s into request headers and borrowed
//! data parts, tracks tags and credits, runs the rendezvous for data parts
//! above the eager limit, and checks and decodes replies. It never touches
//! a socket, a file, a clock or a thread: a front end (the preload library,
//! a FUSE daemon, a test) writes what the client hands it and feeds it what
//! the server sent. The driving contract is on [`Client`].
//!
//! Also here: the handshake ([`client_hello`], [`parse_server_hello`]),
//! directory read-ahead ([`DirStream`]) and the rules that decide which paths
//! are remote ([`path`]).
//!
//! Nothing in this crate panics on what a server sends: a reply that breaks
//! the protocol is a [`ProtocolError`], after which the connection is over.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod client;
mod dir;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
mod handshake;
pub mod path;
mod reply;
mod request;

#[cfg(test)]
mod tests;

pub use client::{Client, DataFrame, Event, Incoming, Outgoing};
pub use dir::{DirError, DirStep, DirStream};
pub use error::{HandshakeError, ProtocolError, SendError};
pub use handshake::{Limits, client_hello, parse_server_hello};
pub use reply::{Completion, DirBatch, Reply, ReplyHead};
pub use request::{Request, check_path, encode_groups};

pub use orfa_wire::{CLIENT_HELLO_LEN, REPLY_HEADER_LEN, REQUEST_HEADER_LEN, SERVER_HELLO_LEN};
