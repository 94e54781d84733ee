//! Listening sockets: TCP and Unix stream sockets, and their accept loops.

use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_io::{Async, Timer};
use orfa_server_core::Config;
use smol::Executor;

use crate::cli::ListenAddr;
use crate::conn;
use crate::export::Export;
use crate::locking::SharedLocks;

/// How long to pause accepting after a failure such as running out of
/// descriptors, so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A bound listening socket.
pub(crate) enum Listener {
    /// A TCP listener.
    Tcp(Async<TcpListener>),
    /// A Unix stream listener, with the socket file it created.
    Unix {
        /// The socket.
        listener: Async<UnixListener>,
        /// The socket file's path.
        path: PathBuf,
        /// The socket file's device and inode, to remove only our own file.
        file_id: (u64, u64),
    },
}

impl Listener {
    /// Binds `addr`. A Unix socket file left by a server that is gone is
    /// replaced; a live socket or any other file there is an error.
    pub(crate) fn bind(addr: &ListenAddr) -> io::Result<Self> {
        match addr {
            ListenAddr::Tcp(addr) => Ok(Self::Tcp(Async::<TcpListener>::bind(*addr)?)),
            ListenAddr::Unix(path) => {
                remove_stale_socket(path)?;
                let listener = Async::<UnixListener>::bind(path)?;
                let meta = std::fs::symlink_metadata(path)?;
                Ok(Self::Unix {
                    listener,
                    path: path.clone(),
                    file_id: (meta.dev(), meta.ino()),
                })
            }
        }
    }

    /// The address clients connect to: the real port of a TCP listener.
    pub(crate) fn local_addr(&self) -> String {
        match self {
            Self::Tcp(listener) => match listener.get_ref().local_addr() {
                Ok(addr) => addr.to_string(),
                Err(e) => format!("(unknown address: {e})"),
            },
            Self::Unix { path, .. } => format!("unix:{}", path.display()),
        }
    }

    /// Removes the Unix socket file, if it is still the one this listener made.
    pub(crate) fn remove_socket_file(&self) {
        let Self::Unix { path, file_id, .. } = self else {
            return;
        };
        match std::fs::symlink_metadata(path) {
            Ok(meta) if (meta.dev(), meta.ino()) == *file_id => {
                if let Err(e) = std::fs::remove_file(path) {
                    tracing::warn!("cannot remove {}: {e}", path.display());
                }
            }
            _ => tracing::debug!("{} is no longer our socket; left alone", path.display()),
        }
    }

    /// Accepts clients forever, serving each in its own task on `ex`.
    pub(crate) async fn accept_loop<E: Export + Clone>(
        self: Arc<Self>,
        ex: Arc<Executor<'static>>,
        export: E,
        config: Config,
        locks: SharedLocks,
    ) {
        loop {
            match self.accept_one(&ex, &export, config, &locks).await {
                Ok(()) => {}
                Err(e) if is_transient(&e) => {
                    tracing::debug!("accept on {}: {e}", self.local_addr());
                }
                Err(e) => {
                    tracing::warn!("accept on {}: {e}", self.local_addr());
                    Timer::after(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    async fn accept_one<E: Export + Clone>(
        &self,
        ex: &Executor<'static>,
        export: &E,
        config: Config,
        locks: &SharedLocks,
    ) -> io::Result<()> {
        match self {
            Self::Tcp(listener) => {
                let (stream, peer): (Async<TcpStream>, _) = listener.accept().await?;
                if let Err(e) = stream.get_ref().set_nodelay(true) {
                    tracing::debug!("{peer}: cannot set TCP_NODELAY: {e}");
                }
                let peer = peer.to_string();
                tracing::debug!("{peer}: connected");
                ex.spawn(conn::serve(
                    stream,
                    peer,
                    export.clone(),
                    config,
                    locks.clone(),
                ))
                .detach();
            }
            Self::Unix { listener, path, .. } => {
                let (stream, _): (Async<UnixStream>, _) = listener.accept().await?;
                let peer = format!("client of unix:{}", path.display());
                tracing::debug!("{peer}: connected");
                ex.spawn(conn::serve(
                    stream,
                    peer,
                    export.clone(),
                    config,
                    locks.clone(),
                ))
                .detach();
            }
        }
        Ok(())
    }
}

/// Whether an accept error concerns only the connection being accepted.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNABORTED | libc::ECONNRESET | libc::EPROTO | libc::EPERM | libc::EINTR)
    )
}

/// Removes a socket file at `path` that no server listens on any more.
fn remove_stale_socket(path: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        ));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("a server is already listening on {}", path.display()),
        )),
        Err(_) => std::fs::remove_file(path),
    }
}
