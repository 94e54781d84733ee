//! Transport tests against the real server core, run by a thread behind a
//! TCP or Unix listener in the test process. No interposition is involved.

use std::io::{ErrorKind, IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orfa_server_core::{Config, Context, LockTable, MemFs, MemNode, Session, Timestamp};
use orfa_wire::{FileType, OpenFlags, PathFlags, SetAttr, SetAttrMask};

use super::addr::{self, Addr};
use super::conn::Conn;
use super::{server, sys};

/// A server core over real sockets: one thread per connection, one shared file system.
struct TestServer {
    fs: Arc<Mutex<MemFs>>,
    /// Shared by the connections; each looks for answers to its waiting
    /// locks whenever its socket is idle for a moment.
    locks: Arc<Mutex<LockTable>>,
    config: Config,
    connections: Arc<AtomicUsize>,
}

trait Stream: Read + Write + Send + 'static {
    /// Makes reads give up after `timeout` without input.
    fn set_idle_timeout(&self, timeout: Duration) -> std::io::Result<()>;
}
impl Stream for TcpStream {
    fn set_idle_timeout(&self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}
impl Stream for UnixStream {
    fn set_idle_timeout(&self, timeout: Duration) -> std::io::Result<()> {
        self.set_read_timeout(Some(timeout))
    }
}

impl TestServer {
    fn new(config: Config) -> Arc<Self> {
        Arc::new(Self {
            fs: Arc::new(Mutex::new(MemFs::new(Timestamp { sec: 1, nsec: 0 }))),
            locks: Arc::new(Mutex::new(LockTable::new())),
            config,
            connections: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// Listens on 127.0.0.1; returns the `host:port` name.
    fn tcp(self: &Arc<Self>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let name = listener.local_addr().unwrap().to_string();
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                me.spawn(stream);
            }
        });
        name
    }

    /// Listens on a Unix socket at a fresh path; returns it.
    fn unix(self: &Arc<Self>) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "orfa-transport-{}-{}.sock",
            std::process::id(),
            NEXT_SOCKET.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                me.spawn(stream);
            }
        });
        path
    }

    fn spawn(self: &Arc<Self>, stream: impl Stream) {
        self.connections.fetch_add(1, Ordering::SeqCst);
        let me = Arc::clone(self);
        std::thread::spawn(move || me.serve(stream));
    }

    fn serve(&self, mut stream: impl Stream) {
        let cx = Context {
            now: Timestamp { sec: 2, nsec: 0 },
            uid: 0,
            gid: 0,
            ..Default::default()
        };
        let mut session: Session<MemNode> = Session::new(self.config);
        let _ = stream.set_idle_timeout(Duration::from_millis(10));
        'conn: loop {
            while let Some(tx) = session.transmit() {
                let [a, b] = tx.slices();
                match stream.write_vectored(&[IoSlice::new(a), IoSlice::new(b)]) {
                    Ok(n) if n > 0 => session.transmit_done(n),
                    _ => break 'conn,
                }
            }
            if session.is_closed() {
                break;
            }
            match stream.read(session.recv_buf()) {
                Ok(n) if n > 0 => {
                    if session.recv_done(n).is_err() {
                        continue;
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    session.poll_locks(&mut *self.locks.lock().unwrap());
                    continue;
                }
                _ => break,
            }
            let mut fs = self.fs.lock().unwrap();
            session.execute(&cx, &mut *fs, &mut *self.locks.lock().unwrap());
        }
        let mut fs = self.fs.lock().unwrap();
        session.release(&cx, &mut *fs, &mut *self.locks.lock().unwrap());
    }
}

static NEXT_SOCKET: AtomicUsize = AtomicUsize::new(0);

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed) ^ (i >> 11) as u8)
        .collect()
}

const RW_CREATE: OpenFlags =
    OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0 | OpenFlags::CREATE.0);

#[test]
fn addresses_and_the_servers_table() {
    let tcp = |h: &str, p| {
        Ok(Addr::Tcp {
            host: h.into(),
            port: p,
        })
    };
    assert_eq!(addr::parse(b"127.0.0.1:7000"), tcp("127.0.0.1", 7000));
    assert_eq!(addr::parse(b"localhost"), tcp("localhost", 7460));
    assert_eq!(addr::parse(b"[::1]:9"), tcp("::1", 9));
    assert_eq!(addr::parse(b"[::1]"), tcp("::1", 7460));
    assert_eq!(addr::parse(b"::1"), tcp("::1", 7460));
    assert_eq!(
        addr::parse(b"unix:/run/o.sock"),
        Ok(Addr::Unix(b"/run/o.sock".to_vec()))
    );
    assert!(addr::parse(b"host:0").is_err());
    assert!(addr::parse(b"host:99999").is_err());
    assert!(addr::parse(b"[::1]x").is_err());
    assert!(addr::parse(b"[nope]:1").is_err());
    assert!(addr::parse(b":80").is_err());
    assert!(addr::parse(b"unix:").is_err());
    let table = addr::parse_table(b"a=unix:/p/s; b = 127.0.0.1:7000;junk;=x;c=");
    assert_eq!(
        table,
        [
            (b"a".to_vec(), b"unix:/p/s".to_vec()),
            (b"b".to_vec(), b"127.0.0.1:7000".to_vec())
        ]
    );
}

#[test]
fn every_call_over_tcp_with_split_io() {
    let srv = TestServer::new(Config {
        max_io: 256 * 1024,
        credits: 4,
        ..Config::default()
    });
    let name = srv.tcp();
    let s = server(name.as_bytes()).unwrap();
    assert!(super::is_transport_fd(s.fd.load(Ordering::Relaxed)));
    assert!(
        s.fd.load(Ordering::Relaxed) >= 900,
        "socket moved to a high number"
    );

    s.mkdir(0, b"d", 0o755).unwrap();
    assert_eq!(s.mkdir(0, b"d", 0o755), Err(libc::EEXIST));
    let (h, attr) = s.open(0, b"d/f", RW_CREATE, 0o644).unwrap();
    assert_eq!(FileType::from_mode(attr.mode.get()), FileType::REGULAR);

    // 1 MiB + 5: four parts of max_io, each above the 64 KiB eager limit.
    let data = pattern((1 << 20) + 5, 1);
    assert_eq!(
        s.write(h, 0, &data, false),
        Ok((data.len(), data.len() as u64))
    );
    let mut back = vec![0u8; data.len() + 1000];
    assert_eq!(s.read(h, 0, &mut back), Ok(data.len()));
    assert_eq!(&back[..data.len()], &data[..]);
    let mut middle = vec![0u8; 300_000];
    assert_eq!(s.read(h, 500_000, &mut middle), Ok(300_000));
    assert_eq!(&middle[..], &data[500_000..800_000]);
    assert_eq!(s.read(h, data.len() as u64, &mut middle), Ok(0));
    assert_eq!(s.write(h, 0, b"tail", true), Ok((4, data.len() as u64 + 4)));

    assert_eq!(
        s.stat(0, b"d/f", PathFlags::NONE).unwrap().size.get(),
        data.len() as u64 + 4
    );
    s.symlink(b"d/f", 0, b"l").unwrap();
    assert_eq!(s.readlink(0, b"l").unwrap(), b"d/f");
    s.link(0, b"d/f", 0, b"hard", PathFlags::NONE).unwrap();
    s.rename(0, b"hard", 0, b"d/moved", PathFlags::NONE)
        .unwrap();
    s.mknod(0, b"d/fifo", 0o10644, 0).unwrap();
    let change = SetAttr {
        valid: SetAttrMask::SIZE.0.into(),
        size: 3.into(),
        ..SetAttr::default()
    };
    assert_eq!(
        s.setattr(0, b"d/f", &change, PathFlags::NONE)
            .unwrap()
            .size
            .get(),
        3
    );
    s.access(0, b"d/f", orfa_wire::AccessMode::READ, PathFlags::NONE)
        .unwrap();
    s.fsync(h, false).unwrap();
    assert!(s.statfs(0, b"").is_ok());
    s.close(h).unwrap();
    assert_eq!(s.close(h), Err(libc::EBADF));

    let (dir, _) = s
        .open(0, b"d", OpenFlags::READ | OpenFlags::DIRECTORY, 0)
        .unwrap();
    let batch = s.list(dir, 0).unwrap();
    assert!(batch.eof);
    let mut names: Vec<_> = batch
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.dtype))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            (b"f".to_vec(), libc::DT_REG),
            (b"fifo".to_vec(), libc::DT_FIFO),
            (b"moved".to_vec(), libc::DT_REG)
        ]
    );
    assert_eq!(
        s.unlink(0, b"d", PathFlags::REMOVEDIR),
        Err(libc::ENOTEMPTY)
    );
    assert_eq!(
        s.stat(0, b"nope", PathFlags::NONE).unwrap_err(),
        libc::ENOENT
    );
    assert_eq!(
        s.stat(0, &[b'x'; 256], PathFlags::NONE).unwrap_err(),
        libc::ENAMETOOLONG
    );
    assert_eq!(
        srv.connections.load(Ordering::SeqCst),
        1,
        "one connection for all calls"
    );
}

#[test]
fn unix_socket_connection() {
    let srv = TestServer::new(Config::default());
    let path = srv.unix();
    let addr = Addr::Unix(path.as_os_str().as_encoded_bytes().to_vec());
    let mut conn = Conn::open(&addr).unwrap();
    assert!(conn.fd() >= 900);
    let (h, _) = match conn.call(&orfa_client_core::Request::Open {
        base: 0,
        path: b"u",
        flags: RW_CREATE,
        mode: 0o600,
    }) {
        Ok(orfa_client_core::Reply::Open { handle, attr }) => (handle, attr),
        other => panic!("{other:?}"),
    };
    let Ok(h) = conn.adopt(h) else {
        panic!("no number for the handle")
    };
    let mut buf = [0u8; 4];
    assert_eq!(conn.read(h, 0, &mut buf).ok(), Some(0));
    drop(conn);
    let _ = std::fs::remove_file(path);
}

#[test]
fn unreachable_server_fails_promptly_with_eio() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let name = format!("127.0.0.1:{port}");
    let started = Instant::now();
    assert_eq!(server(name.as_bytes()).unwrap_err(), libc::EIO);
    assert_eq!(server(name.as_bytes()).unwrap_err(), libc::EIO);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(server(b"bad:port:name").unwrap_err(), libc::EIO);
}

#[test]
fn dropped_connection_gives_eio_then_reconnects() {
    // The first connection is closed by the server after the hello.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let name = listener.local_addr().unwrap().to_string();
    let srv = TestServer::new(Config::default());
    let real = Arc::clone(&srv);
    std::thread::spawn(move || {
        let mut first = true;
        for mut stream in listener.incoming().flatten() {
            if first {
                first = false;
                let mut session: Session<MemNode> = Session::new(Config::default());
                let mut hello = [0u8; orfa_wire::CLIENT_HELLO_LEN];
                stream.read_exact(&mut hello).unwrap();
                session.feed(&hello).unwrap();
                let tx = session.transmit().unwrap();
                let [a, _] = tx.slices();
                stream.write_all(a).unwrap();
                let mut header = [0u8; 80];
                let _ = stream.read_exact(&mut header);
                drop(stream);
            } else {
                real.spawn(stream);
            }
        }
    });
    let s = server(name.as_bytes()).unwrap();
    assert_eq!(s.mkdir(0, b"x", 0o755), Err(libc::EIO));
    assert!(s.warned.load(Ordering::Relaxed));
    assert_eq!(s.mkdir(0, b"x", 0o755), Ok(()));
    assert_eq!(srv.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn forked_child_makes_its_own_connection() {
    let srv = TestServer::new(Config::default());
    let name = srv.tcp();
    let s = server(name.as_bytes()).unwrap();
    s.mkdir(0, b"parent", 0o755).unwrap();
    let parent_fd = s.fd.load(Ordering::Relaxed);

    // SAFETY: the child only makes remote calls (raw system calls, locks no
    // other thread holds) and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok =
            s.mkdir(0, b"child", 0o755).is_ok() && s.stat(0, b"parent", PathFlags::NONE).is_ok();
        // SAFETY: _exit ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked; `status` is a live local.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status}"
    );
    assert_eq!(
        srv.connections.load(Ordering::SeqCst),
        2,
        "the child connected on its own"
    );
    // The parent's stream is intact.
    assert!(s.stat(0, b"child", PathFlags::NONE).is_ok());
    assert_eq!(s.fd.load(Ordering::Relaxed), parent_fd);
}

#[test]
fn signals_are_blocked_for_a_request_and_restored() {
    let current = || {
        let mut set: u64 = 0;
        // SAFETY: queries the mask into a live 8-byte local.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_BLOCK,
                core::ptr::null::<u64>(),
                &mut set as *mut u64,
                8usize,
            )
        };
        set
    };
    let before = current();
    {
        let _blocked = sys::SignalsBlocked::new();
        let inside = current();
        assert_ne!(inside & (1 << (libc::SIGALRM - 1)), 0);
        assert_ne!(inside & (1 << (libc::SIGINT - 1)), 0);
    }
    assert_eq!(current(), before);
}

#[test]
fn silent_server_times_out_in_the_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let name = listener.local_addr().unwrap().to_string();
    let held = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let started = Instant::now();
    assert_eq!(server(name.as_bytes()).unwrap_err(), libc::EIO);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(5),
        "{took:?}"
    );
    drop(held.join());
}

/// A whole-file POSIX lock of process `pid` on `handle`.
fn posix(handle: u64, lock_type: orfa_wire::LockType, pid: u64) -> super::LockSpec {
    super::LockSpec {
        handle,
        start: 0,
        len: 0,
        lock_type,
        owner_kind: orfa_wire::LockOwnerKind::POSIX,
        pid,
    }
}

extern "C" fn note_signal(_: libc::c_int) {}

#[test]
fn a_lock_waits_without_holding_the_connection_and_a_signal_cancels_it() {
    use orfa_wire::LockType;
    let srv = TestServer::new(Config::default());
    let port = srv.tcp().rsplit(':').next().unwrap().to_owned();
    // Two names of one server: two connections, two sessions.
    let a = server(format!("127.0.0.1:{port}").as_bytes()).unwrap();
    let b = server(format!("localhost:{port}").as_bytes()).unwrap();
    let (fa, _) = a.open(0, b"lock", RW_CREATE, 0o644).unwrap();
    let (fb, _) = b.open(0, b"lock", RW_CREATE, 0o644).unwrap();
    a.lock(&posix(fa, LockType::WRITE, 1)).unwrap();
    assert_eq!(b.lock(&posix(fb, LockType::READ, 2)), Err(libc::EAGAIN));

    // A waiting thread; meanwhile this thread uses the same connection.
    let waiter = std::thread::spawn(move || b.lock_wait(&posix(fb, LockType::READ, 2)));
    std::thread::sleep(Duration::from_millis(100));
    assert!(!waiter.is_finished());
    for _ in 0..20 {
        assert!(b.stat(0, b"lock", PathFlags::NONE).is_ok());
    }
    let info = b.getlk(&posix(fb, LockType::READ, 2)).unwrap();
    assert_eq!(
        (info.lock_type.get(), info.pid.get()),
        (LockType::WRITE.0, 1)
    );
    a.lock(&posix(fa, LockType::UNLOCK, 1)).unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(()));
    assert_eq!(a.lock(&posix(fa, LockType::WRITE, 1)), Err(libc::EAGAIN));
    b.lock(&posix(fb, LockType::UNLOCK, 2)).unwrap();
    a.lock(&posix(fa, LockType::WRITE, 1)).unwrap();

    // A signal handler that runs during the wait ends it with EINTR.
    // SAFETY: installs a handler that does nothing, for a signal no other
    // test uses; the sigaction structure is a live local.
    unsafe {
        let mut act: libc::sigaction = core::mem::zeroed();
        act.sa_sigaction = note_signal as *const () as usize;
        assert_eq!(
            libc::sigaction(libc::SIGUSR1, &act, core::ptr::null_mut()),
            0
        );
    }
    let waiter = std::thread::spawn(move || b.lock_wait(&posix(fb, LockType::WRITE, 2)));
    std::thread::sleep(Duration::from_millis(100));
    assert!(!waiter.is_finished());
    let started = Instant::now();
    let id = std::os::unix::thread::JoinHandleExt::as_pthread_t(&waiter);
    // SAFETY: `id` names the waiting thread, alive until joined below.
    assert_eq!(unsafe { libc::pthread_kill(id, libc::SIGUSR1) }, 0);
    let result = waiter.join().unwrap();
    assert_eq!(result, Err(libc::EINTR));
    assert!(started.elapsed() < Duration::from_secs(2));
    // The cancelled request is gone from the server: unlocking grants nothing,
    // and b's connection still works.
    a.lock(&posix(fa, LockType::UNLOCK, 1)).unwrap();
    b.lock(&posix(fb, LockType::WRITE, 2)).unwrap();
    b.lock(&posix(fb, LockType::UNLOCK, 2)).unwrap();
}
