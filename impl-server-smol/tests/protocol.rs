//! The binary answers the protocol on every kind of listener and export.

mod common;

use std::fs;

use common::{Server, exercise, temp_dir, unix_arg};
use orfa_wire::{ErrorCode, MsgKind, OpCode, OpenFlags};

#[test]
fn memory_export_over_tcp_and_unix() {
    let dir = temp_dir();
    let (_, unix) = unix_arg(dir.path(), "orfa.sock");
    let server = Server::start(&["--listen", "127.0.0.1:0", "--listen", &unix, "--memory"]);
    assert!(server.addrs[0].starts_with("127.0.0.1:") && !server.addrs[0].ends_with(":0"));
    assert_eq!(server.addrs[1], unix);
    assert!(server.logged("(memory export)"));

    let mut tcp = server.client(0);
    assert_eq!(tcp.credits, orfa_wire::DEFAULT_CREDITS);
    exercise(&mut tcp, "/over-tcp");
    let mut local = server.client(1);
    exercise(&mut local, "over-unix");
    // One file system for every connection.
    assert_eq!(local.stat("over-tcp").status(), ErrorCode::OK);
    assert_eq!(tcp.stat("over-unix").attr().size.get(), 10_000);
}

#[test]
fn ipv6_loopback_listener() {
    let server = Server::start(&["--listen", "[::1]:0", "--memory"]);
    assert!(server.addrs[0].starts_with("[::1]:"));
    exercise(&mut server.client(0), "v6");
}

#[test]
fn native_export_writes_land_in_the_directory() {
    let dir = temp_dir();
    let export = dir.path().join("export");
    fs::create_dir(&export).expect("mkdir");
    fs::write(dir.path().join("secret"), b"outside").expect("seed");
    std::os::unix::fs::symlink("/etc", export.join("etc")).expect("symlink");
    std::os::unix::fs::symlink("../secret", export.join("up")).expect("symlink");

    let export_arg = export.to_str().expect("utf-8 path");
    let server = Server::start(&["--listen", "127.0.0.1:0", "--export", export_arg]);
    let canonical = export.canonicalize().expect("canonical");
    assert!(server.logged(&format!("(export {})", canonical.display())));

    let mut client = server.client(0);
    exercise(&mut client, "data.bin");
    let on_disk = fs::read(export.join("data.bin")).expect("file in DIR");
    assert_eq!(on_disk.len(), 10_000);
    assert_eq!(on_disk[251], 0);

    for path in ["etc/passwd", "up", "../secret", "/../secret"] {
        assert_eq!(client.stat(path).status(), ErrorCode::ESCAPE, "stat {path}");
        let create = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNC;
        assert_eq!(
            client.open(path, create, 0o600).status(),
            ErrorCode::ESCAPE,
            "open {path}"
        );
    }
    assert_eq!(
        fs::read(dir.path().join("secret")).expect("secret"),
        b"outside"
    );
}

#[test]
fn rendezvous_write_larger_than_the_eager_limit() {
    let server = Server::start(&[
        "--listen",
        "127.0.0.1:0",
        "--memory",
        "--eager-limit",
        "16384",
    ]);
    let mut client = server.client(0);
    let flags = OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE;
    let handle = client.open("big", flags, 0o600).value();

    let payload: Vec<u8> = (0..200_000u32).map(|i| (i * 7) as u8).collect();
    let mut h = client.header(OpCode::WRITE, handle, payload.len());
    client.request(&h, &[]);
    let cts = client.reply();
    assert_eq!(cts.header.msg_kind(), MsgKind::CLEAR_TO_SEND);
    assert_eq!(cts.value(), payload.len() as u64);
    let tag = h.tag;
    h = orfa_wire::RequestHeader {
        op: OpCode::DATA.0.into(),
        tag,
        data_len: (payload.len() as u64).into(),
        ..Default::default()
    };
    client.request(&h, &payload);
    let done = client.reply();
    assert_eq!(done.status(), ErrorCode::OK);
    assert_eq!(done.value(), payload.len() as u64);

    let read = client.read_at(handle, 0, payload.len() as u64);
    assert_eq!(read.data, payload);
}

#[test]
fn directory_listing_in_small_batches_over_the_wire() {
    let dir = temp_dir();
    let mut expected: Vec<String> = (0..300).map(|i| format!("entry-{i:04}")).collect();
    for name in &expected {
        fs::write(dir.path().join(name), b"").expect("populate");
    }
    let export = dir.path().to_str().expect("utf-8");
    let server = Server::start(&["--listen", "127.0.0.1:0", "--export", export]);
    let mut client = server.client(0);
    let opened = client.open("/", OpenFlags::READ | OpenFlags::DIRECTORY, 0);
    assert_eq!(opened.status(), ErrorCode::OK);
    let handle = opened.value();

    let mut listed = Vec::new();
    let mut cookie = 0;
    loop {
        let mut h = client.header(OpCode::READDIR, handle, 0);
        h.offset = cookie.into();
        h.count = 700.into();
        let reply = client.call(h, &[]);
        assert_eq!(reply.status(), ErrorCode::OK);
        assert!(reply.data.len() <= 700);
        let mut n = 0;
        for entry in orfa_wire::DirEntryIter::new(&reply.data) {
            let entry = entry.expect("well-formed entry");
            listed.push(String::from_utf8_lossy(entry.name).into_owned());
            cookie = entry.cookie;
            n += 1;
        }
        assert_eq!(reply.value(), n);
        if reply.header.aux.get() == 1 {
            break;
        }
        assert!(n > 0, "an incomplete batch carries entries");
    }
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
}
