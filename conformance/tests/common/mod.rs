//! Helpers shared by the case and program tests: running a check against
//! both kinds of export, python scripts under the library, and making sure a
//! program the test needs is installed.

#![allow(dead_code)]

use std::path::Path;

use conformance::Server;

pub(crate) use conformance::on_both_exports;

/// Python lines every script starts with: `R`, and `e(f)`, which calls `f`
/// and gives `ok` or the name of the errno it failed with.
const PRELUDE: &str = "import os, sys, errno, subprocess, ctypes
R = os.environ['R']
def e(f):
    try:
        f()
        return 'ok'
    except OSError as x:
        return errno.errorcode[x.errno]
";

/// Runs a python script under the preload library with [`PRELUDE`]; panics
/// unless it exits with status 0; returns its output.
pub(crate) fn python(server: &Server, script: &str) -> String {
    server.sh_ok(&format!("python3 - <<'EOF'\n{PRELUDE}{script}\nEOF"))
}

pub(crate) use conformance::require;

/// Compiles the C program `tests/c/NAME.c` (warnings are errors) into
/// `out`; returns the binary's path.
pub(crate) fn compile(name: &str, out: &Path) -> std::path::PathBuf {
    require("gcc", "gcc");
    let source = conformance::workspace_root().join(format!("conformance/tests/c/{name}.c"));
    conformance::build_c(&source, out, &["-Wall", "-Werror", "-pthread"])
}
