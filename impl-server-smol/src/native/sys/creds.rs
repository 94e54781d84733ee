//! The calling thread's file system identity: `setfsuid(2)`, `setfsgid(2)`
//! and the raw `setgroups` system call.
//!
//! All three are made as raw system calls because they then change the
//! calling thread alone. (glibc's `setgroups` and `setuid` family change
//! every thread of the process; they must never be used here.)

use super::{Errno, SysResult, retry_unit};

/// Sets the thread's file system user id; checks that it took.
pub(in super::super) fn set_fsuid(uid: u32) -> SysResult<()> {
    // setfsuid returns the previous id and never an error: a second call
    // returns the id now in force.
    // SAFETY: setfsuid takes no pointer.
    unsafe { libc::syscall(libc::SYS_setfsuid, uid) };
    // SAFETY: as above.
    let now = unsafe { libc::syscall(libc::SYS_setfsuid, uid) };
    if now == i64::from(uid) {
        Ok(())
    } else {
        Err(Errno(libc::EPERM))
    }
}

/// Sets the thread's file system group id; checks that it took.
pub(in super::super) fn set_fsgid(gid: u32) -> SysResult<()> {
    // SAFETY: setfsgid takes no pointer.
    unsafe { libc::syscall(libc::SYS_setfsgid, gid) };
    // SAFETY: as above.
    let now = unsafe { libc::syscall(libc::SYS_setfsgid, gid) };
    if now == i64::from(gid) {
        Ok(())
    } else {
        Err(Errno(libc::EPERM))
    }
}

/// Sets the thread's supplementary groups.
pub(in super::super) fn set_groups(groups: &[u32]) -> SysResult<()> {
    retry_unit(|| {
        // SAFETY: `groups` is valid for reads of `groups.len()` ids, which
        // have the kernel's `gid_t` layout (u32).
        unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) }
    })
}

/// The thread's current file system user id.
#[cfg(test)]
pub(in super::super) fn fsuid() -> u32 {
    // An invalid id changes nothing and returns the current one.
    // SAFETY: setfsuid takes no pointer.
    unsafe { libc::syscall(libc::SYS_setfsuid, u32::MAX) as u32 }
}

/// The process's effective user id.
pub(in super::super) fn euid() -> u32 {
    // SAFETY: geteuid cannot fail and takes no pointer.
    unsafe { libc::geteuid() }
}

/// The process's effective group id.
pub(in super::super) fn egid() -> u32 {
    // SAFETY: getegid cannot fail and takes no pointer.
    unsafe { libc::getegid() }
}
