//! The bytes of a regular file, stored sparsely in pages.
//!
//! A file is a size and a map from page index to the bytes stored in that
//! page. Any byte below the size that no page holds reads as zero, so
//! extending a file (a 1 GiB `truncate`, a write far past the end) costs
//! nothing until data lands there. A page holds at most [`PAGE`] bytes and may
//! be shorter than that: its missing tail reads as zero too, which keeps small
//! files small. No page holds bytes at or past the size.
//!
//! Space reserved by `fallocate` (and ranges it zeroed) is kept apart, as
//! ranges of page indices that hold no bytes: it counts as allocated, reads
//! as zeros, and is a hole to `SEEK_DATA`, as ext4's unwritten extents are.
//! Reserving a terabyte therefore costs one range, not a page each. A page
//! index is never both written and reserved.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::ranges::Ranges;

/// Bytes per page; also the unit `blocks` counts in (as ext4's 4 KiB blocks).
pub(super) const PAGE: u64 = 4096;

/// The largest file size (16 TiB, as ext4 with 4 KiB blocks).
pub(super) const MAX_FILE_SIZE: u64 = 1 << 44;

/// A regular file's content.
#[derive(Debug, Default)]
pub(super) struct FileData {
    size: u64,
    pages: BTreeMap<u64, Vec<u8>>,
    /// Allocated pages without written bytes.
    reserved: Ranges,
}

impl FileData {
    /// The file's size in bytes.
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// Pages allocated: written or reserved.
    pub(super) fn pages(&self) -> u64 {
        self.pages.len() as u64 + self.reserved.len()
    }

    /// Allocated 512-byte blocks.
    pub(super) fn blocks(&self) -> u64 {
        self.pages() * (PAGE / 512)
    }

    /// Copies the bytes at `offset` into `buf`; returns how many there were
    /// (fewer than `buf.len()` only at the end of the file).
    pub(super) fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Some(avail) = self.size.checked_sub(offset) else {
            return 0;
        };
        let n = usize::try_from(avail).map_or(buf.len(), |a| a.min(buf.len()));
        let Some(out) = buf.get_mut(..n) else {
            return 0;
        };
        if n == 0 {
            return 0;
        }
        out.fill(0);
        let end = offset + n as u64;
        for (&index, page) in self.pages.range(offset / PAGE..=(end - 1) / PAGE) {
            let page_start = index * PAGE;
            let from = offset.max(page_start);
            let to = end.min(page_start.saturating_add(page.len() as u64));
            if from >= to {
                continue;
            }
            let src = &page[(from - page_start) as usize..(to - page_start) as usize];
            out[(from - offset) as usize..(to - offset) as usize].copy_from_slice(src);
        }
        n
    }

    /// Pages a write of `len` bytes at `offset` would add.
    pub(super) fn pages_needed(&self, offset: u64, len: usize) -> u64 {
        self.pages_to_allocate(offset, offset.saturating_add(len as u64))
    }

    /// Pages not yet allocated among those holding bytes `[start, end)`.
    pub(super) fn pages_to_allocate(&self, start: u64, end: u64) -> u64 {
        let (first, last) = page_span(start, end);
        if first >= last {
            return 0;
        }
        let written = self.pages.range(first..last).count() as u64;
        (last - first) - written - self.reserved.count_in(first, last)
    }

    /// Stores `data` at `offset`, extending the file if needed. The caller
    /// has checked that `offset + data.len()` is at most [`MAX_FILE_SIZE`].
    pub(super) fn write(&mut self, offset: u64, data: &[u8]) {
        let (first, last) = page_span(offset, offset + data.len() as u64);
        self.reserved.remove(first, last);
        let mut pos = offset;
        let mut rest = data;
        while !rest.is_empty() {
            let index = pos / PAGE;
            let within = (pos % PAGE) as usize;
            let take = rest.len().min(PAGE as usize - within);
            let (chunk, tail) = rest.split_at(take);
            let page = self.pages.entry(index).or_default();
            let need = within + take;
            if page.len() < need {
                // Grow geometrically within the page, never past it.
                let target = need.max(page.len() * 2).min(PAGE as usize);
                page.reserve_exact(target - page.len());
                page.resize(need, 0);
            }
            page[within..need].copy_from_slice(chunk);
            pos += take as u64;
            rest = tail;
        }
        self.size = self.size.max(pos);
    }

    /// Sets the size to `size`. Shrinking (or keeping the size) drops the
    /// bytes and the reserved space past it; growing adds a hole.
    pub(super) fn truncate(&mut self, size: u64) {
        if size <= self.size {
            let keep_pages = size.div_ceil(PAGE);
            drop(self.pages.split_off(&keep_pages));
            self.reserved.remove(keep_pages, u64::MAX);
            let within = (size % PAGE) as usize;
            if within != 0 {
                if let Some(page) = self.pages.get_mut(&(size / PAGE)) {
                    page.truncate(within);
                    page.shrink_to_fit();
                }
            }
        }
        self.size = size;
    }

    /// Grows the size to at least `size`, adding a hole.
    pub(super) fn extend_to(&mut self, size: u64) {
        self.size = self.size.max(size);
    }

    /// Reserves every page holding bytes of `[start, end)` that is not yet
    /// allocated. The caller has checked `end` against [`MAX_FILE_SIZE`].
    pub(super) fn allocate(&mut self, start: u64, end: u64) {
        let (first, last) = page_span(start, end);
        let mut next = first;
        let written: Vec<u64> = self.pages.range(first..last).map(|(&i, _)| i).collect();
        for index in written {
            self.reserved.insert(next, index);
            next = index + 1;
        }
        self.reserved.insert(next, last);
    }

    /// Makes bytes `[start, end)` read as zeros: whole pages in the range are
    /// freed, the bytes of pages it covers in part are cleared.
    pub(super) fn punch(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (full_first, full_last) = (start.div_ceil(PAGE), end / PAGE);
        if full_first < full_last {
            let mut middle = self.pages.split_off(&full_first);
            let mut after = middle.split_off(&full_last);
            self.pages.append(&mut after);
            self.reserved.remove(full_first, full_last);
        }
        for index in [start / PAGE, (end - 1) / PAGE] {
            if (full_first..full_last).contains(&index) {
                continue;
            }
            let Some(page) = self.pages.get_mut(&index) else {
                continue;
            };
            let page_start = index * PAGE;
            let from = (start.max(page_start) - page_start) as usize;
            let to = (end.min(page_start.saturating_add(PAGE)) - page_start) as usize;
            if to >= page.len() {
                page.truncate(from);
            } else if let Some(bytes) = page.get_mut(from..to) {
                bytes.fill(0);
            }
        }
    }

    /// Makes bytes `[start, end)` read as zeros and keeps their pages
    /// allocated (as reserved space where whole pages were cleared).
    pub(super) fn zero(&mut self, start: u64, end: u64) {
        self.punch(start, end);
        self.allocate(start, end);
    }

    /// The first offset at or after `offset` in a written page, below the size.
    pub(super) fn next_data(&self, offset: u64) -> Option<u64> {
        if offset >= self.size {
            return None;
        }
        let (&index, _) = self.pages.range(offset / PAGE..).next()?;
        let at = offset.max(index * PAGE);
        (at < self.size).then_some(at)
    }

    /// The first offset at or after `offset` outside every written page, or
    /// the size if that comes first (the end of file is a hole).
    pub(super) fn next_hole(&self, offset: u64) -> Option<u64> {
        if offset >= self.size {
            return None;
        }
        let mut index = offset / PAGE;
        for (&written, _) in self.pages.range(index..) {
            if written != index {
                break;
            }
            index += 1;
        }
        Some(offset.max(index.saturating_mul(PAGE)).min(self.size))
    }

    /// The written bytes of `[start, end)`: each piece's offset and bytes, in
    /// order. Bytes outside the pieces read as zeros.
    pub(super) fn pieces(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, &[u8])> {
        let end = end.min(self.size);
        let (first, last) = page_span(start, end);
        self.pages
            .range(first..last)
            .filter_map(move |(&index, page)| {
                let page_start = index * PAGE;
                let from = start.max(page_start);
                let to = end.min(page_start.saturating_add(page.len() as u64));
                let bytes = page.get((from - page_start) as usize..(to - page_start) as usize)?;
                (from < to).then_some((from, bytes))
            })
    }
}

/// The pages holding bytes `[start, end)`: first index and end index (exclusive).
fn page_span(start: u64, end: u64) -> (u64, u64) {
    if start >= end {
        return (0, 0);
    }
    (start / PAGE, end.div_ceil(PAGE))
}
