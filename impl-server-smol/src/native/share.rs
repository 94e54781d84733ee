//! Shared open files of a native export: the table keeps a descriptor of
//! each, so that a file renamed over or unlinked stays reachable for the
//! sessions that attach, as the kernel keeps an open file.

use std::hash::{BuildHasher, RandomState};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use orfa_server_core::{BackendResult, Context, ShareLimits, ShareTable};
use orfa_wire::ErrorCode;

use super::{NativeNode, identity, sys};

/// The shared open files of one export, for every connection's clone of it.
#[derive(Debug, Clone)]
pub(super) struct Shares(Arc<Mutex<ShareTable<NativeNode>>>);

impl Shares {
    /// An empty table whose tokens start from a random seed.
    pub(super) fn new(limits: ShareLimits) -> Self {
        let seed = RandomState::new().hash_one(std::process::id());
        Self(Arc::new(Mutex::new(ShareTable::with_limits(seed, limits))))
    }

    /// The table, locked. A panic while it was locked leaves at worst an
    /// entry counted wrongly, which its grace period bounds: carry on.
    fn table(&self) -> MutexGuard<'_, ShareTable<NativeNode>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `SHARE`: keeps a node of `node`'s open file; returns its token.
    pub(super) fn share(&self, cx: &Context, node: &NativeNode) -> BackendResult<u64> {
        identity::act_as(cx)?;
        let copy = dup(node)?;
        // Nodes the table lets go are closed when dropped, after the lock.
        let (token, _gone) = self.table().insert(cx, copy).map_err(|(e, _)| e)?;
        Ok(token)
    }

    /// `ATTACH`: a new node of the open file `token` names.
    pub(super) fn attach(&self, cx: &Context, token: u64) -> BackendResult<NativeNode> {
        identity::act_as(cx)?;
        let mut table = self.table();
        let node = dup(table.get(cx, token)?)?;
        table.hold(token);
        Ok(node)
    }

    /// One handle fewer on `token`'s open file; whether it was the last.
    pub(super) fn unshare(&self, cx: &Context, token: u64) -> bool {
        let (last, gone) = self.table().let_go(token, cx.now);
        drop(gone);
        last
    }
}

/// Another node of `node`'s open file. A directory gets an open file of its
/// own, so that two sessions' listings do not move one position; anything
/// else shares the open file, as `dup(2)` does.
fn dup(node: &NativeNode) -> BackendResult<NativeNode> {
    let fd = node.fd.as_fd();
    let status = sys::get_status_flags(fd)?;
    let is_dir = sys::statx(fd)?.stx_mode & libc::S_IFMT as u16 == libc::S_IFDIR as u16;
    let copy = if is_dir && status & libc::O_PATH == 0 {
        sys::reopen(fd, libc::O_RDONLY | libc::O_DIRECTORY)?
    } else {
        node.fd.try_clone().map_err(|e| match e.raw_os_error() {
            Some(errno) => ErrorCode::from(sys::Errno(errno)),
            None => ErrorCode::IO,
        })?
    };
    Ok(NativeNode {
        fd: copy,
        append: node.append,
    })
}
