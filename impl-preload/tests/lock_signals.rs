//! Signals during a blocking remote lock wait (`F_SETLKW`, `F_OFD_SETLKW`,
//! `flock`, `lockf(F_LOCK)`), as Linux treats them: a handler installed
//! with `SA_RESTART` runs and the wait goes on, one without it ends the wait
//! with `EINTR`, an ignored signal (or one whose default is to be ignored)
//! changes nothing, and one whose default action ends the process ends it.

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conformance::{Export, Server, Transport};

/// The program under the library: `lock_signals FILE KIND CASE`.
///
/// A child (the holder) opens FILE on its own, takes a write lock of the
/// whole file with KIND's non-blocking call, and keeps it for the CASE's
/// hold time (or until the parent is gone); the parent then waits for the
/// same lock with KIND's blocking call while CASE's signals come, and
/// prints one line of `key=value` words: the call's result and errno, how
/// many times its SIGALRM handler ran (`handled`, and `handled_at_return`
/// read right after the call returned), how long the call took in
/// milliseconds, and for `interrupt` the errno of a non-blocking try right
/// after (the holder still holds the lock) and whether another process
/// finds the lock free once the holder is gone (`later`).
const PROGRAM: &str = r#"
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_alarm(int sig) { (void)sig; handled++; }

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void die(const char *what) { perror(what); exit(2); }

/* Takes the whole-file write lock of KIND, waiting if `wait`. */
static int take(int fd, const char *kind, int wait) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (!strcmp(kind, "fcntl")) return fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl);
    if (!strcmp(kind, "ofd")) return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
    if (!strcmp(kind, "flock")) return flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB);
    if (!strcmp(kind, "lockf")) return lockf(fd, wait ? F_LOCK : F_TLOCK, 0);
    fprintf(stderr, "unknown kind %s\n", kind);
    exit(2);
}

static const char *errname(int e) {
    static char buf[16];
    switch (e) {
    case 0: return "0";
    case EINTR: return "EINTR";
    case EAGAIN: return "EAGAIN";
    case EACCES: return "EACCES";
    default: snprintf(buf, sizeof buf, "%d", e); return buf;
    }
}

/* A child that, after `delay_ms`, sends `sigs` (0-terminated) to the parent and exits. */
static pid_t signal_later(long delay_ms, const int *sigs) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        usleep(delay_ms * 1000);
        for (; *sigs; sigs++) kill(getppid(), *sigs);
        _exit(0);
    }
    return pid;
}

static void set_handler(int sig, void (*fn)(int), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL)) die("sigaction");
}

static void alarm_after(long first_ms, long every_ms) {
    struct itimerval it;
    it.it_value.tv_sec = first_ms / 1000;
    it.it_value.tv_usec = first_ms % 1000 * 1000;
    it.it_interval.tv_sec = every_ms / 1000;
    it.it_interval.tv_usec = every_ms % 1000 * 1000;
    if (setitimer(ITIMER_REAL, &it, NULL)) die("setitimer");
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: lock_signals FILE KIND CASE\n"); return 2; }
    const char *file = argv[1], *kind = argv[2], *mode = argv[3];
    long hold_ms = !strcmp(mode, "restart") ? 1200
                 : !strcmp(mode, "interrupt") ? 1500
                 : !strcmp(mode, "ignored") ? 1000
                 : 4000;
    int fd = open(file, O_RDWR | O_CREAT, 0644);
    if (fd < 0) die("open");

    int ready[2], release[2];
    if (pipe(ready) || pipe(release)) die("pipe");
    pid_t holder = fork();
    if (holder < 0) die("fork");
    if (holder == 0) {
        /* The parent's output must end with the parent. */
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        close(release[1]);
        int own = open(file, O_RDWR);
        if (own < 0 || take(own, kind, 0)) die("holder lock");
        if (write(ready[1], "l", 1) != 1) die("holder write");
        /* Until the hold time passes, or the parent is gone. */
        struct pollfd p = { .fd = release[0], .events = POLLIN };
        poll(&p, 1, hold_ms);
        close(own);
        _exit(0);
    }
    close(release[0]);
    char byte;
    if (read(ready[0], &byte, 1) != 1) die("the holder did not lock");

    pid_t helper = -1;
    if (!strcmp(mode, "restart")) {
        set_handler(SIGALRM, on_alarm, SA_RESTART);
        alarm_after(250, 250);
    } else if (!strcmp(mode, "interrupt")) {
        set_handler(SIGALRM, on_alarm, 0);
        alarm_after(300, 0);
    } else if (!strcmp(mode, "ignored")) {
        /* SIGUSR2 ignored; SIGWINCH and the helper's own SIGCHLD ignored by default. */
        set_handler(SIGUSR2, SIG_IGN, 0);
        static const int sigs[] = { SIGUSR2, SIGWINCH, 0 };
        helper = signal_later(300, sigs);
    } else if (!strcmp(mode, "terminate")) {
        static const int sigs[] = { SIGTERM, 0 };
        helper = signal_later(300, sigs);
    } else {
        fprintf(stderr, "unknown case %s\n", mode);
        return 2;
    }
    printf("waiting\n");
    fflush(stdout);

    long start = now_ms();
    int rc = take(fd, kind, 1);
    int err = rc ? errno : 0;
    int at_return = handled;
    long waited = now_ms() - start;
    alarm_after(0, 0);

    const char *after = "-";
    if (!strcmp(mode, "interrupt")) {
        after = take(fd, kind, 0) ? errname(errno) : "locked";
    }
    printf("rc=%d errno=%s handled_at_return=%d waited_ms=%ld after=%s",
           rc, errname(err), at_return, waited, after);
    int status;
    if (waitpid(holder, &status, 0) != holder || !WIFEXITED(status) || WEXITSTATUS(status))
        die("holder");
    if (!strcmp(mode, "interrupt")) {
        /* Had the request stayed on the server, it would now be granted. */
        usleep(200 * 1000);
        pid_t checker = fork();
        if (checker < 0) die("fork");
        if (checker == 0) {
            int own = open(file, O_RDWR);
            _exit(own >= 0 && take(own, kind, 0) == 0 ? 0 : 1);
        }
        if (waitpid(checker, &status, 0) != checker) die("checker");
        printf(" later=%s", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "free" : "taken");
    }
    if (helper > 0) waitpid(helper, &status, 0);
    printf(" handled=%d\n", handled);
    return 0;
}
"#;

/// Builds [`PROGRAM`] in `dir`.
fn build(dir: &Path) -> PathBuf {
    let src = dir.join("lock_signals.c");
    std::fs::write(&src, PROGRAM).expect("cannot write the C source");
    conformance::build_c(&src, dir, &[])
}

/// What one run printed and how it ended.
struct Run {
    stdout: String,
    status: std::process::ExitStatus,
    took: Duration,
}

impl Run {
    /// The `key=value` words of the result line (after `waiting`).
    fn fields(&self) -> HashMap<String, String> {
        let line = self
            .stdout
            .strip_prefix("waiting\n")
            .unwrap_or_else(|| panic!("no wait started: {:?}", self.stdout));
        line.split_whitespace()
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }
}

/// Runs the program under the library on a fresh file named after the case.
fn run(server: &Server, exe: &Path, kind: &str, case: &str) -> Run {
    let file = format!("{}/{kind}-{case}", server.root());
    let started = Instant::now();
    let out = server
        .command(exe)
        .args([file.as_str(), kind, case])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cannot run the program");
    let run = Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        status: out.status,
        took: started.elapsed(),
    };
    if case != "terminate" {
        assert!(
            run.status.success(),
            "{kind} {case}: {}\n--- stdout\n{}\n--- stderr\n{}",
            run.status,
            run.stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    run
}

/// A number field of a result line.
fn number(fields: &HashMap<String, String>, key: &str) -> i64 {
    fields
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number {key} in {fields:?}"))
}

/// A server, and the program built in a directory that lives as long.
fn setup() -> (Server, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let exe = build(dir.path());
    (Server::start(Export::Memory, Transport::Tcp), dir, exe)
}

#[test]
fn a_handler_with_sa_restart_runs_and_the_wait_goes_on() {
    let (server, _dir, exe) = setup();
    for kind in ["fcntl", "flock", "ofd", "lockf"] {
        let fields = run(&server, &exe, kind, "restart").fields();
        // The alarm rings every 250 ms from 250 ms; the holder lets go at 1200 ms.
        assert_eq!(fields["rc"], "0", "{kind}: {fields:?}");
        assert_eq!(fields["errno"], "0", "{kind}: {fields:?}");
        assert!(
            number(&fields, "handled_at_return") >= 2,
            "{kind}: {fields:?}"
        );
        let waited = number(&fields, "waited_ms");
        assert!((900..4000).contains(&waited), "{kind}: {fields:?}");
    }
}

#[test]
fn a_handler_without_sa_restart_ends_the_wait_with_eintr() {
    let (server, _dir, exe) = setup();
    for kind in ["fcntl", "flock"] {
        let fields = run(&server, &exe, kind, "interrupt").fields();
        // One alarm at 300 ms; the holder keeps the lock until 1500 ms.
        assert_eq!(fields["rc"], "-1", "{kind}: {fields:?}");
        assert_eq!(fields["errno"], "EINTR", "{kind}: {fields:?}");
        // The handler ran before the call returned.
        assert_eq!(fields["handled_at_return"], "1", "{kind}: {fields:?}");
        let waited = number(&fields, "waited_ms");
        assert!((250..1000).contains(&waited), "{kind}: {fields:?}");
        // The withdrawn request was not granted: the lock is still taken.
        assert_eq!(fields["after"], "EAGAIN", "{kind}: {fields:?}");
        // Nor granted once the holder let go.
        assert_eq!(fields["later"], "free", "{kind}: {fields:?}");
        assert_eq!(fields["handled"], "1", "{kind}: {fields:?}");
    }
}

#[test]
fn ignored_signals_do_not_interrupt_the_wait() {
    let (server, _dir, exe) = setup();
    for kind in ["fcntl", "flock"] {
        // SIGUSR2 (ignored), SIGWINCH and SIGCHLD (ignored by default) at
        // 300 ms; the holder lets go at 1000 ms.
        let fields = run(&server, &exe, kind, "ignored").fields();
        assert_eq!(fields["rc"], "0", "{kind}: {fields:?}");
        assert_eq!(fields["errno"], "0", "{kind}: {fields:?}");
        let waited = number(&fields, "waited_ms");
        assert!((700..4000).contains(&waited), "{kind}: {fields:?}");
    }
}

#[test]
fn a_signal_whose_default_ends_the_process_ends_it_during_the_wait() {
    let (server, _dir, exe) = setup();
    for kind in ["fcntl", "flock"] {
        // SIGTERM at 300 ms; the holder would keep the lock for 4 s.
        let run = run(&server, &exe, kind, "terminate");
        assert_eq!(run.stdout, "waiting\n", "{kind}");
        assert_eq!(run.status.signal(), Some(libc::SIGTERM), "{kind}");
        assert!(
            run.took < Duration::from_millis(2500),
            "{kind}: {:?}",
            run.took
        );
    }
}
