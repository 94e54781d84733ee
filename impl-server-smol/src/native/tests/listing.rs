//! Directory listings with attributes (`READDIRPLUS`).

use std::fs;
use std::os::unix::fs::symlink;

use orfa_server_core::Backend;
use orfa_wire::{Attr, DirEntryIter, DirEntryWriter, OpenFlags, PathFlags};

use super::Fixture;
use crate::native::NativeNode;

impl Fixture {
    /// Every entry of `dir` with its attributes, read `chunk` bytes at a time.
    pub(super) fn list_plus(&mut self, dir: &NativeNode, chunk: usize) -> Vec<(String, Attr)> {
        let cx = self.cx;
        let mut entries = Vec::new();
        let mut cookie = 0;
        loop {
            let mut buf = vec![0u8; chunk];
            let mut out = DirEntryWriter::with_attrs(&mut buf);
            let done = self
                .fs
                .readdir(&cx, dir, cookie, &mut out)
                .expect("readdir");
            let len = out.len();
            for entry in DirEntryIter::with_attrs(&buf[..len]) {
                let entry = entry.expect("well-formed entry");
                let name = String::from_utf8_lossy(entry.name).into_owned();
                entries.push((name, entry.attr.expect("attributes")));
                cookie = entry.cookie;
            }
            if done {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                return entries;
            }
        }
    }
}

#[test]
fn each_entry_carries_what_stat_gives() {
    let mut f = Fixture::new();
    let d = f.export().join("d");
    fs::create_dir(&d).expect("mkdir");
    fs::write(d.join("file"), b"12345").expect("file");
    fs::create_dir(d.join("child")).expect("child");
    symlink("/etc/passwd", d.join("escaping")).expect("symlink");
    symlink("nowhere", d.join("dangling")).expect("symlink");
    for i in 0..30 {
        fs::write(d.join(format!("n{i:02}")), vec![0u8; i]).expect("populate");
    }

    let dir = f
        .open(None, "d", OpenFlags::READ | OpenFlags::DIRECTORY)
        .expect("opendir");
    for chunk in [400, 65536] {
        let entries = f.list_plus(&dir, chunk);
        assert_eq!(entries.len(), 34);
        for (name, attr) in &entries {
            let cx = f.cx;
            let path = format!("d/{name}");
            let expected =
                f.fs.stat(&cx, None, path.as_bytes(), PathFlags::NOFOLLOW)
                    .expect("lstat");
            assert_eq!(attr, &expected, "{name}");
        }
        let escaping = entries.iter().find(|(n, _)| n == "escaping").expect("link");
        assert_eq!(escaping.1.size.get(), "/etc/passwd".len() as u64);
    }
    f.close(dir);
}
