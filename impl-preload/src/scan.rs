//! `scandir`, `scandirat` and their `64` forms on remote directories.
//!
//! The C library's `scandir` reads the directory with its own internal
//! calls, which never reach this library, so a remote directory is read
//! here through the library's own stream: each entry the filter keeps is
//! copied into its own `malloc` block, the list sorted with `qsort` and the
//! caller's comparison, and everything is the caller's to `free`, as with
//! the C library's.

use core::ffi::{c_char, c_int, c_void};

use libc::DIR;

use crate::errno::{self, guard};
use crate::remote::Errno;
use crate::route::{self, RemotePath};
use crate::{dir, next, open, vfd};

/// The caller's filter, for `struct dirent` or `struct dirent64` (`D`).
type Filter<D> = Option<unsafe extern "C" fn(*const D) -> c_int>;

/// The caller's comparison.
type Compar<D> = unsafe extern "C" fn(*mut *const D, *mut *const D) -> c_int;

/// Calls the caller's comparison (passed as `arg`) for `qsort_r`.
///
/// # Safety
///
/// `arg` points to a `Compar<D>`; `a` and `b` to elements of the list.
unsafe extern "C" fn compare<D>(a: *const c_void, b: *const c_void, arg: *mut c_void) -> c_int {
    // SAFETY: the caller's contract.
    let compar = unsafe { *arg.cast::<Compar<D>>() };
    // SAFETY: the list's elements are `*const D`, which the comparison takes.
    unsafe { compar(a.cast_mut().cast(), b.cast_mut().cast()) }
}

/// Frees a partly built list.
///
/// # Safety
///
/// Every pointer came from `malloc`.
unsafe fn free_all<D>(list: &[*mut D]) {
    for &e in list {
        // SAFETY: the caller's contract.
        unsafe { libc::free(e.cast()) };
    }
}

/// Reads the remote stream `dirp` into a new list, which it closes.
///
/// # Safety
///
/// `dirp` is an open remote stream; `namelist` is valid for writing.
unsafe fn scan<D>(
    dirp: *mut DIR,
    namelist: *mut *mut *mut D,
    filter: Filter<D>,
    compar: Option<Compar<D>>,
) -> Result<c_int, Errno> {
    let mut list: Vec<*mut D> = Vec::new();
    let outcome = loop {
        errno::set(0);
        // SAFETY: `dirp` is an open stream.
        let e = unsafe { dir::readdir64(dirp) };
        if e.is_null() {
            match errno::get() {
                0 => break Ok(()),
                err => break Err(err),
            }
        }
        // SAFETY: `e` is the stream's current entry; `filter` is the caller's.
        // (`struct dirent` and `struct dirent64` share one layout on x86-64.)
        if filter.is_some_and(|f| unsafe { f(e.cast()) } == 0) {
            continue;
        }
        // SAFETY: `e` points to an entry of `d_reclen` bytes.
        let len = usize::from(unsafe { (*e).d_reclen });
        // SAFETY: malloc has no preconditions.
        let copy = unsafe { libc::malloc(len) }.cast::<D>();
        if copy.is_null() {
            break Err(libc::ENOMEM);
        }
        // SAFETY: both hold `len` bytes and do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(e.cast::<u8>(), copy.cast::<u8>(), len) };
        list.push(copy);
    };
    // SAFETY: `dirp` is open and not used after.
    unsafe { dir::closedir(dirp) };
    if let Err(e) = outcome {
        // SAFETY: every entry came from malloc.
        unsafe { free_all(&list) };
        return Err(e);
    }
    let n = c_int::try_from(list.len()).map_err(|_| libc::EOVERFLOW)?;
    let size = list.len().max(1) * core::mem::size_of::<*mut D>();
    // SAFETY: malloc has no preconditions.
    let array = unsafe { libc::malloc(size) }.cast::<*mut D>();
    if array.is_null() {
        // SAFETY: every entry came from malloc.
        unsafe { free_all(&list) };
        return Err(libc::ENOMEM);
    }
    // SAFETY: `array` holds `list.len()` pointers.
    unsafe { core::ptr::copy_nonoverlapping(list.as_ptr(), array, list.len()) };
    if let Some(compar) = compar {
        // SAFETY: `array` holds `list.len()` pointers; `compare::<D>` gets
        // the caller's comparison through `arg`, which outlives the call.
        unsafe {
            libc::qsort_r(
                array.cast(),
                list.len(),
                core::mem::size_of::<*mut D>(),
                Some(compare::<D>),
                (&raw const compar).cast_mut().cast(),
            )
        };
    }
    if namelist.is_null() {
        return Err(libc::EFAULT);
    }
    // SAFETY: the caller's contract.
    unsafe { namelist.write(array) };
    Ok(n)
}

/// Opens a remote directory as a stream of this library.
fn open_stream(r: RemotePath) -> Result<*mut DIR, Errno> {
    let fd = open::open_remote(r, libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC, 0)?;
    // SAFETY: `fd` is a remote directory descriptor just opened.
    let dirp = unsafe { dir::fdopendir(fd) };
    if dirp.is_null() {
        let e = errno::get();
        let _ = vfd::close(fd);
        return Err(e);
    }
    Ok(dirp)
}

/// Defines `scandir`-like functions.
macro_rules! scandir {
    ($($name:ident($ent:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote directories are read through this library.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            path: *const c_char,
            namelist: *mut *mut *mut $ent,
            filter: Option<unsafe extern "C" fn(*const $ent) -> c_int>,
            compar: Option<unsafe extern "C" fn(*mut *const $ent, *mut *const $ent) -> c_int>,
        ) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::path(path) } {
                // SAFETY: forwarded call.
                None => unsafe {
                    next::$name(route::local(path).as_ptr(), namelist, filter, compar)
                },
                Some(r) => guard(-1, || {
                    let dirp = open_stream(r?)?;
                    // SAFETY: the caller's contract.
                    unsafe { scan(dirp, namelist, filter, compar) }
                }),
            }
        }
    )*};
}

scandir!(scandir(libc::dirent), scandir64(libc::dirent64));

/// Defines `scandirat`-like functions.
macro_rules! scandirat {
    ($($name:ident($ent:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote directories are read through this library.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            dirfd: c_int,
            path: *const c_char,
            namelist: *mut *mut *mut $ent,
            filter: Option<unsafe extern "C" fn(*const $ent) -> c_int>,
            compar: Option<unsafe extern "C" fn(*mut *const $ent, *mut *const $ent) -> c_int>,
        ) -> c_int {
            // SAFETY: the caller passes a C string or null.
            match unsafe { route::at(dirfd, path, false) } {
                // SAFETY: forwarded call.
                None => unsafe {
                    let local = route::local_at(dirfd, path);
                    next::$name(dirfd, local.as_ptr(), namelist, filter, compar)
                },
                Some(r) => guard(-1, || {
                    let dirp = open_stream(r?)?;
                    // SAFETY: the caller's contract.
                    unsafe { scan(dirp, namelist, filter, compar) }
                }),
            }
        }
    )*};
}

scandirat!(scandirat(libc::dirent), scandirat64(libc::dirent64));
