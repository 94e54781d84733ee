//! Calls made as the caller when the server runs as root.
//!
//! These tests need root (they check what other users may do); run as
//! anyone else they check only that the server then acts as itself.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};

use orfa_server_core::{Backend, Context};
use orfa_wire::{AccessMode, ErrorCode, OpenFlags, PathFlags, SetAttr, SetAttrMask};

use super::super::{identity, sys};
use super::{Fixture, RW_CREATE};

const NOBODY: u32 = 65534;

/// A context for `uid`/`gid` with supplementary `groups`.
fn caller(uid: u32, gid: u32, groups: &'static [u32]) -> Context<'static> {
    Context {
        uid,
        gid,
        groups,
        ..Context::default()
    }
}

/// A fixture whose export holds `secret` (0600, owned by 1000:1000,
/// holding "mine"). Acting as clients needs root: the tests fail loudly
/// without it rather than pass without checking anything.
fn root_fixture() -> Option<Fixture> {
    assert!(
        identity::server_is_root(),
        "the identity tests must run as root (as .ci/run does): a server acts \
         as its clients only when it runs as root"
    );
    let f = Fixture::new();
    let secret = f.export().join("secret");
    fs::write(&secret, b"mine").expect("seed");
    chown(&secret, Some(1000), Some(1000)).expect("chown");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).expect("chmod");
    Some(f)
}

#[test]
fn others_are_refused_and_the_owner_reads() {
    let Some(mut f) = root_fixture() else {
        return;
    };
    f.cx = caller(NOBODY, NOBODY, &[]);
    assert_eq!(
        f.open(None, "secret", OpenFlags::READ).err(),
        Some(ErrorCode::ACCES)
    );
    let cx = f.cx;
    assert_eq!(
        f.fs.access(&cx, None, b"secret", AccessMode::READ, PathFlags::NONE),
        Err(ErrorCode::ACCES)
    );
    // A root caller after them acts as root again.
    f.cx = Context::default();
    let node = f.open(None, "secret", OpenFlags::READ).expect("root opens");
    f.close(node);

    f.cx = caller(1000, 1000, &[]);
    let node = f
        .open(None, "secret", OpenFlags::READ)
        .expect("owner opens");
    let cx = f.cx;
    let mut buf = [0u8; 8];
    assert_eq!(f.fs.read(&cx, &node, 0, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"mine");
    f.close(node);
    assert_eq!(
        f.fs.access(&cx, None, b"secret", AccessMode::WRITE, PathFlags::NONE),
        Ok(())
    );
    assert_eq!(sys::creds::fsuid(), 1000);
    f.cx = Context::default();
    let cx = f.cx;
    f.fs.mkdir(&cx, None, b"root-dir", 0o700)
        .expect("mkdir as root");
    assert_eq!(sys::creds::fsuid(), 0);
    let meta = fs::metadata(f.export().join("root-dir")).expect("meta");
    assert_eq!((meta.uid(), meta.gid()), (0, 0));
}

#[test]
fn new_files_belong_to_the_caller() {
    let Some(mut f) = root_fixture() else {
        return;
    };
    f.cx = caller(1000, 1000, &[]);
    let cx = f.cx;
    let (node, attr) =
        f.fs.open(&cx, None, b"new", RW_CREATE, 0o640)
            .expect("create");
    assert_eq!((attr.uid.get(), attr.gid.get()), (1000, 1000));
    f.close(node);
    f.fs.mkdir(&cx, None, b"dir", 0o750).expect("mkdir");
    let cx = f.cx;
    f.fs.symlink(&cx, b"new", None, b"link").expect("symlink");
    for (name, mode) in [("new", 0o640), ("dir", 0o750)] {
        let meta = fs::symlink_metadata(f.export().join(name)).expect("meta");
        assert_eq!((meta.uid(), meta.gid()), (1000, 1000), "{name}");
        assert_eq!(meta.mode() & 0o7777, mode, "{name}");
    }
    let meta = fs::symlink_metadata(f.export().join("link")).expect("meta");
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
}

#[test]
fn supplementary_groups_count() {
    let Some(mut f) = root_fixture() else {
        return;
    };
    let shared = f.export().join("shared");
    fs::write(&shared, b"team").expect("seed");
    chown(&shared, Some(0), Some(2000)).expect("chown");
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o640)).expect("chmod");

    f.cx = caller(3000, 3000, &[]);
    assert_eq!(
        f.open(None, "shared", OpenFlags::READ).err(),
        Some(ErrorCode::ACCES)
    );
    f.cx = caller(3000, 3000, &[10, 2000]);
    let node = f
        .open(None, "shared", OpenFlags::READ)
        .expect("group member opens");
    f.close(node);
    // The same thread, with other groups again, is refused again.
    f.cx = caller(3000, 3000, &[10]);
    assert_eq!(
        f.open(None, "shared", OpenFlags::READ).err(),
        Some(ErrorCode::ACCES)
    );
}

#[test]
fn privileges_do_not_leak_to_callers() {
    let Some(mut f) = root_fixture() else {
        return;
    };
    f.cx = caller(1000, 1000, &[]);
    let cx = f.cx;
    // No chown to root, no device nodes, no setuid kept across a write.
    let give = SetAttr {
        valid: SetAttrMask::UID.0.into(),
        uid: 0.into(),
        ..SetAttr::default()
    };
    assert_eq!(
        f.fs.setattr(&cx, None, b"secret", &give, PathFlags::NONE)
            .err(),
        Some(ErrorCode::PERM)
    );
    assert_eq!(
        f.fs.mknod(&cx, None, b"dev", 0o020600, libc::makedev(1, 3)),
        Err(ErrorCode::PERM)
    );
    let secret = f.export().join("secret");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o4755)).expect("chmod");
    let node = f.open(None, "secret", OpenFlags::WRITE).expect("open");
    assert_eq!(f.fs.write(&cx, &node, 0, b"M", false), Ok((1, 1)));
    f.close(node);
    assert_eq!(fs::metadata(&secret).expect("meta").mode() & 0o7777, 0o755);

    // Privileged attribute namespaces stay the superuser's.
    let name = b"trusted.t";
    f.cx = Context::default();
    let root = f.cx;
    f.fs.setxattr(&root, None, b"secret", name, b"v", PathFlags::NONE)
        .expect("root sets trusted");
    let mut buf = [0u8; 16];
    assert_eq!(
        f.fs.getxattr(&cx, None, b"secret", name, &mut buf, PathFlags::NONE),
        Err(ErrorCode::NODATA)
    );
    assert_eq!(
        f.fs.setxattr(&cx, None, b"secret", name, b"w", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    assert_eq!(
        f.fs.removexattr(&cx, None, b"secret", name, PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    assert_eq!(
        f.fs.setxattr(
            &cx,
            None,
            b"secret",
            b"security.capability",
            b"",
            PathFlags::NONE
        ),
        Err(ErrorCode::PERM)
    );
    let mut list = [0u8; 256];
    assert_eq!(
        f.fs.listxattr(&cx, None, b"secret", &mut list, PathFlags::NONE),
        Ok(0)
    );
    assert_eq!(
        f.fs.listxattr(&root, None, b"secret", &mut list, PathFlags::NONE),
        Ok(name.len() + 1)
    );
    assert_eq!(
        f.fs.setxattr(&cx, None, b"secret", b"user.u", b"ok", PathFlags::NONE),
        Ok(())
    );
}

#[test]
fn handles_and_listings_act_as_the_caller() {
    let Some(mut f) = root_fixture() else {
        return;
    };
    let closed = f.export().join("closed");
    fs::create_dir(&closed).expect("mkdir");
    fs::write(closed.join("inside"), b"").expect("seed");
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o744)).expect("chmod");

    // A base handle's lookups climb through /proc as the caller, too.
    f.cx = caller(1000, 1000, &[]);
    let sub = f.open(None, "sub/deep", OpenFlags::PATH).expect("open");
    let cx = f.cx;
    let attr = f.fs.stat(&cx, Some(&sub), b"../../secret", PathFlags::NONE);
    assert_eq!(attr.map(|a| a.uid.get()), Ok(1000));
    f.close(sub);

    // Listable but not searchable: entries come without attributes.
    f.cx = caller(NOBODY, NOBODY, &[]);
    let dir = f.open(None, "closed", OpenFlags::READ).expect("opendir");
    let entries = f.list_plus(&dir, 4096);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].1.mask.get(), 0);
    f.close(dir);
    f.cx = Context::default();
    let dir = f.open(None, "closed", OpenFlags::READ).expect("opendir");
    assert_ne!(f.list_plus(&dir, 4096)[0].1.mask.get(), 0);
    f.close(dir);
}
