//! `SHARE` and `ATTACH` (protocol 1.2): how a process that inherited a
//! descriptor reaches the very open file its parent opened.
//!
//! Both fail with `ENOSYS` on an older session; callers then open the path
//! again.

use orfa_client_core::{Reply, Request};
use orfa_wire::Attr;

use super::{RResult, Server};

impl Server {
    /// The token naming `handle`'s open file to this user's other sessions.
    /// A handle of a lost connection cannot be shared: this never connects.
    pub(crate) fn share(&self, handle: u64) -> RResult<u64> {
        self.with_current_conn(|conn| match conn.call(&Request::Share { handle })? {
            Reply::Token(token) => Ok(token),
            _ => Err(super::wrong_kind()),
        })
    }

    /// A handle of this process's session on the open file `token` names,
    /// with the file's attributes.
    pub(crate) fn attach(&self, token: u64) -> RResult<(u64, Attr)> {
        self.call_open(&Request::Attach { token })
    }
}
