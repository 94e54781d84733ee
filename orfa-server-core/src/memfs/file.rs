//! Opening, reading, writing, listing, and changing attributes.

use orfa_wire::{
    AccessMode, Attr, DirEntry, DirEntryWriter, ErrorCode, FsAttr, MAX_NAME, OpenFlags, PathFlags,
    SetAttr, SetAttrMask,
};

use super::data::{FileData, MAX_FILE_SIZE, PAGE};
use super::inode::{DEV, Inode, Kind, PERM_MASK, S_ISGID};
use super::lookup::{Last, Parent};
use super::{MemFs, MemNode};
use crate::backend::{BackendResult, Base, Context, Timestamp};

/// Nanoseconds in a second: a time's `nsec` must be below this.
const NSEC_PER_SEC: u64 = 1_000_000_000;

impl MemFs {
    pub(super) fn do_open(
        &mut self,
        cx: &Context,
        start: u64,
        path: &[u8],
        flags: OpenFlags,
        mode: u32,
    ) -> BackendResult<(MemNode, Attr)> {
        if flags.unknown_bits() != 0 {
            return Err(ErrorCode::INVAL);
        }
        let path_only = flags.contains(OpenFlags::PATH);
        let create = flags.contains(OpenFlags::CREATE) && !path_only;
        let excl = create && flags.contains(OpenFlags::EXCL);
        let nofollow = flags.contains(OpenFlags::NOFOLLOW);

        let mut links = 0;
        let mut p = self.walk_parent(cx, start, path, &mut links)?;
        let ino = loop {
            let Some(ino) = self.lookup_last(&p)? else {
                if !create {
                    return Err(ErrorCode::NOENT);
                }
                break self.create_file(cx, &p, mode)?;
            };
            if excl {
                return Err(ErrorCode::EXIST);
            }
            if matches!(self.inode(ino)?.kind, Kind::Symlink(_)) {
                if p.slash || !nofollow {
                    let slash = p.slash;
                    p = self.follow_parent(cx, p.dir, ino, &mut links)?;
                    p.slash |= slash;
                    continue;
                }
                if !path_only {
                    return Err(ErrorCode::LOOP);
                }
            }
            self.check_open_existing(cx, ino, flags, &p)?;
            break ino;
        };

        let read = flags.contains(OpenFlags::READ) && !path_only;
        let write = flags.contains(OpenFlags::WRITE) && !path_only;
        if flags.contains(OpenFlags::TRUNC) && !path_only {
            let used = &mut self.used_pages;
            let inode = self.inodes.get_mut(&ino).ok_or(ErrorCode::IO)?;
            if let Kind::File(f) = &mut inode.kind {
                let before = f.pages();
                f.truncate(0);
                *used = used.saturating_sub(before) + f.pages();
                inode.touch_modify(cx.now);
                inode.drop_setid_on_write(cx);
            }
        }
        let inode = self.inode_mut(ino)?;
        inode.opens += 1;
        let node = MemNode {
            ino,
            read,
            write,
            append: flags.contains(OpenFlags::APPEND),
            path_only,
        };
        Ok((node, inode.attr(ino)))
    }

    /// Checks that the existing `ino` may be opened with `flags`.
    fn check_open_existing(
        &self,
        cx: &Context,
        ino: u64,
        flags: OpenFlags,
        p: &Parent,
    ) -> BackendResult<()> {
        let inode = self.inode(ino)?;
        if p.slash && !inode.is_dir() {
            return Err(ErrorCode::NOTDIR);
        }
        if flags.contains(OpenFlags::DIRECTORY) && !inode.is_dir() {
            return Err(ErrorCode::NOTDIR);
        }
        if flags.contains(OpenFlags::PATH) {
            return Ok(());
        }
        let modifies = flags.intersects(OpenFlags::WRITE | OpenFlags::TRUNC);
        if inode.is_dir() && (modifies || flags.contains(OpenFlags::CREATE)) {
            return Err(ErrorCode::ISDIR);
        }
        if matches!(inode.kind, Kind::Special) {
            // FIFOs, sockets and devices here have no peer or driver behind them.
            return Err(ErrorCode::NXIO);
        }
        let mut want = AccessMode::NONE;
        if flags.contains(OpenFlags::READ) {
            want |= AccessMode::READ;
        }
        if modifies {
            want |= AccessMode::WRITE;
        }
        if inode.permits(cx, want) {
            Ok(())
        } else {
            Err(ErrorCode::ACCES)
        }
    }

    /// Creates the regular file the last component of `p` names.
    fn create_file(&mut self, cx: &Context, p: &Parent, mode: u32) -> BackendResult<u64> {
        if p.slash || !matches!(p.last, Last::Name(_)) {
            return Err(ErrorCode::ISDIR);
        }
        let kind = Kind::File(FileData::default());
        self.create(cx, p, 0o100000 | (mode & PERM_MASK), kind)
    }

    pub(super) fn do_read(
        &self,
        node: &MemNode,
        offset: u64,
        buf: &mut [u8],
    ) -> BackendResult<usize> {
        if node.path_only {
            return Err(ErrorCode::BADF);
        }
        let inode = self.inode(node.ino)?;
        if inode.is_dir() {
            return Err(ErrorCode::ISDIR);
        }
        if !node.read {
            return Err(ErrorCode::BADF);
        }
        match &inode.kind {
            Kind::File(f) => Ok(f.read(offset, buf)),
            _ => Err(ErrorCode::INVAL),
        }
    }

    pub(super) fn do_write(
        &mut self,
        cx: &Context,
        node: &MemNode,
        offset: u64,
        data: &[u8],
        append: bool,
    ) -> BackendResult<(usize, u64)> {
        if node.path_only || !node.write {
            return Err(ErrorCode::BADF);
        }
        let free_pages = (self.limits.bytes / PAGE).saturating_sub(self.used_pages);
        let inode = self.inodes.get_mut(&node.ino).ok_or(ErrorCode::IO)?;
        let Kind::File(f) = &mut inode.kind else {
            return Err(ErrorCode::INVAL);
        };
        let offset = if append || node.append {
            f.size()
        } else {
            offset
        };
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or(ErrorCode::FBIG)?;
        if data.is_empty() {
            return Ok((0, offset));
        }
        if end > MAX_FILE_SIZE {
            return Err(ErrorCode::FBIG);
        }
        let added = f.pages_needed(offset, data.len());
        if added > free_pages {
            return Err(ErrorCode::NOSPC);
        }
        f.write(offset, data);
        self.used_pages += added;
        inode.touch_modify(cx.now);
        inode.drop_setid_on_write(cx);
        Ok((data.len(), end))
    }

    pub(super) fn do_readdir(
        &self,
        node: &MemNode,
        cookie: u64,
        out: &mut DirEntryWriter<'_>,
    ) -> BackendResult<bool> {
        if node.path_only {
            return Err(ErrorCode::BADF);
        }
        let dir = self.inode(node.ino)?.dir().ok_or(ErrorCode::NOTDIR)?;
        for (next_cookie, name, ino) in dir.entries_after(cookie) {
            let inode = self.inode(ino)?;
            let entry = DirEntry {
                ino,
                cookie: next_cookie,
                file_type: inode.file_type(),
                name,
                attr: out.wants_attrs().then(|| inode.attr(ino)),
            };
            if !out.push(&entry) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub(super) fn do_setattr(
        &mut self,
        cx: &Context,
        base: Base<'_, MemNode>,
        path: &[u8],
        attr: &SetAttr,
        flags: PathFlags,
    ) -> BackendResult<Attr> {
        let valid = SetAttrMask(attr.valid.get());
        if valid.unknown_bits() != 0 {
            return Err(ErrorCode::INVAL);
        }
        let follow = !flags.contains(PathFlags::NOFOLLOW);
        let ino = self.resolve(cx, Self::start(base), path, follow)?;
        // An empty path on a node opened for writing acts as `ftruncate` and
        // `futimens` do: the open already proved the right to write.
        let via_writable_node = path.is_empty() && base.is_some_and(|n| n.write);
        let inode = self.inodes.get_mut(&ino).ok_or(ErrorCode::IO)?;

        let change = SetAttrChange::parse(attr, valid)?;
        change.check(cx, inode, via_writable_node)?;
        if let Some(size) = change.size {
            if let Kind::File(f) = &mut inode.kind {
                // Growing adds a hole; only shrinking changes the pages held.
                let old_pages = f.pages();
                f.truncate(size);
                self.used_pages = self.used_pages.saturating_sub(old_pages) + f.pages();
            }
            inode.touch_modify(cx.now);
            inode.drop_setid_on_write(cx);
        }
        change.apply(cx, inode);
        Ok(inode.attr(ino))
    }

    /// Statistics of the whole file system.
    pub(super) fn fs_attr(&self) -> FsAttr {
        let blocks = self.limits.bytes / PAGE;
        let bfree = blocks.saturating_sub(self.used_pages);
        let files = self.limits.inodes;
        let ffree = files.saturating_sub(self.inodes.len() as u64);
        FsAttr {
            bsize: PAGE.into(),
            frsize: PAGE.into(),
            blocks: blocks.into(),
            bfree: bfree.into(),
            bavail: bfree.into(),
            files: files.into(),
            ffree: ffree.into(),
            namemax: (MAX_NAME as u64).into(),
            fsid: DEV.into(),
            flags: 0.into(),
        }
    }
}

/// A [`SetAttr`] checked for well-formed values.
#[derive(Debug)]
struct SetAttrChange {
    mode: Option<u32>,
    uid: Option<u32>,
    gid: Option<u32>,
    size: Option<u64>,
    atime: Option<Option<Timestamp>>,
    mtime: Option<Option<Timestamp>>,
}

impl SetAttrChange {
    /// Reads the fields `valid` names; `Some(None)` for a time means "now".
    fn parse(attr: &SetAttr, valid: SetAttrMask) -> BackendResult<Self> {
        let id = |v: u64| u32::try_from(v).map_err(|_| ErrorCode::INVAL);
        let time = |now_bit, bit, sec: u64, nsec: u64| -> BackendResult<_> {
            if valid.contains(now_bit) {
                Ok(Some(None))
            } else if valid.contains(bit) {
                if nsec >= NSEC_PER_SEC {
                    return Err(ErrorCode::INVAL);
                }
                Ok(Some(Some(Timestamp {
                    sec: sec as i64,
                    nsec: nsec as u32,
                })))
            } else {
                Ok(None)
            }
        };
        Ok(Self {
            mode: valid
                .contains(SetAttrMask::MODE)
                .then(|| attr.mode.get() as u32 & PERM_MASK),
            uid: valid
                .contains(SetAttrMask::UID)
                .then(|| id(attr.uid.get()))
                .transpose()?,
            gid: valid
                .contains(SetAttrMask::GID)
                .then(|| id(attr.gid.get()))
                .transpose()?,
            size: valid.contains(SetAttrMask::SIZE).then(|| attr.size.get()),
            atime: time(
                SetAttrMask::ATIME_NOW,
                SetAttrMask::ATIME,
                attr.atime_sec.get(),
                attr.atime_nsec.get(),
            )?,
            mtime: time(
                SetAttrMask::MTIME_NOW,
                SetAttrMask::MTIME,
                attr.mtime_sec.get(),
                attr.mtime_nsec.get(),
            )?,
        })
    }

    fn is_empty(&self) -> bool {
        let Self {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        } = self;
        mode.is_none()
            && uid.is_none()
            && gid.is_none()
            && size.is_none()
            && atime.is_none()
            && mtime.is_none()
    }

    /// Checks that `cx` may make this change to `inode`, as Linux's `chmod`,
    /// `chown`, `truncate` and `utimensat` do.
    fn check(&self, cx: &Context, inode: &Inode, writable_node: bool) -> BackendResult<()> {
        let owner = inode.owned_by(cx);
        if self.mode.is_some() {
            if matches!(inode.kind, Kind::Symlink(_)) {
                return Err(ErrorCode::NOTSUP);
            }
            if !owner {
                return Err(ErrorCode::PERM);
            }
        }
        if cx.uid != 0 {
            if self.uid.is_some_and(|u| u != inode.uid) {
                return Err(ErrorCode::PERM);
            }
            let gid_ok = |g: u32| g == inode.gid || (cx.uid == inode.uid && cx.in_group(g));
            if self.gid.is_some_and(|g| !gid_ok(g)) {
                return Err(ErrorCode::PERM);
            }
        }
        if let Some(size) = self.size {
            match inode.kind {
                Kind::File(_) => {}
                Kind::Dir(_) => return Err(ErrorCode::ISDIR),
                _ => return Err(ErrorCode::INVAL),
            }
            if size > MAX_FILE_SIZE {
                return Err(ErrorCode::FBIG);
            }
            if !writable_node && !inode.permits(cx, AccessMode::WRITE) {
                return Err(ErrorCode::ACCES);
            }
        }
        let explicit = matches!(self.atime, Some(Some(_))) || matches!(self.mtime, Some(Some(_)));
        let to_now = matches!(self.atime, Some(None)) || matches!(self.mtime, Some(None));
        if explicit && !owner {
            return Err(ErrorCode::PERM);
        }
        if to_now && !owner && !writable_node && !inode.permits(cx, AccessMode::WRITE) {
            return Err(ErrorCode::ACCES);
        }
        Ok(())
    }

    /// Applies the change (the size is handled by the caller) and sets the change time.
    fn apply(&self, cx: &Context, inode: &mut Inode) {
        if self.is_empty() {
            return;
        }
        if let Some(mode) = self.mode {
            let mut mode = mode;
            // Without privilege, one may not give a file a group one is not in.
            if cx.uid != 0 && !inode.is_dir() && !cx.in_group(inode.gid) {
                mode &= !S_ISGID;
            }
            inode.mode = (inode.mode & !PERM_MASK) | mode;
        }
        if self.uid.is_some() || self.gid.is_some() {
            inode.uid = self.uid.unwrap_or(inode.uid);
            inode.gid = self.gid.unwrap_or(inode.gid);
            inode.drop_setid();
        }
        if let Some(t) = self.atime {
            inode.atime = t.unwrap_or(cx.now);
        }
        if let Some(t) = self.mtime {
            inode.mtime = t.unwrap_or(cx.now);
        }
        inode.touch_change(cx.now);
    }
}
