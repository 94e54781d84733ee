//! The preload client on the operations of protocol 1.1, and without them
//! against a server that offers 1.0 only (`--protocol-minor 0`): extended
//! attributes, the caller's identity and umask, listings with attributes,
//! preallocation, data and holes, and in-server copies.

use conformance::{Server, on_both_exports, on_both_exports_with};

const OLD: &[&str] = &["--protocol-minor", "0"];

/// Runs a python script under the preload library with `R` set.
fn python(server: &Server, script: &str) -> String {
    server.sh_ok(&format!(
        "python3 - <<'EOF'\nimport os, errno\nR = os.environ['R']\n{script}\nEOF"
    ))
}

/// The requests a script's processes sent, from `ORFA_STATS=1`.
fn requests(server: &Server, script: &str) -> u64 {
    let out = server
        .command("sh")
        .arg("-c")
        .arg(script)
        .env("R", server.root())
        .env("ORFA_STATS", "1")
        .output()
        .expect("cannot run sh");
    assert!(out.status.success(), "{script}: {out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .filter(|l| l.starts_with("orfa-stats: "))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .expect("a count")
        })
        .sum()
}

const XATTRS: &str = "open(R + '/x', 'w').write('data')
os.setxattr(R + '/x', 'user.colour', b'blue')
os.setxattr(R + '/x', 'user.size', b'12', os.XATTR_CREATE)
try: os.setxattr(R + '/x', 'user.size', b'13', os.XATTR_CREATE)
except OSError as e: print(errno.errorcode[e.errno])
print(os.getxattr(R + '/x', 'user.colour'), sorted(os.listxattr(R + '/x')))
fd = os.open(R + '/x', os.O_RDONLY)
print(os.getxattr(fd, 'user.size'), len(os.listxattr(fd)))
os.removexattr(R + '/x', 'user.colour')
try: os.getxattr(R + '/x', 'user.colour')
except OSError as e: print(errno.errorcode[e.errno])
os.symlink('x', R + '/lx')
try: os.getxattr(R + '/lx', 'user.size', follow_symlinks=False)
except OSError as e: print(errno.errorcode[e.errno])
print(os.getxattr(R + '/lx', 'user.size'))
try: os.getxattr(R + '/x', 'security.selinux')
except OSError as e: print(errno.errorcode[e.errno])";

#[test]
fn extended_attributes() {
    on_both_exports(|s, _| {
        assert_eq!(
            python(s, XATTRS),
            "EEXIST\nb'blue' ['user.colour', 'user.size']\nb'12' 2\nENODATA\n\
             ENODATA\nb'12'\nENOTSUP\n"
        );
    });
}

#[test]
fn without_1_1_extended_attributes_are_unsupported() {
    on_both_exports_with(OLD, |s, _| {
        let out = python(
            s,
            "open(R + '/x', 'w').write('data')
for f in (lambda: os.getxattr(R + '/x', 'user.a'), lambda: os.listxattr(R + '/x'),
          lambda: os.setxattr(R + '/x', 'user.a', b'1')):
    try: f()
    except OSError as e: print(errno.errorcode[e.errno])",
        );
        assert_eq!(out, "ENOTSUP\nENOTSUP\nENOTSUP\n");
    });
}

#[test]
fn umask_is_applied_with_and_without_context() {
    for args in [&[][..], OLD] {
        on_both_exports_with(args, |s, _| {
            let out = s.sh_ok("(umask 027; touch $R/u; mkdir $R/ud; stat -c %a $R/u $R/ud)");
            assert_eq!(out, "640\n750\n", "server args {args:?}");
            let out = python(
                s,
                "os.umask(0o077); os.mkdir(R + '/m', 0o777); os.close(os.open(R + '/n', os.O_CREAT | os.O_WRONLY, 0o666))
print(oct(os.stat(R + '/m').st_mode & 0o777), oct(os.stat(R + '/n').st_mode & 0o777))",
            );
            assert_eq!(out, "0o700 0o600\n", "server args {args:?}");
        });
    }
}

#[test]
fn the_server_acts_as_the_caller() {
    assert_eq!(
        unsafe_free_uid(),
        0,
        "this test checks identities and must run as root"
    );
    on_both_exports(|s, _| {
        let out = s.sh(
            "echo s > $R/s; chmod 600 $R/s; setpriv --reuid=65534 --regid=65534 --clear-groups cat $R/s",
        );
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("Permission denied"), "{err}");
        // A program that changes its identity itself: the next request runs
        // with the new one.
        s.sh_ok("mkdir -m 777 $R/pub");
        let out = python(
            s,
            "print(open(R + '/s').read().strip())
os.setgroups([]); os.setgid(65534); os.setuid(65534)
try: open(R + '/s').read()
except OSError as e: print(errno.errorcode[e.errno])
open(R + '/pub/mine', 'w').write('x'); st = os.stat(R + '/pub/mine'); print(st.st_uid, st.st_gid)",
        );
        assert_eq!(out, "s\nEACCES\n65534 65534\n");
    });
}

/// The effective uid of the test process, from /proc (no unsafe code).
fn unsafe_free_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .expect("uid")
}

#[test]
fn ls_l_of_a_big_directory_costs_a_bounded_number_of_requests() {
    const FILES: usize = 10_000;
    on_both_exports(|s, native| {
        match native {
            Some(dir) => {
                std::fs::create_dir(dir.join("big")).unwrap();
                for i in 0..FILES {
                    std::fs::write(dir.join(format!("big/f{i:05}")), b"x").unwrap();
                }
            }
            None => {
                python(
                    s,
                    &format!(
                        "os.mkdir(R + '/big')
for i in range({FILES}): os.close(os.open(R + '/big/f%05d' % i, os.O_CREAT | os.O_WRONLY, 0o644))"
                    ),
                );
            }
        }
        let n = requests(s, "ls -l $R/big > /dev/null");
        assert!(n <= 20, "ls -l of {FILES} files took {n} requests");
        let out = s.sh_ok("ls -l $R/big | sed -n '2p;$p' | cut -c1-10; ls -l $R/big | wc -l");
        assert_eq!(out, "-rw-r--r--\n-rw-r--r--\n10001\n");
        // The answers are those a request would give: a change made by this
        // process is seen at once.
        let out = python(
            s,
            "d = R + '/big'
it = os.scandir(d); e = next(it)
size = e.stat(follow_symlinks=False).st_size
open(d + '/' + e.name, 'a').write('more')
print(os.lstat(d + '/' + e.name).st_size - size, e.stat(follow_symlinks=False).st_size == size)",
        );
        assert_eq!(out, "4 True\n", "scandir's own entry keeps what it read");
    });
}

#[test]
fn stat_block_size_is_large() {
    on_both_exports(|s, _| {
        let out = s.sh_ok("echo x > $R/f; stat -c %o $R/f");
        assert_eq!(out, "131072\n");
    });
}

#[test]
fn fallocate_seek_data_and_in_server_copy() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "fd = os.open(R + '/sp', os.O_RDWR | os.O_CREAT, 0o644)
os.posix_fallocate(fd, 0, 8192); print(os.fstat(fd).st_size)
os.ftruncate(fd, 1 << 24); os.pwrite(fd, b'X', 1 << 23)
print(os.lseek(fd, 0, os.SEEK_DATA) <= (1 << 23), os.lseek(fd, 1 << 23, os.SEEK_DATA) == 1 << 23)
print(os.lseek(fd, 0, os.SEEK_HOLE) <= 1 << 24)
try: os.lseek(fd, 1 << 24, os.SEEK_DATA)
except OSError as e: print(errno.errorcode[e.errno])
try: os.posix_fallocate(os.open(R + '/sp', os.O_RDONLY), 0, 10)
except OSError as e: print(errno.errorcode[e.errno])
open(R + '/a', 'wb').write(os.urandom(3 << 20))
a = os.open(R + '/a', os.O_RDONLY); b = os.open(R + '/b', os.O_WRONLY | os.O_CREAT, 0o644)
n = 0
while True:
    k = os.copy_file_range(a, b, 1 << 30)
    if k == 0: break
    n += k
print(n, os.lseek(a, 0, os.SEEK_CUR), os.lseek(b, 0, os.SEEK_CUR))
print(open(R + '/a', 'rb').read() == open(R + '/b', 'rb').read())",
        );
        assert_eq!(
            out,
            "8192\nTrue True\nTrue\nENXIO\nEBADF\n3145728 3145728 3145728\nTrue\n"
        );
        // Done inside the server: a few requests, not one per megabyte each way.
        let n = requests(
            s,
            "python3 -c \"import os; R = os.environ['R']; a = os.open(R + '/a', 0); \
b = os.open(R + '/c', os.O_WRONLY | os.O_CREAT, 0o644); os.copy_file_range(a, b, 3 << 20)\"",
        );
        assert!(n <= 8, "copy took {n} requests");
        assert_eq!(s.sh_ok("cmp $R/a $R/c && cp $R/a /tmp/orfa-cfr-$$ && cmp $R/a /tmp/orfa-cfr-$$ && rm /tmp/orfa-cfr-$$ && echo same"), "same\n");
    });
}

#[test]
fn without_1_1_fallocate_fails_seek_is_dense_and_copies_are_emulated() {
    on_both_exports_with(OLD, |s, _| {
        let out = python(
            s,
            "fd = os.open(R + '/sp', os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 100)
try: os.posix_fallocate(fd, 0, 8192)
except OSError as e: print(errno.errorcode[e.errno])
print(os.lseek(fd, 5, os.SEEK_DATA), os.lseek(fd, 5, os.SEEK_HOLE))
try: os.lseek(fd, 100, os.SEEK_DATA)
except OSError as e: print(errno.errorcode[e.errno])
open(R + '/a', 'wb').write(b'abc' * 1000)
a = os.open(R + '/a', os.O_RDONLY); b = os.open(R + '/b', os.O_WRONLY | os.O_CREAT, 0o644)
print(os.copy_file_range(a, b, 5000))
print(open(R + '/b', 'rb').read() == b'abc' * 1000)",
        );
        assert_eq!(out, "ENOTSUP\n5 100\nENXIO\n3000\nTrue\n");
        let out = s.sh_ok("mkdir $R/d; touch $R/d/f; ls -l $R/d | tail -n 1 | cut -c1-10");
        assert_eq!(out, "-rw-r--r--\n");
    });
}
