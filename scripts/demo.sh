#!/bin/sh
# Builds ORFA, starts a server on an in-memory export, and runs unmodified
# programs (coreutils, tar, python3) on remote files through the preload
# library. Everything stays on 127.0.0.1 and stops when the script ends.
set -eu
cd "$(dirname "$0")/.."
echo "== building orfa-server and liborfa_preload.so (release; the first build takes a few minutes)"
cargo build --release -p impl-server-smol -p impl-preload
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$PWD/$target ;; esac
bin=$target/release
log=$(mktemp)
"$bin/orfa-server" --listen 127.0.0.1:0 --memory 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT INT TERM
for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
addr=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' "$log" | head -n 1)
[ -n "$addr" ] || { cat "$log" >&2; echo "orfa-server did not start" >&2; exit 1; }
R=/REMOTE@$addr
echo "== orfa-server (pid $pid) serves an in-memory export at $R"
export R
LD_PRELOAD=$bin/liborfa_preload.so sh -c '
  set -ex
  mkdir $R/demo
  tar -cf - spec orfa-wire/src | tar -xf - -C $R/demo
  cp README.md $R/demo/
  python3 -c "import sys; open(sys.argv[1], \"w\").write(\"\".join(f\"{i}\\n\" for i in range(100000)))" $R/demo/numbers
  seq 1 5 > $R/demo/five && sort -rn $R/demo/five
  ls -l $R/demo $R/demo/spec
  wc -l $R/demo/numbers $R/demo/README.md
  sha256sum $R/demo/spec/PROTOCOL.md spec/PROTOCOL.md
  diff -r spec $R/demo/spec && echo "diff: identical"
  find $R/demo -type f | sort
  stat $R/demo/numbers
  grep -c ORFA $R/demo/README.md
  mv $R/demo $R/moved && rm -rf $R/moved && ls -A $R
'
echo "== done: the remote tree was created, checked and removed"
