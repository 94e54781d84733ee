//! How descriptors pass to children: `vfork`, made a `fork`; the
//! process id every child made by `fork` or `_Fork` forgets; and the
//! sharing of remote open files before a `fork`, an `exec` or a spawn.
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
//!
//! Before any of these hands descriptors on, the remote open files are
//! shared (see `vfd::share_all`): in a `fork` handler, and in wrappers of
//! the `exec` calls, `posix_spawn`, `system` and `popen`. The variadic
//! `execl`, `execlp` and `execle` cannot be wrapped; a program they start
//! reaches a description nobody shared by opening its path again.

use core::ffi::{c_char, c_int, c_void};
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
    crate::fork_hold::release();
}

/// Runs in the parent after every `fork`.
extern "C" fn in_parent() {
    crate::fork_hold::release();
}

/// Runs in the parent before every `fork`: the child will attach to the
/// parent's open files, and finds no connection held by another thread.
extern "C" fn before_fork() {
    share_all();
    crate::fork_hold::hold();
}

/// Registers [`before_fork`] and [`in_child`] when the library is loaded.
extern "C" fn on_load() {
    // SAFETY: registering handlers that are safe to run around a fork: the
    // first runs in the parent before it (and may take locks and talk to
    // servers), the others release what it took and store to an atomic.
    unsafe { libc::pthread_atfork(Some(before_fork), Some(in_parent), Some(in_child)) };
}

/// Shares the remote open files, leaving `errno` as it was.
fn share_all() {
    let saved = crate::errno::get();
    crate::vfd::share_all();
    crate::errno::set(saved);
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

type Argv = *const *const c_char;
type SpawnActions = *const libc::posix_spawn_file_actions_t;
type SpawnAttr = *const libc::posix_spawnattr_t;
type SpawnArgv = *const *mut c_char;

/// Wrappers that share the remote open files, then call the C library's
/// function of the same name: `fn name(args) -> ret;`.
macro_rules! share_first {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`, after sharing the remote open files.")]
        ///
        /// # Safety
        ///
        /// The C function's own contract.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            share_all();
            // SAFETY: forwarded with the caller's arguments.
            unsafe { crate::next::$name($($arg),*) }
        }
    )*};
}

share_first! {
    fn execve(path: *const c_char, argv: Argv, envp: Argv) -> c_int;
    fn execv(path: *const c_char, argv: Argv) -> c_int;
    fn execvp(file: *const c_char, argv: Argv) -> c_int;
    fn execvpe(file: *const c_char, argv: Argv, envp: Argv) -> c_int;
    fn fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int;
    fn posix_spawn(
        pid: *mut libc::pid_t, path: *const c_char, actions: SpawnActions, attr: SpawnAttr,
        argv: SpawnArgv, envp: SpawnArgv
    ) -> c_int;
    fn posix_spawnp(
        pid: *mut libc::pid_t, file: *const c_char, actions: SpawnActions, attr: SpawnAttr,
        argv: SpawnArgv, envp: SpawnArgv
    ) -> c_int;
    fn system(command: *const c_char) -> c_int;
    fn popen(command: *const c_char, mode: *const c_char) -> *mut libc::FILE;
}
