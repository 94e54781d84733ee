//! The caller's identity on the server: the `set*id` family, `setgroups`
//! and `setfsuid`/`setfsgid`, and who applies the umask.
//!
//! A 1.1 session carries the process's file-system identity and umask
//! (`SETCONTEXT`, see `remote::context`): the server checks permissions as
//! that user and applies the umask to created modes itself. Each wrapper
//! here calls the C library's function and, if it succeeded, marks the
//! context as changed; every connection sends it again before its next
//! request. A 1.0 session has no context: the client applies the umask.

use core::ffi::c_int;

use libc::{gid_t, mode_t, size_t, uid_t};

use crate::next;
use crate::open;
use crate::remote::{self, Server};

/// The mode to send for a creation on `server`: `mode` as given for a 1.1
/// session (the server applies the umask it was told), `mode` less the
/// umask for a 1.0 one. Type bits are kept.
pub(crate) fn create_mode(server: &Server, mode: u32) -> u32 {
    let perm = mode & 0o7777;
    let perm = match server.minor() {
        Ok(minor) if minor >= 1 => perm,
        _ => perm & !open::current_umask(),
    };
    (mode & libc::S_IFMT) | perm
}

/// Marks the context as changed when `ret` (an `int` result) is success.
fn after(ret: c_int) -> c_int {
    if ret == 0 {
        remote::context_changed();
    }
    ret
}

/// Defines wrappers of `int f(ids...)` functions that change the identity.
macro_rules! set_ids {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: the C library's, then the servers learn the new identity.")]
        ///
        /// # Safety
        ///
        /// None beyond the C function's.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name($($arg: $ty),*) -> c_int {
            // SAFETY: forwarded call.
            after(unsafe { next::$name($($arg),*) })
        }
    )*};
}

set_ids! {
    setuid(uid: uid_t);
    seteuid(uid: uid_t);
    setreuid(ruid: uid_t, euid: uid_t);
    setresuid(ruid: uid_t, euid: uid_t, suid: uid_t);
    setgid(gid: gid_t);
    setegid(gid: gid_t);
    setregid(rgid: gid_t, egid: gid_t);
    setresgid(rgid: gid_t, egid: gid_t, sgid: gid_t);
}

/// `setgroups`: the C library's, then the servers learn the new groups.
///
/// # Safety
///
/// `list` points to `size` group ids.
#[unsafe(no_mangle)]
unsafe extern "C" fn setgroups(size: size_t, list: *const gid_t) -> c_int {
    // SAFETY: forwarded call.
    after(unsafe { next::setgroups(size, list) })
}

/// Defines `setfsuid`/`setfsgid`: they return the previous id, and success
/// cannot be told from the result, so the context is sent again anyway.
macro_rules! set_fs_id {
    ($($name:ident($ty:ty)),*) => {$(
        #[doc = concat!("`", stringify!($name), "`: the C library's, then the servers learn the new identity.")]
        ///
        /// # Safety
        ///
        /// None beyond the C function's.
        #[unsafe(no_mangle)]
        unsafe extern "C" fn $name(id: $ty) -> c_int {
            // SAFETY: forwarded call.
            let previous = unsafe { next::$name(id) };
            remote::context_changed();
            previous
        }
    )*};
}

set_fs_id!(setfsuid(uid_t), setfsgid(gid_t));

/// Called by the `umask` wrapper: the servers of 1.1 sessions learn it.
pub(crate) fn umask_changed(_new: mode_t) {
    remote::context_changed();
}
