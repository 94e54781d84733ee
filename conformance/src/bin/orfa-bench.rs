//! Side-by-side figures for the preload client against an in-memory export,
//! the local file system, and raw loopback TCP with the same message sizes
//! (the physical limit), with client and server pinned to one vCPU and
//! unpinned. Run it with
//!
//! ```text
//! cargo run --release -p conformance --bin orfa-bench -- [ITERS [SEQ_MIB]]
//! ```
//!
//! Latencies are medians in microseconds, bandwidths MiB/s of sequential
//! 1 MiB calls; the ratios say how far ORFA is from each baseline.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use conformance::{Artifacts, Export, Server, Transport};

type Figures = BTreeMap<String, f64>;

const METRICS: [(&str, &str, bool); 5] = [
    ("stat_us", "stat latency (us)", true),
    ("open_close_us", "open+close latency (us)", true),
    ("pread_4k_us", "pread 4 KiB latency (us)", true),
    ("write_1m_mibs", "write 1 MiB seq (MiB/s)", false),
    ("read_1m_mibs", "read 1 MiB seq (MiB/s)", false),
];

fn main() -> ExitCode {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let iters = args.first().copied().unwrap_or(20_000);
    let mib = args.get(1).copied().unwrap_or(256);
    let artifacts = Artifacts::release();
    let probe = match std::env::current_exe() {
        Ok(exe) => exe.with_file_name("orfa-probe"),
        Err(e) => {
            eprintln!("orfa-bench: cannot find myself: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("orfa-bench: {iters} iterations per latency, {mib} MiB per bandwidth figure");
    for (placement, prefix) in [
        ("unpinned (client and server free on every vCPU)", &[][..]),
        (
            "pinned (client and server both on vCPU 0)",
            &["taskset", "-c", "0"][..],
        ),
    ] {
        match run_placement(&artifacts, &probe, prefix, iters, mib) {
            Ok(columns) => print_table(placement, &columns),
            Err(e) => {
                eprintln!("orfa-bench: {placement}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn command(prefix: &[&str], program: &PathBuf) -> Command {
    match prefix.split_first() {
        Some((first, rest)) => {
            let mut cmd = Command::new(first);
            cmd.args(rest).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn parse(out: &[u8]) -> Figures {
    String::from_utf8_lossy(out)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn run_probe(mut cmd: Command, what: &str) -> Result<Figures, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot run the probe: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse(&out.stdout))
}

fn run_placement(
    artifacts: &Artifacts,
    probe: &PathBuf,
    prefix: &[&str],
    iters: usize,
    mib: usize,
) -> Result<Vec<(&'static str, Figures)>, String> {
    let (n, m) = (iters.to_string(), mib.to_string());
    let mut columns = Vec::new();

    let server = Server::start_with(artifacts.clone(), Export::Memory, Transport::Tcp, prefix);
    let mut cmd = command(prefix, probe);
    cmd.args(["fs", &server.root(), &n, &m])
        .env("LD_PRELOAD", &artifacts.preload);
    columns.push(("orfa preload", run_probe(cmd, "orfa preload")?));
    drop(server);

    let mut echo = command(prefix, probe)
        .arg("echo")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the TCP responder: {e}"))?;
    let mut port = String::new();
    if let Some(out) = echo.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut port);
    }
    let mut cmd = command(prefix, probe);
    cmd.args(["ping", port.trim(), &n, &m]);
    let tcp = run_probe(cmd, "raw TCP");
    let _ = echo.kill();
    let _ = echo.wait();
    columns.push(("raw TCP", tcp?));

    for (name, dir) in [("local tmpfs", "/dev/shm"), ("local ext4", "/tmp")] {
        let mut cmd = command(prefix, probe);
        cmd.args(["fs", dir, &n, &m]);
        columns.push((name, run_probe(cmd, name)?));
    }
    // The same local figures with the library loaded: what local paths pay.
    let mut cmd = command(prefix, probe);
    cmd.args(["fs", "/dev/shm", &n, &m])
        .env("LD_PRELOAD", &artifacts.preload);
    columns.push((PRELOADED_TMPFS, run_probe(cmd, PRELOADED_TMPFS)?));
    Ok(columns)
}

/// The column of local tmpfs figures measured with the library loaded.
const PRELOADED_TMPFS: &str = "tmpfs, preloaded";

fn print_table(placement: &str, all: &[(&str, Figures)]) {
    let (columns, preloaded) = match all.split_last() {
        Some((last, rest)) if last.0 == PRELOADED_TMPFS => (rest, Some(&last.1)),
        _ => (all, None),
    };
    print_comparison(placement, columns);
    let (Some(with), Some((_, without))) =
        (preloaded, columns.iter().find(|c| c.0 == "local tmpfs"))
    else {
        return;
    };
    println!("local tmpfs with the library loaded (what paths outside /REMOTE@ pay):");
    for (key, label, _) in METRICS {
        if let (Some(a), Some(b)) = (with.get(key), without.get(key)) {
            println!(
                "  {label:<26}{a:>10.2} vs {b:>10.2} without: {:>6.2}x",
                a / b
            );
        }
    }
}

fn print_comparison(placement: &str, columns: &[(&str, Figures)]) {
    println!("\n{placement}");
    print!("{:<26}", "");
    for (name, _) in columns {
        print!("{name:>14}");
    }
    for (name, _) in &columns[1..] {
        print!(
            "{:>16}",
            format!("orfa/{}", name.rsplit(' ').next().unwrap_or(name))
        );
    }
    println!();
    for (key, label, lower_is_better) in METRICS {
        print!("{label:<26}");
        for (_, figures) in columns {
            match figures.get(key) {
                Some(v) => print!("{v:>14.2}"),
                None => print!("{:>14}", "-"),
            }
        }
        let ours = columns[0].1.get(key).copied();
        for (_, figures) in &columns[1..] {
            match (ours, figures.get(key)) {
                (Some(a), Some(b)) if *b > 0.0 => print!("{:>15.2}x", a / b),
                _ => print!("{:>16}", "-"),
            }
        }
        println!(
            "{}",
            if lower_is_better {
                "   (lower is better)"
            } else {
                "   (higher is better)"
            }
        );
    }
}
