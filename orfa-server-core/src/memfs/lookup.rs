//! Path resolution, confined to the export.
//!
//! A path is walked one component at a time from its base (the export root
//! if it starts with `/`). Symbolic links are followed in every intermediate
//! component, and in the last one when the caller asks or a trailing slash
//! demands a directory. Nothing may leave the export, matching a native
//! export resolved with Linux's `RESOLVE_BENEATH`: a `..` above the root and
//! any absolute link target fail with [`ErrorCode::ESCAPE`]. At most
//! [`MAX_LINKS`] links are followed in one resolution.
//!
//! Following a link in an intermediate component resolves its target by a
//! nested walk; each nesting follows one more link, so the depth is bounded
//! by [`MAX_LINKS`], never by the input.

use alloc::vec::Vec;

use orfa_wire::{AccessMode, ErrorCode, MAX_NAME};

use super::inode::Kind;
use super::{MemFs, ROOT};
use crate::backend::{BackendResult, Context};

/// The most symbolic links one resolution follows, as Linux's `MAXSYMLINKS`.
pub(super) const MAX_LINKS: u32 = 40;

/// The last component of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Last {
    /// An ordinary name.
    Name(Vec<u8>),
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// No component: the path was empty (the base) or only slashes (the root).
    Here,
}

/// A path resolved up to its last component.
#[derive(Debug, Clone)]
pub(super) struct Parent {
    /// The directory the last component is looked up in (for [`Last::Here`],
    /// the object the path names, which may be any inode).
    pub(super) dir: u64,
    pub(super) last: Last,
    /// Whether the path ended with `/`: the last component must be a directory.
    pub(super) slash: bool,
}

impl Parent {
    /// The last component's name, or the error a namespace change of `.`,
    /// `..` or the root gets.
    pub(super) fn name_or(&self, err: ErrorCode) -> BackendResult<&[u8]> {
        match &self.last {
            Last::Name(n) => Ok(n),
            _ => Err(err),
        }
    }
}

impl MemFs {
    /// Checks that `dir` is a directory `cx` may search.
    pub(super) fn searchable(&self, cx: &Context, dir: u64) -> BackendResult<()> {
        let inode = self.inode(dir)?;
        if !inode.is_dir() {
            return Err(ErrorCode::NOTDIR);
        }
        if !inode.permits(cx, AccessMode::EXEC) {
            return Err(ErrorCode::ACCES);
        }
        Ok(())
    }

    /// The directory holding `dir`.
    pub(super) fn parent_of(&self, dir: u64) -> BackendResult<u64> {
        if dir == ROOT {
            return Err(ErrorCode::ESCAPE);
        }
        let inode = self.inode(dir)?;
        match inode.dir() {
            Some(_) if inode.nlink == 0 => Err(ErrorCode::NOENT),
            Some(d) => Ok(d.parent),
            None => Err(ErrorCode::NOTDIR),
        }
    }

    /// Walks `path` from `start` up to its last component, following links
    /// in the components before it.
    pub(super) fn walk_parent(
        &self,
        cx: &Context,
        start: u64,
        path: &[u8],
        links: &mut u32,
    ) -> BackendResult<Parent> {
        let mut dir = if path.first() == Some(&b'/') {
            ROOT
        } else {
            start
        };
        let slash = path.last() == Some(&b'/');
        let mut parts = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .peekable();

        while let Some(part) = parts.next() {
            self.searchable(cx, dir)?;
            if part.len() > MAX_NAME {
                return Err(ErrorCode::NAMETOOLONG);
            }
            if parts.peek().is_none() {
                let last = match part {
                    b"." => Last::Dot,
                    b".." => Last::DotDot,
                    name => Last::Name(name.to_vec()),
                };
                return Ok(Parent { dir, last, slash });
            }
            dir = match part {
                b"." => dir,
                b".." => self.parent_of(dir)?,
                name => {
                    let ino = self.child(dir, name)?.ok_or(ErrorCode::NOENT)?;
                    if matches!(self.inode(ino)?.kind, Kind::Symlink(_)) {
                        self.follow(cx, dir, ino, links)?
                    } else {
                        ino
                    }
                }
            };
        }
        Ok(Parent {
            dir,
            last: Last::Here,
            slash: false,
        })
    }

    /// The inode `name` names in `dir`, if any.
    pub(super) fn child(&self, dir: u64, name: &[u8]) -> BackendResult<Option<u64>> {
        let d = self.inode(dir)?.dir().ok_or(ErrorCode::NOTDIR)?;
        Ok(d.get(name))
    }

    /// The inode the last component of `p` names, if it exists (links not followed).
    pub(super) fn lookup_last(&self, p: &Parent) -> BackendResult<Option<u64>> {
        match &p.last {
            Last::Name(name) => self.child(p.dir, name),
            Last::Dot | Last::Here => Ok(Some(p.dir)),
            Last::DotDot => self.parent_of(p.dir).map(Some),
        }
    }

    /// Counts one more link followed and walks the target of the link `link`
    /// (which sits in `dir`) up to its last component.
    pub(super) fn follow_parent(
        &self,
        cx: &Context,
        dir: u64,
        link: u64,
        links: &mut u32,
    ) -> BackendResult<Parent> {
        *links += 1;
        if *links > MAX_LINKS {
            return Err(ErrorCode::LOOP);
        }
        let Kind::Symlink(target) = &self.inode(link)?.kind else {
            return Err(ErrorCode::INVAL);
        };
        match target.first() {
            None => Err(ErrorCode::NOENT),
            Some(b'/') => Err(ErrorCode::ESCAPE),
            Some(_) => self.walk_parent(cx, dir, target, links),
        }
    }

    /// Resolves the link `link` in `dir` fully, following a final link too.
    fn follow(&self, cx: &Context, dir: u64, link: u64, links: &mut u32) -> BackendResult<u64> {
        let p = self.follow_parent(cx, dir, link, links)?;
        self.finish(cx, p, true, links)
    }

    /// Resolves the last component of `p`, following links there if
    /// `follow` (or a trailing slash) asks; the result must exist.
    pub(super) fn finish(
        &self,
        cx: &Context,
        mut p: Parent,
        follow: bool,
        links: &mut u32,
    ) -> BackendResult<u64> {
        loop {
            let ino = self.lookup_last(&p)?.ok_or(ErrorCode::NOENT)?;
            let inode = self.inode(ino)?;
            if matches!(inode.kind, Kind::Symlink(_)) && (follow || p.slash) {
                let slash = p.slash;
                p = self.follow_parent(cx, p.dir, ino, links)?;
                p.slash |= slash;
                continue;
            }
            if p.slash && !inode.is_dir() {
                return Err(ErrorCode::NOTDIR);
            }
            return Ok(ino);
        }
    }

    /// The inode `path` names from `start`, following a final link if `follow`.
    pub(super) fn resolve(
        &self,
        cx: &Context,
        start: u64,
        path: &[u8],
        follow: bool,
    ) -> BackendResult<u64> {
        let mut links = 0;
        let p = self.walk_parent(cx, start, path, &mut links)?;
        self.finish(cx, p, follow, &mut links)
    }
}
