//! The real programs of issue 4, each on a remote directory through the
//! preload library, against an in-memory and a native export.
//!
//! Checked elsewhere: git `init`, `add`, `commit`, `log`, `status`, `gc` and
//! `clone` both ways (`impl-preload/tests/mapping.rs`,
//! `git_works_in_a_remote_directory`); sqlite3 with concurrent writers
//! (`impl-preload/tests/locks.rs`, `sqlite3_writers_take_turns`).

mod common;

use common::{compile, on_both_exports, python, require};

#[test]
fn git_amends_branches_and_diffs_in_a_remote_repository() {
    require("git", "git");
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "set -e; export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t \
             GIT_COMMITTER_EMAIL=t@t HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1; \
             git init -q $R/r; cd $R/r; seq 100 > n; git add n; git commit -qm one; \
             git checkout -q -b side; sed -i 's/^50$/fifty/' n; git commit -qam two; \
             git checkout -q -; git diff --stat side | tail -n 1; git merge -q side; \
             git log --format=%s | tr '\\n' ' '; echo; git fsck --no-progress 2>&1 | wc -l; \
             git status --porcelain | wc -l",
        );
        assert_eq!(
            out,
            " 1 file changed, 1 insertion(+), 1 deletion(-)\ntwo one \n0\n0\n"
        );
    });
}

#[test]
fn a_python_script_using_the_usual_file_apis() {
    on_both_exports(|s, _| {
        let out = python(
            s,
            "import shutil, tempfile
os.makedirs(R + '/src/a/b')
with open(R + '/src/top.txt', 'w') as f: f.write('top\\n')
with open(R + '/src/a/b/deep.txt', 'w') as f: f.write('deep\\n' * 1000)
with open(R + '/src/a/b/deep.txt') as f: print(sum(1 for _ in f))
print(sorted((x.name, x.is_dir()) for x in os.scandir(R + '/src')))
walked = [(os.path.relpath(d, R), sorted(ds), sorted(fs)) for d, ds, fs in os.walk(R + '/src')]
print(walked)
shutil.copytree(R + '/src', R + '/copy')
print(open(R + '/copy/a/b/deep.txt').read() == open(R + '/src/a/b/deep.txt').read())
with tempfile.TemporaryDirectory(dir=R) as t:
    with tempfile.NamedTemporaryFile('w+', dir=t, delete=False) as f:
        f.write('temp'); f.seek(0); print(f.read(), os.path.dirname(f.name) == t)
    fd, name = tempfile.mkstemp(dir=t); os.write(fd, b'x'); os.close(fd)
    print(len(os.listdir(t)))
print(os.path.exists(t))
fd = os.open(R + '/inherited', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
subprocess.run(['sh', '-c', 'echo from the child >&%d' % fd], pass_fds=[fd], check=True)
r = os.open(R + '/src/top.txt', os.O_RDONLY)
child = subprocess.run(['sh', '-c', 'cat <&%d' % r], pass_fds=[r], capture_output=True, text=True)
os.write(fd, b'parent\\n'); os.close(fd)
print(open(R + '/inherited').read(), end=''); print(child.stdout, end='')
shutil.rmtree(R + '/copy'); print(sorted(os.listdir(R)))",
        );
        assert_eq!(
            out,
            "1000\n[('a', True), ('top.txt', False)]\n\
             [('src', ['a'], ['top.txt']), ('src/a', ['b'], []), ('src/a/b', [], ['deep.txt'])]\n\
             True\ntemp True\n2\nFalse\nfrom the child\nparent\ntop\n['inherited', 'src']\n"
        );
    });
}

#[test]
fn make_rebuilds_only_what_changed() {
    require("make", "make");
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "mkdir $R/mk; cd $R/mk; printf 'all: a.o b.o c.o\\n%%.o: %%.c\\n\\tcp $< $@\\n' > Makefile; \
             for f in a b c; do echo $f > $f.c; done; make; echo ---; sleep 0.02; touch b.c; \
             make; echo ---; make",
        );
        assert_eq!(
            out,
            "cp a.c a.o\ncp b.c b.o\ncp c.c c.o\n---\ncp b.c b.o\n---\nmake: Nothing to be done for 'all'.\n"
        );
    });
}

#[test]
fn rsync_into_and_out_of_a_remote_tree() {
    require("rsync", "rsync");
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "set -e; t=/tmp/orfa-rsync-$$; rm -rf $t; mkdir -p $t/in/d/e; seq 10000 > $t/in/n; \
             echo x > $t/in/d/e/x; ln -s n $t/in/l; chmod 600 $t/in/d/e/x; \
             touch -d @1000000000 $t/in/n; \
             rsync -a $t/in/ $R/tree/; rsync -a $R/tree/ $t/out/; \
             diff -r $t/in $t/out && echo same; stat -c '%a %Y' $R/tree/d/e/x $R/tree/n | tail -n 1; \
             readlink $R/tree/l; echo changed >> $t/in/d/e/x; \
             rsync -ai $t/in/ $R/tree/ | grep -c '^>f'; cat $R/tree/d/e/x | tail -n 1; rm -rf $t",
        );
        assert_eq!(out, "same\n644 1000000000\nn\n1\nchanged\n");
    });
}

#[test]
fn text_tools_on_a_remote_tree() {
    // The same script on a local directory gives the right output.
    let script = "mkdir -p $R/t/a $R/t/b; seq 300 | shuf --random-source=/dev/zero > $R/t/a/n; \
         printf 'needle one\\nhay\\n' > $R/t/b/x; printf 'needle two\\n' > $R/t/y; \
         head -c 100000 /dev/zero > $R/t/z; \
         sort -n $R/t/a/n | tail -n 1; sort -n -o $R/t/sorted $R/t/a/n; head -n 2 $R/t/sorted | tr '\\n' ' '; \
         echo; grep -r needle $R/t | sed \"s|$R||\" | sort; grep -rl hay $R/t | sed \"s|$R||\"; \
         du -s --apparent-size -B1 $R/t/z | cut -f1; du -a $R/t | wc -l; \
         find $R/t -type f -name '?' -exec wc -c {} + | sort -n | sed \"s|$R||\"; \
         find $R/t -type f -print0 | xargs -0 cat | wc -l; \
         cd $R/t && find . -name n | xargs -I{} cp {} {}.copy && cmp a/n a/n.copy && echo copied";
    let local = tempfile::tempdir().expect("cannot make a temporary directory");
    let want = conformance::run_ok(&format!("R={}; {script}", local.path().display()));
    assert!(want.ends_with("copied\n"), "{want}");
    on_both_exports(|s, _| {
        assert_eq!(s.sh_ok(script), want);
    });
}

#[test]
fn bash_changes_into_a_remote_directory_and_redirects() {
    on_both_exports(|s, _| {
        let out = s.sh_ok(
            "bash -c 'mkdir -p $R/w/sub && cd $R/w && echo one > f && echo two >> f && \
             cat < f > g 2> err && ls nonexistent 2>> err; exec 5> five && echo five >&5 && exec 5>&- && \
             { echo a; echo b >&2; } > both 2>&1 && cd sub && echo up > ../up && cd - > /dev/null && \
             cat g five both up && wc -l < err && cat <<< here > h && cat h && pwd'",
        );
        assert_eq!(
            out,
            format!("one\ntwo\nfive\na\nb\nup\n1\nhere\n{}/w\n", s.root())
        );
    });
}

#[test]
fn eight_threads_pread_and_pwrite_shared_descriptors() {
    let bin = tempfile::tempdir().expect("cannot make a temporary directory");
    let threads = compile("threads", bin.path());
    on_both_exports(|s, native| {
        let out = s.sh_ok(&format!("{} $R/shared", threads.display()));
        assert_eq!(out, format!("ok {}\n", 8 * 64 * 4099));
        if let Some(dir) = native {
            let len = std::fs::metadata(dir.join("shared")).unwrap().len();
            assert_eq!(len, 8 * 64 * 4099);
        }
    });
}
