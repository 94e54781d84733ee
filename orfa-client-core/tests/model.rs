//! The client and server cores driven against each other in memory with
//! random sequences of file operations agree with a model file system: a
//! map of paths to contents.

use std::collections::BTreeMap;

use orfa_client_core::{Client, Event, Reply, Request, client_hello, parse_server_hello};
use orfa_server_core::{Config, Context, LockTable, MemFs, MemNode, Session, Timestamp};
use orfa_wire::{
    Attr, ErrorCode, FileType, OpenFlags, PathFlags, SERVER_HELLO_LEN, SetAttr, SetAttrMask,
};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

type Outcome = Result<Reply<Vec<u8>>, ErrorCode>;

/// The client and server cores joined in memory, one request at a time.
struct Pair {
    client: Client,
    server: Session<MemNode>,
    fs: MemFs,
    locks: LockTable,
    cx: Context<'static>,
}

impl Pair {
    fn new() -> Self {
        let cx = Context {
            now: Timestamp {
                sec: 1_700_000_000,
                nsec: 0,
            },
            ..Context::default()
        };
        let config = Config {
            credits: 2,
            eager_limit: 256,
            max_io: 4096,
            ..Config::default()
        };
        let mut server = Session::new(config);
        server.feed(&client_hello()).expect("hello");
        let hello = Self::drain(&mut server);
        assert_eq!(hello.len(), SERVER_HELLO_LEN);
        let limits = parse_server_hello(&hello).expect("server hello");
        Self {
            client: Client::new(limits),
            server,
            fs: MemFs::new(cx.now),
            locks: LockTable::new(),
            cx,
        }
    }

    fn drain(server: &mut Session<MemNode>) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(t) = server.transmit() {
            out.extend(t.slices().concat());
            let n = t.len();
            server.transmit_done(n);
        }
        out
    }

    /// Sends one request and runs both cores until its reply.
    fn one(&mut self, req: Request<'_>) -> Outcome {
        let out = match self.client.send(&req) {
            Ok(out) => out,
            Err(e) => return Err(e.code()),
        };
        let tag = out.tag();
        for s in out.slices() {
            self.server.feed(s).expect("server accepts");
        }
        loop {
            self.server.execute(&self.cx, &mut self.fs, &mut self.locks);
            let bytes = Self::drain(&mut self.server);
            assert!(!bytes.is_empty(), "the server answers");
            self.client.feed(&bytes).expect("client accepts");
            while let Some(event) = self.client.poll_event() {
                match event {
                    Event::ClearToSend(frame) => {
                        let [a, b] = req.data_parts();
                        self.server.feed(&frame.header).expect("data header");
                        self.server.feed(a).expect("data");
                        self.server.feed(b).expect("data");
                    }
                    Event::Reply(done) => {
                        assert_eq!(done.tag, tag);
                        return done.result;
                    }
                    Event::Unblocked => {}
                }
            }
        }
    }

    fn open(&mut self, path: &[u8], flags: OpenFlags) -> Result<u64, ErrorCode> {
        match self.one(Request::Open {
            base: 0,
            path,
            flags,
            mode: 0o644,
        })? {
            Reply::Open { handle, .. } => Ok(handle),
            other => panic!("OPEN answered {other:?}"),
        }
    }

    fn close(&mut self, handle: u64) {
        assert_eq!(self.one(Request::Close { handle }), Ok(Reply::Done));
    }
}

/// A path of one or two components from a small set of names, so that
/// operations meet each other's files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Path(Vec<&'static str>);

impl Path {
    fn bytes(&self) -> Vec<u8> {
        self.0.join("/").into_bytes()
    }

    fn parent(&self) -> Option<Path> {
        (self.0.len() > 1).then(|| Path(self.0[..self.0.len() - 1].to_vec()))
    }

    fn is_within(&self, dir: &Path) -> bool {
        self.0.len() > dir.0.len() && self.0[..dir.0.len()] == dir.0[..]
    }
}

impl Arbitrary for Path {
    fn arbitrary(g: &mut Gen) -> Self {
        let names = ["a", "b", "c"];
        let depth = if bool::arbitrary(g) { 1 } else { 2 };
        Path(
            (0..depth)
                .map(|_| *g.choose(&names).expect("a name"))
                .collect(),
        )
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create(Path),
    Write(Path, u8, Vec<u8>),
    Read(Path, u8, u8),
    Truncate(Path, u8),
    Rename(Path, Path),
    Unlink(Path),
    Mkdir(Path),
    Rmdir(Path),
    ReadDir(Option<Path>),
    Stat(Path),
}

impl Arbitrary for Op {
    fn arbitrary(g: &mut Gen) -> Self {
        let p = Path::arbitrary(g);
        match u8::arbitrary(g) % 10 {
            0 => Op::Create(p),
            1 => {
                let mut data = Vec::<u8>::arbitrary(g);
                // Now and then a write above the eager limit (256).
                if u8::arbitrary(g) % 8 == 0 {
                    data.resize(300 + usize::from(u8::arbitrary(g)), 0x42);
                }
                Op::Write(p, u8::arbitrary(g) % 64, data)
            }
            2 => Op::Read(p, u8::arbitrary(g) % 64, u8::arbitrary(g)),
            3 => Op::Truncate(p, u8::arbitrary(g) % 80),
            4 => Op::Rename(p, Path::arbitrary(g)),
            5 => Op::Unlink(p),
            6 => Op::Mkdir(p),
            7 => Op::Rmdir(p),
            8 => Op::ReadDir(bool::arbitrary(g).then_some(p)),
            _ => Op::Stat(p),
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        match self {
            Op::Write(p, o, d) => {
                let p = p.clone();
                let o = *o;
                Box::new(d.shrink().map(move |d| Op::Write(p.clone(), o, d)))
            }
            _ => quickcheck::empty_shrinker(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File(Vec<u8>),
    Dir,
}

/// The model: every path that exists, with its contents.
#[derive(Debug, Default)]
struct Model {
    nodes: BTreeMap<Path, Node>,
}

/// What the model expects of an operation.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Done,
    Failed(ErrorCode),
    Data(Vec<u8>),
    Names(Vec<(String, FileType)>),
    Stat(FileType, u64),
}

impl Model {
    /// Checks the directories leading to `p`: NOENT if one is missing,
    /// NOTDIR if one is a file.
    fn parent_ok(&self, p: &Path) -> Result<(), ErrorCode> {
        let Some(parent) = p.parent() else {
            return Ok(());
        };
        match self.nodes.get(&parent) {
            None => Err(ErrorCode::NOENT),
            Some(Node::File(_)) => Err(ErrorCode::NOTDIR),
            Some(Node::Dir) => Ok(()),
        }
    }

    fn lookup(&self, p: &Path) -> Result<&Node, ErrorCode> {
        self.parent_ok(p)?;
        self.nodes.get(p).ok_or(ErrorCode::NOENT)
    }

    fn file(&mut self, p: &Path) -> Result<&mut Vec<u8>, ErrorCode> {
        self.lookup(p)?;
        match self.nodes.get_mut(p) {
            Some(Node::File(data)) => Ok(data),
            _ => Err(ErrorCode::ISDIR),
        }
    }

    fn children(&self, dir: &Path) -> Vec<Path> {
        self.nodes
            .keys()
            .filter(|k| k.parent().as_ref() == Some(dir))
            .cloned()
            .collect()
    }

    fn apply(&mut self, op: &Op) -> Expect {
        match self.try_apply(op) {
            Ok(e) => e,
            Err(code) => Expect::Failed(code),
        }
    }

    fn try_apply(&mut self, op: &Op) -> Result<Expect, ErrorCode> {
        match op {
            Op::Create(p) => {
                self.parent_ok(p)?;
                match self.nodes.get(p) {
                    Some(Node::Dir) => return Err(ErrorCode::ISDIR),
                    Some(Node::File(_)) => {}
                    None => {
                        self.nodes.insert(p.clone(), Node::File(Vec::new()));
                    }
                }
                Ok(Expect::Done)
            }
            Op::Write(p, offset, data) => {
                let file = self.file(p)?;
                let (at, end) = (usize::from(*offset), usize::from(*offset) + data.len());
                // An empty write changes nothing, wherever it is.
                if !data.is_empty() {
                    if file.len() < end {
                        file.resize(end, 0);
                    }
                    file[at..end].copy_from_slice(data);
                }
                Ok(Expect::Done)
            }
            Op::Read(p, offset, count) => {
                let file = self.file(p)?;
                let at = usize::from(*offset).min(file.len());
                let end = (at + usize::from(*count)).min(file.len());
                Ok(Expect::Data(file[at..end].to_vec()))
            }
            Op::Truncate(p, size) => {
                self.file(p)?.resize(usize::from(*size), 0);
                Ok(Expect::Stat(FileType::REGULAR, u64::from(*size)))
            }
            Op::Rename(from, to) => self.rename(from, to),
            Op::Unlink(p) => match self.lookup(p)? {
                Node::Dir => Err(ErrorCode::ISDIR),
                Node::File(_) => {
                    self.nodes.remove(p);
                    Ok(Expect::Done)
                }
            },
            Op::Mkdir(p) => {
                self.parent_ok(p)?;
                if self.nodes.contains_key(p) {
                    return Err(ErrorCode::EXIST);
                }
                self.nodes.insert(p.clone(), Node::Dir);
                Ok(Expect::Done)
            }
            Op::Rmdir(p) => match self.lookup(p)? {
                Node::File(_) => Err(ErrorCode::NOTDIR),
                Node::Dir if !self.children(p).is_empty() => Err(ErrorCode::NOTEMPTY),
                Node::Dir => {
                    self.nodes.remove(p);
                    Ok(Expect::Done)
                }
            },
            Op::ReadDir(dir) => {
                let children: Vec<Path> = match dir {
                    None => self
                        .nodes
                        .keys()
                        .filter(|k| k.0.len() == 1)
                        .cloned()
                        .collect(),
                    Some(d) => match self.lookup(d)? {
                        Node::File(_) => return Err(ErrorCode::NOTDIR),
                        Node::Dir => self.children(d),
                    },
                };
                let mut names: Vec<(String, FileType)> = children
                    .iter()
                    .map(|c| {
                        let t = match self.nodes[c] {
                            Node::Dir => FileType::DIR,
                            Node::File(_) => FileType::REGULAR,
                        };
                        (c.0.last().expect("a name").to_string(), t)
                    })
                    .collect();
                names.sort();
                Ok(Expect::Names(names))
            }
            Op::Stat(p) => Ok(match self.lookup(p)? {
                Node::Dir => Expect::Stat(FileType::DIR, 0),
                Node::File(data) => Expect::Stat(FileType::REGULAR, data.len() as u64),
            }),
        }
    }

    /// `rename(2)`'s rules, for files and directories: both parents are
    /// resolved before the source is looked up, as Linux does.
    fn rename(&mut self, from: &Path, to: &Path) -> Result<Expect, ErrorCode> {
        self.parent_ok(from)?;
        self.parent_ok(to)?;
        let source = self.lookup(from)?.clone();
        if from == to {
            return Ok(Expect::Done);
        }
        // Into itself; over one of its own ancestors (Linux's order).
        if to.is_within(from) {
            return Err(ErrorCode::INVAL);
        }
        if from.is_within(to) {
            return Err(ErrorCode::NOTEMPTY);
        }
        match (&source, self.nodes.get(to)) {
            (Node::Dir, Some(Node::File(_))) => return Err(ErrorCode::NOTDIR),
            (Node::File(_), Some(Node::Dir)) => return Err(ErrorCode::ISDIR),
            (Node::Dir, Some(Node::Dir)) if !self.children(to).is_empty() => {
                return Err(ErrorCode::NOTEMPTY);
            }
            _ => {}
        }
        let moved: Vec<(Path, Node)> = self
            .nodes
            .iter()
            .filter(|(k, _)| *k == from || k.is_within(from))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, _) in &moved {
            self.nodes.remove(k);
        }
        self.nodes.remove(to);
        for (k, v) in moved {
            let mut new = to.0.clone();
            new.extend_from_slice(&k.0[from.0.len()..]);
            self.nodes.insert(Path(new), v);
        }
        Ok(Expect::Done)
    }
}

/// Runs `op` through the two cores; returns what came back, in the model's terms.
fn run(pair: &mut Pair, op: &Op) -> Expect {
    let rw = OpenFlags::READ | OpenFlags::WRITE;
    let result = (|| -> Result<Expect, ErrorCode> {
        match op {
            Op::Create(p) => {
                let h = pair.open(&p.bytes(), rw | OpenFlags::CREATE)?;
                pair.close(h);
                Ok(Expect::Done)
            }
            Op::Write(p, offset, data) => {
                let h = pair.open(&p.bytes(), rw)?;
                let r = pair.one(Request::Write {
                    handle: h,
                    offset: u64::from(*offset),
                    data,
                    append: false,
                });
                pair.close(h);
                let end = u64::from(*offset) + data.len() as u64;
                assert_eq!(
                    r?,
                    Reply::Write {
                        written: data.len() as u64,
                        end
                    }
                );
                Ok(Expect::Done)
            }
            Op::Read(p, offset, count) => {
                let h = pair.open(&p.bytes(), OpenFlags::READ)?;
                let r = pair.one(Request::Read {
                    handle: h,
                    offset: u64::from(*offset),
                    count: u64::from(*count),
                });
                pair.close(h);
                match r? {
                    Reply::Read(data) => Ok(Expect::Data(data)),
                    other => panic!("READ answered {other:?}"),
                }
            }
            Op::Truncate(p, size) => {
                let change = SetAttr {
                    valid: SetAttrMask::SIZE.0.into(),
                    size: u64::from(*size).into(),
                    ..SetAttr::default()
                };
                let r = pair.one(Request::SetAttr {
                    base: 0,
                    path: &p.bytes(),
                    attr: &change,
                    flags: PathFlags::NONE,
                })?;
                Ok(stat_of(&r))
            }
            Op::Rename(from, to) => done(pair.one(Request::Rename {
                from_base: 0,
                from: &from.bytes(),
                to_base: 0,
                to: &to.bytes(),
                flags: PathFlags::NONE,
            })),
            Op::Unlink(p) => done(pair.one(Request::Unlink {
                base: 0,
                path: &p.bytes(),
                flags: PathFlags::NONE,
            })),
            Op::Mkdir(p) => done(pair.one(Request::Mkdir {
                base: 0,
                path: &p.bytes(),
                mode: 0o755,
            })),
            Op::Rmdir(p) => done(pair.one(Request::Unlink {
                base: 0,
                path: &p.bytes(),
                flags: PathFlags::REMOVEDIR,
            })),
            Op::ReadDir(dir) => {
                let path = dir.as_ref().map(Path::bytes).unwrap_or_default();
                let h = pair.open(&path, OpenFlags::READ | OpenFlags::DIRECTORY)?;
                let names = list(pair, h);
                pair.close(h);
                Ok(Expect::Names(names))
            }
            Op::Stat(p) => {
                let r = pair.one(Request::Stat {
                    base: 0,
                    path: &p.bytes(),
                    flags: PathFlags::NONE,
                })?;
                Ok(stat_of(&r))
            }
        }
    })();
    result.unwrap_or_else(Expect::Failed)
}

fn done(outcome: Outcome) -> Result<Expect, ErrorCode> {
    match outcome? {
        Reply::Done => Ok(Expect::Done),
        other => panic!("expected no result, got {other:?}"),
    }
}

fn stat_of(reply: &Reply<Vec<u8>>) -> Expect {
    let attr: &Attr = match reply {
        Reply::Attr(a) => a,
        other => panic!("expected attributes, got {other:?}"),
    };
    let t = FileType::from_mode(attr.mode.get());
    let size = if t == FileType::DIR {
        0
    } else {
        attr.size.get()
    };
    Expect::Stat(t, size)
}

/// Every entry of an open directory, in small batches.
fn list(pair: &mut Pair, handle: u64) -> Vec<(String, FileType)> {
    let mut names = Vec::new();
    let mut cookie = 0;
    loop {
        let r = pair.one(Request::ReadDir {
            handle,
            cookie,
            count: 64,
        });
        let Ok(Reply::ReadDir(batch)) = r else {
            panic!("READDIR answered {r:?}");
        };
        for entry in batch.iter() {
            let entry = entry.expect("entry decodes");
            names.push((
                String::from_utf8(entry.name.to_vec()).expect("a name"),
                entry.file_type,
            ));
            cookie = entry.cookie;
        }
        if batch.complete {
            names.sort();
            return names;
        }
    }
}

fn agree(ops: Vec<Op>) -> TestResult {
    let mut pair = Pair::new();
    let mut model = Model::default();
    for (i, op) in ops.iter().enumerate() {
        let want = model.apply(op);
        let got = run(&mut pair, op);
        if got != want {
            return TestResult::error(format!(
                "step {i}, {op:?}: the cores gave {got:?}, the model {want:?}\n\
                 model before the step: {:?}",
                model.nodes.keys().collect::<Vec<_>>()
            ));
        }
    }
    // Everything the model holds is there, with its contents.
    let nodes = model.nodes.clone();
    for (path, node) in &nodes {
        let op = match node {
            Node::File(data) => Op::Read(path.clone(), 0, u8::try_from(data.len()).unwrap_or(255)),
            Node::Dir => Op::Stat(path.clone()),
        };
        let want = model.try_apply(&op).expect("the model reads its own paths");
        if run(&mut pair, &op) != want {
            return TestResult::error(format!("{path:?} differs at the end"));
        }
    }
    TestResult::passed()
}

#[test]
fn cores_agree_with_a_model_file_system() {
    QuickCheck::new()
        .tests(200)
        .quickcheck(agree as fn(Vec<Op>) -> TestResult);
}

#[test]
fn a_fixed_sequence_agrees() {
    let p = |s: &[&'static str]| Path(s.to_vec());
    let ops = vec![
        Op::Mkdir(p(&["a"])),
        Op::Create(p(&["a", "b"])),
        Op::Write(p(&["a", "b"]), 3, b"xyz".to_vec()),
        Op::Rename(p(&["a"]), p(&["c"])),
        Op::Read(p(&["c", "b"]), 0, 10),
        Op::Truncate(p(&["c", "b"]), 2),
        Op::Rmdir(p(&["c"])),
        Op::Unlink(p(&["c", "b"])),
        Op::Rmdir(p(&["c"])),
        Op::ReadDir(None),
    ];
    assert!(!agree(ops).is_failure());
}
