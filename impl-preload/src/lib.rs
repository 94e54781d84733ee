//! `liborfa_preload.so`: the LD_PRELOAD client of ORFA.
//!
//! Preloaded into an unmodified program, this library exports the C library's
//! file functions under their own names. Each wrapper first decides, as
//! cheaply as it can, whether its arguments name anything remote: a path
//! under `/REMOTE@NAME/` (after making it absolute and simplifying it
//! lexically), a virtual descriptor, or a remote directory stream. Anything
//! else goes straight to the next definition of the same symbol (normally the
//! C library's), found with `dlsym(RTLD_NEXT, ...)`.
//!
//! The remote side is served by `remote`: one blocking request per call,
//! except directory listings, which are read ahead in batches.
//!
//! The layers, bottom up:
//!
//! - `next`: the next definitions of the symbols this library overrides;
//! - `errno` and `guard`: how failures and panics become `-1` and an errno;
//! - `route`: local or remote, for a path relative to a directory descriptor;
//! - `cwd`: a remote current directory;
//! - `shared`, `vfd` and `inherit`: virtual descriptors, the kernel objects
//!   behind them, and those inherited across `exec`;
//! - `spawn` and `std_streams`: `vfork`, and the C library's standard
//!   streams on remote descriptors;
//! - the wrappers, one family per module (`open`, `io`, `stat`, `dir`,
//!   `names`, `attrs`, `fdops`, `locks`, `extras`, `mmap`, `stdio`, `resolve`).

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod ahead;
mod attrs;
mod convert;
mod cwd;
mod dir;
mod errno;
mod extras;
mod fdops;
mod fork_hold;
mod fts;
mod glob;
mod ident;
mod inherit;
mod io;
mod locks;
mod mmap;
mod names;
mod next;
mod open;
mod rawdir;
mod remote;
mod reopen;
mod resolve;
mod route;
mod scan;
mod shared;
mod sink;
mod spawn;
mod stat;
mod std_streams;
mod stdio;
mod temp;
mod vfd;
mod walk;
mod xattr;
