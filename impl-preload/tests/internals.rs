//! C library functions built on the C library's own internal calls
//! (`scandir`, `glob`, the `mkstemp` family, `sed -i`), on remote paths.

use conformance::on_both_exports;

/// Builds `tests/c/NAME.c` into `out`.
fn build(name: &str, out: &std::path::Path) -> std::path::PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    conformance::build_c(&src, out, &[])
}

#[test]
fn scandir_glob_and_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build("internals", tmp.path());
    on_both_exports(|s, _| {
        s.sh_ok(
            "mkdir -p $R/scan/sub; touch $R/scan/b.c $R/scan/a.c $R/scan/.hidden $R/scan/x.h; \
             ln -s scan $R/ln; ln -s /scan/sub $R/abs; ln -s loop $R/loop",
        );
        let out = s.sh_ok(&format!("{} $R", exe.display()));
        assert_eq!(
            out,
            "scandir 4: a.c b.c sub x.h\nscandir all 7\nglob 0 2: a.c b.c\nglob dirs 0 1 sub/\n\
             mkstemp 1 0600\nmkostemps 1 named\nmkdtemp 0700\nmkstemp bad -1 1\n\
             realpath ln/a.c /scan/a.c\nrealpath abs/ Permission denied\n\
             realpath loop Too many levels of symbolic links\nrealpath ln/a.c/x Not a directory\n"
        );
        assert_eq!(s.sh_ok("ls -A $R | grep -c tmp || true"), "0\n");
    });
}

#[test]
fn sed_in_place() {
    on_both_exports(|s, _| {
        let out = s.sh_ok("printf 'a\\nb\\n' > $R/f; sed -i 's/b/c/' $R/f; cat $R/f; ls $R");
        assert_eq!(out, "a\nc\nf\n");
    });
}
