//! `SHARE` and `ATTACH`: one open file reached from several sessions.

use orfa_wire::{ErrorCode, PathFlags, RequestHeader};

use super::Session;
use super::dispatch::{Answer, OpResult};
use crate::backend::{Backend, Context};

impl<N> Session<N> {
    /// `SHARE`: the token of the handle's open file, made on the first call
    /// (and the one the handle was attached with, if it was).
    pub(super) fn share<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        h: &RequestHeader,
    ) -> OpResult {
        let handle = h.handle.get();
        let node = self.node(handle)?;
        let token = match self.links.get(&handle) {
            Some(&token) => token,
            None => {
                let token = backend.share(cx, node)?;
                self.links.insert(handle, token);
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

    /// Tells the backend that a handle linked to a shared open file is
    /// gone; nothing for other handles.
    pub(super) fn unlink_handle<B: Backend<Node = N>>(
        &mut self,
        cx: &Context,
        backend: &mut B,
        handle: u64,
    ) {
        if let Some(token) = self.links.remove(&handle) {
            backend.unshare(cx, token);
        }
    }
}
