//! One client's misbehaviour never stops the server from serving the others.

mod common;

use std::time::Duration;

use common::{Client, Server, exercise, temp_dir, unix_arg};
use orfa_wire::{ClientHello, ErrorCode, MAGIC, OpCode, OpenFlags, pack_version};

/// A server on TCP and a Unix socket; each scenario runs against both.
fn server(dir: &std::path::Path, backend: &[&str]) -> Server {
    let (_, unix) = unix_arg(dir, "s.sock");
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--listen",
        unix.as_str(),
        "--credits",
        "4",
    ];
    args.extend_from_slice(backend);
    Server::start(&args)
}

/// Asserts that the server is alive and serves a well-behaved client on every listener.
fn still_serving(server: &mut Server, round: &str) {
    assert!(server.is_running(), "server died after {round}");
    for i in 0..server.addrs.len() {
        exercise(&mut server.client(i), &format!("after-{round}-{i}"));
    }
}

fn garbage(server: &mut Server) {
    for i in 0..server.addrs.len() {
        // Not even a hello.
        let mut c = Client::connect(&server.addrs[i]);
        let junk: Vec<u8> = (0..5000u32)
            .map(|x| (x.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        c.send(&junk);
        assert!(
            c.is_closed_by_server(),
            "garbage instead of a hello is refused"
        );

        // A valid hello, then headers of nonsense, and leave.
        let mut c = server.client(i);
        c.send(&[0xffu8; 80 * 3]);
        c.send(&[0x00u8; 80 * 3]);
        drop(c);

        // A hello of another major version is answered, then closed.
        let mut c = Client::connect(&server.addrs[i]);
        let hello = ClientHello {
            magic: MAGIC.into(),
            version: pack_version(9, 0).into(),
            ..Default::default()
        };
        c.send(hello.as_wire());
        assert_eq!(c.hello_reply_status(), ErrorCode::UNSUPPORTED);
        assert!(c.is_closed_by_server());
    }
    still_serving(server, "garbage");
}

fn disconnects(server: &mut Server) {
    for i in 0..server.addrs.len() {
        // Half a hello.
        let mut c = Client::connect(&server.addrs[i]);
        c.send(&MAGIC.to_le_bytes());
        drop(c);

        // Half a request header, with a file left open.
        let mut c = server.client(i);
        let flags = OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE;
        assert_eq!(c.open("left-open", flags, 0o600).status(), ErrorCode::OK);
        let h = c.header(OpCode::STAT, 0, 5);
        c.send(&h.as_wire()[..40]);
        drop(c);

        // A header with half its data part.
        let mut c = server.client(i);
        let path = "some/path/that/is/long";
        let h = c.header(OpCode::STAT, 0, path.len());
        let mut bytes = h.as_wire().to_vec();
        bytes.extend_from_slice(&path.as_bytes()[..path.len() / 2]);
        c.send(&bytes);
        drop(c);

        // A rendezvous granted and never sent.
        let mut c = server.client(i);
        let handle = c.open("rdv", flags, 0o600).value();
        let h = c.header(OpCode::WRITE, handle, 1 << 20);
        c.request(&h, &[]);
        let cts = c.reply();
        assert_eq!(cts.header.msg_kind(), orfa_wire::MsgKind::CLEAR_TO_SEND);
        c.send(&[1u8; 1000]);
        drop(c);

        // Reset mid-reply: ask for a big read and leave without reading it.
        let mut c = server.client(i);
        let handle = c.open("big-read", flags, 0o600).value();
        let data = vec![7u8; 60_000];
        assert_eq!(c.write_at(handle, 0, &data).status(), ErrorCode::OK);
        for _ in 0..4 {
            let mut h = c.header(OpCode::READ, handle, 0);
            h.count = 60_000.into();
            c.request(&h, &[]);
        }
        drop(c);
    }
    std::thread::sleep(Duration::from_millis(50));
    still_serving(server, "disconnects");
}

fn flood(server: &mut Server) {
    for i in 0..server.addrs.len() {
        let mut c = server.client(i);
        // Far more requests than the 4 credits, without reading any reply.
        let mut burst = Vec::new();
        for _ in 0..64 {
            let h = c.header(OpCode::STAT, 0, 1);
            burst.extend_from_slice(h.as_wire());
            burst.push(b'x');
        }
        // The server may close while we are still writing.
        let _ = std::io::Write::write_all(&mut c.conn, &burst);
        assert!(
            c.is_closed_by_server(),
            "a client past its credits is disconnected"
        );
    }
    assert!(server.logged("without credit"), "the flood is logged");
    still_serving(server, "flood");
}

#[test]
fn memory_server_survives_bad_clients() {
    let dir = temp_dir();
    let mut server = server(dir.path(), &["--memory"]);
    garbage(&mut server);
    disconnects(&mut server);
    flood(&mut server);
}

#[test]
fn native_server_survives_bad_clients() {
    let dir = temp_dir();
    let export = dir.path().join("export");
    std::fs::create_dir(&export).expect("mkdir");
    let mut server = server(dir.path(), &["--export", export.to_str().expect("utf-8")]);
    garbage(&mut server);
    disconnects(&mut server);
    flood(&mut server);
    assert!(export.join("after-flood-0").exists());
}

#[test]
fn sigterm_and_sigint_stop_cleanly() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let dir = temp_dir();
        let (path, unix) = unix_arg(dir.path(), "stop.sock");
        let mut server = Server::start(&["--listen", &unix, "--listen", "127.0.0.1:0", "--memory"]);
        assert!(path.exists());
        // An idle client and one mid-request must not delay the exit.
        let _idle = server.client(0);
        let mut busy = server.client(1);
        let h = busy.header(OpCode::STAT, 0, 10);
        busy.send(&h.as_wire()[..]);

        let (status, took) = server.signal_and_wait(signal);
        assert_eq!(status.code(), Some(0), "exit status after signal {signal}");
        assert!(took < Duration::from_secs(3), "exit took {took:?}");
        assert!(!path.exists(), "socket file removed");
        assert!(server.logged("shutting down"));
    }
}

#[test]
fn stale_socket_file_is_replaced_and_a_live_one_kept() {
    let dir = temp_dir();
    let (path, unix) = unix_arg(dir.path(), "stale.sock");
    // A socket file nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&path).expect("bind"));
    assert!(path.exists());
    let server = Server::start(&["--listen", &unix, "--memory"]);
    exercise(&mut server.client(0), "f");

    // A second server on the same live socket refuses to start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orfa-server"))
        .args(["--listen", &unix, "--memory"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already listening"));
    exercise(&mut server.client(0), "g");
}
