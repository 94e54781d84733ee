//! `orfa-server`: serves an in-memory file system or a host directory to
//! ORFA clients over TCP and Unix sockets.
//!
//! The protocol itself lives in `orfa-server-core`; this binary owns the
//! sockets, threads, signals and the native-directory backend.

mod cli;
mod clock;
mod conn;
mod export;
mod listen;
mod locking;
mod logging;
mod native;
mod server;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init();
    match server::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
