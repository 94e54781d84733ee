//! The two exports a server can serve, behind one interface for connections.

use std::sync::{Arc, Mutex, PoisonError};

use orfa_server_core::{Context, MemFs, MemNode, Session, ShareLimits};

use crate::locking::SharedLocks;
use crate::native::{NativeFs, NativeNode};

/// A connection's access to the export: runs a session's requests on it.
pub(crate) trait Export: Send + Sync + 'static {
    /// The backend's open-file type, kept in the session's handle table.
    type Node: Send + 'static;

    /// Runs every complete request of `session`.
    fn execute(&mut self, session: &mut Session<Self::Node>, cx: &Context, locks: &mut SharedLocks);

    /// Closes every handle `session` still holds and drops its locks.
    fn release(&mut self, session: &mut Session<Self::Node>, cx: &Context, locks: &mut SharedLocks);
}

/// The in-memory file system, one for all connections: each batch of
/// requests runs with it locked (and, inside that, the lock table when a
/// request needs it; never the other way round).
#[derive(Debug, Clone)]
pub(crate) struct SharedMemFs(Arc<Mutex<MemFs>>);

impl SharedMemFs {
    /// A new, empty file system.
    pub(crate) fn new(cx: &Context, shares: ShareLimits) -> Self {
        let mut fs = MemFs::with_owner(cx.now, cx.uid, cx.gid);
        fs.set_share_limits(shares);
        Self(Arc::new(Mutex::new(fs)))
    }

    /// Runs `f` with the file system locked. A panic elsewhere while it was
    /// locked cannot have left it half-changed in a way that matters more
    /// than stopping every client, so a poisoned lock is taken over.
    fn with<R>(&self, f: impl FnOnce(&mut MemFs) -> R) -> R {
        let mut fs = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut fs)
    }
}

impl Export for SharedMemFs {
    type Node = MemNode;

    fn execute(&mut self, session: &mut Session<MemNode>, cx: &Context, locks: &mut SharedLocks) {
        self.with(|fs| session.execute(cx, fs, locks));
    }

    fn release(&mut self, session: &mut Session<MemNode>, cx: &Context, locks: &mut SharedLocks) {
        self.with(|fs| session.release(cx, fs, locks));
    }
}

/// Each connection has its own clone of the native export (sharing its root).
impl Export for NativeFs {
    type Node = NativeNode;

    fn execute(
        &mut self,
        session: &mut Session<NativeNode>,
        cx: &Context,
        locks: &mut SharedLocks,
    ) {
        session.execute(cx, self, locks);
    }

    fn release(
        &mut self,
        session: &mut Session<NativeNode>,
        cx: &Context,
        locks: &mut SharedLocks,
    ) {
        session.release(cx, self, locks);
    }
}
