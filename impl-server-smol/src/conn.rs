//! One client connection: moves bytes between the socket and a session.
//!
//! The loop sends every queued reply, then waits for the client's bytes or
//! for a wake-up from the lock table (another session's unlock granted a
//! lock this session waits for). Bytes go to the session, which runs the
//! requests that became complete; a wake-up makes the session collect the
//! answers to its waiting locks. Whatever the
//! client does (garbage, a disconnect mid-message, a flood past its credits)
//! ends at worst this connection: the session reports a protocol error, the
//! connection is closed and its handles are released.

use std::io::{self, IoSlice};

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, future};
use orfa_server_core::{Config, Session};
use smol::channel::Receiver;

use crate::clock;
use crate::export::Export;
use crate::locking::SharedLocks;

/// Bytes read from the socket at once when the session wants fewer (a
/// header, a small data part): several small requests arrive in one read.
const STAGING_LEN: usize = 64 * 1024;

/// Why a connection ended.
enum End {
    /// The client closed its side.
    Eof,
    /// The client broke the protocol; the reason is logged.
    Protocol(String),
}

/// What the connection loop waited for.
enum Wakeup {
    /// The client sent bytes (or closed, or the read failed).
    Read(io::Result<usize>),
    /// The lock table has answers for this session.
    Locks,
}

/// Serves one client until it leaves or breaks the protocol.
pub(crate) async fn serve<S, E>(
    mut stream: S,
    peer: String,
    mut export: E,
    config: Config,
    mut locks: SharedLocks,
) where
    S: AsyncRead + AsyncWrite + Unpin,
    E: Export,
{
    let mut session = Session::new(config);
    let id = session.id();
    let woken = locks.register(id);
    let ended = drive(&mut stream, &mut export, &mut session, &mut locks, &woken).await;
    match ended {
        Ok(End::Eof) => tracing::debug!("{peer}: client closed the connection"),
        Ok(End::Protocol(why)) => tracing::warn!("{peer}: closing: {why}"),
        Err(e) => tracing::debug!("{peer}: connection lost: {e}"),
    }
    export.release(&mut session, &clock::context(), &mut locks);
    locks.unregister(id);
}

/// The connection loop; returns how it ended, or the I/O error that ended it.
async fn drive<S, E>(
    stream: &mut S,
    export: &mut E,
    session: &mut Session<E::Node>,
    locks: &mut SharedLocks,
    woken: &Receiver<()>,
) -> io::Result<End>
where
    S: AsyncRead + AsyncWrite + Unpin,
    E: Export,
{
    let mut staging = vec![0u8; STAGING_LEN];
    let mut failure = None;
    loop {
        flush(stream, session).await?;
        if session.is_closed() {
            return Ok(failure.map_or(End::Eof, End::Protocol));
        }

        // A large data part is read straight into the session's buffer.
        let direct = session.recv_buf().len() >= STAGING_LEN;
        let wakeup = {
            let buf = if direct {
                session.recv_buf()
            } else {
                &mut staging[..]
            };
            let read = async { Wakeup::Read(stream.read(buf).await) };
            let lock_answer = async {
                match woken.recv().await {
                    Ok(()) => Wakeup::Locks,
                    // Never closed while the session is registered.
                    Err(_) => future::pending().await,
                }
            };
            future::or(read, lock_answer).await
        };
        let n = match wakeup {
            Wakeup::Locks => {
                session.poll_locks(locks);
                continue;
            }
            Wakeup::Read(n) => n?,
        };
        if n == 0 {
            return Ok(End::Eof);
        }
        let received = if direct {
            session.recv_done(n)
        } else {
            session.feed(staging.get(..n).unwrap_or_default()).map(drop)
        };
        if let Err(e) = received {
            // Requests completed before the error still run and are answered.
            failure = Some(e.to_string());
        }
        export.execute(session, &clock::context(), locks);
    }
}

/// Sends everything the session has queued.
async fn flush<S, N>(stream: &mut S, session: &mut Session<N>) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    while let Some(transmit) = session.transmit() {
        let [head, body] = transmit.slices();
        let n = stream
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
            .await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        session.transmit_done(n);
    }
    stream.flush().await
}
