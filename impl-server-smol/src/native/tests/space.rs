//! `fallocate`, `SEEK_DATA`/`SEEK_HOLE` and `copy_range` on real files.

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use orfa_server_core::Backend;
use orfa_wire::{ErrorCode, OpenFlags, PathFlags};

use super::super::space::copy_by_reading;
use super::{Fixture, RW_CREATE};
use crate::native::NativeNode;

const KEEP: PathFlags = PathFlags::KEEP_SIZE;
const PUNCH: PathFlags = PathFlags(PathFlags::PUNCH_HOLE.0 | PathFlags::KEEP_SIZE.0);
const GIB: u64 = 1 << 30;
/// Where CASES.md C17 writes its one byte into a 1 GiB file.
const C17_AT: u64 = 629_145_600;
const RW: OpenFlags = OpenFlags(OpenFlags::READ.0 | OpenFlags::WRITE.0);

impl Fixture {
    fn seek(&mut self, node: &NativeNode, offset: u64, hole: bool) -> Result<u64, ErrorCode> {
        let cx = self.cx;
        self.fs.seek(&cx, node, offset, hole)
    }

    fn fallocate(
        &mut self,
        node: &NativeNode,
        offset: u64,
        len: u64,
        flags: PathFlags,
    ) -> Result<(), ErrorCode> {
        let cx = self.cx;
        self.fs.fallocate(&cx, node, offset, len, flags)
    }

    fn copy(
        &mut self,
        from: &NativeNode,
        at: u64,
        to: &NativeNode,
        to_at: u64,
        len: u64,
    ) -> Result<u64, ErrorCode> {
        let cx = self.cx;
        self.fs.copy_range(&cx, from, at, to, to_at, len, 4096)
    }
}

#[test]
fn seek_finds_data_and_holes_as_cases_c17_wants() {
    let mut f = Fixture::new();
    let file = fs::File::create(f.export().join("sp")).expect("create");
    file.set_len(GIB).expect("truncate");
    std::os::unix::fs::FileExt::write_at(&file, b"X", C17_AT).expect("write");
    drop(file);
    fs::write(f.export().join("dense"), [7u8; 10_000]).expect("dense");

    let sp = f.open(None, "sp", OpenFlags::READ).expect("open");
    assert_eq!(f.seek(&sp, 0, false), Ok(C17_AT));
    assert_eq!(f.seek(&sp, 0, true), Ok(0));
    assert_eq!(f.seek(&sp, C17_AT, true), Ok(C17_AT + 4096));
    assert_eq!(f.seek(&sp, C17_AT + 4096, false), Err(ErrorCode::NXIO));
    assert_eq!(f.seek(&sp, GIB, true), Err(ErrorCode::NXIO));
    assert_eq!(f.seek(&sp, GIB, false), Err(ErrorCode::NXIO));
    // Reads use explicit offsets: seeking leaves them alone.
    let cx = f.cx;
    let mut buf = [0xffu8; 3];
    assert_eq!(f.fs.read(&cx, &sp, C17_AT - 1, &mut buf), Ok(3));
    assert_eq!(&buf, b"\0X\0");
    f.close(sp);

    let dense = f.open(None, "dense", OpenFlags::READ).expect("open");
    assert_eq!(f.seek(&dense, 0, true), Ok(10_000));
    assert_eq!(f.seek(&dense, 17, false), Ok(17));
    for at in [10_000, 1 << 62, 1 << 63, u64::MAX] {
        assert_eq!(f.seek(&dense, at, false), Err(ErrorCode::NXIO), "{at}");
        assert_eq!(f.seek(&dense, at, true), Err(ErrorCode::NXIO), "{at}");
    }
    f.close(dense);
    let path = f.open(None, "dense", OpenFlags::PATH).expect("open");
    assert_eq!(f.seek(&path, 0, true), Err(ErrorCode::BADF));
    f.close(path);
}

#[test]
fn fallocate_reserves_punches_and_zeroes() {
    let mut f = Fixture::new();
    let on_disk = f.export().join("f");
    fs::write(&on_disk, [1u8; 16384]).expect("seed");
    let node = f.open(None, "f", RW).expect("open");

    assert_eq!(f.fallocate(&node, 0, 1 << 20, KEEP), Ok(()));
    let meta = fs::metadata(&on_disk).expect("meta");
    assert_eq!(meta.len(), 16384);
    assert!(meta.blocks() >= 2048, "{} blocks", meta.blocks());

    assert_eq!(f.fallocate(&node, 16384, 4096, PathFlags::NONE), Ok(()));
    assert_eq!(fs::metadata(&on_disk).expect("meta").len(), 20480);

    assert_eq!(f.fallocate(&node, 0, 8192, PUNCH), Ok(()));
    assert_eq!(f.seek(&node, 0, false), Ok(8192));
    assert_eq!(f.fallocate(&node, 8192, 100, PathFlags::ZERO_RANGE), Ok(()));
    let data = fs::read(&on_disk).expect("read");
    assert!(data[..8292].iter().all(|&b| b == 0));
    assert!(data[8292..16384].iter().all(|&b| b == 1));

    // What Linux refuses.
    assert_eq!(f.fallocate(&node, 0, 0, KEEP), Err(ErrorCode::INVAL));
    assert_eq!(
        f.fallocate(&node, 0, 1, PathFlags::PUNCH_HOLE),
        Err(ErrorCode::NOTSUP)
    );
    assert_eq!(
        f.fallocate(&node, 0, 1, PathFlags::NOFOLLOW),
        Err(ErrorCode::INVAL)
    );
    assert_eq!(f.fallocate(&node, u64::MAX, 1, KEEP), Err(ErrorCode::INVAL));
    assert_eq!(f.fallocate(&node, 0, u64::MAX, KEEP), Err(ErrorCode::INVAL));
    let max = i64::MAX as u64;
    assert_eq!(f.fallocate(&node, max, max, KEEP), Err(ErrorCode::FBIG));
    f.close(node);

    let ro = f.open(None, "f", OpenFlags::READ).expect("open");
    assert_eq!(f.fallocate(&ro, 0, 1, KEEP), Err(ErrorCode::BADF));
    f.close(ro);
    let path = f.open(None, "f", OpenFlags::PATH).expect("open");
    assert_eq!(f.fallocate(&path, 0, 1, KEEP), Err(ErrorCode::BADF));
    f.close(path);
}

#[test]
fn copy_range_copies_in_the_kernel() {
    let mut f = Fixture::new();
    let content: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(f.export().join("src"), &content).expect("seed");
    let from = f.open(None, "src", OpenFlags::READ).expect("open");
    let to = f.open(None, "dst", RW_CREATE).expect("create");
    assert_eq!(f.copy(&from, 10, &to, 5, 50_000), Ok(50_000));
    assert_eq!(f.copy(&from, 90_000, &to, 50_005, 50_000), Ok(10_000));
    assert_eq!(f.copy(&from, 100_000, &to, 0, 10), Ok(0));
    assert_eq!(f.copy(&from, 0, &to, 0, 0), Ok(0));
    let dst = fs::read(f.export().join("dst")).expect("read");
    assert_eq!(dst.len(), 60_005);
    assert_eq!(&dst[..5], [0; 5]);
    assert_eq!(&dst[5..50_005], &content[10..50_010]);
    assert_eq!(&dst[50_005..], &content[90_000..]);

    // What Linux refuses: a read-only target, a source not open for
    // reading, overlapping ranges of one file, offsets past off_t.
    assert_eq!(f.copy(&from, 0, &from, 200_000, 5), Err(ErrorCode::BADF));
    let wo = f.open(None, "dst", OpenFlags::WRITE).expect("open");
    assert_eq!(f.copy(&wo, 0, &to, 200_000, 5), Err(ErrorCode::BADF));
    let rw = f.open(None, "src", RW).expect("open");
    assert_eq!(f.copy(&rw, 0, &rw, 10, 100), Err(ErrorCode::INVAL));
    assert_eq!(f.copy(&rw, 0, &rw, 200_000, 100), Ok(100));
    assert_eq!(f.copy(&from, u64::MAX, &to, 0, 5), Err(ErrorCode::INVAL));
    assert_eq!(f.copy(&from, 0, &to, u64::MAX, 5), Err(ErrorCode::INVAL));
    assert_eq!(f.copy(&from, 0, &to, 0, u64::MAX).map(|n| n > 0), Ok(true));
    let dir = f.open(None, "sub", OpenFlags::READ).expect("opendir");
    assert!(f.copy(&dir, 0, &to, 0, 5).is_err());
    for node in [from, to, wo, rw, dir] {
        f.close(node);
    }
}

#[test]
fn reading_and_writing_copies_what_the_kernel_cannot() {
    let mut f = Fixture::new();
    let content: Vec<u8> = (0..30_000u32).map(|i| (i % 13) as u8).collect();
    fs::write(f.export().join("src"), &content).expect("seed");
    let from = f.open(None, "src", OpenFlags::READ).expect("open");
    let to = f.open(None, "dst", RW_CREATE).expect("create");
    let (src, dst) = (from.fd.as_fd(), to.fd.as_fd());
    assert_eq!(copy_by_reading(src, 100, dst, 7, 20_000, 4096), Ok(20_000));
    assert_eq!(
        copy_by_reading(src, 29_000, dst, 20_007, 5_000, 333),
        Ok(1_000)
    );
    assert_eq!(copy_by_reading(src, 40_000, dst, 0, 5, 4096), Ok(0));
    let dst_data = fs::read(f.export().join("dst")).expect("read");
    assert_eq!(&dst_data[7..20_007], &content[100..20_100]);
    assert_eq!(&dst_data[20_007..], &content[29_000..]);
    assert_eq!(
        copy_by_reading(dst, 0, src, 0, 5, 4096),
        Err(ErrorCode::BADF)
    );
    f.close(from);
    f.close(to);
}

/// Offsets and lengths at every edge: errors, never a panic. (Lengths stay
/// small where they could really allocate on the test's disk.)
#[test]
fn extreme_arguments_never_panic() {
    let offsets = [0, 1, 1 << 40, i64::MAX as u64, 1 << 63, u64::MAX];
    let lens = [0, 1, 4096, i64::MAX as u64, u64::MAX];
    let mut f = Fixture::new();
    fs::write(f.export().join("f"), [1u8; 10_000]).expect("seed");
    let a = f.open(None, "f", RW).expect("open");
    let b = f.open(None, "g", RW_CREATE).expect("create");
    for &offset in &offsets {
        for &len in &lens {
            for bits in 0..8u64 {
                let _ = f.fallocate(&b, offset, len, PathFlags(bits << 9));
            }
            let _ = f.seek(&a, offset, false);
            let _ = f.seek(&b, offset, true);
            let _ = f.copy(&a, offset, &b, len, len.min(1 << 20));
            let _ = f.copy(&a, len, &a, offset, 100);
        }
    }
    f.close(a);
    f.close(b);
}
