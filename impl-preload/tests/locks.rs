//! Advisory locks through the preload library, between processes that
//! share one server: `fcntl` record locks, `flock`, `lockf`, blocking waits
//! and their interruption, and sqlite3's locking (CASES C16).

use conformance::{Server, on_both_exports, require};

/// Python helpers every script starts with: `R`, `flock_struct` and
/// `getlk` (F_GETLK of the whole file as a write lock would see it), and
/// `other(code)` that starts a second python process under the library.
/// (`close_fds=False`: the child closes nothing between its `vfork` and
/// its `exec`; the library's descriptors are close-on-exec anyway.)
const PRELUDE: &str = r#"
import os, sys, errno, fcntl, struct, subprocess, time, signal
R = os.environ['R']
def getlk(fd, kind=fcntl.F_WRLCK):
    raw = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack('hhqqixxxx', kind, 0, 0, 0, 0))
    t, w, start, length, pid = struct.unpack('hhqqixxxx', raw)
    return {fcntl.F_UNLCK: 'unlocked', fcntl.F_RDLCK: 'read', fcntl.F_WRLCK: 'write'}[t], start, length, pid
def other(code):
    return subprocess.Popen([sys.executable, '-c', 'import os, fcntl, struct, time, errno, signal\nR = os.environ["R"]\n' + code],
                            stdout=subprocess.PIPE, text=True, close_fds=False)
"#;

fn python(server: &Server, script: &str) -> String {
    server.sh_ok(&format!("python3 - <<'EOF'\n{PRELUDE}\n{script}\nEOF"))
}

#[test]
fn record_locks_conflict_between_processes_and_getlk_names_the_holder() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            r#"
fd = os.open(R + '/f', os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX, 10, 5)
fcntl.lockf(fd, fcntl.LOCK_SH, 0, 100)
print('own', getlk(fd)[0])
p = other('''
fd = os.open(R + "/f", os.O_RDWR)
raw = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqixxxx", fcntl.F_RDLCK, 0, 0, 0, 0))
t, w, start, length, pid = struct.unpack("hhqqixxxx", raw)
print(t == fcntl.F_WRLCK, start, length, pid == os.getppid() or pid)
try: fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 7)
except OSError as e: print(errno.errorcode[e.errno])
fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 200)
print("shared past it")
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 50)
try: fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 150)
except OSError as e: print(errno.errorcode[e.errno])
ro = os.open(R + "/f", os.O_RDONLY)
try: fcntl.lockf(ro, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 300)
except OSError as e: print("read-only", errno.errorcode[e.errno])
''')
print(p.communicate()[0], end='')
print('after', getlk(fd)[0])
"#,
        );
        assert_eq!(
            out,
            "own unlocked\nTrue 5 10 True\nEAGAIN\nshared past it\nEAGAIN\nread-only EBADF\nafter unlocked\n"
        );
    });
}

#[test]
fn a_blocked_setlkw_goes_on_when_the_holder_closes_another_descriptor() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            r#"
fd = os.open(R + '/db', os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
p = other('''
fd = os.open(R + "/db", os.O_RDWR)
raw = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqixxxx", fcntl.F_RDLCK, 0, 0, 0, 0))
print(struct.unpack("hhqqixxxx", raw)[0] == fcntl.F_WRLCK)
t = time.time()
fcntl.lockf(fd, fcntl.LOCK_EX)
print("granted after a wait:", time.time() - t > 0.8)
''')
time.sleep(1.5)
# Another descriptor, opened for nothing but to be closed: the holder's
# record locks on the file go with it, and the waiter gets its turn.
other_fd = os.open(R + '/db', os.O_RDONLY)
print('own view', getlk(other_fd)[0])
os.close(other_fd)
print(p.communicate(timeout=10)[0], end='')
print('now', getlk(fd)[0])
"#,
        );
        assert_eq!(
            out,
            "own view unlocked\nTrue\ngranted after a wait: True\nnow unlocked\n"
        );
    });
}

#[test]
fn a_signal_interrupts_a_blocked_setlkw_with_eintr() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            r#"
fd = os.open(R + '/f', os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
p = other('''
class Alarm(Exception): pass
def ring(sig, frame): raise Alarm()
signal.signal(signal.SIGALRM, ring)
fd = os.open(R + "/f", os.O_RDWR)
signal.alarm(1)
t = time.time()
try:
    fcntl.lockf(fd, fcntl.LOCK_EX)
    print("granted")
except Alarm:
    print("interrupted after", round(time.time() - t))
time.sleep(2)
''')
time.sleep(2)
fcntl.lockf(fd, fcntl.LOCK_UN)
time.sleep(0.5)
# The interrupted request was withdrawn: nobody took the lock meanwhile.
print(getlk(fd)[0])
print(p.communicate(timeout=10)[0], end='')
"#,
        );
        assert_eq!(out, "unlocked\ninterrupted after 1\n");
    });
}

#[test]
fn flock_and_ofd_locks_belong_to_the_open_file() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            r#"
a = os.open(R + '/f', os.O_RDWR | os.O_CREAT, 0o644)
b = os.open(R + '/f', os.O_RDONLY)
fcntl.flock(a, fcntl.LOCK_EX)
d = os.dup(a)
fcntl.flock(d, fcntl.LOCK_EX | fcntl.LOCK_NB)
print('dup shares it')
try: fcntl.flock(b, fcntl.LOCK_SH | fcntl.LOCK_NB)
except OSError as e: print('second open', errno.errorcode[e.errno])
p = other('''
fd = os.open(R + "/f", os.O_RDONLY)
t = time.time()
fcntl.flock(fd, fcntl.LOCK_SH)
print("shared after", round(time.time() - t))
''')
time.sleep(1)
os.close(a)
print('still held by the dup')
time.sleep(1)
os.close(d)
print(p.communicate(timeout=10)[0], end='')
# Open-file-description locks: F_OFD_GETLK reports pid -1.
F_OFD_GETLK, F_OFD_SETLK = 36, 37
c = os.open(R + '/g', os.O_RDWR | os.O_CREAT, 0o644)
e = os.open(R + '/g', os.O_RDWR)
fcntl.fcntl(c, F_OFD_SETLK, struct.pack('hhqqixxxx', fcntl.F_WRLCK, 0, 0, 4, 0))
raw = fcntl.fcntl(e, F_OFD_GETLK, struct.pack('hhqqixxxx', fcntl.F_RDLCK, 0, 0, 0, 0))
t, w, start, length, pid = struct.unpack('hhqqixxxx', raw)
print(t == fcntl.F_WRLCK, start, length, pid)
"#,
        );
        assert_eq!(
            out,
            "dup shares it\nsecond open EAGAIN\nstill held by the dup\nshared after 2\nTrue 0 4 -1\n"
        );
    });
}

#[test]
fn sqlite3_writers_take_turns() {
    require("sqlite3", "sqlite3");
    on_both_exports(|s, _| {
        // A second writer while one holds an exclusive transaction: "database is locked".
        let out = s.sh_ok(
            "sqlite3 $R/db 'create table t(x)'; \
             python3 -c \"import sqlite3,time;c=sqlite3.connect('$R/db',isolation_level=None);\
c.execute('begin exclusive');c.execute('insert into t values(1)');time.sleep(3);c.execute('commit')\" & \
             sleep 1; sqlite3 $R/db 'insert into t values(2)' 2>&1; echo rc=$?; wait; \
             sqlite3 $R/db 'pragma integrity_check; select count(*) from t'",
        );
        assert!(out.contains("database is locked"), "{out}");
        assert!(out.ends_with("rc=5\nok\n1\n"), "{out}");
        // Four writers at once, each waiting its turn with a busy timeout.
        // Every lock and unlock is a round trip to the server, so a writer
        // that keeps losing sqlite's polling race can wait longer than on a
        // local disk: with the whole suite running on two loaded vCPUs, 5 s
        // was once not enough for one of 800 inserts. What the case checks is
        // that no row is lost or corrupted while they take turns.
        let out = s.sh_ok(
            "for w in 1 2 3 4; do \
               (seq 200 | sed 's/.*/insert into t values(&);/' | sqlite3 -bail -cmd '.timeout 30000' $R/db) & \
             done; wait; sqlite3 $R/db 'pragma integrity_check; select count(*) from t'",
        );
        assert_eq!(out, "ok\n801\n");
    });
}

#[test]
fn a_flock_taken_by_a_child_on_an_inherited_descriptor_outlives_the_child() {
    require("flock", "util-linux");
    on_both_exports(|s, _| {
        // `flock 9` locks the shell's open file and exits; the lock stays
        // until the shell closes descriptor 9, and another child using the
        // same descriptor shares it.
        let out = s.sh_ok(
            "exec 9> $R/lockfile; flock -x 9; \
             flock -n $R/lockfile -c 'echo taken' || echo busy; \
             flock -n 9 && echo same open file; \
             exec 9>&-; flock -n $R/lockfile -c 'echo free'",
        );
        assert_eq!(out, "busy\nsame open file\nfree\n");
    });
}

#[test]
fn record_locks_are_gone_once_the_exited_holder_was_waited_for() {
    on_both_exports(|s, _| {
        // Each child sets a record lock and exits holding it; its parent,
        // once `waitpid` returns, must find the file unlocked every time.
        let out = python(
            s,
            r#"
fd = os.open(R + '/held', os.O_RDWR | os.O_CREAT, 0o644)
seen = set()
for i in range(30):
    pid = os.fork()
    if pid == 0:
        c = os.open(R + '/held', os.O_RDWR)
        fcntl.lockf(c, fcntl.LOCK_EX)
        sys.exit(0)
    os.waitpid(pid, 0)
    seen.add(getlk(fd)[0])
print(sorted(seen))
"#,
        );
        assert_eq!(out, "['unlocked']\n");
    });
}
