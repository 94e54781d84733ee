//! Replays the committed seed corpus of the `server_session` fuzz target
//! (`fuzz/corpus/server_session/`) as an ordinary test, and writes the
//! seeds: `cargo test -p orfa-server-core --test fuzz_corpus -- --ignored`.

use std::path::PathBuf;

use orfa_server_core::fuzz::{CONFIG, HOLD_REPLIES, MINOR_1, MINOR_2, session};
use orfa_wire::{
    AccessMode, LockOwnerKind, LockType, OpCode, OpenFlags, PathFlags, RequestHeader, SetAttr,
    SetAttrMask,
};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/server_session")
}

#[test]
fn corpus_replays_without_panic() {
    let mut files = 0;
    for entry in std::fs::read_dir(corpus()).expect("the corpus is committed") {
        let path = entry.expect("corpus entry").path();
        session(&std::fs::read(&path).expect("corpus file"));
        files += 1;
    }
    assert!(files >= seeds().len(), "every seed is in the corpus");
}

#[test]
#[ignore = "writes the seed corpus; run by hand after changing the seeds"]
fn write_seeds() {
    std::fs::create_dir_all(corpus()).expect("corpus directory");
    for (name, bytes) in seeds() {
        std::fs::write(corpus().join(format!("seed-{name}")), bytes).expect("seed written");
    }
}

/// A request message: header fields set by `f`, then `data`.
fn req(op: OpCode, tag: u64, data: &[u8], f: impl FnOnce(&mut RequestHeader)) -> Vec<u8> {
    let mut h = RequestHeader {
        op: op.0.into(),
        tag: tag.into(),
        data_len: (data.len() as u64).into(),
        ..RequestHeader::default()
    };
    f(&mut h);
    let mut out = h.as_wire().to_vec();
    out.extend_from_slice(data);
    out
}

/// A path request on the root.
fn path(op: OpCode, tag: u64, p: &[u8]) -> Vec<u8> {
    req(op, tag, p, |_| {})
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The fuzz input for `flags` and messages sent one per chunk (a message
/// longer than 255 bytes takes several chunks).
fn input(flags: u8, messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![flags];
    for m in messages {
        for piece in m.chunks(255) {
            out.push(piece.len() as u8);
            out.extend_from_slice(piece);
        }
    }
    out
}

/// The same stream cut into pieces of `n` bytes.
fn split(flags: u8, messages: &[Vec<u8>], n: usize) -> Vec<u8> {
    let stream = messages.concat();
    let mut out = vec![flags];
    for piece in stream.chunks(n) {
        out.push(piece.len() as u8);
        out.extend_from_slice(piece);
    }
    out
}

/// A session that makes every kind of request once, validly, on the
/// handles the server gives (1: file `f`, 2: directory `d`).
fn every_request() -> Vec<Vec<u8>> {
    let rw = (OpenFlags::READ | OpenFlags::WRITE | OpenFlags::CREATE).0;
    let change = SetAttr {
        valid: (SetAttrMask::SIZE | SetAttrMask::MODE | SetAttrMask::MTIME)
            .0
            .into(),
        mode: 0o600.into(),
        size: 2.into(),
        mtime_sec: 1_700_000_000.into(),
        mtime_nsec: 5.into(),
        ..SetAttr::default()
    };
    let groups: Vec<u8> = [100u64, 200].iter().flat_map(|g| g.to_le_bytes()).collect();
    vec![
        req(OpCode::SETCONTEXT, 1, &groups, |h| {
            h.arg0 = 0.into();
            h.arg1 = 0.into();
            h.mode = 0o022.into();
            h.count = 2.into();
        }),
        req(OpCode::OPEN, 2, b"f", |h| {
            h.flags = rw.into();
            h.mode = 0o644.into();
        }),
        req(OpCode::MKDIR, 3, b"d", |h| h.mode = 0o755.into()),
        req(OpCode::OPEN, 4, b"/d", |h| {
            h.flags = (OpenFlags::READ | OpenFlags::DIRECTORY).0.into();
        }),
        req(OpCode::WRITE, 5, b"hello, world", |h| h.handle = 1.into()),
        req(OpCode::WRITE, 6, b"!", |h| {
            h.handle = 1.into();
            h.flags = OpenFlags::APPEND.0.into();
        }),
        req(OpCode::READ, 7, b"", |h| {
            h.handle = 1.into();
            h.offset = 7.into();
            h.count = 100.into();
        }),
        req(OpCode::STAT, 8, b"f", |_| {}),
        req(OpCode::SYMLINK, 9, b"fd/l", |h| {
            h.handle = 0.into();
            h.count = 1.into();
        }),
        req(OpCode::READLINK, 10, b"d/l", |_| {}),
        req(OpCode::STAT, 11, b"l", |h| {
            h.handle = 2.into();
            h.flags = PathFlags::NOFOLLOW.0.into();
        }),
        req(OpCode::LINK, 12, b"fd/hard", |h| {
            h.arg0 = 0.into();
            h.count = 1.into();
        }),
        req(OpCode::RENAME, 13, b"hardmoved", |h| {
            h.handle = 2.into();
            h.arg0 = 2.into();
            h.count = 4.into();
            h.flags = PathFlags::NOREPLACE.0.into();
        }),
        req(OpCode::SETATTR, 14, &cat(&[change.as_wire(), b"f"]), |_| {}),
        req(OpCode::ACCESS, 15, b"f", |h| {
            h.mode = (AccessMode::READ | AccessMode::WRITE).0.into();
        }),
        req(OpCode::FSYNC, 16, b"", |h| {
            h.handle = 1.into();
            h.flags = PathFlags::DATASYNC.0.into();
        }),
        path(OpCode::STATFS, 17, b""),
        req(OpCode::MKNOD, 18, b"d/fifo", |h| h.mode = 0o10644.into()),
        req(OpCode::READDIR, 19, b"", |h| {
            h.handle = 2.into();
            h.count = 4096.into();
        }),
        req(OpCode::READDIRPLUS, 20, b"", |h| {
            h.handle = 2.into();
            h.count = 300.into();
        }),
        req(OpCode::SETXATTR, 21, b"user.kindvaluef", |h| {
            h.count = 9.into();
            h.arg0 = 5.into();
            h.flags = PathFlags::XATTR_CREATE.0.into();
        }),
        req(OpCode::GETXATTR, 22, b"user.kindf", |h| {
            h.count = 9.into();
            h.arg0 = 64.into();
        }),
        req(OpCode::LISTXATTR, 23, b"f", |h| h.arg0 = 64.into()),
        req(OpCode::REMOVEXATTR, 24, b"user.kindf", |h| {
            h.count = 9.into()
        }),
        req(OpCode::LOCK, 25, b"", |h| {
            h.handle = 1.into();
            h.count = 10.into();
            h.mode = LockType::WRITE.0.into();
            h.arg0 = 42.into();
            h.arg1 = LockOwnerKind::POSIX.0.into();
        }),
        req(OpCode::GETLK, 26, b"", |h| {
            h.handle = 1.into();
            h.mode = LockType::READ.0.into();
            h.arg1 = LockOwnerKind::HANDLE.0.into();
        }),
        req(OpCode::LOCK, 27, b"", |h| {
            h.handle = 1.into();
            h.mode = LockType::READ.0.into();
            h.arg1 = LockOwnerKind::HANDLE.0.into();
            h.flags = PathFlags::WAIT.0.into();
        }),
        req(OpCode::CANCEL, 28, b"", |h| h.arg0 = 27.into()),
        req(OpCode::FALLOCATE, 29, b"", |h| {
            h.handle = 1.into();
            h.offset = 100.into();
            h.count = 4096.into();
            h.flags = PathFlags::KEEP_SIZE.0.into();
        }),
        req(OpCode::SEEK, 30, b"", |h| {
            h.handle = 1.into();
            h.flags = PathFlags::SEEK_HOLE.0.into();
        }),
        req(OpCode::OPEN, 31, b"g", |h| h.flags = rw.into()),
        req(OpCode::COPY_RANGE, 32, b"", |h| {
            h.handle = 1.into();
            h.arg0 = 3.into();
            h.count = 100.into();
        }),
        req(OpCode::SHARE, 37, b"", |h| h.handle = 1.into()),
        req(OpCode::ATTACH, 38, b"", |h| {
            h.arg0 = 0x5d1a_77c3_0b2e_9f41.into()
        }),
        req(OpCode::SHARE, 39, b"", |h| h.handle = 3.into()),
        req(OpCode::UNLINK, 33, b"d/moved", |_| {}),
        req(OpCode::UNLINK, 34, b"d", |h| {
            h.flags = PathFlags::REMOVEDIR.0.into();
        }),
        req(OpCode::CLOSE, 35, b"", |h| h.handle = 2.into()),
        req(OpCode::CLOSE, 36, b"", |h| h.handle = 1.into()),
    ]
}

/// Writes through a rendezvous: granted, refused for size, and a request
/// other than `WRITE`/`SETXATTR` announcing a large data part.
fn rendezvous() -> Vec<Vec<u8>> {
    let big = vec![0xa5; CONFIG.eager_limit as usize + 1000];
    let data = |tag: u64, len: usize| req(OpCode::DATA, tag, &big[..len], |_| {});
    let open = req(OpCode::OPEN, 1, b"big", |h| {
        h.flags = (OpenFlags::WRITE | OpenFlags::CREATE).0.into();
    });
    let mut write = req(OpCode::WRITE, 2, b"", |h| h.handle = 1.into());
    write[24..32].copy_from_slice(&(big.len() as u64).to_le_bytes());
    let mut too_large = req(OpCode::WRITE, 3, b"", |h| h.handle = 1.into());
    too_large[24..32].copy_from_slice(&(CONFIG.max_io + 1).to_le_bytes());
    let mut mkdir = req(OpCode::MKDIR, 4, b"", |_| {});
    mkdir[24..32].copy_from_slice(&(CONFIG.eager_limit + 1).to_le_bytes());
    let mut xattr = req(OpCode::SETXATTR, 5, b"", |h| {
        h.count = 6.into();
        h.arg0 = ((big.len() - 7) as u64).into();
    });
    xattr[24..32].copy_from_slice(&(big.len() as u64).to_le_bytes());
    let mut xattr_data = big.clone();
    xattr_data[..6].copy_from_slice(b"user.x");
    xattr_data[big.len() - 1] = b'/';
    vec![
        open,
        write,
        data(2, big.len()),
        too_large,
        mkdir,
        xattr,
        req(OpCode::DATA, 5, &xattr_data, |_| {}),
        path(OpCode::STAT, 6, b"big"),
    ]
}

/// Requests a server must answer with an error and go on.
fn malformed() -> Vec<Vec<u8>> {
    vec![
        path(OpCode(0x77), 1, b"x"),
        path(OpCode::STAT, 2, b"a\0b"),
        req(OpCode::STAT, 3, b"f", |h| h.flags = (1 << 40).into()),
        req(OpCode::RENAME, 4, b"ab", |h| h.count = 3.into()),
        req(OpCode::SETATTR, 5, b"short", |_| {}),
        req(OpCode::READ, 6, b"", |h| {
            h.handle = 99.into();
            h.count = u64::MAX.into();
        }),
        req(OpCode::SETCONTEXT, 7, b"1234567", |h| h.count = 1.into()),
        path(OpCode::OPEN, 8, b"../../etc/passwd"),
        req(OpCode::MKDIR, 9, b"m", |h| h.mode = (1 << 33).into()),
        path(OpCode::STAT, 10, &[b'n'; 300]),
    ]
}

/// The seeds: name and bytes.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let every = every_request();
    let first_six: Vec<Vec<u8>> = every.iter().take(6).cloned().collect();
    let five_stats: Vec<Vec<u8>> = (1..=5).map(|t| path(OpCode::STAT, t, b"")).collect();
    vec![
        ("every-request-1.2", input(MINOR_2, &every)),
        ("every-request-1.1", input(MINOR_1, &every)),
        ("every-request-1.0", input(0, &every)),
        ("byte-by-byte", split(MINOR_1, &first_six, 1)),
        ("cut-at-13", split(MINOR_1, &every, 13)),
        ("rendezvous", input(MINOR_1, &rendezvous())),
        ("rendezvous-cut-at-200", split(MINOR_1, &rendezvous(), 200)),
        ("malformed", input(MINOR_1, &malformed())),
        (
            "held-replies-over-credits",
            input(MINOR_1 | HOLD_REPLIES, &five_stats),
        ),
        (
            "data-for-no-grant",
            input(MINOR_1, &[req(OpCode::DATA, 9, b"xyz", |_| {})]),
        ),
    ]
}
