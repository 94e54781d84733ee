//! Archives whose members start with `./`, written to and read from remote
//! files through pipes between tar and gzip.

use conformance::{Export, Server, Transport, run_ok};

fn round_trip(server: &Server) {
    let work = tempfile::tempdir().expect("temporary directory");
    let src = work.path().join("src");
    let back = work.path().join("back");
    let (src, back) = (src.display(), back.display());
    run_ok(&format!(
        "mkdir -p {src}/a/b {back} && echo one > {src}/a/1 && echo two > {src}/a/b/2 && \
         ln -s a/1 {src}/link && tar -C {src} -czf {src}.tgz ."
    ));
    // Members `./`, `./a/`...: extracting `./` into an existing remote directory.
    server.sh_ok(&format!(
        "mkdir $R/x && tar -xzf {src}.tgz -C $R/x && diff -r {src} $R/x"
    ));
    // gzip writes the archive to a remote descriptor, then reads it back.
    server.sh_ok(&format!(
        "tar -C {src} -czf $R/x.tgz . && tar -xzf $R/x.tgz -C {back}"
    ));
    run_ok(&format!("diff -r {src} {back}"));
    let members = server.sh_ok("tar -tzf $R/x.tgz | sort");
    assert_eq!(members, "./\n./a/\n./a/1\n./a/b/\n./a/b/2\n./link\n");
}

#[test]
fn dot_members_and_remote_archives_in_memory() {
    round_trip(&Server::start(Export::Memory, Transport::Tcp));
}

#[test]
fn dot_members_and_remote_archives_on_a_native_export() {
    let dir = tempfile::tempdir().expect("temporary directory");
    round_trip(&Server::start(
        Export::Dir(dir.path().to_path_buf()),
        Transport::Tcp,
    ));
}

/// Programs that walk a path one component at a time from a descriptor of
/// `/` (rsync does) reach the server through its `REMOTE@` component.
#[test]
fn walking_from_a_descriptor_of_the_root() {
    let server = Server::start(Export::Memory, Transport::Tcp);
    let out = server.sh_ok(
        "mkdir -p $R/a && echo hi > $R/a/f && python3 -c \"
import os, sys
top = os.open('/', os.O_RDONLY | os.O_DIRECTORY)
export = os.open(sys.argv[1][1:], os.O_RDONLY | os.O_DIRECTORY, dir_fd=top)
a = os.open('a', os.O_RDONLY | os.O_DIRECTORY, dir_fd=export)
print(os.stat('f', dir_fd=a).st_size, os.read(os.open('f', os.O_RDONLY, dir_fd=a), 9))
\" $R",
    );
    assert_eq!(out, "3 b'hi\\n'\n");
}

/// `ORFA_STATS=1` reports a program's requests even when the program was
/// started in a remote directory and closes its standard error at exit (as
/// coreutils do).
#[test]
fn request_counts_from_a_remote_directory() {
    let server = Server::start(Export::Memory, Transport::Tcp);
    let out = server.sh("mkdir $R/m && echo a > $R/a && cd $R/m && ORFA_STATS=1 cat $R/a");
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.starts_with("orfa-stats: pid "));
    assert!(
        line.is_some_and(|l| l.contains(" requests ")),
        "no request count: {err}"
    );
}
