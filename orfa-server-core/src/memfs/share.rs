//! Shared open files: the file system keeps its own node of each, so that
//! an open file renamed over or unlinked stays for the sessions that attach.

use alloc::vec::Vec;

use super::{MemFs, MemNode};
use crate::backend::{BackendResult, Context};

impl MemFs {
    /// Another node of the same open file, counted as an open of its inode.
    fn dup_node(&mut self, node: &MemNode) -> BackendResult<MemNode> {
        self.inode_mut(node.ino)?.opens += 1;
        Ok(MemNode { ..*node })
    }

    /// Closes nodes the table of shared open files let go.
    fn close_nodes(&mut self, nodes: Vec<MemNode>) {
        for node in nodes {
            // Every kept node is of an inode still in the table.
            let _ = self.close_node(&node);
        }
    }

    pub(super) fn share_node(&mut self, cx: &Context, node: &MemNode) -> BackendResult<u64> {
        let copy = self.dup_node(node)?;
        match self.shares.insert(cx, copy) {
            Ok((token, gone)) => {
                self.close_nodes(gone);
                Ok(token)
            }
            Err((e, copy)) => {
                self.close_nodes(alloc::vec![copy]);
                Err(e)
            }
        }
    }

    pub(super) fn attach_node(&mut self, cx: &Context, token: u64) -> BackendResult<MemNode> {
        let kept = MemNode {
            ..*self.shares.get(cx, token)?
        };
        let node = self.dup_node(&kept)?;
        self.shares.hold(token);
        Ok(node)
    }

    pub(super) fn unshare_token(&mut self, cx: &Context, token: u64) -> bool {
        let (last, gone) = self.shares.let_go(token, cx.now);
        self.close_nodes(gone);
        last
    }
}
