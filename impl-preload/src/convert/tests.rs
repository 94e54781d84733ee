use orfa_wire::{Attr, OpenFlags, PathFlags};

use super::{
    access_flags, dev_major, dev_minor, open_flags, path_flags, to_stat, to_statx, unlink_flags,
};

#[test]
fn open_flags_map_every_linux_bit_that_matters() {
    assert_eq!(open_flags(libc::O_RDONLY), OpenFlags::READ);
    assert_eq!(
        open_flags(libc::O_WRONLY | libc::O_TRUNC),
        OpenFlags::WRITE | OpenFlags::TRUNC
    );
    let all = libc::O_RDWR
        | libc::O_CREAT
        | libc::O_EXCL
        | libc::O_APPEND
        | libc::O_DIRECTORY
        | libc::O_NOFOLLOW
        | libc::O_SYNC;
    let want = OpenFlags::READ
        | OpenFlags::WRITE
        | OpenFlags::CREATE
        | OpenFlags::EXCL
        | OpenFlags::APPEND
        | OpenFlags::DIRECTORY
        | OpenFlags::NOFOLLOW
        | OpenFlags::SYNC;
    assert_eq!(open_flags(all), want);
    // O_EXCL without O_CREAT means nothing; O_PATH ignores access and creation.
    assert_eq!(open_flags(libc::O_EXCL), OpenFlags::READ);
    assert_eq!(
        open_flags(libc::O_PATH | libc::O_CREAT | libc::O_RDWR),
        OpenFlags::PATH
    );
}

#[test]
fn at_flags_that_share_a_bit_are_mapped_per_call() {
    // AT_REMOVEDIR and AT_EACCESS are both 0x200 on Linux.
    assert_eq!(libc::AT_REMOVEDIR, libc::AT_EACCESS);
    assert_eq!(unlink_flags(libc::AT_REMOVEDIR), PathFlags::REMOVEDIR);
    assert_eq!(access_flags(libc::AT_EACCESS), PathFlags::EACCESS);
    assert_eq!(
        path_flags(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH),
        PathFlags::NOFOLLOW
    );
}

#[test]
fn device_numbers_split_as_glibc_does() {
    for (major, minor) in [
        (0u64, 0u64),
        (8, 1),
        (259, 65537),
        (4095, 255),
        (70000, 1 << 19),
    ] {
        let dev = ((major & 0xfff) << 8)
            | ((major & !0xfff) << 32)
            | (minor & 0xff)
            | ((minor & !0xff) << 12);
        assert_eq!(
            (dev_major(dev), dev_minor(dev)),
            (major as u32, minor as u32)
        );
    }
}

fn sample() -> Attr {
    Attr {
        mask: 0xfff.into(),
        ino: 42.into(),
        mode: 0o100640.into(),
        nlink: 3.into(),
        uid: 1000.into(),
        gid: 100.into(),
        size: 12345.into(),
        blksize: 4096.into(),
        blocks: 32.into(),
        dev: ((8u64 << 8) | 1).into(),
        mtime_sec: (-5i64 as u64).into(),
        mtime_nsec: 999_999_999.into(),
        atime_sec: 1_600_000_000.into(),
        atime_nsec: 1.into(),
        ctime_sec: 1_700_000_000.into(),
        btime_sec: 1_500_000_000.into(),
        btime_nsec: 7.into(),
        ..Attr::default()
    }
}

#[test]
fn stat_and_statx_carry_every_field_with_nanoseconds() {
    let a = sample();
    let st = to_stat(&a);
    assert_eq!(
        (st.st_ino, st.st_mode, st.st_nlink, st.st_uid, st.st_gid),
        (42, 0o100640, 3, 1000, 100)
    );
    assert_eq!(
        (st.st_size, st.st_blksize, st.st_blocks, st.st_dev),
        (12345, 128 * 1024, 32, 0x801)
    );
    assert_eq!((st.st_mtime, st.st_mtime_nsec), (-5, 999_999_999));
    assert_eq!(
        (st.st_atime, st.st_atime_nsec, st.st_ctime),
        (1_600_000_000, 1, 1_700_000_000)
    );

    let sx = to_statx(&a);
    assert_eq!(sx.stx_mask, 0xfff);
    assert_eq!(
        (sx.stx_ino, sx.stx_mode, sx.stx_size, sx.stx_blocks),
        (42, 0o100640, 12345, 32)
    );
    assert_eq!((sx.stx_dev_major, sx.stx_dev_minor), (8, 1));
    assert_eq!(sx.stx_blksize, 128 * 1024);
    let big = Attr {
        blksize: (4u64 << 20).into(),
        ..sample()
    };
    assert_eq!(
        to_stat(&big).st_blksize,
        4 << 20,
        "a larger block size is kept"
    );
    assert_eq!(
        (sx.stx_mtime.tv_sec, sx.stx_mtime.tv_nsec),
        (-5, 999_999_999)
    );
    assert_eq!(
        (sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec),
        (1_500_000_000, 7)
    );
}
