//! `vfork`, made a `fork`.
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
