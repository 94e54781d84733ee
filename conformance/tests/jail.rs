//! A native export is a jail: no symbolic link or `..` reaches outside it.

use conformance::{Export, Server, Transport, run_ok};

#[test]
fn symlinks_and_dotdot_cannot_leave_the_export() {
    let top = tempfile::tempdir().expect("temporary directory");
    let export = top.path().join("export");
    let outside = top.path().join("outside");
    let (e, o) = (export.display(), outside.display());
    run_ok(&format!(
        "mkdir -p '{e}/sub' '{o}' && echo secret > '{o}/secret' && \
         ln -s /etc '{e}/etc' && ln -s '{o}' '{e}/abs' && ln -s ../.. '{e}/sub/up' && \
         ln -s ../outside/secret '{e}/rel'"
    ));
    let server = Server::start(Export::Dir(export.clone()), Transport::Tcp);

    for (what, script) in [
        ("absolute link to /etc", "cat $R/etc/passwd"),
        ("absolute link to a directory outside", "cat $R/abs/secret"),
        ("relative link climbing out", "cat $R/sub/up/outside/secret"),
        ("relative link to a file outside", "cat $R/rel"),
        ("listing through a link", "ls $R/abs"),
        ("creating through a link", "echo x > $R/abs/new"),
        ("creating through a relative link", "mkdir $R/sub/up/made"),
        ("stat through a link", "stat $R/abs/secret"),
    ] {
        let out = server.sh(script);
        assert!(!out.status.success(), "{what}: `{script}` succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("Permission denied"),
            "{what}: `{script}` failed without a clear error: {err}"
        );
    }
    assert!(
        !outside.join("new").exists(),
        "a file was created outside the export"
    );
    assert!(
        !top.path().join("made").exists(),
        "a directory was created outside the export"
    );

    // The links themselves are ordinary entries of the export.
    let links = server.sh_ok("readlink $R/etc $R/sub/up");
    assert_eq!(links, "/etc\n../..\n");
    let inside = server.sh_ok("echo ok > $R/sub/f && cat $R/sub/../sub/f");
    assert_eq!(inside, "ok\n");
}
