//! Tests of the native backend on real directories.

mod identity;
mod jail;
mod listing;
mod ops;
mod space;
mod xattr;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use orfa_server_core::{Backend, Context};
use orfa_wire::{Attr, DirEntryIter, DirEntryWriter, ErrorCode, FileType, OpenFlags, PathFlags};

use super::{NativeFs, NativeNode};

/// A temporary export `DIR` next to a directory `outside` that no client may
/// reach, holding `outside/secret` ("secret"), with symbolic links in `DIR`
/// that point out of it.
struct Fixture {
    tmp: tempfile::TempDir,
    fs: NativeFs,
    cx: Context<'static>,
}

const SECRET: &[u8] = b"secret";

impl Fixture {
    fn new() -> Self {
        // The server runs with umask 0 (clients apply their own).
        super::set_umask(0);
        let tmp = tempfile::tempdir().expect("tempdir");
        let export = tmp.path().join("export");
        let outside = tmp.path().join("outside");
        fs::create_dir(&export).expect("mkdir export");
        fs::create_dir(&outside).expect("mkdir outside");
        fs::write(outside.join("secret"), SECRET).expect("write secret");
        fs::create_dir_all(export.join("sub/deep")).expect("mkdir sub");
        symlink("/etc", export.join("etc")).expect("symlink etc");
        symlink("../..", export.join("up")).expect("symlink up");
        symlink(&outside, export.join("abs")).expect("symlink abs");
        symlink("../outside", export.join("rel")).expect("symlink rel");
        symlink("../../../outside/secret", export.join("sub/deep/secret")).expect("symlink deep");
        symlink(outside.join("created"), export.join("dangling")).expect("symlink dangling");
        let fs =
            NativeFs::new(&export, orfa_server_core::ShareLimits::default()).expect("open export");
        Self {
            tmp,
            fs,
            cx: Context::default(),
        }
    }

    fn export(&self) -> PathBuf {
        self.tmp.path().join("export")
    }

    fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside")
    }

    fn open(
        &mut self,
        base: Option<&NativeNode>,
        path: &str,
        flags: OpenFlags,
    ) -> Result<NativeNode, ErrorCode> {
        let cx = self.cx;
        self.fs
            .open(&cx, base, path.as_bytes(), flags, 0o644)
            .map(|(node, _)| node)
    }

    fn stat(&mut self, base: Option<&NativeNode>, path: &str) -> Result<Attr, ErrorCode> {
        let cx = self.cx;
        self.fs.stat(&cx, base, path.as_bytes(), PathFlags::NONE)
    }

    fn close(&mut self, node: NativeNode) {
        let cx = self.cx;
        self.fs.close(&cx, node).expect("close");
    }

    /// Every entry of a directory handle, read `chunk` bytes at a time.
    fn list(&mut self, dir: &NativeNode, chunk: usize) -> Vec<(Vec<u8>, FileType)> {
        let cx = self.cx;
        let mut names = Vec::new();
        let mut cookie = 0;
        for _ in 0..10_000 {
            let mut buf = vec![0u8; chunk];
            let mut out = DirEntryWriter::new(&mut buf);
            let done = self
                .fs
                .readdir(&cx, dir, cookie, &mut out)
                .expect("readdir");
            let len = out.len();
            assert!(
                done || len > 0,
                "readdir made no progress with {chunk} bytes"
            );
            for entry in DirEntryIter::new(&buf[..len]) {
                let entry = entry.expect("well-formed entry");
                names.push((entry.name.to_vec(), entry.file_type));
                cookie = entry.cookie;
            }
            if done {
                return names;
            }
        }
        panic!("listing never completed");
    }

    /// The names and contents of everything in `outside`, to check nothing changed.
    fn outside_snapshot(&self) -> Vec<(PathBuf, Vec<u8>, u32)> {
        snapshot(&self.outside())
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out: Vec<_> = fs::read_dir(dir)
        .expect("read outside")
        .map(|e| {
            let path = e.expect("entry").path();
            let meta = fs::symlink_metadata(&path).expect("meta");
            let content = if meta.is_file() {
                fs::read(&path).expect("read")
            } else {
                Vec::new()
            };
            (path, content, meta.permissions().mode())
        })
        .collect();
    out.sort();
    out
}

const RW_CREATE: OpenFlags =
    OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0 | OpenFlags::CREATE.0);
