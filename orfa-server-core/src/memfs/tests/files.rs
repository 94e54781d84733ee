//! Opening, reading, writing, sizes, times and attributes.

use super::*;

#[test]
fn write_then_read_back() {
    let mut t = Fs::new();
    let node = t.open("f", CREATE | OpenFlags::READ).unwrap();
    assert_eq!(t.write(&node, 0, b"hello world"), Ok((11, 11)));
    assert_eq!(t.write(&node, 6, b"there"), Ok((5, 11)));
    assert_eq!(t.read(&node, 0, 100).unwrap(), b"hello there");
    assert_eq!(t.read(&node, 6, 3).unwrap(), b"the");
    assert_eq!(t.read(&node, 11, 10).unwrap(), b"");
    assert_eq!(t.read(&node, u64::MAX, 10).unwrap(), b"");
    let attr = t.fstat(&node);
    assert_eq!(attr.size.get(), 11);
    assert_eq!(attr.blocks.get(), 8);
    assert_eq!(attr.blksize.get(), 4096);
    assert_eq!(attr.mode.get(), 0o100644);
    assert_eq!((attr.uid.get(), attr.gid.get()), (1000, 1000));
    t.close(node);
    t.check();
}

#[test]
fn writes_across_pages_and_holes_read_back() {
    let mut t = Fs::new();
    let node = t.open("f", CREATE | OpenFlags::READ).unwrap();
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(t.write(&node, 3000, &data), Ok((20_000, 23_000)));
    let back = t.read(&node, 0, 30_000).unwrap();
    assert_eq!(back.len(), 23_000);
    assert!(back[..3000].iter().all(|&b| b == 0));
    assert_eq!(&back[3000..], &data[..]);
    // Pages 0 to 5 hold data.
    assert_eq!(t.fstat(&node).blocks.get(), 6 * 8);
    t.close(node);
    t.check();
}

#[test]
fn sparse_gigabyte_truncate_is_cheap_and_reads_zeros() {
    let mut t = Fs::new();
    t.put("sp", b"");
    let set = set_attr(SetAttrMask::SIZE, |s| s.size = (1u64 << 30).into());
    let attr = t.setattr("sp", set).unwrap();
    assert_eq!(attr.size.get(), 1 << 30);
    assert_eq!(attr.blocks.get(), 0);
    assert_eq!(t.fs.used_pages, 0);

    let node = t.open("sp", RW).unwrap();
    assert_eq!(t.read(&node, 600 << 20, 4096).unwrap(), vec![0; 4096]);
    assert_eq!(t.write(&node, 629_145_600, b"X"), Ok((1, 629_145_601)));
    let attr = t.fstat(&node);
    assert_eq!(attr.size.get(), 1 << 30);
    assert_eq!(attr.blocks.get(), 8);
    assert_eq!(t.read(&node, 629_145_599, 3).unwrap(), b"\0X\0");
    assert_eq!(t.read(&node, (1 << 30) - 2, 10).unwrap(), b"\0\0");

    // Shrinking below the data frees it.
    let set = set_attr(SetAttrMask::SIZE, |s| s.size = 100.into());
    assert_eq!(
        t.fs.setattr(&t.cx, Some(&node), b"", &set, FOLLOW)
            .unwrap()
            .blocks
            .get(),
        0
    );
    t.close(node);
    t.check();
}

#[test]
fn truncate_inside_a_page_zeroes_the_tail_when_regrown() {
    let mut t = Fs::new();
    t.put("f", &[7; 5000]);
    let shrink = set_attr(SetAttrMask::SIZE, |s| s.size = 4100.into());
    t.setattr("f", shrink).unwrap();
    let grow = set_attr(SetAttrMask::SIZE, |s| s.size = 6000.into());
    t.setattr("f", grow).unwrap();
    let data = t.get("f").unwrap();
    assert_eq!(data.len(), 6000);
    assert!(data[..4100].iter().all(|&b| b == 7));
    assert!(data[4100..].iter().all(|&b| b == 0));
    t.check();
}

#[test]
fn file_size_limits() {
    let mut t = Fs::new();
    let node = t.open("f", CREATE).unwrap();
    assert_eq!(t.write(&node, u64::MAX, b"x"), Err(ErrorCode::FBIG));
    assert_eq!(
        t.write(&node, super::super::data::MAX_FILE_SIZE, b"x"),
        Err(ErrorCode::FBIG)
    );
    let huge = set_attr(SetAttrMask::SIZE, |s| s.size = u64::MAX.into());
    assert_eq!(t.setattr("f", huge), Err(ErrorCode::FBIG));
    t.close(node);

    t.fs.set_limits(8192, 100);
    let node = t.open("g", CREATE).unwrap();
    assert_eq!(t.write(&node, 0, &[1; 8192]), Ok((8192, 8192)));
    assert_eq!(t.write(&node, 8192, b"more"), Err(ErrorCode::NOSPC));
    assert_eq!(t.write(&node, 10, b"overwrite is fine"), Ok((17, 27)));
    t.close(node);
    t.check();
}

#[test]
fn append_writes_at_the_end() {
    let mut t = Fs::new();
    t.put("l", b"abc");
    let node = t.open("l", W).unwrap();
    assert_eq!(t.fs.write(&t.cx, &node, 0, b"de", true), Ok((2, 5)));
    t.close(node);
    // A node opened with APPEND appends whatever offset a write names.
    let node = t.open("l", W | OpenFlags::APPEND).unwrap();
    assert_eq!(t.write(&node, 1, b"f"), Ok((1, 6)));
    assert_eq!(t.write(&node, 0, b""), Ok((0, 6)));
    t.close(node);
    assert_eq!(t.get("l").unwrap(), b"abcdef");
}

#[test]
fn open_flag_rules() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.put("f", b"abc");
    t.symlink("f", "lf").unwrap();

    assert_eq!(t.open("d", W).err(), Some(ErrorCode::ISDIR));
    assert_eq!(
        t.open("d", R | OpenFlags::TRUNC).err(),
        Some(ErrorCode::ISDIR)
    );
    assert_eq!(
        t.open("d", R | OpenFlags::CREATE).err(),
        Some(ErrorCode::ISDIR)
    );
    assert_eq!(
        t.open("f", R | OpenFlags::DIRECTORY).err(),
        Some(ErrorCode::NOTDIR)
    );
    assert_eq!(t.open("f/", R).err(), Some(ErrorCode::NOTDIR));
    assert_eq!(
        t.open("lf", R | OpenFlags::NOFOLLOW).err(),
        Some(ErrorCode::LOOP)
    );
    assert_eq!(t.open("missing", R).err(), Some(ErrorCode::NOENT));
    assert_eq!(t.open("new/", CREATE).err(), Some(ErrorCode::ISDIR));
    assert_eq!(t.open(".", CREATE).err(), Some(ErrorCode::ISDIR));
    let excl = CREATE | OpenFlags::EXCL;
    assert_eq!(t.open("f", excl).err(), Some(ErrorCode::EXIST));
    assert_eq!(t.open("lf", excl).err(), Some(ErrorCode::EXIST));
    t.symlink("nowhere", "dangling").unwrap();
    assert_eq!(t.open("dangling", excl).err(), Some(ErrorCode::EXIST));

    // Following a dangling link with CREATE creates its target, as Linux does.
    let node = t.open("dangling", CREATE).unwrap();
    t.close(node);
    assert_eq!(file_type(&t.lstat("nowhere").unwrap()), FileType::REGULAR);

    // O_PATH|O_NOFOLLOW opens the link itself.
    let node = t.open("lf", OpenFlags::PATH | OpenFlags::NOFOLLOW).unwrap();
    assert_eq!(file_type(&t.fstat(&node)), FileType::SYMLINK);
    let mut buf = [0; 16];
    assert_eq!(t.fs.readlink(&t.cx, Some(&node), b"", &mut buf), Ok(1));
    assert_eq!(t.fs.read(&t.cx, &node, 0, &mut buf), Err(ErrorCode::BADF));
    t.close(node);

    // Directory nodes: listable, not readable.
    let node = t.open("d", R).unwrap();
    assert_eq!(t.read(&node, 0, 10), Err(ErrorCode::ISDIR));
    assert_eq!(t.write(&node, 0, b"x"), Err(ErrorCode::BADF));
    assert_eq!(t.list_node(&node, 512), Ok(vec![]));
    t.close(node);
    let node = t.open("d", OpenFlags::DIRECTORY | OpenFlags::PATH).unwrap();
    let mut buf = [0; 512];
    let mut out = DirEntryWriter::new(&mut buf);
    assert_eq!(
        t.fs.readdir(&t.cx, &node, 0, &mut out),
        Err(ErrorCode::BADF)
    );
    t.close(node);

    // Readdir on a file node.
    let node = t.open("f", R).unwrap();
    let mut out = DirEntryWriter::new(&mut buf);
    assert_eq!(
        t.fs.readdir(&t.cx, &node, 0, &mut out),
        Err(ErrorCode::NOTDIR)
    );
    // Access modes of nodes.
    assert_eq!(t.write(&node, 0, b"x"), Err(ErrorCode::BADF));
    t.close(node);
    let node = t.open("f", W).unwrap();
    assert_eq!(t.read(&node, 0, 1), Err(ErrorCode::BADF));
    t.close(node);
    assert_eq!(
        t.open("f", OpenFlags(1 << 40)).err(),
        Some(ErrorCode::INVAL)
    );
    t.check();
}

#[test]
fn trunc_with_read_only_truncates() {
    let mut t = Fs::new();
    t.put("t", b"abc");
    let node = t.open("t", R | OpenFlags::TRUNC).unwrap();
    assert_eq!(t.fstat(&node).size.get(), 0);
    t.close(node);
    t.put("t", b"1");
    assert_eq!(t.get("t").unwrap(), b"1");
    assert_eq!(t.stat("t").unwrap().size.get(), 1);
    t.check();
}

#[test]
fn unlinked_open_file_stays_readable_until_closed() {
    let mut t = Fs::new();
    t.put("f", b"still here");
    let free_before = t.fs.fs_attr().ffree.get();
    let node = t.open("f", RW).unwrap();
    t.unlink("f").unwrap();
    assert_eq!(t.stat("f").err(), Some(ErrorCode::NOENT));
    assert_eq!(t.read(&node, 0, 100).unwrap(), b"still here");
    assert_eq!(t.write(&node, 10, b"!"), Ok((1, 11)));
    assert_eq!(t.fstat(&node).nlink.get(), 0);
    t.check();
    t.close(node);
    assert_eq!(t.fs.fs_attr().ffree.get(), free_before + 1);
    assert_eq!(t.fs.used_pages, 0);
    t.check();
}

#[test]
fn renamed_over_file_stays_readable_through_an_old_node() {
    let mut t = Fs::new();
    t.put("c", b"old\n");
    t.put("c.lock", b"new\n");
    let old = t.open("c", R).unwrap();
    t.rename("c.lock", "c").unwrap();
    assert_eq!(t.get("c").unwrap(), b"new\n");
    assert_eq!(t.read(&old, 0, 100).unwrap(), b"old\n");
    assert_eq!(t.stat("c.lock").err(), Some(ErrorCode::NOENT));
    t.check();
    t.close(old);
    t.check();
}

#[test]
fn times_follow_ext4_rules() {
    let mut t = Fs::new();
    t.set_time(10);
    t.mkdir("d").unwrap();
    t.set_time(20);
    let node = t.open("d/f", CREATE | OpenFlags::READ).unwrap();
    let a = t.fstat(&node);
    for time in [atime(&a), mtime(&a), ctime(&a)] {
        assert_eq!(time, at(20));
    }
    assert_eq!(a.btime(), (at(20).sec, at(20).nsec));
    assert_eq!(mtime(&t.stat("d").unwrap()), at(20));

    t.set_time(30);
    t.write(&node, 0, b"data").unwrap();
    let a = t.fstat(&node);
    assert_eq!((atime(&a), mtime(&a), ctime(&a)), (at(20), at(30), at(30)));

    t.set_time(40);
    t.read(&node, 0, 10).unwrap();
    let a = t.fstat(&node);
    assert_eq!((atime(&a), mtime(&a), ctime(&a)), (at(20), at(30), at(30)));

    // Explicit times with nanoseconds, as `touch -d`.
    let exact = Timestamp {
        sec: 1_614_834_367,
        nsec: 123_456_789,
    };
    let set = set_attr(SetAttrMask::MTIME, |s| {
        s.mtime_sec = (exact.sec as u64).into();
        s.mtime_nsec = u64::from(exact.nsec).into();
    });
    let a = t.setattr("d/f", set).unwrap();
    assert_eq!((atime(&a), mtime(&a), ctime(&a)), (at(20), exact, at(40)));

    // Before the epoch.
    let set = set_attr(SetAttrMask::ATIME, |s| s.atime_sec = (-5i64 as u64).into());
    assert_eq!(t.setattr("d/f", set).unwrap().atime(), (-5, 0));
    let set = set_attr(SetAttrMask::MTIME, |s| s.mtime_nsec = 1_000_000_000.into());
    assert_eq!(t.setattr("d/f", set), Err(ErrorCode::INVAL));

    t.set_time(50);
    let set = set_attr(SetAttrMask::ATIME_NOW | SetAttrMask::MTIME_NOW, |_| {});
    let a = t.setattr("d/f", set).unwrap();
    assert_eq!((atime(&a), mtime(&a), ctime(&a)), (at(50), at(50), at(50)));

    // Nothing asked, nothing changed.
    t.set_time(55);
    assert_eq!(
        ctime(&t.setattr("d/f", SetAttr::default()).unwrap()),
        at(50)
    );

    t.set_time(60);
    t.link("d/f", "d/g").unwrap();
    let a = t.fstat(&node);
    assert_eq!((mtime(&a), ctime(&a)), (at(50), at(60)));
    assert_eq!(a.nlink.get(), 2);

    t.set_time(70);
    t.rename("d/g", "h").unwrap();
    assert_eq!(ctime(&t.fstat(&node)), at(70));
    let d = t.stat("d").unwrap();
    assert_eq!((mtime(&d), ctime(&d)), (at(70), at(70)));
    assert_eq!(mtime(&t.stat("/").unwrap()), at(70));

    t.set_time(80);
    t.unlink("h").unwrap();
    assert_eq!(ctime(&t.fstat(&node)), at(80));
    assert_eq!(mtime(&t.stat("/").unwrap()), at(80));

    t.set_time(90);
    let trunc = t.open("d/f", W | OpenFlags::TRUNC).unwrap();
    assert_eq!(mtime(&t.fstat(&trunc)), at(90));
    t.close(trunc);
    t.close(node);
    t.check();
}

#[test]
fn setattr_changes_mode_owner_and_size() {
    let mut t = Fs::new();
    t.put("f", b"0123456789");
    let set = set_attr(SetAttrMask::MODE, |s| s.mode = 0o100600.into());
    assert_eq!(t.setattr("f", set).unwrap().mode.get(), 0o100600);
    let set = set_attr(SetAttrMask::SIZE, |s| s.size = 4.into());
    assert_eq!(t.setattr("f", set).unwrap().size.get(), 4);
    assert_eq!(t.get("f").unwrap(), b"0123");

    // Chown: only root changes the owner; the owner may set its own group.
    let set = set_attr(SetAttrMask::UID, |s| s.uid = 0.into());
    assert_eq!(t.setattr("f", set), Err(ErrorCode::PERM));
    let set = set_attr(SetAttrMask::GID, |s| s.gid = 1000.into());
    assert!(t.setattr("f", set).is_ok());
    let set = set_attr(SetAttrMask::GID, |s| s.gid = 5.into());
    assert_eq!(t.setattr("f", set), Err(ErrorCode::PERM));
    t.as_user(0, 0);
    let set = set_attr(SetAttrMask::UID | SetAttrMask::GID, |s| {
        s.uid = 7.into();
        s.gid = 8.into();
    });
    let a = t.setattr("f", set).unwrap();
    assert_eq!((a.uid.get(), a.gid.get()), (7, 8));
    let set = set_attr(SetAttrMask::UID, |s| s.uid = u64::MAX.into());
    assert_eq!(t.setattr("f", set), Err(ErrorCode::INVAL));

    t.as_user(1000, 1000);
    let set = set_attr(SetAttrMask::MODE, |s| s.mode = 0o777.into());
    assert_eq!(t.setattr("f", set), Err(ErrorCode::PERM));
    let set = set_attr(SetAttrMask::MTIME, |_| {});
    assert_eq!(t.setattr("f", set), Err(ErrorCode::PERM));

    t.mkdir("d").unwrap();
    let set = set_attr(SetAttrMask::SIZE, |_| {});
    assert_eq!(t.setattr("d", set), Err(ErrorCode::ISDIR));
    t.symlink("d", "l").unwrap();
    let set = set_attr(SetAttrMask::MODE, |_| {});
    let r = t.fs.setattr(&t.cx, None, b"l", &set, NOFOLLOW);
    assert_eq!(r, Err(ErrorCode::NOTSUP));
    let set = set_attr(SetAttrMask(1 << 20), |_| {});
    assert_eq!(t.setattr("d", set), Err(ErrorCode::INVAL));
    t.check();
}

#[test]
fn truncate_through_a_writable_node_ignores_the_mode() {
    let mut t = Fs::new();
    let (node, _) = t.fs.open(&t.cx, None, b"ro", CREATE, 0o444).unwrap();
    t.write(&node, 0, b"abc").unwrap();
    let set = set_attr(SetAttrMask::SIZE, |s| s.size = 1.into());
    assert_eq!(t.setattr("ro", set), Err(ErrorCode::ACCES));
    let a = t.fs.setattr(&t.cx, Some(&node), b"", &set, FOLLOW).unwrap();
    assert_eq!(a.size.get(), 1);
    t.close(node);
}

#[test]
fn special_files_are_inert() {
    let mut t = Fs::new();
    let cx = t.cx;
    t.fs.mknod(&cx, None, b"fifo", 0o010644, 0).unwrap();
    t.fs.mknod(&cx, None, b"sock", 0o140600, 0).unwrap();
    t.fs.mknod(&cx, None, b"reg", 0o600, 0).unwrap();
    assert_eq!(
        t.fs.mknod(&cx, None, b"chr", 0o020600, 0x0103),
        Err(ErrorCode::PERM)
    );
    assert_eq!(
        t.fs.mknod(&cx, None, b"dir", 0o040755, 0),
        Err(ErrorCode::PERM)
    );
    assert_eq!(
        t.fs.mknod(&cx, None, b"lnk", 0o120777, 0),
        Err(ErrorCode::INVAL)
    );
    assert_eq!(
        t.fs.mknod(&cx, None, b"fifo", 0o010644, 0),
        Err(ErrorCode::EXIST)
    );
    assert_eq!(
        t.fs.mknod(&cx, None, b"x/", 0o010644, 0),
        Err(ErrorCode::NOENT)
    );
    t.as_user(0, 0);
    let cx = t.cx;
    t.fs.mknod(&cx, None, b"chr", 0o020600, 0x0103).unwrap();

    let a = t.stat("chr").unwrap();
    assert_eq!(
        (a.mode.get(), a.rdev.get(), a.size.get()),
        (0o020600, 0x0103, 0)
    );
    assert_eq!(file_type(&t.stat("fifo").unwrap()), FileType::FIFO);
    assert_eq!(file_type(&t.stat("sock").unwrap()), FileType::SOCKET);
    assert_eq!(t.stat("reg").unwrap().mode.get(), 0o100600);
    assert_eq!(t.open("fifo", R).err(), Some(ErrorCode::NXIO));
    let node = t.open("fifo", OpenFlags::PATH).unwrap();
    t.close(node);
    assert_eq!(t.list("/").unwrap().len(), 4);
    t.unlink("fifo").unwrap();
    t.check();
}

#[test]
fn inode_numbers_are_unique_and_stable() {
    let mut t = Fs::new();
    t.put("a", b"");
    t.mkdir("b").unwrap();
    let a = t.stat("a").unwrap().ino.get();
    let b = t.stat("b").unwrap().ino.get();
    let root = t.stat("").unwrap().ino.get();
    assert!(a != b && a != root && b != root);
    t.rename("a", "b/a").unwrap();
    assert_eq!(t.stat("b/a").unwrap().ino.get(), a);
    t.unlink("b/a").unwrap();
    t.put("c", b"");
    assert_ne!(t.stat("c").unwrap().ino.get(), a);
    let attr = t.stat("c").unwrap();
    assert_eq!(attr.dev.get(), super::super::inode::DEV);
}

#[test]
fn statfs_and_fsync() {
    let mut t = Fs::new();
    t.put("f", &[1; 10_000]);
    let fs = t.fs.statfs(&t.cx, None, b"f").unwrap();
    assert_eq!(fs.bsize.get(), 4096);
    assert_eq!(fs.namemax.get(), 255);
    assert_eq!(fs.blocks.get() - fs.bfree.get(), 3);
    assert_eq!(fs.files.get() - fs.ffree.get(), 2);
    assert_eq!(
        t.fs.statfs(&t.cx, None, b"nope").err(),
        Some(ErrorCode::NOENT)
    );
    let node = t.open("f", R).unwrap();
    assert_eq!(t.fs.fsync(&t.cx, &node, true), Ok(()));
    t.close(node);
    let node = t.open("/", R).unwrap();
    assert_eq!(t.fs.fsync(&t.cx, &node, false), Ok(()));
    t.close(node);
}

#[test]
fn readlink_rules() {
    let mut t = Fs::new();
    t.symlink("some/target", "l").unwrap();
    assert_eq!(t.readlink("l").unwrap(), b"some/target");
    let mut short = [0; 4];
    assert_eq!(t.fs.readlink(&t.cx, None, b"l", &mut short), Ok(4));
    assert_eq!(&short, b"some");
    t.put("f", b"");
    assert_eq!(t.readlink("f"), Err(ErrorCode::INVAL));
    assert_eq!(t.readlink("none"), Err(ErrorCode::NOENT));
    assert_eq!(t.symlink("", "empty"), Err(ErrorCode::NOENT));
    assert_eq!(t.symlink("x", "l"), Err(ErrorCode::EXIST));
    let a = t.lstat("l").unwrap();
    assert_eq!((a.mode.get(), a.size.get()), (0o120777, 11));
}
