//! Starting the built `orfa-server` and speaking the protocol to it with raw bytes.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orfa_wire::{
    Attr, ClientHello, ErrorCode, MAGIC, MsgKind, OpCode, REPLY_HEADER_LEN, ReplyHeader,
    RequestHeader, SERVER_HELLO_LEN, ServerHello, VERSION_MAJOR, VERSION_MINOR, pack_version,
};

/// How long any single wait of a test may take before it fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A running `orfa-server` child, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// The addresses from its "listening on" lines, in order.
    pub(crate) addrs: Vec<String>,
    /// Every line it wrote to standard error so far.
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the server with `args` and waits for one "listening on" line
    /// per `--listen`.
    pub(crate) fn start(args: &[&str]) -> Self {
        let listeners = args.iter().filter(|a| **a == "--listen").count();
        let mut child = Command::new(env!("CARGO_BIN_EXE_orfa-server"))
            .args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start orfa-server");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let addr = line
                    .split_once("listening on ")
                    .map(|(_, rest)| rest.split(' ').next().unwrap_or_default().to_owned());
                sink.lock().expect("log lock").push(line);
                if let Some(addr) = addr {
                    let _ = tx.send(addr);
                }
            }
        });
        let mut addrs = Vec::new();
        while addrs.len() < listeners {
            match rx.recv_timeout(PATIENCE) {
                Ok(addr) => addrs.push(addr),
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "server did not announce its listeners; log: {:?}",
                        log.lock().expect("log")
                    );
                }
            }
        }
        Self { child, addrs, log }
    }

    /// Connects a client to the `i`th listener and says hello.
    pub(crate) fn client(&self, i: usize) -> Client {
        let mut client = Client::connect(&self.addrs[i]);
        let hello = client.hello();
        assert_eq!(hello.status.get(), 0, "server refused the session");
        client.credits = hello.credits.get();
        client
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends a signal to this child (by its pid) and waits for it to exit.
    pub(crate) fn signal_and_wait(&mut self, signal: i32) -> (ExitStatus, Duration) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: kill takes no pointer; the pid is our own child's, which we
        // have not reaped, so it cannot name another process.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill failed");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return (status, start.elapsed());
            }
            assert!(
                start.elapsed() < PATIENCE,
                "server did not exit after signal {signal}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether some log line contains `text`.
    pub(crate) fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(text))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A TCP or Unix connection.
pub(crate) enum Conn {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            Self::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            Self::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One reply: its header and data part.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) header: ReplyHeader,
    pub(crate) data: Vec<u8>,
}

impl Reply {
    pub(crate) fn status(&self) -> ErrorCode {
        self.header.error()
    }

    pub(crate) fn value(&self) -> u64 {
        self.header.value.get()
    }

    pub(crate) fn attr(&self) -> Attr {
        Attr::parse(&self.data).expect("attr in reply")
    }
}

/// A raw protocol client.
pub(crate) struct Client {
    pub(crate) conn: Conn,
    pub(crate) credits: u64,
    next_tag: u64,
}

impl Client {
    /// Connects to a "listening on" address, without the hello.
    pub(crate) fn connect(addr: &str) -> Self {
        let conn = match addr.strip_prefix("unix:") {
            Some(path) => {
                let s = UnixStream::connect(path).expect("connect unix");
                s.set_read_timeout(Some(PATIENCE)).expect("timeout");
                Conn::Unix(s)
            }
            None => {
                let s = TcpStream::connect(addr).expect("connect tcp");
                s.set_read_timeout(Some(PATIENCE)).expect("timeout");
                Conn::Tcp(s)
            }
        };
        Self {
            conn,
            credits: 0,
            next_tag: 1,
        }
    }

    /// Sends the client hello and reads the server's.
    pub(crate) fn hello(&mut self) -> ServerHello {
        let hello = ClientHello {
            magic: MAGIC.into(),
            version: pack_version(VERSION_MAJOR, VERSION_MINOR).into(),
            ..ClientHello::default()
        };
        self.send(hello.as_wire());
        let mut buf = [0u8; SERVER_HELLO_LEN];
        self.conn.read_exact(&mut buf).expect("server hello");
        ServerHello::parse(&buf).expect("parse hello")
    }

    /// Reads a server hello and returns its status.
    pub(crate) fn hello_reply_status(&mut self) -> ErrorCode {
        let mut buf = [0u8; SERVER_HELLO_LEN];
        self.conn.read_exact(&mut buf).expect("server hello");
        ErrorCode(ServerHello::parse(&buf).expect("parse hello").status.get())
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.conn.write_all(bytes).expect("send");
    }

    /// Closes the sending side.
    pub(crate) fn shutdown_write(&self) {
        let _ = match &self.conn {
            Conn::Tcp(s) => s.shutdown(Shutdown::Write),
            Conn::Unix(s) => s.shutdown(Shutdown::Write),
        };
    }

    /// A request header with a fresh tag; the caller fills the rest.
    pub(crate) fn header(&mut self, op: OpCode, handle: u64, data_len: usize) -> RequestHeader {
        let tag = self.next_tag;
        self.next_tag += 1;
        RequestHeader {
            op: op.0.into(),
            tag: tag.into(),
            handle: handle.into(),
            data_len: (data_len as u64).into(),
            ..RequestHeader::default()
        }
    }

    /// Sends a request and its data part.
    pub(crate) fn request(&mut self, header: &RequestHeader, data: &[u8]) {
        let mut bytes = header.as_wire().to_vec();
        bytes.extend_from_slice(data);
        self.send(&bytes);
    }

    /// Reads the next message from the server.
    pub(crate) fn reply(&mut self) -> Reply {
        let mut head = [0u8; REPLY_HEADER_LEN];
        self.conn.read_exact(&mut head).expect("reply header");
        let header = ReplyHeader::parse(&head).expect("parse reply");
        let mut data = vec![0u8; header.data_len.get() as usize];
        self.conn.read_exact(&mut data).expect("reply data");
        Reply { header, data }
    }

    /// Sends a request and reads its reply, checking the tag and kind.
    pub(crate) fn call(&mut self, header: RequestHeader, data: &[u8]) -> Reply {
        self.request(&header, data);
        let reply = self.reply();
        assert_eq!(
            reply.header.tag.get(),
            header.tag.get(),
            "reply to another tag"
        );
        assert_eq!(reply.header.msg_kind(), MsgKind::REPLY);
        reply
    }

    /// OPEN of `path` from the root with `flags` and `mode`.
    pub(crate) fn open(&mut self, path: &str, flags: orfa_wire::OpenFlags, mode: u64) -> Reply {
        let mut h = self.header(OpCode::OPEN, 0, path.len());
        h.flags = flags.0.into();
        h.mode = mode.into();
        self.call(h, path.as_bytes())
    }

    pub(crate) fn write_at(&mut self, handle: u64, offset: u64, data: &[u8]) -> Reply {
        let mut h = self.header(OpCode::WRITE, handle, data.len());
        h.offset = offset.into();
        self.call(h, data)
    }

    pub(crate) fn read_at(&mut self, handle: u64, offset: u64, count: u64) -> Reply {
        let mut h = self.header(OpCode::READ, handle, 0);
        h.offset = offset.into();
        h.count = count.into();
        self.call(h, &[])
    }

    pub(crate) fn stat(&mut self, path: &str) -> Reply {
        let h = self.header(OpCode::STAT, 0, path.len());
        self.call(h, path.as_bytes())
    }

    pub(crate) fn close(&mut self, handle: u64) -> Reply {
        let h = self.header(OpCode::CLOSE, handle, 0);
        self.call(h, &[])
    }

    /// Whether the server closed the connection (EOF or reset) within the patience.
    pub(crate) fn is_closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            match self.conn.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}

/// A full round of open-create, write, read back, stat and close, checking every answer.
pub(crate) fn exercise(client: &mut Client, name: &str) {
    use orfa_wire::{FileType, OpenFlags};
    let flags = OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNC;
    let opened = client.open(name, flags, 0o640);
    assert_eq!(opened.status(), ErrorCode::OK, "open {name}");
    let handle = opened.value();
    assert_ne!(handle, 0);
    let attr = opened.attr();
    assert_eq!(FileType::from_mode(attr.mode.get()), FileType::REGULAR);
    assert_eq!(attr.size.get(), 0);

    let payload: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let written = client.write_at(handle, 0, &payload);
    assert_eq!(written.status(), ErrorCode::OK);
    assert_eq!(written.value(), payload.len() as u64);
    assert_eq!(written.header.aux.get(), payload.len() as u64);

    let read = client.read_at(handle, 0, 64 * 1024);
    assert_eq!(read.status(), ErrorCode::OK);
    assert_eq!(read.value(), payload.len() as u64);
    assert_eq!(read.data, payload);
    let part = client.read_at(handle, 100, 10);
    assert_eq!(part.data, &payload[100..110]);

    let stat = client.stat(name);
    assert_eq!(stat.status(), ErrorCode::OK);
    let attr = stat.attr();
    assert_eq!(attr.size.get(), payload.len() as u64);
    assert_eq!(attr.mode.get() & 0o7777, 0o640);
    assert_eq!(FileType::from_mode(attr.mode.get()), FileType::REGULAR);

    assert_eq!(client.close(handle).status(), ErrorCode::OK);
    assert_eq!(client.close(handle).status(), ErrorCode::BADF);
}

/// A fresh directory for a test's sockets or export.
pub(crate) fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The path of a socket named `name` in `dir`, as a `--listen` argument.
pub(crate) fn unix_arg(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let arg = format!("unix:{}", path.display());
    (path, arg)
}
