//! `mmap` of remote files.
//!
//! The kernel cannot page a remote file in, so a private mapping is
//! emulated: anonymous memory of the asked length, filled with the file's
//! bytes from the asked offset (zeros past its end), then given the asked
//! protection. Private mappings never write back, so a writable private
//! mapping keeps its copy-on-write meaning. A shared read-only mapping is
//! emulated the same way, with one difference from the kernel's: changes
//! made to the file later are not seen through it. A shared writable
//! mapping would have to write back: it fails with `ENODEV` (the FUSE client
//! serves programs that need it). `munmap`, `mprotect` and `mremap` need
//! nothing of this library: the memory is ordinary anonymous memory.

use core::ffi::{c_int, c_void};

use libc::{off_t, off64_t, size_t};

use crate::errno::guard;
use crate::next;
use crate::remote::Errno;
use crate::vfd;

/// The flags of the caller's that the anonymous mapping keeps.
const KEPT_FLAGS: c_int = libc::MAP_FIXED
    | libc::MAP_FIXED_NOREPLACE
    | libc::MAP_NORESERVE
    | libc::MAP_32BIT
    | libc::MAP_LOCKED
    | libc::MAP_POPULATE;

/// The system's page size.
fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
}

/// Checks that a mapping of remote descriptor `fd` can be emulated.
fn check(
    file: &vfd::OpenFile,
    len: size_t,
    prot: c_int,
    flags: c_int,
    off: i64,
) -> Result<u64, Errno> {
    file.usable()?;
    let off = u64::try_from(off).map_err(|_| libc::EINVAL)?;
    if len == 0 || off % page_size() != 0 {
        return Err(libc::EINVAL);
    }
    if file.is_path_only() {
        return Err(libc::EBADF);
    }
    if file.is_dir {
        return Err(libc::ENODEV);
    }
    let mode = file.status() & libc::O_ACCMODE;
    if mode == libc::O_WRONLY {
        return Err(libc::EACCES);
    }
    let shared = matches!(
        flags & libc::MAP_TYPE,
        libc::MAP_SHARED | libc::MAP_SHARED_VALIDATE
    );
    if shared && prot & libc::PROT_WRITE != 0 {
        // The kernel's answer for a read-only descriptor comes first.
        return Err(if mode == libc::O_RDWR {
            libc::ENODEV
        } else {
            libc::EACCES
        });
    }
    Ok(off)
}

/// Maps `len` bytes of remote descriptor `fd` from `off`, as described above.
///
/// # Safety
///
/// As `mmap(2)`: with `MAP_FIXED`, whatever was mapped at `addr` is replaced.
unsafe fn map_remote(
    addr: *mut c_void,
    len: size_t,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    off: i64,
) -> Result<*mut c_void, Errno> {
    let file = vfd::file(fd)?;
    let off = check(&file, len, prot, flags, off)?;
    let anon = (flags & KEPT_FLAGS) | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    // SAFETY: an anonymous mapping; the caller's contract covers `addr`.
    let ptr = unsafe { next::mmap64(addr, len, rw, anon, -1, 0) };
    if ptr == libc::MAP_FAILED {
        return Err(crate::errno::get());
    }
    // SAFETY: the mapping just made is `len` writable bytes, ours alone.
    let mem = unsafe { core::slice::from_raw_parts_mut(ptr.cast::<u8>(), len) };
    let filled = fill(&file, mem, off).and_then(|()| {
        if prot == rw {
            return Ok(());
        }
        // SAFETY: changes the protection of the mapping made above only.
        let ret = unsafe { libc::mprotect(ptr, len, prot) };
        if ret < 0 {
            Err(crate::errno::get())
        } else {
            Ok(())
        }
    });
    if let Err(e) = filled {
        // SAFETY: unmaps the mapping made above, which nobody else knows.
        unsafe { libc::munmap(ptr, len) };
        return Err(e);
    }
    Ok(ptr)
}

/// Reads the file from `off` into `mem` until it is full or the file ends.
fn fill(file: &vfd::OpenFile, mem: &mut [u8], off: u64) -> Result<(), Errno> {
    let mut done = 0;
    while let Some(rest) = mem.get_mut(done..).filter(|r| !r.is_empty()) {
        let n = file.server.read(file.handle, off + done as u64, rest)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(())
}

/// Defines `mmap`-like functions.
macro_rules! mmap {
    ($($name:ident($off:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: private mappings of remote files are emulated.")]
        ///
        /// # Safety
        ///
        /// As the C function.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(
            addr: *mut c_void,
            len: size_t,
            prot: c_int,
            flags: c_int,
            fd: c_int,
            off: $off,
        ) -> *mut c_void {
            if flags & libc::MAP_ANONYMOUS != 0 || !vfd::is_virtual(fd) {
                // SAFETY: forwarded call.
                return unsafe { next::$name(addr, len, prot, flags, fd, off) };
            }
            // SAFETY: the caller's contract.
            guard(libc::MAP_FAILED, || unsafe { map_remote(addr, len, prot, flags, fd, off) })
        }
    )*};
}

mmap!(mmap(off_t), mmap64(off64_t));
