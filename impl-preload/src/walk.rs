//! `nftw`, `nftw64`, `ftw` and `ftw64` from a remote starting path.
//!
//! The C library walks a tree with its internal `opendir`, `stat` and
//! `chdir`, which never reach this library, so a walk that starts on a
//! remote path is done here, over this library's own calls, with the C
//! library's semantics: the order of the calls, the type flags (`FTW_F`,
//! `FTW_D`, `FTW_DNR`, `FTW_DP`, `FTW_NS`, `FTW_SL`, `FTW_SLN`), the
//! `struct FTW` base and level, and the flags `FTW_PHYS`, `FTW_MOUNT`,
//! `FTW_CHDIR`, `FTW_DEPTH` and `FTW_ACTIONRETVAL`. As there, a logical walk
//! visits each directory once, however many links lead to it.
//!
//! Each directory is read whole before its entries are visited, so the
//! walk holds one stream at a time whatever `nopenfd` says; the order is the
//! directory's own, as with the C library.

use core::ffi::{c_char, c_int};
use std::collections::HashSet;

use libc::stat64;

use crate::errno;
use crate::{dir, next, route, stat};

/// glibc's `struct FTW`: where the name starts in the path, and the depth.
#[repr(C)]
pub(crate) struct Ftw {
    base: c_int,
    level: c_int,
}

const FTW_F: c_int = 0;
const FTW_D: c_int = 1;
const FTW_DNR: c_int = 2;
const FTW_NS: c_int = 3;
const FTW_SL: c_int = 4;
const FTW_DP: c_int = 5;
const FTW_SLN: c_int = 6;

const FTW_PHYS: c_int = 1;
const FTW_MOUNT: c_int = 2;
const FTW_CHDIR: c_int = 4;
const FTW_DEPTH: c_int = 8;
const FTW_ACTIONRETVAL: c_int = 16;

const FTW_STOP: c_int = 1;
const FTW_SKIP_SUBTREE: c_int = 2;
const FTW_SKIP_SIBLINGS: c_int = 3;

/// The function `nftw` calls, for `struct stat` or `struct stat64` (`S`).
pub(crate) type NftwFn<S> = unsafe extern "C" fn(*const c_char, *const S, c_int, *mut Ftw) -> c_int;

/// The function `ftw` calls, for `struct stat` or `struct stat64` (`S`).
pub(crate) type FtwFn<S> = unsafe extern "C" fn(*const c_char, *const S, c_int) -> c_int;

/// The caller's function, as each of the four entry points takes it.
enum Callback {
    Nftw(NftwFn<stat64>),
    Ftw(FtwFn<stat64>),
}

/// A walk in progress.
struct Walk {
    callback: Callback,
    flags: c_int,
    /// The current path, without its terminating NUL.
    path: Vec<u8>,
    ftw: Ftw,
    /// The device of the starting directory (for `FTW_MOUNT`).
    dev: u64,
    /// The directories seen by a logical walk: (device, inode).
    seen: HashSet<(u64, u64)>,
}

/// A zeroed `struct stat64`, for entries that could not be examined.
fn blank() -> stat64 {
    // SAFETY: `stat64` is plain integers, for which zero is valid.
    unsafe { core::mem::zeroed() }
}

/// `stat` or `lstat` (through this library) of a byte path.
fn stat_of(path: &[u8], follow: bool) -> Result<stat64, c_int> {
    let mut text = path.to_vec();
    text.push(0);
    let mut st = blank();
    // SAFETY: `text` is a C string; `st` is valid for writing.
    let ret = unsafe {
        if follow {
            stat::stat64(text.as_ptr().cast(), &mut st)
        } else {
            stat::lstat64(text.as_ptr().cast(), &mut st)
        }
    };
    if ret == 0 { Ok(st) } else { Err(errno::get()) }
}

/// The names in a directory (through this library), without `.` and `..`.
fn names(path: &[u8]) -> Result<Vec<Vec<u8>>, c_int> {
    let mut text = path.to_vec();
    text.push(0);
    // SAFETY: `text` is a C string.
    let dirp = unsafe { dir::opendir(text.as_ptr().cast()) };
    if dirp.is_null() {
        return Err(errno::get());
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: `dirp` is open.
        let e = unsafe { dir::readdir64(dirp) };
        if e.is_null() {
            break;
        }
        // SAFETY: `e` is the stream's current entry, its name a C string.
        let name = unsafe { core::ffi::CStr::from_ptr((*e).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    // SAFETY: `dirp` is open and not used after.
    unsafe { dir::closedir(dirp) };
    Ok(names)
}

/// Opens a directory (through this library) to come back to it later.
fn open_dir(path: &[u8]) -> c_int {
    let mut text = path.to_vec();
    text.push(0);
    // SAFETY: `text` is a C string; `open` is this library's own wrapper.
    unsafe {
        libc::open(
            text.as_ptr().cast(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    }
}

/// `chdir` (through this library) to a byte path.
fn change_dir(path: &[u8]) -> c_int {
    let mut text = path.to_vec();
    text.push(0);
    // SAFETY: `text` is a C string; `chdir` is this library's own wrapper.
    unsafe { libc::chdir(text.as_ptr().cast()) }
}

/// Closes a descriptor this module opened, keeping `errno`.
fn close_quietly(fd: c_int) {
    let saved = errno::get();
    // SAFETY: `fd` is a descriptor this module opened.
    unsafe { libc::close(fd) };
    errno::set(saved);
}

impl Walk {
    fn has(&self, flag: c_int) -> bool {
        self.flags & flag != 0
    }

    /// The name the walk uses for the current object: relative to the
    /// current directory under `FTW_CHDIR`, the whole path otherwise.
    fn name(&self) -> Vec<u8> {
        if !self.has(FTW_CHDIR) {
            return self.path.clone();
        }
        let base = usize::try_from(self.ftw.base).unwrap_or(0);
        match self.path.get(base..) {
            Some(name) if !name.is_empty() => name.to_vec(),
            _ => b".".to_vec(),
        }
    }

    /// Calls the caller's function on the current path.
    fn call(&mut self, st: &stat64, flag: c_int) -> c_int {
        let flag = match (&self.callback, flag) {
            (Callback::Ftw(_), FTW_SL) => FTW_F,
            (Callback::Ftw(_), FTW_SLN) => FTW_NS,
            _ => flag,
        };
        self.path.push(0);
        let path = self.path.as_ptr().cast::<c_char>();
        // SAFETY: `path` is a C string and `st` a stat buffer, both valid
        // for the call; the function is the caller's, of this prototype.
        let ret = unsafe {
            match self.callback {
                Callback::Nftw(f) => f(path, st, flag, &mut self.ftw),
                Callback::Ftw(f) => f(path, st, flag),
            }
        };
        self.path.pop();
        ret
    }

    /// Walks from the starting path, as the C library's `ftw_startup`.
    fn start(&mut self) -> c_int {
        while self.path.len() > 1 && self.path.last() == Some(&b'/') {
            self.path.pop();
        }
        let base = self
            .path
            .iter()
            .rposition(|&c| c == b'/')
            .map_or(0, |i| i + 1);
        self.ftw.base = c_int::try_from(base).unwrap_or(c_int::MAX);
        let mut cwd = -1;
        if self.has(FTW_CHDIR) {
            cwd = open_dir(b".");
            if cwd < 0 {
                return -1;
            }
            let parent = if base == 1 {
                b"/".as_slice()
            } else {
                self.path.get(..base.saturating_sub(1)).unwrap_or_default()
            };
            if base > 0 && change_dir(parent) < 0 {
                close_quietly(cwd);
                return -1;
            }
        }
        let mut result = self.top();
        if self.has(FTW_ACTIONRETVAL) && (result == FTW_SKIP_SUBTREE || result == FTW_SKIP_SIBLINGS)
        {
            result = 0;
        }
        if cwd >= 0 {
            let saved = errno::get();
            // SAFETY: `cwd` is open; `fchdir` is this library's own wrapper.
            unsafe { libc::fchdir(cwd) };
            errno::set(saved);
            close_quietly(cwd);
        }
        result
    }

    /// The starting object.
    fn top(&mut self) -> c_int {
        let name = self.name();
        match stat_of(&name, !self.has(FTW_PHYS)) {
            Err(e) => {
                if !self.has(FTW_PHYS) && e == libc::ENOENT {
                    if let Ok(st) = stat_of(&name, false) {
                        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                            return self.call(&st, FTW_SLN);
                        }
                    }
                }
                errno::set(e);
                -1
            }
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => {
                self.dev = st.st_dev;
                if !self.has(FTW_PHYS) {
                    self.seen.insert((st.st_dev, st.st_ino));
                }
                self.directory(&st, None)
            }
            Ok(st) => {
                let flag = if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                    FTW_SL
                } else {
                    FTW_F
                };
                self.call(&st, flag)
            }
        }
    }

    /// A directory: reported before or after its entries, which are
    /// walked; `parent` is the open parent directory under `FTW_CHDIR`.
    fn directory(&mut self, st: &stat64, parent: Option<c_int>) -> c_int {
        let name = self.name();
        let entries = match names(&name) {
            Ok(entries) => entries,
            Err(libc::EACCES) => return self.call(st, FTW_DNR),
            Err(e) => {
                errno::set(e);
                return -1;
            }
        };
        if !self.has(FTW_DEPTH) {
            let result = self.call(st, FTW_D);
            if result != 0 {
                return result;
            }
        }
        let mut here = None;
        if self.has(FTW_CHDIR) {
            let fd = open_dir(&name);
            // SAFETY: `fchdir` is this library's own wrapper.
            if fd < 0 || unsafe { libc::fchdir(fd) } < 0 {
                if fd >= 0 {
                    close_quietly(fd);
                }
                return -1;
            }
            here = Some(fd);
        }
        let (old_len, old_base) = (self.path.len(), self.ftw.base);
        self.ftw.level += 1;
        if self.path.last() != Some(&b'/') {
            self.path.push(b'/');
        }
        let base = self.path.len();
        self.ftw.base = c_int::try_from(base).unwrap_or(c_int::MAX);
        let mut result = 0;
        for entry in entries {
            self.path.truncate(base);
            self.path.extend_from_slice(&entry);
            result = self.entry(here);
            if result != 0 {
                break;
            }
        }
        self.path.truncate(old_len);
        self.ftw.level -= 1;
        self.ftw.base = old_base;
        if self.has(FTW_ACTIONRETVAL) && result == FTW_SKIP_SIBLINGS {
            result = 0;
        }
        if result == 0 && self.has(FTW_DEPTH) {
            result = self.call(st, FTW_DP);
        }
        let going_on =
            result == 0 || (self.has(FTW_ACTIONRETVAL) && result != -1 && result != FTW_STOP);
        if let Some(parent) = parent.filter(|_| going_on) {
            // SAFETY: `parent` is open; `fchdir` is this library's own wrapper.
            if unsafe { libc::fchdir(parent) } < 0 {
                result = -1;
            }
        }
        if let Some(fd) = here {
            close_quietly(fd);
        }
        result
    }

    /// An entry of a directory, as the C library's `process_entry`.
    fn entry(&mut self, parent: Option<c_int>) -> c_int {
        let name = self.name();
        let phys = self.has(FTW_PHYS);
        let (st, flag) = match stat_of(&name, !phys) {
            Ok(st) => {
                let flag = match st.st_mode & libc::S_IFMT {
                    libc::S_IFDIR => FTW_D,
                    libc::S_IFLNK => FTW_SL,
                    _ => FTW_F,
                };
                (st, flag)
            }
            Err(e) if e != libc::EACCES && e != libc::ENOENT => {
                errno::set(e);
                return -1;
            }
            Err(_) if phys => (blank(), FTW_NS),
            Err(_) => match stat_of(&name, false) {
                Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => (st, FTW_SLN),
                Ok(st) => (st, FTW_NS),
                Err(_) => (blank(), FTW_NS),
            },
        };
        let mut result = 0;
        if flag == FTW_NS || !self.has(FTW_MOUNT) || st.st_dev == self.dev {
            if flag == FTW_D {
                if phys || self.seen.insert((st.st_dev, st.st_ino)) {
                    result = self.directory(&st, parent);
                }
            } else {
                result = self.call(&st, flag);
            }
        }
        if self.has(FTW_ACTIONRETVAL) && result == FTW_SKIP_SUBTREE {
            result = 0;
        }
        result
    }
}

/// Walks from a remote starting path.
///
/// # Safety
///
/// `path` is a C string.
unsafe fn walk(path: *const c_char, callback: Callback, flags: c_int) -> c_int {
    // SAFETY: the caller's contract.
    let path = unsafe { core::ffi::CStr::from_ptr(path) }
        .to_bytes()
        .to_vec();
    if path.is_empty() {
        errno::set(libc::ENOENT);
        return -1;
    }
    let mut walk = Walk {
        callback,
        flags,
        path,
        ftw: Ftw { base: 0, level: 0 },
        dev: 0,
        seen: HashSet::new(),
    };
    walk.start()
}

/// Whether a walk starts on a remote path.
///
/// # Safety
///
/// `path` is null or a C string.
unsafe fn remote(path: *const c_char) -> bool {
    // SAFETY: the caller's contract.
    unsafe { route::path(path) }.is_some()
}

/// `nftw`: remote trees are walked through this library.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn nftw(
    dir: *const c_char,
    func: Option<NftwFn<libc::stat>>,
    nopenfd: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    match (func, unsafe { remote(dir) }) {
        // SAFETY: `struct stat` and `struct stat64` share one layout on x86-64.
        (Some(f), true) => unsafe {
            walk(
                dir,
                Callback::Nftw(core::mem::transmute::<NftwFn<libc::stat>, NftwFn<stat64>>(
                    f,
                )),
                flags,
            )
        },
        // SAFETY: forwarded call.
        _ => unsafe { next::nftw(route::local(dir).as_ptr(), func, nopenfd, flags) },
    }
}

/// `nftw64`: as `nftw`.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn nftw64(
    dir: *const c_char,
    func: Option<NftwFn<stat64>>,
    nopenfd: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    match (func, unsafe { remote(dir) }) {
        // SAFETY: the caller's contract.
        (Some(f), true) => unsafe { walk(dir, Callback::Nftw(f), flags) },
        // SAFETY: forwarded call.
        _ => unsafe { next::nftw64(route::local(dir).as_ptr(), func, nopenfd, flags) },
    }
}

/// `ftw`: remote trees are walked through this library.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn ftw(
    dir: *const c_char,
    func: Option<FtwFn<libc::stat>>,
    nopenfd: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    match (func, unsafe { remote(dir) }) {
        // SAFETY: `struct stat` and `struct stat64` share one layout on x86-64.
        (Some(f), true) => unsafe {
            walk(
                dir,
                Callback::Ftw(core::mem::transmute::<FtwFn<libc::stat>, FtwFn<stat64>>(f)),
                0,
            )
        },
        // SAFETY: forwarded call.
        _ => unsafe { next::ftw(route::local(dir).as_ptr(), func, nopenfd) },
    }
}

/// `ftw64`: as `ftw`.
///
/// # Safety
///
/// As the C function.
#[unsafe(no_mangle)]
unsafe extern "C" fn ftw64(
    dir: *const c_char,
    func: Option<FtwFn<stat64>>,
    nopenfd: c_int,
) -> c_int {
    // SAFETY: the caller's contract.
    match (func, unsafe { remote(dir) }) {
        // SAFETY: the caller's contract.
        (Some(f), true) => unsafe { walk(dir, Callback::Ftw(f), 0) },
        // SAFETY: forwarded call.
        _ => unsafe { next::ftw64(route::local(dir).as_ptr(), func, nopenfd) },
    }
}
