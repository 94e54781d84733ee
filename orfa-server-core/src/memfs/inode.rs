//! Inodes: what every object of the in-memory file system holds, and the
//! permission rule every operation checks against.

use alloc::vec::Vec;

use orfa_wire::{AccessMode, Attr, AttrMask, FileType};

use super::data::FileData;
use super::dir::Dir;
use super::xattr::Xattrs;
use crate::backend::{Context, Timestamp};

/// The set-user-id bit of a mode.
pub(super) const S_ISUID: u32 = 0o4000;
/// The set-group-id bit of a mode.
pub(super) const S_ISGID: u32 = 0o2000;
/// The sticky bit of a mode: only owners may remove names from such a directory.
pub(super) const S_ISVTX: u32 = 0o1000;
/// The permission bits, with set-id and sticky bits.
pub(super) const PERM_MASK: u32 = 0o7777;
/// The group execute bit.
const S_IXGRP: u32 = 0o010;

/// The preferred I/O size reported in attributes.
const BLKSIZE: u64 = 4096;
/// The device number of the file system, as `stat` reports it (a Linux `makedev(0, 0x4f)`).
pub(super) const DEV: u64 = 0x4f;
/// Symbolic link targets shorter than this take no data block (as ext4's fast links).
const FAST_LINK_LEN: usize = 60;

/// What an inode is, with the data of its kind.
#[derive(Debug)]
pub(super) enum Kind {
    /// A regular file and its bytes.
    File(FileData),
    /// A directory and its entries.
    Dir(Dir),
    /// A symbolic link and its target, stored as given.
    Symlink(Vec<u8>),
    /// A FIFO, socket or device node: it has attributes and nothing else.
    Special,
}

/// One object of the file system.
#[derive(Debug)]
pub(super) struct Inode {
    /// Type bits and permission bits, as a POSIX `st_mode`.
    pub(super) mode: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    /// Names that refer to the inode (for a directory, 2 plus its subdirectories).
    pub(super) nlink: u64,
    /// Device number of a device node.
    pub(super) rdev: u64,
    pub(super) atime: Timestamp,
    pub(super) mtime: Timestamp,
    pub(super) ctime: Timestamp,
    pub(super) btime: Timestamp,
    /// Nodes opened on the inode and not yet closed: an unlinked inode lives
    /// until this drops to zero.
    pub(super) opens: u64,
    pub(super) kind: Kind,
    pub(super) xattrs: Xattrs,
}

impl Inode {
    /// A new inode of `kind`, with every time set to `now`.
    pub(super) fn new(mode: u32, uid: u32, gid: u32, now: Timestamp, kind: Kind) -> Self {
        let nlink = if matches!(kind, Kind::Dir(_)) { 2 } else { 1 };
        Self {
            mode,
            uid,
            gid,
            nlink,
            rdev: 0,
            atime: now,
            mtime: now,
            ctime: now,
            btime: now,
            opens: 0,
            kind,
            xattrs: Xattrs::default(),
        }
    }

    /// The type bits of the mode.
    pub(super) fn file_type(&self) -> FileType {
        FileType::from_mode(u64::from(self.mode))
    }

    pub(super) fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir(_))
    }

    pub(super) fn dir(&self) -> Option<&Dir> {
        match &self.kind {
            Kind::Dir(d) => Some(d),
            _ => None,
        }
    }

    pub(super) fn dir_mut(&mut self) -> Option<&mut Dir> {
        match &mut self.kind {
            Kind::Dir(d) => Some(d),
            _ => None,
        }
    }

    /// Marks a change of the inode's status (ctime).
    pub(super) fn touch_change(&mut self, now: Timestamp) {
        self.ctime = now;
    }

    /// Marks a change of the inode's content (mtime and ctime).
    pub(super) fn touch_modify(&mut self, now: Timestamp) {
        self.mtime = now;
        self.ctime = now;
    }

    /// Whether `cx` may access the inode as `want` asks.
    ///
    /// The owner's, the group's (if the caller is in the inode's group, as
    /// primary or supplementary group) or the others' bits apply, in that
    /// order of match. The superuser (uid 0) may always read and write, may search any
    /// directory, and may execute a file only if some execute bit is set.
    pub(super) fn permits(&self, cx: &Context, want: AccessMode) -> bool {
        let want = (want.0 & 0o7) as u32;
        if cx.uid == 0 {
            let needs_x = want & 1 != 0 && !self.is_dir();
            return !needs_x || self.mode & 0o111 != 0;
        }
        let bits = if cx.uid == self.uid {
            self.mode >> 6
        } else if cx.in_group(self.gid) {
            self.mode >> 3
        } else {
            self.mode
        };
        bits & want == want
    }

    /// Whether `cx` owns the inode or is the superuser.
    pub(super) fn owned_by(&self, cx: &Context) -> bool {
        cx.uid == 0 || cx.uid == self.uid
    }

    /// Clears the set-id bits a data change by an unprivileged caller removes.
    pub(super) fn drop_setid_on_write(&mut self, cx: &Context) {
        if cx.uid != 0 {
            self.drop_setid();
        }
    }

    /// Clears set-user-id, and set-group-id when it means "set group on exec".
    pub(super) fn drop_setid(&mut self) {
        if self.is_dir() {
            return;
        }
        self.mode &= !S_ISUID;
        if self.mode & S_IXGRP != 0 {
            self.mode &= !S_ISGID;
        }
    }

    /// Size in bytes, as `stat` reports it.
    pub(super) fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(f) => f.size(),
            Kind::Dir(d) => d.apparent_size(),
            Kind::Symlink(t) => t.len() as u64,
            Kind::Special => 0,
        }
    }

    /// Pages the inode takes from the file system's data limit.
    pub(super) fn pages(&self) -> u64 {
        let data = match &self.kind {
            Kind::File(f) => f.pages(),
            _ => 0,
        };
        data + self.xattrs.pages()
    }

    /// Allocated 512-byte blocks, as `stat` reports them.
    pub(super) fn blocks(&self) -> u64 {
        match &self.kind {
            Kind::File(f) => f.blocks(),
            Kind::Dir(d) => d.apparent_size() / 512,
            Kind::Symlink(t) if t.len() >= FAST_LINK_LEN => BLKSIZE / 512,
            Kind::Symlink(_) | Kind::Special => 0,
        }
    }

    /// The inode's attributes; `ino` is its number.
    pub(super) fn attr(&self, ino: u64) -> Attr {
        let time = |t: Timestamp| (t.sec as u64, u64::from(t.nsec));
        let (atime_sec, atime_nsec) = time(self.atime);
        let (mtime_sec, mtime_nsec) = time(self.mtime);
        let (ctime_sec, ctime_nsec) = time(self.ctime);
        let (btime_sec, btime_nsec) = time(self.btime);
        Attr {
            mask: (AttrMask::BASIC | AttrMask::BTIME).0.into(),
            ino: ino.into(),
            mode: u64::from(self.mode).into(),
            nlink: self.nlink.into(),
            uid: u64::from(self.uid).into(),
            gid: u64::from(self.gid).into(),
            rdev: self.rdev.into(),
            size: self.size().into(),
            blksize: BLKSIZE.into(),
            blocks: self.blocks().into(),
            dev: DEV.into(),
            attributes: 0.into(),
            atime_sec: atime_sec.into(),
            atime_nsec: atime_nsec.into(),
            mtime_sec: mtime_sec.into(),
            mtime_nsec: mtime_nsec.into(),
            ctime_sec: ctime_sec.into(),
            ctime_nsec: ctime_nsec.into(),
            btime_sec: btime_sec.into(),
            btime_nsec: btime_nsec.into(),
        }
    }
}
