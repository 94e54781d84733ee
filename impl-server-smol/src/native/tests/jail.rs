//! The jail: no path or symbolic link reaches outside the export.

use std::fs;

use orfa_server_core::Backend;
use orfa_wire::{AccessMode, ErrorCode, OpenFlags, PathFlags, SetAttr, SetAttrMask};

use super::{Fixture, RW_CREATE};

/// Paths that leave the export: `..`, and each kind of escaping symbolic link.
const ESCAPING: &[&str] = &[
    "../outside/secret",
    "/../outside/secret",
    "sub/../../outside/secret",
    "sub/deep/../../../outside/secret",
    "abs/secret",
    "rel/secret",
    "up/outside/secret",
    "sub/deep/secret",
    "etc/passwd",
    "etc",
    "up",
    "..",
];

#[test]
fn reads_and_stats_through_escapes_are_refused() {
    let mut f = Fixture::new();
    let cx = f.cx;
    for path in ESCAPING {
        let p = path.as_bytes();
        assert_eq!(
            f.open(None, path, OpenFlags::READ).err(),
            Some(ErrorCode::ESCAPE),
            "open {path}"
        );
        assert_eq!(
            f.stat(None, path).err(),
            Some(ErrorCode::ESCAPE),
            "stat {path}"
        );
        assert_eq!(
            f.fs.access(&cx, None, p, AccessMode::NONE, PathFlags::NONE),
            Err(ErrorCode::ESCAPE),
            "access {path}"
        );
        assert_eq!(
            f.fs.statfs(&cx, None, p).err(),
            Some(ErrorCode::ESCAPE),
            "statfs {path}"
        );
        let path_only = OpenFlags::PATH;
        assert_eq!(
            f.open(None, path, path_only).err(),
            Some(ErrorCode::ESCAPE),
            "O_PATH {path}"
        );
    }
}

#[test]
fn links_themselves_stay_visible() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let mut buf = [0u8; 64];
    let n =
        f.fs.readlink(&cx, None, b"etc", &mut buf)
            .expect("readlink");
    assert_eq!(&buf[..n], b"/etc");
    f.fs.stat(&cx, None, b"etc", PathFlags::NOFOLLOW)
        .expect("lstat of an escaping link");
    // A hard link to an escaping link itself (NOFOLLOW) is one more such link.
    f.fs.link(&cx, None, b"etc", None, b"etc2", PathFlags::NOFOLLOW)
        .expect("link the link");
    let meta = fs::symlink_metadata(f.export().join("etc2")).expect("lstat");
    assert!(meta.file_type().is_symlink());
    assert_eq!(f.stat(None, "etc2").err(), Some(ErrorCode::ESCAPE));
    f.fs.unlink(&cx, None, b"up", PathFlags::NONE)
        .expect("remove an escaping link");
    assert!(fs::symlink_metadata(f.export().join("up")).is_err());
}

#[test]
fn writes_and_creations_through_escapes_touch_nothing_outside() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let before = f.outside_snapshot();
    let trunc = SetAttr {
        valid: SetAttrMask::SIZE.0.into(),
        ..SetAttr::default()
    };
    let chmod = SetAttr {
        valid: SetAttrMask::MODE.0.into(),
        mode: 0o777.into(),
        ..SetAttr::default()
    };
    let touch = SetAttr {
        valid: SetAttrMask::MTIME_NOW.0.into(),
        ..SetAttr::default()
    };

    let through_links = [
        "abs/secret",
        "rel/secret",
        "sub/deep/secret",
        "up/outside/secret",
    ];
    for path in through_links
        .into_iter()
        .chain(["../outside/secret", "sub/deep/secret/"])
    {
        let p = path.as_bytes();
        let write_trunc = OpenFlags::WRITE | OpenFlags::TRUNC;
        assert_eq!(
            f.open(None, path, write_trunc).err(),
            Some(ErrorCode::ESCAPE),
            "{path}"
        );
        for change in [&trunc, &chmod, &touch] {
            assert_eq!(
                f.fs.setattr(&cx, None, p, change, PathFlags::NONE).err(),
                Some(ErrorCode::ESCAPE),
                "setattr {path}"
            );
        }
        assert_eq!(
            f.fs.link(&cx, None, p, None, b"hardlinked", PathFlags::NONE),
            Err(ErrorCode::ESCAPE),
            "link from {path}"
        );
    }
    // Removing or renaming needs only the parent: these parents leave the export.
    for path in [
        "abs/secret",
        "rel/secret",
        "up/outside/secret",
        "../outside/secret",
    ] {
        let p = path.as_bytes();
        assert_eq!(
            f.fs.unlink(&cx, None, p, PathFlags::NONE),
            Err(ErrorCode::ESCAPE),
            "unlink {path}"
        );
        assert_eq!(
            f.fs.rename(&cx, None, p, None, b"stolen", PathFlags::NONE),
            Err(ErrorCode::ESCAPE),
            "rename from {path}"
        );
    }

    // Creating anything under an escaping directory link, or through a
    // dangling link to an outside name.
    fs::write(f.export().join("mine"), b"m").expect("seed");
    for dir in ["abs", "rel", "up/outside", "..", "../outside"] {
        let new = format!("{dir}/created");
        let p = new.as_bytes();
        assert_eq!(
            f.open(None, &new, RW_CREATE).err(),
            Some(ErrorCode::ESCAPE),
            "create {new}"
        );
        assert_eq!(
            f.fs.mkdir(&cx, None, p, 0o777),
            Err(ErrorCode::ESCAPE),
            "mkdir {new}"
        );
        assert_eq!(
            f.fs.mknod(&cx, None, p, libc::S_IFREG | 0o644, 0),
            Err(ErrorCode::ESCAPE)
        );
        assert_eq!(
            f.fs.symlink(&cx, b"/etc/passwd", None, p),
            Err(ErrorCode::ESCAPE),
            "symlink {new}"
        );
        assert_eq!(
            f.fs.rename(&cx, None, b"mine", None, p, PathFlags::NONE),
            Err(ErrorCode::ESCAPE),
            "rename to {new}"
        );
        assert_eq!(
            f.fs.link(&cx, None, b"mine", None, p, PathFlags::NONE),
            Err(ErrorCode::ESCAPE),
            "link to {new}"
        );
    }
    assert_eq!(
        f.open(None, "dangling", RW_CREATE).err(),
        Some(ErrorCode::ESCAPE)
    );

    // A link whose target is outside is itself inside: removing it removes
    // only the link.
    f.fs.unlink(&cx, None, b"sub/deep/secret", PathFlags::NONE)
        .expect("unlink the link");
    assert!(fs::symlink_metadata(f.export().join("sub/deep/secret")).is_err());

    assert_eq!(
        f.outside_snapshot(),
        before,
        "something outside the export changed"
    );
    assert_eq!(fs::read(f.export().join("mine")).expect("still here"), b"m");
    assert!(!f.tmp.path().join("created").exists());
}

#[test]
fn base_handles_cannot_climb_out() {
    let mut f = Fixture::new();
    let cx = f.cx;
    let before = f.outside_snapshot();
    let deep = f
        .open(None, "sub/deep", OpenFlags::READ | OpenFlags::DIRECTORY)
        .expect("open");
    for path in [
        "../../../outside/secret",
        "../../..",
        "secret",
        "../../rel/secret",
    ] {
        assert_eq!(
            f.stat(Some(&deep), path).err(),
            Some(ErrorCode::ESCAPE),
            "stat {path}"
        );
        assert_eq!(
            f.open(Some(&deep), path, OpenFlags::READ).err(),
            Some(ErrorCode::ESCAPE)
        );
    }
    let created = "../../../outside/new";
    assert_eq!(
        f.open(Some(&deep), created, RW_CREATE).err(),
        Some(ErrorCode::ESCAPE)
    );
    assert_eq!(
        f.fs.mkdir(&cx, Some(&deep), created.as_bytes(), 0o700),
        Err(ErrorCode::ESCAPE)
    );

    // A handle on a directory that was moved out of the export (by someone
    // on the server host) gives nothing above it.
    let moved = f.open(None, "sub", OpenFlags::READ).expect("open sub");
    fs::rename(f.export().join("sub"), f.outside().join("sub")).expect("move out");
    assert_eq!(
        f.stat(Some(&moved), "../secret").err(),
        Some(ErrorCode::ESCAPE)
    );
    fs::rename(f.outside().join("sub"), f.export().join("sub")).expect("move back");

    f.close(moved);
    f.close(deep);
    assert_eq!(f.outside_snapshot(), before);
}

#[test]
fn directory_handles_through_escapes_are_refused() {
    let mut f = Fixture::new();
    for dir in ["etc", "abs", "rel", "up", "..", "/.."] {
        let flags = OpenFlags::READ | OpenFlags::DIRECTORY;
        assert_eq!(
            f.open(None, dir, flags).err(),
            Some(ErrorCode::ESCAPE),
            "opendir {dir}"
        );
    }
    // The root itself opens and lists only what is inside.
    let root = f
        .open(None, "/", OpenFlags::READ | OpenFlags::DIRECTORY)
        .expect("open root");
    let names: Vec<_> = f.list(&root, 4096).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&b"sub".to_vec()) && !names.contains(&b"secret".to_vec()));
    f.close(root);
}
