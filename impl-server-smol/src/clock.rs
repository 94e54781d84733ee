//! The [`Context`] each batch of requests runs with: the time and the
//! server's identity.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use orfa_server_core::{Context, Timestamp};

/// The current wall-clock time (`CLOCK_REALTIME`).
pub(crate) fn now() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => Timestamp {
            sec: d.as_secs() as i64,
            nsec: d.subsec_nanos(),
        },
        Err(before) => {
            // A clock set before 1970: a negative time, nanoseconds still counted up.
            let d = before.duration();
            let (sec, nsec) = (-(d.as_secs() as i64), d.subsec_nanos());
            if nsec == 0 {
                Timestamp { sec, nsec: 0 }
            } else {
                Timestamp {
                    sec: sec - 1,
                    nsec: 1_000_000_000 - nsec,
                }
            }
        }
    }
}

/// The context of requests executed now. Until a client says who it is,
/// it acts as the server process's own user and group.
pub(crate) fn context() -> Context<'static> {
    static IDENTITY: OnceLock<(u32, u32)> = OnceLock::new();
    // SAFETY: geteuid and getegid cannot fail and take no pointer.
    let &(uid, gid) = IDENTITY.get_or_init(|| unsafe { (libc::geteuid(), libc::getegid()) });
    Context {
        now: now(),
        uid,
        gid,
        ..Context::default()
    }
}
