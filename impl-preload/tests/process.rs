//! Remote descriptors across `fork`, `vfork`, `exec` and `posix_spawn`, and
//! the C library's standard streams on them: shell redirections, pipelines
//! of programs, Python's `subprocess`, and a remote current directory.

use conformance::{Export, Server, Transport, on_both_exports};

/// Runs a python script under the preload library with `R` set.
fn python(server: &Server, script: &str) -> String {
    server.sh_ok(&format!(
        "python3 - <<'EOF'\nimport os, errno, subprocess\nR = os.environ['R']\n{script}\nEOF"
    ))
}

#[test]
fn c04_descriptors_are_inherited_with_their_offset_and_cloexec() {
    on_both_exports(|s, _| {
        // The child shell writes through the inherited descriptor 3, at the
        // offset the parent shares with it.
        let out = s.sh_ok(
            r#"sh -c 'exec 3>>$R/log; echo a >&3; sh -c "echo b >&3"; echo c >&3'; cat $R/log;
               sh -c "ls / >$R/o"; test -s $R/o && echo nonempty;
               (echo 1; sh -c 'echo 2'; /bin/echo 3; echo 4) > $R/seq; cat $R/seq"#,
        );
        assert_eq!(out, "a\nb\nc\nnonempty\n1\n2\n3\n4\n");
        let out = python(
            s,
            "fd = os.open(R + '/x', os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC)
probe = f'[ -e /proc/self/fd/{fd} ] && echo leak || echo closed'
print(subprocess.run(['sh', '-c', probe], close_fds=False, capture_output=True, text=True).stdout, end='')
os.set_inheritable(fd, True)
print(subprocess.run(['sh', '-c', probe], close_fds=False, capture_output=True, text=True).stdout, end='')",
        );
        assert_eq!(out, "closed\nleak\n");
    });
}

#[test]
fn output_to_redirected_standard_streams_reaches_the_file() {
    on_both_exports(|s, _| {
        // bash's builtins and seq write with the C library's stdout; sort -o
        // moves its output onto descriptor 1 itself.
        let out = s.sh_ok(
            r#"echo old old old > $R/k; bash -c "echo new > $R/k"; cat $R/k;
               seq 5 > $R/n; wc -l < $R/n; printf 'b\na\nc\n' > $R/s; sort -o $R/s $R/s; cat $R/s;
               bash -c "exec >$R/log; echo one; ls -d /; echo two >&2" 2>&1; cat $R/log;
               bash -c "exec 2>$R/err; ls /nonexistent-orfa; echo done >&2"; grep -c . $R/err;
               { head -n 2; cat; } < $R/n | tr '\n' ' '; echo;
               python3 -c "print('py')" > $R/p; cat $R/p;
               awk 'BEGIN { printf "awk" }' > $R/a; cat $R/a; echo;
               sort < $R/s | tr '\n' ' '; echo"#,
        );
        assert_eq!(
            out,
            "new\n5\na\nb\nc\ntwo\none\n/\n2\n1 2 3 4 5 \npy\nawk\na b c \n"
        );
    });
}

#[test]
fn writers_sharing_a_description_do_not_overwrite_each_other() {
    let s = Server::start(Export::Memory, Transport::Tcp);
    let out = s.sh_ok(
        r#"for p in 1 2 3 4; do (for i in $(seq 100); do echo $p-$i; done) & done > $R/par; wait;
           wc -l < $R/par; sort $R/par | uniq -d | wc -l"#,
    );
    assert_eq!(out, "400\n0\n");
}

#[test]
fn tar_pipes_through_gzip_on_remote_descriptors() {
    let s = Server::start(Export::Memory, Transport::Tcp);
    let out = s.sh_ok(
        r#"set -e; t=/tmp/orfa-tgz-$$; mkdir -p $t/d; echo hi > $t/d/f; seq 1000 > $t/big;
           tar -czf $R/x.tgz -C $t d big; rm -rf $t; tar -tzf $R/x.tgz | sort | tr '\n' ' '; echo;
           mkdir $R/ex; tar -xzf $R/x.tgz -C $R/ex d big; cat $R/ex/d/f; wc -l < $R/ex/big;
           gzip -c < $R/ex/big > $R/big.gz; gzip -dc < $R/big.gz | tail -n 1"#,
    );
    assert_eq!(out, "big d/ d/f \nhi\n1000\n1000\n");
}

#[test]
fn subprocess_children_leave_the_parent_descriptors_alone() {
    on_both_exports(|s, _| {
        // Python's subprocess starts children with vfork, whose close and
        // dup2 must not reach the parent's tables.
        let out = python(
            s,
            "open(R + '/n', 'w').write('0123456789')
fd = os.open(R + '/n', os.O_RDONLY)
subprocess.run(['true'])
print(os.read(fd, 2))
with open(R + '/sub', 'w') as f:
    subprocess.run(['sh', '-c', 'echo from child; echo err >&2'], stdout=f, stderr=subprocess.STDOUT)
print('parent still on its stdout')
print(open(R + '/sub').read(), end='')
subprocess.run(['sh', '-c', 'cat <&' + str(fd)], pass_fds=[fd])
print()
print(os.read(fd, 3))
out = os.open(R + '/spawned', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
actions = [(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_CLOSE, out)]
pid = os.posix_spawn('/bin/sh', ['sh', '-c', 'echo spawned'], os.environ, file_actions=actions)
os.waitpid(pid, 0)
os.set_inheritable(out, True)
os.system('echo system >&%d' % out)
print(open(R + '/spawned').read(), end='')",
        );
        assert_eq!(
            out,
            "b'01'\nparent still on its stdout\nfrom child\nerr\n23456789\nb''\nspawned\nsystem\n"
        );
    });
}

#[test]
fn a_remote_current_directory_is_inherited_at_any_depth() {
    let s = Server::start(Export::Memory, Transport::Tcp);
    let started = std::time::Instant::now();
    let out = python(
        &s,
        "os.mkdir(R + '/deep'); os.chdir(R + '/deep')
for i in range(1000):
    os.mkdir('d'); os.chdir('d')
open('f', 'w').write('bottom\\n')
print(len(os.getcwd()) == len(R) + 5 + 2000)
r = subprocess.run(['sh', '-c', 'pwd | wc -c; cat f; cd ..; ls; /bin/pwd | wc -c'],
                   capture_output=True, text=True)
print(r.stdout + r.stderr, end='')
pid = os.fork()
if pid == 0:
    print(open('f').read(), end='', flush=True); os._exit(0)
os.waitpid(pid, 0)
print(os.getpid())",
    );
    let (out, pid) = out.trim_end().rsplit_once('\n').expect("a pid line");
    let depth = s.root().len() + 5 + 2000 + 1;
    let up = depth - 2;
    assert_eq!(out, format!("True\n{depth}\nbottom\nd\n{up}\nbottom"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "1000 levels took {:?}",
        started.elapsed()
    );
    let left: Vec<String> = sinks()
        .into_iter()
        .filter(|n| n.starts_with(&format!("{pid}-")))
        .collect();
    assert!(left.is_empty(), "sink directories left behind: {left:?}");
}

#[test]
fn a_killed_process_leaves_no_sink_behind() {
    let s = Server::start(Export::Memory, Transport::Tcp);
    // Killed at any moment, a process may leave the sink it was making; the
    // next one made by any process of the user removes it.
    let out = s.sh_ok(
        r#"python3 -c "
import os
os.mkdir(os.environ['R'] + '/k'); os.chdir(os.environ['R'] + '/k')
while True:
    os.mkdir('d'); os.chdir('d')
" & pid=$!; sleep 2; kill -9 $pid; wait $pid; sh -c "cd $R/k"
           ls -d /tmp/.orfa-cwd-*/$pid-* /dev/shm/.orfa-cwd-*/$pid-* 2>/dev/null | wc -l"#,
    );
    assert_eq!(out, "0\n");
}

/// The sink directories in `/tmp` now.
fn sinks() -> Vec<String> {
    let mut found = Vec::new();
    for hub in std::fs::read_dir("/tmp").into_iter().flatten().flatten() {
        if !hub.file_name().to_string_lossy().starts_with(".orfa-cwd-") {
            continue;
        }
        for sink in std::fs::read_dir(hub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            found.push(sink.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

#[test]
fn children_reach_the_open_file_after_it_was_renamed_over_or_unlinked() {
    on_both_exports(|s, _| {
        // subprocess (fork and exec), posix_spawn, system and the C
        // library's popen each
        // hand on a descriptor whose name now leads elsewhere or nowhere.
        let out = python(
            s,
            "def fresh(name, text):
    with open(R + '/' + name, 'w') as f: f.write(text)
    fd = os.open(R + '/' + name, os.O_RDONLY)
    fresh_name = R + '/' + name + '.new'
    with open(fresh_name, 'w') as f: f.write('replacement')
    os.rename(fresh_name, R + '/' + name)
    return fd
fd = fresh('a', 'by subprocess')
print(subprocess.run(['cat'], stdin=fd, capture_output=True, text=True).stdout)
fd = fresh('b', 'by posix_spawn')
r, w = os.pipe()
pid = os.posix_spawn('/bin/cat', ['cat'], os.environ,
    file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, w, 1)])
os.close(w); os.waitpid(pid, 0); print(os.read(r, 100).decode())
fd = fresh('c', 'by system')
os.set_inheritable(fd, True)
os.system(f'cat <&{fd} > {R}/system.out'); print(open(R + '/system.out').read())
fd = fresh('d', 'unlinked')
os.unlink(R + '/d')
os.set_inheritable(fd, True)
import ctypes
libc = ctypes.CDLL(None)
libc.popen.restype = ctypes.c_void_p
libc.popen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.pclose.argtypes = [ctypes.c_void_p]
libc.pclose(libc.popen(f'cat <&{fd} > {R}/popen.out'.encode(), b'r'))
print(open(R + '/popen.out').read())
print(open(R + '/a').read())",
        );
        assert_eq!(
            out,
            "by subprocess\nby posix_spawn\nby system\nunlinked\nreplacement\n"
        );
    });
}

#[test]
fn children_forked_while_other_threads_wait_for_the_server_do_not_hang() {
    on_both_exports(|s, _| {
        // Four threads keep requests in flight; each forked child makes a
        // remote call of its own, which must not wait for a connection held
        // by a thread the child does not have.
        let out = python(
            s,
            "import threading, time, signal
p = R + '/busy'
open(p, 'wb').write(b'x' * 4096)
fd = os.open(p, os.O_RDONLY)
stop = False
def io():
    while not stop: os.pread(fd, 4096, 0)
for _ in range(4): threading.Thread(target=io, daemon=True).start()
hung = 0
for i in range(60):
    pid = os.fork()
    if pid == 0:
        os.pread(fd, 1, 0) if i % 2 else os.stat(p)
        os._exit(0)
    for _ in range(250):
        if os.waitpid(pid, os.WNOHANG)[0]: break
        time.sleep(0.02)
    else:
        hung += 1; os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
stop = True
print('hung', hung)",
        );
        assert_eq!(out, "hung 0\n");
    });
}

#[test]
fn links_to_open_files_reach_the_remote_file() {
    on_both_exports(|s, _| {
        // /dev/stdout, /dev/stdin, /dev/stderr, /dev/fd/N and /proc/self/fd/N
        // of a remote descriptor open its file anew (with truncation, as
        // Linux does), and read back as its remote path; so do another
        // process's /proc/PID/fd/N (a child reading its shell's) and
        // /proc/self/task/TID/fd/N.
        let out = s.sh_ok(
            "bash -c 'sh -c \"echo hello > /dev/stdout\" > $R/x1; cat $R/x1; \
             sort /dev/stdin < $R/x1; exec 3< $R/x1; cat /proc/self/fd/3; \
             exec 5> $R/x2; echo a >&5; echo b > /dev/fd/5; echo c >&5; cat $R/x2; \
             bash -c \"echo msg > /dev/stderr\" 2> $R/e; cat $R/e; \
             readlink /proc/self/fd/3 /dev/fd/5; stat -L -c %s /dev/fd/3; \
             cat /proc/$$/fd/3; readlink /proc/$$/fd/3; \
             read l < /proc/self/task/$BASHPID/fd/3; echo $l'",
        );
        let r = s.root();
        assert_eq!(
            out,
            format!("hello\nhello\nhello\nb\nc\nmsg\n{r}/x1\n{r}/x2\n6\nhello\n{r}/x1\nhello\n")
        );
    });
}

#[test]
fn descriptor_flags_need_no_server_even_when_the_file_is_gone() {
    // A 1.1 server cannot share open files: a child reaches an inherited
    // descriptor by its path, which no longer leads to the file. Its flags
    // (what `subprocess` sets up with `pass_fds`) still work; only I/O
    // fails, with ESTALE.
    conformance::on_both_exports_with(&["--protocol-minor", "1"], |s, _| {
        let out = s.sh_ok(
            "echo a > $R/ff; exec 3< $R/ff; mv $R/ff $R/gg; python3 -c '
import fcntl, os, subprocess, errno
print(fcntl.fcntl(3, fcntl.F_GETFD), fcntl.fcntl(3, fcntl.F_GETFL))
print(subprocess.run([\"true\"], pass_fds=[3]).returncode)
try: os.read(3, 1)
except OSError as e: print(errno.errorcode[e.errno])'",
        );
        assert_eq!(out, "0 0\n0\nESTALE\n");
    });
}

#[test]
fn threads_that_fork_at_once_get_working_children() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/forkers.c");
    let exe = conformance::build_c(&src, tmp.path(), &["-pthread"]);
    on_both_exports(|s, _| {
        // A child that inherited a lock another forking thread held would
        // wait for ever: `timeout` turns that into a failure.
        let out = s.sh_ok(&format!("timeout -s KILL 60 {} $R", exe.display()));
        assert_eq!(out, "failed 0\n");
    });
}
