//! The command line.

use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

use clap::Parser;

/// The largest eager limit or I/O size accepted: the memory one session may
/// hold is the credits times the larger of the two.
const MAX_BUFFER: u64 = 256 * 1024 * 1024;

/// The smallest eager limit accepted: every request but a write or an
/// extended attribute must fit, and the largest, a rename of two longest
/// paths or a context with every group, takes 8,192 bytes.
const MIN_EAGER_LIMIT: u64 = 16 * 1024;

/// Serves a file system to ORFA clients over TCP or Unix sockets.
#[derive(Debug, Parser)]
#[command(name = "orfa-server", version, about)]
#[command(group = clap::ArgGroup::new("backend").required(true).args(["memory", "export"]))]
pub(crate) struct Cli {
    /// Where to listen: HOST:PORT (an IPv6 host in brackets, as `[::1]:7460`;
    /// port 0 picks a free port) or unix:PATH. May be given several times.
    #[arg(long, value_name = "ADDR", required = true, value_parser = parse_listen)]
    pub(crate) listen: Vec<ListenAddr>,

    /// Serve a new, empty in-memory file system.
    #[arg(long)]
    pub(crate) memory: bool,

    /// Serve the directory DIR; no client can reach anything outside it.
    #[arg(long, value_name = "DIR")]
    pub(crate) export: Option<PathBuf>,

    /// The largest data part a request may carry without a rendezvous.
    #[arg(long, value_name = "BYTES", default_value_t = orfa_wire::DEFAULT_EAGER_LIMIT,
          value_parser = clap::value_parser!(u64).range(MIN_EAGER_LIMIT..=MAX_BUFFER))]
    pub(crate) eager_limit: u64,

    /// How many requests a client may have outstanding.
    #[arg(long, value_name = "N", default_value_t = orfa_wire::DEFAULT_CREDITS,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub(crate) credits: u64,

    /// The largest read or write one request may ask for.
    #[arg(long, value_name = "BYTES", default_value_t = orfa_wire::DEFAULT_MAX_IO,
          value_parser = clap::value_parser!(u64).range(1..=MAX_BUFFER))]
    pub(crate) max_io: u64,

    /// Threads serving connections (default: 1 for a memory export; one per
    /// CPU, at most 8, for a directory, whose calls may wait for the disk).
    /// Backend calls run on them inline; one thread gives the lowest latency.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    pub(crate) threads: Option<u64>,

    /// The most files and directories one client may hold open at once.
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub(crate) max_handles: u64,

    /// How long a file a client shared with its children (a descriptor
    /// passed across fork or exec) stays open once no handle holds it, so
    /// that a late child can still attach to it.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(10..=86_400))]
    pub(crate) share_grace: u64,

    /// The most files all clients together may keep shared with their
    /// children; past it the oldest idle one goes, and a child of a client
    /// that could not share opens the file again by its path.
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub(crate) max_shared: u64,

    /// The highest minor protocol version offered (0 behaves as a 1.0
    /// server, for testing clients against older servers).
    #[arg(long, value_name = "MINOR", default_value_t = orfa_wire::VERSION_MINOR,
          value_parser = clap::value_parser!(u16).range(0..=orfa_wire::VERSION_MINOR as i64))]
    pub(crate) protocol_minor: u16,
}

/// An address to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ListenAddr {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix stream socket's path.
    Unix(PathBuf),
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "{addr}"),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Parses `HOST:PORT` or `unix:PATH`.
fn parse_listen(text: &str) -> Result<ListenAddr, String> {
    if let Some(path) = text.strip_prefix("unix:") {
        if path.is_empty() {
            return Err("unix: needs a socket path".to_owned());
        }
        return Ok(ListenAddr::Unix(PathBuf::from(path)));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(ListenAddr::Tcp(addr));
    }
    let mut addrs = text
        .to_socket_addrs()
        .map_err(|e| format!("not HOST:PORT or unix:PATH ({e})"))?;
    addrs
        .next()
        .map(ListenAddr::Tcp)
        .ok_or_else(|| format!("{text} resolves to no address"))
}

#[cfg(test)]
mod tests;
