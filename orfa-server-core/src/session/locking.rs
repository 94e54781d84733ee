//! `LOCK`, `GETLK` and `CANCEL`: a session's side of the shared lock table.

use alloc::vec::Vec;

use orfa_wire::{
    ErrorCode, LockInfo, LockOwnerKind, LockType, PathFlags, ReplyHeader, RequestHeader,
};

use super::dispatch::{Answer, OpResult};
use super::{Outgoing, Session};
use crate::backend::Backend;
use crate::locks::{LockAccess, Outcome, Owner, Range, SessionId};

/// A `LOCK` or `GETLK` request, decoded and checked.
struct LockRequest {
    key: u128,
    owner: Owner,
    kind: LockType,
    range: Range,
    wait: bool,
}

impl<N> Session<N> {
    /// Decodes the fields `LOCK` and `GETLK` share: `handle`, `offset`,
    /// `count`, `mode` (the type), `arg1` (the owner kind), `arg0` (the
    /// process) and `flags` (only `WAIT`).
    fn lock_request<B: Backend<Node = N>>(
        &self,
        backend: &mut B,
        h: &RequestHeader,
    ) -> Result<LockRequest, ErrorCode> {
        let flags = PathFlags(h.flags.get());
        if flags.0 & !PathFlags::WAIT.0 != 0 {
            return Err(ErrorCode::INVAL);
        }
        let kind = LockType(h.mode.get());
        if kind.name().is_none() {
            return Err(ErrorCode::INVAL);
        }
        let owner_kind = LockOwnerKind(h.arg1.get());
        let handle = h.handle.get();
        // A handle's locks belong to its open file: to the shared one, if
        // the handle was shared or attached.
        let (session, id) = match (owner_kind, self.links.get(&handle)) {
            (LockOwnerKind::POSIX, _) => (self.id, h.arg0.get()),
            (LockOwnerKind::HANDLE | LockOwnerKind::FLOCK, None) => (self.id, handle),
            (LockOwnerKind::HANDLE | LockOwnerKind::FLOCK, Some(&token)) => {
                (SessionId::SHARED, token)
            }
            _ => return Err(ErrorCode::INVAL),
        };
        let range = Range::new(h.offset.get(), h.count.get()).ok_or(ErrorCode::INVAL)?;
        let key = backend.file_key(self.node(handle)?)?;
        Ok(LockRequest {
            key,
            owner: Owner {
                session,
                kind: owner_kind,
                id,
            },
            kind,
            range,
            wait: flags.contains(PathFlags::WAIT),
        })
    }

    /// `LOCK`: `None` while the request waits for a conflicting lock to go.
    pub(super) fn lock<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        backend: &mut B,
        locks: &mut L,
        h: &RequestHeader,
    ) -> Option<OpResult> {
        let req = match self.lock_request(backend, h) {
            Ok(req) => req,
            Err(e) => return Some(Err(e)),
        };
        self.uses_locks = true;
        if req.owner.session == self.id && req.owner.kind != LockOwnerKind::POSIX {
            self.lock_handles.insert(h.handle.get(), req.key);
        }
        let wait = req.wait.then(|| h.tag.get());
        let asker = self.id;
        match locks.with(|t| t.set_for(asker, req.key, req.owner, req.kind, req.range, wait)) {
            Ok(Outcome::Done) => Some(Ok(Answer::default())),
            Ok(Outcome::Waiting) => None,
            Err(e) => Some(Err(e)),
        }
    }

    /// `GETLK`: the first lock in the way of the one described, or an
    /// unlocked `LockInfo`.
    pub(super) fn getlk<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        backend: &mut B,
        locks: &mut L,
        h: &RequestHeader,
    ) -> OpResult {
        let req = self.lock_request(backend, h)?;
        if req.kind == LockType::UNLOCK || req.wait {
            return Err(ErrorCode::INVAL);
        }
        let held = locks.with(|t| t.test(req.key, req.owner, req.kind, req.range));
        let info = held.map_or_else(LockInfo::default, |held| held.info());
        Ok(Answer::body(info.as_wire().to_vec()))
    }

    /// `CANCEL`: the waiting `LOCK` tagged `arg0` is answered with `INTR`
    /// (before this request's own reply); nothing happens if it is not waiting.
    pub(super) fn cancel<L: LockAccess>(&mut self, locks: &mut L, h: &RequestHeader) -> OpResult {
        let tag = h.arg0.get();
        if self.uses_locks && locks.with(|t| t.cancel(self.id, tag)) {
            let reply = ReplyHeader::failure(tag, ErrorCode::INTR);
            self.out.push_back(Outgoing::reply(&reply, Vec::new()));
        }
        Ok(Answer::default())
    }

    /// Gives the `HANDLE` and `FLOCK` locks a handle took before it was
    /// shared to its shared open file `token`.
    pub(super) fn transfer_handle_locks<L: LockAccess>(
        &mut self,
        locks: &mut L,
        handle: u64,
        token: u64,
    ) -> Result<(), ErrorCode> {
        let Some(&key) = self.lock_handles.get(&handle) else {
            return Ok(());
        };
        let id = self.id;
        locks.with(|t| {
            for kind in [LockOwnerKind::HANDLE, LockOwnerKind::FLOCK] {
                let from = Owner {
                    session: id,
                    kind,
                    id: handle,
                };
                let to = Owner {
                    session: SessionId::SHARED,
                    kind,
                    id: token,
                };
                t.transfer(key, from, to)?;
            }
            Ok::<(), ErrorCode>(())
        })?;
        self.lock_handles.remove(&handle);
        Ok(())
    }

    /// Releases the locks of the shared open file `token` (on the file
    /// `node` is open on): its last handle is being closed.
    pub(super) fn release_shared_locks<B: Backend<Node = N>, L: LockAccess>(
        backend: &mut B,
        locks: &mut L,
        node: &N,
        token: u64,
    ) {
        if let Ok(key) = backend.file_key(node) {
            locks.with(|t| t.release_handle(SessionId::SHARED, token, key));
        }
    }

    /// Releases the `HANDLE` and `FLOCK` locks of a handle being closed.
    pub(super) fn release_handle_locks<L: LockAccess>(&mut self, locks: &mut L, handle: u64) {
        if let Some(key) = self.lock_handles.remove(&handle) {
            let id = self.id;
            locks.with(|t| t.release_handle(id, handle, key));
        }
    }

    /// Queues the answers to this session's waiting `LOCK`s that ended
    /// because of another session (or another owner of this one).
    ///
    /// The front end calls it when the table named this session in
    /// [`LockTable::take_woken`](crate::LockTable::take_woken); `execute`
    /// calls it too. Replies come out of [`Session::transmit`].
    pub fn poll_locks<L: LockAccess>(&mut self, locks: &mut L) {
        if !self.uses_locks {
            return;
        }
        let id = self.id;
        for (tag, status) in locks.with(|t| t.take_answers(id)) {
            let reply = ReplyHeader::failure(tag, status);
            self.out.push_back(Outgoing::reply(&reply, Vec::new()));
        }
    }
}
