//! `mmap` of remote files (private mappings emulated, shared writable ones
//! refused), and git, which maps its packs, index and config, on a remote
//! directory.

use conformance::on_both_exports;

#[test]
fn private_mappings_are_emulated_and_shared_writable_ones_refused() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "python3 - <<'EOF'
import os, mmap, errno
R = os.environ['R']
with open(R + '/m', 'wb') as f: f.write(b'x' * 5000 + b'hello')
fd = os.open(R + '/m', os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
print(len(m), m[5000:5005], m[:2])
p = mmap.mmap(fd, 909, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE, offset=4096)
print(p[904:909]); p[0:1] = b'Z'; print(p[0:2])
def e(f):
    try: f(); return 'ok'
    except OSError as x: return errno.errorcode[x.errno]
rw = os.open(R + '/m', os.O_RDWR)
wo = os.open(R + '/m', os.O_WRONLY)
print(e(lambda: mmap.mmap(fd, 0, prot=mmap.PROT_READ | mmap.PROT_WRITE)),
      e(lambda: mmap.mmap(rw, 0, prot=mmap.PROT_READ | mmap.PROT_WRITE)),
      e(lambda: mmap.mmap(wo, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)),
      e(lambda: mmap.mmap(os.open(R, os.O_RDONLY), 1, prot=mmap.PROT_READ)))
print(open(R + '/m', 'rb').read()[4096:4098])
m.close(); p.close()
EOF",
        );
        assert_eq!(
            out,
            "5005 b'hello' b'xx'\nb'hello'\nb'Zx'\nEACCES ENODEV EACCES ENODEV\nb'xx'\n"
        );
    });
}

#[test]
fn git_works_in_a_remote_directory() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            r#"set -e; export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t \
               GIT_COMMITTER_EMAIL=t@t HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1
               local=/tmp/orfa-git-$$; rm -rf $local; mkdir $local; cd $local; git init -q
               echo hi > a; git add a; git commit -qm local; cd /
               git clone -q $local $R/cl; git -C $R/cl config a.b c; git -C $R/cl config a.b
               cat $R/cl/a
               mkdir $R/g; cd $R/g; git init -q; echo one > f; git add f; git commit -qm first
               echo two >> f; git status --short; git commit -qam second; git log --format=%s
               git gc -q; git log --format=%s | wc -l; git status --short | wc -l; cd /
               git clone -q $R/g $local/back; cat $local/back/f; rm -rf $local"#,
        );
        assert_eq!(out, "c\nhi\n M f\nsecond\nfirst\n2\n0\none\ntwo\n");
    });
}
