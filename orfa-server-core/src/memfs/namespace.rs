//! Operations that add, remove and move names: mkdir, mknod, symlink, link,
//! unlink and rename, with the checks and error precedence of Linux.

use orfa_wire::{AccessMode, ErrorCode, FileType, MAX_PATH, PathFlags};

use super::MemFs;
use super::data::FileData;
use super::dir::Dir;
use super::inode::{Inode, Kind, PERM_MASK, S_ISGID, S_ISVTX};
use super::lookup::{Last, Parent};
use crate::backend::{BackendResult, Context};

/// The most names a file may have (ext4's limit).
const LINK_MAX: u64 = 65_000;

/// Fails with `NOENT` for an empty path, which no namespace change accepts.
fn nonempty(path: &[u8]) -> BackendResult<()> {
    if path.is_empty() {
        Err(ErrorCode::NOENT)
    } else {
        Ok(())
    }
}

impl MemFs {
    /// Checks that `cx` may add a name to the directory `dir`.
    pub(super) fn may_create(&self, cx: &Context, dir: u64) -> BackendResult<()> {
        let d = self.inode(dir)?;
        if !d.is_dir() {
            return Err(ErrorCode::NOTDIR);
        }
        if d.nlink == 0 {
            return Err(ErrorCode::NOENT);
        }
        if !d.permits(cx, AccessMode::WRITE | AccessMode::EXEC) {
            return Err(ErrorCode::ACCES);
        }
        Ok(())
    }

    /// Checks that `cx` may remove the name of `victim` from `dir`.
    pub(super) fn may_delete(&self, cx: &Context, dir: u64, victim: u64) -> BackendResult<()> {
        let d = self.inode(dir)?;
        if !d.permits(cx, AccessMode::WRITE | AccessMode::EXEC) {
            return Err(ErrorCode::ACCES);
        }
        let v = self.inode(victim)?;
        let sticky = d.mode & S_ISVTX != 0;
        if sticky && cx.uid != 0 && cx.uid != v.uid && cx.uid != d.uid {
            return Err(ErrorCode::PERM);
        }
        Ok(())
    }

    /// The new name `p` asks for: an ordinary name that does not exist yet.
    /// A trailing slash fails with `slash_err` (`None`: allowed).
    fn new_name<'p>(&self, p: &'p Parent, slash_err: Option<ErrorCode>) -> BackendResult<&'p [u8]> {
        let name = p.name_or(ErrorCode::EXIST)?;
        if self.child(p.dir, name)?.is_some() {
            return Err(ErrorCode::EXIST);
        }
        match slash_err {
            Some(err) if p.slash => Err(err),
            _ => Ok(name),
        }
    }

    /// Makes a new inode of `kind` named by the last component of `p`, owned
    /// by the caller (the group comes from a set-group-id directory).
    pub(super) fn create(
        &mut self,
        cx: &Context,
        p: &Parent,
        mode: u32,
        kind: Kind,
    ) -> BackendResult<u64> {
        let Last::Name(name) = &p.last else {
            return Err(ErrorCode::EXIST);
        };
        if self.child(p.dir, name)?.is_some() {
            return Err(ErrorCode::EXIST);
        }
        self.may_create(cx, p.dir)?;
        let parent = self.inode(p.dir)?;
        let is_dir = matches!(kind, Kind::Dir(_));
        let (gid, mut mode) = if parent.mode & S_ISGID != 0 {
            (parent.gid, if is_dir { mode | S_ISGID } else { mode })
        } else {
            (cx.gid, mode)
        };
        if !is_dir && cx.uid != 0 && !cx.in_group(gid) {
            mode &= !S_ISGID;
        }
        let ino = self.add_inode(Inode::new(mode, cx.uid, gid, cx.now, kind))?;

        let parent = self.inode_mut(p.dir)?;
        if let Some(d) = parent.dir_mut() {
            d.insert(name, ino);
        }
        if is_dir {
            parent.nlink += 1;
        }
        parent.touch_modify(cx.now);
        Ok(ino)
    }

    pub(super) fn do_mkdir(
        &mut self,
        cx: &Context,
        start: u64,
        path: &[u8],
        mode: u32,
    ) -> BackendResult<()> {
        nonempty(path)?;
        let p = self.walk_parent(cx, start, path, &mut 0)?;
        self.new_name(&p, None)?;
        let kind = Kind::Dir(Dir::new(p.dir));
        self.create(cx, &p, 0o040000 | (mode & 0o1777), kind)
            .map(|_| ())
    }

    pub(super) fn do_mknod(
        &mut self,
        cx: &Context,
        start: u64,
        path: &[u8],
        mode: u32,
        rdev: u64,
    ) -> BackendResult<()> {
        let file_type = FileType::from_mode(u64::from(mode));
        let (kind, file_type) = match file_type {
            FileType(0) | FileType::REGULAR => (Kind::File(FileData::default()), FileType::REGULAR),
            FileType::FIFO | FileType::SOCKET | FileType::CHAR | FileType::BLOCK => {
                (Kind::Special, file_type)
            }
            FileType::DIR => return Err(ErrorCode::PERM),
            _ => return Err(ErrorCode::INVAL),
        };
        nonempty(path)?;
        let p = self.walk_parent(cx, start, path, &mut 0)?;
        self.new_name(&p, Some(ErrorCode::NOENT))?;
        let device = matches!(file_type, FileType::CHAR | FileType::BLOCK);
        if device && cx.uid != 0 {
            return Err(ErrorCode::PERM);
        }
        let ino = self.create(cx, &p, file_type.0 as u32 | (mode & PERM_MASK), kind)?;
        if device {
            self.inode_mut(ino)?.rdev = rdev;
        }
        Ok(())
    }

    pub(super) fn do_symlink(
        &mut self,
        cx: &Context,
        target: &[u8],
        start: u64,
        path: &[u8],
    ) -> BackendResult<()> {
        if target.is_empty() {
            return Err(ErrorCode::NOENT);
        }
        if target.len() > MAX_PATH {
            return Err(ErrorCode::NAMETOOLONG);
        }
        nonempty(path)?;
        let p = self.walk_parent(cx, start, path, &mut 0)?;
        self.new_name(&p, Some(ErrorCode::NOENT))?;
        self.create(cx, &p, 0o120777, Kind::Symlink(target.to_vec()))
            .map(|_| ())
    }

    pub(super) fn do_link(
        &mut self,
        cx: &Context,
        from_start: u64,
        from: &[u8],
        to_start: u64,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        if flags.0 & !PathFlags::NOFOLLOW.0 != 0 {
            return Err(ErrorCode::INVAL);
        }
        let follow = !flags.contains(PathFlags::NOFOLLOW);
        let src = self.resolve(cx, from_start, from, follow)?;
        nonempty(to)?;
        let p = self.walk_parent(cx, to_start, to, &mut 0)?;
        let name = self.new_name(&p, Some(ErrorCode::NOENT))?;
        self.may_create(cx, p.dir)?;
        let inode = self.inode(src)?;
        if inode.is_dir() {
            return Err(ErrorCode::PERM);
        }
        if inode.nlink == 0 {
            return Err(ErrorCode::NOENT);
        }
        if inode.nlink >= LINK_MAX {
            return Err(ErrorCode::MLINK);
        }

        let dir = self.inode_mut(p.dir)?;
        if let Some(d) = dir.dir_mut() {
            d.insert(name, src);
        }
        dir.touch_modify(cx.now);
        let inode = self.inode_mut(src)?;
        inode.nlink += 1;
        inode.touch_change(cx.now);
        Ok(())
    }

    pub(super) fn do_unlink(
        &mut self,
        cx: &Context,
        start: u64,
        path: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        if flags.0 & !(PathFlags::REMOVEDIR.0 | PathFlags::NOFOLLOW.0) != 0 {
            return Err(ErrorCode::INVAL);
        }
        let rmdir = flags.contains(PathFlags::REMOVEDIR);
        nonempty(path)?;
        let p = self.walk_parent(cx, start, path, &mut 0)?;
        let name = match (&p.last, rmdir) {
            (Last::Name(n), _) => n.as_slice(),
            (_, false) => return Err(ErrorCode::ISDIR),
            (Last::Dot, true) => return Err(ErrorCode::INVAL),
            (Last::DotDot, true) => return Err(ErrorCode::NOTEMPTY),
            (Last::Here, true) => return Err(ErrorCode::BUSY),
        };
        let ino = self.child(p.dir, name)?.ok_or(ErrorCode::NOENT)?;
        let victim_is_dir = self.inode(ino)?.is_dir();
        if !rmdir && p.slash {
            return Err(if victim_is_dir {
                ErrorCode::ISDIR
            } else {
                ErrorCode::NOTDIR
            });
        }
        self.may_delete(cx, p.dir, ino)?;
        match (rmdir, victim_is_dir) {
            (true, false) => return Err(ErrorCode::NOTDIR),
            (false, true) => return Err(ErrorCode::ISDIR),
            _ => {}
        }
        if rmdir && !self.inode(ino)?.dir().is_some_and(Dir::is_empty) {
            return Err(ErrorCode::NOTEMPTY);
        }

        let dir = self.inode_mut(p.dir)?;
        if let Some(d) = dir.dir_mut() {
            d.remove(name);
        }
        if victim_is_dir {
            dir.nlink = dir.nlink.saturating_sub(1);
        }
        dir.touch_modify(cx.now);
        self.drop_name(cx, ino)?;
        self.release(ino);
        Ok(())
    }

    /// Counts one name of `ino` gone (all of a directory's).
    pub(super) fn drop_name(&mut self, cx: &Context, ino: u64) -> BackendResult<()> {
        let inode = self.inode_mut(ino)?;
        inode.nlink = if inode.is_dir() {
            0
        } else {
            inode.nlink.saturating_sub(1)
        };
        inode.touch_change(cx.now);
        Ok(())
    }

    /// Whether the directory `dir` is `ancestor` or lies below it.
    pub(super) fn is_within(&self, dir: u64, ancestor: u64) -> BackendResult<bool> {
        let mut cur = dir;
        // Each step climbs one level; a tree holds fewer levels than inodes.
        for _ in 0..=self.inodes.len() {
            if cur == ancestor {
                return Ok(true);
            }
            if cur == super::ROOT {
                return Ok(false);
            }
            cur = self.inode(cur)?.dir().ok_or(ErrorCode::IO)?.parent;
        }
        Err(ErrorCode::IO)
    }
}
