#!/bin/sh
# The project's whole test run: lints and documentation, the no_std builds,
# and every test.
# Needs: tar, gzip, findutils, diffutils, coreutils, procps, util-linux, git,
# sqlite3, make, gcc, vim, busybox-static, rsync, python3 with pip (to fetch
# the test archive once), as .ci/run installs. Some tests act as other users and need root.
set -eu
cd "$(dirname "$0")/.."

archive=${ORFA_TEST_ARCHIVE:-/var/cache/orfa-test/Django-4.2.16.tar.gz}
if [ ! -f "$archive" ]; then
  echo "fetching the test archive into $(dirname "$archive")"
  mkdir -p "$(dirname "$archive")"
  python3 -m pip download --quiet --no-binary :all: --no-deps django==4.2.16 \
    -d "$(dirname "$archive")"
fi
echo "6f1616c2786c408ce86ab7e10f792b8f15742f7b7b7460243929cb371e7f1dad  $archive" | sha256sum -c --quiet
export ORFA_TEST_ARCHIVE="$archive"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
cargo build -p orfa-wire --no-default-features
cargo build -p orfa-server-core --no-default-features
cargo build -p orfa-client-core --no-default-features
cargo test --workspace
