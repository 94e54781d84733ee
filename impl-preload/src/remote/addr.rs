//! Server addresses: parsing the names of `/REMOTE@NAME/`, the
//! `ORFA_SERVERS` table, resolution, and connecting with a timeout.

use std::ffi::CString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use libc::c_int;

use super::sys::{self, Errno};

/// The TCP port of a server named without one.
pub(crate) const DEFAULT_PORT: u16 = 7460;

/// The environment variable that names servers: `name=unix:/path;other=HOST:PORT`.
pub(crate) const SERVERS_VAR: &str = "ORFA_SERVERS";

/// How long connecting to one server may take, all addresses together.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(2500);

/// The lowest descriptor number the connection moves to, far from the
/// numbers programs expect to get from `open`.
const HIGH_FD: libc::c_long = 900;

/// Where a server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Addr {
    /// A Unix stream socket at this path.
    Unix(Vec<u8>),
    /// A TCP host (a numeric address or a name to resolve) and port.
    Tcp {
        /// Host name or numeric address, without brackets.
        host: String,
        /// Port.
        port: u16,
    },
}

impl core::fmt::Display for Addr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unix(path) => write!(f, "unix:{}", String::from_utf8_lossy(path)),
            Self::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Self::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// The address of the server `name`: its entry in `ORFA_SERVERS` if it has
/// one, else `name` itself read as an address.
pub(crate) fn lookup(name: &[u8]) -> Result<Addr, String> {
    let spec = configured(name).unwrap_or(name);
    parse(spec).map_err(|why| {
        format!(
            "bad server address '{}': {why}",
            String::from_utf8_lossy(spec)
        )
    })
}

/// The `ORFA_SERVERS` entry for `name`.
fn configured(name: &[u8]) -> Option<&'static [u8]> {
    static TABLE: OnceLock<Vec<(Vec<u8>, Vec<u8>)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        std::env::var_os(SERVERS_VAR)
            .map(|v| parse_table(std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str())))
            .unwrap_or_default()
    });
    table
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, spec)| spec.as_slice())
}

/// Parses `name=spec;name=spec`; entries without `=` or with an empty name are skipped.
pub(crate) fn parse_table(text: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    text.split(|&b| b == b';')
        .filter_map(|entry| {
            let eq = entry.iter().position(|&b| b == b'=')?;
            let (name, spec) = (
                entry.get(..eq)?.trim_ascii(),
                entry.get(eq + 1..)?.trim_ascii(),
            );
            (!name.is_empty() && !spec.is_empty()).then(|| (name.to_vec(), spec.to_vec()))
        })
        .collect()
}

/// Reads an address: `unix:/path`, `[v6]:port`, `[v6]`, `host:port`, a
/// bare host or a bare IPv6 address (default port).
pub(crate) fn parse(spec: &[u8]) -> Result<Addr, &'static str> {
    if let Some(path) = spec.strip_prefix(b"unix:") {
        if path.is_empty() || path.len() >= 108 || path.contains(&0) {
            return Err("unix socket path empty, too long or with a NUL byte");
        }
        return Ok(Addr::Unix(path.to_vec()));
    }
    let text = core::str::from_utf8(spec).map_err(|_| "not UTF-8")?;
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing ']'")?;
        host.parse::<Ipv6Addr>()
            .map_err(|_| "not an IPv6 address in brackets")?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or("junk after ']'")?)),
        }
    } else if text.parse::<Ipv6Addr>().is_ok() {
        (text, None)
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.is_empty() || host.contains(['/', '\0', ' ']) {
        return Err("empty or invalid host");
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("invalid port")?,
    };
    Ok(Addr::Tcp {
        host: host.to_owned(),
        port,
    })
}

/// Why a connection could not be made; printed after the server's name.
pub(crate) fn describe(errno: Errno) -> String {
    std::io::Error::from_raw_os_error(errno).to_string()
}

/// Connects to `addr` within the connect timeout; returns a blocking,
/// close-on-exec socket moved to a high descriptor number.
pub(crate) fn connect(addr: &Addr) -> Result<c_int, String> {
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let fd = match addr {
        Addr::Unix(path) => connect_unix(path, deadline)
            .map_err(|e| format!("cannot connect to {addr}: {}", describe(e)))?,
        Addr::Tcp { host, port } => connect_tcp(host, *port, deadline)?,
    };
    Ok(move_high(fd))
}

fn connect_unix(path: &[u8], deadline: Instant) -> Result<c_int, Errno> {
    // SAFETY: an all-zero sockaddr_un is valid; the path is copied in below.
    let mut sa: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    if path.len() >= sa.sun_path.len() {
        return Err(libc::ENAMETOOLONG);
    }
    for (dst, &src) in sa.sun_path.iter_mut().zip(path) {
        *dst = src as libc::c_char;
    }
    let len = size_of::<libc::sockaddr_un>() as libc::socklen_t;
    connect_raw(
        libc::AF_UNIX,
        core::ptr::from_ref(&sa).cast(),
        len,
        deadline,
    )
}

fn connect_tcp(host: &str, port: u16, deadline: Instant) -> Result<c_int, String> {
    let candidates = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => resolve(host, port)?,
    };
    let mut last = String::from("no address");
    for sa in candidates {
        let result = match sa {
            SocketAddr::V4(v4) => {
                // SAFETY: an all-zero sockaddr_in is valid; fields are set below.
                let mut raw: libc::sockaddr_in = unsafe { core::mem::zeroed() };
                raw.sin_family = libc::AF_INET as libc::sa_family_t;
                raw.sin_port = v4.port().to_be();
                raw.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
                let len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
                connect_raw(
                    libc::AF_INET,
                    core::ptr::from_ref(&raw).cast(),
                    len,
                    deadline,
                )
            }
            SocketAddr::V6(v6) => {
                // SAFETY: an all-zero sockaddr_in6 is valid; fields are set below.
                let mut raw: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
                raw.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                raw.sin6_port = v6.port().to_be();
                raw.sin6_addr.s6_addr = v6.ip().octets();
                raw.sin6_scope_id = v6.scope_id();
                let len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
                connect_raw(
                    libc::AF_INET6,
                    core::ptr::from_ref(&raw).cast(),
                    len,
                    deadline,
                )
            }
        };
        match result {
            Ok(fd) => {
                let on: c_int = 1;
                let _ = sys::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, &on);
                return Ok(fd);
            }
            Err(e) => last = format!("cannot connect to {sa}: {}", describe(e)),
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    Err(last)
}

/// The addresses of a host name, through the C library's resolver.
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let c_host = CString::new(host).map_err(|_| String::from("host name with a NUL byte"))?;
    // SAFETY: an all-zero addrinfo is a valid hints value (no flags, any family).
    let mut hints: libc::addrinfo = unsafe { core::mem::zeroed() };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = core::ptr::null_mut();
    // SAFETY: `c_host` is NUL-terminated, `hints` and `list` are live locals;
    // the list is freed below with freeaddrinfo.
    let rc = unsafe { libc::getaddrinfo(c_host.as_ptr(), core::ptr::null(), &hints, &mut list) };
    if rc != 0 {
        // SAFETY: gai_strerror returns a static NUL-terminated string.
        let why = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(rc)) };
        return Err(format!("cannot resolve {host}: {}", why.to_string_lossy()));
    }
    let mut out = Vec::new();
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getaddrinfo returned, not yet freed.
        let ai = unsafe { &*cur };
        if !ai.ai_addr.is_null() {
            match ai.ai_family {
                libc::AF_INET => {
                    // SAFETY: an AF_INET node's address is a sockaddr_in.
                    let sa = unsafe { &*ai.ai_addr.cast::<libc::sockaddr_in>() };
                    let ip = Ipv4Addr::from(sa.sin_addr.s_addr.to_ne_bytes());
                    out.push(SocketAddr::new(IpAddr::V4(ip), port));
                }
                libc::AF_INET6 => {
                    // SAFETY: an AF_INET6 node's address is a sockaddr_in6.
                    let sa = unsafe { &*ai.ai_addr.cast::<libc::sockaddr_in6>() };
                    out.push(SocketAddr::new(
                        IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)),
                        port,
                    ));
                }
                _ => {}
            }
        }
        cur = ai.ai_next;
    }
    // SAFETY: `list` came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    out.dedup();
    Ok(out)
}

/// A non-blocking connect bounded by `deadline`, then the socket made blocking.
fn connect_raw(
    family: c_int,
    sa: *const libc::sockaddr,
    len: libc::socklen_t,
    deadline: Instant,
) -> Result<c_int, Errno> {
    let fd = sys::socket(
        family,
        libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
    )?;
    let result = (|| {
        // SAFETY: `sa` points to `len` bytes of a socket address (the callers'
        // live locals).
        match unsafe { sys::connect(fd, sa, len) } {
            Ok(()) => {}
            Err(libc::EINPROGRESS) | Err(libc::EINTR) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if !sys::poll_one(fd, libc::POLLOUT, left.as_millis() as u64)? {
                    return Err(libc::ETIMEDOUT);
                }
                match sys::socket_error(fd)? {
                    0 => {}
                    e => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        let flags = sys::fcntl(fd, libc::F_GETFL, 0)?;
        sys::fcntl(
            fd,
            libc::F_SETFL,
            libc::c_long::from(flags & !libc::O_NONBLOCK),
        )?;
        Ok(())
    })();
    match result {
        Ok(()) => Ok(fd),
        Err(e) => {
            sys::close(fd);
            Err(e)
        }
    }
}

/// Moves `fd` to a number at least [`HIGH_FD`], close-on-exec; keeps it
/// where it is if the descriptor limit is too low for that.
fn move_high(fd: c_int) -> c_int {
    match sys::fcntl(fd, libc::F_DUPFD_CLOEXEC, HIGH_FD) {
        Ok(high) => {
            sys::close(fd);
            high
        }
        Err(_) => fd,
    }
}
