//! Each family of interposed entry points, exercised by unmodified programs
//! on files held by a real `orfa-server`, in memory and on a native export.

use conformance::{Export, Server, Transport, on_both_exports};

/// Runs a python script under the preload library with `R` set.
fn python(server: &Server, script: &str) -> String {
    server.sh_ok(&format!(
        "python3 - <<'EOF'\nimport os, errno\nR = os.environ['R']\n{script}\nEOF"
    ))
}

#[test]
fn open_read_write_and_fortified_opens() {
    on_both_exports(|s, native| {
        // `tar` opens with __openat_2 (C01); `cat` and redirections with open.
        let out = s.sh_ok(
            "set -e; mkdir -p /tmp/orfa-c01-$$/d; echo hi > /tmp/orfa-c01-$$/d/f; \
             tar -C /tmp/orfa-c01-$$ -cf /tmp/orfa-c01-$$.tar d; rm -rf /tmp/orfa-c01-$$; \
             tar -C $R -xf /tmp/orfa-c01-$$.tar; rm /tmp/orfa-c01-$$.tar; cat $R/d/f; \
             printf abc > $R/t; printf 1 > $R/t; cat $R/t; echo; stat -c %s $R/t",
        );
        assert_eq!(out, "hi\n1\n1\n");
        if let Some(dir) = native {
            assert_eq!(std::fs::read_to_string(dir.join("d/f")).unwrap(), "hi\n");
        }
        assert!(
            !std::path::Path::new(&s.root()).exists(),
            "nothing is created locally"
        );
    });
}

#[test]
fn positioned_and_vector_io_and_seeking() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "fd = os.open(R + '/p', os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b'0123456789')
print(os.pread(fd, 4, 3), os.lseek(fd, 0, os.SEEK_CUR))
os.pwrite(fd, b'AB', 8); print(os.lseek(fd, -4, os.SEEK_END))
a, b = bytearray(2), bytearray(3); print(os.readv(fd, [a, b]), bytes(a), bytes(b))
os.lseek(fd, 0, os.SEEK_SET); print(os.writev(fd, [b'xy', b'z']), os.read(fd, 3))
print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 0, os.SEEK_HOLE))
try: os.lseek(fd, 10, os.SEEK_DATA)
except OSError as e: print(errno.errorcode[e.errno])
d = os.dup(fd); os.lseek(fd, 1, os.SEEK_SET); print(os.read(d, 2))
os.close(fd); print(os.read(d, 1)); os.close(d)
a = os.open(R + '/p', os.O_WRONLY | os.O_APPEND); os.lseek(a, 0, os.SEEK_SET)
os.write(a, b'!'); print(os.lseek(a, 0, os.SEEK_CUR)); os.close(a)
print(open(R + '/p', 'rb').read())",
        );
        assert_eq!(
            out,
            "b'3456' 10\n6\n4 b'67' b'AB\\x00'\n3 b'345'\n0 10\nENXIO\nb'yz'\nb'3'\n11\nb'xyz34567AB!'\n"
        );
    });
}

#[test]
fn stat_family_agrees() {
    on_both_exports(|s, _| {
        // coreutils `stat` uses statx, `ls -l` statx or lstat, python stat,
        // lstat, fstat and fstatat (C02).
        let out = s.sh_ok(
            "printf hello > $R/f; ln -s f $R/l; stat -c '%s %F %a' $R/f; stat -c '%F %N' $R/l; \
             ls -l $R/f | cut -c1-10; \
             python3 -c \"import os;R='$R';d=os.open(R,os.O_RDONLY);\
print(os.stat(R+'/f').st_size, os.stat('f',dir_fd=d).st_size, os.fstat(os.open(R+'/f',0)).st_size,\
 os.lstat(R+'/l').st_size, os.stat('l',dir_fd=d,follow_symlinks=False).st_size, \
 os.stat(R+'/f').st_mtime_ns == os.fstat(os.open(R+'/f',0)).st_mtime_ns)\"; \
             TZ=UTC touch -d '2021-03-04 05:06:07.123456789' $R/f; TZ=UTC stat -c %y $R/f",
        );
        assert_eq!(
            out,
            "5 regular file 644\nsymbolic link '/REMOTE@{}/l' -> 'f'\n-rw-r--r--\n5 5 5 1 1 True\n\
             2021-03-04 05:06:07.123456789 +0000\n"
                .replace("{}", s.root().trim_start_matches("/REMOTE@"))
        );
    });
}

#[test]
fn directories_list_in_batches_and_directory_descriptors_behave() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "mkdir -p $R/d/s; touch $R/d/f; tar -czf /tmp/orfa-c06-$$.tgz -C $R d; \
             tar -tzf /tmp/orfa-c06-$$.tgz | wc -l; rm /tmp/orfa-c06-$$.tgz; \
             mkdir $R/many; cd $R/many && seq -f f%04g 1500 | xargs touch && cd / && \
             ls $R/many | wc -l; ls -a $R/d; find $R/many -type f | wc -l",
        );
        assert_eq!(out, "3\n1500\n.\n..\nf\ns\n1500\n");
        let out = python(
            s,
            "fd = os.open(R + '/d', os.O_RDONLY)
def e(f):
    try: f(); return 'ok'
    except OSError as x: return errno.errorcode[x.errno]
print(e(lambda: os.read(fd, 1)), sorted(os.listdir(fd)))
print(e(lambda: os.open(R + '/d', os.O_WRONLY)), e(lambda: os.open(R + '/d/f', os.O_DIRECTORY)))
print(e(lambda: os.rmdir(R + '/d')), e(lambda: os.unlink(R + '/d')))
print(sorted(x.name for x in os.scandir(R + '/d')), sorted(os.listdir(R + '/d/s')))
os.fsync(fd); print('fsync ok')",
        );
        assert_eq!(
            out,
            "EISDIR ['f', 's']\nEISDIR ENOTDIR\nENOTEMPTY EISDIR\n['f', 's'] []\nfsync ok\n"
        );
    });
}

#[test]
fn names_are_made_renamed_linked_and_removed() {
    on_both_exports(|s, native| {
        let out = s.sh_ok(
            "mkdir -p $R/a/b/c && echo x > $R/a/f && ln $R/a/f $R/a/h && ln -s f $R/a/s && \
             readlink $R/a/s && stat -c %h $R/a/f && mv $R/a $R/z && ls $R/z && \
             echo old > $R/c; echo new > $R/c.lock; mv $R/c.lock $R/c; cat $R/c; \
             mkfifo $R/z/p && stat -c %F $R/z/p; \
             echo moved > /tmp/orfa-mv-$$; mv /tmp/orfa-mv-$$ $R/m; test -e /tmp/orfa-mv-$$ || cat $R/m; \
             rm -rf $R/z $R/m && ls -A $R",
        );
        // Across file systems `rename` fails with EXDEV and `mv` copies.
        assert_eq!(out, "f\n2\nb\nf\nh\ns\nnew\nfifo\nmoved\nc\n");
        if let Some(dir) = native {
            assert_eq!(std::fs::read_to_string(dir.join("c")).unwrap(), "new\n");
            assert!(!dir.join("z").exists());
        }
    });
}

#[test]
fn attributes_are_changed_and_access_checked() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "(umask 027; touch $R/u; mkdir $R/ud; stat -c %a $R/u $R/ud); \
             echo data > $R/m; chmod 600 $R/m; stat -c %a $R/m; truncate -s 2 $R/m; cat $R/m; echo; \
             touch -m -d @1000000000 $R/m; stat -c %Y $R/m; \
             python3 -c \"import os;R='$R';f=os.open(R+'/m',os.O_RDWR);os.ftruncate(f,1);\
os.fchmod(f,0o640);os.utime(f,ns=(5,7000000000));s=os.stat(R+'/m');\
print(s.st_size, oct(s.st_mode&0o777), s.st_mtime_ns, os.access(R+'/m',os.R_OK), os.access(R+'/nope',os.F_OK))\"",
        );
        assert_eq!(
            out,
            "640\n750\n600\nda\n1000000000\n1 0o640 7000000000 True False\n"
        );
    });
}

#[test]
fn copies_via_copy_file_range_sendfile_and_stdio() {
    on_both_exports(|s, _| {
        // cp uses ioctl(FICLONE) then copy_file_range; python's copyfile uses
        // sendfile; sha256sum, sort and diff read through stdio (C07).
        let out = s.sh_ok(
            "head -c 3000000 /dev/urandom > /tmp/orfa-c07-$$; cp /tmp/orfa-c07-$$ $R/a; chmod 444 $R/a; \
             cp $R/a $R/b; cp $R/a /tmp/orfa-c07-$$.c; \
             python3 -c \"import shutil;shutil.copyfile('$R/a','$R/e');shutil.copyfile('$R/a','/tmp/orfa-c07-$$.e')\"; \
             for f in $R/b /tmp/orfa-c07-$$.c $R/e /tmp/orfa-c07-$$.e; do cmp /tmp/orfa-c07-$$ $f || echo differ $f; done; \
             test \"$(sha256sum < /tmp/orfa-c07-$$ | cut -d' ' -f1)\" = \"$(sha256sum $R/b | cut -d' ' -f1)\" && echo sha-ok; \
             printf '3\\n1\\n2\\n' > $R/s; sort $R/s | tr '\\n' ' '; diff $R/a $R/b && echo diff-ok; \
             rm -f /tmp/orfa-c07-$$ /tmp/orfa-c07-$$.c /tmp/orfa-c07-$$.e",
        );
        assert_eq!(out, "sha-ok\n1 2 3 diff-ok\n");
    });
}

#[test]
fn appends_from_several_processes_interleave_without_loss() {
    let s = Server::start(Export::Memory, Transport::Tcp);
    let out = s.sh_ok(
        ": > $R/l; for p in 1 2 3 4; do (for i in $(seq 200); do echo $p-$i >> $R/l; done) & done; \
         wait; sort $R/l | wc -l; sort $R/l | uniq -d | wc -l",
    );
    assert_eq!(out, "800\n0\n");
}

#[test]
fn descriptors_dup_fcntl_and_stay_out_of_the_kernel() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "import fcntl, mmap
fd = os.open(R + '/x', os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
print(fcntl.fcntl(fd, fcntl.F_GETFD), fcntl.fcntl(fd, fcntl.F_GETFL) & 3)
d = fcntl.fcntl(fd, fcntl.F_DUPFD, 100); print(d >= 100, fcntl.fcntl(d, fcntl.F_GETFD))
os.dup2(fd, 60); os.write(60, b'abc'); print(os.lseek(fd, 0, os.SEEK_CUR))
fcntl.fcntl(fd, fcntl.F_SETFL, os.O_APPEND); print(fcntl.fcntl(d, fcntl.F_GETFL) & os.O_APPEND != 0)
def e(f):
    try: f(); return 'ok'
    except OSError as x: return errno.errorcode[x.errno]
print(e(lambda: mmap.mmap(fd, 3)), e(lambda: fcntl.lockf(fd, fcntl.LOCK_EX)))
print(e(lambda: os.getxattr(R + '/x', 'user.a')), e(lambda: os.listxattr(fd)))
r, w = os.pipe(); os.dup2(r, 60); print(os.read(fd, 1) if False else e(lambda: os.fstat(60)))
os.close(fd); os.close(d); print(e(lambda: os.fstat(fd)))
print(os.statvfs(R).f_namemax > 0, os.fstatvfs(os.open(R, os.O_RDONLY)).f_bsize > 0)",
        );
        assert_eq!(
            out,
            "1 2\nTrue 0\n3\nTrue\nENODEV ok\nENODATA ok\nok\nEBADF\nTrue True\n"
        );
    });
}

#[test]
fn a_remote_current_directory_serves_relative_paths_and_exec() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "mkdir -p $R/a/b && echo top > $R/f && cd $R/a/b && pwd && /bin/pwd && cat ../../f && \
             echo rel > g && ls && cd .. && ls && python3 -c 'import os; print(os.getcwd())' && \
             cd /tmp && /bin/pwd && cat $R/a/b/g",
        );
        let root = s.root();
        assert_eq!(
            out,
            format!("{root}/a/b\n{root}/a/b\ntop\ng\nb\n{root}/a\n/tmp\nrel\n")
        );
    });
}

#[test]
fn realpath_of_remote_paths_is_lexical_and_checked() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "import ctypes
l = ctypes.CDLL(None, use_errno=True)
for f in (l.realpath, l.canonicalize_file_name):
    f.restype = ctypes.c_char_p
os.makedirs(R + '/d/s')
print(l.realpath((R + '//d/./s/..').encode(), None).decode().replace(R, '$R'))
print(l.canonicalize_file_name((R + '/d/s').encode()).decode().replace(R, '$R'))
print(l.realpath((R + '/nope').encode(), None), errno.errorcode[ctypes.get_errno()])",
        );
        assert_eq!(out, "$R/d\n$R/d/s\nNone ENOENT\n");
    });
}

#[test]
fn an_open_directory_removed_since_lists_as_empty() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "os.mkdir(R + '/gone'); fd = os.open(R + '/gone', os.O_RDONLY | os.O_DIRECTORY)
os.rmdir(R + '/gone')
print(os.listdir(fd), list(os.scandir(fd)))",
        );
        assert_eq!(out, "[] []\n");
    });
}
