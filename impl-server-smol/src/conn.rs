//! One client connection: moves bytes between the socket and a session.
//!
//! The loop sends every queued reply, reads what the client sent, hands it
//! to the session and runs the requests that became complete. Whatever the
//! client does (garbage, a disconnect mid-message, a flood past its credits)
//! ends at worst this connection: the session reports a protocol error, the
//! connection is closed and its handles are released.

use std::io::{self, IoSlice};

use futures_lite::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use orfa_server_core::{Config, Session};

use crate::clock;
use crate::export::Export;

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

/// Serves one client until it leaves or breaks the protocol.
pub(crate) async fn serve<S, E>(mut stream: S, peer: String, mut export: E, config: Config)
where
    S: AsyncRead + AsyncWrite + Unpin,
    E: Export,
{
    let mut session = Session::new(config);
    match drive(&mut stream, &mut export, &mut session).await {
        Ok(End::Eof) => tracing::debug!("{peer}: client closed the connection"),
        Ok(End::Protocol(why)) => tracing::warn!("{peer}: closing: {why}"),
        Err(e) => tracing::debug!("{peer}: connection lost: {e}"),
    }
    export.release(&mut session, &clock::context());
}

/// The connection loop; returns how it ended, or the I/O error that ended it.
async fn drive<S, E>(
    stream: &mut S,
    export: &mut E,
    session: &mut Session<E::Node>,
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

        let received = if session.recv_buf().len() >= STAGING_LEN {
            // A large data part: read straight into the session's buffer.
            let n = stream.read(session.recv_buf()).await?;
            if n == 0 {
                return Ok(End::Eof);
            }
            session.recv_done(n)
        } else {
            let n = stream.read(&mut staging).await?;
            if n == 0 {
                return Ok(End::Eof);
            }
            session.feed(staging.get(..n).unwrap_or_default()).map(drop)
        };
        if let Err(e) = received {
            // Requests completed before the error still run and are answered.
            failure = Some(e.to_string());
        }
        export.execute(session, &clock::context());
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
