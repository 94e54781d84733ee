//! Renaming and exchanging names, with the checks and error precedence of
//! Linux's `renameat2`.

use orfa_wire::{AccessMode, ErrorCode, PathFlags};

use super::MemFs;
use super::lookup::Parent;
use crate::backend::{BackendResult, Context};

/// What a rename was asked to do once both paths are resolved.
struct Move<'p> {
    from: &'p Parent,
    from_name: &'p [u8],
    src: u64,
    src_is_dir: bool,
    to: &'p Parent,
    to_name: &'p [u8],
    /// The inode the target name refers to now, and whether it is a directory.
    target: Option<(u64, bool)>,
}

impl MemFs {
    pub(super) fn do_rename(
        &mut self,
        cx: &Context,
        from_start: u64,
        from: &[u8],
        to_start: u64,
        to: &[u8],
        flags: PathFlags,
    ) -> BackendResult<()> {
        let noreplace = flags.contains(PathFlags::NOREPLACE);
        let exchange = flags.contains(PathFlags::EXCHANGE);
        let known = PathFlags::NOREPLACE.0 | PathFlags::EXCHANGE.0;
        if flags.0 & !known != 0 || (noreplace && exchange) {
            return Err(ErrorCode::INVAL);
        }
        if from.is_empty() || to.is_empty() {
            return Err(ErrorCode::NOENT);
        }
        let fp = self.walk_parent(cx, from_start, from, &mut 0)?;
        let tp = self.walk_parent(cx, to_start, to, &mut 0)?;
        let from_name = fp.name_or(ErrorCode::BUSY)?;
        let to_name = tp.name_or(ErrorCode::BUSY)?;
        let src = self.child(fp.dir, from_name)?.ok_or(ErrorCode::NOENT)?;
        let target = match self.child(tp.dir, to_name)? {
            Some(t) => Some((t, self.inode(t)?.is_dir())),
            None => None,
        };
        let m = Move {
            from: &fp,
            from_name,
            src,
            src_is_dir: self.inode(src)?.is_dir(),
            to: &tp,
            to_name,
            target,
        };

        self.check_names(&m, noreplace, exchange)?;
        if target.is_some_and(|(t, _)| t == src) {
            // Two names of one inode: POSIX says to do nothing.
            return Ok(());
        }
        self.check_rights(cx, &m, exchange)?;
        if exchange {
            self.apply_exchange(cx, &m)
        } else {
            self.check_replace(&m)?;
            self.apply_rename(cx, &m)
        }
    }

    /// The checks on the shape of the request: existence, trailing slashes,
    /// and moves of a directory below itself.
    fn check_names(&self, m: &Move<'_>, noreplace: bool, exchange: bool) -> BackendResult<()> {
        if noreplace && m.target.is_some() {
            return Err(ErrorCode::EXIST);
        }
        if exchange {
            match m.target {
                None => return Err(ErrorCode::NOENT),
                Some((_, false)) if m.to.slash => return Err(ErrorCode::NOTDIR),
                Some(_) => {}
            }
        }
        if !m.src_is_dir && (m.from.slash || (!exchange && m.to.slash)) {
            return Err(ErrorCode::NOTDIR);
        }
        if self.inode(m.to.dir)?.nlink == 0 {
            return Err(ErrorCode::NOENT);
        }
        if m.src_is_dir && self.is_within(m.to.dir, m.src)? {
            return Err(ErrorCode::INVAL);
        }
        if let Some((t, true)) = m.target {
            if self.is_within(m.from.dir, t)? {
                return Err(if exchange {
                    ErrorCode::INVAL
                } else {
                    ErrorCode::NOTEMPTY
                });
            }
        }
        Ok(())
    }

    /// The permission checks: both directories writable, sticky bits, and
    /// the right to rewrite the `..` of a directory that changes parent.
    fn check_rights(&self, cx: &Context, m: &Move<'_>, exchange: bool) -> BackendResult<()> {
        self.may_delete(cx, m.from.dir, m.src)?;
        match m.target {
            None => self.may_create(cx, m.to.dir)?,
            Some((t, _)) => self.may_delete(cx, m.to.dir, t)?,
        }
        if m.from.dir != m.to.dir {
            let mut moved = [Some(m.src).filter(|_| m.src_is_dir), None];
            if exchange {
                moved[1] = m.target.filter(|&(_, dir)| dir).map(|(t, _)| t);
            }
            for dir in moved.into_iter().flatten() {
                if !self.inode(dir)?.permits(cx, AccessMode::WRITE) {
                    return Err(ErrorCode::ACCES);
                }
            }
        }
        Ok(())
    }

    /// The checks on what a plain rename replaces.
    fn check_replace(&self, m: &Move<'_>) -> BackendResult<()> {
        let Some((t, target_is_dir)) = m.target else {
            return Ok(());
        };
        match (m.src_is_dir, target_is_dir) {
            (true, false) => Err(ErrorCode::NOTDIR),
            (false, true) => Err(ErrorCode::ISDIR),
            (true, true) if !self.inode(t)?.dir().is_some_and(|d| d.is_empty()) => {
                Err(ErrorCode::NOTEMPTY)
            }
            _ => Ok(()),
        }
    }

    fn apply_rename(&mut self, cx: &Context, m: &Move<'_>) -> BackendResult<()> {
        let (from_dir, to_dir) = (m.from.dir, m.to.dir);

        let dir = self.inode_mut(to_dir)?;
        if let Some(d) = dir.dir_mut() {
            match m.target {
                // The source takes over the target's place in listing order.
                Some(_) => drop(d.replace(m.to_name, m.src)),
                None => d.insert(m.to_name, m.src),
            }
        }
        if m.target.is_some_and(|(_, is_dir)| is_dir) {
            dir.nlink = dir.nlink.saturating_sub(1);
        }
        if m.src_is_dir {
            dir.nlink += 1;
        }
        dir.touch_modify(cx.now);

        let dir = self.inode_mut(from_dir)?;
        if let Some(d) = dir.dir_mut() {
            d.remove(m.from_name);
        }
        if m.src_is_dir {
            dir.nlink = dir.nlink.saturating_sub(1);
        }
        dir.touch_modify(cx.now);

        let src = self.inode_mut(m.src)?;
        if let Some(d) = src.dir_mut() {
            d.parent = to_dir;
        }
        src.touch_change(cx.now);
        if let Some((t, _)) = m.target {
            self.drop_name(cx, t)?;
            self.release(t);
        }
        Ok(())
    }

    fn apply_exchange(&mut self, cx: &Context, m: &Move<'_>) -> BackendResult<()> {
        let Some((target, target_is_dir)) = m.target else {
            return Err(ErrorCode::NOENT);
        };
        let (from_dir, to_dir) = (m.from.dir, m.to.dir);
        let moved_dirs = i64::from(m.src_is_dir) - i64::from(target_is_dir);

        for (dir, name, ino, links) in [
            (from_dir, m.from_name, target, -moved_dirs),
            (to_dir, m.to_name, m.src, moved_dirs),
        ] {
            let inode = self.inode_mut(dir)?;
            if let Some(d) = inode.dir_mut() {
                d.replace(name, ino);
            }
            if from_dir != to_dir {
                inode.nlink = inode.nlink.saturating_add_signed(links);
            }
            inode.touch_modify(cx.now);
        }
        for (ino, parent) in [(m.src, to_dir), (target, from_dir)] {
            let inode = self.inode_mut(ino)?;
            if let Some(d) = inode.dir_mut() {
                d.parent = parent;
            }
            inode.touch_change(cx.now);
        }
        Ok(())
    }
}
