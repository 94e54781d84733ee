//! Extended attributes of files in the export.
//!
//! The object is looked up by the jail as an `O_PATH` descriptor (of a final
//! symbolic link itself with [`PathFlags::NOFOLLOW`]) and the attribute
//! calls go through that descriptor, so the kernel applies its own rules:
//! `user.` attributes only on regular files and directories, read and write
//! permission, sizes, `XATTR_CREATE` and `XATTR_REPLACE`.
//!
//! A root server acting for another user keeps `CAP_SYS_ADMIN` and
//! `CAP_SETFCAP` (only the file system capabilities go with the user id), so
//! the kernel would let that user into namespaces only privileged
//! processes may use. For a caller other than root, this module refuses
//! what Linux refuses an unprivileged process: `trusted.` attributes are
//! invisible (reads give [`ErrorCode::NODATA`], lists leave them out,
//! changes give [`ErrorCode::PERM`]) and `security.` attributes (file
//! capabilities among them) cannot be changed.

use std::os::fd::{AsFd, OwnedFd};

use orfa_server_core::{BackendResult, Base, Context, copy_xattr_out};
use orfa_wire::{ErrorCode, PathFlags};

use super::resolve::c_string;
use super::sys::xattr as sys;
use super::{NativeFs, NativeNode, identity};

/// The longest list of names Linux returns (`XATTR_LIST_MAX`).
const LIST_MAX: usize = 65536;

const TRUSTED: &[u8] = b"trusted.";
const SECURITY: &[u8] = b"security.";

/// Whether `cx` stands for a process with the server's privileges over
/// attribute namespaces: root, or anyone when the server is not root (the
/// kernel then checks the server's own identity).
fn privileged(cx: &Context<'_>) -> bool {
    cx.uid == 0 || !identity::server_is_root()
}

impl NativeFs {
    /// The object an attribute call names, as an `O_PATH` descriptor.
    fn xattr_target(
        &self,
        base: Base<'_, NativeNode>,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<OwnedFd> {
        self.lookup_path(base, path, flags & PathFlags::NOFOLLOW)
    }

    pub(super) fn do_getxattr(
        &self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        name: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        let fd = self.xattr_target(base, path, flags)?;
        let name_c = c_string(name)?;
        if name.starts_with(TRUSTED) && !privileged(cx) {
            return Err(ErrorCode::NODATA);
        }
        Ok(sys::get(fd.as_fd(), &name_c, buf)?)
    }

    pub(super) fn do_setxattr(
        &self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        name: &[u8],
        value: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let fd = self.xattr_target(base, path, flags)?;
        let name_c = c_string(name)?;
        check_change(cx, name)?;
        let mut how = 0;
        if flags.contains(PathFlags::XATTR_CREATE) {
            how |= libc::XATTR_CREATE;
        }
        if flags.contains(PathFlags::XATTR_REPLACE) {
            how |= libc::XATTR_REPLACE;
        }
        Ok(sys::set(fd.as_fd(), &name_c, value, how)?)
    }

    pub(super) fn do_listxattr(
        &self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        buf: &mut [u8],
        flags: PathFlags,
    ) -> BackendResult<usize> {
        let fd = self.xattr_target(base, path, flags)?;
        let mut all = vec![0u8; LIST_MAX];
        let len = sys::list(fd.as_fd(), &mut all)?;
        all.truncate(len);
        if privileged(cx) {
            return copy_xattr_out(&all, buf);
        }
        let mut visible = Vec::with_capacity(all.len());
        for name in all.split_inclusive(|&b| b == 0) {
            if !name.starts_with(TRUSTED) {
                visible.extend_from_slice(name);
            }
        }
        copy_xattr_out(&visible, buf)
    }

    pub(super) fn do_removexattr(
        &self,
        cx: &Context<'_>,
        base: Base<'_, NativeNode>,
        path: &[u8],
        name: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let fd = self.xattr_target(base, path, flags)?;
        let name_c = c_string(name)?;
        check_change(cx, name)?;
        Ok(sys::remove(fd.as_fd(), &name_c)?)
    }
}

/// Refuses changes to the privileged namespaces for an unprivileged caller.
fn check_change(cx: &Context<'_>, name: &[u8]) -> BackendResult<()> {
    if (name.starts_with(TRUSTED) || name.starts_with(SECURITY)) && !privileged(cx) {
        Err(ErrorCode::PERM)
    } else {
        Ok(())
    }
}
