//! Path resolution: slashes, dots, symbolic links, confinement and limits.

use alloc::format;
use alloc::string::String;

use super::*;

#[test]
fn slashes_and_dots() {
    let mut t = Fs::new();
    t.mkdir("a").unwrap();
    t.mkdir("a/b").unwrap();
    t.put("a/b/f", b"x");
    let ino = t.stat("a/b/f").unwrap().ino.get();
    for path in [
        "/a/b/f",
        "a//b///f",
        "./a/./b/f",
        "a/b/../b/f",
        "//a/b/f",
        "a/b/./../../a/b/f",
    ] {
        assert_eq!(t.stat(path).unwrap().ino.get(), ino, "{path}");
    }
    let root = t.stat("").unwrap().ino.get();
    for path in ["/", "//", ".", "a/..", "a/b/../.."] {
        assert_eq!(t.stat(path).unwrap().ino.get(), root, "{path}");
    }
    assert_eq!(file_type(&t.stat("a/b/").unwrap()), FileType::DIR);
    assert_eq!(t.stat("a/b/f/").err(), Some(ErrorCode::NOTDIR));
    assert_eq!(t.stat("a/b/f/.").err(), Some(ErrorCode::NOTDIR));
    assert_eq!(t.stat("a/b/f/x").err(), Some(ErrorCode::NOTDIR));
    assert_eq!(t.stat("a/nope/f").err(), Some(ErrorCode::NOENT));
    assert_eq!(t.stat("a/nope").err(), Some(ErrorCode::NOENT));
}

#[test]
fn paths_relative_to_an_open_base() {
    let mut t = Fs::new();
    t.mkdir("a").unwrap();
    t.mkdir("a/b").unwrap();
    t.put("a/b/f", b"x");
    t.put("top", b"t");
    let a = t.open("a", R | OpenFlags::DIRECTORY).unwrap();
    let f = t.open_at(&a, "b/f", R).unwrap();
    assert_eq!(t.read(&f, 0, 10).unwrap(), b"x");
    // A leading slash starts from the export root, whatever the base.
    let top = t.open_at(&a, "/top", R).unwrap();
    assert_eq!(t.read(&top, 0, 10).unwrap(), b"t");
    let up = t.open_at(&a, "../top", R).unwrap();
    assert_eq!(t.fstat(&up).ino.get(), t.fstat(&top).ino.get());
    assert_eq!(t.open_at(&a, "../..", R).err(), Some(ErrorCode::ESCAPE));
    // An empty path names the base itself, even a file.
    let attr = t.fs.stat(&t.cx, Some(&f), b"", FOLLOW).unwrap();
    assert_eq!(attr.size.get(), 1);
    assert_eq!(
        t.fs.stat(&t.cx, Some(&f), b"x", FOLLOW).err(),
        Some(ErrorCode::NOTDIR)
    );
    assert_eq!(
        t.fs.stat(&t.cx, Some(&f), b".", FOLLOW).err(),
        Some(ErrorCode::NOTDIR)
    );
    for node in [a, f, top, up] {
        t.close(node);
    }
}

#[test]
fn dotdot_above_the_root_escapes() {
    let mut t = Fs::new();
    t.mkdir("a").unwrap();
    for path in ["..", "/..", "../a", "a/../..", "a/../../a", "./.."] {
        assert_eq!(t.stat(path).err(), Some(ErrorCode::ESCAPE), "{path}");
    }
    assert_eq!(t.mkdir("../x"), Err(ErrorCode::ESCAPE));
    assert_eq!(t.open("../x", CREATE).err(), Some(ErrorCode::ESCAPE));
}

#[test]
fn symlinks_cannot_leave_the_export() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.mkdir("d/s").unwrap();
    t.put("d/f", b"in");
    t.symlink("/etc", "d/abs").unwrap();
    t.symlink("/d/f", "d/abs_inside").unwrap();
    t.symlink("../..", "d/s/up2").unwrap();
    t.symlink("../../..", "d/s/up3").unwrap();
    t.symlink("../f", "d/s/rel").unwrap();
    t.symlink("s", "d/ls").unwrap();

    assert_eq!(t.stat("d/abs").err(), Some(ErrorCode::ESCAPE));
    assert_eq!(t.stat("d/abs/passwd").err(), Some(ErrorCode::ESCAPE));
    assert_eq!(t.open("d/abs", CREATE).err(), Some(ErrorCode::ESCAPE));
    // Absolute targets fail even if they would land inside (as RESOLVE_BENEATH).
    assert_eq!(t.stat("d/abs_inside").err(), Some(ErrorCode::ESCAPE));
    // `../..` from d/s reaches the root: allowed; one more level is not.
    assert_eq!(
        t.stat("d/s/up2").unwrap().ino.get(),
        t.stat("/").unwrap().ino.get()
    );
    assert_eq!(t.stat("d/s/up3").err(), Some(ErrorCode::ESCAPE));
    assert_eq!(t.stat("d/s/up2/..").err(), Some(ErrorCode::ESCAPE));
    assert_eq!(t.get("d/s/rel").unwrap(), b"in");
    assert_eq!(t.get("d/ls/rel").unwrap(), b"in");
    assert_eq!(t.get("d/ls/../f").unwrap(), b"in");
    // The links themselves can be looked at.
    assert_eq!(file_type(&t.lstat("d/abs").unwrap()), FileType::SYMLINK);
    assert_eq!(t.readlink("d/abs").unwrap(), b"/etc");
}

#[test]
fn forty_links_resolve_and_forty_one_loop() {
    let mut t = Fs::new();
    t.put("target", b"end");
    t.symlink("target", "l0").unwrap();
    for i in 1..=40 {
        t.symlink(&format!("l{}", i - 1), &format!("l{i}")).unwrap();
    }
    // l39 is 40 links from the file, l40 is 41.
    assert_eq!(t.get("l39").unwrap(), b"end");
    assert_eq!(t.get("l40").err(), Some(ErrorCode::LOOP));
    assert_eq!(t.stat("l40").err(), Some(ErrorCode::LOOP));
    assert_eq!(file_type(&t.lstat("l40").unwrap()), FileType::SYMLINK);

    t.symlink("b", "a").unwrap();
    t.symlink("a", "b").unwrap();
    assert_eq!(t.stat("a").err(), Some(ErrorCode::LOOP));
    assert_eq!(t.stat("a/x").err(), Some(ErrorCode::LOOP));
    assert_eq!(t.open("a", CREATE).err(), Some(ErrorCode::LOOP));
    t.symlink("self/x", "self").unwrap();
    assert_eq!(t.stat("self").err(), Some(ErrorCode::LOOP));
}

#[test]
fn links_in_intermediate_components_count_towards_the_limit() {
    let mut t = Fs::new();
    t.mkdir("d").unwrap();
    t.put("d/f", b"x");
    t.symlink("d", "m0").unwrap();
    for i in 1..=40 {
        t.symlink(&format!("m{}", i - 1), &format!("m{i}")).unwrap();
    }
    assert_eq!(t.get("m39/f").unwrap(), b"x");
    assert_eq!(t.get("m40/f").err(), Some(ErrorCode::LOOP));
    // A trailing slash follows a final link.
    assert_eq!(file_type(&t.lstat("m0/").unwrap()), FileType::DIR);
    t.symlink("d/f", "lf").unwrap();
    assert_eq!(t.lstat("lf/").err(), Some(ErrorCode::NOTDIR));
}

#[test]
fn name_length_limits() {
    let mut t = Fs::new();
    let ok = "x".repeat(255);
    let long = "y".repeat(256);
    t.put(&ok, b"fits");
    assert_eq!(t.get(&ok).unwrap(), b"fits");
    t.mkdir("d").unwrap();
    let dir_ok = format!("d/{ok}");
    t.mkdir(&dir_ok).unwrap();
    t.rename(&ok, &format!("{dir_ok}/{ok}")).unwrap();
    assert_eq!(t.list("d").unwrap(), vec![ok.clone().into_bytes()]);

    let too: String = format!("d/{long}");
    assert_eq!(t.open(&long, CREATE).err(), Some(ErrorCode::NAMETOOLONG));
    assert_eq!(t.mkdir(&too), Err(ErrorCode::NAMETOOLONG));
    assert_eq!(t.stat(&too).err(), Some(ErrorCode::NAMETOOLONG));
    assert_eq!(
        t.stat(&format!("{long}/x")).err(),
        Some(ErrorCode::NAMETOOLONG)
    );
    assert_eq!(t.unlink(&too), Err(ErrorCode::NAMETOOLONG));
    assert_eq!(t.rename("d", &long), Err(ErrorCode::NAMETOOLONG));
    assert_eq!(t.rename(&too, "e"), Err(ErrorCode::NAMETOOLONG));
    assert_eq!(t.symlink("x", &long), Err(ErrorCode::NAMETOOLONG));
    t.check();
}
