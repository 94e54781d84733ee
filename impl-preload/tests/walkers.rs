//! C library functions that walk trees or reopen streams with the C
//! library's own internal calls (`nftw`, `ftw`, `freopen`): on a remote
//! tree they must give what they give on the same tree built locally.

use conformance::{Server, on_both_exports};

/// Builds `tests/c/NAME.c` into `out`.
fn build(name: &str, out: &std::path::Path) -> std::path::PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    conformance::build_c(&src, out, &[])
}

/// Runs `script` with `$D` the remote root, then with `$D` a fresh local
/// directory; returns both outputs.
fn remote_and_local(s: &Server, script: &str) -> (String, String) {
    let remote = s.sh_ok(&format!("D=$R; {script}"));
    let local = tempfile::tempdir().expect("cannot make a temporary directory");
    let local = s.sh_ok(&format!("D={}; {script}", local.path().display()));
    (remote, local)
}

/// A tree with files, nested and skipped directories, a link to a
/// directory outside it and a dangling link.
const TREE: &str = "mkdir -p $D/T/a/b $D/T/skip/x $D/T/c $D/other; \
    echo hi > $D/T/a/f; echo xyz > $D/T/a/b/g; \
    touch $D/T/skip/x/y $D/T/c/stop $D/T/c/z $D/other/o; \
    ln -s ../other $D/T/la; ln -s nowhere $D/T/dangle";

#[test]
fn nftw_and_ftw_match_a_local_walk() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build("walkers", tmp.path());
    on_both_exports(|s, _| {
        let script = format!("{TREE}; {} $D | LC_ALL=C sort", exe.display());
        let (remote, local) = remote_and_local(s, &script);
        assert_eq!(remote, local);
        for line in [
            "0 F /T/a/b/g base=g level=3 size=4",
            "0 D /T/la base=la level=1",
            "0 F /T/la/o base=o level=2 size=0",
            "0 SLN /T/dangle base=dangle level=1",
            "1 SL /T/la base=la level=1",
            "8 DP /T base=T level=0 below=13",
            "4 F /T/a/f base=f level=2 size=3 here=1",
            "ftw NS /T/dangle",
            "stop rc=42",
            "stop rc=1",
            "none rc=-1 No such file or directory",
            "4 D /T base=T level=0 here=1",
        ] {
            assert!(
                remote.contains(&format!("{line}\n")),
                "no {line:?} in\n{remote}"
            );
        }
        let retval = |l: &&str| l.starts_with("16 ") || l.starts_with("25 ");
        // Only a walk that reports directories first can skip their subtree.
        let skipped = remote
            .lines()
            .filter(|l| l.starts_with("16 ") && l.contains("/T/skip/"));
        assert_eq!(
            skipped.count(),
            0,
            "a skipped subtree was walked:\n{remote}"
        );
        let siblings = remote
            .lines()
            .filter(retval)
            .filter(|l| l.contains("/T/c/"));
        assert_eq!(siblings.count(), 2, "siblings were not skipped:\n{remote}");
    });
}

#[test]
fn fts_matches_a_local_walk() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build("fts", tmp.path());
    on_both_exports(|s, _| {
        let cycle = "ln -s .. $D/T/a/up";
        let script = format!("{TREE}; {cycle}; {} $D", exe.display());
        let (remote, local) = remote_and_local(s, &script);
        assert_eq!(remote, local);
        for line in [
            "  DC /T/a/up level=2 name=up len=7 acc=1 cycle=0\n",
            "  NSOK /T/a/f level=2 name=f len=6 acc=1\n",
            "  DOT /T/. level=1 name=. len=4 acc=1\n",
            "  NS /T/none level=0 name=none len=7 No such file or directory\n",
            "  D /T/ level=0 name= len=3 acc=1\n",
            "  children: a/D c/D dangle/SL la/SL skip/D\n",
            "  names: b/NSOK f/NSOK up/NSOK\n",
            "  open failed: Invalid argument\n",
        ] {
            assert!(remote.contains(line), "no {line:?} in\n{remote}");
        }
    });
}

#[test]
fn freopen_matches_a_local_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build("reopen", tmp.path());
    on_both_exports(|s, _| {
        let script = format!(
            "printf 'one\\ntwo\\n' > $D/in; L=$(mktemp); {} $D $L; rm $L; echo ---; cat $D/out",
            exe.display()
        );
        let (remote, local) = remote_and_local(s, &script);
        assert_eq!(remote, local);
        assert_eq!(
            remote,
            "stdin 1 same=1 fileno=0\ngot one\ngot two\nreopened 1 same=2: second\na: first\nlocal same=1 fileno>2=1\nlocal: written locally\n\
             ---\nto out 1 same=1 fileno=1\n"
        );
    });
}
