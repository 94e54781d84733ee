//! Each backend operation on a real directory.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use orfa_server_core::Backend;
use orfa_wire::{
    AccessMode, AttrMask, ErrorCode, FileType, OpenFlags, PathFlags, SetAttr, SetAttrMask,
};

use super::{Fixture, RW_CREATE};

#[test]
fn created_file_lands_in_dir_with_its_content_and_mode() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let (node, attr) =
        f.fs.open(&cx, None, b"/new.txt", RW_CREATE, 0o640)
            .expect("create");
    assert_eq!(FileType::from_mode(attr.mode.get()), FileType::REGULAR);
    assert_eq!(attr.mode.get() & 0o7777, 0o640);
    assert!(AttrMask(attr.mask.get()).contains(AttrMask::BASIC));

    assert_eq!(
        f.fs.write(&cx, &node, 0, b"hello world", false),
        Ok((11, 11))
    );
    assert_eq!(f.fs.write(&cx, &node, 6, b"there", false), Ok((5, 11)));
    let mut buf = [0u8; 64];
    assert_eq!(f.fs.read(&cx, &node, 0, &mut buf), Ok(11));
    assert_eq!(&buf[..11], b"hello there");
    assert_eq!(f.fs.read(&cx, &node, 6, &mut buf[..3]), Ok(3));
    assert_eq!(&buf[..3], b"the");
    assert_eq!(f.fs.read(&cx, &node, 100, &mut buf), Ok(0));
    f.close(node);

    let on_disk = f.export().join("new.txt");
    assert_eq!(fs::read(&on_disk).expect("read back"), b"hello there");
    assert_eq!(
        fs::metadata(&on_disk).expect("meta").permissions().mode() & 0o7777,
        0o640
    );
    let attr = f.stat(None, "new.txt").expect("stat");
    assert_eq!(attr.size.get(), 11);
    assert_eq!(attr.ino.get(), fs::metadata(&on_disk).expect("meta").ino());
}

#[test]
fn exclusive_create_and_truncate() {
    let mut f = Fixture::new();
    fs::write(f.export().join("old"), b"content").expect("seed");
    let excl = RW_CREATE | OpenFlags::EXCL;
    assert_eq!(f.open(None, "old", excl).err(), Some(ErrorCode::EXIST));
    let node = f
        .open(None, "old", OpenFlags::WRITE | OpenFlags::TRUNC)
        .expect("truncate");
    f.close(node);
    assert_eq!(fs::read(f.export().join("old")).expect("read"), b"");
    assert_eq!(
        f.open(None, "missing", OpenFlags::READ).err(),
        Some(ErrorCode::NOENT)
    );
}

#[test]
fn append_writes_land_at_the_end() {
    let mut f = Fixture::new();
    let cx = f.cx;
    fs::write(f.export().join("log"), b"0123").expect("seed");
    let node = f
        .open(None, "log", OpenFlags::WRITE | OpenFlags::APPEND)
        .expect("open");
    assert_eq!(f.fs.write(&cx, &node, 0, b"ab", false), Ok((2, 6)));
    assert_eq!(f.fs.write(&cx, &node, 1, b"cd", true), Ok((2, 8)));
    f.close(node);

    // A handle opened without APPEND still appends when the request asks,
    // and writes at its offset afterwards.
    let node = f.open(None, "log", OpenFlags::WRITE).expect("open");
    assert_eq!(f.fs.write(&cx, &node, 0, b"ef", true), Ok((2, 10)));
    assert_eq!(f.fs.write(&cx, &node, 0, b"Z", false), Ok((1, 1)));
    f.close(node);
    assert_eq!(
        fs::read(f.export().join("log")).expect("read"),
        b"Z123abcdef"
    );
}

#[test]
fn directories_list_every_entry_once_across_small_batches() {
    let mut f = Fixture::new();
    let cx = f.cx;
    f.fs.mkdir(&cx, None, b"d", 0o750).expect("mkdir");
    assert_eq!(f.fs.mkdir(&cx, None, b"d", 0o750), Err(ErrorCode::EXIST));
    let mut expected = BTreeSet::new();
    for i in 0..120 {
        let name = format!("file-with-a-longish-name-{i:03}");
        fs::write(f.export().join("d").join(&name), b"x").expect("populate");
        expected.insert(name.into_bytes());
    }
    f.fs.mkdir(&cx, None, b"d/child/", 0o700)
        .expect("mkdir with trailing slash");
    expected.insert(b"child".to_vec());

    let dir = f
        .open(None, "d", OpenFlags::READ | OpenFlags::DIRECTORY)
        .expect("opendir");
    for chunk in [72, 200, 4096] {
        let listed = f.list(&dir, chunk);
        let names: BTreeSet<_> = listed.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names.len(), listed.len(), "an entry was listed twice");
        assert_eq!(names, expected, "with {chunk}-byte batches");
        for (name, kind) in &listed {
            let want = if name == b"child" {
                FileType::DIR
            } else {
                FileType::REGULAR
            };
            assert_eq!(*kind, want);
        }
    }

    let cx = f.cx;
    let mut tiny = [0u8; 8];
    let mut out = orfa_wire::DirEntryWriter::new(&mut tiny);
    assert_eq!(f.fs.readdir(&cx, &dir, 0, &mut out), Ok(false));
    assert_eq!(out.count(), 0);
    f.close(dir);
}

#[test]
fn listing_survives_removal_of_entries_between_batches() {
    let mut f = Fixture::new();
    for i in 0..40 {
        fs::write(f.export().join("sub").join(format!("n{i}")), b"").expect("populate");
    }
    let dir = f.open(None, "sub", OpenFlags::READ).expect("opendir");
    let cx = f.cx;
    let mut buf = vec![0u8; 256];
    let mut out = orfa_wire::DirEntryWriter::new(&mut buf);
    assert_eq!(f.fs.readdir(&cx, &dir, 0, &mut out), Ok(false));
    let len = out.len();
    let first: Vec<_> = orfa_wire::DirEntryIter::new(&buf[..len])
        .map(|e| e.expect("entry"))
        .map(|e| (e.name.to_vec(), e.cookie))
        .collect();
    let cookie = first.last().expect("some entries").1;
    // Remove one listed entry and one not yet listed.
    let seen: BTreeSet<_> = first.iter().map(|(n, _)| n.clone()).collect();
    let unseen = (0..40)
        .map(|i| format!("n{i}").into_bytes())
        .find(|n| !seen.contains(n))
        .expect("an unlisted name");
    let seen_one = first.first().expect("entry").0.clone();
    for name in [&seen_one, &unseen] {
        fs::remove_file(
            f.export()
                .join("sub")
                .join(String::from_utf8_lossy(name).as_ref()),
        )
        .expect("remove");
    }

    let mut rest = Vec::new();
    let mut cookie = cookie;
    loop {
        let mut buf = vec![0u8; 256];
        let mut out = orfa_wire::DirEntryWriter::new(&mut buf);
        let done = f.fs.readdir(&cx, &dir, cookie, &mut out).expect("readdir");
        let len = out.len();
        for e in orfa_wire::DirEntryIter::new(&buf[..len]) {
            let e = e.expect("entry");
            rest.push(e.name.to_vec());
            cookie = e.cookie;
        }
        if done {
            break;
        }
    }
    let mut all: Vec<_> = first.into_iter().map(|(n, _)| n).collect();
    all.extend(rest);
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "an entry was listed twice");
    assert!(!unique.contains(&unseen), "a removed entry was listed");
    // Everything still present was listed: 40 files, a subdirectory, less
    // the unseen one removed.
    assert_eq!(unique.len(), 40 + 1 - 1);
    f.close(dir);
}

#[test]
fn unlink_rmdir_rename_and_link() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let root = f.export();
    fs::write(root.join("a"), b"A").expect("seed");
    fs::write(root.join("b"), b"B").expect("seed");
    fs::create_dir(root.join("empty")).expect("seed");

    assert_eq!(
        f.fs.rename(&cx, None, b"a", None, b"b", PathFlags::NOREPLACE),
        Err(ErrorCode::EXIST)
    );
    f.fs.rename(&cx, None, b"a", None, b"b", PathFlags::EXCHANGE)
        .expect("exchange");
    assert_eq!(fs::read(root.join("a")).expect("read"), b"B");
    f.fs.rename(&cx, None, b"a", None, b"sub/moved", PathFlags::NONE)
        .expect("rename");
    assert_eq!(fs::read(root.join("sub/moved")).expect("read"), b"B");
    assert!(!root.join("a").exists());

    f.fs.link(&cx, None, b"b", None, b"sub/hard", PathFlags::NONE)
        .expect("link");
    assert_eq!(fs::metadata(root.join("b")).expect("meta").nlink(), 2);
    assert_eq!(
        f.fs.link(&cx, None, b"sub", None, b"dirlink", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );

    assert_eq!(
        f.fs.unlink(&cx, None, b"empty", PathFlags::NONE),
        Err(ErrorCode::ISDIR)
    );
    assert_eq!(
        f.fs.unlink(&cx, None, b"b/", PathFlags::NONE),
        Err(ErrorCode::NOTDIR)
    );
    assert_eq!(
        f.fs.rename(&cx, None, b"b//", None, b"c", PathFlags::NONE),
        Err(ErrorCode::NOTDIR)
    );
    assert_eq!(
        f.fs.unlink(&cx, None, b"sub", PathFlags::REMOVEDIR),
        Err(ErrorCode::NOTEMPTY)
    );
    f.fs.unlink(&cx, None, b"empty/", PathFlags::REMOVEDIR)
        .expect("rmdir");
    f.fs.unlink(&cx, None, b"b", PathFlags::NONE)
        .expect("unlink");
    assert!(!root.join("empty").exists() && !root.join("b").exists());
    assert_eq!(
        f.fs.unlink(&cx, None, b"b", PathFlags::NONE),
        Err(ErrorCode::NOENT)
    );
    assert_eq!(
        f.fs.unlink(&cx, None, b"", PathFlags::NONE),
        Err(ErrorCode::NOENT)
    );
}

#[test]
fn symlinks_are_stored_as_given_and_read_back() {
    let mut f = Fixture::new();
    let cx = f.cx;
    fs::write(f.export().join("target"), b"T").expect("seed");
    f.fs.symlink(&cx, b"target", None, b"sub/../ln")
        .expect("symlink");
    f.fs.symlink(&cx, b"/anywhere/at/all", None, b"abslink")
        .expect("symlink");
    assert_eq!(
        fs::read_link(f.export().join("abslink"))
            .expect("readlink")
            .as_os_str(),
        "/anywhere/at/all"
    );

    let mut buf = [0u8; 64];
    assert_eq!(f.fs.readlink(&cx, None, b"ln", &mut buf), Ok(6));
    assert_eq!(&buf[..6], b"target");
    assert_eq!(
        f.fs.readlink(&cx, None, b"ln", &mut buf[..3]),
        Err(ErrorCode::RANGE)
    );
    assert_eq!(
        f.fs.readlink(&cx, None, b"target", &mut buf),
        Err(ErrorCode::INVAL)
    );

    let followed = f.stat(None, "ln").expect("stat");
    assert_eq!(FileType::from_mode(followed.mode.get()), FileType::REGULAR);
    assert_eq!(followed.size.get(), 1);
    let link =
        f.fs.stat(&cx, None, b"ln", PathFlags::NOFOLLOW)
            .expect("lstat");
    assert_eq!(FileType::from_mode(link.mode.get()), FileType::SYMLINK);
    assert_eq!(link.size.get(), 6);

    let nofollow = OpenFlags::READ | OpenFlags::NOFOLLOW;
    assert_eq!(f.open(None, "ln", nofollow).err(), Some(ErrorCode::LOOP));
}

#[test]
fn setattr_changes_mode_size_and_times() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let path = f.export().join("f");
    fs::write(&path, b"0123456789").expect("seed");
    let change = SetAttr {
        valid: (SetAttrMask::MODE | SetAttrMask::SIZE | SetAttrMask::MTIME | SetAttrMask::ATIME)
            .0
            .into(),
        mode: 0o600.into(),
        size: 4.into(),
        atime_sec: 1_000_000_000.into(),
        atime_nsec: 5.into(),
        mtime_sec: (-86_400i64 as u64).into(),
        mtime_nsec: 123_456_789.into(),
        ..SetAttr::default()
    };
    let attr =
        f.fs.setattr(&cx, None, b"f", &change, PathFlags::NONE)
            .expect("setattr");
    assert_eq!(attr.mode.get() & 0o7777, 0o600);
    assert_eq!(attr.size.get(), 4);
    assert_eq!(attr.mtime(), (-86_400, 123_456_789));
    assert_eq!(attr.atime(), (1_000_000_000, 5));
    let meta = fs::metadata(&path).expect("meta");
    assert_eq!(meta.len(), 4);
    assert_eq!(meta.mtime(), -86_400);
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);

    // Through a symbolic link inside the export, following it.
    fs::write(f.export().join("sub/t"), b"x").expect("seed");
    std::os::unix::fs::symlink("../t", f.export().join("sub/deep/l")).expect("symlink");
    let grow = SetAttr {
        valid: SetAttrMask::SIZE.0.into(),
        size: 3.into(),
        ..SetAttr::default()
    };
    f.fs.setattr(&cx, None, b"sub/deep/l", &grow, PathFlags::NONE)
        .expect("truncate via link");
    assert_eq!(fs::read(f.export().join("sub/t")).expect("read"), b"x\0\0");

    let now = SetAttr {
        valid: SetAttrMask::MTIME_NOW.0.into(),
        ..SetAttr::default()
    };
    let attr =
        f.fs.setattr(&cx, None, b"f", &now, PathFlags::NONE)
            .expect("touch");
    assert!(attr.mtime().0 > 1_600_000_000);

    let dir_size = SetAttr {
        valid: SetAttrMask::SIZE.0.into(),
        ..SetAttr::default()
    };
    assert_eq!(
        f.fs.setattr(&cx, None, b"sub", &dir_size, PathFlags::NONE),
        Err(ErrorCode::ISDIR)
    );
    let bad = SetAttr {
        valid: (1u64 << 40).into(),
        ..SetAttr::default()
    };
    assert_eq!(
        f.fs.setattr(&cx, None, b"f", &bad, PathFlags::NONE),
        Err(ErrorCode::INVAL)
    );
}

#[test]
fn access_statfs_fsync_and_mknod() {
    let mut f = Fixture::new();
    let cx = f.cx;
    fs::write(f.export().join("f"), b"x").expect("seed");
    f.fs.access(
        &cx,
        None,
        b"f",
        AccessMode::READ | AccessMode::WRITE,
        PathFlags::NONE,
    )
    .expect("access");
    f.fs.access(&cx, None, b"f", AccessMode::NONE, PathFlags::EACCESS)
        .expect("exists");
    assert_eq!(
        f.fs.access(&cx, None, b"nope", AccessMode::NONE, PathFlags::NONE),
        Err(ErrorCode::NOENT)
    );

    let st = f.fs.statfs(&cx, None, b"").expect("statfs");
    assert!(st.namemax.get() >= 255 && st.bsize.get() > 0 && st.blocks.get() > 0);

    let node = f.open(None, "f", OpenFlags::WRITE).expect("open");
    f.fs.fsync(&cx, &node, false).expect("fsync");
    f.fs.fsync(&cx, &node, true).expect("fdatasync");
    f.close(node);

    f.fs.mknod(&cx, None, b"fifo", libc::S_IFIFO | 0o600, 0)
        .expect("mkfifo");
    f.fs.mknod(&cx, None, b"plain", libc::S_IFREG | 0o644, 0)
        .expect("mknod regular");
    assert!(
        fs::metadata(f.export().join("plain"))
            .expect("meta")
            .is_file()
    );
    let attr = f.stat(None, "fifo").expect("stat fifo");
    assert_eq!(FileType::from_mode(attr.mode.get()), FileType::FIFO);
    // Opening and reading a FIFO with no writer must not block the server.
    let fifo = f.open(None, "fifo", OpenFlags::READ).expect("open fifo");
    let mut buf = [0u8; 4];
    assert!(matches!(
        f.fs.read(&cx, &fifo, 0, &mut buf),
        Ok(0) | Err(ErrorCode::AGAIN)
    ));
    f.close(fifo);
}

#[test]
fn handles_are_bases_for_relative_paths() {
    let mut f = Fixture::new();
    let root = f.export();
    fs::create_dir_all(root.join("a/b")).expect("seed");
    fs::write(root.join("a/b/in-b"), b"1").expect("seed");
    fs::write(root.join("a/in-a"), b"22").expect("seed");
    fs::write(root.join("top"), b"333").expect("seed");
    std::os::unix::fs::symlink("../in-a", root.join("a/b/up-link")).expect("symlink");

    let b = f
        .open(None, "a/b", OpenFlags::READ | OpenFlags::DIRECTORY)
        .expect("open b");
    assert_eq!(f.stat(Some(&b), "in-b").expect("stat").size.get(), 1);
    assert_eq!(f.stat(Some(&b), "../in-a").expect("dotdot").size.get(), 2);
    assert_eq!(
        f.stat(Some(&b), "up-link")
            .expect("link above base")
            .size
            .get(),
        2
    );
    assert_eq!(
        f.stat(Some(&b), "../../top").expect("to root").size.get(),
        3
    );
    assert_eq!(
        f.stat(Some(&b), "/top")
            .expect("absolute from root")
            .size
            .get(),
        3
    );
    let own = f.stat(Some(&b), "").expect("empty path");
    assert_eq!(FileType::from_mode(own.mode.get()), FileType::DIR);

    // After the base directory moves, `..` is taken from where it is now.
    fs::create_dir(root.join("z")).expect("seed");
    fs::write(root.join("z/in-z"), b"4444").expect("seed");
    fs::rename(root.join("a/b"), root.join("z/b")).expect("move b");
    assert_eq!(
        f.stat(Some(&b), "../in-z").expect("after move").size.get(),
        4
    );
    assert_eq!(f.stat(Some(&b), "../in-a").err(), Some(ErrorCode::NOENT));

    // Creating relative to a base, and reopening a file handle with an empty path.
    let cx = f.cx;
    let (file, _) =
        f.fs.open(&cx, Some(&b), b"../made", super::RW_CREATE, 0o600)
            .expect("create");
    assert!(root.join("z/made").exists());
    f.fs.write(&cx, &file, 0, b"data", false).expect("write");
    let again = f.open(Some(&file), "", OpenFlags::READ).expect("reopen");
    let mut buf = [0u8; 8];
    assert_eq!(f.fs.read(&cx, &again, 0, &mut buf), Ok(4));
    assert_eq!(f.stat(Some(&file), "").expect("stat handle").size.get(), 4);
    f.close(again);
    f.close(file);
    f.close(b);
}

#[test]
fn bad_arguments_give_errors_not_panics() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let long = "n".repeat(300);
    assert_eq!(
        f.open(None, &long, super::RW_CREATE).err(),
        Some(ErrorCode::NAMETOOLONG)
    );
    assert_eq!(
        f.fs.stat(&cx, None, b"a\0b", PathFlags::NONE),
        Err(ErrorCode::INVAL)
    );
    assert_eq!(
        f.open(None, "sub", OpenFlags::WRITE).err(),
        Some(ErrorCode::ISDIR)
    );
    assert_eq!(
        f.open(None, "x", OpenFlags(1 << 50)).err(),
        Some(ErrorCode::INVAL)
    );
    let dir = f.open(None, "sub", OpenFlags::READ).expect("opendir");
    let mut buf = [0u8; 4];
    assert_eq!(f.fs.read(&cx, &dir, 0, &mut buf), Err(ErrorCode::ISDIR));
    assert_eq!(
        f.fs.read(&cx, &dir, u64::MAX, &mut buf),
        Err(ErrorCode::INVAL)
    );
    let mut out_buf = [0u8; 512];
    let mut out = orfa_wire::DirEntryWriter::new(&mut out_buf);
    assert!(f.fs.readdir(&cx, &dir, u64::MAX, &mut out).is_ok() || out.is_empty());
    f.close(dir);

    let path_only = f.open(None, "sub", OpenFlags::PATH).expect("O_PATH");
    assert_eq!(
        f.fs.read(&cx, &path_only, 0, &mut buf),
        Err(ErrorCode::BADF)
    );
    f.close(path_only);

    // Loops of symbolic links end with LOOP.
    std::os::unix::fs::symlink("loop2", f.export().join("loop1")).expect("symlink");
    std::os::unix::fs::symlink("loop1", f.export().join("loop2")).expect("symlink");
    assert_eq!(f.stat(None, "loop1").err(), Some(ErrorCode::LOOP));
}
