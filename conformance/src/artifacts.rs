//! Finding (and building once) the binaries under test.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The built `orfa-server` binary and `liborfa_preload.so` of one cargo profile.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The server binary.
    pub server: PathBuf,
    /// The preload library.
    pub preload: PathBuf,
}

impl Artifacts {
    /// The artifacts of the profile named by `ORFA_PROFILE` (`debug` by
    /// default), built once per process.
    pub fn get() -> Self {
        static BUILD: Once = Once::new();
        let profile = std::env::var("ORFA_PROFILE").unwrap_or_else(|_| "debug".into());
        BUILD.call_once(|| build(&profile));
        Self::of(&profile)
    }

    /// The release artifacts, built once per process.
    pub fn release() -> Self {
        static BUILD: Once = Once::new();
        BUILD.call_once(|| build("release"));
        Self::of("release")
    }

    fn of(profile: &str) -> Self {
        let dir = target_dir().join(profile);
        let this = Self {
            server: dir.join("orfa-server"),
            preload: dir.join("liborfa_preload.so"),
        };
        for path in [&this.server, &this.preload] {
            assert!(path.exists(), "{} was not built", path.display());
        }
        this
    }
}

fn build(profile: &str) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root()).args([
        "build",
        "-q",
        "-p",
        "impl-server-smol",
        "-p",
        "impl-preload",
    ]);
    if profile != "debug" {
        cmd.args(["--profile", profile]);
    }
    let status = cmd
        .status()
        .expect("cannot run cargo to build the artifacts under test");
    assert!(
        status.success(),
        "building orfa-server and liborfa_preload.so ({profile}) failed"
    );
}

/// The `orfa-server` binary, built if needed.
pub fn server_binary() -> PathBuf {
    Artifacts::get().server
}

/// `liborfa_preload.so`, built if needed.
pub fn preload_library() -> PathBuf {
    Artifacts::get().preload
}
