//! Measures file and network operations; run by `orfa-bench`, on a local
//! directory, on a remote one (under the preload library), or as both ends
//! of a raw loopback TCP exchange with ORFA's message sizes.
//!
//! ```text
//! orfa-probe fs DIR ITERS SEQ_MIB      file operations in DIR
//! orfa-probe echo                      TCP responder on 127.0.0.1 (prints its port)
//! orfa-probe ping PORT ITERS SEQ_MIB   TCP requester with ORFA's message sizes
//! ```
//!
//! Results go to stdout as `name value` lines: latencies in microseconds
//! (median of ITERS), bandwidths in MiB/s.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::process::ExitCode;
use std::time::Instant;

const MIB: usize = 1 << 20;
const REQUEST: usize = 80;
const REPLY: usize = 56;
const ATTR: usize = 160;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<usize>().ok());
    let result = match (args.first().map(String::as_str), num(2), num(3)) {
        (Some("fs"), Some(iters), Some(mib)) if args.len() == 4 => fs_probe(&args[1], iters, mib),
        (Some("echo"), ..) => echo(),
        (Some("ping"), Some(iters), Some(mib)) => match args[1].parse() {
            Ok(port) => ping(port, iters, mib),
            Err(_) => Err(format!("bad port {}", args[1])),
        },
        _ => Err("usage: orfa-probe fs DIR ITERS SEQ_MIB | echo | ping PORT ITERS SEQ_MIB".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("orfa-probe: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Times `op` `iters` times and prints the median in microseconds.
fn latency(
    name: &str,
    iters: usize,
    mut op: impl FnMut(usize) -> Result<(), String>,
) -> Result<(), String> {
    for i in 0..iters.min(100) {
        op(i)?;
    }
    let mut times = Vec::with_capacity(iters);
    for i in 0..iters {
        let start = Instant::now();
        op(i)?;
        times.push(start.elapsed().as_nanos() as u64);
    }
    times.sort_unstable();
    let median = times.get(times.len() / 2).copied().unwrap_or(0);
    println!("{name} {:.2}", median as f64 / 1000.0);
    Ok(())
}

/// Runs `op` once and prints `mib` MiB over its duration as MiB/s.
fn bandwidth(
    name: &str,
    mib: usize,
    op: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    let start = Instant::now();
    op()?;
    println!("{name} {:.1}", mib as f64 / start.elapsed().as_secs_f64());
    Ok(())
}

fn ctx<E: std::fmt::Display>(what: &str, path: &str) -> impl FnOnce(E) -> String {
    let msg = format!("{what} {path}");
    move |e| format!("{msg}: {e}")
}

fn fs_probe(dir: &str, iters: usize, mib: usize) -> Result<(), String> {
    let base = format!("{dir}/orfa-probe.{}", std::process::id());
    fs::create_dir(&base).map_err(ctx("mkdir", &base))?;
    let small = format!("{base}/small");
    let seq = format!("{base}/seq");
    fs::write(&small, vec![7u8; MIB]).map_err(ctx("write", &small))?;

    latency("stat_us", iters, |_| {
        fs::metadata(&small).map(drop).map_err(ctx("stat", &small))
    })?;
    latency("open_close_us", iters, |_| {
        File::open(&small).map(drop).map_err(ctx("open", &small))
    })?;
    let file = File::open(&small).map_err(ctx("open", &small))?;
    let mut buf = vec![0u8; 4096];
    latency("pread_4k_us", iters, |i| {
        let offset = ((i * 4096) % MIB) as u64;
        match file.read_at(&mut buf, offset) {
            Ok(4096) => Ok(()),
            Ok(n) => Err(format!("short read of {n} bytes from {small}")),
            Err(e) => Err(format!("pread {small}: {e}")),
        }
    })?;

    let block = vec![0x5au8; MIB];
    bandwidth("write_1m_mibs", mib, || {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&seq);
        let f = f.as_mut().map_err(|e| format!("create {seq}: {e}"))?;
        for _ in 0..mib {
            f.write_all(&block).map_err(ctx("write", &seq))?;
        }
        Ok(())
    })?;
    let mut back = vec![0u8; MIB];
    bandwidth("read_1m_mibs", mib, || {
        let mut f = File::open(&seq).map_err(ctx("open", &seq))?;
        for _ in 0..mib {
            f.read_exact(&mut back).map_err(ctx("read", &seq))?;
        }
        Ok(())
    })?;
    if back != block {
        return Err(format!("{seq}: read back different bytes"));
    }
    fs::remove_dir_all(&base).map_err(ctx("rm -r", &base))
}

/// Answers each request of `ping`: the request's first 16 bytes give its own
/// length and the reply's.
fn echo() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    println!("{port}");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let (mut conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
    conn.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut req = vec![0u8; MIB + REQUEST];
    let reply = vec![0u8; MIB + REPLY];
    loop {
        if conn.read_exact(&mut req[..16]).is_err() {
            return Ok(());
        }
        let field = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&req[i * 8..i * 8 + 8]);
            u64::from_le_bytes(b) as usize
        };
        let (req_len, reply_len) = (field(0), field(1));
        if req_len < 16 || req_len > req.len() || reply_len > reply.len() {
            return Err(format!("bad lengths {req_len} {reply_len}"));
        }
        conn.read_exact(&mut req[16..req_len])
            .map_err(|e| e.to_string())?;
        conn.write_all(&reply[..reply_len])
            .map_err(|e| e.to_string())?;
    }
}

fn exchange(conn: &mut TcpStream, req: &mut [u8], reply: &mut [u8]) -> Result<(), String> {
    let (req_len, reply_len) = (req.len() as u64, reply.len() as u64);
    req[..8].copy_from_slice(&req_len.to_le_bytes());
    req[8..16].copy_from_slice(&reply_len.to_le_bytes());
    conn.write_all(req).map_err(|e| e.to_string())?;
    conn.read_exact(reply).map_err(|e| e.to_string())
}

/// Round trips and streams with the sizes of ORFA's messages for the same
/// operations: the physical limit of what the preload client can reach.
fn ping(port: u16, iters: usize, mib: usize) -> Result<(), String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    conn.set_nodelay(true).map_err(|e| e.to_string())?;
    let path = REQUEST + 24;
    let mut req = vec![0u8; REQUEST + MIB];
    let mut reply = vec![0u8; REPLY + MIB];
    let mut round = |q: usize, r: usize| exchange(&mut conn, &mut req[..q], &mut reply[..r]);

    latency("stat_us", iters, |_| round(path, REPLY + ATTR))?;
    // An open and a close are two round trips.
    latency("open_close_us", iters, |_| {
        round(path, REPLY + ATTR)?;
        round(REQUEST, REPLY)
    })?;
    latency("pread_4k_us", iters, |_| round(REQUEST, REPLY + 4096))?;
    bandwidth("write_1m_mibs", mib, || {
        (0..mib).try_for_each(|_| round(REQUEST + MIB, REPLY))
    })?;
    bandwidth("read_1m_mibs", mib, || {
        (0..mib).try_for_each(|_| round(REQUEST, REPLY + MIB))
    })
}
