//! Who the kernel thinks a backend call comes from.
//!
//! When the server runs as root, each backend call runs with the caller's
//! file system identity: the thread's file system user and group ids and
//! its supplementary groups become the [`Context`]'s, so the kernel checks
//! permissions as it would for the caller and new files belong to them.
//! Changing the file system user id away from 0 also drops the
//! capabilities that bypass file permissions (`CAP_DAC_OVERRIDE`,
//! `CAP_FOWNER`, `CAP_CHOWN`, `CAP_FSETID`, `CAP_MKNOD` and their kin), so
//! a caller cannot gain through the server what they could not do
//! themselves, including through the jail's own lookups, which run as the
//! caller too. The privileges that remain (`CAP_SYS_ADMIN`, `CAP_SETFCAP`)
//! are guarded where they matter: see [`super::xattr`].
//!
//! A caller with uid 0 acts as root. This is the trusted-cluster model of
//! NFS's `AUTH_SYS` without root squashing: the server believes the
//! identity a client states, so it must only listen where every client is
//! trusted to state it honestly.
//!
//! When the server does not run as root, it cannot act as anyone else: every
//! call runs as the server process, whatever the caller says, and the
//! kernel checks permissions against the server's own identity.
//!
//! The ids are changed with per-thread system calls (see
//! [`super::sys::creds`]), and only when they differ from the ones the
//! thread has: changing one costs microseconds, more than many whole
//! requests. A thread therefore keeps the last caller's ids after a call.
//! Nothing the server itself does on a serving thread after startup needs
//! root's file identity (accepting connections and moving bytes on sockets
//! check no file permission); code that would, such as removing a socket
//! file at shutdown, must first act as a root caller.

use std::cell::RefCell;
use std::sync::OnceLock;

use orfa_server_core::{BackendResult, Context};

use super::sys::creds;

/// The server process's own identity, read once.
#[derive(Debug, Clone, Copy)]
struct Server {
    uid: u32,
    gid: u32,
}

fn server() -> Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    *SERVER.get_or_init(|| Server {
        uid: creds::euid(),
        gid: creds::egid(),
    })
}

/// Whether the server runs as root, and so acts as each caller.
pub(super) fn server_is_root() -> bool {
    server().uid == 0
}

/// An id no change can set (`-1` leaves an id as it is): the mark of an id
/// unknown after a failed change, so that the next call sets it again.
const UNKNOWN: u32 = u32::MAX;

/// The credentials a thread runs with.
#[derive(Debug)]
struct Thread {
    uid: u32,
    gid: u32,
    /// `None` while they are the process's own, or unknown.
    groups: Option<Vec<u32>>,
}

thread_local! {
    static THREAD: RefCell<Thread> = RefCell::new(Thread {
        uid: server().uid,
        gid: server().gid,
        groups: None,
    });
}

/// Makes the calling thread act as the server process itself again, for the
/// server's own work on a thread that ran clients' requests.
pub(crate) fn act_as_server() -> BackendResult<()> {
    let me = server();
    act_as(&Context {
        uid: me.uid,
        gid: me.gid,
        ..Context::default()
    })
}

/// Makes the calling thread act as `cx`'s caller (see the [module
/// documentation](self)); does nothing when the server is not root.
pub(super) fn act_as(cx: &Context<'_>) -> BackendResult<()> {
    if !server_is_root() {
        return Ok(());
    }
    THREAD.with(|thread| {
        let mut thread = thread.borrow_mut();
        if thread.groups.as_deref() != Some(cx.groups) {
            thread.groups = None;
            creds::set_groups(cx.groups)?;
            thread.groups = Some(cx.groups.to_vec());
        }
        if thread.gid != cx.gid {
            thread.gid = UNKNOWN;
            creds::set_fsgid(cx.gid)?;
            thread.gid = cx.gid;
        }
        if thread.uid != cx.uid {
            thread.uid = UNKNOWN;
            creds::set_fsuid(cx.uid)?;
            thread.uid = cx.uid;
        }
        Ok(())
    })
}
