//! Tests of the in-memory file system, through the [`Backend`] trait.

use alloc::vec;
use alloc::vec::Vec;

use orfa_wire::{
    AccessMode, Attr, DirEntryIter, DirEntryWriter, ErrorCode, FileType, OpenFlags, PathFlags,
    SetAttr, SetAttrMask,
};

use super::{MemFs, MemNode, ROOT};
use crate::backend::{Backend, BackendResult, Context, Timestamp};

mod files;
mod model;
mod namespace;
mod paths;
mod perms;
mod ranges;
mod space;
mod xattr;

const R: OpenFlags = OpenFlags::READ;
const W: OpenFlags = OpenFlags::WRITE;
const RW: OpenFlags = OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0);
const CREATE: OpenFlags = OpenFlags(OpenFlags::WRITE.0 | OpenFlags::CREATE.0);
const FOLLOW: PathFlags = PathFlags::NONE;
const NOFOLLOW: PathFlags = PathFlags::NOFOLLOW;

/// A time with nanoseconds, `sec` seconds after an arbitrary start.
fn at(sec: i64) -> Timestamp {
    Timestamp {
        sec: 1_600_000_000 + sec,
        nsec: 123_456_789,
    }
}

/// A file system and the identity and time its calls run with.
struct Fs {
    fs: MemFs,
    cx: Context<'static>,
}

impl Fs {
    /// A file system whose root belongs to uid/gid 1000, used by uid/gid 1000.
    fn new() -> Self {
        let now = at(0);
        Self {
            fs: MemFs::with_owner(now, 1000, 1000),
            cx: Context {
                now,
                uid: 1000,
                gid: 1000,
                ..Default::default()
            },
        }
    }

    fn set_time(&mut self, sec: i64) {
        self.cx.now = at(sec);
    }

    fn as_user(&mut self, uid: u32, gid: u32) {
        self.cx.uid = uid;
        self.cx.gid = gid;
    }

    fn with_groups(&mut self, groups: &'static [u32]) {
        self.cx.groups = groups;
    }

    fn open(&mut self, path: &str, flags: OpenFlags) -> BackendResult<MemNode> {
        self.fs
            .open(&self.cx, None, path.as_bytes(), flags, 0o644)
            .map(|(n, _)| n)
    }

    fn open_at(&mut self, base: &MemNode, path: &str, flags: OpenFlags) -> BackendResult<MemNode> {
        let r = self
            .fs
            .open(&self.cx, Some(base), path.as_bytes(), flags, 0o644);
        r.map(|(n, _)| n)
    }

    fn close(&mut self, node: MemNode) {
        assert_eq!(self.fs.close(&self.cx, node), Ok(()));
    }

    fn write(&mut self, node: &MemNode, offset: u64, data: &[u8]) -> BackendResult<(usize, u64)> {
        self.fs.write(&self.cx, node, offset, data, false)
    }

    fn read(&mut self, node: &MemNode, offset: u64, len: usize) -> BackendResult<Vec<u8>> {
        let mut buf = vec![0xee; len];
        let n = self.fs.read(&self.cx, node, offset, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Creates (or truncates) `path` holding `data`.
    fn put(&mut self, path: &str, data: &[u8]) {
        let node = self.open(path, CREATE | OpenFlags::TRUNC).unwrap();
        assert_eq!(
            self.write(&node, 0, data),
            Ok((data.len(), data.len() as u64))
        );
        self.close(node);
    }

    /// The whole content of `path`.
    fn get(&mut self, path: &str) -> BackendResult<Vec<u8>> {
        let node = self.open(path, R)?;
        let data = self.read(&node, 0, 1 << 20);
        self.close(node);
        data
    }

    fn stat(&mut self, path: &str) -> BackendResult<Attr> {
        self.fs.stat(&self.cx, None, path.as_bytes(), FOLLOW)
    }

    fn lstat(&mut self, path: &str) -> BackendResult<Attr> {
        self.fs.stat(&self.cx, None, path.as_bytes(), NOFOLLOW)
    }

    fn fstat(&mut self, node: &MemNode) -> Attr {
        self.fs.stat(&self.cx, Some(node), b"", NOFOLLOW).unwrap()
    }

    fn mkdir(&mut self, path: &str) -> BackendResult<()> {
        self.fs.mkdir(&self.cx, None, path.as_bytes(), 0o755)
    }

    fn unlink(&mut self, path: &str) -> BackendResult<()> {
        self.fs
            .unlink(&self.cx, None, path.as_bytes(), PathFlags::NONE)
    }

    fn rmdir(&mut self, path: &str) -> BackendResult<()> {
        self.fs
            .unlink(&self.cx, None, path.as_bytes(), PathFlags::REMOVEDIR)
    }

    fn rename(&mut self, from: &str, to: &str) -> BackendResult<()> {
        self.rename_flags(from, to, PathFlags::NONE)
    }

    fn rename_flags(&mut self, from: &str, to: &str, flags: PathFlags) -> BackendResult<()> {
        let (from, to) = (from.as_bytes(), to.as_bytes());
        self.fs.rename(&self.cx, None, from, None, to, flags)
    }

    fn link(&mut self, from: &str, to: &str) -> BackendResult<()> {
        let (from, to) = (from.as_bytes(), to.as_bytes());
        self.fs.link(&self.cx, None, from, None, to, FOLLOW)
    }

    fn symlink(&mut self, target: &str, path: &str) -> BackendResult<()> {
        self.fs
            .symlink(&self.cx, target.as_bytes(), None, path.as_bytes())
    }

    fn readlink(&mut self, path: &str) -> BackendResult<Vec<u8>> {
        let mut buf = vec![0; 4096];
        let n = self
            .fs
            .readlink(&self.cx, None, path.as_bytes(), &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn setattr(&mut self, path: &str, set: SetAttr) -> BackendResult<Attr> {
        self.fs
            .setattr(&self.cx, None, path.as_bytes(), &set, FOLLOW)
    }

    fn access(&mut self, path: &str, mode: AccessMode) -> BackendResult<()> {
        self.fs
            .access(&self.cx, None, path.as_bytes(), mode, FOLLOW)
    }

    /// Every name in the directory `node`, read in batches of `buf_len` bytes.
    fn list_node(&mut self, node: &MemNode, buf_len: usize) -> BackendResult<Vec<Vec<u8>>> {
        let mut names = Vec::new();
        let mut cookie = 0;
        loop {
            let mut buf = vec![0; buf_len];
            let mut out = DirEntryWriter::new(&mut buf);
            let done = self.fs.readdir(&self.cx, node, cookie, &mut out)?;
            let len = out.len();
            for entry in DirEntryIter::new(&buf[..len]) {
                let entry = entry.unwrap();
                names.push(entry.name.to_vec());
                cookie = entry.cookie;
            }
            if done {
                return Ok(names);
            }
        }
    }

    fn list(&mut self, path: &str) -> BackendResult<Vec<Vec<u8>>> {
        let node = self.open(path, R | OpenFlags::DIRECTORY)?;
        let names = self.list_node(&node, 4096);
        self.close(node);
        names
    }

    /// Checks the invariants that tie inodes, names and counters together.
    fn check(&self) {
        check_invariants(&self.fs);
    }
}

/// A [`SetAttr`] applying `valid`, with the other fields from `f`.
fn set_attr(valid: SetAttrMask, f: impl FnOnce(&mut SetAttr)) -> SetAttr {
    let mut s = SetAttr {
        valid: valid.0.into(),
        ..SetAttr::default()
    };
    f(&mut s);
    s
}

fn file_type(attr: &Attr) -> FileType {
    FileType::from_mode(attr.mode.get())
}

fn mtime(attr: &Attr) -> Timestamp {
    let (sec, nsec) = attr.mtime();
    Timestamp { sec, nsec }
}

fn ctime(attr: &Attr) -> Timestamp {
    let (sec, nsec) = attr.ctime();
    Timestamp { sec, nsec }
}

fn atime(attr: &Attr) -> Timestamp {
    let (sec, nsec) = attr.atime();
    Timestamp { sec, nsec }
}

/// Checks that every inode's link count matches the names that refer to it,
/// every directory's parent holds it, the page counter matches the files,
/// and no inode without names or opens is kept.
fn check_invariants(fs: &MemFs) {
    use alloc::collections::BTreeMap;

    use super::inode::Kind;

    let mut names: BTreeMap<u64, u64> = BTreeMap::new();
    let mut subdirs: BTreeMap<u64, u64> = BTreeMap::new();
    let mut pages = 0;
    for (&ino, inode) in &fs.inodes {
        if let Kind::Dir(d) = &inode.kind {
            for (_, _, child) in d.entries_after(0) {
                *names.entry(child).or_default() += 1;
                let child_inode = &fs.inodes[&child];
                if let Kind::Dir(cd) = &child_inode.kind {
                    assert_eq!(cd.parent, ino, "parent of directory {child}");
                    *subdirs.entry(ino).or_default() += 1;
                }
            }
        }
        pages += inode.pages();
    }
    assert_eq!(fs.used_pages, pages, "page count");
    for (&ino, inode) in &fs.inodes {
        let n = names.get(&ino).copied().unwrap_or(0);
        if inode.is_dir() {
            let expected = match (ino == ROOT, n) {
                (true, _) | (false, 1) => 2 + subdirs.get(&ino).copied().unwrap_or(0),
                (false, _) => 0,
            };
            assert_eq!(inode.nlink, expected, "nlink of directory {ino}");
            assert!(n <= 1, "directory {ino} has {n} names");
        } else {
            assert_eq!(inode.nlink, n, "nlink of {ino}");
        }
        assert!(
            ino == ROOT || n > 0 || inode.opens > 0,
            "inode {ino} leaked"
        );
    }
}
