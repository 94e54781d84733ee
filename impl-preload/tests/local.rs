//! Local files behave exactly as without the library.

use std::process::{Command, Output, Stdio};

/// Runs `script` with `sh -c`, with the preload library or without, in a
/// fresh temporary directory that `$W` also names.
fn run(script: &str, preload: bool) -> Output {
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir.path())
        .env("W", dir.path())
        .stdin(Stdio::null())
        .env("LC_ALL", "C");
    if preload {
        cmd.env("LD_PRELOAD", conformance::preload_library());
    }
    cmd.output().expect("cannot run sh")
}

/// Runs `script` both ways and checks that output and status are the same.
fn same(script: &str) {
    let plain = run(script, false);
    let preloaded = run(script, true);
    assert_eq!(
        String::from_utf8_lossy(&preloaded.stdout),
        String::from_utf8_lossy(&plain.stdout),
        "stdout differs under the preload library: {script}\n--- stderr with it\n{}",
        String::from_utf8_lossy(&preloaded.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&preloaded.stderr),
        String::from_utf8_lossy(&plain.stderr),
        "stderr differs under the preload library: {script}"
    );
    assert_eq!(
        preloaded.status.code(),
        plain.status.code(),
        "status differs: {script}"
    );
}

#[test]
fn listing_and_reading_local_files() {
    same("ls -l /usr /etc");
    same("cat /etc/hostname /etc/passwd");
    same("stat /etc/passwd /etc; stat -f / | grep -v Free");
    same("find /etc/apt -printf '%p %y %s %m\\n' | sort");
    same("cat /nonexistent; ls /nonexistent; stat /REMOTE@ 2>&1; echo $?");
}

#[test]
fn writing_and_archiving_local_files() {
    let script = "rm -rf w && mkdir -p w/a/b && echo one > w/a/f && ln -s f w/a/l && \
         printf 'x%.0s' $(seq 1000) > w/a/b/big && chmod 640 w/a/f && \
         tar -cf t.tar w && mkdir -p out && tar -C out -xf t.tar && diff -r w out/w && \
         cp -r w c && mv c m && sha256sum m/a/f w/a/b/big && ls -lR m | sed 's/ [A-Z][a-z][a-z] .* / /' && \
         rm -rf w m out t.tar && ls -A";
    same(script);
}

#[test]
fn python_file_apis_on_local_files() {
    let script = "python3 -c \"
import os, shutil
os.mkdir('d'); open('d/f', 'w').write('hello')
fd = os.open('d', os.O_RDONLY)
print(sorted(os.listdir(fd)), os.stat('f', dir_fd=fd).st_size)
shutil.copyfile('d/f', 'g'); print(open('g').read())
fd2 = os.dup(fd); os.dup2(fd2, 50); print(os.get_inheritable(50))
os.rename('g', 'h'); os.symlink('h', 'l'); print(os.readlink('l'), os.path.getsize('l'))
print(os.getcwd() == os.path.realpath('.'))
\"";
    same(script);
}

#[test]
fn remote_paths_fail_cleanly_without_a_server() {
    // Port 1 on loopback refuses connections: calls fail with EIO, promptly.
    let out = run(
        "cat /REMOTE@127.0.0.1:1/f; echo rc=$?; ls /REMOTE@127.0.0.1:1/; echo rc=$?; \
         mkdir /REMOTE@127.0.0.1:1/d; echo rc=$?",
        true,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "rc=1\nrc=2\nrc=1\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Input/output error"), "{stderr}");
    assert!(!std::path::Path::new("/REMOTE@127.0.0.1:1").exists());
}
