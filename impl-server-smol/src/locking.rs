//! The lock table every connection shares, and the wake-ups it sends.
//!
//! One session's unlock (or close, or departure) can grant a lock another
//! session waits for. The table names the sessions it answered; after each
//! use of the table, the connection that used it wakes those sessions'
//! connections through their channels, so a connection idle on its socket
//! sends the answer at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use orfa_server_core::{LockAccess, LockTable, SessionId};
use smol::channel::{self, Receiver, Sender};

/// A handle on the server's lock table; clones share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedLocks(Arc<Mutex<Hub>>);

#[derive(Debug, Default)]
struct Hub {
    table: LockTable,
    /// Each live session's wake-up channel.
    wakers: HashMap<SessionId, Sender<()>>,
}

impl SharedLocks {
    /// Takes the hub. A panic elsewhere while it was held leaves a table
    /// that is still consistent for the other connections, so a poisoned
    /// mutex is taken over.
    fn hub(&self) -> std::sync::MutexGuard<'_, Hub> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers session `id`; the receiver gets a message whenever the
    /// table has answers for it.
    pub(crate) fn register(&self, id: SessionId) -> Receiver<()> {
        // One pending wake-up is enough: the session collects every answer.
        let (tx, rx) = channel::bounded(1);
        self.hub().wakers.insert(id, tx);
        rx
    }

    /// Forgets session `id` (after its release).
    pub(crate) fn unregister(&self, id: SessionId) {
        self.hub().wakers.remove(&id);
    }
}

impl LockAccess for SharedLocks {
    fn with<R>(&mut self, f: impl FnOnce(&mut LockTable) -> R) -> R {
        let mut hub = self.hub();
        let result = f(&mut hub.table);
        for id in hub.table.take_woken() {
            if let Some(tx) = hub.wakers.get(&id) {
                // Full: a wake-up is already pending, which is enough.
                let _ = tx.try_send(());
            }
        }
        result
    }
}
