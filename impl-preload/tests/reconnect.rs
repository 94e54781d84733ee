//! A server restarted under a program's open descriptors: the library
//! connects again, a descriptor opened on the lost connection fails with
//! `EIO` rather than reaching whatever the new session numbers alike, and
//! a remote current directory is opened again by its path. A server that
//! stops answering is given up after `ORFA_TIMEOUT`.

use std::process::{Command, Stdio};

#[test]
fn a_descriptor_of_a_lost_session_fails_instead_of_naming_another_file() {
    let dir = tempfile::tempdir().expect("cannot make a temporary directory");
    let export = dir.path().join("export");
    std::fs::create_dir(&export).expect("export directory");
    let socket = dir.path().join("orfa.sock");
    // The script starts (and restarts) the server itself, without the
    // library. The first call after the restart finds the old connection
    // closed and makes a new one.
    let script = r#"
import atexit, os, socket, subprocess, time, errno
srv, sock, exp = os.environ['SERVER'], os.environ['SOCK'], os.environ['EXPORT']
env = {k: v for k, v in os.environ.items() if k != 'LD_PRELOAD'}
started = []
# Whatever fails, the servers this script started do not outlive it.
atexit.register(lambda: [q.kill() for q in started])
def start():
    p = subprocess.Popen([srv, '--listen', 'unix:' + sock, '--export', exp], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(p)
    for _ in range(200):
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(sock); s.close(); return p
        except OSError:
            time.sleep(0.05)
    raise SystemExit('the server did not start')
R = '/REMOTE@srv'
p = start()
a = os.open(R + '/a', os.O_RDWR | os.O_CREAT, 0o644)
os.write(a, b'A')
os.mkdir(R + '/d'); os.chdir(R + '/d')
p.kill(); p.wait()
p = start()
b = os.open(R + '/b', os.O_RDWR | os.O_CREAT, 0o644)
os.write(b, b'B')
try:
    os.write(a, b'X'); print('wrote through a stale handle')
except OSError as e:
    print('stale', errno.errorcode[e.errno])
try:
    os.close(a); print('closed')
except OSError as e:
    print('close', errno.errorcode[e.errno])
os.close(b)
with open('rel', 'w') as f: f.write('in d')
print(open(exp + '/a').read(), open(exp + '/b').read(), open(exp + '/d/rel').read(), os.getcwd() == R + '/d')
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("LD_PRELOAD", conformance::preload_library())
        .env("ORFA_SERVERS", format!("srv=unix:{}", socket.display()))
        .env("SERVER", conformance::server_binary())
        .env("SOCK", &socket)
        .env("EXPORT", &export)
        .stdin(Stdio::null())
        .output()
        .expect("cannot run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout,
        "stale EIO\nclose EIO\nA B in d True\n",
        "stderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_server_that_stops_answering_gives_eio_after_the_timeout() {
    let server =
        conformance::Server::start(conformance::Export::Memory, conformance::Transport::Tcp);
    let pid = server.pid().to_string();
    // One process connects and reads; then the server is stopped under its
    // session, and the next read must give up.
    let script = format!(
        "import os, signal, time, errno
R = os.environ['R']
open(R + '/f', 'w').write('x')
fd = os.open(R + '/f', os.O_RDONLY)
os.pread(fd, 1, 0)
os.kill({pid}, signal.SIGSTOP)
start = time.time()
try: os.pread(fd, 1, 0); print('read')
except OSError as e: print(errno.errorcode[e.errno])
print('took', round(time.time() - start))
os.kill({pid}, signal.SIGCONT)"
    );
    let out = server
        .command("python3")
        .arg("-c")
        .arg(&script)
        .env("R", server.root())
        .env("ORFA_TIMEOUT", "2")
        .stdin(Stdio::null())
        .output()
        .expect("cannot run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("EIO\n"), "{stdout}{stderr}");
    let took: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("took "))
        .and_then(|t| t.parse().ok())
        .expect("the time taken");
    assert!(
        (1..=6).contains(&took),
        "the read took {took} s with a 2 s timeout"
    );
    assert!(stderr.contains("no answer within 2 s"), "{stderr}");
}
