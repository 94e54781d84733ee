//! Listing a directory with raw system calls, for the library's own use
//! before (or without) the C library's directory streams, which it wraps.

use core::ffi::c_int;

/// The names in directory `path`, but `.` and `..`.
pub(crate) fn names(path: &[u8]) -> Vec<Vec<u8>> {
    let mut c = path.to_vec();
    c.push(0);
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `c` is NUL-terminated.
    let fd = unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, c.as_ptr(), flags) };
    let Ok(fd) = c_int::try_from(fd) else {
        return Vec::new();
    };
    if fd < 0 {
        return Vec::new();
    }
    let mut names = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: `buf` is writable for its whole length.
        let len = unsafe { libc::syscall(libc::SYS_getdents64, fd, buf.as_mut_ptr(), buf.len()) };
        let Some(filled) = usize::try_from(len).ok().filter(|&l| l > 0) else {
            break;
        };
        let mut at = 0;
        while let Some(entry) = buf.get(at..filled) {
            let Some(&[lo, hi]) = entry.get(16..18) else {
                break;
            };
            let name = entry.get(19..).unwrap_or_default();
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            if name != b"." && name != b".." && !name.is_empty() {
                names.push(name.to_vec());
            }
            let reclen = usize::from(u16::from_ne_bytes([lo, hi]));
            if reclen == 0 {
                break;
            }
            at += reclen;
        }
    }
    // SAFETY: `fd` was opened above.
    unsafe { libc::syscall(libc::SYS_close, fd) };
    names
}
