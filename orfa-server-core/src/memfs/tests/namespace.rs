//! Directories, unlink, rename, link and readdir.

use alloc::collections::BTreeSet;
use alloc::format;

use super::*;

fn nlink(t: &mut Fs, path: &str) -> u64 {
    t.lstat(path).unwrap().nlink.get()
}

#[test]
fn directory_link_counts() {
    let mut t = Fs::new();
    assert_eq!(nlink(&mut t, "/"), 2);
    t.mkdir("a").unwrap();
    t.mkdir("a/b").unwrap();
    t.mkdir("a/c").unwrap();
    t.put("a/f", b"");
    assert_eq!(nlink(&mut t, "/"), 3);
    assert_eq!(nlink(&mut t, "a"), 4);
    assert_eq!(nlink(&mut t, "a/b"), 2);
    t.rename("a/b", "b").unwrap();
    assert_eq!((nlink(&mut t, "/"), nlink(&mut t, "a")), (4, 3));
    t.rmdir("a/c").unwrap();
    assert_eq!(nlink(&mut t, "a"), 2);
    assert_eq!(t.mkdir("a"), Err(ErrorCode::EXIST));
    assert_eq!(t.mkdir("a/f"), Err(ErrorCode::EXIST));
    assert_eq!(t.mkdir("."), Err(ErrorCode::EXIST));
    assert_eq!(t.mkdir("/"), Err(ErrorCode::EXIST));
    assert_eq!(t.mkdir(""), Err(ErrorCode::NOENT));
    t.mkdir("new/").unwrap();
    t.check();
}

#[test]
fn removal_rules() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.mkdir("d/s").unwrap();
    t.put("d/f", b"");
    t.symlink("d", "ld").unwrap();
    assert_eq!(t.rmdir("d"), Err(ErrorCode::NOTEMPTY));
    assert_eq!(t.unlink("d"), Err(ErrorCode::ISDIR));
    assert_eq!(t.unlink("d/"), Err(ErrorCode::ISDIR));
    assert_eq!(t.unlink("d/f/"), Err(ErrorCode::NOTDIR));
    assert_eq!(t.rmdir("d/f"), Err(ErrorCode::NOTDIR));
    assert_eq!(t.rmdir("ld"), Err(ErrorCode::NOTDIR));
    assert_eq!(t.rmdir("/"), Err(ErrorCode::BUSY));
    assert_eq!(t.unlink("/"), Err(ErrorCode::ISDIR));
    assert_eq!(t.rmdir("d/s/."), Err(ErrorCode::INVAL));
    assert_eq!(t.rmdir("d/s/.."), Err(ErrorCode::NOTEMPTY));
    assert_eq!(t.rmdir(""), Err(ErrorCode::NOENT));
    assert_eq!(t.unlink("nope"), Err(ErrorCode::NOENT));
    // Unlinking a link removes the link, not its target.
    t.unlink("ld").unwrap();
    assert!(t.stat("d").is_ok());
    t.unlink("d/f").unwrap();
    t.rmdir("d/s/").unwrap();
    t.rmdir("d").unwrap();
    assert_eq!(t.list("/").unwrap(), Vec::<Vec<u8>>::new());
    t.check();
}

#[test]
fn a_removed_directory_accepts_no_new_names() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    let d = t.open("d", R).unwrap();
    t.rmdir("d").unwrap();
    assert_eq!(t.fstat(&d).nlink.get(), 0);
    let r = t.fs.open(&t.cx, Some(&d), b"f", CREATE, 0o644);
    assert_eq!(r.err(), Some(ErrorCode::NOENT));
    assert_eq!(
        t.fs.mkdir(&t.cx, Some(&d), b"s", 0o755),
        Err(ErrorCode::NOENT)
    );
    assert_eq!(
        t.fs.stat(&t.cx, Some(&d), b"..", FOLLOW).err(),
        Some(ErrorCode::NOENT)
    );
    assert_eq!(t.list_node(&d, 512), Ok(vec![]));
    t.check();
    t.close(d);
    t.check();
}

#[test]
fn rename_rules() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.mkdir("e").unwrap();
    t.mkdir("full").unwrap();
    t.put("full/x", b"");
    t.put("f", b"f");
    t.put("g", b"g");

    assert_eq!(t.rename("d", "full"), Err(ErrorCode::NOTEMPTY));
    assert_eq!(t.rename("f", "d"), Err(ErrorCode::ISDIR));
    assert_eq!(t.rename("d", "f"), Err(ErrorCode::NOTDIR));
    assert_eq!(t.rename("d", "d/sub"), Err(ErrorCode::INVAL));
    t.mkdir("d/sub").unwrap();
    assert_eq!(t.rename("d", "d/sub/deeper"), Err(ErrorCode::INVAL));
    assert_eq!(t.rename("d/sub", "d"), Err(ErrorCode::NOTEMPTY));
    assert_eq!(t.rename("nope", "x"), Err(ErrorCode::NOENT));
    assert_eq!(t.rename("f", "nope/x"), Err(ErrorCode::NOENT));
    assert_eq!(t.rename("f/", "x"), Err(ErrorCode::NOTDIR));
    assert_eq!(t.rename("f", "x/"), Err(ErrorCode::NOTDIR));
    assert_eq!(t.rename(".", "x"), Err(ErrorCode::BUSY));
    assert_eq!(t.rename("f", "/"), Err(ErrorCode::BUSY));
    assert_eq!(t.rename("", "x"), Err(ErrorCode::NOENT));
    let both = PathFlags(PathFlags::NOREPLACE.0 | PathFlags::EXCHANGE.0);
    assert_eq!(t.rename_flags("f", "g", both), Err(ErrorCode::INVAL));
    assert_eq!(
        t.rename_flags("f", "g", PathFlags::REMOVEDIR),
        Err(ErrorCode::INVAL)
    );

    // Directory over an empty directory.
    t.rename("d", "e").unwrap();
    assert_eq!(t.stat("d").err(), Some(ErrorCode::NOENT));
    assert!(t.stat("e/sub").is_ok());
    t.mkdir("d2/").unwrap();
    t.rename("d2/", "d3/").unwrap();
    // File over file.
    t.rename("f", "g").unwrap();
    assert_eq!(t.get("g").unwrap(), b"f");
    // Onto itself, or onto another name of the same inode: nothing happens.
    t.rename("g", "g").unwrap();
    t.link("g", "g2").unwrap();
    t.rename("g", "g2").unwrap();
    assert_eq!(nlink(&mut t, "g"), 2);
    assert_eq!(
        t.rename_flags("g", "g2", PathFlags::NOREPLACE),
        Err(ErrorCode::EXIST)
    );
    t.check();
}

#[test]
fn rename_exchange_swaps() {
    let mut t = Fs::new();
    t.mkdir("a").unwrap();
    t.mkdir("b").unwrap();
    t.mkdir("a/dir").unwrap();
    t.put("a/dir/inside", b"");
    t.put("b/file", b"file");
    let x = PathFlags::EXCHANGE;
    assert_eq!(t.rename_flags("a/dir", "b/none", x), Err(ErrorCode::NOENT));
    assert_eq!(t.rename_flags("a", "a/dir", x), Err(ErrorCode::INVAL));
    assert_eq!(t.rename_flags("a/dir", "a", x), Err(ErrorCode::INVAL));
    t.rename_flags("a/dir", "b/file", x).unwrap();
    assert_eq!(t.get("a/dir").unwrap(), b"file");
    assert!(t.stat("b/file/inside").is_ok());
    assert_eq!((nlink(&mut t, "a"), nlink(&mut t, "b")), (2, 3));
    t.check();
    t.rename_flags("b/file", "a/dir", x).unwrap();
    assert_eq!((nlink(&mut t, "a"), nlink(&mut t, "b")), (3, 2));
    // `..` of a moved directory follows it.
    assert_eq!(
        t.stat("a/dir/..").unwrap().ino.get(),
        t.stat("a").unwrap().ino.get()
    );
    t.check();
}

#[test]
fn noreplace_refuses_an_existing_target() {
    let mut t = Fs::new();
    t.put("a", b"a");
    t.put("b", b"b");
    assert_eq!(
        t.rename_flags("a", "b", PathFlags::NOREPLACE),
        Err(ErrorCode::EXIST)
    );
    t.rename_flags("a", "c", PathFlags::NOREPLACE).unwrap();
    assert_eq!(t.get("c").unwrap(), b"a");
}

#[test]
fn hard_links() {
    let mut t = Fs::new();
    t.put("f", b"x");
    t.mkdir("d").unwrap();
    t.link("f", "d/f2").unwrap();
    assert_eq!(nlink(&mut t, "f"), 2);
    assert_eq!(
        t.stat("f").unwrap().ino.get(),
        t.stat("d/f2").unwrap().ino.get()
    );
    assert_eq!(t.link("d", "d2"), Err(ErrorCode::PERM));
    assert_eq!(t.link("f", "d/f2"), Err(ErrorCode::EXIST));
    assert_eq!(t.link("nope", "x"), Err(ErrorCode::NOENT));
    assert_eq!(t.link("f", "x/"), Err(ErrorCode::NOENT));
    assert_eq!(t.link("f", "."), Err(ErrorCode::EXIST));
    // The link follows a final symbolic link unless told not to.
    t.symlink("f", "l").unwrap();
    t.link("l", "hard").unwrap();
    assert_eq!(file_type(&t.lstat("hard").unwrap()), FileType::REGULAR);
    let (from, to) = (b"l".as_slice(), b"hard_l".as_slice());
    t.fs.link(&t.cx, None, from, None, to, NOFOLLOW).unwrap();
    assert_eq!(file_type(&t.lstat("hard_l").unwrap()), FileType::SYMLINK);
    t.unlink("f").unwrap();
    assert_eq!(t.get("d/f2").unwrap(), b"x");
    assert_eq!(nlink(&mut t, "hard"), 2);

    // Linking an open, unlinked file brings nothing back.
    let node = t.open("hard", R).unwrap();
    t.unlink("hard").unwrap();
    t.unlink("d/f2").unwrap();
    let r = t.fs.link(&t.cx, Some(&node), b"", None, b"back", FOLLOW);
    assert_eq!(r, Err(ErrorCode::NOENT));
    t.close(node);
    t.check();
}

#[test]
fn readdir_lists_every_entry_once_without_dots() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    for i in 0..300 {
        t.put(&format!("d/file-with-a-longer-name-{i:04}"), b"");
    }
    t.mkdir("d/sub").unwrap();
    t.symlink("x", "d/link").unwrap();
    let node = t.open("d", R).unwrap();
    // Small batches: many calls, each resuming from a cookie.
    let names = t.list_node(&node, 200).unwrap();
    assert_eq!(names.len(), 302);
    let set: BTreeSet<_> = names.iter().cloned().collect();
    assert_eq!(set.len(), 302);
    assert!(!set.contains(b".".as_slice()) && !set.contains(b"..".as_slice()));

    // Entry types and inode numbers.
    let mut buf = vec![0; 8192];
    let mut out = DirEntryWriter::new(&mut buf);
    assert_eq!(t.fs.readdir(&t.cx, &node, 300, &mut out), Ok(true));
    let len = out.len();
    let entries: Vec<_> = DirEntryIter::new(&buf[..len]).map(Result::unwrap).collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0].name, entries[0].file_type),
        (&b"sub"[..], FileType::DIR)
    );
    assert_eq!(entries[0].ino, t.stat("d/sub").unwrap().ino.get());
    assert_eq!(
        (entries[1].name, entries[1].file_type),
        (&b"link"[..], FileType::SYMLINK)
    );
    // Cookies past the end, and a buffer too small for anything.
    let mut out = DirEntryWriter::new(&mut buf);
    assert_eq!(t.fs.readdir(&t.cx, &node, u64::MAX, &mut out), Ok(true));
    let mut tiny = [0; 16];
    let mut out = DirEntryWriter::new(&mut tiny);
    assert_eq!(t.fs.readdir(&t.cx, &node, 0, &mut out), Ok(false));
    assert!(out.is_empty());
    t.close(node);
}

#[test]
fn readdir_while_deleting_visits_each_name_once() {
    let mut t = Fs::new();
    t.mkdir("big").unwrap();
    for i in 1..=20_000 {
        let node = t.open(&format!("big/f{i:05}"), CREATE).unwrap();
        t.close(node);
    }
    let dir = t.open("big", R).unwrap();
    let mut seen = BTreeSet::new();
    let mut added = BTreeSet::new();
    let mut cookie = 0;
    let mut buf = vec![0; 4096];
    loop {
        let mut out = DirEntryWriter::new(&mut buf);
        let done = t.fs.readdir(&t.cx, &dir, cookie, &mut out).unwrap();
        let len = out.len();
        let batch: Vec<_> = DirEntryIter::new(&buf[..len])
            .map(|e| e.map(|e| (e.name.to_vec(), e.cookie)).unwrap())
            .collect();
        for (name, next) in batch {
            assert!(seen.insert(name.clone()), "listed twice: {name:?}");
            let path = format!("big/{}", core::str::from_utf8(&name).unwrap());
            t.unlink(&path).unwrap();
            // Add a name behind the cursor now and then: it must not disturb the walk.
            if seen.len() % 1000 == 0 {
                let late = format!("late{}", seen.len());
                t.put(&format!("big/{late}"), b"");
                added.insert(late.into_bytes());
            }
            cookie = next;
        }
        if done {
            break;
        }
    }
    let late = seen.iter().filter(|n| n.starts_with(b"late")).count();
    assert_eq!(seen.len() - late, 20_000);
    assert!(late >= 19);
    // Only a name added after the listing ended can remain.
    let left: BTreeSet<_> = t.list("big").unwrap().into_iter().collect();
    let unseen: BTreeSet<_> = added.difference(&seen).cloned().collect();
    assert_eq!(left, unseen);
    for name in left {
        t.unlink(&format!("big/{}", core::str::from_utf8(&name).unwrap()))
            .unwrap();
    }
    t.close(dir);
    t.rmdir("big").unwrap();
    t.check();
}

#[test]
fn readdir_with_attributes_gives_each_entry_its_stat() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.put("d/file", b"12345");
    t.mkdir("d/sub").unwrap();
    t.symlink("file", "d/link").unwrap();
    let dir = t.open("d", R).unwrap();
    let mut buf = vec![0; 4096];
    let mut out = DirEntryWriter::with_attrs(&mut buf);
    assert_eq!(t.fs.readdir(&t.cx, &dir, 0, &mut out), Ok(true));
    let len = out.len();
    let mut seen = 0;
    for entry in DirEntryIter::with_attrs(&buf[..len]) {
        let entry = entry.unwrap();
        let name = core::str::from_utf8(entry.name).unwrap();
        let expected = t.lstat(&alloc::format!("d/{name}")).unwrap();
        assert_eq!(entry.attr.as_ref(), Some(&expected), "{name}");
        assert_eq!(entry.ino, expected.ino.get());
        seen += 1;
    }
    assert_eq!(seen, 3);
    t.close(dir);
}
