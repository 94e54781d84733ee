//! Sinks: removed local directories that stand for a remote current
//! directory (see `cwd`).
//!
//! A process whose current directory is remote has, as the kernel's current
//! directory, an empty directory that has been removed: a relative path that
//! reaches the kernel fails with `ENOENT`. The sink's path spells the remote
//! directory, so that a program exec'd from it finds it again in
//! `/proc/self/cwd`:
//!
//! `BASE/.orfa-cwd-UID/PID-N/+CHUNK/+CHUNK...`
//!
//! where `BASE` is `/tmp` (or `/dev/shm`, `/var/tmp`), `.orfa-cwd-UID` is a
//! directory of the user's own that stays, and the chunks, each at most
//! [`CHUNK`] bytes, together spell `/REMOTE@NAME/path` with every `/`
//! written as byte 1 (a byte 1 or 2 of the path is written after an escape
//! byte 2). Entering a sink thus costs a handful of `mkdir`s however deep the
//! remote directory is. They are removed as soon as the process is in the
//! deepest. A process killed in between leaves them behind: the first sink
//! made by any later process of the user removes the leftovers of processes
//! that no longer exist.
//!
//! A remote path too long to be spelt within `PATH_MAX` gets a plain sink:
//! the process still knows its remote directory, but a program it execs
//! starts in the plain sink, where relative paths fail with `ENOENT`.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use crate::errno::syscall_result;
use crate::remote::Errno;

/// What starts the name of a user's sink directory in a base directory.
const TAG: &str = ".orfa-cwd-";

/// Where sinks are made, in order of preference.
const BASES: [&str; 3] = ["/tmp", "/dev/shm", "/var/tmp"];

/// The longest sink path: `/proc/self/cwd` must read back whole.
const MAX_SINK: usize = libc::PATH_MAX as usize - 64;

/// The longest chunk of a spelt path (a name is at most 255 bytes).
const CHUNK: usize = 240;

/// Starts each chunk, so that none reads `.` or `..`.
const CHUNK_MARK: u8 = b'+';

/// Stands for `/` in a spelt path.
const SLASH: u8 = 1;

/// Escapes a byte [`SLASH`] or [`ESCAPE`] of the remote path.
const ESCAPE: u8 = 2;

/// How deep a leftover tree may be to be removed.
const MAX_LEFTOVER_DEPTH: u32 = 32;

/// Makes the names of sinks unique within the process.
static SINKS: AtomicU32 = AtomicU32::new(0);

/// Whether this process looked for leftovers already.
static SWEPT: AtomicBool = AtomicBool::new(false);

/// A raw system call on a NUL-terminated path.
fn path_call(nr: libc::c_long, path: &[u8], arg: libc::c_long) -> Result<(), Errno> {
    // SAFETY: every caller passes a NUL-terminated path; the kernel only reads it.
    syscall_result(unsafe { libc::syscall(nr, path.as_ptr(), arg) }).map(drop)
}

/// `path` with a NUL.
fn c_path(path: &[u8]) -> Vec<u8> {
    let mut c = path.to_vec();
    c.push(0);
    c
}

/// Moves the kernel's current directory into a removed directory whose path
/// spells `remote` (or, if that cannot be made, into a plain one).
pub(crate) fn enter(remote: &[u8]) -> Result<(), Errno> {
    let pid = std::process::id();
    let n = SINKS.fetch_add(1, Ordering::Relaxed);
    let chunks = spell(remote);
    let mut last = libc::EACCES;
    for base in BASES {
        let Some(hub) = hub(base) else {
            continue;
        };
        if !SWEPT.swap(true, Ordering::Relaxed) {
            sweep(&hub);
        }
        let mut top = hub;
        top.extend_from_slice(format!("/{pid}-{n}").as_bytes());
        let fits = top.len() + chunks.iter().map(|c| c.len() + 1).sum::<usize>() <= MAX_SINK;
        for spelt in [fits, false] {
            match make(&top, if spelt { &chunks } else { &[] }) {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// The user's sink directory in `base`, made if needed; `None` if it cannot
/// be made or is not the user's alone.
fn hub(base: &str) -> Option<Vec<u8>> {
    // SAFETY: geteuid takes no argument and cannot fail.
    let uid = unsafe { libc::syscall(libc::SYS_geteuid) } as u32;
    let path = format!("{base}/{TAG}{uid}").into_bytes();
    let c = c_path(&path);
    match path_call(libc::SYS_mkdir, &c, 0o700) {
        // Whatever the umask took away.
        Ok(()) => drop(path_call(libc::SYS_chmod, &c, 0o700)),
        Err(libc::EEXIST) => {}
        Err(_) => return None,
    }
    // SAFETY: an all-zero `stat` is a valid value to be overwritten.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated; `st` is a live local of the kernel's layout.
    let ret = unsafe { libc::syscall(libc::SYS_lstat, c.as_ptr(), &raw mut st) };
    let private =
        st.st_mode & libc::S_IFMT == libc::S_IFDIR && st.st_uid == uid && st.st_mode & 0o077 == 0;
    (ret == 0 && private).then_some(path)
}

/// Makes `top` and `chunks` below it, one in the other, enters the deepest,
/// and removes them all again.
fn make(top: &[u8], chunks: &[Vec<u8>]) -> Result<(), Errno> {
    let mut made: Vec<Vec<u8>> = Vec::new();
    let mut path = top.to_vec();
    let mut result = Ok(());
    for chunk in core::iter::once(&Vec::new()).chain(chunks) {
        if !chunk.is_empty() {
            path.push(b'/');
            path.extend_from_slice(chunk);
        }
        let c = c_path(&path);
        result = path_call(libc::SYS_mkdir, &c, 0o700);
        if result.is_err() {
            break;
        }
        made.push(c);
    }
    if result.is_ok() {
        if let Some(deepest) = made.last() {
            result = path_call(libc::SYS_chdir, deepest, 0);
        }
    }
    for dir in made.iter().rev() {
        let _ = path_call(libc::SYS_rmdir, dir, 0);
    }
    result
}

/// The names of the directories below a sink's top that spell `remote`.
fn spell(remote: &[u8]) -> Vec<Vec<u8>> {
    let mut chunks = Vec::new();
    let mut chunk = vec![CHUNK_MARK];
    for &b in remote {
        let token: &[u8] = match b {
            b'/' => &[SLASH],
            SLASH => &[ESCAPE, SLASH],
            ESCAPE => &[ESCAPE, ESCAPE],
            _ => core::slice::from_ref(&b),
        };
        if chunk.len() + token.len() > CHUNK {
            chunks.push(core::mem::replace(&mut chunk, vec![CHUNK_MARK]));
        }
        chunk.extend_from_slice(token);
    }
    if chunk.len() > 1 {
        chunks.push(chunk);
    }
    chunks
}

/// The remote path that the names below a sink's top (`rest`, starting with
/// `/`) spell.
fn unspell(rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(rest.len());
    let mut escaped = false;
    for chunk in rest.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        for &b in chunk.strip_prefix(&[CHUNK_MARK])? {
            match (escaped, b) {
                (false, ESCAPE) => escaped = true,
                (false, SLASH) => out.push(b'/'),
                (_, b) => {
                    escaped = false;
                    out.push(b);
                }
            }
        }
    }
    Some(out)
}

/// The remote directory that a sink's path (as `/proc/self/cwd` reads,
/// with the kernel's ` (deleted)`) spells.
pub(crate) fn spelt(sink: &[u8]) -> Option<Vec<u8>> {
    let tag = format!("/{TAG}");
    let at = sink.windows(tag.len()).position(|w| w == tag.as_bytes())?;
    let mut parts = sink.get(at + 1..)?.splitn(3, |&b| b == b'/');
    let (_hub, _top, chunks) = (parts.next()?, parts.next()?, parts.next()?);
    let chunks = chunks.strip_suffix(b" (deleted)").unwrap_or(chunks);
    let remote = unspell(chunks)?;
    remote.starts_with(b"/REMOTE@").then_some(remote)
}

/// Removes the leftovers in `hub` of processes that no longer exist.
fn sweep(hub: &[u8]) {
    let me = std::process::id();
    for name in crate::rawdir::names(hub) {
        let pid = name
            .split(|&b| b == b'-')
            .next()
            .and_then(|p| core::str::from_utf8(p).ok())
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| p != me && !crate::shared::alive(p)) {
            let mut path = hub.to_vec();
            path.push(b'/');
            path.extend_from_slice(&name);
            remove_tree(&path, MAX_LEFTOVER_DEPTH);
        }
    }
}

/// Removes the empty directories of a leftover sink, deepest first.
fn remove_tree(path: &[u8], depth: u32) {
    if depth == 0 {
        return;
    }
    for name in crate::rawdir::names(path) {
        let mut sub = path.to_vec();
        sub.push(b'/');
        sub.extend_from_slice(&name);
        remove_tree(&sub, depth - 1);
    }
    let _ = path_call(libc::SYS_rmdir, &c_path(path), 0);
}

#[cfg(test)]
mod tests;
