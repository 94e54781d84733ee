//! Directory entries, indexed by name and by a sequence number that gives
//! readdir cookies stable under concurrent change.
//!
//! Every entry added to a directory takes the next value of a per-directory
//! counter that never goes back. A listing walks entries in that order, and
//! the cookie after an entry is its sequence number: resuming lists exactly
//! the entries with a higher number. An entry removed meanwhile is simply
//! gone, one added meanwhile comes last, and no remaining entry is skipped or
//! repeated.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

/// Bytes an entry takes in the size a directory reports: an ext4-like
/// record header, rounded up with the name to 4 bytes.
const ENTRY_OVERHEAD: u64 = 8;
/// The reported size of a directory grows in blocks of this many bytes.
const DIR_BLOCK: u64 = 4096;

/// One name in a directory: where it sits in the listing order and what it names.
#[derive(Debug, Clone, Copy)]
struct Slot {
    seq: u64,
    ino: u64,
}

/// The entries of a directory.
#[derive(Debug)]
pub(super) struct Dir {
    /// The directory holding this one (the root names itself).
    pub(super) parent: u64,
    by_name: BTreeMap<Box<[u8]>, Slot>,
    by_seq: BTreeMap<u64, Box<[u8]>>,
    next_seq: u64,
    /// Bytes the entries would take on disk, for the reported size.
    record_bytes: u64,
}

impl Dir {
    /// An empty directory inside `parent`.
    pub(super) fn new(parent: u64) -> Self {
        Self {
            parent,
            by_name: BTreeMap::new(),
            by_seq: BTreeMap::new(),
            next_seq: 1,
            record_bytes: 0,
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The inode `name` refers to.
    pub(super) fn get(&self, name: &[u8]) -> Option<u64> {
        self.by_name.get(name).map(|s| s.ino)
    }

    fn record_len(name: &[u8]) -> u64 {
        (ENTRY_OVERHEAD + name.len() as u64).div_ceil(4) * 4
    }

    /// Adds `name` (absent) for `ino`, last in listing order.
    pub(super) fn insert(&mut self, name: &[u8], ino: u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.insert_at(name, Slot { seq, ino });
    }

    fn insert_at(&mut self, name: &[u8], slot: Slot) {
        let name: Box<[u8]> = name.into();
        self.record_bytes += Self::record_len(&name);
        self.by_seq.insert(slot.seq, name.clone());
        self.by_name.insert(name, slot);
    }

    /// Removes `name`; returns the inode it referred to.
    pub(super) fn remove(&mut self, name: &[u8]) -> Option<u64> {
        let slot = self.by_name.remove(name)?;
        self.by_seq.remove(&slot.seq);
        self.record_bytes = self.record_bytes.saturating_sub(Self::record_len(name));
        Some(slot.ino)
    }

    /// Points the existing `name` at `ino`, keeping its place in the listing;
    /// returns the inode it referred to before.
    pub(super) fn replace(&mut self, name: &[u8], ino: u64) -> Option<u64> {
        let slot = self.by_name.get_mut(name)?;
        Some(core::mem::replace(&mut slot.ino, ino))
    }

    /// Entries after `cookie` in listing order, each with the cookie that resumes after it.
    pub(super) fn entries_after(&self, cookie: u64) -> impl Iterator<Item = (u64, &[u8], u64)> {
        let start = cookie.checked_add(1);
        start
            .into_iter()
            .flat_map(move |s| self.by_seq.range(s..))
            .filter_map(|(&seq, name)| Some((seq, &name[..], self.by_name.get(name)?.ino)))
    }

    /// The size a directory reports, growing with its entries as ext4's does.
    pub(super) fn apparent_size(&self) -> u64 {
        // The first block also holds `.` and `..`.
        (self.record_bytes + 24).div_ceil(DIR_BLOCK).max(1) * DIR_BLOCK
    }
}
