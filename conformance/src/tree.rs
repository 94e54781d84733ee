//! Running local commands and describing directory trees for comparison.

use std::process::{Command, Stdio};

use crate::server::Server;

/// Runs a shell script without the preload library; returns its output.
pub fn sh(script: &str) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run sh")
}

/// Runs a shell script without the preload library and panics with its
/// output unless it succeeds; returns its stdout.
pub fn run_ok(script: &str) -> String {
    let out = sh(script);
    assert!(
        out.status.success(),
        "local script failed ({}):\n{script}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A sorted description of a tree: one line per entry with its relative
/// path, type, size (files and links only: directory sizes differ between any
/// two file systems), permission bits and modification time; and the SHA-256
/// of every regular file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// `find -printf` lines, sorted.
    pub entries: String,
    /// `sha256sum` lines, sorted by path.
    pub checksums: String,
}

const FIND_FORMAT: &str = r"-printf '%P|%y|%s|%m|%T@|%l\n'";

/// Describes the tree at `dir`, through `server`'s preload library when given.
pub fn listing(server: Option<&Server>, dir: &str) -> Listing {
    let entries_script = format!(
        "cd / && find '{dir}' -mindepth 1 {FIND_FORMAT} | \
         awk -F'|' 'BEGIN{{OFS=\"|\"}} $2==\"d\"{{$3=\"-\"}} {{print}}' | LC_ALL=C sort"
    );
    let sums_script = format!(
        "find '{dir}' -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum | \
         sed 's|  {dir}/|  |'"
    );
    let run = |script: &str| match server {
        Some(s) => s.sh_ok(script),
        None => run_ok(script),
    };
    Listing {
        entries: run(&entries_script),
        checksums: run(&sums_script),
    }
}

/// Compiles the C program `src` with `cc -O1` and `flags` into `out_dir`;
/// returns the executable's path.
pub fn build_c(
    src: &std::path::Path,
    out_dir: &std::path::Path,
    flags: &[&str],
) -> std::path::PathBuf {
    let name = src.file_stem().expect("a C source file name");
    let exe = out_dir.join(name);
    let status = Command::new("cc")
        .arg("-O1")
        .args(flags)
        .arg("-o")
        .arg(&exe)
        .arg(src)
        .status()
        .expect("cannot run cc");
    assert!(status.success(), "cc failed on {}", src.display());
    exe
}

/// Panics, saying what to install, unless `program` is on the `PATH`: a
/// test never skips a check silently.
pub fn require(program: &str, package: &str) {
    let found = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{program}` is not installed: install the Debian package `{package}` \
         (.ci/run does) to run this test"
    );
}
