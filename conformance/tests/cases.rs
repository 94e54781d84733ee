//! The cases of `CASES.md` tagged [P] or [P+F], through the preload library,
//! each against an in-memory and a native export: files, names and paths.
//! (`cases_attrs.rs` holds copies, sparse files, times, fsync, limits,
//! signals and permissions.)
//!
//! Right values checked elsewhere, not repeated here:
//!
//! - C01: tar extracting with `__openat_2`, nothing made locally:
//!   `impl-preload/tests/remote.rs`, `open_read_write_and_fortified_opens`.
//!   The other fortified entry points are checked below.
//! - C02: `stat`, `ls -l`, python's `stat`/`lstat`/`fstat`/`fstatat`:
//!   `remote.rs`, `stat_family_agrees`. The 64-bit, `__xstat` and `statx`
//!   entry points are checked below.
//! - C04: all of it: `impl-preload/tests/process.rs`,
//!   `c04_descriptors_are_inherited_with_their_offset_and_cloexec`.
//! - C05: `pwd` and `cat ../../f` from a remote directory: `remote.rs`,
//!   `a_remote_current_directory_serves_relative_paths_and_exec`; the rest
//!   below.
//! - C06: all of it (tar of a directory, every errno): `remote.rs`,
//!   `directories_list_in_batches_and_directory_descriptors_behave`.
//! - C07: `cp` both ways and within, python's `copyfile`, a read-only
//!   source: `remote.rs`, `copies_via_copy_file_range_sendfile_and_stdio`;
//!   `copy_file_range` and `sendfile` between remote and local descriptors in
//!   `cases_attrs.rs`.
//! - C09: `mv` over a file, `git clone` then `git config`: `remote.rs`,
//!   `names_are_made_renamed_linked_and_removed`, and
//!   `impl-preload/tests/mapping.rs`, `git_works_in_a_remote_directory`.
//! - C10: `printf abc; printf 1; cat; stat -c %s`: `remote.rs`,
//!   `open_read_write_and_fortified_opens`.
//! - C11: 4 shell appenders on one file: `remote.rs`,
//!   `appends_from_several_processes_interleave_without_loss` (in memory).
//! - C16: all of it (sqlite3 locked writer with rc 5, 4 writers, F_SETLK
//!   EAGAIN, F_GETLK holder, close of any descriptor):
//!   `impl-preload/tests/locks.rs`.
//! - C17: `SEEK_DATA` at the size gives ENXIO: `protocol11.rs`,
//!   `fallocate_seek_data_and_in_server_copy`.
//! - C18: `touch -d` with nanoseconds: `remote.rs`, `stat_family_agrees`.
//! - C19: `fsync` of a directory descriptor: `remote.rs` (directories test).
//! - C24: umask 027: `remote.rs` and `protocol11.rs`; uid 65534 reading a
//!   0600 file with `setpriv`: `protocol11.rs`, `the_server_acts_as_the_caller`.

mod common;

use common::{on_both_exports, python, require};

#[test]
fn c01_every_fortified_open_reaches_the_server() {
    on_both_exports(|s, native| {
        let out = python(
            s,
            "l = ctypes.CDLL(None, use_errno=True)
for name in ('__open_2', '__open64_2'):
    fd = getattr(l, name)((R + '/o' + name).encode(), os.O_WRONLY | os.O_CREAT)
    print(name, fd >= 0, os.write(fd, name.encode()) if fd >= 0 else ctypes.get_errno())
d = os.open(R, os.O_RDONLY)
for name in ('__openat_2', '__openat64_2'):
    fd = getattr(l, name)(d, ('a' + name).encode(), os.O_WRONLY | os.O_CREAT)
    print(name, fd >= 0, os.write(fd, name.encode()) if fd >= 0 else ctypes.get_errno())
print(sorted(os.listdir(R)), open(R + '/o__open64_2').read())",
        );
        assert_eq!(
            out,
            "__open_2 True 8\n__open64_2 True 10\n__openat_2 True 10\n__openat64_2 True 12\n\
             ['a__openat64_2', 'a__openat_2', 'o__open64_2', 'o__open_2'] __open64_2\n"
        );
        if let Some(dir) = native {
            assert!(dir.join("a__openat64_2").exists());
        }
        assert!(!std::path::Path::new(&s.root()).exists(), "made locally");
    });
}

#[test]
fn c02_every_stat_entry_point_agrees() {
    on_both_exports(|s, _| {
        // st_size is the 7th long of `struct stat` on x86-64; stx_size is at
        // byte 40 of `struct statx`.
        let out = python(
            s,
            "open(R + '/f', 'w').write('hello')
l = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(256)
size = lambda: ctypes.cast(buf, ctypes.POINTER(ctypes.c_long))[6]
xsize = lambda: ctypes.cast(ctypes.byref(buf, 40), ctypes.POINTER(ctypes.c_ulonglong))[0]
p = (R + '/f').encode(); d = os.open(R, os.O_RDONLY); fd = os.open(R + '/f', os.O_RDONLY)
got = []
for n in ('stat', 'stat64', 'lstat', 'lstat64'):
    got.append((n, getattr(l, n)(p, buf), size()))
for n in ('__xstat', '__xstat64', '__lxstat', '__lxstat64'):
    got.append((n, getattr(l, n)(1, p, buf), size()))
for n in ('fstat', 'fstat64'):
    got.append((n, getattr(l, n)(fd, buf), size()))
for n in ('__fxstat', '__fxstat64'):
    got.append((n, getattr(l, n)(1, fd, buf), size()))
for n in ('fstatat', 'fstatat64'):
    got.append((n, getattr(l, n)(d, b'f', buf, 0), size()))
for n in ('__fxstatat', '__fxstatat64'):
    got.append((n, getattr(l, n)(1, d, b'f', buf, 0), size()))
got.append(('statx-at', l.statx(d, b'f', 0, 0xfff, buf), xsize()))
got.append(('statx-abs', l.statx(-100, p, 0, 0xfff, buf), xsize()))
got.append(('statx-fd', l.statx(fd, b'', 0x1000, 0xfff, buf), xsize()))
bad = [g for g in got if g[1:] != (0, 5)]
print(len(got), bad)
print(os.stat(R + '/f').st_size, os.stat('f', dir_fd=d).st_size)",
        );
        assert_eq!(out, "19 []\n5 5\n");
        let out = s.sh_ok("printf hello > $R/g; stat -c '%s %F' $R/g; ls -l $R/g | cut -c1-10");
        assert_eq!(out, "5 regular file\n-rw-r--r--\n");
    });
}

#[test]
fn c03_raw_system_calls_and_static_binaries_fail_with_enoent_and_do_no_harm() {
    require("busybox", "busybox-static");
    let linkage = conformance::run_ok("ldd $(command -v busybox) 2>&1 || true");
    assert!(
        linkage.contains("not a dynamic executable"),
        "busybox must be the static one (busybox-static): {linkage}"
    );
    on_both_exports(|s, native| {
        s.sh_ok("echo hi > $R/f");
        // SYS_stat is 4 on x86-64.
        let out = python(
            s,
            "l = ctypes.CDLL(None, use_errno=True)
print(l.syscall(4, (R + '/f').encode(), ctypes.create_string_buffer(256)), os.strerror(ctypes.get_errno()))",
        );
        assert_eq!(out, "-1 No such file or directory\n");
        let out = s.sh(
            "busybox cat $R/f; echo cat=$?; busybox mkdir $R/m; echo mkdir=$?; \
             busybox sh -c 'echo x > $R/n'; echo redirect=$?; busybox rm $R/f; echo rm=$?; \
             busybox touch $R/t; echo touch=$?",
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout, "cat=1\nmkdir=1\nredirect=1\nrm=1\ntouch=1\n");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("No such file or directory"), "{stderr}");
        // Nothing was made or removed locally or on the server.
        assert!(!std::path::Path::new(&s.root()).exists(), "made locally");
        assert_eq!(s.sh_ok("ls $R; cat $R/f"), "f\nhi\n");
        if let Some(dir) = native {
            let names: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
            assert_eq!(names.len(), 1);
        }
    });
    // `busybox mkdir -p` as root would make a local /REMOTE@... tree: the
    // documented limit (README, "Limits of the preload client").
    let readme = std::fs::read_to_string(conformance::workspace_root().join("README.md")).unwrap();
    let readme = readme
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    assert!(
        readme.contains("static binaries") && readme.contains("raw system calls"),
        "README.md must document what static binaries and raw system calls see"
    );
}

#[test]
fn c05_current_directory_dot_dot_across_the_prefix_and_a_short_getcwd_buffer() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "bash -c 'mkdir -p $R/a/b; echo top > $R/f; cd $R/a/b; pwd; cat ../../f; \
             cd $R; cd ..; pwd; cd $R/a; ls ..; ls -d ../a/b; cd ../..; pwd'",
        );
        assert_eq!(out, format!("{}/a/b\ntop\n/\na\nf\n../a/b\n/\n", s.root()));
        let out = python(
            s,
            "l = ctypes.CDLL(None, use_errno=True); l.getcwd.restype = ctypes.c_char_p
os.chdir(R + '/a/b'); n = len(os.getcwd())
small = ctypes.create_string_buffer(n)
print(l.getcwd(small, n), errno.errorcode[ctypes.get_errno()])
print(l.getcwd(ctypes.create_string_buffer(n + 1), n + 1).decode() == R + '/a/b')
print(l.getcwd(ctypes.create_string_buffer(8), 8), errno.errorcode[ctypes.get_errno()])
os.chdir('..'); print(os.getcwd() == R + '/a', sorted(os.listdir('..')))",
        );
        assert_eq!(out, "None ERANGE\nTrue\nNone ERANGE\nTrue ['a', 'f']\n");
    });
}

#[test]
fn c09_rename_over_existing_targets() {
    on_both_exports(|s, _| {
        // Within one process, a descriptor opened before the rename still
        // reads the old file.
        let out = python(
            s,
            "open(R + '/c', 'w').write('old'); open(R + '/c.lock', 'w').write('new')
fd = os.open(R + '/c', os.O_RDONLY)
os.rename(R + '/c.lock', R + '/c')
print(open(R + '/c').read(), os.read(fd, 10).decode(), os.path.exists(R + '/c.lock'))",
        );
        assert_eq!(out, "new old False\n");
        // A child inherits the open file itself, not its name: through a
        // fork (`cat <&4`), an exec that ends the shell's own session
        // (`exec cat`), and after the file was unlinked.
        let out = s.sh_ok(
            "echo old > $R/k; echo new > $R/k.lock; exec 4< $R/k; mv $R/k.lock $R/k; \
             cat $R/k; cat <&4; test -e $R/k.lock || echo gone; \
             echo older > $R/j; exec 5< $R/j; echo newer > $R/j.new; mv $R/j.new $R/j; \
             bash -c 'exec cat <&5'; exec 6< $R/j; rm $R/j; bash -c 'cat <&6; test -e $R/j || echo unlinked'",
        );
        assert_eq!(out, "new\nold\ngone\nolder\nnewer\nunlinked\n");
        let out = python(
            s,
            "os.makedirs(R + '/d/sub'); os.mkdir(R + '/empty'); os.makedirs(R + '/full/x')
open(R + '/file', 'w').write('f')
print(e(lambda: os.rename(R + '/d', R + '/empty')), os.listdir(R + '/empty'), os.path.exists(R + '/d'))
print(e(lambda: os.rename(R + '/empty', R + '/full')), e(lambda: os.rename(R + '/file', R + '/full')),
      e(lambda: os.rename(R + '/full', R + '/file')), e(lambda: os.rename(R + '/full', R + '/full/x/y')))
print(sorted(os.listdir(R)), open(R + '/file').read())",
        );
        assert_eq!(
            out,
            "ok ['sub'] False\nENOTEMPTY EISDIR ENOTDIR EINVAL\n['c', 'empty', 'file', 'full', 'k'] f\n"
        );
    });
}

#[test]
fn c10_truncating_opens() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "open(R + '/t', 'w').write('abc')
a = os.open(R + '/t', os.O_RDONLY)
b = os.open(R + '/t', os.O_WRONLY | os.O_TRUNC); os.write(b, b'1')
print(os.fstat(a).st_size, os.fstat(b).st_size, os.stat(R + '/t').st_size, os.read(a, 10))
c = os.open(R + '/t', os.O_RDONLY | os.O_TRUNC)
print(os.fstat(c).st_size, os.fstat(a).st_size, os.read(c, 5))",
        );
        assert_eq!(out, "1 1 1 b'1'\n0 0 b''\n");
    });
}

#[test]
fn c11_appends_from_several_processes_land_at_the_end() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            ": > $R/l; for p in 1 2 3 4; do (for i in $(seq 500); do echo $p-$i >> $R/l; done) & \
             done; wait; wc -l < $R/l; sort $R/l | uniq -d | wc -l",
        );
        assert_eq!(out, "2000\n0\n");
        // The end is the server's: another process grew the file after this
        // descriptor was opened and its size seen.
        let out = python(
            s,
            "fd = os.open(R + '/a', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
os.write(fd, b'one\\n'); os.fstat(fd)
subprocess.run(['sh', '-c', 'echo two-from-another-process >> \"$R/a\"'], check=True)
os.write(fd, b'three\\n')
print(open(R + '/a').read(), end='')",
        );
        assert_eq!(out, "one\ntwo-from-another-process\nthree\n");
    });
}

#[test]
fn c13_unlinking_while_listing_and_rm_rf_of_a_big_tree() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "d = R + '/big'; os.mkdir(d)
for i in range(20000):
    os.close(os.open('%s/f%05d' % (d, i), os.O_WRONLY | os.O_CREAT, 0o644))
seen = set()
for entry in os.scandir(d):
    assert entry.name not in seen, entry.name
    seen.add(entry.name)
    os.unlink(entry.path)
print(len(seen)); os.rmdir(d)
for a in range(10):
    for b in range(10):
        for c in range(10):
            p = '%s/tree/%d/%d/%d' % (R, a, b, c); os.makedirs(p)
            for f in 'xyz': open(p + '/' + f, 'w').close()
print(subprocess.run(['rm', '-rf', R + '/tree']).returncode, os.listdir(R))",
        );
        assert_eq!(out, "20000\n0 []\n");
    });
}
