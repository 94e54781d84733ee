//! `fallocate`, `SEEK_DATA`/`SEEK_HOLE` and `copy_range` on sparse files.

use super::*;

const KEEP: PathFlags = PathFlags::KEEP_SIZE;
const PUNCH: PathFlags = PathFlags(PathFlags::PUNCH_HOLE.0 | PathFlags::KEEP_SIZE.0);
const ZERO: PathFlags = PathFlags::ZERO_RANGE;
const GIB: u64 = 1 << 30;
/// Where CASES.md C17 writes its one byte into a 1 GiB file.
const C17_AT: u64 = 629_145_600;

impl Fs {
    fn fallocate(
        &mut self,
        node: &MemNode,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> BackendResult<()> {
        self.fs.fallocate(&self.cx, node, offset, len, flags)
    }

    fn seek(&mut self, node: &MemNode, offset: u64, hole: bool) -> BackendResult<u64> {
        self.fs.seek(&self.cx, node, offset, hole)
    }

    fn copy(
        &mut self,
        from: &MemNode,
        at: u64,
        to: &MemNode,
        to_at: u64,
        len: u64,
    ) -> BackendResult<u64> {
        self.fs.copy_range(&self.cx, from, at, to, to_at, len, 4096)
    }

    fn truncate(&mut self, path: &str, size: u64) {
        let set = set_attr(SetAttrMask::SIZE, |s| s.size = size.into());
        self.setattr(path, set).unwrap();
    }

    /// The C17 file: 1 GiB with one `X` at [`C17_AT`].
    fn c17_file(&mut self, path: &str) {
        self.put(path, b"");
        self.truncate(path, GIB);
        let node = self.open(path, W).unwrap();
        assert_eq!(self.write(&node, C17_AT, b"X"), Ok((1, C17_AT + 1)));
        self.close(node);
    }
}

#[test]
fn seek_on_a_dense_file_finds_data_then_the_end() {
    let mut t = Fs::new();
    t.put("dense", &[7; 10_000]);
    let node = t.open("dense", R).unwrap();
    assert_eq!(t.seek(&node, 0, false), Ok(0));
    assert_eq!(t.seek(&node, 9_999, false), Ok(9_999));
    assert_eq!(t.seek(&node, 0, true), Ok(10_000));
    assert_eq!(t.seek(&node, 5_000, true), Ok(10_000));
    for at in [10_000, 10_001, 1 << 63, u64::MAX] {
        assert_eq!(
            t.seek(&node, at, false),
            Err(ErrorCode::NXIO),
            "data at {at}"
        );
        assert_eq!(
            t.seek(&node, at, true),
            Err(ErrorCode::NXIO),
            "hole at {at}"
        );
    }
    t.close(node);

    t.put("empty", b"");
    let node = t.open("empty", R).unwrap();
    assert_eq!(t.seek(&node, 0, false), Err(ErrorCode::NXIO));
    assert_eq!(t.seek(&node, 0, true), Err(ErrorCode::NXIO));
    t.close(node);
    let dir = t.open("", R).unwrap();
    assert_eq!(t.seek(&dir, 0, false), Err(ErrorCode::INVAL));
    t.close(dir);
    let path = t.open("dense", OpenFlags::PATH).unwrap();
    assert_eq!(t.seek(&path, 0, false), Err(ErrorCode::BADF));
    t.close(path);
}

#[test]
fn seek_finds_the_data_of_a_sparse_file() {
    let mut t = Fs::new();
    t.c17_file("sp");
    let node = t.open("sp", R).unwrap();
    assert_eq!(t.seek(&node, 0, true), Ok(0));
    assert_eq!(t.seek(&node, 0, false), Ok(C17_AT));
    assert_eq!(t.seek(&node, C17_AT, true), Ok(C17_AT + PAGE));
    assert_eq!(t.seek(&node, C17_AT + 1, false), Ok(C17_AT + 1));
    assert_eq!(t.seek(&node, C17_AT + PAGE, false), Err(ErrorCode::NXIO));
    assert_eq!(t.seek(&node, GIB - 1, true), Ok(GIB - 1));
    assert_eq!(t.seek(&node, GIB, true), Err(ErrorCode::NXIO));
    // Holes read as zeros.
    assert_eq!(t.read(&node, C17_AT - 3, 5).unwrap(), b"\0\0\0X\0");
    t.close(node);
    assert_eq!(t.stat("sp").unwrap().blocks.get(), PAGE / 512);
    t.check();
}

const PAGE: u64 = 4096;

#[test]
fn fallocate_reserves_space_and_may_grow_the_file() {
    let mut t = Fs::new();
    t.put("f", b"abc");
    let node = t.open("f", RW).unwrap();
    let free_before = t.fs.fs_attr().bfree.get();

    assert_eq!(t.fallocate(&node, 0, 3 * PAGE, KEEP), Ok(()));
    let attr = t.fstat(&node);
    assert_eq!(attr.size.get(), 3);
    assert_eq!(attr.blocks.get(), 3 * PAGE / 512);
    assert_eq!(t.fs.fs_attr().bfree.get(), free_before - 2);
    assert_eq!(t.read(&node, 0, 10).unwrap(), b"abc");
    // Reserved space is a hole to SEEK_DATA, as ext4's unwritten extents.
    assert_eq!(t.seek(&node, 0, true), Ok(3));

    assert_eq!(
        t.fallocate(&node, 2 * PAGE, 2 * PAGE, PathFlags::NONE),
        Ok(())
    );
    let attr = t.fstat(&node);
    assert_eq!(attr.size.get(), 4 * PAGE);
    assert_eq!(attr.blocks.get(), 4 * PAGE / 512);
    assert_eq!(t.read(&node, PAGE, 4).unwrap(), [0; 4]);
    // Writing into reserved space allocates nothing more.
    assert_eq!(t.write(&node, PAGE + 10, b"zz"), Ok((2, PAGE + 12)));
    assert_eq!(t.fstat(&node).blocks.get(), 4 * PAGE / 512);
    assert_eq!(t.seek(&node, 0, false), Ok(0));
    assert_eq!(t.seek(&node, 3, false), Ok(3));
    assert_eq!(t.seek(&node, PAGE - 1, true), Ok(2 * PAGE));

    // Shrinking drops the reserved pages past the new end.
    t.close(node);
    t.truncate("f", 1);
    assert_eq!(t.stat("f").unwrap().blocks.get(), PAGE / 512);
    assert_eq!(t.fs.fs_attr().bfree.get(), free_before);
    t.check();
}

#[test]
fn a_terabyte_reservation_costs_nothing_until_written() {
    let mut t = Fs::new();
    t.put("big", b"");
    let node = t.open("big", W).unwrap();
    let len = 1 << 39;
    assert_eq!(t.fallocate(&node, 0, len, KEEP), Ok(()));
    assert_eq!(t.fstat(&node).blocks.get(), len / 512);
    assert_eq!(
        t.fallocate(&node, 0, (1 << 40) + PAGE, KEEP),
        Err(ErrorCode::NOSPC)
    );
    assert_eq!(t.write(&node, 12_345_678, b"data"), Ok((4, 12_345_682)));
    assert_eq!(t.fstat(&node).blocks.get(), len / 512);
    assert_eq!(t.fallocate(&node, 0, len, PUNCH), Ok(()));
    assert_eq!(t.fstat(&node).blocks.get(), 0);
    t.close(node);
    t.check();
}

#[test]
fn punching_frees_pages_and_zeroes_partial_ones() {
    let mut t = Fs::new();
    t.put("f", &[1; 5 * PAGE as usize]);
    let node = t.open("f", RW).unwrap();
    assert_eq!(t.fallocate(&node, PAGE / 2, 3 * PAGE, PUNCH), Ok(()));
    let attr = t.fstat(&node);
    assert_eq!(attr.size.get(), 5 * PAGE);
    // Pages 1 and 2 are gone; 0 and 3 were cleared in part.
    assert_eq!(attr.blocks.get(), 3 * PAGE / 512);
    let data = t.read(&node, 0, 5 * PAGE as usize).unwrap();
    let half = PAGE as usize / 2;
    assert!(data[..half].iter().all(|&b| b == 1));
    assert!(data[half..half + 3 * PAGE as usize].iter().all(|&b| b == 0));
    assert!(data[half + 3 * PAGE as usize..].iter().all(|&b| b == 1));
    assert_eq!(t.seek(&node, 0, true), Ok(PAGE));
    assert_eq!(t.seek(&node, PAGE, false), Ok(3 * PAGE));
    // A punch inside one page, and one past the end.
    assert_eq!(t.fallocate(&node, 10, 5, PUNCH), Ok(()));
    assert_eq!(t.read(&node, 8, 9).unwrap(), [1, 1, 0, 0, 0, 0, 0, 1, 1]);
    assert_eq!(t.fallocate(&node, 10 * PAGE, PAGE, PUNCH), Ok(()));
    assert_eq!(t.fstat(&node).size.get(), 5 * PAGE);
    t.close(node);
    t.check();
}

#[test]
fn zero_range_clears_and_keeps_the_space() {
    let mut t = Fs::new();
    t.put("f", &[9; 3 * PAGE as usize]);
    let node = t.open("f", RW).unwrap();
    assert_eq!(t.fallocate(&node, 100, 2 * PAGE, ZERO), Ok(()));
    let attr = t.fstat(&node);
    assert_eq!(attr.size.get(), 3 * PAGE);
    assert_eq!(attr.blocks.get(), 3 * PAGE / 512);
    let data = t.read(&node, 0, 3 * PAGE as usize).unwrap();
    assert!(data[..100].iter().all(|&b| b == 9));
    assert!(data[100..100 + 2 * PAGE as usize].iter().all(|&b| b == 0));
    assert!(data[100 + 2 * PAGE as usize..].iter().all(|&b| b == 9));
    // Zeroing past the end grows the file unless KEEP_SIZE.
    assert_eq!(t.fallocate(&node, 3 * PAGE, 10, ZERO), Ok(()));
    assert_eq!(t.fstat(&node).size.get(), 3 * PAGE + 10);
    assert_eq!(t.fallocate(&node, 5 * PAGE, 10, ZERO | KEEP), Ok(()));
    assert_eq!(t.fstat(&node).size.get(), 3 * PAGE + 10);
    t.close(node);
    t.check();
}

#[test]
fn fallocate_refuses_what_linux_refuses() {
    let mut t = Fs::new();
    t.put("f", b"x");
    let node = t.open("f", RW).unwrap();
    assert_eq!(t.fallocate(&node, 0, 0, KEEP), Err(ErrorCode::INVAL));
    assert_eq!(t.fallocate(&node, u64::MAX, 1, KEEP), Err(ErrorCode::INVAL));
    assert_eq!(t.fallocate(&node, 0, u64::MAX, KEEP), Err(ErrorCode::INVAL));
    assert_eq!(
        t.fallocate(&node, 0, 1, PathFlags::PUNCH_HOLE),
        Err(ErrorCode::NOTSUP)
    );
    assert_eq!(
        t.fallocate(&node, 0, 1, PUNCH | ZERO),
        Err(ErrorCode::NOTSUP)
    );
    assert_eq!(t.fallocate(&node, 0, 1, NOFOLLOW), Err(ErrorCode::INVAL));
    let max = i64::MAX as u64;
    assert_eq!(t.fallocate(&node, max, max, KEEP), Err(ErrorCode::FBIG));
    assert_eq!(
        t.fallocate(&node, 1 << 44, 1, PathFlags::NONE),
        Err(ErrorCode::FBIG)
    );
    assert_eq!(t.fstat(&node).size.get(), 1);
    t.close(node);

    let ro = t.open("f", R).unwrap();
    assert_eq!(t.fallocate(&ro, 0, 1, KEEP), Err(ErrorCode::BADF));
    t.close(ro);
    let path = t.open("f", OpenFlags::PATH).unwrap();
    assert_eq!(t.fallocate(&path, 0, 1, KEEP), Err(ErrorCode::BADF));
    t.close(path);

    t.fs.set_limits(8 * PAGE, 100);
    let node = t.open("f", W).unwrap();
    assert_eq!(t.fallocate(&node, 0, 9 * PAGE, KEEP), Err(ErrorCode::NOSPC));
    assert_eq!(t.fallocate(&node, 0, 8 * PAGE, KEEP), Ok(()));
    t.close(node);
    t.check();
}

#[test]
fn copying_a_sparse_gigabyte_is_quick_and_exact() {
    let mut t = Fs::new();
    t.c17_file("sp");
    t.put("sp2", b"");
    let from = t.open("sp", R).unwrap();
    let to = t.open("sp2", W).unwrap();
    // As a client does: COPY_RANGE requests of at most 16 MiB until short.
    let mut done = 0;
    loop {
        let n = t.copy(&from, done, &to, done, 16 << 20).unwrap();
        if n == 0 {
            break;
        }
        done += n;
    }
    assert_eq!(done, GIB);
    let attr = t.fstat(&to);
    assert_eq!(attr.size.get(), GIB);
    assert_eq!(attr.blocks.get(), PAGE / 512);
    assert_eq!(t.seek(&to, 0, false), Ok(C17_AT));
    t.close(from);
    t.close(to);
    let reader = t.open("sp2", R).unwrap();
    assert_eq!(t.read(&reader, C17_AT - 1, 3).unwrap(), b"\0X\0");
    t.close(reader);
    t.check();
}

#[test]
fn copy_overwrites_data_with_the_source_holes() {
    let mut t = Fs::new();
    let mut src = vec![0u8; 3 * PAGE as usize];
    src[PAGE as usize * 2..].fill(5);
    src[..10].fill(4);
    t.put("src", b"");
    let n = t.open("src", W).unwrap();
    t.write(&n, 0, &src[..10]).unwrap();
    t.write(&n, 2 * PAGE, &src[2 * PAGE as usize..]).unwrap();
    t.close(n);
    t.put("dst", &[1; 4 * PAGE as usize]);

    let from = t.open("src", R).unwrap();
    let to = t.open("dst", RW).unwrap();
    assert_eq!(t.copy(&from, 0, &to, 7, 1 << 20), Ok(3 * PAGE));
    let out = t.read(&to, 0, 4 * PAGE as usize).unwrap();
    assert_eq!(&out[..7], [1; 7]);
    assert_eq!(&out[7..7 + 3 * PAGE as usize], &src[..]);
    assert!(out[7 + 3 * PAGE as usize..].iter().all(|&b| b == 1));
    // Copying within one file, without overlap.
    assert_eq!(t.copy(&to, 0, &to, 5 * PAGE, 100), Ok(100));
    assert_eq!(t.fstat(&to).size.get(), 5 * PAGE + 100);
    assert_eq!(t.read(&to, 5 * PAGE, 100).unwrap(), &out[..100]);
    t.close(from);
    t.close(to);
    t.check();
}

#[test]
fn copy_refuses_what_linux_refuses() {
    let mut t = Fs::new();
    t.put("a", b"0123456789");
    let r = t.open("a", R).unwrap();
    let rw = t.open("a", RW).unwrap();
    let ap = t.open("a", W | OpenFlags::APPEND).unwrap();
    let path = t.open("a", OpenFlags::PATH).unwrap();
    let dir = t.open("", R).unwrap();

    assert_eq!(t.copy(&r, 0, &r, 20, 5), Err(ErrorCode::BADF));
    assert_eq!(t.copy(&path, 0, &rw, 20, 5), Err(ErrorCode::BADF));
    assert_eq!(t.copy(&r, 0, &ap, 20, 5), Err(ErrorCode::BADF));
    assert_eq!(t.copy(&dir, 0, &rw, 20, 5), Err(ErrorCode::ISDIR));
    assert_eq!(t.copy(&r, 0, &rw, 3, 5), Err(ErrorCode::INVAL));
    assert_eq!(t.copy(&r, 0, &rw, 5, 5), Ok(5));
    assert_eq!(t.copy(&r, 0, &rw, 0, 0), Ok(0));
    assert_eq!(t.copy(&r, 10, &rw, 20, 5), Ok(0));
    assert_eq!(t.copy(&r, u64::MAX, &rw, 20, 5), Err(ErrorCode::INVAL));
    assert_eq!(t.copy(&r, 0, &rw, u64::MAX, 5), Err(ErrorCode::INVAL));
    let max = i64::MAX as u64;
    assert_eq!(t.copy(&r, 0, &rw, max, 5), Err(ErrorCode::OVERFLOW));
    assert_eq!(t.copy(&r, 0, &rw, max - 10, 5), Err(ErrorCode::FBIG));
    assert_eq!(
        t.copy(&r, 0, &rw, u64::MAX, u64::MAX),
        Err(ErrorCode::INVAL)
    );
    assert_eq!(t.copy(&r, 8, &rw, 20, u64::MAX >> 2), Ok(2));
    assert_eq!(
        t.read(&r, 0, 30).unwrap(),
        b"0123401234\0\0\0\0\0\0\0\0\0\x0034"
    );
    for n in [r, rw, ap, path, dir] {
        t.close(n);
    }

    // Out of space part way: the copy stops short.
    t.put("big", &[3; 4 * PAGE as usize]);
    t.put("dst", b"");
    t.fs.set_limits(7 * PAGE, 100);
    let from = t.open("big", R).unwrap();
    let to = t.open("dst", W).unwrap();
    assert_eq!(t.copy(&from, 0, &to, 0, 4 * PAGE), Ok(2 * PAGE));
    assert_eq!(
        t.copy(&from, 2 * PAGE, &to, 2 * PAGE, PAGE),
        Err(ErrorCode::NOSPC)
    );
    t.close(from);
    t.close(to);
    t.check();
}

/// Offsets and lengths at every edge, in every flag combination: errors,
/// never a panic, and the counters stay right.
#[test]
fn extreme_arguments_never_panic() {
    let edges = [
        0,
        1,
        PAGE - 1,
        PAGE,
        (1 << 44) - 1,
        1 << 44,
        i64::MAX as u64,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut t = Fs::new();
    t.put("f", &[1; 10_000]);
    t.put("g", b"");
    t.fs.set_limits(1 << 30, 100);
    let f = t.open("f", RW).unwrap();
    let g = t.open("g", RW).unwrap();
    for &offset in &edges {
        for &len in &edges {
            for bits in 0..8u64 {
                let flags = PathFlags(bits << 9);
                let _ = t.fallocate(&g, offset, len, flags);
            }
            let _ = t.seek(&f, offset, false);
            let _ = t.seek(&g, offset, true);
            let _ = t.copy(&f, offset, &g, len, offset);
            let _ = t.copy(&g, len, &g, offset, len);
            let _ = t.fs.copy_range(&t.cx, &f, len, &f, offset, len, 0);
        }
    }
    t.close(f);
    t.close(g);
    t.check();
}
