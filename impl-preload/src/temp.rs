//! Temporary files on remote paths: `mkstemp`, `mkostemp`, `mkstemps`,
//! `mkostemps` (and their `64` forms), `mkdtemp` and `mktemp`.
//!
//! The C library makes the name and creates the file with its own internal
//! `open`, which never reaches this library; for a template under
//! `/REMOTE@` the name is made here and the file created through the
//! library's own remote open (`O_CREAT | O_EXCL`, mode 0600) or `MKDIR`
//! (0700), trying new names while they exist. `sed -i` writes its output
//! so, then renames it over the input.

use core::ffi::{c_char, c_int};

use crate::errno::guard;
use crate::remote::Errno;
use crate::route;
use crate::{next, open};

/// How many names are tried before giving up with `EEXIST`.
const ATTEMPTS: usize = 238_328;

/// The letters the random part is made of, as the C library's.
const LETTERS: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// The six `X` of a template that ends with `suffix` bytes, as a range.
///
/// # Safety
///
/// `template` is null or a NUL-terminated string.
unsafe fn xs<'a>(template: *mut c_char, suffix: c_int) -> Result<&'a mut [u8], Errno> {
    if template.is_null() {
        return Err(libc::EINVAL);
    }
    // SAFETY: a NUL-terminated string, writable as the caller's contract says.
    let len = unsafe { libc::strlen(template) };
    // SAFETY: `template` holds `len` bytes.
    let bytes = unsafe { core::slice::from_raw_parts_mut(template.cast::<u8>(), len) };
    let suffix = usize::try_from(suffix).map_err(|_| libc::EINVAL)?;
    let end = len.checked_sub(suffix).ok_or(libc::EINVAL)?;
    let start = end.checked_sub(6).ok_or(libc::EINVAL)?;
    let x = bytes.get_mut(start..end).ok_or(libc::EINVAL)?;
    if x != b"XXXXXX" {
        return Err(libc::EINVAL);
    }
    Ok(x)
}

/// Fills `x` with random letters.
fn randomize(x: &mut [u8]) {
    let mut random = [0u8; 6];
    // SAFETY: `random` is writable for its length.
    let got = unsafe { libc::getrandom(random.as_mut_ptr().cast(), random.len(), 0) };
    if got != random.len() as isize {
        // Without the kernel's randomness, the clock and the pid will do.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 40;
        random = seed.to_le_bytes()[..6].try_into().unwrap_or_default();
    }
    for (dst, r) in x.iter_mut().zip(random) {
        *dst = LETTERS[usize::from(r) % LETTERS.len()];
    }
}

/// What to make of a template's name.
enum Make {
    File(c_int),
    Dir,
    /// Nothing: a name that does not exist now (`mktemp`).
    Nothing,
}

/// Makes a unique name from a remote template and creates what `make` says;
/// returns the new descriptor (or 0).
///
/// # Safety
///
/// `template` is a writable NUL-terminated string.
unsafe fn make_remote(template: *mut c_char, suffix: c_int, make: Make) -> Result<c_int, Errno> {
    for _ in 0..ATTEMPTS {
        // SAFETY: the caller's contract.
        randomize(unsafe { xs(template, suffix) }?);
        // SAFETY: as above.
        let r = match unsafe { route::path(template) } {
            Some(r) => r?,
            // The name left the server: it is the C library's to make.
            None => return Err(libc::EINVAL),
        };
        let made = match make {
            Make::File(flags) => {
                let flags = flags | libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
                open::open_remote(r, flags, 0o600)
            }
            Make::Dir => r.server.mkdir(r.base, &r.path, 0o700).map(|()| 0),
            Make::Nothing => match r
                .server
                .stat(r.base, &r.path, orfa_wire::PathFlags::NOFOLLOW)
            {
                Err(libc::ENOENT) => Ok(0),
                Err(e) => Err(e),
                Ok(_) => Err(libc::EEXIST),
            },
        };
        match made {
            Err(libc::EEXIST) => continue,
            other => return other,
        }
    }
    Err(libc::EEXIST)
}

/// Whether a template names something remote.
///
/// # Safety
///
/// `template` is null or a NUL-terminated string.
unsafe fn is_remote(template: *const c_char) -> bool {
    // SAFETY: forwarded contract.
    unsafe { route::path(template) }.is_some()
}

/// Defines `mkostemps`-like functions (template, suffix length, flags).
macro_rules! mkostemps {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote templates are created on the server.")]
        ///
        /// # Safety
        ///
        /// `template` is a writable NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(template: *mut c_char, suffix: c_int, flags: c_int) -> c_int {
            // SAFETY: the caller's contract.
            if !unsafe { is_remote(template) } {
                // SAFETY: forwarded call.
                return unsafe { next::$name(template, suffix, flags) };
            }
            // SAFETY: the caller's contract.
            guard(-1, || unsafe { make_remote(template, suffix, Make::File(flags)) })
        }
    )*};
}

mkostemps!(mkostemps, mkostemps64);

/// Defines `mkstemp`-like functions (template only).
macro_rules! mkstemp {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote templates are created on the server.")]
        ///
        /// # Safety
        ///
        /// `template` is a writable NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(template: *mut c_char) -> c_int {
            // SAFETY: the caller's contract.
            if !unsafe { is_remote(template) } {
                // SAFETY: forwarded call.
                return unsafe { next::$name(template) };
            }
            // SAFETY: the caller's contract.
            guard(-1, || unsafe { make_remote(template, 0, Make::File(0)) })
        }
    )*};
}

mkstemp!(mkstemp, mkstemp64);

/// Defines `mkostemp`-like functions (template, flags).
macro_rules! mkostemp {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote templates are created on the server.")]
        ///
        /// # Safety
        ///
        /// `template` is a writable NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(template: *mut c_char, flags: c_int) -> c_int {
            // SAFETY: the caller's contract.
            if !unsafe { is_remote(template) } {
                // SAFETY: forwarded call.
                return unsafe { next::$name(template, flags) };
            }
            // SAFETY: the caller's contract.
            guard(-1, || unsafe { make_remote(template, 0, Make::File(flags)) })
        }
    )*};
}

mkostemp!(mkostemp, mkostemp64);

/// Defines `mkstemps`-like functions (template, suffix length).
macro_rules! mkstemps {
    ($($name:ident),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: remote templates are created on the server.")]
        ///
        /// # Safety
        ///
        /// `template` is a writable NUL-terminated string.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(template: *mut c_char, suffix: c_int) -> c_int {
            // SAFETY: the caller's contract.
            if !unsafe { is_remote(template) } {
                // SAFETY: forwarded call.
                return unsafe { next::$name(template, suffix) };
            }
            // SAFETY: the caller's contract.
            guard(-1, || unsafe { make_remote(template, suffix, Make::File(0)) })
        }
    )*};
}

mkstemps!(mkstemps, mkstemps64);

/// `mkdtemp`: remote templates make a directory (0700) on the server.
///
/// # Safety
///
/// `template` is a writable NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mkdtemp(template: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's contract.
    if !unsafe { is_remote(template) } {
        // SAFETY: forwarded call.
        return unsafe { next::mkdtemp(template) };
    }
    guard(core::ptr::null_mut(), || {
        // SAFETY: the caller's contract.
        unsafe { make_remote(template, 0, Make::Dir) }.map(|_| template)
    })
}

/// `mktemp`: remote templates get a name that does not exist on the server
/// now (an empty string on failure, as the C library's).
///
/// # Safety
///
/// `template` is a writable NUL-terminated string.
#[unsafe(no_mangle)]
unsafe extern "C" fn mktemp(template: *mut c_char) -> *mut c_char {
    // SAFETY: the caller's contract.
    if !unsafe { is_remote(template) } {
        // SAFETY: forwarded call.
        return unsafe { next::mktemp(template) };
    }
    // SAFETY: the caller's contract.
    match guard(-1, || unsafe { make_remote(template, 0, Make::Nothing) }) {
        0 => template,
        _ => {
            // SAFETY: `template` is writable and at least one byte long.
            unsafe { *template = 0 };
            template
        }
    }
}
