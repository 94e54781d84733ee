//! Path rules: lexical simplification, joining to a current directory, and
//! recognising `/REMOTE@NAME/` paths.
//!
//! Simplification is purely lexical, as the shell's `cd` does it: `..`
//! removes the previous component whatever it is (a symbolic link is not
//! looked up), and `..` at `/` stays at `/`. So `/REMOTE@srv/a/../..` is `/`,
//! a local path. A path that [`split_remote`] accepts after simplification
//! never has a `.` or `..` component, so none is ever sent to a server.

use alloc::vec::Vec;

/// The prefix that marks a remote path; a non-empty server name follows it.
pub const REMOTE_PREFIX: &[u8] = b"/REMOTE@";

/// The absolute path `path` names, simplified: `.`, `..`, repeated and
/// trailing slashes are resolved, and the result is `/` or starts with `/`
/// and does not end with one. A relative `path` is read from `/`.
pub fn simplify(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + 1);
    push_components(&mut out, path);
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// The absolute path that `path` names from the current directory `cwd`
/// (itself absolute), simplified as [`simplify`] does.
pub fn join(cwd: &[u8], path: &[u8]) -> Vec<u8> {
    if path.first() == Some(&b'/') {
        return simplify(path);
    }
    let mut out = Vec::with_capacity(cwd.len() + path.len() + 2);
    push_components(&mut out, cwd);
    push_components(&mut out, path);
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Appends the components of `path` to the simplified path `out` (empty for
/// `/`), resolving `.` and `..`.
fn push_components(out: &mut Vec<u8>, path: &[u8]) {
    for component in path.split(|&b| b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                let parent = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(parent);
            }
            name => {
                out.push(b'/');
                out.extend_from_slice(name);
            }
        }
    }
}

/// Splits a simplified absolute path of the form `/REMOTE@NAME` or
/// `/REMOTE@NAME/rest` into `NAME` and the path inside that server's export
/// (`rest`, without a leading slash; empty for the export root).
///
/// Returns `None` for a local path: the prefix must match exactly (case
/// included) and `NAME` must not be empty. Give it the output of
/// [`simplify`] or [`join`]; other input is split as it is.
pub fn split_remote(path: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = path.strip_prefix(REMOTE_PREFIX)?;
    let (name, inner) = match rest.iter().position(|&b| b == b'/') {
        Some(slash) => (&rest[..slash], &rest[slash + 1..]),
        None => (rest, &rest[rest.len()..]),
    };
    if name.is_empty() {
        return None;
    }
    Some((name, inner))
}
