//! Paths that leave a server lexically, and trailing slashes.

use conformance::on_both_exports;

#[test]
fn paths_that_simplify_to_local_ones_reach_the_kernel_simplified() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "set -e; mkdir -p $R/a/b; cat $R/../etc/hostname > /dev/null; \
             test \"$(stat -c %i $R/..)\" = \"$(stat -c %i /)\"; \
             test \"$(stat -c %i $R/a/../..)\" = \"$(stat -c %i /)\"; \
             ls -d $R/a/../.. ; ls -la $R | grep -c '?' || true; \
             cd $R; ls -d ../tmp; cd a/b; cat ../../../etc/hostname > /dev/null; echo ok",
        );
        assert_eq!(out, format!("{}/a/../..\n0\n../tmp\nok\n", s.root()));
    });
}

#[test]
fn a_trailing_slash_needs_a_directory() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(&format!(
            "python3 - <<'EOF'\nimport os, errno\nR = os.environ['R']\n{}\nEOF",
            "open(R + '/f', 'w').write('x'); os.mkdir(R + '/d/'); os.symlink('d', R + '/ld')
def err(f):
    try: f(); return 'ok'
    except OSError as e: return errno.errorcode[e.errno]
print(err(lambda: os.stat(R + '/f/')), err(lambda: os.lstat(R + '/f/')),
      err(lambda: os.open(R + '/f/', os.O_RDONLY)), err(lambda: os.unlink(R + '/f/')),
      err(lambda: os.open(R + '/new/', os.O_CREAT | os.O_WRONLY)),
      err(lambda: os.stat(R + '/d/')), err(lambda: os.lstat(R + '/ld/')),
      err(lambda: os.unlink(R + '/d/')), err(lambda: os.chmod(R + '/f/', 0o600)),
      err(lambda: os.rename(R + '/f/', R + '/g')), err(lambda: os.rmdir(R + '/d/')))
print(os.path.exists(R + '/f'), os.path.isdir(R + '/ld/'))"
        ));
        assert_eq!(
            out,
            "ENOTDIR ENOTDIR ENOTDIR ENOTDIR EISDIR ok ok EISDIR ENOTDIR ENOTDIR ok\nTrue False\n"
        );
    });
}
