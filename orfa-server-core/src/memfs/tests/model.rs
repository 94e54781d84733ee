//! Properties: random operation sequences against a simple model, and
//! random calls of every kind that must never panic or break invariants.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use quickcheck::{Arbitrary, Gen, QuickCheck};

use super::*;

/// An operation on the files `n0` to `n3` of the root directory.
#[derive(Debug, Clone)]
enum Op {
    Put(u8, Vec<u8>),
    WriteAt(u8, u16, Vec<u8>),
    Truncate(u8, u32),
    Read(u8, u32, u16),
    Unlink(u8),
    Rename(u8, u8),
    Link(u8, u8),
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let name = |g: &mut Gen| u8::arbitrary(g) % 4;
        match u8::arbitrary(g) % 7 {
            0 => Op::Put(name(g), Vec::arbitrary(g)),
            1 => Op::WriteAt(name(g), u16::arbitrary(g), Vec::arbitrary(g)),
            2 => Op::Truncate(name(g), u32::arbitrary(g) % 20_000),
            3 => Op::Read(name(g), u32::arbitrary(g) % 70_000, u16::arbitrary(g)),
            4 => Op::Unlink(name(g)),
            5 => Op::Rename(name(g), name(g)),
            _ => Op::Link(name(g), name(g)),
        }
    }
}

/// The model: names to file numbers, file numbers to contents.
#[derive(Default)]
struct Model {
    names: BTreeMap<u8, usize>,
    files: Vec<Vec<u8>>,
}

impl Model {
    fn file(&mut self, n: u8) -> Option<&mut Vec<u8>> {
        let i = *self.names.get(&n)?;
        self.files.get_mut(i)
    }
}

fn path(n: u8) -> String {
    format!("n{n}")
}

/// Runs `op` on both; returns whether they agreed.
fn step(t: &mut Fs, m: &mut Model, op: &Op) -> bool {
    match op {
        Op::Put(n, data) => {
            t.put(&path(*n), data);
            match m.file(*n) {
                Some(f) => *f = data.clone(),
                None => {
                    m.files.push(data.clone());
                    m.names.insert(*n, m.files.len() - 1);
                }
            }
            true
        }
        Op::WriteAt(n, off, data) => {
            let Some(f) = m.file(*n) else {
                return t.open(&path(*n), W).err() == Some(ErrorCode::NOENT);
            };
            let end = usize::from(*off) + data.len();
            if !data.is_empty() {
                if f.len() < end {
                    f.resize(end, 0);
                }
                f[usize::from(*off)..end].copy_from_slice(data);
            }
            let node = t.open(&path(*n), W).unwrap();
            let r = t.write(&node, u64::from(*off), data);
            t.close(node);
            r == Ok((data.len(), end as u64))
        }
        Op::Truncate(n, size) => {
            let set = set_attr(SetAttrMask::SIZE, |s| s.size = u64::from(*size).into());
            let r = t.setattr(&path(*n), set);
            match m.file(*n) {
                Some(f) => {
                    f.resize(*size as usize, 0);
                    r.map(|a| a.size.get()) == Ok(u64::from(*size))
                }
                None => r.err() == Some(ErrorCode::NOENT),
            }
        }
        Op::Read(n, off, len) => {
            let r = t.open(&path(*n), R);
            let Some(f) = m.file(*n) else {
                return r.err() == Some(ErrorCode::NOENT);
            };
            let start = (*off as usize).min(f.len());
            let expect = f[start..(start + usize::from(*len)).min(f.len())].to_vec();
            let node = r.unwrap();
            let got = t.read(&node, u64::from(*off), usize::from(*len));
            t.close(node);
            got == Ok(expect)
        }
        Op::Unlink(n) => {
            let r = t.unlink(&path(*n));
            match m.names.remove(n) {
                Some(_) => r.is_ok(),
                None => r == Err(ErrorCode::NOENT),
            }
        }
        Op::Rename(a, b) => {
            let r = t.rename(&path(*a), &path(*b));
            match m.names.get(a).copied() {
                None => r == Err(ErrorCode::NOENT),
                Some(i) => {
                    if a != b && m.names.get(b) != Some(&i) {
                        m.names.remove(a);
                        m.names.insert(*b, i);
                    }
                    r.is_ok()
                }
            }
        }
        Op::Link(a, b) => {
            let r = t.link(&path(*a), &path(*b));
            match (m.names.get(a).copied(), m.names.contains_key(b)) {
                (None, _) => r == Err(ErrorCode::NOENT),
                (Some(_), true) => r == Err(ErrorCode::EXIST),
                (Some(i), false) => {
                    m.names.insert(*b, i);
                    r.is_ok()
                }
            }
        }
    }
}

fn agrees_with_model(ops: Vec<Op>) -> bool {
    let mut t = Fs::new();
    let mut m = Model::default();
    for op in &ops {
        if !step(&mut t, &mut m, op) {
            return false;
        }
    }
    t.check();
    let listed: Vec<Vec<u8>> = t.list("/").unwrap();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    let expected: Vec<Vec<u8>> = m.names.keys().map(|&n| path(n).into_bytes()).collect();
    if listed_sorted != expected {
        return false;
    }
    m.names
        .clone()
        .into_iter()
        .all(|(n, i)| t.get(&path(n)).ok().as_ref() == m.files.get(i))
}

#[test]
fn files_behave_as_the_model() {
    QuickCheck::new()
        .tests(1000)
        .quickcheck(agrees_with_model as fn(Vec<Op>) -> bool);
}

/// A path built from a few components that exercise the resolver.
#[derive(Debug, Clone)]
struct AnyPath(Vec<u8>);

impl Arbitrary for AnyPath {
    fn arbitrary(g: &mut Gen) -> Self {
        const PARTS: &[&str] = &["a", "b", "l", "up", "abs", ".", "..", "", "f"];
        let mut p = Vec::new();
        if bool::arbitrary(g) {
            p.push(b'/');
        }
        for i in 0..usize::arbitrary(g) % 4 {
            if i > 0 {
                p.push(b'/');
            }
            match u8::arbitrary(g) % 20 {
                0 => p.extend_from_slice(&[b'z'; 256]),
                _ => p.extend_from_slice(g.choose(PARTS).unwrap_or(&"a").as_bytes()),
            }
        }
        AnyPath(p)
    }
}

/// Any backend call, with arbitrary flags and modes.
#[derive(Debug, Clone)]
enum Call {
    Open(Option<u8>, AnyPath, u64, u32),
    Close(u8),
    Read(u8, u64, u16),
    Write(u8, u64, Vec<u8>, bool),
    Stat(Option<u8>, AnyPath, u64),
    Readdir(u8, u64, u16),
    Mkdir(AnyPath, u32),
    Mknod(AnyPath, u32, u64),
    Unlink(AnyPath, u64),
    Rename(AnyPath, AnyPath, u64),
    Link(AnyPath, AnyPath, u64),
    Symlink(AnyPath, AnyPath),
    Setattr(Option<u8>, AnyPath, u64, u64, u64),
    Access(AnyPath, u64),
    As(u8),
}

impl Arbitrary for Call {
    fn arbitrary(g: &mut Gen) -> Self {
        let p = AnyPath::arbitrary;
        let base = |g: &mut Gen| Option::<u8>::arbitrary(g);
        let small = |g: &mut Gen| u64::arbitrary(g) & 0x3ff;
        match u8::arbitrary(g) % 15 {
            0 => Call::Open(base(g), p(g), small(g), u32::arbitrary(g)),
            1 => Call::Close(u8::arbitrary(g)),
            2 => Call::Read(
                u8::arbitrary(g),
                u64::arbitrary(g) % 10_000,
                u16::arbitrary(g),
            ),
            3 => Call::Write(
                u8::arbitrary(g),
                u64::arbitrary(g) % 100_000,
                Vec::arbitrary(g),
                bool::arbitrary(g),
            ),
            4 => Call::Stat(base(g), p(g), small(g)),
            5 => Call::Readdir(u8::arbitrary(g), u64::arbitrary(g) % 8, u16::arbitrary(g)),
            6 => Call::Mkdir(p(g), u32::arbitrary(g)),
            7 => Call::Mknod(p(g), u32::arbitrary(g), u64::arbitrary(g)),
            8 => Call::Unlink(p(g), small(g)),
            9 => Call::Rename(p(g), p(g), small(g)),
            10 => Call::Link(p(g), p(g), small(g)),
            11 => Call::Symlink(p(g), p(g)),
            12 => Call::Setattr(
                base(g),
                p(g),
                small(g),
                u64::arbitrary(g),
                u64::arbitrary(g),
            ),
            13 => Call::Access(p(g), small(g)),
            _ => Call::As(u8::arbitrary(g)),
        }
    }
}

fn survives(calls: Vec<Call>) -> bool {
    let mut t = Fs::new();
    // A few fixed objects the random paths name.
    t.mkdir("a").unwrap();
    t.put("f", b"content");
    t.symlink("..", "a/up").unwrap();
    t.symlink("/etc", "abs").unwrap();
    t.symlink("a", "l").unwrap();
    let mut nodes: Vec<MemNode> = Vec::new();
    fn pick(nodes: &[MemNode], i: u8) -> Option<&MemNode> {
        nodes.get(usize::from(i) % nodes.len().max(1))
    }
    for call in calls {
        let cx = t.cx;
        match call {
            Call::Open(b, p, flags, mode) => {
                let base = b.and_then(|i| pick(&nodes, i));
                if let Ok((n, _)) = t.fs.open(&cx, base, &p.0, OpenFlags(flags), mode) {
                    nodes.push(n);
                }
            }
            Call::Close(i) => {
                if !nodes.is_empty() {
                    let n = nodes.swap_remove(usize::from(i) % nodes.len());
                    t.close(n);
                }
            }
            Call::Read(i, off, len) => {
                if let Some(n) = pick(&nodes, i) {
                    let mut buf = vec![0; usize::from(len)];
                    let _ = t.fs.read(&cx, n, off, &mut buf);
                }
            }
            Call::Write(i, off, data, append) => {
                if let Some(n) = pick(&nodes, i) {
                    let _ = t.fs.write(&cx, n, off, &data, append);
                }
            }
            Call::Stat(b, p, flags) => {
                let base = b.and_then(|i| pick(&nodes, i));
                let _ = t.fs.stat(&cx, base, &p.0, PathFlags(flags));
            }
            Call::Readdir(i, cookie, len) => {
                if let Some(n) = pick(&nodes, i) {
                    let mut buf = vec![0; usize::from(len)];
                    let mut out = DirEntryWriter::new(&mut buf);
                    let _ = t.fs.readdir(&cx, n, cookie, &mut out);
                }
            }
            Call::Mkdir(p, mode) => drop(t.fs.mkdir(&cx, None, &p.0, mode)),
            Call::Mknod(p, mode, rdev) => drop(t.fs.mknod(&cx, None, &p.0, mode, rdev)),
            Call::Unlink(p, flags) => drop(t.fs.unlink(&cx, None, &p.0, PathFlags(flags))),
            Call::Rename(a, b, flags) => {
                let _ = t.fs.rename(&cx, None, &a.0, None, &b.0, PathFlags(flags));
            }
            Call::Link(a, b, flags) => {
                let _ = t.fs.link(&cx, None, &a.0, None, &b.0, PathFlags(flags));
            }
            Call::Symlink(target, p) => drop(t.fs.symlink(&cx, &target.0, None, &p.0)),
            Call::Setattr(b, p, valid, x, y) => {
                let base = b.and_then(|i| pick(&nodes, i));
                let set = SetAttr {
                    valid: valid.into(),
                    mode: x.into(),
                    uid: (x % 3 * 1000).into(),
                    gid: (y % 3 * 1000).into(),
                    size: (y % 100_000).into(),
                    atime_sec: x.into(),
                    atime_nsec: (y % 1_100_000_000).into(),
                    mtime_sec: y.into(),
                    mtime_nsec: (x % 1_100_000_000).into(),
                    reserved: 0.into(),
                };
                let _ = t.fs.setattr(&cx, base, &p.0, &set, PathFlags(valid >> 8));
            }
            Call::Access(p, mode) => {
                let _ = t.fs.access(
                    &cx,
                    None,
                    &p.0,
                    AccessMode(mode & 0xf),
                    PathFlags(mode >> 4),
                );
            }
            Call::As(u) => {
                let id = u32::from(u % 3) * 1000;
                t.as_user(id, id);
            }
        }
    }
    t.check();
    for n in nodes.drain(..) {
        t.close(n);
    }
    t.check();
    true
}

#[test]
fn random_calls_never_panic_or_break_invariants() {
    QuickCheck::new()
        .tests(1000)
        .quickcheck(survives as fn(Vec<Call>) -> bool);
}
