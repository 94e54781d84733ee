//! The server's life: bind, announce, serve until SIGINT or SIGTERM, clean up.

use std::error::Error;
use std::sync::Arc;

use async_signal::{Signal, Signals};
use futures_lite::StreamExt;
use orfa_server_core::{Config, ShareLimits};
use smol::Executor;

use crate::cli::Cli;
use crate::clock;
use crate::export::{Export, SharedMemFs};
use crate::listen::Listener;
use crate::locking::SharedLocks;
use crate::native::{self, NativeFs};

/// The most threads running connections; backend calls run inline on them,
/// so more than one keeps a slow disk call from stalling every client.
const MAX_THREADS: usize = 8;

/// Runs the server the command line describes; returns after a stop signal.
pub(crate) fn run(cli: Cli) -> Result<(), Box<dyn Error>> {
    let config = Config {
        eager_limit: cli.eager_limit,
        credits: cli.credits,
        max_io: cli.max_io,
        max_minor: cli.protocol_minor,
        max_handles: usize::try_from(cli.max_handles).unwrap_or(usize::MAX),
    };
    let listeners = cli
        .listen
        .iter()
        .map(|addr| Listener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    // Registered before the first "listening" line, so that a signal sent by
    // whoever reads that line is never missed.
    let signals = Signals::new([Signal::Term, Signal::Int])?;

    let shares = ShareLimits {
        max_entries: usize::try_from(cli.max_shared).unwrap_or(usize::MAX),
        grace_secs: cli.share_grace,
    };
    let threads = cli.threads.and_then(|n| usize::try_from(n).ok());
    match &cli.export {
        Some(dir) => {
            let dir = dir
                .canonicalize()
                .map_err(|e| format!("cannot export {}: {e}", dir.display()))?;
            let fs = NativeFs::new(&dir, shares)
                .map_err(|e| format!("cannot export {}: {e}", dir.display()))?;
            // Clients send modes with their own umask applied. Set after the
            // sockets were made, so these keep the operator's umask.
            native::set_umask(0);
            match native::raise_fd_limit() {
                Ok(limit) => tracing::debug!("up to {limit} open descriptors"),
                Err(e) => tracing::debug!("cannot raise the descriptor limit: {e}"),
            }
            serve(
                listeners,
                signals,
                fs,
                config,
                threads,
                &format!("export {}", dir.display()),
            )
        }
        None => serve(
            listeners,
            signals,
            SharedMemFs::new(&clock::context(), shares),
            config,
            // Requests on the in-memory file system take its lock in turn
            // anyway; one thread spares the cross-thread wake-ups (measured:
            // a pinned stat 22-27 us on one thread, 30-37 us on two).
            Some(threads.unwrap_or(1)),
            "memory export",
        ),
    }
}

/// Serves `export` on every listener until a signal arrives.
fn serve<E: Export + Clone>(
    listeners: Vec<Listener>,
    mut signals: Signals,
    export: E,
    config: Config,
    threads: Option<usize>,
    label: &str,
) -> Result<(), Box<dyn Error>> {
    let ex = Arc::new(Executor::new());
    let threads = threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, MAX_THREADS)
    });
    for i in 1..threads {
        let ex = Arc::clone(&ex);
        std::thread::Builder::new()
            .name(format!("orfa-worker-{i}"))
            .spawn(move || smol::block_on(ex.run(smol::future::pending::<()>())))?;
    }

    let listeners: Vec<_> = listeners.into_iter().map(Arc::new).collect();
    // One lock table for every listener's clients.
    let locks = SharedLocks::default();
    for listener in &listeners {
        tracing::info!("listening on {} ({label})", listener.local_addr());
        let task = Arc::clone(listener).accept_loop(
            Arc::clone(&ex),
            export.clone(),
            config,
            locks.clone(),
        );
        ex.spawn(task).detach();
    }

    let signal = smol::block_on(ex.run(signals.next()));
    let name = match signal {
        Some(Ok(Signal::Term)) => "SIGTERM",
        Some(Ok(Signal::Int)) => "SIGINT",
        _ => "a signal",
    };
    tracing::info!("received {name}, shutting down");
    // This thread may have run a client's request acting as that client.
    if let Err(e) = native::act_as_server() {
        tracing::warn!("cannot act as the server again to clean up: {e}");
    }
    for listener in &listeners {
        listener.remove_socket_file();
    }
    Ok(())
}
