//! The layout of `FTS` and `FTSENT` against the C library's `<fts.h>`.

use core::mem::{offset_of, size_of};
use std::process::Command;

use super::{Ent, Fts};

/// Offsets and sizes as a C program compiled against `<fts.h>` prints them.
fn c_layout() -> String {
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let src = dir.path().join("layout.c");
    let exe = dir.path().join("layout");
    let program = r#"
#include <fts.h>
#include <stddef.h>
#include <stdio.h>
#define F(t, f) printf("%s %zu\n", #f, offsetof(t, f))
int main(void) {
    F(FTS, fts_cur); F(FTS, fts_child); F(FTS, fts_array); F(FTS, fts_dev);
    F(FTS, fts_path); F(FTS, fts_rfd); F(FTS, fts_pathlen); F(FTS, fts_nitems);
    F(FTS, fts_compar); F(FTS, fts_options);
    printf("FTS %zu\n", sizeof(FTS));
    F(FTSENT, fts_cycle); F(FTSENT, fts_parent); F(FTSENT, fts_link);
    F(FTSENT, fts_number); F(FTSENT, fts_pointer); F(FTSENT, fts_accpath);
    F(FTSENT, fts_path); F(FTSENT, fts_errno); F(FTSENT, fts_symfd);
    F(FTSENT, fts_pathlen); F(FTSENT, fts_namelen); F(FTSENT, fts_ino);
    F(FTSENT, fts_dev); F(FTSENT, fts_nlink); F(FTSENT, fts_level);
    F(FTSENT, fts_info); F(FTSENT, fts_flags); F(FTSENT, fts_instr);
    F(FTSENT, fts_statp); F(FTSENT, fts_name);
    printf("FTSENT %zu\n", sizeof(FTSENT));
    return 0;
}
"#;
    std::fs::write(&src, program).expect("cannot write the C program");
    let status = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .status()
        .expect("cannot run cc");
    assert!(status.success(), "cc failed");
    let out = Command::new(&exe)
        .output()
        .expect("cannot run the C program");
    String::from_utf8(out.stdout).expect("not UTF-8")
}

#[test]
fn structures_match_the_c_library() {
    macro_rules! lines {
        ($t:ty; $($f:ident),*) => {
            [$(format!("{} {}\n", stringify!($f), offset_of!($t, $f))),*].concat()
        };
    }
    let ours = [
        lines!(Fts; fts_cur, fts_child, fts_array, fts_dev, fts_path, fts_rfd, fts_pathlen,
            fts_nitems, fts_compar, fts_options),
        format!("FTS {}\n", size_of::<Fts>()),
        lines!(Ent; fts_cycle, fts_parent, fts_link, fts_number, fts_pointer, fts_accpath,
            fts_path, fts_errno, fts_symfd, fts_pathlen, fts_namelen, fts_ino, fts_dev,
            fts_nlink, fts_level, fts_info, fts_flags, fts_instr, fts_statp, fts_name),
        format!("FTSENT {}\n", size_of::<Ent>()),
    ]
    .concat();
    assert_eq!(ours, c_layout());
}
