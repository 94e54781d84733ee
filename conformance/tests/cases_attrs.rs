//! The cases of `CASES.md` tagged [P] or [P+F] about copies, sparse files,
//! timestamps, fsync, name limits, signals and permissions, through the
//! preload library against an in-memory and a native export. Which right
//! values are checked elsewhere is listed at the top of `cases.rs`.

mod common;

use common::{compile, on_both_exports, python, require};

#[test]
fn c07_copies_between_remote_and_local_descriptors() {
    on_both_exports(|s, _| {
        // A copy either copies or fails before writing with EXDEV,
        // EOPNOTSUPP or ENOSYS, never EBADF or EACCES; sendfile from a
        // remote descriptor works.
        let out = python(
            s,
            "data = os.urandom(300000)
open(R + '/a', 'wb').write(data); os.chmod(R + '/a', 0o444)
local = '/tmp/orfa-c07-%d' % os.getpid(); open(local, 'wb').write(data)
def copy(src, dst):
    a = os.open(src, os.O_RDONLY); b = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        n = 0
        while n < len(data):
            k = os.copy_file_range(a, b, len(data) - n)
            if k == 0: break
            n += k
        return 'copied' if open(dst, 'rb').read() == data else 'wrong bytes'
    except OSError as x:
        if x.errno in (errno.EXDEV, errno.EOPNOTSUPP, errno.ENOSYS):
            return 'refused' if os.fstat(b).st_size == 0 else 'partial'
        return errno.errorcode[x.errno]
print(copy(R + '/a', R + '/b'), copy(R + '/a', local + '.out'), copy(local, R + '/c'))
a = os.open(R + '/a', os.O_RDONLY); b = os.open(local + '.sf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
n = 0
while n < len(data): n += os.sendfile(b, a, None, len(data) - n)
r, w = os.pipe(); a = os.open(R + '/a', os.O_RDONLY)
print(os.sendfile(w, a, 10, 5) == 5 and os.read(r, 5) == data[10:15], open(local + '.sf', 'rb').read() == data)
for f in (local, local + '.out', local + '.sf'): os.unlink(f)",
        );
        let mut lines = out.lines();
        let copies = lines.next().unwrap_or_default();
        for result in copies.split(' ') {
            assert!(
                result == "copied" || result == "refused",
                "copy_file_range gave {result}: {copies}"
            );
        }
        assert_eq!(lines.next(), Some("True True"));
    });
}

#[test]
fn c17_sparse_files_seek_data_and_hole() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "truncate -s 1G $R/sp; printf X | dd of=$R/sp bs=1 seek=629145600 conv=notrunc status=none; \
             timeout 120 cp --sparse=always $R/sp $R/sp2; echo rc=$?; cmp $R/sp $R/sp2 && echo same",
        );
        assert_eq!(out, "rc=0\nsame\n");
        let out = python(
            s,
            "fd = os.open(R + '/sp', os.O_RDONLY); n = os.fstat(fd).st_size
print(n, e(lambda: os.lseek(fd, n, os.SEEK_DATA)), e(lambda: os.lseek(fd, n, os.SEEK_HOLE)))
print(os.lseek(fd, 629145600, os.SEEK_DATA) == 629145600 or os.lseek(fd, 0, os.SEEK_DATA) <= 629145600)
print(os.pread(fd, 4096, 629145600 - 2048) == bytes(2048) + b'X' + bytes(2047))
open(R + '/dense', 'wb').write(b'a' * 10000); d = os.open(R + '/dense', os.O_RDONLY)
print(os.lseek(d, 0, os.SEEK_HOLE), os.lseek(d, 0, os.SEEK_DATA))
os.unlink(R + '/sp'); os.unlink(R + '/sp2')",
        );
        assert_eq!(out, "1073741824 ENXIO ENXIO\nTrue\nTrue\n10000 0\n");
    });
}

#[test]
fn c18_timestamps_make_and_tar() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "export TZ=UTC; touch -d '2021-03-04 05:06:07.123456789' $R/f; stat -c %y $R/f; \
             touch -a -d '2020-01-01 00:00:00.5' $R/f; touch -m $R/f; stat -c %x $R/f; \
             touch -d '2021-03-04 05:06:07.123456789' $R/f; cp -p $R/f $R/fp; stat -c %y $R/fp; \
             cp -p $R/f /tmp/orfa-c18-$$; stat -c %y /tmp/orfa-c18-$$; \
             cp -p /tmp/orfa-c18-$$ $R/fl; stat -c %y $R/fl; rm /tmp/orfa-c18-$$; \
             before=$(stat -c '%y %z' $R/f); sleep 0.05; cat $R/f > /dev/null; \
             test \"$(stat -c '%y %z' $R/f)\" = \"$before\" && echo read-keeps-times; \
             tar -cf /dev/null $R; echo tar=$?",
        );
        let t = "2021-03-04 05:06:07.123456789 +0000";
        assert_eq!(
            out,
            format!(
                "{t}\n2020-01-01 00:00:00.500000000 +0000\n{t}\n{t}\n{t}\nread-keeps-times\ntar=0\n"
            )
        );
        let out = s.sh_ok(
            "printf 'out: in\\n\\tcp in out\\n' > $R/Makefile; touch $R/in; \
             make -C $R | grep -c '^cp in out'; cat $R/out | wc -c; \
             make -C $R | grep -c \"'out' is up to date\"",
        );
        assert_eq!(out, "1\n0\n1\n");
    });
}

#[test]
fn c19_vim_saves_and_fsync_succeeds() {
    require("vim", "vim");
    on_both_exports(|s, native| {
        let out = s.sh_ok(
            "vim -Es -u NONE -c 'normal! ihello' -c wq $R/v.txt; echo rc=$?; cat $R/v.txt; \
             vim -Es -u NONE -c 'normal! Aworld' -c wq $R/v.txt; echo rc=$?; cat $R/v.txt; \
             ls -A $R | grep 'swp\\|~$' | wc -l",
        );
        assert_eq!(out, "rc=0\nhello\nrc=0\nhelloworld\n0\n");
        if let Some(dir) = native {
            assert_eq!(
                std::fs::read_to_string(dir.join("v.txt")).unwrap(),
                "helloworld\n"
            );
        }
        let out = python(
            s,
            "f = os.open(R + '/v.txt', os.O_RDWR); r = os.open(R + '/v.txt', os.O_RDONLY); d = os.open(R, os.O_RDONLY)
print(e(lambda: os.fsync(f)), e(lambda: os.fdatasync(f)), e(lambda: os.fsync(r)),
      e(lambda: os.fsync(d)), e(lambda: os.fdatasync(d)))",
        );
        assert_eq!(out, "ok ok ok ok ok\n");
    });
}

#[test]
fn c20_name_and_path_limits_and_symbolic_link_loops() {
    // A path is measured as the program gives it, `/REMOTE@NAME` included,
    // as the kernel measures a local one: 4096 bytes or more is too long.
    on_both_exports(|s, _| {
        let out = python(
            s,
            "b = R + '/n/'; os.mkdir(b); ok = 'x' * 255; bad = 'y' * 256
open(b + 'f', 'w').write('x')
print(e(lambda: os.close(os.open(b + ok, os.O_CREAT | os.O_WRONLY))), e(lambda: os.stat(b + ok)),
      e(lambda: os.rename(b + ok, b + ok[:-1] + 'z')), e(lambda: os.unlink(b + ok[:-1] + 'z')),
      e(lambda: os.mkdir(b + ok)), e(lambda: os.rmdir(b + ok)))
print(e(lambda: os.open(b + bad, os.O_CREAT | os.O_WRONLY)), e(lambda: os.mkdir(b + bad)),
      e(lambda: os.stat(b + bad)), e(lambda: os.unlink(b + bad)), e(lambda: os.rename(b + bad, b + 'q')),
      e(lambda: os.rename(b + 'f', b + bad)), e(lambda: os.symlink('f', b + bad)))
print(e(lambda: os.stat(b + 'a/' * 2048)), e(lambda: os.mkdir(b + 'a/' * 2048)))
short = b + './' * ((4000 - len(b)) // 2) + 'f'; long = b + './' * ((4100 - len(b)) // 2) + 'f'
print(len(short) < 4096 <= len(long), e(lambda: os.stat(short)), e(lambda: os.stat(long)),
      e(lambda: os.open(long, os.O_RDONLY)))
os.symlink('lb', b + 'la'); os.symlink('la', b + 'lb'); os.symlink('f', b + 's0')
print(e(lambda: os.stat(b + 'la')), e(lambda: open(b + 'la')),
      e(lambda: os.open(b + 's0', os.O_RDONLY | os.O_NOFOLLOW)))
for i in range(1, 41): os.symlink('s%d' % (i - 1), b + 's%d' % i)
print(open(b + 's39').read(), e(lambda: os.stat(b + 's40')), e(lambda: open(b + 's40')))",
        );
        assert_eq!(
            out,
            "ok ok ok ok ok ok\n\
             ENAMETOOLONG ENAMETOOLONG ENAMETOOLONG ENAMETOOLONG ENAMETOOLONG ENAMETOOLONG ENAMETOOLONG\n\
             ENAMETOOLONG ENAMETOOLONG\nTrue ok ENAMETOOLONG ENAMETOOLONG\nELOOP ELOOP ELOOP\nx ELOOP ELOOP\n"
        );
    });
}

#[test]
fn c22_a_signal_storm_with_remote_calls_in_the_handler() {
    let bin = tempfile::tempdir().expect("cannot make a temporary directory");
    let storm = compile("storm", bin.path());
    on_both_exports(|s, _| {
        // Python runs its handlers between bytecodes: the handler's stat is
        // a remote call made while no request of the main loop is pending.
        let out = python(
            s,
            "import signal, time
d = R + '/storm'; os.mkdir(d); data = {}
for i in range(12):
    data['f%02d' % i] = bytes((i * 7 + j) % 251 for j in range(40000 + i * 1000))
    open(d + '/f%02d' % i, 'wb').write(data['f%02d' % i])
calls = [0]
def handler(sig, frame):
    calls[0] += 1
    if os.stat(d + '/f00').st_size != 40000: raise SystemExit('handler saw a wrong size')
signal.signal(signal.SIGALRM, handler); signal.siginterrupt(signal.SIGALRM, False)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
end = time.time() + 3; rounds = 0
while time.time() < end:
    assert sorted(os.listdir(d)) == sorted(data)
    for n, want in data.items():
        assert os.stat(d + '/' + n).st_size == len(want)
        fd = os.open(d + '/' + n, os.O_RDONLY); got = b''
        while True:
            chunk = os.read(fd, 7000)
            if not chunk: break
            got += chunk
        os.close(fd)
        assert got == want, n
    rounds += 1
signal.setitimer(signal.ITIMER_REAL, 0, 0)
print(rounds > 0, calls[0] > 50)",
        );
        assert_eq!(out, "True True\n");
        // In C, the handler interrupts the library itself, and stats and
        // reads a remote file while the main loop lists, stats, reads and
        // writes others: every call succeeds, every byte is right.
        let out = s.sh_ok(&format!(
            "mkdir $R/cs && timeout 120 {} $R/cs 3",
            storm.display()
        ));
        let counts: Vec<u64> = out
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(
            counts.len() == 2 && counts[0] > 0 && counts[1] > 100,
            "rounds and signals handled: {out}"
        );
    });
}

#[test]
fn c24_permissions_as_root_and_as_another_user() {
    require("setpriv", "util-linux");
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "echo x > $R/ro; chmod 444 $R/ro; echo x > $R/rx; chmod 644 $R/rx; mkdir -m 777 $R/pub; \
             python3 -c \"import os; R = '$R'; print(os.access(R + '/ro', os.W_OK), os.access(R + '/rx', os.X_OK))\"; \
             echo r > $R/rs; chmod 4755 $R/rs; echo more >> $R/rs; stat -c %a $R/rs; \
             setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '\
               echo a > $R/pub/own; chmod 4755 $R/pub/own; stat -c %a $R/pub/own; \
               echo b >> $R/pub/own; stat -c %a $R/pub/own; \
               echo y > $R/pub/ro; chmod 444 $R/pub/ro; \
               python3 -c \"import os; print(os.access(\\\"$R/pub/ro\\\", os.W_OK))\"; \
               (echo z >> $R/pub/ro) 2>&1; cat $R/rs 2>/dev/null | head -c 1; echo'",
        );
        // Root: W_OK on 0444 is granted (as on ext4), X_OK on 0644 is not,
        // and root's write keeps the setuid bit; a user's write clears it.
        assert_eq!(
            out,
            format!(
                "True False\n4755\n4755\n755\nFalse\nsh: 1: cannot create {}/pub/ro: Permission denied\nr\n",
                s.root()
            )
        );
    });
}
