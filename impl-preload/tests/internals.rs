//! C library functions built on the C library's own internal calls
//! (`scandir`, `glob`, the `mkstemp` family, `sed -i`), on remote paths.

use std::process::Command;

use conformance::{Export, Server, Transport};

fn on_both_exports(check: impl Fn(&Server)) {
    let memory = Server::start(Export::Memory, Transport::Tcp);
    check(&memory);
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let native = Server::start(Export::Dir(dir.path().to_path_buf()), Transport::Tcp);
    check(&native);
}

/// Builds `tests/c/NAME.c` into a temporary directory.
fn build(name: &str, out: &std::path::Path) -> std::path::PathBuf {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/c/{name}.c"));
    let exe = out.join(name);
    let status = Command::new("cc")
        .arg("-O1")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("cannot run cc");
    assert!(status.success(), "cc failed on {}", src.display());
    exe
}

#[test]
fn scandir_glob_and_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = build("internals", tmp.path());
    on_both_exports(|s| {
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
    on_both_exports(|s| {
        let out = s.sh_ok("printf 'a\\nb\\n' > $R/f; sed -i 's/b/c/' $R/f; cat $R/f; ls $R");
        assert_eq!(out, "a\nc\nf\n");
    });
}
