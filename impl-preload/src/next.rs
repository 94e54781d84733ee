//! The next definitions of the symbols this library overrides.
//!
//! Each function here has the name and prototype of a C library function and
//! calls the definition that the dynamic linker would have used without this
//! library (`dlsym(RTLD_NEXT, name)`). The address is looked up on first use,
//! not in a constructor: other libraries' constructors and the loader itself
//! may call a wrapper before ours has run. It is cached in one atomic pointer
//! per symbol; two threads racing on the first call both look it up and store
//! the same value.
//!
//! A symbol the C library does not define (an older glibc) makes the call fail
//! with `ENOSYS` and the value given in the declaration.

use core::ffi::{CStr, c_char, c_int, c_long, c_uint, c_ulong, c_void};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use libc::{
    DIR, FILE, dirent, dirent64, iovec, mode_t, off_t, off64_t, size_t, ssize_t, timespec, timeval,
    utimbuf,
};

use crate::errno;
use crate::fts::{Compar as FtsCompar, Ent as FtsEnt, Fts};
use crate::walk::{FtwFn, NftwFn};

/// The address of `name` in the objects loaded after this one, cached in `slot`.
///
/// Null if no later object defines it. `errno` is left as it was.
pub(crate) fn lookup(slot: &AtomicPtr<c_void>, name: &CStr) -> *mut c_void {
    let cached = slot.load(Ordering::Acquire);
    if !cached.is_null() {
        return cached;
    }
    let saved = errno::get();
    // SAFETY: `name` is a NUL-terminated string; RTLD_NEXT is a valid pseudo-handle.
    let found = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    errno::set(saved);
    slot.store(found, Ordering::Release);
    found
}

/// Declares forwarding functions: `fn name(args) -> ret = value if missing;`.
///
/// Arguments after a `;` are passed as the variadic part of the C function.
macro_rules! next_fns {
    ($(
        fn $name:ident($($arg:ident: $ty:ty),* $(; $($varg:ident: $vty:ty),+)?) -> $ret:ty
            = $missing:expr;
    )*) => {$(
        #[doc = concat!("Calls the next definition of `", stringify!($name), "`.")]
        ///
        /// # Safety
        ///
        /// The C function's own contract: pointers valid as it requires them.
        #[allow(dead_code, clippy::too_many_arguments, clippy::unused_unit)]
        pub(crate) unsafe fn $name($($arg: $ty,)* $($($varg: $vty),+)?) -> $ret {
            static SLOT: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());
            let name = concat!(stringify!($name), "\0");
            let Ok(name) = CStr::from_bytes_with_nul(name.as_bytes()) else {
                return $missing;
            };
            let found = lookup(&SLOT, name);
            if found.is_null() {
                errno::set(libc::ENOSYS);
                return $missing;
            }
            next_fns!(@call found, ($($arg: $ty),*), ($($($varg: $vty),+)?), $ret)
        }
    )*};
    (@call $found:ident, ($($arg:ident: $ty:ty),*), (), $ret:ty) => {{
        // SAFETY: `found` is the next definition of this very symbol, whose C
        // prototype is the one declared here.
        let f = unsafe {
            core::mem::transmute::<*mut c_void, unsafe extern "C" fn($($ty),*) -> $ret>($found)
        };
        // SAFETY: the caller upholds the C function's contract.
        unsafe { f($($arg),*) }
    }};
    (@call $found:ident, ($($arg:ident: $ty:ty),*), ($($varg:ident: $vty:ty),+), $ret:ty) => {{
        // SAFETY: `found` is the next definition of this very symbol, a C
        // variadic function with these fixed arguments.
        let f = unsafe {
            core::mem::transmute::<*mut c_void, unsafe extern "C" fn($($ty),*, ...) -> $ret>(
                $found,
            )
        };
        // SAFETY: the caller upholds the C function's contract; the variadic
        // part is what the C prototype expects for this call.
        unsafe { f($($arg),*, $($varg),+) }
    }};
}

type Path = *const c_char;
type StatBuf = *mut libc::stat;
type Stat64Buf = *mut libc::stat64;

next_fns! {
    fn open(path: Path, flags: c_int; mode: c_uint) -> c_int = -1;
    fn open64(path: Path, flags: c_int; mode: c_uint) -> c_int = -1;
    fn openat(dirfd: c_int, path: Path, flags: c_int; mode: c_uint) -> c_int = -1;
    fn openat64(dirfd: c_int, path: Path, flags: c_int; mode: c_uint) -> c_int = -1;
    fn creat(path: Path, mode: mode_t) -> c_int = -1;
    fn creat64(path: Path, mode: mode_t) -> c_int = -1;
    fn __open_2(path: Path, flags: c_int) -> c_int = -1;
    fn __open64_2(path: Path, flags: c_int) -> c_int = -1;
    fn __openat_2(dirfd: c_int, path: Path, flags: c_int) -> c_int = -1;
    fn __openat64_2(dirfd: c_int, path: Path, flags: c_int) -> c_int = -1;

    fn read(fd: c_int, buf: *mut c_void, count: size_t) -> ssize_t = -1;
    fn write(fd: c_int, buf: *const c_void, count: size_t) -> ssize_t = -1;
    fn pread(fd: c_int, buf: *mut c_void, count: size_t, off: off_t) -> ssize_t = -1;
    fn pread64(fd: c_int, buf: *mut c_void, count: size_t, off: off64_t) -> ssize_t = -1;
    fn pwrite(fd: c_int, buf: *const c_void, count: size_t, off: off_t) -> ssize_t = -1;
    fn pwrite64(fd: c_int, buf: *const c_void, count: size_t, off: off64_t) -> ssize_t = -1;
    fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t = -1;
    fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t = -1;
    fn preadv(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> ssize_t = -1;
    fn preadv64(fd: c_int, iov: *const iovec, cnt: c_int, off: off64_t) -> ssize_t = -1;
    fn pwritev(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t) -> ssize_t = -1;
    fn pwritev64(fd: c_int, iov: *const iovec, cnt: c_int, off: off64_t) -> ssize_t = -1;
    fn preadv2(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t, fl: c_int) -> ssize_t = -1;
    fn pwritev2(fd: c_int, iov: *const iovec, cnt: c_int, off: off_t, fl: c_int) -> ssize_t = -1;
    fn lseek(fd: c_int, off: off_t, whence: c_int) -> off_t = -1;
    fn lseek64(fd: c_int, off: off64_t, whence: c_int) -> off64_t = -1;
    fn close(fd: c_int) -> c_int = -1;
    fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int = -1;
    fn closefrom(first: c_int) -> () = ();

    fn stat(path: Path, buf: StatBuf) -> c_int = -1;
    fn stat64(path: Path, buf: Stat64Buf) -> c_int = -1;
    fn lstat(path: Path, buf: StatBuf) -> c_int = -1;
    fn lstat64(path: Path, buf: Stat64Buf) -> c_int = -1;
    fn fstat(fd: c_int, buf: StatBuf) -> c_int = -1;
    fn fstat64(fd: c_int, buf: Stat64Buf) -> c_int = -1;
    fn fstatat(dirfd: c_int, path: Path, buf: StatBuf, flags: c_int) -> c_int = -1;
    fn fstatat64(dirfd: c_int, path: Path, buf: Stat64Buf, flags: c_int) -> c_int = -1;
    fn statx(
        dirfd: c_int, path: Path, flags: c_int, mask: c_uint, buf: *mut libc::statx
    ) -> c_int = -1;

    fn opendir(path: Path) -> *mut DIR = ptr::null_mut();
    fn fdopendir(fd: c_int) -> *mut DIR = ptr::null_mut();
    fn readdir(dir: *mut DIR) -> *mut dirent = ptr::null_mut();
    fn readdir64(dir: *mut DIR) -> *mut dirent64 = ptr::null_mut();
    fn readdir_r(dir: *mut DIR, entry: *mut dirent, result: *mut *mut dirent) -> c_int
        = libc::ENOSYS;
    fn readdir64_r(dir: *mut DIR, entry: *mut dirent64, result: *mut *mut dirent64) -> c_int
        = libc::ENOSYS;
    fn closedir(dir: *mut DIR) -> c_int = -1;
    fn dirfd(dir: *mut DIR) -> c_int = -1;
    fn rewinddir(dir: *mut DIR) -> () = ();
    fn telldir(dir: *mut DIR) -> c_long = -1;
    fn seekdir(dir: *mut DIR, pos: c_long) -> () = ();

    fn mkdir(path: Path, mode: mode_t) -> c_int = -1;
    fn mkdirat(dirfd: c_int, path: Path, mode: mode_t) -> c_int = -1;
    fn rmdir(path: Path) -> c_int = -1;
    fn unlink(path: Path) -> c_int = -1;
    fn unlinkat(dirfd: c_int, path: Path, flags: c_int) -> c_int = -1;
    fn rename(from: Path, to: Path) -> c_int = -1;
    fn renameat(fromfd: c_int, from: Path, tofd: c_int, to: Path) -> c_int = -1;
    fn renameat2(fromfd: c_int, from: Path, tofd: c_int, to: Path, flags: c_uint) -> c_int = -1;
    fn symlink(target: Path, path: Path) -> c_int = -1;
    fn symlinkat(target: Path, dirfd: c_int, path: Path) -> c_int = -1;
    fn readlink(path: Path, buf: *mut c_char, size: size_t) -> ssize_t = -1;
    fn readlinkat(dirfd: c_int, path: Path, buf: *mut c_char, size: size_t) -> ssize_t = -1;
    fn link(from: Path, to: Path) -> c_int = -1;
    fn linkat(fromfd: c_int, from: Path, tofd: c_int, to: Path, flags: c_int) -> c_int = -1;
    fn mknod(path: Path, mode: mode_t, dev: libc::dev_t) -> c_int = -1;
    fn mknodat(dirfd: c_int, path: Path, mode: mode_t, dev: libc::dev_t) -> c_int = -1;
    fn mkfifo(path: Path, mode: mode_t) -> c_int = -1;
    fn mkfifoat(dirfd: c_int, path: Path, mode: mode_t) -> c_int = -1;

    fn chmod(path: Path, mode: mode_t) -> c_int = -1;
    fn fchmod(fd: c_int, mode: mode_t) -> c_int = -1;
    fn lchmod(path: Path, mode: mode_t) -> c_int = -1;
    fn realpath(path: Path, resolved: *mut c_char) -> *mut c_char = ptr::null_mut();
    fn canonicalize_file_name(path: Path) -> *mut c_char = ptr::null_mut();
    fn fchmodat(dirfd: c_int, path: Path, mode: mode_t, flags: c_int) -> c_int = -1;
    fn chown(path: Path, uid: libc::uid_t, gid: libc::gid_t) -> c_int = -1;
    fn lchown(path: Path, uid: libc::uid_t, gid: libc::gid_t) -> c_int = -1;
    fn fchown(fd: c_int, uid: libc::uid_t, gid: libc::gid_t) -> c_int = -1;
    fn fchownat(
        dirfd: c_int, path: Path, uid: libc::uid_t, gid: libc::gid_t, flags: c_int
    ) -> c_int = -1;
    fn utimensat(dirfd: c_int, path: Path, times: *const timespec, flags: c_int) -> c_int = -1;
    fn futimens(fd: c_int, times: *const timespec) -> c_int = -1;
    fn utimes(path: Path, times: *const timeval) -> c_int = -1;
    fn lutimes(path: Path, times: *const timeval) -> c_int = -1;
    fn futimes(fd: c_int, times: *const timeval) -> c_int = -1;
    fn utime(path: Path, times: *const utimbuf) -> c_int = -1;
    fn truncate(path: Path, len: off_t) -> c_int = -1;
    fn truncate64(path: Path, len: off64_t) -> c_int = -1;
    fn ftruncate(fd: c_int, len: off_t) -> c_int = -1;
    fn ftruncate64(fd: c_int, len: off64_t) -> c_int = -1;
    fn access(path: Path, mode: c_int) -> c_int = -1;
    fn faccessat(dirfd: c_int, path: Path, mode: c_int, flags: c_int) -> c_int = -1;
    fn euidaccess(path: Path, mode: c_int) -> c_int = -1;
    fn eaccess(path: Path, mode: c_int) -> c_int = -1;

    fn fcntl(fd: c_int, cmd: c_int; arg: c_ulong) -> c_int = -1;
    fn fcntl64(fd: c_int, cmd: c_int; arg: c_ulong) -> c_int = -1;
    fn flock(fd: c_int, op: c_int) -> c_int = -1;
    fn lockf(fd: c_int, cmd: c_int, len: off_t) -> c_int = -1;
    fn lockf64(fd: c_int, cmd: c_int, len: off64_t) -> c_int = -1;
    fn dup(fd: c_int) -> c_int = -1;
    fn dup2(old: c_int, new: c_int) -> c_int = -1;
    fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int = -1;
    fn fsync(fd: c_int) -> c_int = -1;
    fn fdatasync(fd: c_int) -> c_int = -1;
    fn statfs(path: Path, buf: *mut libc::statfs) -> c_int = -1;
    fn statfs64(path: Path, buf: *mut libc::statfs64) -> c_int = -1;
    fn fstatfs(fd: c_int, buf: *mut libc::statfs) -> c_int = -1;
    fn fstatfs64(fd: c_int, buf: *mut libc::statfs64) -> c_int = -1;
    fn statvfs(path: Path, buf: *mut libc::statvfs) -> c_int = -1;
    fn statvfs64(path: Path, buf: *mut libc::statvfs64) -> c_int = -1;
    fn fstatvfs(fd: c_int, buf: *mut libc::statvfs) -> c_int = -1;
    fn fstatvfs64(fd: c_int, buf: *mut libc::statvfs64) -> c_int = -1;
    fn umask(mask: mode_t) -> mode_t = 0o022;
    fn fchdir(fd: c_int) -> c_int = -1;
    fn chdir(path: Path) -> c_int = -1;
    fn getcwd(buf: *mut c_char, size: size_t) -> *mut c_char = ptr::null_mut();
    fn get_current_dir_name() -> *mut c_char = ptr::null_mut();

    fn getxattr(path: Path, name: Path, value: *mut c_void, size: size_t) -> ssize_t = -1;
    fn lgetxattr(path: Path, name: Path, value: *mut c_void, size: size_t) -> ssize_t = -1;
    fn fgetxattr(fd: c_int, name: Path, value: *mut c_void, size: size_t) -> ssize_t = -1;
    fn listxattr(path: Path, list: *mut c_char, size: size_t) -> ssize_t = -1;
    fn llistxattr(path: Path, list: *mut c_char, size: size_t) -> ssize_t = -1;
    fn flistxattr(fd: c_int, list: *mut c_char, size: size_t) -> ssize_t = -1;
    fn setxattr(
        path: Path, name: Path, value: *const c_void, size: size_t, flags: c_int
    ) -> c_int = -1;
    fn lsetxattr(
        path: Path, name: Path, value: *const c_void, size: size_t, flags: c_int
    ) -> c_int = -1;
    fn fsetxattr(
        fd: c_int, name: Path, value: *const c_void, size: size_t, flags: c_int
    ) -> c_int = -1;
    fn removexattr(path: Path, name: Path) -> c_int = -1;
    fn lremovexattr(path: Path, name: Path) -> c_int = -1;
    fn fremovexattr(fd: c_int, name: Path) -> c_int = -1;

    fn copy_file_range(
        fd_in: c_int, off_in: *mut off64_t, fd_out: c_int, off_out: *mut off64_t,
        len: size_t, flags: c_uint
    ) -> ssize_t = -1;
    fn sendfile(out_fd: c_int, in_fd: c_int, off: *mut off_t, count: size_t) -> ssize_t = -1;
    fn sendfile64(out_fd: c_int, in_fd: c_int, off: *mut off64_t, count: size_t) -> ssize_t
        = -1;
    fn ioctl(fd: c_int, request: c_ulong; arg: c_ulong) -> c_int = -1;
    fn posix_fadvise(fd: c_int, off: off_t, len: off_t, advice: c_int) -> c_int = libc::ENOSYS;
    fn posix_fadvise64(fd: c_int, off: off64_t, len: off64_t, advice: c_int) -> c_int
        = libc::ENOSYS;
    fn fallocate(fd: c_int, mode: c_int, off: off_t, len: off_t) -> c_int = -1;
    fn fallocate64(fd: c_int, mode: c_int, off: off64_t, len: off64_t) -> c_int = -1;
    fn posix_fallocate(fd: c_int, off: off_t, len: off_t) -> c_int = libc::ENOSYS;
    fn posix_fallocate64(fd: c_int, off: off64_t, len: off64_t) -> c_int = libc::ENOSYS;
    fn mmap(
        addr: *mut c_void, len: size_t, prot: c_int, flags: c_int, fd: c_int, off: off_t
    ) -> *mut c_void = libc::MAP_FAILED;
    fn mmap64(
        addr: *mut c_void, len: size_t, prot: c_int, flags: c_int, fd: c_int, off: off64_t
    ) -> *mut c_void = libc::MAP_FAILED;

    fn fopen(path: Path, mode: Path) -> *mut FILE = ptr::null_mut();
    fn fopen64(path: Path, mode: Path) -> *mut FILE = ptr::null_mut();
    fn fdopen(fd: c_int, mode: Path) -> *mut FILE = ptr::null_mut();
    fn fileno(file: *mut FILE) -> c_int = -1;
    fn fileno_unlocked(file: *mut FILE) -> c_int = -1;
    fn freopen(path: Path, mode: Path, file: *mut FILE) -> *mut FILE = ptr::null_mut();
    fn freopen64(path: Path, mode: Path, file: *mut FILE) -> *mut FILE = ptr::null_mut();
}

// Identity, directory walkers, temporary files and streams that the C
// library implements on top of its own internal calls.
next_fns! {
    fn setuid(uid: libc::uid_t) -> c_int = -1;
    fn seteuid(uid: libc::uid_t) -> c_int = -1;
    fn setreuid(ruid: libc::uid_t, euid: libc::uid_t) -> c_int = -1;
    fn setresuid(ruid: libc::uid_t, euid: libc::uid_t, suid: libc::uid_t) -> c_int = -1;
    fn setgid(gid: libc::gid_t) -> c_int = -1;
    fn setegid(gid: libc::gid_t) -> c_int = -1;
    fn setregid(rgid: libc::gid_t, egid: libc::gid_t) -> c_int = -1;
    fn setresgid(rgid: libc::gid_t, egid: libc::gid_t, sgid: libc::gid_t) -> c_int = -1;
    fn setgroups(size: size_t, list: *const libc::gid_t) -> c_int = -1;
    fn setfsuid(uid: libc::uid_t) -> c_int = -1;
    fn setfsgid(gid: libc::gid_t) -> c_int = -1;
}

next_fns! {
    fn mkstemp(template: *mut c_char) -> c_int = -1;
    fn mkstemp64(template: *mut c_char) -> c_int = -1;
    fn mkostemp(template: *mut c_char, flags: c_int) -> c_int = -1;
    fn mkostemp64(template: *mut c_char, flags: c_int) -> c_int = -1;
    fn mkstemps(template: *mut c_char, suffix: c_int) -> c_int = -1;
    fn mkstemps64(template: *mut c_char, suffix: c_int) -> c_int = -1;
    fn mkostemps(template: *mut c_char, suffix: c_int, flags: c_int) -> c_int = -1;
    fn mkostemps64(template: *mut c_char, suffix: c_int, flags: c_int) -> c_int = -1;
    fn mkdtemp(template: *mut c_char) -> *mut c_char = ptr::null_mut();
    fn mktemp(template: *mut c_char) -> *mut c_char = ptr::null_mut();
    fn glob(
        pattern: Path, flags: c_int,
        errfunc: Option<unsafe extern "C" fn(Path, c_int) -> c_int>, pglob: *mut libc::glob_t
    ) -> c_int = libc::GLOB_NOSPACE;
    fn glob64(
        pattern: Path, flags: c_int,
        errfunc: Option<unsafe extern "C" fn(Path, c_int) -> c_int>, pglob: *mut libc::glob64_t
    ) -> c_int = libc::GLOB_NOSPACE;
}

type ScanFilter<D> = Option<unsafe extern "C" fn(*const D) -> c_int>;
type ScanCompar<D> = Option<unsafe extern "C" fn(*mut *const D, *mut *const D) -> c_int>;

next_fns! {
    fn scandir(
        path: Path, list: *mut *mut *mut dirent, filter: ScanFilter<dirent>,
        compar: ScanCompar<dirent>
    ) -> c_int = -1;
    fn scandir64(
        path: Path, list: *mut *mut *mut dirent64, filter: ScanFilter<dirent64>,
        compar: ScanCompar<dirent64>
    ) -> c_int = -1;
    fn scandirat(
        dirfd: c_int, path: Path, list: *mut *mut *mut dirent, filter: ScanFilter<dirent>,
        compar: ScanCompar<dirent>
    ) -> c_int = -1;
    fn scandirat64(
        dirfd: c_int, path: Path, list: *mut *mut *mut dirent64, filter: ScanFilter<dirent64>,
        compar: ScanCompar<dirent64>
    ) -> c_int = -1;
}

next_fns! {
    fn ftw(dir: Path, func: Option<FtwFn<libc::stat>>, nopenfd: c_int) -> c_int = -1;
    fn ftw64(dir: Path, func: Option<FtwFn<libc::stat64>>, nopenfd: c_int) -> c_int = -1;
    fn nftw(dir: Path, func: Option<NftwFn<libc::stat>>, nopenfd: c_int, flags: c_int) -> c_int
        = -1;
    fn nftw64(
        dir: Path, func: Option<NftwFn<libc::stat64>>, nopenfd: c_int, flags: c_int
    ) -> c_int = -1;
}

next_fns! {
    fn fts_open(argv: *const *mut c_char, options: c_int, compar: Option<FtsCompar>) -> *mut Fts
        = ptr::null_mut();
    fn fts_read(sp: *mut Fts) -> *mut FtsEnt = ptr::null_mut();
    fn fts_children(sp: *mut Fts, instr: c_int) -> *mut FtsEnt = ptr::null_mut();
    fn fts_set(sp: *mut Fts, p: *mut FtsEnt, instr: c_int) -> c_int = -1;
    fn fts_close(sp: *mut Fts) -> c_int = -1;
    fn fts64_open(argv: *const *mut c_char, options: c_int, compar: Option<FtsCompar>)
        -> *mut Fts = ptr::null_mut();
    fn fts64_read(sp: *mut Fts) -> *mut FtsEnt = ptr::null_mut();
    fn fts64_children(sp: *mut Fts, instr: c_int) -> *mut FtsEnt = ptr::null_mut();
    fn fts64_set(sp: *mut Fts, p: *mut FtsEnt, instr: c_int) -> c_int = -1;
    fn fts64_close(sp: *mut Fts) -> c_int = -1;
}

// Calls that hand descriptors to another program.
next_fns! {
    fn execve(path: Path, argv: *const *const c_char, envp: *const *const c_char) -> c_int = -1;
    fn execv(path: Path, argv: *const *const c_char) -> c_int = -1;
    fn execvp(file: Path, argv: *const *const c_char) -> c_int = -1;
    fn execvpe(file: Path, argv: *const *const c_char, envp: *const *const c_char) -> c_int
        = -1;
    fn fexecve(fd: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int = -1;
    fn posix_spawn(
        pid: *mut libc::pid_t, path: Path, actions: *const libc::posix_spawn_file_actions_t,
        attr: *const libc::posix_spawnattr_t, argv: *const *mut c_char, envp: *const *mut c_char
    ) -> c_int = libc::ENOSYS;
    fn posix_spawnp(
        pid: *mut libc::pid_t, file: Path, actions: *const libc::posix_spawn_file_actions_t,
        attr: *const libc::posix_spawnattr_t, argv: *const *mut c_char, envp: *const *mut c_char
    ) -> c_int = libc::ENOSYS;
    fn system(command: Path) -> c_int = -1;
    fn popen(command: Path, mode: Path) -> *mut FILE = ptr::null_mut();
}
