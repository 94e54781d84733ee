//! A real multi-thousand-file source archive extracted, listed, checked,
//! copied back, moved and removed through the preload library, against an
//! in-memory and a native export.

use std::path::PathBuf;

use conformance::{Export, Server, Transport, listing, run_ok};

/// The archive: a real source distribution (Django 4.2.16, 6725 files in
/// 3192 directories) that `.ci/run` fetches from PyPI.
fn archive() -> PathBuf {
    let path = std::env::var_os("ORFA_TEST_ARCHIVE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/orfa-test/Django-4.2.16.tar.gz"));
    assert!(
        path.exists(),
        "test archive {} is missing: run .ci/run, or fetch it with \
         `pip download --no-binary :all: --no-deps django==4.2.16 -d /var/cache/orfa-test`, \
         or point ORFA_TEST_ARCHIVE at another source .tar.gz",
        path.display()
    );
    path
}

/// `ls -l` and `stat` of a directory's files and subdirectories, without
/// what two extractions legitimately differ in: directory sizes, and access
/// times (tar sets them to the time of extraction).
fn ls_and_stat(server: Option<&Server>, dir: &str) -> String {
    let script = format!(
        "cd / && ls -l --time-style=full-iso '{dir}' | grep -v '^total' | \
         awk '/^d/{{$5=\"-\"}} {{print}}' && \
         find '{dir}' -maxdepth 2 -mindepth 1 | LC_ALL=C sort | while read -r f; do \
           stat -c '%F|%a|%U|%G|%y|%Y|%h' \"$f\"; \
           [ -d \"$f\" ] || stat -c '%s|%b' \"$f\"; done"
    );
    match server {
        Some(s) => s.sh_ok(&script),
        None => run_ok(&script),
    }
}

fn extract_list_copy_remove(server: &Server, export_dir: Option<&std::path::Path>) {
    let archive = archive();
    let work = tempfile::tempdir().expect("temporary directory");
    let local = work.path().join("local");
    let back = work.path().join("back");
    let (local, back) = (local.display().to_string(), back.display().to_string());
    let archive = archive.display().to_string();
    run_ok(&format!(
        "mkdir '{local}' && tar -xzf '{archive}' -C '{local}'"
    ));

    let remote = format!("{}/tree", server.root());
    server.sh_ok(&format!(
        "mkdir '{remote}' && tar -xzf '{archive}' -C '{remote}'"
    ));

    let want = listing(None, &local);
    assert!(
        want.entries.lines().count() > 9000,
        "archive too small: {}",
        want.entries.len()
    );
    let got = listing(Some(server), &remote);
    assert_eq!(
        got.entries, want.entries,
        "find listing of the remote tree differs"
    );
    assert_eq!(
        got.checksums, want.checksums,
        "sha256sum of the remote tree differs"
    );

    let top = "Django-4.2.16/django";
    assert_eq!(
        ls_and_stat(Some(server), &format!("{remote}/{top}")),
        ls_and_stat(None, &format!("{local}/{top}")),
        "ls -l / stat output differs"
    );

    if let Some(dir) = export_dir {
        let on_disk = listing(None, &format!("{}/tree", dir.display()));
        assert_eq!(
            on_disk, want,
            "files in the export directory differ from a local extraction"
        );
    }

    server.sh_ok(&format!("diff -r '{local}' '{remote}'"));
    server.sh_ok(&format!("cp -r '{remote}' '{back}'"));
    run_ok(&format!("diff -r '{local}' '{back}'"));
    assert_eq!(listing(None, &back).checksums, want.checksums);

    server.sh_ok(&format!("mv '{remote}' '{remote}2'"));
    let after_mv = listing(Some(server), &format!("{remote}2"));
    assert_eq!(after_mv.entries, want.entries, "tree changed by mv");
    server.sh_ok(&format!("rm -rf '{remote}2'"));
    let left = server.sh_ok(&format!("ls -A '{}'", server.root()));
    assert_eq!(left, "", "export not empty after rm -rf");
}

#[test]
fn memory_export_over_tcp() {
    let server = Server::start(Export::Memory, Transport::Tcp);
    extract_list_copy_remove(&server, None);
}

#[test]
fn native_export_over_unix_socket() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(Export::Dir(dir.path().to_path_buf()), Transport::Unix);
    extract_list_copy_remove(&server, Some(dir.path()));
}
