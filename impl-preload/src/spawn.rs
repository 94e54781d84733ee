//! `vfork`, made a `fork`; and every child made by `fork` or `_Fork`
//! forgets its parent's process id.
//!
//! A `vfork` child shares its parent's memory until it execs, and the
//! wrappers it calls meanwhile (`close`, `dup2`, `open`) would change this
//! library's tables in the parent's memory while the kernel changes only the
//! child's descriptors: the parent then finds its remote descriptors closed,
//! or its standard output in a remote file. POSIX allows `vfork` to be
//! `fork`, which leaves the child its own copy of everything.
//!
//! glibc's `posix_spawn` (and `system`, `popen`) runs its child in the
//! parent's memory too, but through the C library's internal calls, which
//! never reach these wrappers: the tables are left alone, and the spawned
//! program finds its inherited remote descriptors when it loads (`inherit`).

use core::ffi::c_void;
use core::sync::atomic::AtomicPtr;

/// `vfork`: `fork`.
///
/// # Safety
///
/// None beyond `fork`'s.
#[unsafe(no_mangle)]
unsafe extern "C" fn vfork() -> libc::pid_t {
    // SAFETY: fork has no preconditions; the child runs on its own copy.
    unsafe { libc::fork() }
}

/// `__vfork`: `fork`, as `vfork`.
///
/// # Safety
///
/// None beyond `fork`'s.
#[unsafe(no_mangle)]
unsafe extern "C" fn __vfork() -> libc::pid_t {
    // SAFETY: as in `vfork`.
    unsafe { libc::fork() }
}

/// Runs in the child of every `fork`: the kept process id is the parent's.
extern "C" fn in_child() {
    crate::shared::forget_pid();
}

/// Registers [`in_child`] when the library is loaded.
extern "C" fn on_load() {
    // SAFETY: registering a handler that only stores to an atomic.
    unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
}

#[used]
#[unsafe(link_section = ".init_array")]
static ON_LOAD: extern "C" fn() = on_load;

/// `_Fork`: glibc's fork without `atfork` handlers, so the child forgets
/// the kept process id here.
///
/// # Safety
///
/// None beyond `_Fork`'s.
#[unsafe(no_mangle)]
unsafe extern "C" fn _Fork() -> libc::pid_t {
    static REAL: AtomicPtr<c_void> = AtomicPtr::new(core::ptr::null_mut());
    let real = crate::next::lookup(&REAL, c"_Fork");
    if real.is_null() {
        crate::errno::set(libc::ENOSYS);
        return -1;
    }
    // SAFETY: the next `_Fork` has this signature.
    let real: unsafe extern "C" fn() -> libc::pid_t = unsafe { core::mem::transmute(real) };
    // SAFETY: forwarded call.
    let pid = unsafe { real() };
    if pid == 0 {
        in_child();
    }
    pid
}
