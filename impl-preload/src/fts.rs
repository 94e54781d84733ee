//! The C library's `fts` functions (`fts_open`, `fts_read`, `fts_children`,
//! `fts_set`, `fts_close` and their `fts64_` forms) when a root is remote.
//!
//! The C library's `fts` reads directories and changes directory with its
//! internal calls, which never reach this library. So a walk any of whose
//! roots is remote is done here, over this library's `opendir`, `stat` and
//! `lstat`, with the C library's public `FTS` and `FTSENT` structures and
//! its order of visits: roots in the order given (or sorted by the
//! caller's comparison), each directory before (`FTS_D`) and after
//! (`FTS_DP`) its entries, with `FTS_PHYSICAL`, `FTS_LOGICAL`,
//! `FTS_COMFOLLOW`, `FTS_NOSTAT`, `FTS_SEEDOT`, `FTS_XDEV` and the
//! `fts_set` instructions `FTS_SKIP`, `FTS_AGAIN` and `FTS_FOLLOW`.
//!
//! Such a walk never changes the current directory, as if `FTS_NOCHDIR`
//! were given: each entry's `fts_accpath` is its whole path, valid from any
//! directory. Each entry carries its own copy of its path, valid while the
//! entry is. `FTS_NOSTAT` leaves unexamined the entries whose directory
//! listing says they are not directories, without the C library's count of
//! links. The C library's `FTS` of a local walk is told apart from this
//! module's by the address, which this module records.

use core::ffi::{CStr, c_char, c_int, c_long, c_ushort, c_void};
use core::mem::{offset_of, size_of};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use libc::stat64;

use crate::errno;
use crate::{dir, next, route, stat};

#[cfg(test)]
mod tests;

/// glibc's `FTSENT` (and `FTSENT64`, the same layout on x86-64).
#[repr(C)]
pub(crate) struct Ent {
    pub(crate) fts_cycle: *mut Ent,
    pub(crate) fts_parent: *mut Ent,
    pub(crate) fts_link: *mut Ent,
    pub(crate) fts_number: c_long,
    pub(crate) fts_pointer: *mut c_void,
    pub(crate) fts_accpath: *mut c_char,
    pub(crate) fts_path: *mut c_char,
    pub(crate) fts_errno: c_int,
    pub(crate) fts_symfd: c_int,
    pub(crate) fts_pathlen: c_ushort,
    pub(crate) fts_namelen: c_ushort,
    pub(crate) fts_ino: u64,
    pub(crate) fts_dev: u64,
    pub(crate) fts_nlink: u64,
    pub(crate) fts_level: i16,
    pub(crate) fts_info: c_ushort,
    pub(crate) fts_flags: c_ushort,
    pub(crate) fts_instr: c_ushort,
    pub(crate) fts_statp: *mut stat64,
    pub(crate) fts_name: [c_char; 1],
}

/// The caller's comparison of two entries.
pub(crate) type Compar = unsafe extern "C" fn(*const *const Ent, *const *const Ent) -> c_int;

/// glibc's `FTS` (and `FTS64`).
#[repr(C)]
pub(crate) struct Fts {
    pub(crate) fts_cur: *mut Ent,
    pub(crate) fts_child: *mut Ent,
    pub(crate) fts_array: *mut *mut Ent,
    pub(crate) fts_dev: u64,
    pub(crate) fts_path: *mut c_char,
    pub(crate) fts_rfd: c_int,
    pub(crate) fts_pathlen: c_int,
    pub(crate) fts_nitems: c_int,
    pub(crate) fts_compar: Option<Compar>,
    pub(crate) fts_options: c_int,
}

const FTS_COMFOLLOW: c_int = 0x0001;
const FTS_LOGICAL: c_int = 0x0002;
const FTS_NOCHDIR: c_int = 0x0004;
const FTS_NOSTAT: c_int = 0x0008;
const FTS_PHYSICAL: c_int = 0x0010;
const FTS_SEEDOT: c_int = 0x0020;
const FTS_XDEV: c_int = 0x0040;
const FTS_OPTIONMASK: c_int = 0x00ff;
/// Private: the children were read by name only.
const FTS_NAMEONLY: c_int = 0x0100;
/// Private: an unrecoverable error stopped the walk.
const FTS_STOP: c_int = 0x0200;

const ROOTPARENTLEVEL: i16 = -1;
const ROOTLEVEL: i16 = 0;

const FTS_D: c_ushort = 1;
const FTS_DC: c_ushort = 2;
const FTS_DEFAULT: c_ushort = 3;
const FTS_DNR: c_ushort = 4;
const FTS_DOT: c_ushort = 5;
const FTS_DP: c_ushort = 6;
const FTS_ERR: c_ushort = 7;
const FTS_F: c_ushort = 8;
const FTS_INIT: c_ushort = 9;
const FTS_NS: c_ushort = 10;
const FTS_NSOK: c_ushort = 11;
const FTS_SL: c_ushort = 12;
const FTS_SLNONE: c_ushort = 13;

const FTS_AGAIN: c_int = 1;
const FTS_FOLLOW: c_int = 2;
const FTS_NOINSTR: c_int = 3;
const FTS_SKIP: c_int = 4;

/// How a directory is read: for `fts_read`, `fts_children`, or names only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Read,
    Child,
    Names,
}

/// The walks of this module: addresses of their `Fts`.
static WALKS: Mutex<Vec<usize>> = Mutex::new(Vec::new());

/// How many walks of this module are open: local walks check this first.
static OPEN: AtomicUsize = AtomicUsize::new(0);

fn walks() -> std::sync::MutexGuard<'static, Vec<usize>> {
    WALKS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether `sp` is a walk of this module.
fn ours(sp: *mut Fts) -> bool {
    OPEN.load(Ordering::Acquire) != 0 && walks().contains(&(sp as usize))
}

/// Where an entry's stat buffer starts in its block, after the name and path.
fn stat_offset(name: usize, path: usize) -> usize {
    let end = offset_of!(Ent, fts_name) + name + 1 + path + 1;
    end.next_multiple_of(core::mem::align_of::<stat64>())
}

/// A new entry named `name` with path `path`, in one `malloc` block
/// (header, name, path, stat buffer), zeroed; null if out of memory.
fn alloc(name: &[u8], path: &[u8], level: i16, parent: *mut Ent) -> *mut Ent {
    let at = stat_offset(name.len(), path.len());
    let size = at + size_of::<stat64>();
    // SAFETY: calloc has no preconditions.
    let block = unsafe { libc::calloc(1, size) }.cast::<u8>();
    if block.is_null() {
        return ptr::null_mut();
    }
    let p = block.cast::<Ent>();
    // SAFETY: `block` holds `size` zeroed bytes, laid out as computed by
    // `stat_offset`: the name and path fit before the stat buffer.
    unsafe {
        let name_at = block.add(offset_of!(Ent, fts_name));
        ptr::copy_nonoverlapping(name.as_ptr(), name_at, name.len());
        let path_at = name_at.add(name.len() + 1);
        ptr::copy_nonoverlapping(path.as_ptr(), path_at, path.len());
        (*p).fts_path = path_at.cast();
        (*p).fts_accpath = path_at.cast();
        (*p).fts_statp = block.add(at).cast();
        (*p).fts_namelen = c_ushort::try_from(name.len()).unwrap_or(c_ushort::MAX);
        (*p).fts_pathlen = c_ushort::try_from(path.len()).unwrap_or(c_ushort::MAX);
        (*p).fts_level = level;
        (*p).fts_parent = parent;
        (*p).fts_instr = FTS_NOINSTR as c_ushort;
        (*p).fts_symfd = -1;
    }
    p
}

/// Frees a list of entries linked by `fts_link`.
///
/// # Safety
///
/// Every entry of the list came from [`alloc`] and is not used after.
unsafe fn free_list(mut p: *mut Ent) {
    while !p.is_null() {
        // SAFETY: the caller's contract.
        let next = unsafe { (*p).fts_link };
        // SAFETY: as above.
        unsafe { libc::free(p.cast()) };
        p = next;
    }
}

/// The bytes of an entry's path.
///
/// # Safety
///
/// `p` is a live entry.
unsafe fn path_of<'a>(p: *const Ent) -> &'a [u8] {
    // SAFETY: the caller's contract: its path is a C string in its block.
    unsafe { CStr::from_ptr((*p).fts_path) }.to_bytes()
}

/// Stats an entry (following links if `follow` or the walk is logical) and
/// returns its `fts_info`, as the C library's `fts_stat`.
///
/// # Safety
///
/// `sp` and `p` are live.
unsafe fn stat_entry(sp: *mut Fts, p: *mut Ent, follow: bool) -> c_ushort {
    // SAFETY: the caller's contract.
    let (options, path, sbp) = unsafe { ((*sp).fts_options, (*p).fts_accpath, (*p).fts_statp) };
    // SAFETY: `path` is a C string and `sbp` a stat buffer, both in the block.
    unsafe {
        if options & FTS_LOGICAL != 0 || follow {
            if stat::stat64(path, sbp) != 0 {
                let saved = errno::get();
                if stat::lstat64(path, sbp) == 0 {
                    errno::set(0);
                    return FTS_SLNONE;
                }
                (*p).fts_errno = saved;
                ptr::write_bytes(sbp, 0, 1);
                return FTS_NS;
            }
        } else if stat::lstat64(path, sbp) != 0 {
            (*p).fts_errno = errno::get();
            ptr::write_bytes(sbp, 0, 1);
            return FTS_NS;
        }
    }
    // SAFETY: `sbp` now holds the file's attributes.
    let st = unsafe { &*sbp };
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => {
            // SAFETY: `p` is live; its parents are live up to the root parent.
            unsafe {
                (*p).fts_dev = st.st_dev;
                (*p).fts_ino = st.st_ino;
                (*p).fts_nlink = st.st_nlink;
                let name = CStr::from_ptr((*p).fts_name.as_ptr()).to_bytes();
                if name == b"." || name == b".." {
                    return FTS_DOT;
                }
                let mut t = (*p).fts_parent;
                while !t.is_null() && (*t).fts_level >= ROOTLEVEL {
                    if (*t).fts_ino == st.st_ino && (*t).fts_dev == st.st_dev {
                        (*p).fts_cycle = t;
                        return FTS_DC;
                    }
                    t = (*t).fts_parent;
                }
            }
            FTS_D
        }
        libc::S_IFLNK => FTS_SL,
        libc::S_IFREG => FTS_F,
        _ => FTS_DEFAULT,
    }
}

/// Sorts a list with the walk's comparison, if any; returns its new head.
///
/// # Safety
///
/// The entries are live.
unsafe fn sort(compar: Option<Compar>, list: Vec<*mut Ent>) -> *mut Ent {
    let mut list = list;
    if let Some(compar) = compar.filter(|_| list.len() > 1) {
        // SAFETY: `list` holds `len` entry pointers; the comparison takes
        // pointers to two of them, as `qsort` passes.
        unsafe {
            let cmp = core::mem::transmute::<
                Compar,
                unsafe extern "C" fn(*const c_void, *const c_void) -> c_int,
            >(compar);
            libc::qsort(
                list.as_mut_ptr().cast(),
                list.len(),
                size_of::<*mut Ent>(),
                Some(cmp),
            );
        }
    }
    let mut head = ptr::null_mut();
    for &p in list.iter().rev() {
        // SAFETY: the caller's contract.
        unsafe { (*p).fts_link = head };
        head = p;
    }
    head
}

/// Reads the current directory's entries into a list, as the C library's
/// `fts_build`; null if none (or unreadable, which marks a `Read` build's
/// directory `FTS_DNR`).
///
/// # Safety
///
/// `sp` is a live walk of this module whose current entry is a directory.
unsafe fn build(sp: *mut Fts, how: Build) -> *mut Ent {
    // SAFETY: the caller's contract.
    let (cur, options) = unsafe { ((*sp).fts_cur, (*sp).fts_options) };
    // SAFETY: `cur` is live.
    let dirp = unsafe { dir::opendir((*cur).fts_accpath) };
    if dirp.is_null() {
        if how == Build::Read {
            // SAFETY: `cur` is live.
            unsafe {
                (*cur).fts_info = FTS_DNR;
                (*cur).fts_errno = errno::get();
            }
        }
        return ptr::null_mut();
    }
    let nostat = how == Build::Names || (options & FTS_NOSTAT != 0 && options & FTS_PHYSICAL != 0);
    // SAFETY: `cur` is live.
    let (parent_path, level) = unsafe { (path_of(cur).to_vec(), (*cur).fts_level + 1) };
    let mut prefix = parent_path;
    if prefix.last() != Some(&b'/') {
        prefix.push(b'/');
    }
    let mut list = Vec::new();
    let mut failed = false;
    loop {
        // SAFETY: `dirp` is open.
        let d = unsafe { dir::readdir64(dirp) };
        if d.is_null() {
            break;
        }
        // SAFETY: `d` is the stream's current entry, its name a C string.
        let (name, d_type) =
            unsafe { (CStr::from_ptr((*d).d_name.as_ptr()).to_bytes(), (*d).d_type) };
        if options & FTS_SEEDOT == 0 && (name == b"." || name == b"..") {
            continue;
        }
        let mut path = prefix.clone();
        path.extend_from_slice(name);
        let p = alloc(name, &path, level, cur);
        if p.is_null() {
            failed = true;
            break;
        }
        let known_not_dir = d_type != libc::DT_DIR && d_type != libc::DT_UNKNOWN;
        // SAFETY: `p` was just made; `sp` is live.
        unsafe {
            (*p).fts_info = if how == Build::Names || (nostat && known_not_dir) {
                FTS_NSOK
            } else {
                stat_entry(sp, p, false)
            };
        }
        list.push(p);
    }
    // SAFETY: `dirp` is open and not used after.
    unsafe { dir::closedir(dirp) };
    if failed {
        for &p in &list {
            // SAFETY: every entry came from `alloc`.
            unsafe { libc::free(p.cast()) };
        }
        // SAFETY: `sp` is live.
        unsafe { (*sp).fts_options |= FTS_STOP };
        errno::set(libc::ENOMEM);
        return ptr::null_mut();
    }
    if list.is_empty() {
        if how == Build::Read {
            // SAFETY: `cur` is live.
            unsafe { (*cur).fts_info = FTS_DP };
        }
        return ptr::null_mut();
    }
    // SAFETY: the entries are live; `sp` too.
    unsafe { sort((*sp).fts_compar, list) }
}

/// `fts_open` for a walk with a remote root.
///
/// # Safety
///
/// `argv` is a null-terminated array of C strings.
unsafe fn open_walk(argv: *const *mut c_char, options: c_int, compar: Option<Compar>) -> *mut Fts {
    if options & !FTS_OPTIONMASK != 0 {
        errno::set(libc::EINVAL);
        return ptr::null_mut();
    }
    let options = if options & FTS_LOGICAL != 0 {
        options | FTS_NOCHDIR
    } else {
        options
    };
    let sp = Box::into_raw(Box::new(Fts {
        fts_cur: ptr::null_mut(),
        fts_child: ptr::null_mut(),
        fts_array: ptr::null_mut(),
        fts_dev: 0,
        fts_path: ptr::null_mut(),
        fts_rfd: -1,
        fts_pathlen: 0,
        fts_nitems: 0,
        fts_compar: compar,
        fts_options: options,
    }));
    let parent = alloc(b"", b"", ROOTPARENTLEVEL, ptr::null_mut());
    let mut roots = Vec::new();
    let mut failure = if parent.is_null() {
        Some(libc::ENOMEM)
    } else {
        None
    };
    let mut i = 0;
    while failure.is_none() {
        // SAFETY: the caller's contract: the array ends with a null.
        let arg = unsafe { *argv.add(i) };
        if arg.is_null() {
            break;
        }
        i += 1;
        // SAFETY: the caller's contract.
        let name = unsafe { CStr::from_ptr(arg) }.to_bytes();
        if name.is_empty() {
            failure = Some(libc::ENOENT);
            break;
        }
        let base = name.iter().rposition(|&c| c == b'/').map_or(0, |i| i + 1);
        let p = alloc(
            name.get(base..).unwrap_or_default(),
            name,
            ROOTLEVEL,
            parent,
        );
        if p.is_null() {
            failure = Some(libc::ENOMEM);
            break;
        }
        // SAFETY: `sp` and `p` are live.
        unsafe {
            (*p).fts_info = stat_entry(sp, p, options & FTS_COMFOLLOW != 0);
            if (*p).fts_info == FTS_DOT {
                (*p).fts_info = FTS_D;
            }
        }
        roots.push(p);
    }
    let init = alloc(b"", b"", ROOTLEVEL, ptr::null_mut());
    if let Some(e) = failure.or(init.is_null().then_some(libc::ENOMEM)) {
        for p in roots.into_iter().chain([parent, init]) {
            // SAFETY: each came from `alloc` (or is null).
            unsafe { libc::free(p.cast()) };
        }
        // SAFETY: `sp` came from `Box::into_raw` and is not used after.
        drop(unsafe { Box::from_raw(sp) });
        errno::set(e);
        return ptr::null_mut();
    }
    // SAFETY: all live; `init` stands before the first root as the C
    // library's does, so that the first `fts_read` moves on to it.
    unsafe {
        (*init).fts_link = sort(compar, roots);
        (*init).fts_info = FTS_INIT;
        (*sp).fts_cur = init;
    }
    walks().push(sp as usize);
    OPEN.fetch_add(1, Ordering::AcqRel);
    sp
}

/// Makes `p` the current entry of `sp`, with its path as the walk's.
///
/// # Safety
///
/// Both are live.
unsafe fn set_current(sp: *mut Fts, p: *mut Ent) -> *mut Ent {
    // SAFETY: the caller's contract.
    unsafe {
        (*sp).fts_cur = p;
        (*sp).fts_path = (*p).fts_path;
        (*sp).fts_pathlen = c_int::from((*p).fts_pathlen);
    }
    p
}

/// `fts_read` on a walk of this module, as the C library's.
///
/// # Safety
///
/// `sp` is a live walk of this module.
unsafe fn read_walk(sp: *mut Fts) -> *mut Ent {
    // SAFETY: the caller's contract; every entry reached is live.
    unsafe {
        let mut p = (*sp).fts_cur;
        if p.is_null() || (*sp).fts_options & FTS_STOP != 0 {
            return ptr::null_mut();
        }
        let instr = c_int::from((*p).fts_instr);
        (*p).fts_instr = FTS_NOINSTR as c_ushort;
        if instr == FTS_AGAIN {
            (*p).fts_info = stat_entry(sp, p, false);
            return p;
        }
        if instr == FTS_FOLLOW && ((*p).fts_info == FTS_SL || (*p).fts_info == FTS_SLNONE) {
            (*p).fts_info = stat_entry(sp, p, true);
            return p;
        }
        if (*p).fts_info == FTS_D {
            let xdev = (*sp).fts_options & FTS_XDEV != 0 && (*p).fts_dev != (*sp).fts_dev;
            if instr == FTS_SKIP || xdev {
                free_list((*sp).fts_child);
                (*sp).fts_child = ptr::null_mut();
                (*p).fts_info = FTS_DP;
                return p;
            }
            if !(*sp).fts_child.is_null() && (*sp).fts_options & FTS_NAMEONLY != 0 {
                (*sp).fts_options &= !FTS_NAMEONLY;
                free_list((*sp).fts_child);
                (*sp).fts_child = ptr::null_mut();
            }
            if (*sp).fts_child.is_null() {
                (*sp).fts_child = build(sp, Build::Read);
                if (*sp).fts_child.is_null() {
                    if (*sp).fts_options & FTS_STOP != 0 {
                        return ptr::null_mut();
                    }
                    return p;
                }
            }
            let child = (*sp).fts_child;
            (*sp).fts_child = ptr::null_mut();
            return set_current(sp, child);
        }
        loop {
            let done = p;
            p = (*done).fts_link;
            if p.is_null() {
                break;
            }
            libc::free(done.cast());
            set_current(sp, p);
            if (*p).fts_level == ROOTLEVEL {
                (*sp).fts_dev = (*p).fts_dev;
                return p;
            }
            let instr = c_int::from((*p).fts_instr);
            if instr == FTS_SKIP {
                continue;
            }
            if instr == FTS_FOLLOW {
                (*p).fts_info = stat_entry(sp, p, true);
                (*p).fts_instr = FTS_NOINSTR as c_ushort;
            }
            return p;
        }
        let done = (*sp).fts_cur;
        let parent = (*done).fts_parent;
        libc::free(done.cast());
        if parent.is_null() || (*parent).fts_level == ROOTPARENTLEVEL {
            libc::free(parent.cast());
            (*sp).fts_cur = ptr::null_mut();
            errno::set(0);
            return ptr::null_mut();
        }
        set_current(sp, parent);
        (*parent).fts_info = if (*parent).fts_errno != 0 {
            FTS_ERR
        } else {
            FTS_DP
        };
        parent
    }
}

/// `fts_children` on a walk of this module.
///
/// # Safety
///
/// `sp` is a live walk of this module.
unsafe fn children_walk(sp: *mut Fts, instr: c_int) -> *mut Ent {
    if instr != 0 && instr != FTS_NAMEONLY {
        errno::set(libc::EINVAL);
        return ptr::null_mut();
    }
    // SAFETY: the caller's contract.
    unsafe {
        let p = (*sp).fts_cur;
        errno::set(0);
        if p.is_null() || (*sp).fts_options & FTS_STOP != 0 {
            return ptr::null_mut();
        }
        if (*p).fts_info == FTS_INIT {
            return (*p).fts_link;
        }
        if (*p).fts_info != FTS_D {
            return ptr::null_mut();
        }
        free_list((*sp).fts_child);
        (*sp).fts_child = ptr::null_mut();
        let how = if instr == FTS_NAMEONLY {
            (*sp).fts_options |= FTS_NAMEONLY;
            Build::Names
        } else {
            (*sp).fts_options &= !FTS_NAMEONLY;
            Build::Child
        };
        (*sp).fts_child = build(sp, how);
        (*sp).fts_child
    }
}

/// `fts_close` on a walk of this module: frees every entry left.
///
/// # Safety
///
/// `sp` is a live walk of this module, not used after.
unsafe fn close_walk(sp: *mut Fts) -> c_int {
    walks().retain(|&w| w != sp as usize);
    OPEN.fetch_sub(1, Ordering::AcqRel);
    // SAFETY: the caller's contract; the entries left are the current one,
    // its later siblings and its parents, up to the root parent.
    unsafe {
        let mut p = (*sp).fts_cur;
        while !p.is_null() {
            let next = if (*p).fts_link.is_null() {
                (*p).fts_parent
            } else {
                (*p).fts_link
            };
            libc::free(p.cast());
            p = next;
        }
        free_list((*sp).fts_child);
        drop(Box::from_raw(sp));
    }
    0
}

/// Whether any root of an `fts_open` call is remote.
///
/// # Safety
///
/// `argv` is null or a null-terminated array of C strings.
unsafe fn any_remote(argv: *const *mut c_char) -> bool {
    if argv.is_null() {
        return false;
    }
    let mut i = 0;
    loop {
        // SAFETY: the caller's contract.
        let arg = unsafe { *argv.add(i) };
        if arg.is_null() {
            return false;
        }
        // SAFETY: the caller's contract.
        if unsafe { route::path(arg) }.is_some() {
            return true;
        }
        i += 1;
    }
}

/// Defines the five `fts` functions under one prefix.
macro_rules! fts_functions {
    ($open:ident, $read:ident, $children:ident, $set:ident, $close:ident) => {
        #[doc = concat!("`", stringify!($open), "`: walks with a remote root are done here.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $open(
            argv: *const *mut c_char,
            options: c_int,
            compar: Option<Compar>,
        ) -> *mut Fts {
            // SAFETY: the caller's contract.
            if unsafe { any_remote(argv) } {
                // SAFETY: the caller's contract.
                return unsafe { open_walk(argv, options, compar) };
            }
            // SAFETY: forwarded call.
            unsafe { next::$open(argv, options, compar) }
        }

        #[doc = concat!("`", stringify!($read), "`: the next entry.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $read(sp: *mut Fts) -> *mut Ent {
            if ours(sp) {
                // SAFETY: a live walk of this module.
                return unsafe { read_walk(sp) };
            }
            // SAFETY: forwarded call.
            unsafe { next::$read(sp) }
        }

        #[doc = concat!("`", stringify!($children), "`: the current directory's entries.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $children(sp: *mut Fts, instr: c_int) -> *mut Ent {
            if ours(sp) {
                // SAFETY: a live walk of this module.
                return unsafe { children_walk(sp, instr) };
            }
            // SAFETY: forwarded call.
            unsafe { next::$children(sp, instr) }
        }

        #[doc = concat!("`", stringify!($set), "`: an instruction for an entry.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $set(sp: *mut Fts, p: *mut Ent, instr: c_int) -> c_int {
            if !ours(sp) {
                // SAFETY: forwarded call.
                return unsafe { next::$set(sp, p, instr) };
            }
            if p.is_null() || ![0, FTS_AGAIN, FTS_FOLLOW, FTS_NOINSTR, FTS_SKIP].contains(&instr) {
                errno::set(libc::EINVAL);
                return -1;
            }
            // SAFETY: `p` is an entry of the walk, live as the caller's contract says.
            unsafe { (*p).fts_instr = instr as c_ushort };
            0
        }

        #[doc = concat!("`", stringify!($close), "`: ends a walk.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $close(sp: *mut Fts) -> c_int {
            if ours(sp) {
                // SAFETY: a live walk of this module.
                return unsafe { close_walk(sp) };
            }
            // SAFETY: forwarded call.
            unsafe { next::$close(sp) }
        }
    };
}

fts_functions!(fts_open, fts_read, fts_children, fts_set, fts_close);
fts_functions!(
    fts64_open,
    fts64_read,
    fts64_children,
    fts64_set,
    fts64_close
);

/// Takes this module's lock for a `fork`, without waiting (see `fork_hold`).
pub(crate) fn try_hold_for_fork() -> Option<crate::fork_hold::Held> {
    crate::fork_hold::try_take(&WALKS)
}
