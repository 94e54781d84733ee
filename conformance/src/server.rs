//! A server process under test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::artifacts::Artifacts;

/// What a server exports.
#[derive(Debug, Clone)]
pub enum Export {
    /// Its own in-memory file system.
    Memory,
    /// A native directory.
    Dir(PathBuf),
}

/// How clients reach a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP on 127.0.0.1, on a port the server picks.
    Tcp,
    /// A Unix stream socket in a temporary directory.
    Unix,
}

/// A running `orfa-server`, stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// The name after `/REMOTE@` that reaches this server.
    name: String,
    /// The `ORFA_SERVERS` value that defines `name`, for Unix sockets.
    servers_env: Option<String>,
    artifacts: Artifacts,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Server {
    /// Starts a server and waits until it listens.
    pub fn start(export: Export, transport: Transport) -> Server {
        Self::start_with(Artifacts::get(), export, transport, &[])
    }

    /// Starts the server of `artifacts` with extra arguments, under `prefix`
    /// (a command such as `taskset -c 0`, or nothing), and waits until it listens.
    pub fn start_with(
        artifacts: Artifacts,
        export: Export,
        transport: Transport,
        prefix: &[&str],
    ) -> Server {
        Self::spawn(artifacts, export, transport, prefix, &[])
    }

    /// Starts a server with extra arguments after the ones that choose the
    /// export and the listening address (`--protocol-minor 0`, say), and
    /// waits until it listens.
    pub fn start_args(export: Export, transport: Transport, args: &[&str]) -> Server {
        Self::spawn(Artifacts::get(), export, transport, &[], args)
    }

    fn spawn(
        artifacts: Artifacts,
        export: Export,
        transport: Transport,
        prefix: &[&str],
        args: &[&str],
    ) -> Server {
        let dir = tempfile::tempdir().expect("cannot make a temporary directory");
        let log = dir.path().join("server.log");
        let socket = dir.path().join("orfa.sock");
        let listen = match transport {
            Transport::Tcp => "127.0.0.1:0".to_string(),
            Transport::Unix => format!("unix:{}", socket.display()),
        };
        let mut cmd = match prefix.split_first() {
            Some((first, rest)) => {
                let mut cmd = Command::new(first);
                cmd.args(rest).arg(&artifacts.server);
                cmd
            }
            None => Command::new(&artifacts.server),
        };
        cmd.args(["--listen", &listen]);
        match &export {
            Export::Memory => cmd.arg("--memory"),
            Export::Dir(path) => cmd.arg("--export").arg(path),
        };
        cmd.args(args);
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start orfa-server");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || copy_log(stderr, &log_path, tx));
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("orfa-server did not report listening within 20 s; its log:\n{text}");
            }
        };
        let (name, servers_env) = match transport {
            Transport::Tcp => (addr, None),
            Transport::Unix => (
                "testsrv".to_string(),
                Some(format!("testsrv=unix:{}", socket.display())),
            ),
        };
        Server {
            child,
            name,
            servers_env,
            artifacts,
            _dir: dir,
            log,
        }
    }

    /// The remote root path of the export, `/REMOTE@NAME`.
    pub fn root(&self) -> String {
        format!("/REMOTE@{}", self.name)
    }

    /// The server's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A command running `program` with the preload library and this server configured.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("LD_PRELOAD", &self.artifacts.preload);
        if let Some(servers) = &self.servers_env {
            cmd.env("ORFA_SERVERS", servers);
        }
        cmd
    }

    /// Runs a shell script (`sh -c`) under the preload library, with `$R` set to
    /// [`Server::root`]; returns its output whatever its exit status.
    pub fn sh(&self, script: &str) -> Output {
        self.command("sh")
            .arg("-c")
            .arg(script)
            .env("R", self.root())
            .stdin(Stdio::null())
            .output()
            .expect("cannot run sh")
    }

    /// Runs a shell script as [`Server::sh`] does and panics, with its output and
    /// the server's log, unless it exits with status 0; returns its stdout.
    pub fn sh_ok(&self, script: &str) -> String {
        let out = self.sh(script);
        if !out.status.success() {
            panic!(
                "script failed ({}):\n{script}\n--- stdout\n{}\n--- stderr\n{}\n--- server log\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.log()
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stops the server with SIGTERM and returns its exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().expect("cannot reap orfa-server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Copies the server's stderr to `log`, sending the address of the first
/// `listening on ADDR` line to `tx`.
fn copy_log(stderr: std::process::ChildStderr, log: &Path, tx: mpsc::Sender<String>) {
    use std::io::Write;
    let Ok(mut file) = std::fs::File::create(log) else {
        return;
    };
    let mut tx = Some(tx);
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let _ = writeln!(file, "{line}");
        if let Some(rest) = line.split("listening on ").nth(1) {
            if let Some(tx) = tx.take() {
                let addr = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send(addr);
            }
        }
    }
}

/// Runs `check` against a fresh in-memory export and then a fresh native
/// export over TCP, giving it the server and, for the native one, the
/// exported directory.
pub fn on_both_exports(check: impl Fn(&Server, Option<&Path>)) {
    on_both_exports_with(&[], check);
}

/// [`on_both_exports`], with extra server arguments.
pub fn on_both_exports_with(args: &[&str], check: impl Fn(&Server, Option<&Path>)) {
    check(
        &Server::start_args(Export::Memory, Transport::Tcp, args),
        None,
    );
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let native = Server::start_args(Export::Dir(dir.path().to_path_buf()), Transport::Tcp, args);
    check(&native, Some(dir.path()));
}
