//! Extended attributes: values, lists, flags, namespaces and permissions.

use alloc::format;

use super::*;

const CREATE_ONLY: PathFlags = PathFlags::XATTR_CREATE;
const REPLACE_ONLY: PathFlags = PathFlags::XATTR_REPLACE;

impl Fs {
    fn setx(
        &mut self,
        path: &str,
        name: &str,
        value: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let (path, name) = (path.as_bytes(), name.as_bytes());
        self.fs.setxattr(&self.cx, None, path, name, value, flags)
    }

    /// The value of `name`, read with a buffer of `len` bytes (0: length only).
    fn getx_len(
        &mut self,
        path: &str,
        name: &str,
        len: usize,
        flags: PathFlags,
    ) -> BackendResult<Vec<u8>> {
        let mut buf = vec![0; len];
        let n = self.fs.getxattr(
            &self.cx,
            None,
            path.as_bytes(),
            name.as_bytes(),
            &mut buf,
            flags,
        )?;
        buf.truncate(n.min(len));
        if len == 0 {
            buf.resize(n, 0);
        }
        Ok(buf)
    }

    fn getx(&mut self, path: &str, name: &str) -> BackendResult<Vec<u8>> {
        self.getx_len(path, name, 65536, FOLLOW)
    }

    fn listx(&mut self, path: &str, flags: PathFlags) -> BackendResult<Vec<Vec<u8>>> {
        let mut buf = vec![0; 65536];
        let n = self
            .fs
            .listxattr(&self.cx, None, path.as_bytes(), &mut buf, flags)?;
        let list = &buf[..n];
        assert!(
            list.is_empty() || list.ends_with(&[0]),
            "names end with NUL"
        );
        Ok(list
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(<[u8]>::to_vec)
            .collect())
    }

    fn removex(&mut self, path: &str, name: &str, flags: PathFlags) -> BackendResult<()> {
        let (path, name) = (path.as_bytes(), name.as_bytes());
        self.fs.removexattr(&self.cx, None, path, name, flags)
    }
}

#[test]
fn set_get_list_remove() {
    let mut t = Fs::new();
    t.put("f", b"");
    assert_eq!(t.listx("f", FOLLOW).unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(t.getx("f", "user.a"), Err(ErrorCode::NODATA));
    t.set_time(5);
    assert_eq!(t.setx("f", "user.a", b"one", PathFlags::NONE), Ok(()));
    assert_eq!(ctime(&t.stat("f").unwrap()), at(5));
    assert_eq!(t.setx("f", "user.b", b"", PathFlags::NONE), Ok(()));
    assert_eq!(t.getx("f", "user.a").unwrap(), b"one");
    assert_eq!(t.getx("f", "user.b").unwrap(), b"");
    assert_eq!(
        t.listx("f", FOLLOW).unwrap(),
        [b"user.a".to_vec(), b"user.b".to_vec()]
    );
    assert_eq!(t.setx("f", "user.a", b"longer", PathFlags::NONE), Ok(()));
    assert_eq!(t.getx("f", "user.a").unwrap(), b"longer");
    t.set_time(6);
    assert_eq!(t.removex("f", "user.a", FOLLOW), Ok(()));
    assert_eq!(ctime(&t.stat("f").unwrap()), at(6));
    assert_eq!(t.removex("f", "user.a", FOLLOW), Err(ErrorCode::NODATA));
    assert_eq!(t.getx("f", "user.a"), Err(ErrorCode::NODATA));
    assert_eq!(t.listx("f", FOLLOW).unwrap(), [b"user.b".to_vec()]);
    // Directories carry attributes too.
    t.mkdir("d").unwrap();
    assert_eq!(t.setx("d", "user.x", b"1", PathFlags::NONE), Ok(()));
    assert_eq!(t.getx("d/", "user.x").unwrap(), b"1");
    t.check();
}

#[test]
fn buffer_rules_follow_getxattr() {
    let mut t = Fs::new();
    t.put("f", b"");
    t.setx("f", "user.v", b"12345", PathFlags::NONE).unwrap();
    // An empty buffer asks for the length.
    assert_eq!(t.getx_len("f", "user.v", 0, FOLLOW).unwrap().len(), 5);
    assert_eq!(t.getx_len("f", "user.v", 4, FOLLOW), Err(ErrorCode::RANGE));
    assert_eq!(t.getx_len("f", "user.v", 5, FOLLOW).unwrap(), b"12345");
    let mut small = [0u8; 3];
    let list = t.fs.listxattr(&t.cx, None, b"f", &mut small, FOLLOW);
    assert_eq!(list, Err(ErrorCode::RANGE));
    assert_eq!(t.fs.listxattr(&t.cx, None, b"f", &mut [], FOLLOW), Ok(7));
}

#[test]
fn create_and_replace_flags() {
    let mut t = Fs::new();
    t.put("f", b"");
    assert_eq!(
        t.setx("f", "user.a", b"1", REPLACE_ONLY),
        Err(ErrorCode::NODATA)
    );
    assert_eq!(t.setx("f", "user.a", b"1", CREATE_ONLY), Ok(()));
    assert_eq!(
        t.setx("f", "user.a", b"2", CREATE_ONLY),
        Err(ErrorCode::EXIST)
    );
    assert_eq!(t.setx("f", "user.a", b"3", REPLACE_ONLY), Ok(()));
    assert_eq!(t.getx("f", "user.a").unwrap(), b"3");
    let both = CREATE_ONLY | REPLACE_ONLY;
    assert_eq!(t.setx("f", "user.a", b"4", both), Err(ErrorCode::EXIST));
    assert_eq!(t.setx("f", "user.b", b"4", both), Err(ErrorCode::NODATA));
}

#[test]
fn names_and_sizes_are_checked() {
    let mut t = Fs::new();
    t.put("f", b"");
    assert_eq!(
        t.setx("f", "other.a", b"", PathFlags::NONE),
        Err(ErrorCode::NOTSUP)
    );
    assert_eq!(
        t.setx("f", "a", b"", PathFlags::NONE),
        Err(ErrorCode::NOTSUP)
    );
    assert_eq!(t.getx("f", "nonsense"), Err(ErrorCode::NOTSUP));
    assert_eq!(
        t.setx("f", "user.", b"", PathFlags::NONE),
        Err(ErrorCode::INVAL)
    );
    assert_eq!(t.setx("f", "", b"", PathFlags::NONE), Err(ErrorCode::RANGE));
    let long = format!("user.{}", "n".repeat(251));
    assert_eq!(
        t.setx("f", &long, b"", PathFlags::NONE),
        Err(ErrorCode::RANGE)
    );
    let longest = format!("user.{}", "n".repeat(250));
    assert_eq!(t.setx("f", &longest, b"", PathFlags::NONE), Ok(()));
    let too_big = vec![0u8; 65537];
    assert_eq!(
        t.setx("f", "user.big", &too_big, PathFlags::NONE),
        Err(ErrorCode(7))
    );
    assert_eq!(t.getx("missing", "user.a"), Err(ErrorCode::NOENT));
}

#[test]
fn space_is_bounded_per_inode_and_counted() {
    let mut t = Fs::new();
    t.put("f", b"");
    let free = t.fs.fs_attr().bfree.get();
    let value = vec![7u8; 60_000];
    assert_eq!(t.setx("f", "user.one", &value, PathFlags::NONE), Ok(()));
    assert_eq!(t.fs.fs_attr().bfree.get(), free - 15);
    assert_eq!(
        t.setx("f", "user.two", &value, PathFlags::NONE),
        Err(ErrorCode::NOSPC)
    );
    assert_eq!(t.setx("f", "user.two", &[1; 5000], PathFlags::NONE), Ok(()));
    // Replacing a value counts the old one as gone.
    assert_eq!(
        t.setx("f", "user.one", &[0; 60_000], PathFlags::NONE),
        Ok(())
    );
    t.check();
    t.unlink("f").unwrap();
    assert_eq!(t.fs.fs_attr().bfree.get(), free);
    t.check();

    t.put("g", b"");
    t.fs.set_limits(4096, 100);
    assert_eq!(
        t.setx("g", "user.a", &[1; 5000], PathFlags::NONE),
        Err(ErrorCode::NOSPC)
    );
    t.check();
}

#[test]
fn user_attributes_on_links_and_specials_are_refused() {
    let mut t = Fs::new();
    t.put("target", b"");
    t.symlink("target", "link").unwrap();
    t.fs.mknod(&t.cx, None, b"fifo", 0o010644, 0).unwrap();
    // Through the link, the target's attributes.
    assert_eq!(t.setx("link", "user.a", b"via", PathFlags::NONE), Ok(()));
    assert_eq!(t.getx("target", "user.a").unwrap(), b"via");
    // On the link itself, as Linux: writes EPERM, reads ENODATA.
    let nofollow = NOFOLLOW;
    assert_eq!(
        t.setx("link", "user.a", b"x", nofollow),
        Err(ErrorCode::PERM)
    );
    assert_eq!(
        t.getx_len("link", "user.a", 10, nofollow),
        Err(ErrorCode::NODATA)
    );
    assert_eq!(t.removex("link", "user.a", nofollow), Err(ErrorCode::PERM));
    assert_eq!(t.listx("link", nofollow).unwrap(), Vec::<Vec<u8>>::new());
    assert_eq!(
        t.setx("fifo", "user.a", b"x", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    // Other namespaces may sit on a link (root sets them).
    t.as_user(0, 0);
    assert_eq!(t.setx("link", "trusted.t", b"x", nofollow), Ok(()));
    assert_eq!(t.listx("link", nofollow).unwrap(), [b"trusted.t".to_vec()]);
    assert_eq!(t.listx("link", FOLLOW).unwrap(), [b"user.a".to_vec()]);
}

#[test]
fn namespaces_have_their_own_rights() {
    let mut t = Fs::new();
    t.put("f", b"");
    t.as_user(0, 0);
    for name in [
        "trusted.t",
        "security.s",
        "system.posix_acl_access",
        "user.u",
    ] {
        assert_eq!(t.setx("f", name, b"v", PathFlags::NONE), Ok(()), "{name}");
    }
    assert_eq!(t.listx("f", FOLLOW).unwrap().len(), 4);

    // The owner: no trusted.*, no security.* writes, system.* allowed.
    t.as_user(1000, 1000);
    assert_eq!(t.getx("f", "trusted.t"), Err(ErrorCode::NODATA));
    assert_eq!(
        t.setx("f", "trusted.t", b"w", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    assert_eq!(t.removex("f", "trusted.t", FOLLOW), Err(ErrorCode::PERM));
    assert_eq!(t.getx("f", "security.s").unwrap(), b"v");
    assert_eq!(
        t.setx("f", "security.s", b"w", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    assert_eq!(
        t.setx("f", "system.posix_acl_access", b"w", PathFlags::NONE),
        Ok(())
    );
    let names = t.listx("f", FOLLOW).unwrap();
    assert_eq!(names.len(), 3);
    assert!(!names.iter().any(|n| n.starts_with(b"trusted.")));

    // Another user: read and write permission guard user.*; only owners
    // change system.*.
    chmod_f(&mut t, 0o640);
    t.as_user(2000, 2000);
    assert_eq!(t.getx("f", "user.u"), Err(ErrorCode::ACCES));
    assert_eq!(
        t.setx("f", "user.u", b"w", PathFlags::NONE),
        Err(ErrorCode::ACCES)
    );
    assert_eq!(t.removex("f", "user.u", FOLLOW), Err(ErrorCode::ACCES));
    assert_eq!(
        t.setx("f", "system.posix_acl_access", b"", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    assert_eq!(t.listx("f", FOLLOW).unwrap().len(), 3);
    t.as_user(2000, 1000);
    assert_eq!(t.getx("f", "user.u").unwrap(), b"v");
    assert_eq!(
        t.setx("f", "user.u", b"w", PathFlags::NONE),
        Err(ErrorCode::ACCES)
    );
    chmod_f_as(&mut t, 0o666);
    t.as_user(2000, 2000);
    assert_eq!(t.setx("f", "user.u", b"w", PathFlags::NONE), Ok(()));
}

#[test]
fn sticky_directories_keep_user_attributes_to_owners() {
    let mut t = Fs::new();
    t.mkdir("tmp").unwrap();
    let set = set_attr(SetAttrMask::MODE, |s| s.mode = 0o1777.into());
    t.setattr("tmp", set).unwrap();
    t.as_user(2000, 2000);
    assert_eq!(t.getx("tmp", "user.a"), Err(ErrorCode::NODATA));
    assert_eq!(
        t.setx("tmp", "user.a", b"x", PathFlags::NONE),
        Err(ErrorCode::PERM)
    );
    t.as_user(1000, 1000);
    assert_eq!(t.setx("tmp", "user.a", b"x", PathFlags::NONE), Ok(()));
}

fn chmod_f(t: &mut Fs, mode: u64) {
    let set = set_attr(SetAttrMask::MODE, |s| s.mode = mode.into());
    t.setattr("f", set).unwrap();
}

/// Changes the mode of `f` as its owner, then comes back to the current user.
fn chmod_f_as(t: &mut Fs, mode: u64) {
    let (uid, gid) = (t.cx.uid, t.cx.gid);
    t.as_user(1000, 1000);
    chmod_f(t, mode);
    t.as_user(uid, gid);
}
