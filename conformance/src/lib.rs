//! The harness the integration tests use: it builds the server binary and the
//! preload library, starts servers on loopback or Unix sockets with an
//! in-memory or native export, and runs unmodified programs against them.
//!
//! Every process it starts is stopped by its pid when its handle is dropped.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod artifacts;
mod server;
mod tree;

pub use artifacts::{Artifacts, preload_library, server_binary, workspace_root};
pub use server::{Export, Server, Transport, on_both_exports, on_both_exports_with};
pub use tree::{Listing, build_c, listing, require, run_ok, sh};
