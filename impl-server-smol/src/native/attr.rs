//! Attributes: `statx` and `statvfs` results as wire structures, and
//! attribute changes applied to a file.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};

use orfa_server_core::BackendResult;
use orfa_wire::{Attr, AttrMask, ErrorCode, FsAttr, SetAttr, SetAttrMask};

use super::sys;

/// Which `statx` result bits give which attribute bits.
const MASK_BITS: [(u32, AttrMask); 12] = [
    (libc::STATX_TYPE, AttrMask::TYPE),
    (libc::STATX_MODE, AttrMask::MODE),
    (libc::STATX_NLINK, AttrMask::NLINK),
    (libc::STATX_UID, AttrMask::UID),
    (libc::STATX_GID, AttrMask::GID),
    (libc::STATX_ATIME, AttrMask::ATIME),
    (libc::STATX_MTIME, AttrMask::MTIME),
    (libc::STATX_CTIME, AttrMask::CTIME),
    (libc::STATX_INO, AttrMask::INO),
    (libc::STATX_SIZE, AttrMask::SIZE),
    (libc::STATX_BLOCKS, AttrMask::BLOCKS),
    (libc::STATX_BTIME, AttrMask::BTIME),
];

/// The mount flags `FsAttr::flags` carries.
const FS_FLAGS: u64 = libc::ST_RDONLY | libc::ST_NOSUID;

/// The attributes of the object `fd` refers to.
pub(super) fn attr_of(fd: BorrowedFd<'_>) -> BackendResult<Attr> {
    let st = sys::statx(fd)?;
    Ok(from_statx(&st))
}

/// The attributes of `name` in the directory `dir` (a final symbolic link
/// itself), as `READDIRPLUS` gives them.
pub(super) fn attr_at(dir: BorrowedFd<'_>, name: &CStr) -> BackendResult<Attr> {
    let st = sys::statx_at(dir, name)?;
    Ok(from_statx(&st))
}

/// A `statx` result as an [`Attr`]; fields the kernel did not fill are zero
/// and their bits absent from `mask`.
fn from_statx(st: &libc::statx) -> Attr {
    let mask = MASK_BITS
        .iter()
        .filter(|(bit, _)| st.stx_mask & bit != 0)
        .fold(AttrMask::NONE, |acc, (_, attr_bit)| acc | *attr_bit);
    let btime = if mask.contains(AttrMask::BTIME) {
        (st.stx_btime.tv_sec, st.stx_btime.tv_nsec)
    } else {
        (0, 0)
    };
    Attr {
        mask: mask.0.into(),
        ino: st.stx_ino.into(),
        mode: u64::from(st.stx_mode).into(),
        nlink: u64::from(st.stx_nlink).into(),
        uid: u64::from(st.stx_uid).into(),
        gid: u64::from(st.stx_gid).into(),
        rdev: libc::makedev(st.stx_rdev_major, st.stx_rdev_minor).into(),
        size: st.stx_size.into(),
        blksize: u64::from(st.stx_blksize).into(),
        blocks: st.stx_blocks.into(),
        dev: libc::makedev(st.stx_dev_major, st.stx_dev_minor).into(),
        attributes: st.stx_attributes.into(),
        atime_sec: (st.stx_atime.tv_sec as u64).into(),
        atime_nsec: u64::from(st.stx_atime.tv_nsec).into(),
        mtime_sec: (st.stx_mtime.tv_sec as u64).into(),
        mtime_nsec: u64::from(st.stx_mtime.tv_nsec).into(),
        ctime_sec: (st.stx_ctime.tv_sec as u64).into(),
        ctime_nsec: u64::from(st.stx_ctime.tv_nsec).into(),
        btime_sec: (btime.0 as u64).into(),
        btime_nsec: u64::from(btime.1).into(),
    }
}

/// The statistics of the file system holding `fd`'s object.
pub(super) fn fs_attr_of(fd: BorrowedFd<'_>) -> BackendResult<FsAttr> {
    let st = sys::fstatvfs(fd)?;
    Ok(FsAttr {
        bsize: st.f_bsize.into(),
        frsize: st.f_frsize.into(),
        blocks: st.f_blocks.into(),
        bfree: st.f_bfree.into(),
        bavail: st.f_bavail.into(),
        files: st.f_files.into(),
        ffree: st.f_ffree.into(),
        namemax: st.f_namemax.into(),
        fsid: st.f_fsid.into(),
        flags: (st.f_flag & FS_FLAGS).into(),
    })
}

/// Applies the changes `attr.valid` names to the object `fd` refers to (an
/// `O_PATH` descriptor, of a symbolic link itself when not following).
///
/// Changes are made in the order mode, owner, size, times; the first that
/// fails stops the rest, as a sequence of `chmod`, `chown`, `truncate` and
/// `utimensat` calls would.
pub(super) fn apply(fd: BorrowedFd<'_>, attr: &SetAttr) -> BackendResult<()> {
    let valid = SetAttrMask(attr.valid.get());
    if valid.unknown_bits() != 0 {
        return Err(ErrorCode::INVAL);
    }
    if valid.contains(SetAttrMask::MODE) {
        sys::chmod_fd(fd, (attr.mode.get() & 0o7777) as u32)?;
    }
    if valid.intersects(SetAttrMask::UID | SetAttrMask::GID) {
        let uid = id_field(valid.contains(SetAttrMask::UID), attr.uid.get())?;
        let gid = id_field(valid.contains(SetAttrMask::GID), attr.gid.get())?;
        sys::chown_fd(fd, uid, gid)?;
    }
    if valid.contains(SetAttrMask::SIZE) {
        // Truncation needs a descriptor open for writing; non-blocking so a
        // FIFO cannot stall the server (truncating one fails anyway).
        let writable = sys::reopen(fd, libc::O_WRONLY | libc::O_NONBLOCK | libc::O_NOCTTY)?;
        sys::ftruncate(writable.as_fd(), attr.size.get())?;
    }
    let atime = time_field(
        valid,
        SetAttrMask::ATIME,
        SetAttrMask::ATIME_NOW,
        attr.atime_sec.get(),
        attr.atime_nsec.get(),
    )?;
    let mtime = time_field(
        valid,
        SetAttrMask::MTIME,
        SetAttrMask::MTIME_NOW,
        attr.mtime_sec.get(),
        attr.mtime_nsec.get(),
    )?;
    if atime.tv_nsec != libc::UTIME_OMIT || mtime.tv_nsec != libc::UTIME_OMIT {
        sys::utimens_fd(fd, &[atime, mtime])?;
    }
    Ok(())
}

/// An owner or group for `fchownat`: `u32::MAX` (-1) keeps the current one.
fn id_field(set: bool, value: u64) -> BackendResult<u32> {
    if !set {
        return Ok(u32::MAX);
    }
    match u32::try_from(value) {
        Ok(id) if id != u32::MAX => Ok(id),
        _ => Err(ErrorCode::INVAL),
    }
}

/// One time of a `utimensat` call: a given time, the current time, or omitted.
fn time_field(
    valid: SetAttrMask,
    given: SetAttrMask,
    now: SetAttrMask,
    sec: u64,
    nsec: u64,
) -> BackendResult<libc::timespec> {
    let (tv_sec, tv_nsec) = if valid.contains(now) {
        (0, libc::UTIME_NOW)
    } else if valid.contains(given) {
        if nsec >= 1_000_000_000 {
            return Err(ErrorCode::INVAL);
        }
        (sec as i64, nsec as i64)
    } else {
        (0, libc::UTIME_OMIT)
    };
    Ok(libc::timespec { tv_sec, tv_nsec })
}
