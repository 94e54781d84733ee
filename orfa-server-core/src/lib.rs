//! The sans-IO ORFA server.
//!
//! A [`Session`] turns the bytes a client sent into calls on a [`Backend`]
//! and into the bytes to send back. It owns no socket, file, clock or
//! thread: a front end (the `orfa-server` binary, a test, a fuzzer) moves the
//! bytes and supplies the time. The in-memory file system [`MemFs`] is one
//! backend; the native-directory backend lives with the server binary.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

mod backend;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzz;
mod locks;
pub mod memfs;
mod session;
mod shares;

pub use backend::{Backend, BackendResult, Base, Context, Timestamp, copy_xattr_out};
pub use locks::{LockAccess, LockLimits, LockTable, SessionId};
pub use memfs::{MemFs, MemNode};
pub use session::{Config, Session, SessionError, Transmit};
pub use shares::{ShareLimits, ShareTable};
