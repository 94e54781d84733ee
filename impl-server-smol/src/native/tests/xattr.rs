//! Extended attributes on real files, through the jail.

use std::fs;
use std::os::unix::fs::symlink;

use orfa_server_core::Backend;
use orfa_wire::{ErrorCode, PathFlags};

use super::Fixture;

const NONE: PathFlags = PathFlags::NONE;
const NOFOLLOW: PathFlags = PathFlags::NOFOLLOW;

impl Fixture {
    fn setx(
        &mut self,
        path: &str,
        name: &str,
        value: &[u8],
        flags: PathFlags,
    ) -> Result<(), ErrorCode> {
        let cx = self.cx;
        let (path, name) = (path.as_bytes(), name.as_bytes());
        self.fs.setxattr(&cx, None, path, name, value, flags)
    }

    /// The value of `name` read into a buffer of `len` bytes, and the length returned.
    fn getx_len(
        &mut self,
        path: &str,
        name: &str,
        len: usize,
        flags: PathFlags,
    ) -> Result<(Vec<u8>, usize), ErrorCode> {
        let cx = self.cx;
        let mut buf = vec![0u8; len];
        let n = self
            .fs
            .getxattr(&cx, None, path.as_bytes(), name.as_bytes(), &mut buf, flags)?;
        buf.truncate(n.min(len));
        Ok((buf, n))
    }

    fn getx(&mut self, path: &str, name: &str, flags: PathFlags) -> Result<Vec<u8>, ErrorCode> {
        self.getx_len(path, name, 65536, flags).map(|(v, _)| v)
    }

    fn listx(&mut self, path: &str, flags: PathFlags) -> Result<Vec<String>, ErrorCode> {
        let cx = self.cx;
        let mut buf = vec![0u8; 65536];
        let n = self
            .fs
            .listxattr(&cx, None, path.as_bytes(), &mut buf, flags)?;
        let list = &buf[..n];
        assert!(list.is_empty() || list.ends_with(&[0]));
        let mut names: Vec<String> = list
            .split(|&b| b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    fn removex(&mut self, path: &str, name: &str, flags: PathFlags) -> Result<(), ErrorCode> {
        let cx = self.cx;
        let (path, name) = (path.as_bytes(), name.as_bytes());
        self.fs.removexattr(&cx, None, path, name, flags)
    }
}

#[test]
fn set_get_list_remove_with_linux_errors() {
    let mut f = Fixture::new();
    fs::write(f.export().join("f"), b"").expect("seed");
    assert_eq!(f.getx("f", "user.a", NONE), Err(ErrorCode::NODATA));
    assert_eq!(f.setx("f", "user.a", b"alpha", NONE), Ok(()));
    assert_eq!(f.setx("f", "user.b", b"", NONE), Ok(()));
    assert_eq!(f.getx("f", "user.a", NONE).unwrap(), b"alpha");
    assert_eq!(f.listx("f", NONE).unwrap(), ["user.a", "user.b"]);

    // Buffer rules: an empty buffer asks for the length, a short one is RANGE.
    assert_eq!(f.getx_len("f", "user.a", 0, NONE), Ok((Vec::new(), 5)));
    assert_eq!(f.getx_len("f", "user.a", 4, NONE), Err(ErrorCode::RANGE));
    let cx = f.cx;
    assert_eq!(f.fs.listxattr(&cx, None, b"f", &mut [], NONE), Ok(14));
    assert_eq!(
        f.fs.listxattr(&cx, None, b"f", &mut [0; 3], NONE),
        Err(ErrorCode::RANGE)
    );

    assert_eq!(
        f.setx("f", "user.a", b"x", PathFlags::XATTR_CREATE),
        Err(ErrorCode::EXIST)
    );
    assert_eq!(
        f.setx("f", "user.c", b"x", PathFlags::XATTR_REPLACE),
        Err(ErrorCode::NODATA)
    );
    assert_eq!(
        f.setx("f", "user.a", b"beta", PathFlags::XATTR_REPLACE),
        Ok(())
    );
    assert_eq!(f.getx("f", "user.a", NONE).unwrap(), b"beta");
    assert_eq!(f.removex("f", "user.a", NONE), Ok(()));
    assert_eq!(f.removex("f", "user.a", NONE), Err(ErrorCode::NODATA));
    assert_eq!(f.listx("f", NONE).unwrap(), ["user.b"]);

    assert_eq!(f.setx("f", "bogus.a", b"x", NONE), Err(ErrorCode::NOTSUP));
    assert_eq!(f.getx("missing", "user.a", NONE), Err(ErrorCode::NOENT));
    assert_eq!(f.getx("f", "user.a\0b", NONE), Err(ErrorCode::INVAL));
    // Directories carry attributes too, and the value lands on disk.
    assert_eq!(f.setx("sub", "user.d", b"dir", NONE), Ok(()));
    assert_eq!(f.getx("sub/deep/..", "user.d", NONE).unwrap(), b"dir");
}

#[test]
fn nofollow_acts_on_the_link_itself() {
    let mut f = Fixture::new();
    fs::write(f.export().join("target"), b"").expect("seed");
    symlink("target", f.export().join("link")).expect("symlink");
    assert_eq!(f.setx("link", "user.a", b"via", NONE), Ok(()));
    assert_eq!(f.getx("target", "user.a", NONE).unwrap(), b"via");
    // user.* on a link: EPERM to write, ENODATA to read, as Linux.
    assert_eq!(
        f.setx("link", "user.a", b"x", NOFOLLOW),
        Err(ErrorCode::PERM)
    );
    assert_eq!(f.getx("link", "user.a", NOFOLLOW), Err(ErrorCode::NODATA));
    assert_eq!(f.listx("link", NOFOLLOW).unwrap(), Vec::<String>::new());
    assert_eq!(f.listx("link", NONE).unwrap(), ["user.a"]);
    // trusted.* (root's) may sit on the link itself.
    assert_eq!(f.setx("link", "trusted.t", b"on-link", NOFOLLOW), Ok(()));
    assert_eq!(f.getx("link", "trusted.t", NOFOLLOW).unwrap(), b"on-link");
    assert_eq!(f.getx("target", "trusted.t", NONE), Err(ErrorCode::NODATA));
    assert_eq!(f.removex("link", "trusted.t", NOFOLLOW), Ok(()));
}

#[test]
fn attributes_outside_the_export_stay_out_of_reach() {
    let mut f = Fixture::new();
    let before = f.outside_snapshot();
    for path in [
        "rel/secret",
        "abs/secret",
        "up/outside/secret",
        "sub/deep/secret",
    ] {
        assert_eq!(
            f.setx(path, "user.evil", b"x", NONE),
            Err(ErrorCode::ESCAPE),
            "{path}"
        );
        assert_eq!(
            f.getx(path, "user.evil", NONE),
            Err(ErrorCode::ESCAPE),
            "{path}"
        );
        assert_eq!(f.listx(path, NONE), Err(ErrorCode::ESCAPE), "{path}");
    }
    assert_eq!(f.outside_snapshot(), before);
    assert_eq!(
        xattr_names(&f.outside().join("secret")),
        Vec::<String>::new()
    );
}

/// The names of the attributes of `path`, read by the test itself.
fn xattr_names(path: &std::path::Path) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("path");
    let mut buf = [0u8; 4096];
    // SAFETY: `c` is NUL-terminated and `buf` is valid for its length.
    let n = unsafe { libc::listxattr(c.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    assert!(n >= 0, "listxattr failed");
    buf[..n as usize]
        .split(|&b| b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}
