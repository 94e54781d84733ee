//! `SHARE` and `ATTACH`: one open file reached from several sessions.

use orfa_wire::{ErrorCode, PathFlags, RequestHeader};

use super::Session;
use super::dispatch::{Answer, OpResult};
use crate::backend::{Backend, Context};
use crate::locks::LockAccess;

impl<N> Session<N> {
    /// `SHARE`: the token of the handle's open file, made on the first call
    /// (and the one the handle was attached with, if it was). The handle's
    /// `HANDLE` and `FLOCK` locks become the shared open file's.
    pub(super) fn share<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        locks: &mut L,
        h: &RequestHeader,
    ) -> OpResult {
        let handle = h.handle.get();
        let node = self.node(handle)?;
        let token = match self.links.get(&handle) {
            Some(&token) => token,
            None => {
                let token = backend.share(cx, node)?;
                self.links.insert(handle, token);
                // Without room for them in the shared open file's allowance,
                // the locks stay the handle's: they still exclude others.
                let _ = self.transfer_handle_locks(locks, handle, token);
                token
            }
        };
        Ok(Answer::value(token))
    }

    /// `ATTACH`: a new handle on the open file a token names, with the
    /// file's attributes.
    pub(super) fn attach<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        h: &RequestHeader,
    ) -> OpResult {
        if self.handles.len() >= self.config.max_handles {
            return Err(ErrorCode::MFILE);
        }
        let token = h.arg0.get();
        let node = backend.attach(cx, token)?;
        let attr = match backend.stat(cx, Some(&node), b"", PathFlags::NONE) {
            Ok(attr) => attr,
            Err(e) => {
                backend.unshare(cx, token);
                // The stat's error is the one worth reporting.
                let _ = backend.close(cx, node);
                return Err(e);
            }
        };
        let handle = self.add_handle(node);
        self.links.insert(handle, token);
        Ok(Answer {
            value: handle,
            aux: 0,
            body: attr.as_wire().to_vec(),
        })
    }

    /// `CLOSE`: the handle's locks go, and for a shared open file, one
    /// holder (with the open file's locks if it was the last).
    pub(super) fn close_handle<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        locks: &mut L,
        handle: u64,
    ) -> OpResult {
        self.release_handle_locks(locks, handle);
        let node = self.handles.remove(&handle).ok_or(ErrorCode::BADF)?;
        if let Some(token) = self.links.remove(&handle) {
            if backend.unshare(cx, token) {
                Self::release_shared_locks(backend, locks, &node, token);
            }
        }
        backend.close(cx, node).map(|()| Answer::default())
    }

    /// Lets go of every shared open file the session's handles hold (it is
    /// ending), with the locks of those it was the last to hold.
    pub(super) fn unlink_all<B: Backend<Node = N>, L: LockAccess>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        locks: &mut L,
    ) {
        for (handle, token) in core::mem::take(&mut self.links) {
            if backend.unshare(cx, token) {
                if let Some(node) = self.handles.get(&handle) {
                    Self::release_shared_locks(backend, locks, node, token);
                }
            }
        }
    }
}
